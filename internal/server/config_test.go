package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/server"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "serve.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`listen: 0.0.0.0:9000
store: file:///srv/bar
workers: 8
claimTimeout: 90s
eventTimeout: 20m
github:
  webhooks: true
  webhookSecret: from-file
`), 0o600))
	tests := []struct {
		name  string
		file  string
		env   map[string]string
		flags server.Flags
		want  server.Config
	}{
		{"defaults", "", nil, server.Flags{}, server.Config{Listen: server.DefaultListen, Workers: server.DefaultWorkers, ClaimTimeout: server.DefaultClaimTimeout, EventTimeout: server.DefaultEventTimeout}},
		{"file", file, nil, server.Flags{}, server.Config{Listen: "0.0.0.0:9000", Store: "file:///srv/bar", Workers: 8, ClaimTimeout: 90 * time.Second, EventTimeout: 20 * time.Minute,
			GitHub: server.GitHubConfig{Webhooks: true, WebhookSecret: "from-file"}}},
		{"environment over file", file, map[string]string{server.EnvGitHubWebhookSecret: "from-env"}, server.Flags{},
			server.Config{Listen: "0.0.0.0:9000", Store: "file:///srv/bar", Workers: 8, ClaimTimeout: 90 * time.Second, EventTimeout: 20 * time.Minute,
				GitHub: server.GitHubConfig{Webhooks: true, WebhookSecret: "from-env"}}},
		{"flags over file", file, nil, server.Flags{Listen: ":8081", Store: "azblob://c", Workers: 2, GitHubWebhooks: new(false)},
			server.Config{Listen: ":8081", Store: "azblob://c", Workers: 2, ClaimTimeout: 90 * time.Second, EventTimeout: 20 * time.Minute,
				GitHub: server.GitHubConfig{Webhooks: false, WebhookSecret: "from-file"}}},
		{"flag enables with secret from env", "", map[string]string{server.EnvGitHubWebhookSecret: "e"}, server.Flags{GitHubWebhooks: new(true)},
			server.Config{Listen: server.DefaultListen, Workers: server.DefaultWorkers, ClaimTimeout: server.DefaultClaimTimeout, EventTimeout: server.DefaultEventTimeout,
				GitHub: server.GitHubConfig{Webhooks: true, WebhookSecret: "e"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := server.LoadConfig(tt.file, envOf(tt.env), tt.flags)
			require.NoError(t, err)
			if tt.want.RequestTimeout == 0 {
				tt.want.RequestTimeout = server.DefaultRequestTimeout // TestRequestTimeoutConfig covers it
			}
			if tt.want.CloneRequests == 0 {
				tt.want.CloneRequests = server.DefaultCloneRequests // TestCloneRequestsConfig covers it
			}
			tt.want.HeapFloorMiB = server.DefaultHeapFloorMiB // TestHeapFloorConfig covers it
			if tt.want.Scheduler == (server.SchedulerConfig{}) {
				tt.want.Scheduler = defaultScheduler // TestLoadSchedulerConfig covers it
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestHeapFloorConfig: the floor defaults to 256 MiB; the file sets it,
// GOGC in the environment turns it off (the operator tuned the collector),
// the flag wins over both; out of range is refused.
func TestHeapFloorConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "serve.yaml")
	require.NoError(t, os.WriteFile(file, []byte("heapFloorMiB: 64\n"), 0o600))
	tests := []struct {
		name  string
		file  string
		env   map[string]string
		flags server.Flags
		want  int
	}{
		{"default", "", nil, server.Flags{}, server.DefaultHeapFloorMiB},
		{"file", file, nil, server.Flags{}, 64},
		{"GOGC turns it off", file, map[string]string{server.EnvGOGC: "200"}, server.Flags{}, 0},
		{"the flag over GOGC", "", map[string]string{server.EnvGOGC: "off"}, server.Flags{HeapFloorMiB: new(512)}, 512},
		{"the flag turns it off", file, nil, server.Flags{HeapFloorMiB: new(0)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := server.LoadConfig(tt.file, envOf(tt.env), tt.flags)
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.HeapFloorMiB)
		})
	}
	for _, n := range []int{-1, server.MaxHeapFloorMiB + 1} {
		_, err := server.LoadConfig("", envOf(nil), server.Flags{HeapFloorMiB: new(n)})
		require.Error(t, err, n)
		assert.Contains(t, err.Error(), fmt.Sprintf("heapFloorMiB %d: use 0 (GOGC alone) to 65536", n))
	}
}

func TestLoadConfigRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	unknown := write("unknown.yaml", "github:\n  webhook: true\n")
	badDuration := write("duration.yaml", "claimTimeout: soon\n")
	badEventTimeout := write("eventtimeout.yaml", "eventTimeout: soon\n")
	shortEventTimeout := write("shorteventtimeout.yaml", "eventTimeout: 10ms\n")
	noSecret := write("nosecret.yaml", "github:\n  webhooks: true\n")
	tests := []struct {
		name    string
		file    string
		flags   server.Flags
		wantErr string
	}{
		{"route enabled by flag without secret", "", server.Flags{GitHubWebhooks: new(true)}, "the GitHub webhook route is enabled but has no secret: set MAESTRO_GITHUB_WEBHOOK_SECRET"},
		{"route enabled by file without secret", noSecret, server.Flags{}, "set MAESTRO_GITHUB_WEBHOOK_SECRET"},
		{"unknown field", unknown, server.Flags{}, "field webhook not found"},
		{"missing file", filepath.Join(dir, "none.yaml"), server.Flags{}, "configuration file: open"},
		{"bad duration", badDuration, server.Flags{}, `claimTimeout "soon": a duration like 5m`},
		{"bad event timeout", badEventTimeout, server.Flags{}, `eventTimeout "soon": a duration like 15m`},
		{"event timeout under a second", shortEventTimeout, server.Flags{}, `eventTimeout 10ms: use at least 1s`},
		{"bad listen", "", server.Flags{Listen: "8080"}, `listen address "8080": use HOST:PORT`},
		{"too many workers", "", server.Flags{Workers: 1000}, "workers 1000: use 1 to 256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := server.LoadConfig(tt.file, envOf(nil), tt.flags)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
		})
	}
}

// TestConfigStringHidesSecrets: the configuration's description, which the
// server logs, never shows a secret.
func TestConfigStringHidesSecrets(t *testing.T) {
	cfg, err := server.LoadConfig("", envOf(map[string]string{server.EnvGitHubWebhookSecret: "very-secret"}), server.Flags{GitHubWebhooks: new(true)})
	require.NoError(t, err)
	assert.NotContains(t, cfg.String(), "very-secret")
	assert.Contains(t, cfg.String(), "POST /webhooks/github")
}
