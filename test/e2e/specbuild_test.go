package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// specBuildScript is every repository's build: it sleeps, then writes an
// asset manifest of its package (version from version.txt) and one blob per
// dependency naming the version its eng/Version.Details.xml holds — so the
// report shows what the update gave it — into $MAESTRO_MANIFEST_DIR (its Name
// is BUILD_REPOSITORY_URI when an agent sets it, else name.txt); with a
// file "broken" it fails instead.
const specBuildScript = `set -e
sleep "$(cat sleep.txt)"
if [ -f broken ]; then echo "error CS1002: ; expected" >&2; exit 3; fi
name=$(cat name.txt); version=$(cat version.txt); commit=$(git rev-parse HEAD)
{
  echo '<?xml version="1.0" encoding="utf-8"?>'
  echo "<Build PublishingVersion=\"3\" Name=\"${BUILD_REPOSITORY_URI:-$name}\" BuildId=\"local\" Branch=\"refs/heads/main\" Commit=\"$commit\" IsStable=\"false\">"
  echo "  <Package Id=\"$name.Pkg\" Version=\"$version\" NonShipping=\"false\" />"
  grep -o 'Dependency Name="[^"]*" Version="[^"]*"' eng/Version.Details.xml | sed 's/Dependency Name="\([^"]*\)" Version="\([^"]*\)"/  <Blob Id="saw\/\1\/\2" NonShipping="false" \/>/' || true
  echo '</Build>'
} > "$MAESTRO_MANIFEST_DIR/manifest.xml"
`

type specRepo struct {
	name, dir string
	deps      []string // names of the repositories it depends on
}

// makeSpecRepo makes a git repository of one product repository: its build
// script, name, version, sleep and dependency files on upstream packages.
func makeSpecRepo(t *testing.T, root, name, sleep string, deps map[string]string) string {
	t.Helper()
	dir := filepath.Join(root, name)
	var vd, props strings.Builder
	vd.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Dependencies>\n  <ProductDependencies>\n")
	props.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Project>\n  <PropertyGroup>\n")
	for _, up := range []string{"A", "B", "C"} {
		sha, ok := deps[up]
		if !ok {
			continue
		}
		fmt.Fprintf(&vd, "    <Dependency Name=\"%s.Pkg\" Version=\"1.0.0\">\n      <Uri>%s</Uri>\n      <Sha>%s</Sha>\n    </Dependency>\n", up, filepath.Join(root, up), sha)
		fmt.Fprintf(&props, "    <%sPkgPackageVersion>1.0.0</%sPkgPackageVersion>\n", up, up)
	}
	vd.WriteString("  </ProductDependencies>\n  <ToolsetDependencies>\n  </ToolsetDependencies>\n</Dependencies>\n")
	props.WriteString("  </PropertyGroup>\n</Project>\n")
	writeFile(t, dir, "eng/Version.Details.xml", vd.String())
	writeFile(t, dir, "eng/Versions.props", props.String())
	writeFile(t, dir, "build.sh", specBuildScript)
	writeFile(t, dir, "name.txt", name)
	writeFile(t, dir, "version.txt", "1.0.0")
	writeFile(t, dir, "sleep.txt", sleep)
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-q", "-m", "initial"}} {
		out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
		require.NoError(t, err, string(out))
	}
	return dir
}

func headOf(t *testing.T, dir string) string {
	t.Helper()
	return strings.TrimSpace(gitOut(t, dir, "rev-parse", "HEAD"))
}

