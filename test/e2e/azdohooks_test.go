package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	azdodouble "github.com/maestroplusplus/maestro/test/azdo"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

const azdoHookSecret = "e2e-azdo-hook-secret"

// publishTriggerEnv is a flow from dotnet/arcade into dotnet/runtime on the
// GitHub double, and Arcade's official pipeline on the Azure DevOps double,
// opted in to the publish trigger with the command.
type publishTriggerEnv struct {
	*gitHubTarget
	azdo    *azdodouble.Server
	repo    *azdodouble.Repository
	pl      *azdodouble.Pipeline
	project *azdodouble.Project
}

func newPublishTriggerEnv(t *testing.T, e *env, webURL func(*githubdouble.Server) string) *publishTriggerEnv {
	t.Helper()
	g := newGitHubTarget(t, e, webURL)
	s := azdodouble.NewServer(t, azdodouble.WithPAT("maestro-pat"))
	p := s.AddProject("internal")
	r := s.AddRepository(p, "dotnet-arcade")
	r.Commit("main", map[string][]byte{"README.md": []byte("# arcade\n")}, "init")
	pl := s.AddYAMLPipeline(p, azdodouble.YAMLPipeline{Name: "arcade-official", Repository: r, Path: "/azure-pipelines.yml"})
	e.environ = append(e.environ, "MAESTRO_AZDO_TOKEN=maestro-pat", "MAESTRO_AZDO_SERVER_URLS="+s.OrganizationURL(),
		"MAESTRO_AZDO_HOOK_SECRET="+azdoHookSecret)
	out := e.ok("publish-trigger", "set", "--pipeline", fmt.Sprintf("%s/internal/_build?definitionId=%d", s.OrganizationURL(), pl.ID))
	require.Contains(t, out, "publish trigger set")
	return &publishTriggerEnv{gitHubTarget: g, azdo: s, repo: r, pl: pl, project: p}
}

// arcadeManifest is an asset manifest as an Arcade job writes it, leaving
// the Azure DevOps identity to the pipeline's variables.
func arcadeManifest(n int, pkg string) []byte {
	return fmt.Appendf(nil, `<?xml version="1.0" encoding="utf-8"?>
<Build PublishingVersion="3" Name="https://github.com/dotnet/arcade" BuildId="20261205.%[1]d" Branch="refs/heads/main" Commit="%[2]s" IsStable="false">
  <Package Id="%[3]s" Version="10.0.0-beta.%[1]d" NonShipping="false" />
</Build>
`, n, sha(n), pkg)
}

// officialBuild runs build n of Arcade's pipeline on the double: two jobs
// upload their manifests to AssetManifests, and it succeeds.
func (p *publishTriggerEnv) officialBuild(n int) int {
	id := p.azdo.AddBuild(p.pl, "main", p.repo.Head("main"))
	p.azdo.AddArtifact(id, "AssetManifests", map[string][]byte{"Windows_NT-AnyCPU.xml": arcadeManifest(n, "Microsoft.DotNet.Arcade.Sdk")})
	p.azdo.AddArtifact(id, "AssetManifests", map[string][]byte{"Linux-x64.xml": arcadeManifest(n, "Microsoft.DotNet.Helix.Sdk")})
	p.azdo.SetBuildStatus(id, build.BuildStatusValues.Completed, build.BuildResultValues.Succeeded)
	return id
}

// jobEnv is what the pipeline task's job sees of build id.
func (p *publishTriggerEnv) jobEnv(id int) []string {
	return []string{
		"BUILD_BUILDID=" + strconv.Itoa(id), "SYSTEM_DEFINITIONID=" + strconv.Itoa(p.pl.ID),
		"SYSTEM_TEAMFOUNDATIONCOLLECTIONURI=" + p.azdo.OrganizationURL() + "/", "SYSTEM_TEAMPROJECT=internal",
		"BUILD_SOURCEBRANCH=refs/heads/main", "BUILD_SOURCEVERSION=" + p.repo.Head("main"),
		"BUILD_REPOSITORY_URI=" + p.repo.RemoteURL(),
	}
}

