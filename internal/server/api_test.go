package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/server"
	"github.com/maestroplusplus/maestro/internal/service"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/test/github/ghspec"
)

// Tokens of the API tests: one per scope from the environment, and one
// from the configuration file (by its hash) with read only.
const (
	readToken     = "read-token-0123456789abcdef"
	writeToken    = "write-token-0123456789abcdef"
	fileReadToken = "file-read-token-0123456789"
)

// apiServer runs a server on reg with the API tokens; more is appended to
// its configuration file. It returns the server's URL and its log.
func apiServer(t *testing.T, reg *registry.Registry, more string) (string, *syncBuffer) {
	t.Helper()
	return apiServerEnv(t, reg, more, nil)
}

// apiServerEnv is apiServer whose flow service reads env (hosts, tokens).
func apiServerEnv(t *testing.T, reg *registry.Registry, more string, env map[string]string) (string, *syncBuffer) {
	t.Helper()
	sum := sha256.Sum256([]byte(fileReadToken))
	file := filepath.Join(t.TempDir(), "serve.yaml")
	require.NoError(t, os.WriteFile(file, []byte("api:\n  tokens:\n    - name: dashboard\n      sha256: "+hex.EncodeToString(sum[:])+"\n      scopes: [read]\n"+more), 0o600))
	cfg, err := server.LoadConfig(file, envOf(map[string]string{server.EnvAPIReadToken: readToken, server.EnvAPIWriteToken: writeToken}),
		server.Flags{Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	logs := &syncBuffer{}
	srv, err := server.New(cfg, wire.Env{Getenv: envOf(env), Now: time.Now}.Service(reg), slog.New(slog.NewTextHandler(logs, nil)))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
		for _, tok := range []string{readToken, writeToken, fileReadToken} {
			assert.NotContains(t, logs.String(), tok, "no token in the logs")
		}
	})
	return "http://" + ln.Addr().String(), logs
}

// openAPI is the API's document, read from the file the binary embeds.
func openAPI(t *testing.T) *ghspec.Document {
	t.Helper()
	doc, err := ghspec.Load("openapi.json")
	require.NoError(t, err)
	return doc
}

// coverage records the statuses each operation of the document answered.
type coverage struct {
	mu   sync.Mutex
	seen map[string]map[int]bool
}

func (c *coverage) add(op string, code int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]map[int]bool{}
	}
	if c.seen[op] == nil {
		c.seen[op] = map[int]bool{}
	}
	c.seen[op][code] = true
}

// client is a hand-written client of the API: every answer it receives is
// checked against the OpenAPI document (status listed, body matching the
// schema of that status), and every request body the server accepts
// against the operation's request schema.
type client struct {
	t     *testing.T
	url   string
	token string
	doc   *ghspec.Document
	cov   *coverage
}

func (c client) with(token string) client { c.token = token; return c }

// do sends method path (with query) and body (nil: none; []byte: as is;
// else JSON) and returns the status and body.
func (c client) do(method, path string, body any) (int, []byte) {
	c.t.Helper()
	var data []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		data = b
	default:
		var err error
		data, err = json.Marshal(b)
		require.NoError(c.t, err)
	}
	var rd io.Reader
	if data != nil {
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	require.NoError(c.t, err)
	if data != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	route, _, _ := strings.Cut(path, "?")
	op, err := c.doc.Match(method, route)
	if assert.NoError(c.t, err, "%s %s is not in the document", method, route) {
		assert.NoError(c.t, op.CheckResponse(resp.StatusCode, resp.Header, out), "%s %s answered %d: %s", method, path, resp.StatusCode, out)
		if resp.StatusCode < 300 && data != nil {
			assert.NoError(c.t, op.CheckRequest(data), "%s %s took a body the document does not describe: %s", method, path, data)
		}
		c.cov.add(op.String(), resp.StatusCode)
	}
	return resp.StatusCode, out
}

