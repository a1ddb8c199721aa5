package e2e_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/test/testenv"
)

// TestCoherentChildFollowsItsParent: on the real Version.Details.xml of
// dotnet/sourcelink, where Microsoft.DotNet.XliffTasks has
// CoherentParentDependency="Microsoft.DotNet.Arcade.Sdk", an Arcade build
// that also carries an asset named Microsoft.DotNet.XliffTasks does not move
// the child by name: `flow explain` says whom it follows, `deps update
// --build` moves it once, to the version Arcade's build depended on, and an
// update file that moves it to Arcade's own build skips it.
func TestCoherentChildFollowsItsParent(t *testing.T) {
	before := filepath.Join(testenv.Shared(t, "fixtures", "maestro-updates", "cases"), "sourcelink-75a65b1632", "before")
	e := newLocal(t)
	dir := t.TempDir()
	const xliffSha, sourcelinkSha = "4234ffac87e305da80597cb46dc0d4a87fc4f7c2", "47c52dd2ebf9edfd40abdcff999c13eb461f6ce2"
	e.ok("publish", "--manifest", writeFile(t, dir, "xliff.xml", manifestSpec{repo: "https://github.com/dotnet/xliff-tasks", branch: "main",
		commit: xliffSha, azdoBuildID: 31, packages: []string{"Microsoft.DotNet.XliffTasks@1.0.0-beta.23312.2"}}.xml()))
	e.ok("publish", "--manifest", writeFile(t, dir, "sourcelink.xml", manifestSpec{repo: "https://github.com/dotnet/sourcelink", branch: "main",
		commit: sourcelinkSha, azdoBuildID: 32, packages: []string{"Microsoft.SourceLink.GitHub@8.0.0-beta.23218.3"}}.xml()))
	arcadeDetails := writeFile(t, dir, "arcade/eng/Version.Details.xml", `<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
  </ProductDependencies>
  <ToolsetDependencies>
    <Dependency Name="Microsoft.DotNet.XliffTasks" Version="1.0.0-beta.23312.2">
      <Uri>https://github.com/dotnet/xliff-tasks</Uri>
      <Sha>`+xliffSha+`</Sha>
    </Dependency>
    <Dependency Name="Microsoft.SourceLink.GitHub" Version="8.0.0-beta.23218.3">
      <Uri>https://github.com/dotnet/sourcelink</Uri>
      <Sha>`+sourcelinkSha+`</Sha>
    </Dependency>
  </ToolsetDependencies>
</Dependencies>
`)
	e.ok("channel", "add", "--name", "dev")
	e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", "dev")
	target := bareRepoFrom(t, before)
	var s maestro.Subscription
	e.okJSON(&s, "subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
		"--target-repo", target, "--target-branch", "main", "--update-frequency", "none")
	arcade := strings.TrimSpace(e.ok("publish", "--manifest", writeFile(t, dir, "arcade.xml", manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main",
		commit: sha(33), azdoBuildID: 33, packages: []string{"Microsoft.DotNet.Arcade.Sdk@8.0.0-beta.23316.6", "Microsoft.DotNet.XliffTasks@9.9.9-arcade"}}.xml()),
		"--version-details", arcadeDetails))

	out := e.ok("flow", "explain", "--build", arcade)
	assert.Contains(t, out, "Microsoft.DotNet.Arcade.Sdk 8.0.0-beta.23262.5 → 8.0.0-beta.23316.6: updated")
	assert.Contains(t, out, "Microsoft.DotNet.XliffTasks 1.0.0-beta.23261.1: follows Microsoft.DotNet.Arcade.Sdk")
	assert.NotContains(t, out, "9.9.9-arcade")

	work := filepath.Join(t.TempDir(), "work")
	require.NoError(t, exec.Command("cp", "-r", before, work).Run())
	out = e.ok("deps", "update", "--dir", work, "--build", arcade)
	assert.Equal(t, 1, strings.Count(out, "Microsoft.DotNet.XliffTasks"), out)
	assert.Contains(t, out, "Microsoft.DotNet.XliffTasks 1.0.0-beta.23261.1 → 1.0.0-beta.23312.2 (coherent with Microsoft.DotNet.Arcade.Sdk)")
	assert.NotContains(t, out, "9.9.9-arcade")

	fromFile := filepath.Join(t.TempDir(), "work")
	require.NoError(t, exec.Command("cp", "-r", before, fromFile).Run())
	updates := writeFile(t, dir, "updates.json", `{"updates": [
  {"name": "Microsoft.DotNet.Arcade.Sdk", "version": "8.0.0-beta.23316.6", "sha": "`+sha(33)+`", "uri": "https://github.com/dotnet/arcade"},
  {"name": "Microsoft.DotNet.XliffTasks", "version": "9.9.9-arcade", "sha": "`+sha(33)+`", "uri": "https://github.com/dotnet/arcade"}
], "dotnetSdk": null, "source": null}`)
	r := e.run("deps", "update", "--dir", fromFile, "--from-file", updates, "--output", "json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "follows Microsoft.DotNet.Arcade.Sdk")
	vdx, err := os.ReadFile(filepath.Join(fromFile, "eng", "Version.Details.xml"))
	require.NoError(t, err)
	assert.NotContains(t, string(vdx), "9.9.9-arcade")
	assert.Contains(t, string(vdx), `Name="Microsoft.DotNet.Arcade.Sdk" Version="8.0.0-beta.23316.6"`)
}