// postHook delivers a service hook payload as the Web Hooks consumer does,
// with Basic authentication.
func postHook(t *testing.T, s *served, payload []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.url+"/webhooks/azure-devops", bytes.NewReader(payload))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.SetBasicAuth("maestro", azdoHookSecret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.String()
}

// waitHookEvent waits until the event of payload is processed.
func waitHookEvent(t *testing.T, reg *registry.Registry, payload []byte) registry.Event {
	t.Helper()
	var env struct{ ID string }
	require.NoError(t, json.Unmarshal(payload, &env))
	var ev registry.Event
	require.Eventually(t, func() bool {
		var err error
		ev, _, err = reg.Event(t.Context(), "azdo", env.ID)
		return err == nil && ev.State == registry.EventDone
	}, 2*time.Minute, 50*time.Millisecond)
	return ev
}

// artifactRequests counts the double's artifact requests of build id: the
// list, and the AssetManifests downloads.
func artifactRequests(s *azdodouble.Server, id int) (lists, downloads int) {
	suffix := fmt.Sprintf("/_apis/build/builds/%d/artifacts", id)
	for _, r := range s.Requests() {
		if r.Method != http.MethodGet || !strings.HasSuffix(strings.ToLower(r.Path), suffix) || r.Status != http.StatusOK {
			continue
		}
		if strings.Contains(r.RawQuery, "artifactName=AssetManifests") {
			downloads++
		} else {
			lists++
		}
	}
	return lists, downloads
}

// TestServePublishTrigger: build.complete of an opted-in pipeline →
// maestro serve lists the build's artifacts on the Azure DevOps double,
// downloads AssetManifests, records the build with the identity the
// pipeline's publish task would give it, flows it → a pull request on the
// GitHub double. The same event again changes nothing; another event of the
// same build finds it recorded; a build the task published first is not
// recorded twice nor flowed again.
func TestServePublishTrigger(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		p := newPublishTriggerEnv(t, e, nil)
		srv := serve(t, e, "--azure-devops-hooks", "--workers", "2")
		reg := openRegistry(t, e)

		id := p.officialBuild(1)
		payload := p.azdo.ServiceHookEvent("build.complete", id)
		code, body := postHook(t, srv, payload)
		require.Equal(t, http.StatusAccepted, code, body)
		ev := waitHookEvent(t, reg, payload)
		assert.Regexp(t, fmt.Sprintf(`^published build %d of %s as BAR build 1 \(channels \[1\]\); subscription %s: updated$`, id, p.azdo.OrganizationURL(), p.sub.ID), ev.Result)
		lists, downloads := artifactRequests(p.azdo, id)
		assert.Equal(t, [2]int{1, 1}, [2]int{lists, downloads}, "artifacts listed, manifests downloaded once")

		var b maestro.Build
		e.okJSON(&b, "build", "show", "--id", "1")
		assert.Equal(t, id, b.AzureDevOpsBuildID)
		assert.Equal(t, p.pl.ID, b.AzureDevOpsBuildDefinitionID)
		assert.Equal(t, p.azdo.Organization(), b.AzureDevOpsAccount)
		assert.Equal(t, "internal", b.AzureDevOpsProject)
		assert.Equal(t, "https://github.com/dotnet/arcade", b.Repository)
		assert.Len(t, b.Assets, 2, "both jobs' manifests")
		prs := p.gitHubTarget.repo.PullRequests()
		require.Len(t, prs, 1, "the flow opened a pull request")
		assert.Contains(t, prs[0].GetBody(), "BAR build 1")

		// The task, run in that build's job, finds it recorded: the same id.
		r := e.runWith(p.jobEnv(id), "publish", "--manifest", writeFile(t, t.TempDir(), "m.xml", string(arcadeManifest(1, "Microsoft.DotNet.Arcade.Sdk"))))
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, "1\n", r.stdout)
		assert.Contains(t, r.stderr, fmt.Sprintf("build 1 was recorded before (Azure DevOps build %d)", id))

		// The same delivery again, and the run event of the same build.
		code, body = postHook(t, srv, payload)
		assert.Equal(t, http.StatusOK, code, body)
		assert.Contains(t, body, "accepted before")
		run := p.azdo.ServiceHookEvent("ms.vss-pipelines.run-state-changed-event", id)
		code, body = postHook(t, srv, run)
		require.Equal(t, http.StatusAccepted, code, body)
		assert.Equal(t, fmt.Sprintf("build %d of %s was recorded before as BAR build 1", id, p.azdo.OrganizationURL()), waitHookEvent(t, reg, run).Result)

		// Build 2 published by the task first (as its job would), then
		// reported: recorded once, flowed once.
		id2 := p.officialBuild(2)
		dir := t.TempDir()
		writeFile(t, dir, "Windows_NT-AnyCPU.xml", string(arcadeManifest(2, "Microsoft.DotNet.Arcade.Sdk")))
		writeFile(t, dir, "Linux-x64.xml", string(arcadeManifest(2, "Microsoft.DotNet.Helix.Sdk")))
		r = e.runWith(p.jobEnv(id2), "publish", "--manifest", dir+"/*.xml")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, "2\n", r.stdout)
		payload = p.azdo.ServiceHookEvent("build.complete", id2)
		code, body = postHook(t, srv, payload)
		require.Equal(t, http.StatusAccepted, code, body)
		assert.Equal(t, fmt.Sprintf("build %d of %s was recorded before as BAR build 2", id2, p.azdo.OrganizationURL()), waitHookEvent(t, reg, payload).Result)

		var builds []maestro.Build
		e.okJSON(&builds, "build", "list")
		assert.Len(t, builds, 2, "no second record")
		assert.Equal(t, []string{"1:updated", "2:updated"}, p.history(t), "each build flowed once")
		assert.Len(t, p.gitHubTarget.repo.PullRequests(), 1, "build 2 updated the pull request in place")
		assert.NotContains(t, srv.log(), azdoHookSecret)
		assert.NotContains(t, srv.log(), "maestro-pat")
	})
}

