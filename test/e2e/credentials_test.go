package e2e_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// tokenTrap is a loopback server that poses as Azure Repos and Azure
// Pipelines on a host nobody configured; it records every request that
// carries a credential.
type tokenTrap struct {
	srv      *httptest.Server
	mu       sync.Mutex
	requests int
	leaked   []string
}

func newTokenTrap(t *testing.T, secrets ...string) *tokenTrap {
	trap := &tokenTrap{}
	trap.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		trap.mu.Lock()
		defer trap.mu.Unlock()
		trap.requests++
		seen := r.Header.Get("Authorization") + " " + r.URL.String() + " " + string(body)
		for k, v := range r.Header {
			seen += " " + k + ": " + strings.Join(v, ",")
		}
		for _, s := range secrets {
			if r.Header.Get("Authorization") != "" || strings.Contains(seen, s) {
				trap.leaked = append(trap.leaked, r.Method+" "+r.URL.Path)
			}
		}
		http.Error(w, "echo: "+seen, http.StatusUnauthorized)
	}))
	t.Cleanup(trap.srv.Close)
	return trap
}

// TestNoTokenToUnconfiguredHost: a target repository and an update pipeline
// on a loopback host that no configuration names never receive a token —
// with the loopback setting on, as the tests' doubles use it — and the
// attempts end as failures that name the configuration to set. Such
// subscriptions are refused at input (TestUnconfiguredHostRefusedAtInput),
// so these are recorded while MAESTRO_AZDO_SERVER_URLS names the host, and
// flow after the setting is gone.
func TestNoTokenToUnconfiguredHost(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		trap := newTokenTrap(t, "secret-pat", "secret-job-token", "secret-gh")
		e.environ = append(e.environ, "MAESTRO_AZDO_TOKEN=secret-pat", "SYSTEM_ACCESSTOKEN=secret-job-token", "GITHUB_TOKEN=secret-gh", "MAESTRO_ALLOW_HTTP_LOOPBACK=true")
		configured := e.environ
		e.environ = append(slices.Clone(configured), "MAESTRO_AZDO_SERVER_URLS="+trap.srv.URL+"/org")
		e.ok("channel", "add", "--name", "dev")
		e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", "dev")
		var repos, pipeline maestro.Subscription
		e.okJSON(&repos, "subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
			"--target-repo", trap.srv.URL+"/org/project/_git/runtime", "--target-branch", "main", "--update-frequency", "everyBuild")
		e.okJSON(&pipeline, "subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
			"--target-repo", "https://github.com/dotnet/sdk", "--target-branch", "main", "--update-frequency", "everyBuild",
			"--update-pipeline", trap.srv.URL+"/org/eng/_build?definitionId=7")
		e.environ = configured
		m := writeFile(t, t.TempDir(), "m.xml", manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main", commit: sha(1), azdoBuildID: 5,
			packages: []string{"Microsoft.DotNet.Arcade.Sdk@10.0.0-beta.1"}}.xml())
		r := e.run("publish", "--manifest", m)
		require.Equal(t, 0, r.code, r.stderr)

		var history []maestro.FlowOutcome
		e.okJSON(&history, "flow", "history")
		require.Len(t, history, 2)
		for _, o := range history {
			assert.Equal(t, maestro.ResultFailure, o.Result, o.Message)
			assert.Contains(t, o.Message, "MAESTRO_AZDO_SERVER_URLS", "the failure names the setting")
		}
		// Later tries (trigger, tick) are refused the same way.
		r = e.run("subscription", "trigger", "--id", repos.ID, "--force")
		assert.NotEqual(t, 0, r.code)
		trap.mu.Lock()
		defer trap.mu.Unlock()
		assert.Empty(t, trap.leaked, "requests carrying a credential")
		assert.Zero(t, trap.requests, "nothing is sent to a host no configuration names")
	})
}

// TestUserInfoRefusedAtInput: repository and pipeline URLs with user info
// are bad input (exit 2) in subscription add and update and config apply,
// and the credential is not repeated in the error.
func TestUserInfoRefusedAtInput(t *testing.T) {
	e := newLocal(t)
	e.ok("channel", "add", "--name", "dev")
	var sub maestro.Subscription
	e.okJSON(&sub, "subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
		"--target-repo", "https://github.com/dotnet/runtime", "--target-branch", "main")
	base := []string{"--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade", "--target-branch", "main"}
	for name, args := range map[string][]string{
		"add target":      append([]string{"subscription", "add", "--target-repo", "https://u:s3cr3t@github.com/dotnet/sdk"}, base...),
		"add source":      {"subscription", "add", "--channel", "dev", "--source-repo", "https://s3cr3t@github.com/dotnet/arcade", "--target-repo", "https://github.com/dotnet/sdk", "--target-branch", "main"},
		"add pipeline":    append([]string{"subscription", "add", "--target-repo", "https://github.com/dotnet/sdk", "--update-pipeline", "https://s3cr3t@dev.azure.com/dnceng/internal/_build?definitionId=1"}, base...),
		"update target":   {"subscription", "update", "--id", sub.ID, "--target-repo", "https://x:s3cr3t@github.com/dotnet/runtime"},
		"update pipeline": {"subscription", "update", "--id", sub.ID, "--update-pipeline", "https://u:s3cr3t@dev.azure.com/dnceng/internal/_build?definitionId=1"},
	} {
		t.Run(name, func(t *testing.T) {
			r := e.run(args...)
			assert.Equal(t, 2, r.code, r.stderr)
			assert.NotContains(t, r.stdout+r.stderr, "s3cr3t")
		})
	}
	dir := t.TempDir()
	for name, yaml := range map[string]string{
		"config target": "subscriptions:\n  - channel: dev\n    sourceRepository: https://github.com/dotnet/arcade\n    targetRepository: https://s3cr3t@github.com/dotnet/sdk\n    targetBranch: main\n",
		"config pipeline": "subscriptions:\n  - channel: dev\n    sourceRepository: https://github.com/dotnet/arcade\n    targetRepository: https://github.com/dotnet/sdk\n    targetBranch: main\n" +
			"    updatePipeline:\n      url: https://u:s3cr3t@dev.azure.com/dnceng/internal/_build?definitionId=1\n",
	} {
		t.Run(name, func(t *testing.T) {
			r := e.run("config", "apply", writeFile(t, dir, strings.ReplaceAll(name, " ", "-")+".yaml", "channels:\n  - name: dev\n"+yaml))
			assert.Equal(t, 2, r.code, r.stderr)
			assert.NotContains(t, r.stdout+r.stderr, "s3cr3t")
		})
	}
	var subs []maestro.Subscription
	e.okJSON(&subs, "subscription", "list")
	assert.Len(t, subs, 1, "nothing was written")
}
