package server_test

import (
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
	spec "github.com/maestroplusplus/maestro/internal/speculative"
)

// productBuildScript is every repository's build command in
// runProductBuild: with a file "broken" it fails, else it writes an asset
// manifest of its package into $MAESTRO_MANIFEST_DIR.
const productBuildScript = `set -e
if [ -f broken ]; then echo "error CS1002: ; expected" >&2; exit 3; fi
name=$(cat name.txt); commit=$(git rev-parse HEAD)
{
  echo '<?xml version="1.0" encoding="utf-8"?>'
  echo "<Build PublishingVersion=\"3\" Name=\"$name\" BuildId=\"local\" Branch=\"refs/heads/main\" Commit=\"$commit\" IsStable=\"false\">"
  echo "  <Package Id=\"$name.Pkg\" Version=\"2.0.0-ci\" NonShipping=\"false\" />"
  echo '</Build>'
} > "$MAESTRO_MANIFEST_DIR/manifest.xml"
`

// runProductBuild runs a real speculative product build on the local
// platform, as `maestro speculative build` runs it, over the diamond
// A ← B, C ← D of git repositories in a new folder: each repository's
// official build is recorded in channel "product" with its dependencies, a
// change is injected into A, B's build fails (D, downstream of it, is
// skipped) and C's tests fail (partially succeeded). It returns the report
// the run kept in the registry.
func runProductBuild(t *testing.T, reg *registry.Registry) maestro.ProductBuild {
	t.Helper()
	ctx := t.Context()
	root := t.TempDir()
	ch, err := reg.AddChannel(ctx, "product", "product")
	require.NoError(t, err)
	gitIn := func(dir string, args ...string) string {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=Dev", "-c", "user.email=dev@example.com"}, args...)...).CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
		return strings.TrimSpace(string(out))
	}
	builds := map[string]int{}
	dirs := map[string]string{}
	for _, r := range []struct {
		name string
		deps []string
	}{{"A", nil}, {"B", []string{"A"}}, {"C", []string{"A"}}, {"D", []string{"B", "C"}}} {
		dir := filepath.Join(root, r.name)
		dirs[r.name] = dir
		var vd strings.Builder
		vd.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Dependencies>\n  <ProductDependencies>\n")
		var deps []maestro.BuildDependency
		for _, up := range r.deps {
			fmt.Fprintf(&vd, "    <Dependency Name=\"%s.Pkg\" Version=\"1.0.0\">\n      <Uri>%s</Uri>\n      <Sha>0000000000000000000000000000000000000001</Sha>\n    </Dependency>\n", up, dirs[up])
			deps = append(deps, maestro.BuildDependency{BuildID: builds[up], IsProduct: true})
		}
		vd.WriteString("  </ProductDependencies>\n  <ToolsetDependencies>\n  </ToolsetDependencies>\n</Dependencies>\n")
		files := map[string]string{"eng/Version.Details.xml": vd.String(), "build.sh": productBuildScript, "name.txt": r.name}
		if r.name == "B" {
			files["broken"] = "the build fails\n"
		}
		for name, text := range files {
			require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
		}
		gitIn(root, "init", "-q", "-b", "main", dir)
		gitIn(dir, "add", "-A")
		gitIn(dir, "commit", "-q", "-m", "initial")
		_, err := reg.AddDefaultChannel(ctx, maestro.DefaultChannel{Repository: dir, Branch: "main", ChannelID: ch.ID, Enabled: true})
		require.NoError(t, err)
		res, err := reg.PublishBuild(ctx, maestro.Build{Repository: dir, Branch: "main", Commit: gitIn(dir, "rev-parse", "HEAD"),
			DateProduced: time.Now(), Dependencies: deps, Assets: []maestro.Asset{{Name: r.name + ".Pkg", Version: "1.0.0",
				Locations: []maestro.AssetLocation{{Type: maestro.LocationNuGetFeed, Location: "https://pkgs.example.com/feed/index.json"}}}}},
			registry.PublishOptions{Channels: []int{ch.ID}})
		require.NoError(t, err)
		builds[r.name] = res.Build.ID
		policy := maestro.RepositoryBranchPolicy{Repository: dir, Branch: "main", MergePolicies: []maestro.MergePolicy{}, BuildCommand: "sh build.sh"}
		if r.name == "C" {
			policy.TestCommand = "echo 'Failed: 1, Passed: 41' >&2; exit 1"
		}
		require.NoError(t, reg.SetRepositoryPolicy(ctx, policy))
	}
	// The change: A's next commit.
	require.NoError(t, os.WriteFile(filepath.Join(dirs["A"], "change.txt"), []byte("the change\n"), 0o644))
	gitIn(dirs["A"], "add", "-A")
	gitIn(dirs["A"], "commit", "-q", "-m", "the change")
	plan, err := spec.MakePlanOn(ctx, reg, ch, []spec.Inject{{Repository: dirs["A"], Commit: gitIn(dirs["A"], "rev-parse", "HEAD")}}, spec.PlatformLocal)
	require.NoError(t, err)
	run := &spec.Local{Registry: reg, Git: git.Runner{Author: git.Identity{Name: "Maestro++", Email: "maestro@localhost"}}, Parallel: 4, Now: time.Now}
	pb, err := run.Run(ctx, plan)
	require.NoError(t, err)
	results := map[string]string{}
	for _, e := range pb.Repositories {
		results[filepath.Base(e.Repository)] = e.Result
	}
	require.Equal(t, map[string]string{"A": maestro.SpeculativeSucceeded, "B": maestro.SpeculativeFailed,
		"C": maestro.SpeculativePartiallySucceeded, "D": maestro.SpeculativeSkipped}, results, "the run: %+v", pb)
	return pb
}
