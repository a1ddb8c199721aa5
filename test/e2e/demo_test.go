package e2e_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// TestDemo runs the README's first command: three local repositories, two
// builds, two pull requests, coherency, one pull request merged by its
// policies and one refused for its failing tests, with the reason; the
// folder is left to inspect.
func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	cmd := exec.Command(maestroBin, "demo", "--dir", dir)
	cmd.Env = cleanEnviron()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Run(), errOut.String())
	text := out.String()
	for _, want := range []string{
		"1. Created three repositories",
		"3. An official build of widgets publishes Contoso.Widgets 2.1.0-preview.1.26575.4.",
		`4. Maestro++ opened pull request #1 in gadgets: "[main] Update dependencies from widgets"`,
		`+    <Dependency Name="Contoso.Widgets" Version="2.1.0-preview.1.26575.4">`,
		"+    <ContosoWidgetsSdkPackageVersion>2.1.0-preview.1.26575.4</ContosoWidgetsSdkPackageVersion>",
		"with the Standard merge policies",
		"5. gadgets' check command (eng/test.sh) ran on the pull request's head.",
		"gadgets.git#pull/1: merged (head ",
		"squash-merged, branch darc-main-",
		"       [pass] AllChecksSuccessful: 1 check succeeded\n",
		"       [pass] ValidateCoherency: Dependencies are coherent\n",
		"It is build 2; the subscription of app flows it.",
		`7. Maestro++ opened pull request #2 in app: "[main] Update dependencies from gadgets"`,
		`+    <Dependency Name="Contoso.Gadgets" Version="1.1.0-preview.1.26575.7">`,
		`+    <Dependency Name="Contoso.Widgets" Version="2.1.0-preview.1.26575.4" CoherentParentDependency="Contoso.Gadgets">`,
		"8. app's tests fail with widgets 2.1, so `maestro pr check` refuses to merge pull request #2",
		"app.git#pull/2: waiting (head ",
		"failing: AllChecksSuccessful (1 check failed)",
		"       [FAIL] AllChecksSuccessful: 1 check failed\n",
		"     app: WidgetLayoutTest failed: Contoso.Widgets 2.1 lays out 4 columns, the app expects 3\n",
		"Done. Everything is left in " + dir,
	} {
		assert.Contains(t, text, want)
	}
	assert.Empty(t, errOut.String())

	// What it left is real: the merged update is on gadgets' main, and the
	// store answers questions about it.
	assert.Contains(t, showFile(t, filepath.Join(dir, "repos", "gadgets.git"), "main", "eng/Versions.props"),
		"<ContosoWidgetsPackageVersion>2.1.0-preview.1.26575.4</ContosoWidgetsPackageVersion>")
	e := &env{t: t, store: "file://" + filepath.Join(dir, "store")}
	var prs []maestro.PullRequest
	e.okJSON(&prs, "pr", "list")
	require.Len(t, prs, 2)
	assert.Equal(t, maestro.PullRequestOpen, prs[0].State, "app's pull request waits for a person")
	assert.Equal(t, maestro.PullRequestMerged, prs[1].State, "gadgets' merged by policy")
	assert.Contains(t, e.ok("pr", "show", "--repository", filepath.Join(dir, "repos", "app.git"), "--number", "2"), "[FAIL] AllChecksSuccessful")
	history := e.ok("flow", "history")
	assert.Equal(t, 2, strings.Count(history, "updated"), history)

	again := exec.Command(maestroBin, "demo", "--dir", dir)
	again.Env = cleanEnviron()
	msg, err := again.CombinedOutput()
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr)
	assert.Equal(t, 2, exitErr.ExitCode(), "a used folder is refused")
	assert.Contains(t, string(msg), "is not empty")
}
