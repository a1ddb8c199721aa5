package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/server"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/speculative"
	azdodouble "github.com/maestroplusplus/maestro/test/azdo"
)

const hookSecret = "azdo-hook-s3cret"

// azdoReplica is a running server with the Azure DevOps route.
type azdoReplica struct {
	replica
	srv *server.Server
}

// startAzdo runs a server with the Azure DevOps route on reg until the test
// ends; env is the wiring's environment (the Azure DevOps token and hosts).
func startAzdo(t *testing.T, reg *registry.Registry, env map[string]string) azdoReplica {
	t.Helper()
	getenv := func(k string) string {
		if k == server.EnvAzureDevOpsHookSecret {
			return hookSecret
		}
		return env[k]
	}
	cfg, err := server.LoadConfig("", getenv, server.Flags{Listen: "127.0.0.1:0", AzureDevOpsHooks: new(true), Workers: 2})
	require.NoError(t, err)
	logs := &syncBuffer{}
	w := wire.Env{Getenv: func(k string) string { return env[k] }, Now: time.Now}
	srv, err := server.New(cfg, w.Service(reg), slog.New(slog.NewTextHandler(logs, nil)), server.WithAzureDevOps(w))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
		assert.NotContains(t, logs.String(), hookSecret, "no secret in the logs")
		if tok := env["MAESTRO_AZDO_TOKEN"]; tok != "" {
			assert.NotContains(t, logs.String(), tok, "no token in the logs")
		}
	})
	return azdoReplica{replica: replica{url: "http://" + ln.Addr().String(), log: logs}, srv: srv}
}

// hook posts a service hook payload with Basic authentication (password
// secret) and returns the status and body.
func hook(t *testing.T, url string, payload []byte, auth func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/webhooks/azure-devops", bytes.NewReader(payload))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if auth == nil {
		auth = func(r *http.Request) { r.SetBasicAuth("maestro", hookSecret) }
	}
	auth(req)
	return send(t, req)
}

// hooksEnv is an Azure DevOps double with an official pipeline whose build
// of main succeeded with an AssetManifests artifact.
type hooksEnv struct {
	s       *azdodouble.Server
	project *azdodouble.Project
	repo    *azdodouble.Repository
	pl      *azdodouble.Pipeline
	env     map[string]string
}

const hooksPAT = "azdo-pat-0123456789abcdef"

func newHooksEnv(t *testing.T) *hooksEnv {
	t.Helper()
	s := azdodouble.NewServer(t, azdodouble.WithPAT(hooksPAT))
	p := s.AddProject("internal")
	r := s.AddRepository(p, "dotnet-arcade")
	r.Commit("main", map[string][]byte{"README.md": []byte("# arcade\n")}, "init")
	pl := s.AddYAMLPipeline(p, azdodouble.YAMLPipeline{Name: "arcade-official", Repository: r, Path: "/azure-pipelines.yml"})
	return &hooksEnv{s: s, project: p, repo: r, pl: pl, env: map[string]string{
		"MAESTRO_AZDO_TOKEN": hooksPAT, "MAESTRO_AZDO_SERVER_URLS": s.OrganizationURL(), "MAESTRO_ALLOW_HTTP_LOOPBACK": "true",
	}}
}

// manifestXML is an Arcade asset manifest of a build of dotnet/arcade that
// leaves the Azure DevOps attributes to the pipeline's variables.
func manifestXML(commit, pkg string) []byte {
	return fmt.Appendf(nil, `<?xml version="1.0" encoding="utf-8"?>
<Build PublishingVersion="3" Name="https://github.com/dotnet/arcade" BuildId="20261205.1" Branch="refs/heads/main" Commit="%s" IsStable="false">
  <Package Id="%s" Version="10.0.0-beta.26205.1" NonShipping="false" />
</Build>
`, commit, pkg)
}

// officialBuild adds a build of main with result and two manifests.
func (e *hooksEnv) officialBuild(result build.BuildResult) int {
	head := e.repo.Head("main")
	id := e.s.AddBuild(e.pl, "main", head)
	e.s.AddArtifact(id, "AssetManifests", map[string][]byte{
		"Windows_NT-AnyCPU.xml": manifestXML(head, "Microsoft.DotNet.Arcade.Sdk"),
		"Linux-x64.xml":         manifestXML(head, "Microsoft.DotNet.Helix.Sdk"),
	})
	e.s.SetBuildStatus(id, build.BuildStatusValues.Completed, result)
	return id
}