// TestServePublishTriggerKilled: maestro serve killed (kill -9) while its
// worker downloads the manifests of an accepted build.complete loses
// nothing: the next server takes the event over and publishes and flows
// the build once.
func TestServePublishTriggerKilled(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		p := newPublishTriggerEnv(t, e, nil)
		config := writeFile(t, t.TempDir(), "serve.yaml", "claimTimeout: 2s\nazureDevOps:\n  hooks: true\n")
		id := p.officialBuild(1)

		// The double holds the first download until the server is dead.
		var once sync.Once
		downloading, release := make(chan struct{}), make(chan struct{})
		p.azdo.BeforeRequest(func(r *http.Request) {
			if strings.Contains(r.URL.RawQuery, "artifactName=AssetManifests") {
				once.Do(func() { close(downloading); <-release })
			}
		})
		first := serve(t, e, "--config", config)
		payload := p.azdo.ServiceHookEvent("build.complete", id)
		code, body := postHook(t, first, payload)
		require.Equal(t, http.StatusAccepted, code, body)
		select {
		case <-downloading:
		case <-time.After(time.Minute):
			t.Fatalf("the worker never downloaded the manifests\n%s", first.log())
		}
		first.kill(t)
		close(release)

		reg := openRegistry(t, e)
		queued, err := reg.QueuedEvents(t.Context())
		require.NoError(t, err)
		require.Len(t, queued, 1, "the accepted event is still queued")

		second := serve(t, e, "--config", config)
		ev := waitHookEvent(t, reg, payload)
		assert.Contains(t, ev.Result, "published build")
		assert.Equal(t, 2, ev.Attempts, "the second server took the event over")
		var builds []maestro.Build
		e.okJSON(&builds, "build", "list")
		assert.Len(t, builds, 1)
		assert.Equal(t, []string{"1:updated"}, p.history(t))
		assert.Len(t, p.gitHubTarget.repo.PullRequests(), 1)
		assert.Contains(t, second.log(), "event processed")
	})
}