// want sends a request, requires the status, and decodes a JSON answer
// into v (when not nil).
func (c client) want(code int, method, path string, body any, v any) {
	c.t.Helper()
	got, out := c.do(method, path, body)
	require.Equal(c.t, code, got, "%s %s: %s", method, path, out)
	if v != nil {
		require.NoError(c.t, json.Unmarshal(out, v))
	}
}

// wantError sends a request, requires the status, and returns the message.
func (c client) wantError(code int, method, path string, body any) string {
	c.t.Helper()
	var e struct{ Message string }
	c.want(code, method, path, body, &e)
	require.NotEmpty(c.t, e.Message)
	return e.Message
}

// localTarget makes a bare git repository whose main branch has an empty
// eng/Version.Details.xml and returns its path.
func localTarget(t *testing.T) string {
	t.Helper()
	work, bare := t.TempDir(), filepath.Join(t.TempDir(), "target.git")
	require.NoError(t, os.MkdirAll(filepath.Join(work, "eng"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(work, "eng", "Version.Details.xml"), []byte(`<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
    <Dependency Name="Microsoft.DotNet.Arcade.Sdk" Version="1.0.0">
      <Uri>https://github.com/dotnet/arcade</Uri>
      <Sha>0000000000000000000000000000000000000001</Sha>
    </Dependency>
  </ProductDependencies>
  <ToolsetDependencies>
  </ToolsetDependencies>
</Dependencies>
`), 0o644))
	for _, args := range [][]string{
		{"init", "-q", "-b", "main", work},
		{"-C", work, "add", "."},
		{"-C", work, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init"},
		{"clone", "-q", "--bare", work, bare},
	} {
		out, err := exec.Command("git", args...).CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}
	return bare
}

// publish records a build of arcade in the registry, as `maestro publish`
// does, and returns it.
func publish(t *testing.T, reg *registry.Registry, commit string, version string, channels ...int) maestro.Build {
	t.Helper()
	res, err := reg.PublishBuild(t.Context(), maestro.Build{
		Repository: "https://github.com/dotnet/arcade", Branch: "main", Commit: commit,
		DateProduced: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC),
		Assets: []maestro.Asset{{Name: "Microsoft.DotNet.Arcade.Sdk", Version: version,
			Locations: []maestro.AssetLocation{{Type: maestro.LocationNuGetFeed, Location: "https://pkgs.example.com/feed/index.json"}}}},
	}, registry.PublishOptions{Channels: channels})
	require.NoError(t, err)
	return res.Build
}

// TestAPIThroughTheDocument drives every route of the API through the
// client, successes and errors, each answer checked against the OpenAPI
// document; at the end every operation must have answered a success and
// an error of its own (400, 404 or 409), besides the scope checks.
func TestAPIThroughTheDocument(t *testing.T) {
	reg := newRegistry(t)
	base, _ := apiServer(t, reg, "")
	cov := &coverage{}
	doc := openAPI(t)
	w := client{t: t, url: base, token: writeToken, doc: doc, cov: cov}
	r := w.with(readToken)

	t.Run("document", func(t *testing.T) {
		resp, err := http.Get(base + "/api/openapi.json")
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		file, err := os.ReadFile("openapi.json")
		require.NoError(t, err)
		assert.Equal(t, file, body, "the server serves the embedded document")
	})

	// Channels.
	var ch maestro.Channel
	w.want(201, "POST", "/api/channels", map[string]any{"name": ".NET 10", "classification": "product"}, &ch)
	assert.Equal(t, maestro.Channel{ID: ch.ID, Name: ".NET 10", Classification: "product"}, ch)
	var other maestro.Channel
	w.want(201, "POST", "/api/channels", map[string]any{"name": "tools"}, &other)
	assert.Equal(t, "dev", other.Classification, "the command's default classification")
	assert.Contains(t, w.wantError(409, "POST", "/api/channels", map[string]any{"name": ".NET 10"}), ".NET 10")
	w.wantError(400, "POST", "/api/channels", map[string]any{"name": ".NET 11", "clasification": "typo"})
	w.wantError(400, "POST", "/api/channels", []byte(`{"name": ".NET 11"} {"name": "again"}`))
	w.wantError(400, "POST", "/api/channels", nil)
	var chs []maestro.Channel
	r.want(200, "GET", "/api/channels", nil, &chs)
	assert.Equal(t, []maestro.Channel{ch, other}, chs)
	r.wantError(400, "GET", "/api/channels?name=x", nil)
	var got maestro.Channel
	r.want(200, "GET", "/api/channels/"+itoa(ch.ID), nil, &got)
	assert.Equal(t, ch, got)
	r.wantError(404, "GET", "/api/channels/99", nil)
	r.wantError(400, "GET", "/api/channels/x", nil)

	// Default channels.
	var dc maestro.DefaultChannel
	w.want(201, "POST", "/api/default-channels", map[string]any{"repository": "https://github.com/dotnet/arcade", "branch": "main", "channelId": ch.ID}, &dc)
	assert.True(t, dc.Enabled)
	w.wantError(404, "POST", "/api/default-channels", map[string]any{"repository": "https://github.com/dotnet/arcade", "branch": "main", "channelId": 99})
	w.wantError(400, "POST", "/api/default-channels", map[string]any{"repository": "not a url", "branch": "main", "channelId": ch.ID})
	var dcs []maestro.DefaultChannel
	r.want(200, "GET", "/api/default-channels?repository="+url.QueryEscape("https://github.com/dotnet/arcade"), nil, &dcs)
	assert.Equal(t, []maestro.DefaultChannel{dc}, dcs)
	r.want(200, "GET", "/api/default-channels?repository="+url.QueryEscape("https://github.com/dotnet/runtime"), nil, &dcs)
	assert.Empty(t, dcs)
	r.wantError(400, "GET", "/api/default-channels?repo=x", nil)
	var patched maestro.DefaultChannel
	w.want(200, "PATCH", "/api/default-channels/"+itoa(dc.ID), map[string]any{"enabled": false}, &patched)
	assert.False(t, patched.Enabled)
	w.wantError(400, "PATCH", "/api/default-channels/"+itoa(dc.ID), map[string]any{})
	w.wantError(404, "PATCH", "/api/default-channels/99", map[string]any{"enabled": true})
	w.want(200, "PATCH", "/api/default-channels/"+itoa(dc.ID), map[string]any{"enabled": true}, &patched)

	// Builds and assets (recorded as `maestro publish` records them).
	b1 := publish(t, reg, "1111111111111111111111111111111111111111", "2.0.0")
	b2 := publish(t, reg, "2222222222222222222222222222222222222222", "3.0.0")
	var bs []maestro.Build
	r.want(200, "GET", "/api/builds", nil, &bs)
	require.Len(t, bs, 2)
	assert.Equal(t, []int{b2.ID, b1.ID}, []int{bs[0].ID, bs[1].ID}, "newest first")
	r.want(200, "GET", "/api/builds?limit=1&before="+itoa(b2.ID)+"&channelId="+itoa(ch.ID), nil, &bs)
	require.Len(t, bs, 1)
	assert.Equal(t, b1.ID, bs[0].ID)
	r.wantError(400, "GET", "/api/builds?limit=0", nil)
	assert.Contains(t, r.wantError(400, "GET", "/api/builds?channelId=99", nil), "channelId")
	r.wantError(400, "GET", "/api/builds?commit=abc", nil)
	var latest maestro.Build
	r.want(200, "GET", "/api/builds/latest?repository="+url.QueryEscape("https://github.com/dotnet/arcade")+"&channelId="+itoa(ch.ID), nil, &latest)
	assert.Equal(t, b2.ID, latest.ID)
	require.Len(t, latest.Assets, 1)
	assert.Equal(t, "3.0.0", latest.Assets[0].Version)
	r.wantError(400, "GET", "/api/builds/latest", nil)
	assert.Contains(t, r.wantError(400, "GET", "/api/builds/latest?repository="+url.QueryEscape("https://github.com/dotnet/arcade")+"&channelId=99", nil), "channelId")
	assert.Contains(t, r.wantError(404, "GET", "/api/builds/latest?repository="+url.QueryEscape("https://github.com/dotnet/arcade")+"&channelId="+itoa(other.ID), nil), "no build")
	r.wantError(404, "GET", "/api/builds/latest?repository="+url.QueryEscape("https://github.com/dotnet/runtime"), nil)
	var one maestro.Build
	r.want(200, "GET", "/api/builds/"+itoa(b1.ID), nil, &one)
	assert.Equal(t, b1.Commit, one.Commit)
	r.wantError(404, "GET", "/api/builds/999", nil)
	r.wantError(400, "GET", "/api/builds/0", nil)
	// A speculative build (an id of its own range) answers as `maestro
	// build show` shows it, with its pull request (TestAPIBuildOfAnyID has
	// the promoted ones).
	pr := &maestro.BuildPullRequest{URL: "https://github.com/dotnet/arcade/pull/7", HeadCommit: "4444444444444444444444444444444444444444", TargetBranch: "main"}
	res, err := reg.PublishSpeculative(t.Context(), maestro.Build{Repository: "https://github.com/dotnet/arcade", Branch: "refs/pull/7/merge",
		Commit: "3333333333333333333333333333333333333333", DateProduced: time.Date(2026, 12, 5, 11, 0, 0, 0, time.UTC)},
		registry.SpeculativeOptions{PullRequest: pr})
	require.NoError(t, err)
	var spec maestro.Build
	r.want(200, "GET", "/api/builds/"+itoa(res.Build.ID), nil, &spec)
	assert.True(t, spec.Speculative)
	assert.Equal(t, pr, spec.PullRequest)
	assert.Equal(t, []maestro.Channel{{ID: registry.SpeculativeTwinID(ch.ID), Name: ".NET 10 (speculative)", Classification: "product"}}, spec.Channels)
	r.wantError(404, "GET", "/api/builds/"+itoa(res.Build.ID+1), nil)
	var matches []registry.AssetMatch
	r.want(200, "GET", "/api/assets?name=microsoft.dotnet.arcade.sdk&version=2.0.0", nil, &matches)
	require.Len(t, matches, 1)
	assert.Equal(t, b1.ID, matches[0].Build.ID)
	r.wantError(400, "GET", "/api/assets", nil)

	// Subscriptions.
	target := localTarget(t)
	newSub := map[string]any{"channelId": ch.ID, "sourceRepository": "https://github.com/dotnet/arcade", "targetRepository": target, "targetBranch": "main",
		"policy": map[string]any{"updateFrequency": "everyBuild", "mergePolicies": []map[string]any{{"name": "Standard"}}}}
	var sub maestro.Subscription
	w.want(201, "POST", "/api/subscriptions", newSub, &sub)
	assert.True(t, sub.Enabled)
	assert.Equal(t, maestro.FrequencyEveryBuild, sub.Policy.UpdateFrequency)
	assert.NotEmpty(t, sub.ID)
	w.wantError(409, "POST", "/api/subscriptions", newSub)
	assert.Contains(t, w.wantError(400, "POST", "/api/subscriptions", map[string]any{"id": "mine", "channelId": ch.ID}), "id cannot be set")
	w.wantError(400, "POST", "/api/subscriptions", map[string]any{"channelId": ch.ID, "sourceRepository": "https://github.com/dotnet/arcade", "targetRepository": target,
		"targetBranch": "release", "policy": map[string]any{"updateFrequency": "hourly"}})
	w.wantError(404, "POST", "/api/subscriptions", map[string]any{"channelId": 99, "sourceRepository": "https://github.com/dotnet/arcade", "targetRepository": target, "targetBranch": "release"})
	var subs []maestro.Subscription
	r.want(200, "GET", "/api/subscriptions?channelId="+itoa(ch.ID)+"&targetBranch=main", nil, &subs)
	assert.Equal(t, []maestro.Subscription{sub}, subs)
	r.want(200, "GET", "/api/subscriptions?channelId="+itoa(other.ID), nil, &subs)
	assert.Empty(t, subs)
	r.wantError(400, "GET", "/api/subscriptions?channelId=first", nil)
	var shown struct {
		maestro.Subscription
		FlowState registry.FlowState `json:"flowState"`
	}
	r.want(200, "GET", "/api/subscriptions/"+sub.ID, nil, &shown)
	assert.Equal(t, sub, shown.Subscription)
	assert.Equal(t, sub.ID, shown.FlowState.SubscriptionID)
	r.wantError(404, "GET", "/api/subscriptions/00000000-0000-4000-8000-000000000000", nil)
	var upd maestro.Subscription
	w.want(200, "PATCH", "/api/subscriptions/"+sub.ID, map[string]any{"policy": map[string]any{"batchable": false, "updateFrequency": "everyDay"}, "excludedAssets": []string{"*.Internal"}}, &upd)
	assert.Equal(t, maestro.FrequencyEveryDay, upd.Policy.UpdateFrequency)
	assert.Equal(t, sub.Policy.MergePolicies, upd.Policy.MergePolicies, "a merge patch keeps the fields it does not name")
	assert.Equal(t, []string{"*.Internal"}, upd.ExcludedAssets)
	w.wantError(400, "PATCH", "/api/subscriptions/"+sub.ID, map[string]any{"policy": map[string]any{"updateFrequncy": "everyDay"}})
	w.wantError(400, "PATCH", "/api/subscriptions/"+sub.ID, map[string]any{"lastAppliedBuildId": 1})
	w.wantError(404, "PATCH", "/api/subscriptions/00000000-0000-4000-8000-000000000000", map[string]any{"enabled": false})
	assert.Contains(t, w.wantError(400, "PATCH", "/api/subscriptions/"+sub.ID, map[string]any{"targetBranch": "release"}), "cannot change after creation")
	t.Run("content types", func(t *testing.T) {
		for _, tt := range []struct {
			method, path, contentType string
			code                      int
		}{
			{"PATCH", "/api/subscriptions/" + sub.ID, "application/merge-patch+json", 200},
			{"PATCH", "/api/subscriptions/" + sub.ID, "application/json; charset=utf-8", 200},
			{"PATCH", "/api/subscriptions/" + sub.ID, "text/plain", 415},
			{"PATCH", "/api/subscriptions/" + sub.ID, "", 415},
			{"POST", "/api/channels", "application/merge-patch+json", 415},
			{"POST", "/api/channels", "application/x-www-form-urlencoded", 415},
			{"POST", "/api/channels", "", 415},
			{"POST", "/api/channels", "application/jsonp", 415},
			{"PUT", "/api/repository-policy?repository=x&branch=main", "text/plain", 415},
			{"DELETE", "/api/subscriptions/" + sub.ID, "text/plain", 415},
			{"POST", "/api/subscriptions/" + sub.ID + "/trigger", "text/plain", 415},
		} {
			body := `{"enabled": true}`
			if tt.method == "POST" {
				body = `{"name": "by content type"}`
			}
			req, err := http.NewRequest(tt.method, base+tt.path, strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+writeToken)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			out, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			assert.Equal(t, tt.code, resp.StatusCode, "%s %s as %q: %s", tt.method, tt.path, tt.contentType, out)
			if tt.code == http.StatusUnsupportedMediaType {
				assert.Contains(t, string(out), "send the request body as application/json")
			}
			route, _, _ := strings.Cut(tt.path, "?")
			op, err := doc.Match(tt.method, route)
			require.NoError(t, err)
			assert.NoError(t, op.CheckResponse(resp.StatusCode, resp.Header, out), "%s %s answered %d: %s", tt.method, tt.path, resp.StatusCode, out)
			cov.add(op.String(), resp.StatusCode)
		}
	})
	w.want(200, "PATCH", "/api/subscriptions/"+sub.ID, map[string]any{"policy": map[string]any{"updateFrequency": "everyBuild"}}, &upd)
	var unchanged struct {
		maestro.Subscription
		FlowState registry.FlowState `json:"flowState"`
	}
	r.want(200, "GET", "/api/subscriptions/"+sub.ID, nil, &unchanged)
	assert.Equal(t, upd, unchanged.Subscription, "the refused patches wrote nothing")

	// Trigger: the newest build of the channel flows to the local target.
	var outcome maestro.FlowOutcome
	w.want(200, "POST", "/api/subscriptions/"+sub.ID+"/trigger", nil, &outcome)
	assert.Equal(t, sub.ID, outcome.SubscriptionID)
	assert.Equal(t, b2.ID, outcome.BuildID)
	assert.Equal(t, maestro.ResultUpdated, outcome.Result, outcome.Message)
	w.want(200, "PATCH", "/api/subscriptions/"+sub.ID, map[string]any{"enabled": false}, &upd)
	assert.Contains(t, w.wantError(409, "POST", "/api/subscriptions/"+sub.ID+"/trigger", nil), "disabled")
	w.want(200, "PATCH", "/api/subscriptions/"+sub.ID, map[string]any{"enabled": true}, &upd)
	w.wantError(400, "POST", "/api/subscriptions/"+sub.ID+"/trigger", map[string]any{"buildId": -1})
	w.wantError(404, "POST", "/api/subscriptions/00000000-0000-4000-8000-000000000000/trigger", map[string]any{})

	// Flow history, explain, health, tracked pull requests.
	var history []maestro.FlowOutcome
	r.want(200, "GET", "/api/flow/history?subscriptionId="+sub.ID, nil, &history)
	require.Len(t, history, 1)
	assert.Equal(t, outcome.Result, history[0].Result)
	r.wantError(400, "GET", "/api/flow/history", nil)
	var ex struct {
		Build    maestro.Build `json:"build"`
		Channels []struct {
			Subscriptions []struct {
				Action   string                `json:"action"`
				Outcomes []maestro.FlowOutcome `json:"outcomes"`
			} `json:"subscriptions"`
		} `json:"channels"`
	}
	r.want(200, "GET", "/api/flow/explain/"+itoa(b2.ID), nil, &ex)
	assert.Equal(t, b2.ID, ex.Build.ID)
	require.Len(t, ex.Channels, 1)
	require.Len(t, ex.Channels[0].Subscriptions, 1)
	assert.Len(t, ex.Channels[0].Subscriptions[0].Outcomes, 1)
	r.wantError(404, "GET", "/api/flow/explain/999", nil)
	var problems []map[string]any
	r.want(200, "GET", "/api/flow/health?failures=2&prAge=24h", nil, &problems)
	r.wantError(400, "GET", "/api/flow/health?failures=0", nil)
	r.wantError(400, "GET", "/api/flow/health?prAge=soon", nil)
	var prs []server.TrackedPullRequest
	r.want(200, "GET", "/api/pull-requests", nil, &prs)
	require.Len(t, prs, 1, "the trigger opened a pull request on the local target")
	prs0 := prs[0]
	assert.Equal(t, sub.ID, prs[0].Key)
	assert.Equal(t, maestro.PullRequestOpen, prs[0].PullRequest.State)
	require.Len(t, prs[0].Updates, 1)
	assert.Equal(t, b2.ID, prs[0].Updates[0].BuildID)
	r.want(200, "GET", "/api/pull-requests?repository="+url.QueryEscape("https://github.com/dotnet/runtime"), nil, &prs)
	assert.Empty(t, prs)
	r.wantError(400, "GET", "/api/pull-requests?state=open", nil)

	// The status site's twins: subscriptions with their state, graphs.
	var statuses []server.SubscriptionStatus
	r.want(200, "GET", "/api/flow/subscriptions?channelId="+itoa(ch.ID), nil, &statuses)
	require.Len(t, statuses, 1)
	assert.Equal(t, ".NET 10", statuses[0].Channel)
	assert.Equal(t, maestro.ResultUpdated, statuses[0].FlowState.LastResult)
	assert.False(t, statuses[0].Failing)
	require.NotNil(t, statuses[0].PullRequest, "the pull request the trigger opened")
	assert.Equal(t, prs0.PullRequest.URL, statuses[0].PullRequest.URL)
	r.want(200, "GET", "/api/flow/subscriptions?state=failing", nil, &statuses)
	assert.Empty(t, statuses)
	r.wantError(400, "GET", "/api/flow/subscriptions?state=broken", nil)
	r.wantError(400, "GET", "/api/flow/subscriptions?channelId=99", nil)
	var bg struct {
		Root  int `json:"root"`
		Nodes []struct {
			ID int `json:"id"`
		} `json:"nodes"`
	}
	r.want(200, "GET", "/api/builds/"+itoa(b2.ID)+"/graph", nil, &bg)
	assert.Equal(t, b2.ID, bg.Root)
	require.Len(t, bg.Nodes, 1)
	r.wantError(404, "GET", "/api/builds/999/graph", nil)
	r.wantError(400, "GET", "/api/builds/"+itoa(b2.ID)+"/graph?depth=-1", nil)
	var fg struct {
		Flows []struct {
			SubscriptionID string `json:"subscriptionId"`
		} `json:"flows"`
	}
	r.want(200, "GET", "/api/flow/graph?channelId="+itoa(ch.ID), nil, &fg)
	require.Len(t, fg.Flows, 1)
	assert.Equal(t, sub.ID, fg.Flows[0].SubscriptionID)
	r.wantError(400, "GET", "/api/flow/graph?channelId=99", nil)

	// Repository policies.
	policy := map[string]any{"repository": "https://github.com/dotnet/runtime", "branch": "main", "mergePolicies": []map[string]any{{"name": "Standard"}}, "maxOpenPullRequests": 3}
	var p maestro.RepositoryBranchPolicy
	w.want(200, "PUT", "/api/repository-policy", policy, &p)
	assert.Equal(t, maestro.RepositoryBranchPolicy{Repository: "https://github.com/dotnet/runtime", Branch: "main", MergePolicies: []maestro.MergePolicy{{Name: "Standard"}},
		AutoMerge: true, MergeMethod: "squash", MaxOpenPullRequests: 3}, p)
	w.wantError(400, "PUT", "/api/repository-policy", map[string]any{"repository": "https://github.com/dotnet/runtime", "branch": "main", "mergePolicies": []map[string]any{{"name": "Whatever"}}})
	w.wantError(400, "PUT", "/api/repository-policy", map[string]any{"repository": "https://github.com/dotnet/runtime", "branch": "main", "maxOpenPullRequests": -1})
	var gotP maestro.RepositoryBranchPolicy
	r.want(200, "GET", "/api/repository-policy?repository="+url.QueryEscape("https://github.com/dotnet/runtime")+"&branch=main", nil, &gotP)
	assert.Equal(t, p, gotP, "the refused policies wrote nothing")
	r.wantError(400, "GET", "/api/repository-policy?repository=x", nil)
	r.wantError(404, "GET", "/api/repository-policy?repository="+url.QueryEscape("https://github.com/dotnet/runtime")+"&branch=release", nil)
	var ps []maestro.RepositoryBranchPolicy
	r.want(200, "GET", "/api/repository-policies", nil, &ps)
	assert.Equal(t, []maestro.RepositoryBranchPolicy{p}, ps)
	r.wantError(400, "GET", "/api/repository-policies?repository=x", nil)
	w.want(204, "DELETE", "/api/repository-policy?repository="+url.QueryEscape("https://github.com/dotnet/runtime")+"&branch=main", nil, nil)
	w.wantError(404, "DELETE", "/api/repository-policy?repository="+url.QueryEscape("https://github.com/dotnet/runtime")+"&branch=main", nil)

	// Deletes.
	assert.Contains(t, w.wantError(409, "DELETE", "/api/channels/"+itoa(ch.ID), nil), "delete that first")
	w.want(204, "DELETE", "/api/subscriptions/"+sub.ID, nil, nil)
	w.wantError(404, "DELETE", "/api/subscriptions/"+sub.ID, nil)
	w.want(204, "DELETE", "/api/default-channels/"+itoa(dc.ID), nil, nil)
	w.wantError(404, "DELETE", "/api/default-channels/"+itoa(dc.ID), nil)
	w.want(204, "DELETE", "/api/channels/"+itoa(other.ID), nil, nil)
	w.wantError(404, "DELETE", "/api/channels/"+itoa(other.ID), nil)

	// Speculative product build reports, with the mainline times worked
	// out from the registry: arcade's change is build b1's commit.
	arcade := "https://github.com/dotnet/arcade"
	start := time.Date(2026, 12, 5, 15, 0, 0, 0, time.UTC)
	pb := maestro.ProductBuild{ID: "20261205T150000.000Z-1a2b3c4d", Channel: ch, Inject: []string{arcade + "@" + b1.Commit},
		Result: maestro.SpeculativeSucceeded, Started: start, Finished: start.Add(2 * time.Second), WallSeconds: 2, Platform: "local",
		Repositories: []maestro.ProductBuildEntry{{Repository: arcade, Branch: "main", Commit: b1.Commit, Injected: true, Upstream: []string{},
			Result: maestro.SpeculativeSucceeded, BuildID: 1_000_000_001, Started: start, Finished: start.Add(2 * time.Second), Seconds: 2}},
		CriticalPath: []string{arcade}, CriticalPathSeconds: 2}
	require.NoError(t, reg.SaveProductBuild(t.Context(), pb))
	var pbs []maestro.ProductBuild
	r.want(200, "GET", "/api/speculative/builds?limit=5", nil, &pbs)
	require.Len(t, pbs, 1)
	assert.Equal(t, pb, pbs[0], "as kept")
	r.wantError(400, "GET", "/api/speculative/builds?limit=0", nil)
	var report maestro.ProductBuild
	r.want(200, "GET", "/api/speculative/builds/"+pb.ID, nil, &report)
	require.NotNil(t, report.MainlineSeconds)
	assert.Equal(t, b1.ID, report.Repositories[0].MainlineBuildID, "the injected commit's official build")
	assert.Zero(t, *report.MainlineSeconds)
	r.wantError(404, "GET", "/api/speculative/builds/20261205T160000.000Z-00000000", nil)
	r.wantError(400, "GET", "/api/speculative/builds/"+pb.ID+"?depth=1", nil)
	// The trees of speculative pull requests the flow service built.
	st := seedSpecTrees(t, reg, "")
	var tree []service.SpeculativeNode
	r.want(200, "GET", "/api/speculative/pull-requests?pullRequest="+url.QueryEscape(st.rootA), nil, &tree)
	require.Len(t, tree, 3)
	assert.Equal(t, st.a[1].URL, tree[0].PullRequestURL, "root first")
	r.want(200, "GET", "/api/speculative/pull-requests", nil, &tree)
	assert.Len(t, tree, 5, "every tree")
	r.wantError(400, "GET", "/api/speculative/pull-requests?pullRequest=nonsense", nil)
	// A route the document does not have: a JSON 404 too.
	req, err := http.NewRequest("POST", base+"/api/builds", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+writeToken)
	code, body := send(t, req)
	assert.Equal(t, http.StatusNotFound, code)
	assert.JSONEq(t, `{"message": "no such API route; /api/openapi.json lists the routes"}`, body)

	// Every operation answered a success and an error of its own.
	for _, op := range doc.Operations() {
		if op.Path == "/api/openapi.json" {
			continue
		}
		seen := cov.seen[op.String()]
		var ok, bad bool
		for code := range seen {
			ok = ok || code < 300
			bad = bad || code == 400 || code == 404 || code == 409
		}
		assert.True(t, ok, "%s answered no success (saw %v)", op, seen)
		assert.True(t, bad, "%s answered no 400, 404 or 409 (saw %v)", op, seen)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