// waitAzdo waits until the Azure DevOps event is processed and returns it.
func waitAzdo(t *testing.T, reg *registry.Registry, payload []byte) registry.Event {
	t.Helper()
	return waitAzdoUntil(t, reg, payload, func(ev registry.Event) bool { return ev.State == registry.EventDone })
}

// waitAzdoUntil waits until the recorded event of the service hook
// payload is as ok wants it, and returns it.
func waitAzdoUntil(t *testing.T, reg *registry.Registry, payload []byte, ok func(registry.Event) bool) registry.Event {
	t.Helper()
	var env struct{ ID string }
	require.NoError(t, json.Unmarshal(payload, &env))
	var ev registry.Event
	require.Eventually(t, func() bool {
		var err error
		ev, _, err = reg.Event(t.Context(), "azdo", env.ID)
		return err == nil && ok(ev)
	}, 20*time.Second, 10*time.Millisecond)
	return ev
}

func TestAzureDevOpsConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "serve.yaml")
	require.NoError(t, os.WriteFile(file, []byte("azureDevOps:\n  hooks: true\n  hookSecret: from-file\n"), 0o600))
	cfg, err := server.LoadConfig(file, envOf(nil), server.Flags{})
	require.NoError(t, err)
	assert.Equal(t, server.AzureDevOpsConfig{Hooks: true, HookSecret: "from-file"}, cfg.AzureDevOps)
	assert.Equal(t, []string{"POST /webhooks/azure-devops"}, cfg.Routes())
	assert.NotContains(t, cfg.String(), "from-file")

	cfg, err = server.LoadConfig(file, envOf(map[string]string{server.EnvAzureDevOpsHookSecret: "from-env"}), server.Flags{})
	require.NoError(t, err)
	assert.Equal(t, "from-env", cfg.AzureDevOps.HookSecret, "the environment overrides the file")

	cfg, err = server.LoadConfig(file, envOf(nil), server.Flags{AzureDevOpsHooks: new(false)})
	require.NoError(t, err)
	assert.False(t, cfg.AzureDevOps.Hooks, "the flag overrides the file")
	assert.Empty(t, cfg.Routes())

	_, err = server.LoadConfig("", envOf(nil), server.Flags{AzureDevOpsHooks: new(true)})
	assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
	assert.ErrorContains(t, err, "set MAESTRO_AZDO_HOOK_SECRET (or azureDevOps.hookSecret in the configuration file)")

	require.NoError(t, os.WriteFile(file, []byte("azureDevOps:\n  hooks: true\n  secret: x\n"), 0o600))
	_, err = server.LoadConfig(file, envOf(nil), server.Flags{})
	assert.ErrorContains(t, err, "field secret not found", "unknown keys are errors")
}

// TestAzureDevOpsAuth: Basic authentication with the secret as password
// (any user name) or the secret header is accepted; a wrong or missing
// credential is 401, counted, and records nothing.
func TestAzureDevOpsAuth(t *testing.T) {
	reg := newRegistry(t)
	e := newHooksEnv(t)
	a := startAzdo(t, reg, e.env)
	id := e.officialBuild(build.BuildResultValues.Failed)
	tests := []struct {
		name string
		auth func(*http.Request)
	}{
		{"missing", func(*http.Request) {}},
		{"wrong password", func(r *http.Request) { r.SetBasicAuth("maestro", "not-the-secret") }},
		{"secret as user name", func(r *http.Request) { r.SetBasicAuth(hookSecret, "") }},
		{"prefix of the secret", func(r *http.Request) { r.SetBasicAuth("maestro", hookSecret[:5]) }},
		{"wrong header", func(r *http.Request) { r.Header.Set(server.HeaderHookSecret, "nope") }},
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+hookSecret) }},
		{"basic not base64", func(r *http.Request) { r.Header.Set("Authorization", "Basic !!!") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := hook(t, a.url, e.s.ServiceHookEvent("build.complete", id), tt.auth)
			assert.Equal(t, http.StatusUnauthorized, code, body)
			assert.Contains(t, body, "Basic authentication")
			assert.Empty(t, keys(t, reg), "nothing recorded")
		})
	}
	assert.Equal(t, len(tests), a.srv.EventsReceived()[server.EventCount{Source: "azdo", Result: "unauthorized"}])
	resp, err := http.Get(a.url + "/metrics")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(metrics), fmt.Sprintf(`maestro_events_received_total{result="rejected",source="azdo",type="unknown"} %d`, len(tests)))

	for _, auth := range []func(*http.Request){
		func(r *http.Request) { r.SetBasicAuth("anyone", hookSecret) },
		func(r *http.Request) { r.Header.Set(server.HeaderHookSecret, hookSecret) },
	} {
		payload := e.s.ServiceHookEvent("build.complete", id)
		code, body := hook(t, a.url, payload, auth)
		assert.Equal(t, http.StatusAccepted, code, body)
		ev := waitAzdo(t, reg, payload)
		assert.Equal(t, fmt.Sprintf("build %d of %s failed: nothing to publish", id, e.s.OrganizationURL()), ev.Result)
	}
	assert.Equal(t, 2, a.srv.EventsReceived()[server.EventCount{Source: "azdo", Type: "build.complete", Result: "accepted"}])
}

