package speculative_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/speculative"
	"github.com/maestroplusplus/maestro/internal/store/local"
)

// BenchmarkPlanProduct60 plans a speculative product build over a
// 60-repository product (6 levels of 10, each repository depending on two of
// the level above) injected at the bottom repository, from a registry on the
// local store; docs/performance.md keeps the figure (goal: at most 100 ms).
func BenchmarkPlanProduct60(b *testing.B) {
	st, err := local.Open(b.TempDir())
	require.NoError(b, err)
	deps := make([][]int, 60)
	for i := 10; i < 60; i++ {
		level := i / 10
		deps[i] = []int{(level-1)*10 + i%10, (level-1)*10 + (i+3)%10}
	}
	for i := 1; i < 10; i++ {
		deps[i] = []int{0}
	}
	reg, ch := product(b, st, deps, nil)
	ctx := context.Background()
	inject := []speculative.Inject{{Repository: "/src/r0", Commit: fmt.Sprintf("%040x", 77)}}
	b.ResetTimer()
	for b.Loop() {
		p, err := speculative.MakePlan(ctx, reg, ch, inject)
		if err != nil || len(p.Nodes) != 60 {
			b.Fatalf("a plan of %d repositories: %v", len(p.Nodes), err)
		}
	}
}

// BenchmarkLocalDiamond runs a speculative product build of a diamond (A ←
// B, C ← D) on the local platform, each build command a script sleeping
// (A 1 s, B 1 s, C 2 s, D 1 s) and writing a manifest, and reports the wall
// time over the longest path of the build commands (A, C, D: 4 s) as
// wall/longest; the goal is at most 1.2.
func BenchmarkLocalDiamond(b *testing.B) {
	ctx := context.Background()
	sleeps := map[string]float64{"A": 1, "B": 1, "C": 2, "D": 1}
	longest := sleeps["A"] + sleeps["C"] + sleeps["D"]
	var ratios []float64
	for b.Loop() {
		b.StopTimer()
		reg, plan := diamond(b, sleeps)
		run := &speculative.Local{Registry: reg, Git: git.Runner{Author: git.Identity{Name: "bench", Email: "bench@example.com"}}, Parallel: 4}
		b.StartTimer()
		start := time.Now()
		pb, err := run.Run(ctx, plan)
		wall := time.Since(start).Seconds()
		b.StopTimer()
		require.NoError(b, err)
		require.Equal(b, maestro.SpeculativeSucceeded, pb.Result, "%+v", pb.Repositories)
		ratios = append(ratios, wall/longest)
		b.StartTimer()
	}
	worst := 0.0
	for _, r := range ratios {
		worst = max(worst, r)
	}
	b.ReportMetric(worst, "wall/longest")
	if worst > 1.2 {
		b.Errorf("wall time %.2f× the longest path of the build commands; the goal is at most 1.2×", worst)
	}
}

// diamond makes four git repositories whose build scripts sleep and write a
// manifest, records them in a channel with their dependencies and build
// commands, and returns the plan of a product build injected at A's head.
func diamond(b *testing.B, sleeps map[string]float64) (*registry.Registry, *speculative.Plan) {
	b.Helper()
	ctx := context.Background()
	root := b.TempDir()
	st, err := local.Open(filepath.Join(root, "store"))
	require.NoError(b, err)
	reg := registry.New(st)
	ch, err := reg.AddChannel(ctx, "prod", "")
	require.NoError(b, err)
	upstream := map[string][]string{"A": nil, "B": {"A"}, "C": {"A"}, "D": {"B", "C"}}
	ids := map[string]int{}
	heads := map[string]string{}
	for _, name := range []string{"A", "B", "C", "D"} {
		dir := filepath.Join(root, name)
		var vd strings.Builder
		vd.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Dependencies>\n  <ProductDependencies>\n")
		for _, u := range upstream[name] {
			fmt.Fprintf(&vd, "    <Dependency Name=\"%s.Pkg\" Version=\"1.0.0\">\n      <Uri>%s</Uri>\n      <Sha>%s</Sha>\n    </Dependency>\n", u, filepath.Join(root, u), heads[u])
		}
		vd.WriteString("  </ProductDependencies>\n  <ToolsetDependencies>\n  </ToolsetDependencies>\n</Dependencies>\n")
		files := map[string]string{
			"eng/Version.Details.xml": vd.String(),
			"build.sh": fmt.Sprintf(`sleep %g
echo '<Build PublishingVersion="3" Name="%s" BuildId="b" Branch="refs/heads/main" Commit="%s"><Package Id="%s.Pkg" Version="2.0.0-spec" NonShipping="false" /></Build>' > "$MAESTRO_MANIFEST_DIR/m.xml"
`, sleeps[name], name, strings.Repeat("0", 40), name),
		}
		for f, content := range files {
			require.NoError(b, os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755))
			require.NoError(b, os.WriteFile(filepath.Join(dir, f), []byte(content), 0o644))
		}
		for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"-c", "user.name=b", "-c", "user.email=b@example.com", "commit", "-q", "-m", "initial"}} {
			out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
			require.NoError(b, err, string(out))
		}
		out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
		require.NoError(b, err)
		heads[name] = strings.TrimSpace(string(out))
		_, err = reg.AddDefaultChannel(ctx, maestro.DefaultChannel{Repository: dir, Branch: "main", ChannelID: ch.ID, Enabled: true})
		require.NoError(b, err)
		bd := maestro.Build{Repository: dir, Branch: "main", Commit: heads[name], Assets: []maestro.Asset{{Name: name + ".Pkg", Version: "1.0.0"}}}
		for _, u := range upstream[name] {
			bd.Dependencies = append(bd.Dependencies, maestro.BuildDependency{BuildID: ids[u], IsProduct: true})
		}
		res, err := reg.PublishBuild(ctx, bd, registry.PublishOptions{})
		require.NoError(b, err)
		ids[name] = res.Build.ID
		require.NoError(b, reg.SetRepositoryPolicy(ctx, maestro.RepositoryBranchPolicy{Repository: dir, Branch: "main", BuildCommand: "sh build.sh", MergePolicies: []maestro.MergePolicy{}}))
	}
	plan, err := speculative.MakePlan(ctx, reg, ch, []speculative.Inject{{Repository: filepath.Join(root, "A"), Commit: heads["A"]}})
	require.NoError(b, err)
	return reg, plan
}
