package e2e_test

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// git runs git in dir and returns its output.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
	return string(out)
}

// versionsRepo makes a bare versions repository whose default branch is
// master, holding one build-info folder.
func legacyVersionsRepo(t *testing.T) string {
	root := t.TempDir()
	origin := filepath.Join(root, "versions.git")
	gitIn(t, root, "init", "--quiet", "--bare", "--initial-branch=master", origin)
	seed := filepath.Join(root, "seed")
	gitIn(t, root, "init", "--quiet", "--initial-branch=master", seed)
	writeFile(t, seed, "build-info/dotnet/arcade/main/Latest_Packages.txt", "Microsoft.DotNet.Arcade.Sdk 10.0.0-beta.26570.1\r\nOld.Tool 1.0.0-beta.1")
	gitIn(t, seed, "add", ".")
	gitIn(t, seed, "-c", "user.name=s", "-c", "user.email=s@s", "commit", "--quiet", "-m", "seed")
	gitIn(t, seed, "push", "--quiet", origin, "master")
	return origin
}

// TestLegacyPublishWithPublish: `maestro publish --legacy-versions-repo`
// records the build and writes its build-info in one step; bad legacy input
// is refused before either is written.
func TestLegacyPublishWithPublish(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		origin := legacyVersionsRepo(t)
		spec := manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main", commit: sha(1), azdoBuildID: 2001,
			packages: []string{"Microsoft.DotNet.Arcade.Sdk@10.0.0-beta.26575.1", "Microsoft.DotNet.Helix.Sdk@10.0.0-beta.26575.1"},
			blobs:    []string{"assets/symbols/x.symbols.nupkg"}}
		m := writeFile(t, dir, "m.xml", spec.xml())

		head := gitIn(t, origin, "rev-parse", "master")
		bad := e.run("publish", "--manifest", m, "--legacy-versions-repo", origin, "--legacy-name", "arcade", "--legacy-channel", "../main")
		assert.Equal(t, 2, bad.code, bad.stderr)
		assert.Contains(t, bad.stderr, `--legacy-versions-repo: --channel "../main": segment ".." is not allowed`)
		var builds []maestro.Build
		e.okJSON(&builds, "build", "list")
		assert.Empty(t, builds, "no build recorded")
		assert.Equal(t, head, gitIn(t, origin, "rev-parse", "master"))

		r := e.run("publish", "--manifest", m, "--legacy-versions-repo", origin, "--legacy-name", "arcade", "--legacy-channel", "main")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Regexp(t, `^\d+\n$`, r.stdout, "stdout is the BAR id alone")
		assert.Contains(t, r.stderr, "build-info: published 2 packages to build-info/dotnet/arcade/main on master as beta.26575.1")
		assert.Equal(t, "Updating build-info/dotnet/arcade/main for beta.26575.1\n", gitIn(t, origin, "log", "-1", "--format=%s", "master"))
		assert.Equal(t, "beta.26575.1", gitIn(t, origin, "show", "master:build-info/dotnet/arcade/main/Latest.txt"))
		assert.Equal(t, "Microsoft.DotNet.Arcade.Sdk 10.0.0-beta.26575.1\r\nMicrosoft.DotNet.Helix.Sdk 10.0.0-beta.26575.1\r\nOld.Tool 1.0.0-beta.1",
			gitIn(t, origin, "show", "master:build-info/dotnet/arcade/main/Latest_Packages.txt"))
		assert.Equal(t, "Microsoft.DotNet.Arcade.Sdk 10.0.0-beta.26575.1\r\nMicrosoft.DotNet.Helix.Sdk 10.0.0-beta.26575.1",
			gitIn(t, origin, "show", "master:build-info/dotnet/arcade/main/Last_Build_Packages.txt"))
	})
}