// TestAzureDevOpsPayloadValidation: a payload that is not a service hook
// event, or whose resource lacks what the event is acted on by, is 400 and
// records nothing.
func TestAzureDevOpsPayloadValidation(t *testing.T) {
	reg := newRegistry(t)
	e := newHooksEnv(t)
	a := startAzdo(t, reg, e.env)
	id := e.officialBuild(build.BuildResultValues.Succeeded)
	good := e.s.ServiceHookEvent("build.complete", id)
	edit := func(change func(m map[string]any)) []byte {
		var m map[string]any
		require.NoError(t, json.Unmarshal(good, &m))
		change(m)
		data, err := json.Marshal(m)
		require.NoError(t, err)
		return data
	}
	resource := func(m map[string]any) map[string]any { return m["resource"].(map[string]any) }
	tests := []struct {
		name    string
		payload []byte
		wantErr string
	}{
		{"not JSON", []byte("{"), "not a service hook event"},
		{"an array", []byte("[]"), "not a service hook event"},
		{"no event type", edit(func(m map[string]any) { delete(m, "eventType") }), "no eventType"},
		{"no id", edit(func(m map[string]any) { delete(m, "id") }), `is not the event's GUID`},
		{"id not a GUID", edit(func(m map[string]any) { m["id"] = "../../x" }), "is not the event's GUID"},
		{"no resource", edit(func(m map[string]any) { delete(m, "resource") }), "resource details to send to All"},
		{"resource not a build", edit(func(m map[string]any) { m["resource"] = "build" }), "resource is not a build"},
		{"no build id", edit(func(m map[string]any) { delete(resource(m), "id") }), "resource.id is missing"},
		{"no definition", edit(func(m map[string]any) { delete(resource(m), "definition") }), "resource.definition.id is missing"},
		{"no project", edit(func(m map[string]any) { delete(resource(m), "project") }), "resource.project is missing"},
		{"no containers", edit(func(m map[string]any) { delete(m, "resourceContainers") }), "resourceContainers.collection.baseUrl"},
		{"run without run", edit(func(m map[string]any) {
			m["eventType"] = "ms.vss-pipelines.run-state-changed-event"
			m["resource"] = map[string]any{"pipelineId": 3}
		}), "resource.run is missing"},
		{"pull request without id", edit(func(m map[string]any) {
			m["eventType"] = "git.pullrequest.updated"
			m["resource"] = map[string]any{"repository": map[string]any{"name": "r"}}
		}), "resource.pullRequestId is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := hook(t, a.url, tt.payload, nil)
			assert.Equal(t, http.StatusBadRequest, code, body)
			assert.Contains(t, body, tt.wantErr)
			assert.Empty(t, keys(t, reg), "nothing recorded")
		})
	}
	code, body := hook(t, a.url, good, nil)
	assert.Equal(t, http.StatusAccepted, code, "the untouched payload is accepted: %s", body)
}

