package e2e_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// storeFiles returns every file of a local store and its content.
func storeFiles(t *testing.T, e *env) map[string]string {
	t.Helper()
	root := strings.TrimPrefix(e.store, "file://")
	files := map[string]string{}
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		files[p] = string(data)
		return err
	}))
	return files
}

// TestUnconfiguredHostRefusedAtInput: a target repository or an update
// pipeline that no configured git host serves — /_git/ on any host is not
// Azure Repos — is bad input (exit 2) to subscription add and update and to
// config apply, nothing is written, and the message names the field, the
// URL and the setting; once MAESTRO_AZDO_SERVER_URLS names the server, the
// same input is accepted.
func TestUnconfiguredHostRefusedAtInput(t *testing.T) {
	const evil = "https://evil.example/a/b/_git/c"
	const evilPipeline = "https://evil.example/a/eng/_build?definitionId=7"
	e := newLocal(t)
	e.ok("channel", "add", "--name", "dev")
	var sub maestro.Subscription
	e.okJSON(&sub, "subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
		"--target-repo", "https://github.com/dotnet/runtime", "--target-branch", "main")
	base := []string{"--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade", "--target-branch", "main"}
	addTarget := append([]string{"subscription", "add", "--target-repo", evil}, base...)
	addPipeline := append([]string{"subscription", "add", "--target-repo", "https://github.com/dotnet/sdk", "--update-pipeline", evilPipeline}, base...)
	updatePipeline := []string{"subscription", "update", "--id", sub.ID, "--update-pipeline", evilPipeline}
	dir := t.TempDir()
	config := writeFile(t, dir, "maestro.yaml", "channels:\n  - name: dev\nsubscriptions:\n"+
		"  - id: "+sub.ID+"\n    channel: dev\n    sourceRepository: https://github.com/dotnet/arcade\n    targetRepository: https://github.com/dotnet/runtime\n    targetBranch: main\n"+
		"  - channel: dev\n    sourceRepository: https://github.com/dotnet/arcade\n    targetRepository: "+evil+"\n    targetBranch: main\n"+
		"  - channel: dev\n    sourceRepository: https://github.com/dotnet/arcade\n    targetRepository: https://github.com/dotnet/sdk\n    targetBranch: main\n"+
		"    updatePipeline:\n      url: "+evilPipeline+"\n")
	badConfig := writeFile(t, dir, "bad.yaml", "channels:\n  - name: dev\nsubscriptions:\n"+
		"  - channel: dev\n    sourceRepository: https://github.com/dotnet/arcade\n    targetRepository: "+evil+"\n    targetBranch: main\n    updateFrequency: hourly\n")

	before := storeFiles(t, e)
	for name, tc := range map[string]struct {
		args []string
		want []string
	}{
		"add target":      {addTarget, []string{"target repository", evil, "set MAESTRO_AZDO_SERVER_URLS to name an Azure DevOps Server collection, or MAESTRO_GITHUB_URL for GitHub Enterprise Server"}},
		"add pipeline":    {addPipeline, []string{"update pipeline", "https://evil.example/a", "set MAESTRO_AZDO_SERVER_URLS"}},
		"update pipeline": {updatePipeline, []string{"update pipeline", "https://evil.example/a", "set MAESTRO_AZDO_SERVER_URLS"}},
		"config apply":    {[]string{"config", "apply", config}, []string{"targetRepository", evil, "updatePipeline.url", "set MAESTRO_AZDO_SERVER_URLS"}},
		// The host problem is reported with the file's other problems at once.
		"config apply, all problems": {[]string{"config", "apply", badConfig}, []string{"targetRepository", evil, `unknown update frequency "hourly"`}},
	} {
		t.Run(name, func(t *testing.T) {
			r := e.run(tc.args...)
			assert.Equal(t, 2, r.code, r.stderr)
			for _, w := range tc.want {
				assert.Contains(t, r.stderr, w)
			}
			assert.Equal(t, before, storeFiles(t, e), "nothing was written")
		})
	}

	// Source repositories are only matched against builds: any host will do.
	var other maestro.Subscription
	e.okJSON(&other, "subscription", "add", "--channel", "dev", "--source-repo", "https://evil.example/a/b/_git/source",
		"--target-repo", "https://github.com/dotnet/runtime", "--target-branch", "main")
	e.ok("subscription", "delete", "--id", other.ID)

	// Configured, the same input is accepted.
	e.environ = append(e.environ, "MAESTRO_AZDO_SERVER_URLS=https://evil.example/a")
	var added maestro.Subscription
	e.okJSON(&added, "subscription", "add", "--target-repo", evil, "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade", "--target-branch", "main", "--update-pipeline", evilPipeline)
	assert.Equal(t, evil, added.TargetRepository)
	e.ok("subscription", "update", "--id", sub.ID, "--update-pipeline", evilPipeline)
	e.ok("subscription", "delete", "--id", added.ID)
	e.ok("subscription", "update", "--id", sub.ID, "--update-pipeline", "none")
	e.ok("config", "apply", config)
	var subs []maestro.Subscription
	e.okJSON(&subs, "subscription", "list")
	require.Len(t, subs, 3)

	// Without the setting again, the recorded subscriptions stay editable
	// (their flow is refused before any token is sent).
	e.environ = nil
	for _, s := range subs {
		e.ok("subscription", "disable", "--id", s.ID)
	}
}