// gate is a proxy in front of the GitHub double that, once armed, holds
// the first request until released.
type gate struct {
	mu       sync.Mutex
	armed    bool
	reached  chan struct{}
	released chan struct{}
}

func newGate() *gate { return &gate{reached: make(chan struct{}), released: make(chan struct{})} }

func (g *gate) front(t *testing.T, srv *githubdouble.Server) string {
	target, err := url.Parse(srv.URL())
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		hold := g.armed
		g.armed = false
		g.mu.Unlock()
		if hold {
			close(g.reached)
			<-g.released
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	return front.URL
}

func (g *gate) arm() {
	g.mu.Lock()
	g.armed = true
	g.mu.Unlock()
}

// TestServePublishTriggerKilledAfterRecord: maestro serve killed (kill -9)
// after it recorded the build and before the flow reached GitHub: the next
// server finds the build recorded by this event's earlier attempt and flows
// it (the subscriptions without an outcome for it), once.
//
// Local store only: the kill leaves the pull request's update lock held,
// and the tick waits the minute for it to lapse (the Azurite store's crash
// behaviour is TestServePublishTriggerKilled's).
func TestServePublishTriggerKilledAfterRecord(t *testing.T) {
	e := newLocal(t)
	g := newGate()
	p := newPublishTriggerEnv(t, e, func(srv *githubdouble.Server) string { return g.front(t, srv) })
	config := writeFile(t, t.TempDir(), "serve.yaml", "claimTimeout: 2s\nazureDevOps:\n  hooks: true\n")
	id := p.officialBuild(1)
	first := serve(t, e, "--config", config)
	g.arm()
	payload := p.azdo.ServiceHookEvent("build.complete", id)
	code, body := postHook(t, first, payload)
	require.Equal(t, http.StatusAccepted, code, body)
	select {
	case <-g.reached:
	case <-time.After(time.Minute):
		t.Fatalf("the flow never reached GitHub\n%s", first.log())
	}
	first.kill(t)
	close(g.released)

	var builds []maestro.Build
	e.okJSON(&builds, "build", "list")
	require.Len(t, builds, 1, "recorded before the kill")
	assert.Empty(t, p.history(t), "not flowed before the kill")

	serve(t, e, "--config", config)
	ev := waitHookEvent(t, openRegistry(t, e), payload)
	// The killed attempt still holds the subscription's flow claim: the
	// retry records the flow as rescheduled (pending work), and the
	// next flow tick after the claim lapses (15 minutes) flows it.
	assert.Equal(t, fmt.Sprintf("build %d of %s was recorded before as BAR build 1; subscription %s: rescheduled", id, p.azdo.OrganizationURL(), p.sub.ID), ev.Result)
	assert.Equal(t, []string{"1:rescheduled"}, p.history(t))
	reg := openRegistry(t, e)
	fs, _, err := reg.FlowState(t.Context(), p.sub.ID)
	require.NoError(t, err)
	require.NotNil(t, fs.Pending, "the build waits as pending work")
	assert.Equal(t, 1, fs.Pending.BuildID)
	// 15 minutes later the dead attempt's claim has lapsed (the test
	// moves it instead of waiting): the tick flows the build.
	_, err = reg.UpdateFlowState(t.Context(), p.sub.ID, func(s *registry.FlowState, _ bool) error {
		require.NotNil(t, s.Claim)
		s.Claim.Until = time.Now().Add(-time.Second)
		return nil
	})
	require.NoError(t, err)
	assert.Contains(t, e.ok("flow", "tick"), "build 1: updated")
	e.okJSON(&builds, "build", "list")
	assert.Len(t, builds, 1)
	assert.Equal(t, []string{"1:rescheduled", "1:updated"}, p.history(t))
	assert.Len(t, p.gitHubTarget.repo.PullRequests(), 1)
}

// runWith runs maestro with extra environment variables.
func (e *env) runWith(extra []string, args ...string) result {
	e.t.Helper()
	saved := e.environ
	e.environ = append(append([]string(nil), saved...), extra...)
	defer func() { e.environ = saved }()
	return e.run(args...)
}