// TestAzureDevOpsUnknownEventAcknowledged: an event type maestro does not
// act on is answered 200, counted by type, and not recorded.
func TestAzureDevOpsUnknownEventAcknowledged(t *testing.T) {
	reg := newRegistry(t)
	e := newHooksEnv(t)
	a := startAzdo(t, reg, e.env)
	for range 2 {
		payload := fmt.Appendf(nil, `{"id":%q,"eventType":"workitem.created","publisherId":"tfs","resource":{"id":5}}`, uuid.NewString())
		code, body := hook(t, a.url, payload, nil)
		assert.Equal(t, http.StatusOK, code, body)
		assert.Contains(t, body, `event \"workitem.created\" acknowledged`)
	}
	assert.Empty(t, keys(t, reg))
	assert.Equal(t, map[server.EventCount]int{{Source: "azdo", Type: "workitem.created", Result: "ignored"}: 2}, a.srv.EventsReceived())
	resp, err := http.Get(a.url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	assert.Contains(t, string(metrics), `maestro_events_received_total{result="ignored",source="azdo",type="workitem.created"} 2`)
}

// TestAzureDevOpsPublishTrigger: a succeeded build of an opted-in pipeline
// is published from its AssetManifests artifact with the identity the
// pipeline's publish task would give it, once: the same event again is a
// duplicate, a second event (run-state-changed) for the same build finds
// it recorded; a build of a pipeline not opted in, a failed build and a
// build without the artifact are not published.
func TestAzureDevOpsPublishTrigger(t *testing.T) {
	reg := newRegistry(t)
	e := newHooksEnv(t)
	a, b := startAzdo(t, reg, e.env), startAzdo(t, reg, e.env)
	id := e.officialBuild(build.BuildResultValues.PartiallySucceeded)

	payload := e.s.ServiceHookEvent("build.complete", id)
	code, body := hook(t, a.url, payload, nil)
	require.Equal(t, http.StatusAccepted, code, body)
	ev := waitAzdo(t, reg, payload)
	assert.Equal(t, fmt.Sprintf("build %d of %s: definition %d is not opted in to the publish trigger (maestro publish-trigger set)", id, e.s.OrganizationURL(), e.pl.ID), ev.Result)

	_, err := reg.SetPublishTrigger(t.Context(), maestro.PublishTrigger{Organization: e.s.OrganizationURL(), Project: "Internal", DefinitionID: e.pl.ID}, nil)
	require.NoError(t, err)
	ch, err := reg.AddChannel(t.Context(), ".NET Eng - Latest", "")
	require.NoError(t, err)
	_, err = reg.AddDefaultChannel(t.Context(), maestro.DefaultChannel{Repository: "https://github.com/dotnet/arcade", Branch: "main", ChannelID: ch.ID, Enabled: true})
	require.NoError(t, err)

	payload = e.s.ServiceHookEvent("build.complete", id)
	// Sent to both replicas at once, twice each: processed once.
	var wg sync.WaitGroup
	codes := make(chan int, 4)
	for i := range 4 {
		url := []string{a.url, b.url}[i%2]
		wg.Go(func() {
			code, _ := hook(t, url, payload, nil)
			codes <- code
		})
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	assert.Equal(t, map[int]int{http.StatusAccepted: 1, http.StatusOK: 3}, count)
	ev = waitAzdo(t, reg, payload)
	assert.Equal(t, 1, ev.Attempts)
	assert.Regexp(t, fmt.Sprintf(`^published build %d of %s as BAR build \d+ \(channels \[%d\]\)$`, id, e.s.OrganizationURL(), ch.ID), ev.Result)

	builds, err := reg.Builds(t.Context(), registry.BuildFilter{})
	require.NoError(t, err)
	require.Len(t, builds, 1)
	got := builds[0]
	assert.Equal(t, id, got.AzureDevOpsBuildID)
	assert.Equal(t, e.pl.ID, got.AzureDevOpsBuildDefinitionID)
	assert.Equal(t, e.s.Organization(), got.AzureDevOpsAccount, "the account the task's SYSTEM_TEAMFOUNDATIONCOLLECTIONURI gives")
	assert.Equal(t, "internal", got.AzureDevOpsProject)
	assert.Equal(t, "https://github.com/dotnet/arcade", got.Repository)
	assert.Equal(t, "main", got.Branch)
	full, err := reg.Build(t.Context(), got.ID)
	require.NoError(t, err)
	assert.Len(t, full.Assets, 2, "both manifests merged")
	assert.Equal(t, []int{ch.ID}, channelIDs(got.Channels), "default channels")

	// The same build reported by the run event: recorded before, not again.
	payload = e.s.ServiceHookEvent("ms.vss-pipelines.run-state-changed-event", id)
	code, body = hook(t, b.url, payload, nil)
	require.Equal(t, http.StatusAccepted, code, body)
	ev = waitAzdo(t, reg, payload)
	assert.Equal(t, fmt.Sprintf("build %d of %s was recorded before as BAR build %d", id, e.s.OrganizationURL(), got.ID), ev.Result)
	builds, err = reg.Builds(t.Context(), registry.BuildFilter{})
	require.NoError(t, err)
	assert.Len(t, builds, 1, "no second record")

	failed := e.officialBuild(build.BuildResultValues.Failed)
	payload = e.s.ServiceHookEvent("build.complete", failed)
	code, _ = hook(t, a.url, payload, nil)
	require.Equal(t, http.StatusAccepted, code)
	assert.Equal(t, fmt.Sprintf("build %d of %s failed: nothing to publish", failed, e.s.OrganizationURL()), waitAzdo(t, reg, payload).Result)

	bare := e.s.AddBuild(e.pl, "main", e.repo.Head("main"))
	e.s.SetBuildStatus(bare, build.BuildStatusValues.Completed, build.BuildResultValues.Succeeded)
	payload = e.s.ServiceHookEvent("build.complete", bare)
	code, _ = hook(t, a.url, payload, nil)
	require.Equal(t, http.StatusAccepted, code)
	assert.Contains(t, waitAzdo(t, reg, payload).Result, "not published: build "+fmt.Sprint(bare))
	assert.Contains(t, waitAzdo(t, reg, payload).Result, "has no artifact AssetManifests (it has: none)")

	builds, err = reg.Builds(t.Context(), registry.BuildFilter{})
	require.NoError(t, err)
	assert.Len(t, builds, 1)
}

// TestAzureDevOpsProductBuildNotPublished: a build of an opted-in pipeline
// that `maestro speculative build --platform azure-devops` queued (its
// triggerInfo names the product build) is left to the product build, which
// records it as a speculative build: nothing official is recorded.
func TestAzureDevOpsProductBuildNotPublished(t *testing.T) {
	reg := newRegistry(t)
	e := newHooksEnv(t)
	a := startAzdo(t, reg, e.env)
	_, err := reg.SetPublishTrigger(t.Context(), maestro.PublishTrigger{Organization: e.s.OrganizationURL(), Project: "internal", DefinitionID: e.pl.ID}, nil)
	require.NoError(t, err)
	e.repo.Commit("main", map[string][]byte{"azure-pipelines.yml": []byte("steps:\n- script: ./build.sh\n")}, "pipeline")
	q, err := azdo.QueueBuild(t.Context(), azdo.Connection(e.s.OrganizationURL(), hooksPAT, false), azdo.BuildRequest{
		Project: "internal", DefinitionID: e.pl.ID, SourceBranch: "main", SourceVersion: e.repo.Head("main"),
		TriggerInfo: map[string]string{speculative.TriggerInfoProductBuild: "20261205T150000.000Z-1a2b3c4d"}})
	require.NoError(t, err)
	e.s.AddArtifact(q.ID, "AssetManifests", map[string][]byte{"a.xml": manifestXML(e.repo.Head("main"), "Microsoft.DotNet.Arcade.Sdk")})
	e.s.SetBuildStatus(q.ID, build.BuildStatusValues.Completed, build.BuildResultValues.Succeeded)
	payload := e.s.ServiceHookEvent("build.complete", q.ID)
	code, _ := hook(t, a.url, payload, nil)
	require.Equal(t, http.StatusAccepted, code)
	assert.Equal(t, fmt.Sprintf("not published: build %d of %s was queued by speculative product build 20261205T150000.000Z-1a2b3c4d, which records it", q.ID, e.s.OrganizationURL()), waitAzdo(t, reg, payload).Result)
	builds, err := reg.Builds(t.Context(), registry.BuildFilter{})
	require.NoError(t, err)
	assert.Empty(t, builds)
}

// TestAzureDevOpsInvalidManifestNotPublished: manifests that do not
// validate are refused as `maestro publish` refuses them, nothing is
// recorded and the event is finished (retrying cannot help).
func TestAzureDevOpsInvalidManifestNotPublished(t *testing.T) {
	reg := newRegistry(t)
	e := newHooksEnv(t)
	a := startAzdo(t, reg, e.env)
	_, err := reg.SetPublishTrigger(t.Context(), maestro.PublishTrigger{Organization: e.s.OrganizationURL(), Project: "internal", DefinitionID: e.pl.ID}, nil)
	require.NoError(t, err)
	id := e.s.AddBuild(e.pl, "main", e.repo.Head("main"))
	e.s.AddArtifact(id, "AssetManifests", map[string][]byte{"a.xml": []byte(`<Build PublishingVersion="99" Name="x"/>`)})
	e.s.SetBuildStatus(id, build.BuildStatusValues.Completed, build.BuildResultValues.Succeeded)
	payload := e.s.ServiceHookEvent("build.complete", id)
	code, _ := hook(t, a.url, payload, nil)
	require.Equal(t, http.StatusAccepted, code)
	ev := waitAzdo(t, reg, payload)
	assert.Contains(t, ev.Result, "not published: AssetManifests/a.xml")
	assert.Equal(t, 1, ev.Attempts)
	builds, err := reg.Builds(t.Context(), registry.BuildFilter{})
	require.NoError(t, err)
	assert.Empty(t, builds)
}

// TestAzureDevOpsPullRequestRechecks: git.pullrequest.updated re-checks the
// tracked pull request it names (here the check fails for want of a
// configured host, and is retried — the route reached the check).
func TestAzureDevOpsPullRequestRechecks(t *testing.T) {
	reg := newRegistry(t)
	e := newHooksEnv(t)
	a := startAzdo(t, reg, map[string]string{})
	repoURL := e.s.OrganizationURL() + "/internal/_git/dotnet-arcade"
	pr := maestro.PullRequest{Repository: repoURL, Number: 12, BaseBranch: "main", HeadBranch: "darc-main-x", State: maestro.PullRequestOpen}
	_, err := reg.Track(t.Context(), repoURL, "main", "batched", maestro.TrackedPullRequest{PullRequest: pr, HeadCommit: "abc"}, "")
	require.NoError(t, err)
	payload := fmt.Appendf(nil, `{"id":%q,"eventType":"git.pullrequest.updated","publisherId":"tfs","resourceVersion":"1.0",
"resource":{"pullRequestId":12,"status":"active","repository":{"id":"%s","name":"dotnet-arcade","project":{"id":"%s","name":"internal"},"remoteUrl":"%s"},
"lastMergeSourceCommit":{"commitId":"abc"}},
"resourceContainers":{"collection":{"id":"c","baseUrl":"%s/"},"account":{"id":"a","baseUrl":"%s/"},"project":{"id":"%s"}}}`,
		uuid.NewString(), uuid.NewString(), e.project.ID, e.repo.RemoteURL(), e.s.OrganizationURL(), e.s.OrganizationURL(), e.project.ID)
	code, body := hook(t, a.url, payload, nil)
	require.Equal(t, http.StatusAccepted, code, body)
	ev := waitAzdoUntil(t, reg, payload, func(ev registry.Event) bool { return ev.LastError != "" })
	assert.Contains(t, ev.LastError, "check pull request #12 of "+repoURL)
	assert.True(t, strings.Contains(a.log.String(), "event failed; trying again"))
}

func channelIDs(cs []maestro.Channel) []int {
	var out []int
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// TestAzureDevOpsOversizedPayloadCounted: an authenticated delivery larger
// than 25 MB is refused with 413, recorded nowhere, and counted as invalid
// in /metrics like every other delivery the route refuses.
func TestAzureDevOpsOversizedPayloadCounted(t *testing.T) {
	reg := newRegistry(t)
	e := newHooksEnv(t)
	a := startAzdo(t, reg, e.env)
	big := append([]byte(`{"id":"`+uuid.NewString()+`","eventType":"build.complete","pad":"`), bytes.Repeat([]byte("x"), 25<<20)...)
	big = append(big, `"}`...)
	code, body := hook(t, a.url, big, nil)
	assert.Equal(t, http.StatusRequestEntityTooLarge, code, body)
	assert.Contains(t, body, "larger than 25 MB")
	assert.Empty(t, keys(t, reg), "nothing recorded")
	assert.Equal(t, map[server.EventCount]int{{Source: "azdo", Type: "", Result: "invalid"}: 1}, a.srv.EventsReceived())
	fams := scrape(t, a.url)
	assert.InDelta(t, 1, counter(fams, "maestro_events_received_total", map[string]string{"source": "azdo", "result": server.EventInvalid}), 0)
}
