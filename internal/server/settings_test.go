package server_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/server"
	"github.com/maestroplusplus/maestro/internal/service/wire"
)

// TestLoadConfigLegacyAndEnvironment: the legacy route's settings and the
// environment section come from the file, the legacy secret from the
// environment over the file, flags over both; the process environment wins
// over the file's environment section.
func TestLoadConfigLegacyAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	subs := filepath.Join(dir, "subscriptions.json")
	require.NoError(t, os.WriteFile(subs, []byte(legacySubscriptions), 0o600))
	file := filepath.Join(dir, "serve.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`legacy:
  commitPushed: true
  webhookSecret: legacy-from-file
  subscriptions: `+subs+`
  vsoUrls:
    dnceng.visualstudio.com: https://dev.azure.com/dnceng
  claimTimeout: 90s
environment:
  MAESTRO_AZDO_TOKEN: pat-from-file
  MAESTRO_BOT_NAME: file-bot
`), 0o600))
	cfg, err := server.LoadConfig(file, envOf(nil), server.Flags{})
	require.NoError(t, err)
	assert.Equal(t, server.LegacyConfig{CommitPushed: true, WebhookSecret: "legacy-from-file", Subscriptions: subs,
		VSOURLs: map[string]string{"dnceng.visualstudio.com": "https://dev.azure.com/dnceng"}, ClaimTimeout: 90 * time.Second}, cfg.Legacy)
	assert.Equal(t, []string{"POST /CommitPushed"}, cfg.Routes())

	cfg, err = server.LoadConfig(file, envOf(map[string]string{server.EnvLegacyWebhookSecret: "legacy-from-env"}),
		server.Flags{LegacyVSOURLs: map[string]string{"devdiv.visualstudio.com": "https://dev.azure.com/devdiv"}})
	require.NoError(t, err)
	assert.Equal(t, "legacy-from-env", cfg.Legacy.WebhookSecret)
	assert.Equal(t, map[string]string{"dnceng.visualstudio.com": "https://dev.azure.com/dnceng", "devdiv.visualstudio.com": "https://dev.azure.com/devdiv"}, cfg.Legacy.VSOURLs)

	getenv := cfg.Getenv(envOf(map[string]string{"MAESTRO_BOT_NAME": "env-bot"}))
	assert.Equal(t, "env-bot", getenv("MAESTRO_BOT_NAME"), "the process environment wins")
	assert.Equal(t, "pat-from-file", getenv("MAESTRO_AZDO_TOKEN"), "the file fills in")
	assert.Empty(t, getenv("GITHUB_TOKEN"))
	assert.Equal(t, "env-bot", wire.Env{Getenv: getenv}.Bot().Name, "the bot identity the flow uses")

	off := false
	cfg, err = server.LoadConfig(file, envOf(nil), server.Flags{LegacyCommitPushed: &off})
	require.NoError(t, err)
	assert.Empty(t, cfg.Routes(), "a flag turns the route off")
}

func TestLoadConfigRefusesLegacy(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	subs := write("subscriptions.json", legacySubscriptions)
	broken := write("broken.json", `{"actions": {}, "subscriptions": [{"triggerPaths": ["x"], "action": "none"}]}`)
	unknownVar := write("unknownvar.yaml", "environment:\n  PATH: /bin\n")
	badClaim := write("badclaim.yaml", "legacy:\n  claimTimeout: 10ms\n")
	on := true
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		flags   server.Flags
		wantErr string
	}{
		{"no secret", "", nil, server.Flags{LegacyCommitPushed: &on, LegacySubscriptions: subs},
			"the legacy /CommitPushed route is enabled but has no secret: set MAESTRO_LEGACY_WEBHOOK_SECRET"},
		{"the GitHub secret is not the legacy one", "", map[string]string{server.EnvGitHubWebhookSecret: "x"}, server.Flags{LegacyCommitPushed: &on, LegacySubscriptions: subs},
			"set MAESTRO_LEGACY_WEBHOOK_SECRET"},
		{"no subscriptions", "", map[string]string{server.EnvLegacyWebhookSecret: "x"}, server.Flags{LegacyCommitPushed: &on},
			"has no subscriptions file: give --legacy-subscriptions FILE"},
		{"missing subscriptions", "", map[string]string{server.EnvLegacyWebhookSecret: "x"}, server.Flags{LegacyCommitPushed: &on, LegacySubscriptions: filepath.Join(dir, "none.json")},
			"legacy subscriptions: open"},
		{"broken subscriptions", "", map[string]string{server.EnvLegacyWebhookSecret: "x"}, server.Flags{LegacyCommitPushed: &on, LegacySubscriptions: broken},
			broken + ":1"},
		{"unknown variable", unknownVar, nil, server.Flags{}, "environment: PATH is not a variable maestro serve reads"},
		{"short claim timeout", badClaim, nil, server.Flags{}, `legacy.claimTimeout "10ms": a duration of at least 1s`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := server.LoadConfig(tt.file, envOf(tt.env), tt.flags)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
		})
	}
}

// TestLegacyRouteNeedsAzureDevOpsToken: an enabled /CommitPushed route on
// hosts without an Azure DevOps token refuses to start, naming the
// variable; with one, /healthz lists both routes, and the server's log
// holds no secret of the configuration.
func TestLegacyRouteNeedsAzureDevOpsToken(t *testing.T) {
	reg := newRegistry(t)
	subs := filepath.Join(t.TempDir(), "subscriptions.json")
	require.NoError(t, os.WriteFile(subs, []byte(legacySubscriptions), 0o600))
	on := true
	env := map[string]string{server.EnvLegacyWebhookSecret: legacySecret, server.EnvGitHubWebhookSecret: secret}
	cfg, err := server.LoadConfig("", envOf(env), server.Flags{Listen: "127.0.0.1:0", LegacyCommitPushed: &on, LegacySubscriptions: subs, GitHubWebhooks: &on})
	require.NoError(t, err)
	var logs bytes.Buffer
	hosts := wire.Env{Getenv: envOf(env), Now: time.Now}
	_, err = server.New(cfg, hosts.Service(reg), slog.New(slog.NewTextHandler(&logs, nil)), server.WithHosts(hosts))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "set MAESTRO_AZDO_TOKEN")
	_, err = server.New(cfg, hosts.Service(reg), slog.New(slog.NewTextHandler(&logs, nil)))
	assert.ErrorContains(t, err, "the legacy /CommitPushed route needs Azure DevOps hosts")

	a := startRoutes(t, reg, routes{github: true, legacy: true, subscriptions: subs, env: map[string]string{"MAESTRO_AZDO_TOKEN": azdoPAT, "GITHUB_TOKEN": ghToken}})
	resp, err := http.Get(a.url + "/healthz")
	require.NoError(t, err)
	var h struct {
		Status string
		Routes []string
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
	resp.Body.Close()
	assert.Equal(t, []string{"POST /webhooks/github", "POST /CommitPushed"}, h.Routes)
	assert.Contains(t, a.log.String(), `routes="[POST /webhooks/github POST /CommitPushed]"`)
	for _, s := range []string{secret, legacySecret, azdoPAT, ghToken} {
		assert.NotContains(t, a.log.String(), s)
		assert.NotContains(t, cfg.String(), s)
	}
}
