package e2e_test

import (
	"crypto/sha256"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/maestro"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
	"github.com/maestroplusplus/maestro/test/testenv"
)

// storeListing is every object of a local store with a hash of its content.
func storeListing(t *testing.T, e *env) map[string][32]byte {
	t.Helper()
	root := strings.TrimPrefix(e.store, "file://")
	out := map[string][32]byte{}
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		out[p] = sha256.Sum256(data)
		return err
	}))
	return out
}

// writes lists the requests that changed something on the GitHub double:
// any API call but a read, and any push.
func writes(srv *githubdouble.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		push := strings.Contains(r.Path, "git-receive-pack") || strings.Contains(r.Query, "git-receive-pack")
		if push || !r.Git && r.Method != "GET" && r.Method != "HEAD" {
			out = append(out, r.Method+" "+r.Path+"?"+r.Query)
		}
	}
	return out
}

// TestWhatIfThroughBinary: `subscription add --what-if`, `subscription update
// --what-if` and `config apply --what-if` read a GitHub target's real
// dependency files (templating's) through the binary and say what the VMR's
// newest build would change; they check their input first and write
// nothing — the store is byte for byte as before, and the GitHub double saw
// no push and no pull request.
func TestWhatIfThroughBinary(t *testing.T) {
	e := newLocal(t)
	srv := githubdouble.NewServer(t)
	srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "templating", Files: testenv.DependencyFiles(t, "templating.main-2026")})
	e.environ = append(e.environ, "GITHUB_TOKEN="+githubdouble.DefaultToken, "MAESTRO_GITHUB_URL="+srv.URL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true")
	target := srv.URL() + "/dotnet/templating"
	e.ok("channel", "add", "--name", "dev")
	dir := t.TempDir()
	e.ok("publish", "--channel", "dev", "--manifest", writeFile(t, dir, "vmr.xml", manifestSpec{repo: "https://github.com/dotnet/dotnet", branch: "main",
		commit: sha(7), azdoBuildID: 7, packages: []string{"Microsoft.DotNet.Arcade.Sdk@11.0.0-beta.26210.101", "System.CommandLine@3.0.0-preview.4.26210.101"}}.xml()))
	add := []string{"subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/dotnet",
		"--target-repo", target, "--target-branch", "main", "--update-frequency", "everyWeek"}

	// Bad input is refused before anything is read or written.
	before := storeListing(t, e)
	r := e.run(append(slices.Clone(add[:len(add)-1]), "hourly", "--what-if")...)
	assert.Equal(t, cmdutil.ExitInvalid, r.code, r.stderr)
	assert.Contains(t, r.stderr, `unknown update frequency "hourly"`)
	assert.Empty(t, srv.Requests(), "a bad subscription read the target")

	var added cmdutil.WhatIfEntry
	e.okJSON(&added, append(add, "--what-if")...)
	require.NotNil(t, added.WhatIf)
	require.NotNil(t, added.WhatIf.Build)
	assert.Equal(t, "add", added.Op)
	assert.Equal(t, "schedule", string(added.WhatIf.Action), added.WhatIf.Reason)
	assert.Empty(t, added.WhatIf.TargetError)
	var moved []string
	for _, c := range added.WhatIf.Changes {
		moved = append(moved, c.Name+" "+c.FromVersion+" → "+c.ToVersion)
	}
	assert.ElementsMatch(t, []string{"Microsoft.DotNet.Arcade.Sdk 11.0.0-beta.26208.110 → 11.0.0-beta.26210.101",
		"System.CommandLine 3.0.0-preview.4.26208.110 → 3.0.0-preview.4.26210.101"}, moved)
	assert.Equal(t, []string{"eng/Version.Details.props", "eng/Version.Details.xml", "global.json"}, added.WhatIf.Files)
	assert.Equal(t, before, storeListing(t, e), "subscription add --what-if wrote to the store")

	var sub maestro.Subscription
	e.okJSON(&sub, add...)
	before = storeListing(t, e)
	out := e.ok("subscription", "update", "--id", sub.ID, "--excluded-asset", "System.*", "--update-frequency", "everyBuild", "--what-if")
	assert.Contains(t, out, "change subscription "+sub.ID+` "dev" https://github.com/dotnet/dotnet → `+target+"@main\n")
	assert.Contains(t, out, "trigger — update frequency everyBuild\n")
	assert.Regexp(t, `\n    Microsoft\.DotNet\.Arcade\.Sdk\s+11\.0\.0-beta\.26208\.110 → 11\.0\.0-beta\.26210\.101\n`, out)
	assert.Regexp(t, `\n    kept System\.CommandLine\s+3\.0\.0-preview\.4\.26208\.110\s+excluded by the subscription\n`, out)
	assert.True(t, strings.HasSuffix(out, "What if: nothing was written.\n"), out)

	config := e.ok("config", "export")
	var doc struct {
		Subscriptions []cmdutil.WhatIfEntry `json:"subscriptions"`
	}
	cfgFile := writeFile(t, dir, "maestro.yaml", strings.Replace(config, "updateFrequency: everyWeek", "updateFrequency: none", 1))
	require.NoError(t, json.Unmarshal([]byte(e.ok("config", "apply", "--what-if", "--output", "json", cfgFile)), &doc))
	require.Len(t, doc.Subscriptions, 1)
	assert.Equal(t, "on-demand", string(doc.Subscriptions[0].WhatIf.Action))
	assert.Len(t, doc.Subscriptions[0].WhatIf.Changes, 2)

	assert.Equal(t, before, storeListing(t, e), "--what-if wrote to the store")
	assert.Empty(t, writes(srv), "--what-if changed the GitHub double")
	var got maestro.Subscription
	e.okJSON(&got, "subscription", "show", "--id", sub.ID)
	assert.Equal(t, maestro.FrequencyEveryWeek, got.Policy.UpdateFrequency)
}
