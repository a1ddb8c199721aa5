package server_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/server"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
	"github.com/maestroplusplus/maestro/test/proctest"
)

// stallingStore is a store whose reads of one key, once stall names it,
// answer only when the caller's context ends: a store that takes
// requests and never answers.
type stallingStore struct {
	store.Store
	stall atomic.Value // string: the key
}

func (s *stallingStore) Get(ctx context.Context, key string) ([]byte, string, error) {
	if k, _ := s.stall.Load().(string); k == key {
		<-ctx.Done()
		return nil, "", ctx.Err()
	}
	return s.Store.Get(ctx, key)
}

// serveWith runs a server on reg with the API's test tokens, the
// configuration file text yaml and the wiring's environment env; it
// returns the server's URL.
func serveWith(t *testing.T, reg *registry.Registry, yaml string, env map[string]string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "serve.yaml")
	require.NoError(t, os.WriteFile(file, []byte(yaml), 0o600))
	all := map[string]string{server.EnvAPIReadToken: readToken, server.EnvAPIWriteToken: writeToken}
	for k, v := range env {
		all[k] = v
	}
	cfg, err := server.LoadConfig(file, envOf(all), server.Flags{Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	srv, err := server.New(cfg, wire.Env{Getenv: envOf(all), Now: time.Now}.Service(reg), slog.New(slog.NewTextHandler(&syncBuffer{}, nil)))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	t.Cleanup(func() { cancel(); assert.NoError(t, <-done) })
	return "http://" + ln.Addr().String()
}

// call sends method path with the write token and a client that gives up
// after 30 s; it returns the status, the message and how long it took.
func call(t *testing.T, base, method, path string) (int, string, time.Duration) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+writeToken)
	start := time.Now()
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	require.NoError(t, err, "the server answers")
	defer resp.Body.Close()
	var m struct{ Message string }
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m.Message, time.Since(start)
}

// TestRequestWorkIsBounded: a request whose store never answers is cut
// short after requestTimeout with a 503 {"message"}, instead of holding
// the connection (and the handler) for good.
func TestRequestWorkIsBounded(t *testing.T) {
	st := &stallingStore{Store: mem.New()}
	reg := registry.New(st)
	_, _, err := reg.Init(t.Context())
	require.NoError(t, err)
	_, err = reg.AddChannel(t.Context(), "dev", "")
	require.NoError(t, err)
	base := serveWith(t, reg, "requestTimeout: 1s\n", nil)
	code, _, _ := call(t, base, "GET", "/api/channels")
	require.Equal(t, http.StatusOK, code)
	keys, err := st.List(t.Context(), "")
	require.NoError(t, err)
	var channels string
	for _, k := range keys {
		if strings.Contains(k, "channels") {
			channels = k
		}
	}
	require.NotEmpty(t, channels, "the channels' document among %v", keys)
	st.stall.Store(channels)
	code, msg, took := call(t, base, "GET", "/api/channels")
	assert.Equal(t, http.StatusServiceUnavailable, code, msg)
	assert.Contains(t, msg, "deadline exceeded")
	assert.GreaterOrEqual(t, took, time.Second, "not before requestTimeout")
	assert.Less(t, took, 10*time.Second)
}

// TestTriggerIsBoundedByEventTimeout: a trigger runs the flow while the
// client waits, so it is bounded by eventTimeout, not requestTimeout: it
// is not cut at requestTimeout, and a target host that never answers ends
// it at eventTimeout with an answer, not a request that never ends: the
// flow's outcome, rescheduled as for any host that timed out (its git
// killed at eventTimeout), tried again by the pending work.
func TestTriggerIsBoundedByEventTimeout(t *testing.T) {
	hang := proctest.Silent(t)
	reg := newRegistry(t)
	ctx := t.Context()
	ch, err := reg.AddChannel(ctx, "dev", "")
	require.NoError(t, err)
	sub, err := reg.AddSubscription(ctx, maestro.Subscription{ChannelID: ch.ID, Enabled: true,
		SourceRepository: "https://github.com/dotnet/runtime", TargetRepository: hang.URL + "/dotnet/target",
		TargetBranch: "main", Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryDay}})
	require.NoError(t, err)
	_, err = reg.PublishBuild(ctx, maestro.Build{Repository: "https://github.com/dotnet/runtime", Branch: "main", Commit: strings.Repeat("2", 40),
		Assets: []maestro.Asset{{Name: "Microsoft.NETCore.App.Ref", Version: "10.0.0"}}}, registry.PublishOptions{Channels: []int{ch.ID}})
	require.NoError(t, err)
	base := serveWith(t, reg, "requestTimeout: 1s\neventTimeout: 8s\n", map[string]string{wire.EnvGitHubURL: hang.URL,
		"GITHUB_TOKEN": "ghp_0123456789abcdef0123456789abcdef0123", wire.EnvAllowHTTPLoopback: "true"})
	code, msg, took := call(t, base, "POST", "/api/subscriptions/"+sub.ID+"/trigger")
	assert.GreaterOrEqual(t, took, 8*time.Second, "not cut at requestTimeout: %d %s", code, msg)
	assert.Less(t, took, 25*time.Second)
	assert.Equal(t, http.StatusOK, code, msg)
	assert.Contains(t, msg, "context deadline exceeded")
	assert.Contains(t, msg, "attempt 1 of 5; next attempt at", "rescheduled")
}

// TestRequestHeaderIsBounded: a request header over 64 KB is refused (431)
// before any handler runs; net/http's default took 1 MB.
func TestRequestHeaderIsBounded(t *testing.T) {
	base := serveWith(t, newRegistry(t), "", nil)
	req, err := http.NewRequest("GET", base+"/healthz", nil)
	require.NoError(t, err)
	req.Header.Set("X-Padding", strings.Repeat("x", 100<<10))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
	req.Header.Set("X-Padding", strings.Repeat("x", 16<<10))
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestRequestTimeoutConfig: requestTimeout is read from the file and
// bounded.
func TestRequestTimeoutConfig(t *testing.T) {
	for _, tt := range []struct {
		yaml, wantErr string
		want          time.Duration
	}{
		{"", "", server.DefaultRequestTimeout},
		{"requestTimeout: 5m\n", "", 5 * time.Minute},
		{"requestTimeout: 500ms\n", "requestTimeout 500ms: use 1s to 1h", 0},
		{"requestTimeout: 2h\n", "requestTimeout 2h0m0s: use 1s to 1h", 0},
		{"requestTimeout: soon\n", `requestTimeout "soon": a duration like 1m`, 0},
	} {
		file := filepath.Join(t.TempDir(), "serve.yaml")
		require.NoError(t, os.WriteFile(file, []byte(tt.yaml), 0o600))
		cfg, err := server.LoadConfig(file, envOf(nil), server.Flags{})
		if tt.wantErr != "" {
			assert.ErrorContains(t, err, tt.wantErr)
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tt.want, cfg.RequestTimeout)
	}
}