// TestSpeculativeProductBuildDiamond: A ← B, C ← D. A change injected into A
// is built, then B and C with A's speculative build applied; B's build fails
// (D, downstream of it, is skipped with the reason), C's tests fail
// (partially succeeded, the run goes on). Every build command is a real
// script in a real git repository; the report is asserted, and kept.
func TestSpeculativeProductBuildDiamond(t *testing.T) {
	e := newLocal(t)
	root := t.TempDir()
	a := makeSpecRepo(t, root, "A", "0.2", nil)
	b := makeSpecRepo(t, root, "B", "0.2", map[string]string{"A": headOf(t, a)})
	c := makeSpecRepo(t, root, "C", "0.2", map[string]string{"A": headOf(t, a)})
	d := makeSpecRepo(t, root, "D", "0.2", map[string]string{"B": headOf(t, b), "C": headOf(t, c)})
	e.ok("channel", "add", "--name", "prod")
	mdir := t.TempDir()
	for i, r := range []struct{ name, dir string }{{"A", a}, {"B", b}, {"C", c}, {"D", d}} {
		e.ok("default-channel", "add", "--repository", r.dir, "--branch", "main", "--channel", "prod")
		m := writeFile(t, mdir, r.name+".xml", manifestSpec{repo: r.dir, branch: "main", commit: headOf(t, r.dir), azdoBuildID: i + 1,
			packages: []string{r.name + ".Pkg@1.0.0"}}.xml())
		e.ok("publish", "--manifest", m, "--version-details", filepath.Join(r.dir, "eng", "Version.Details.xml"), "--no-trigger")
	}
	// The plan needs a build command for every repository: refused before anything runs.
	injectA := func() string { return a + "@" + headOf(t, a) }
	r := e.run("speculative", "build", "--channel", "prod", "--inject", injectA())
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, "no build command for ")
	for _, dir := range []string{a, b, c, d} {
		args := []string{"repository-policy", "set", "--repository", dir, "--branch", "main", "--build-command", "sh build.sh"}
		if dir == c {
			args = append(args, "--test-command", "echo 'Failed: 1, Passed: 41' >&2; exit 1")
		}
		e.ok(args...)
	}
	// config export carries the commands, and applying the export into a new registry keeps them.
	exported := e.ok("config", "export")
	assert.Contains(t, exported, "buildCommand: sh build.sh")
	assert.Contains(t, exported, "testCommand: ")
	other := newLocal(t)
	other.ok("config", "apply", writeFile(t, mdir, "exported.yaml", exported))
	assert.Equal(t, exported, other.ok("config", "export"))
	// The change: A's next version, on a commit of its own; B broken on main.
	writeFile(t, a, "version.txt", "1.1.0-spec")
	require.NoError(t, exec.Command("git", "-C", a, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-qam", "the change").Run())
	writeFile(t, b, "broken", "")
	require.NoError(t, exec.Command("git", "-C", b, "add", "broken").Run())
	require.NoError(t, exec.Command("git", "-C", b, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-qm", "break it").Run())
	// B's latest build in the channel is at the commit before: rebuild from the broken one.
	m := writeFile(t, mdir, "B2.xml", manifestSpec{repo: b, branch: "main", commit: headOf(t, b), azdoBuildID: 5, packages: []string{"B.Pkg@1.0.1"}}.xml())
	e.ok("publish", "--manifest", m, "--version-details", filepath.Join(b, "eng", "Version.Details.xml"), "--no-trigger")

	r = e.run("speculative", "build", "--channel", "prod", "--inject", injectA(), "--output", "json")
	require.Equal(t, 1, r.code, "a repository failed: %s", r.stderr)
	assert.Contains(t, r.stderr, "B failed")
	var pb maestro.ProductBuild
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &pb), r.stdout)
	require.Len(t, pb.Repositories, 4)
	got := map[string]maestro.ProductBuildEntry{}
	for _, en := range pb.Repositories {
		got[filepath.Base(en.Repository)] = en
	}
	assert.Equal(t, []string{"A", "B", "C", "D"}, []string{filepath.Base(pb.Repositories[0].Repository), filepath.Base(pb.Repositories[1].Repository), filepath.Base(pb.Repositories[2].Repository), filepath.Base(pb.Repositories[3].Repository)}, "topological order")
	assert.Equal(t, maestro.SpeculativeSucceeded, got["A"].Result, got["A"].Reason)
	assert.True(t, got["A"].Injected)
	assert.Equal(t, headOf(t, a), got["A"].Commit)
	assert.Equal(t, maestro.SpeculativeFailed, got["B"].Result)
	assert.Contains(t, got["B"].Reason, "error CS1002")
	assert.Equal(t, maestro.SpeculativePartiallySucceeded, got["C"].Result)
	assert.Contains(t, got["C"].Reason, "Failed: 1, Passed: 41")
	assert.Equal(t, maestro.SpeculativeSkipped, got["D"].Result)
	assert.Equal(t, "upstream "+b+" failed", got["D"].Reason)
	assert.Equal(t, []int{0, 1, 1, 2}, []int{got["A"].Level, got["B"].Level, got["C"].Level, got["D"].Level})
	assert.Equal(t, maestro.SpeculativeFailed, pb.Result)
	assert.Equal(t, []string{a, c}, pb.CriticalPath, "A then C: B failed after the same sleep, C ran its tests too")
	assert.InDelta(t, got["A"].Seconds+got["C"].Seconds, pb.CriticalPathSeconds, 0.001)

	// What was built: C's speculative build took A's, whose package is the change's version.
	var sa, sc maestro.Build
	e.okJSON(&sa, "build", "show", "--id", fmt.Sprint(got["A"].BuildID))
	e.okJSON(&sc, "build", "show", "--id", fmt.Sprint(got["C"].BuildID))
	assert.True(t, sa.Speculative)
	assert.Equal(t, "1.1.0-spec", sa.Assets[0].Version)
	assert.True(t, sa.Assets[0].NonShipping)
	assert.Empty(t, sa.Channels, "no channel")
	var names []string
	for _, as := range sc.Assets {
		names = append(names, as.Name)
	}
	assert.Contains(t, names, "saw/A.Pkg/1.1.0-spec", "C was built with A's speculative version")
	assert.Equal(t, []maestro.BuildDependency{{BuildID: sa.ID, IsProduct: true}}, sc.Dependencies)
	// Nothing official moved.
	var latest maestro.Build
	e.okJSON(&latest, "build", "latest", "--repository", a, "--channel", "prod")
	assert.Equal(t, "1.0.0", latest.Assets[0].Version)

	check := e.run("registry", "check")
	assert.Equal(t, 0, check.code, check.stdout)
	assert.Contains(t, check.stdout, "clean")
	// The report is kept.
	var list []maestro.ProductBuild
	e.okJSON(&list, "speculative", "builds", "list")
	require.Len(t, list, 1)
	assert.Equal(t, pb.ID, list[0].ID)
	var shown maestro.ProductBuild
	e.okJSON(&shown, "speculative", "builds", "show", "--id", pb.ID)
	assert.Equal(t, pb, shown)
	table := e.ok("speculative", "builds", "show", "--id", pb.ID)
	assert.Contains(t, table, "upstream "+b+" failed")
	assert.Contains(t, table, "critical path:")
	assert.Contains(t, table, a+" (injected)")
	// Two product builds at once (separate processes): two reports, each
	// with its own builds — C's built on its own run's A.
	var wg sync.WaitGroup
	runs := make([]result, 2)
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i] = e.run("speculative", "build", "--channel", "prod", "--inject", injectA(), "--output", "json")
		}()
	}
	wg.Wait()
	seenA := map[int]bool{got["A"].BuildID: true}
	for _, r := range runs {
		require.Equal(t, 1, r.code, r.stderr)
		var pb maestro.ProductBuild
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &pb), r.stdout)
		a, c := pb.Repositories[0], pb.Repositories[2]
		require.Equal(t, maestro.SpeculativePartiallySucceeded, c.Result, c.Reason)
		assert.False(t, seenA[a.BuildID], "each run its own build of A")
		seenA[a.BuildID] = true
		var sc maestro.Build
		e.okJSON(&sc, "build", "show", "--id", fmt.Sprint(c.BuildID))
		assert.Equal(t, []maestro.BuildDependency{{BuildID: a.BuildID, IsProduct: true}}, sc.Dependencies)
		assert.Equal(t, pb.ID, sc.ProductBuild)
	}
	e.okJSON(&list, "speculative", "builds", "list")
	assert.Len(t, list, 3)

	// A product build killed (SIGKILL) while B and C build: no report, nothing
	// official changed; what it published is speculative, and `registry
	// repair` collects its unfinished publishes.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	records := func() int {
		// The local store's layout (internal/store/local): data/, a folder per key segment with "@".
		m, err := filepath.Glob(filepath.Join(strings.TrimPrefix(e.store, "file://"), "data", "speculative@", "builds@", "*@", "build.json"))
		require.NoError(t, err)
		return len(m)
	}
	before := records()
	cmd := e.command(ctx, "speculative", "build", "--channel", "prod", "--inject", injectA())
	require.NoError(t, cmd.Start())
	// Kill once A's build is recorded: B and C are then being built (their scripts sleep 0.2 s).
	require.NotZero(t, before, "the glob finds the recorded speculative builds")
	for records() == before && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, ctx.Err())
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	e.okJSON(&list, "speculative", "builds", "list")
	assert.Len(t, list, 3, "a killed run leaves no report")
	e.okJSON(&latest, "build", "latest", "--repository", a, "--channel", "prod")
	assert.Equal(t, "1.0.0", latest.Assets[0].Version)
	e.ok("registry", "repair", "--min-age", "0s")
	check = e.run("registry", "check")
	assert.Equal(t, 0, check.code, check.stdout)
	r = e.run("speculative", "build", "--channel", "prod", "--inject", injectA())
	assert.Equal(t, 1, r.code, r.stderr)
	e.okJSON(&list, "speculative", "builds", "list")
	assert.Len(t, list, 4, "the next run reports")

	for _, bad := range [][]string{
		{"speculative", "build", "--channel", "prod", "--inject", "no-sha"},
		{"speculative", "build", "--channel", "nope", "--inject", injectA()},
		{"speculative", "build", "--channel", "prod", "--inject", "/elsewhere@" + sha(1)},
		{"speculative", "build", "--channel", "prod", "--inject", injectA(), "--parallel", "0"},
	} {
		r := e.run(bad...)
		assert.Contains(t, []int{2, 3}, r.code, "%v: %s", bad, r.stderr)
	}
}
