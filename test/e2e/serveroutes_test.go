package e2e_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/legacy"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store"
	azdodouble "github.com/maestroplusplus/maestro/test/azdo"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

const (
	legacyHookSecret = "e2e-legacy-sha1-secret"
	routesPAT        = "e2e-routes-pat-secret"
)

// TestServePushQueuesMirror: on both stores, a `maestro serve` process
// receives the GitHub double's signed push webhooks: a push to a mirrored
// branch queues the mirror pipeline on the Azure DevOps double with the
// source, branch, target and mode; a second push while the run is queued
// coalesces; a push to a branch no pattern selects is answered 200 and
// recorded nowhere.
func TestServePushQueuesMirror(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		gh := githubdouble.NewServer(t)
		src := gh.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"a.txt": "1\n"}})
		az := azdodouble.NewServer(t, azdodouble.WithPAT(routesPAT))
		project := az.AddProject("internal")
		pl := mirrorPipeline(t, az, project)
		source, target := gh.URL()+"/dotnet/runtime", az.OrganizationURL()+"/internal/_git/dotnet-runtime"
		e.environ = append(e.environ, "MAESTRO_AZDO_TOKEN="+routesPAT, "MAESTRO_AZDO_SERVER_URLS="+az.OrganizationURL(),
			"MAESTRO_GITHUB_URL="+gh.URL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true")
		e.ok("mirror", "add", "--source", source, "--target", target, "--branch", "main",
			"--pipeline", az.OrganizationURL()+"/internal/_build?definitionId="+strconv.Itoa(pl.ID))

		s := serve(t, e, "--github-webhooks")
		src.AddHook(githubdouble.HookSpec{URL: s.url + "/webhooks/github", Secret: hookSecret, Events: []string{"push"}})
		head := src.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"a.txt": "2\n"}})
		ds := gh.WaitDeliveries()
		require.Len(t, ds, 2, "ping and push")
		require.Equal(t, "push", ds[1].Event)
		require.Equal(t, http.StatusAccepted, ds[1].StatusCode, string(ds[1].Response))
		require.Eventually(t, func() bool { return len(az.RunRequests()) == 1 }, 20*time.Second, 20*time.Millisecond, s.log())
		runs := az.RunRequests()
		assert.Equal(t, map[string]string{"sourceRepository": source, "branch": "main", "targetRepository": target, "mode": "fastForward"},
			*runs[0].Parameters.TemplateParameters)
		reg := openRegistry(t, e)
		waitEvent(t, reg, "github", ds[1].GUID)
		run, _, err := reg.MirrorRun(t.Context(), source, "main")
		require.NoError(t, err)
		assert.Equal(t, head, run.Commit)
		assert.Equal(t, runs[0].RunID, run.RunID)

		src.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"a.txt": "3\n"}})
		src.Commit(githubdouble.CommitSpec{Branch: "feature/x", Files: map[string]string{"b.txt": "1\n"}})
		ds = gh.WaitDeliveries()
		require.Len(t, ds, 4)
		assert.Equal(t, http.StatusAccepted, ds[2].StatusCode, string(ds[2].Response))
		ev := waitEvent(t, reg, "github", ds[2].GUID)
		assert.Equal(t, "coalesced into mirror run "+strconv.Itoa(runs[0].RunID)+" of "+source+" main", ev.Result)
		assert.Equal(t, http.StatusOK, ds[3].StatusCode)
		assert.Contains(t, string(ds[3].Response), "selects feature/x; push ignored")
		_, err = reg.AcceptedEvent(t.Context(), "github", ds[3].GUID)
		assert.ErrorIs(t, err, store.ErrNotExist, "not recorded")
		assert.Len(t, az.RunRequests(), 1)
		assert.NotContains(t, s.log(), routesPAT)
	})
}

func hmacSHA1Hex(key string, body []byte) string {
	m := hmac.New(sha1.New, []byte(key))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// waitEvent waits until the event is processed and returns it.
func waitEvent(t *testing.T, reg *registry.Registry, source, id string) registry.Event {
	t.Helper()
	var ev registry.Event
	require.Eventually(t, func() bool {
		var err error
		ev, _, err = reg.Event(t.Context(), source, id)
		return err == nil && ev.State == registry.EventDone
	}, 30*time.Second, 20*time.Millisecond)
	return ev
}

// TestServeCommitPushed: on both stores, a `maestro serve` process takes the
// versions repository's push webhook at the old Maestro's /CommitPushed with
// its sha1 signature: the matched legacy action is queued on the Azure
// DevOps double once, also when the delivery is sent again; a delivery with
// a bad signature is answered 401 and nothing is recorded.
func TestServeCommitPushed(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		az, subs := legacyRoutesSetup(t, e)
		gh := githubdouble.NewServer(t)
		versions := gh.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "versions", DefaultBranch: "master", Files: map[string]string{"README.md": "versions\n"}})

		s := serve(t, e, "--legacy-commit-pushed", "--legacy-subscriptions", subs, "--legacy-vso-url", "dnceng.visualstudio.com="+az.OrganizationURL())
		versions.AddHook(githubdouble.HookSpec{URL: s.url + "/CommitPushed", Secret: legacyHookSecret, Events: []string{"push"}})
		c1 := versions.Commit(githubdouble.CommitSpec{Branch: "master", Files: map[string]string{"build-info/dotnet/corefx/master/Latest.txt": "preview1-1"}})
		ds := gh.WaitDeliveries()
		require.Len(t, ds, 2, "ping and push")
		assert.Equal(t, http.StatusOK, ds[0].StatusCode, "ping: %s", ds[0].Response)
		d := ds[1]
		require.Equal(t, http.StatusAccepted, d.StatusCode, string(d.Response))
		reg := openRegistry(t, e)
		ev := waitEvent(t, reg, "legacy", d.GUID)
		assert.Equal(t, "1 actions triggered; subscription 0, action mirror: queued build 1", ev.Result)
		lw := &legacyWatch{srv: az}
		assert.Equal(t, []string{mirrorBuild(c1)}, lw.queued(t))

		// Sent again: accepted before, nothing queued.
		req, err := d.NewRequest(t.Context(), s.url+"/CommitPushed")
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)

		// A bad signature (the push signed with another secret, under a
		// fresh delivery id): 401, nothing recorded, nothing queued.
		before, err := reg.Store().List(t.Context(), "")
		require.NoError(t, err)
		const fresh = "5d0f9a52-0000-4000-8000-00000000c0de"
		for _, sign := range []func(r *http.Request){
			func(r *http.Request) { r.Header.Set("X-Hub-Signature", "sha1="+hmacSHA1Hex("not-the-secret", d.Body)) },
			func(r *http.Request) { r.Header.Del("X-Hub-Signature") },
		} {
			req, err = d.NewRequest(t.Context(), s.url+"/CommitPushed")
			require.NoError(t, err)
			req.Header.Set("X-GitHub-Delivery", fresh)
			sign(req)
			resp, err = http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		}
		after, err := reg.Store().List(t.Context(), "")
		require.NoError(t, err)
		assert.Equal(t, before, after, "nothing recorded")
		_, err = reg.AcceptedEvent(t.Context(), "legacy", fresh)
		assert.ErrorIs(t, err, store.ErrNotExist)
		// The same request well signed is taken: the refusals were the signatures.
		req, err = d.NewRequest(t.Context(), s.url+"/CommitPushed")
		require.NoError(t, err)
		req.Header.Set("X-GitHub-Delivery", fresh)
		resp, err = http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusAccepted, resp.StatusCode)
		ev = waitEvent(t, reg, "legacy", fresh)
		assert.Equal(t, "0 actions triggered", ev.Result, "its commits were taken under the first delivery")
		assert.Equal(t, []string{mirrorBuild(c1)}, lw.queued(t), "sent three times, queued once")
		assert.NotContains(t, s.log(), legacyHookSecret)
		assert.NotContains(t, s.log(), routesPAT)
	})
}

// legacyRoutesSetup is an Azure DevOps double with the two definitions
// legacyWatchSubscriptions names, the subscriptions file, and e's
// environment for both and for the legacy route's secret.
func legacyRoutesSetup(t *testing.T, e *env) (*azdodouble.Server, string) {
	t.Helper()
	az := azdodouble.NewServer(t, azdodouble.WithPAT(routesPAT))
	project := az.AddProject("internal")
	pipelines := az.AddRepository(project, "pipelines")
	pipelines.Commit("main", map[string][]byte{"README.md": []byte("pipelines\n")}, "init")
	vars := func(names ...string) map[string]azdodouble.DefinitionVariable {
		m := map[string]azdodouble.DefinitionVariable{}
		for _, n := range names {
			m[n] = azdodouble.DefinitionVariable{AllowOverride: true}
		}
		return m
	}
	az.AddClassicDefinition(project, azdodouble.ClassicDefinition{Name: "mirror", Repository: pipelines, Variables: vars("GithubRepo", "BranchToMirror", "CommitsToMirror")})
	az.AddClassicDefinition(project, azdodouble.ClassicDefinition{Name: "publish", Repository: pipelines, Variables: vars("PB_TriggerPath", "PB_VersionsRepoRef")})
	subs := writeFile(t, t.TempDir(), "subscriptions.json", legacyWatchSubscriptions)
	e.environ = append(e.environ, "MAESTRO_AZDO_TOKEN="+routesPAT, "MAESTRO_AZDO_SERVER_URLS="+az.OrganizationURL(),
		"MAESTRO_ALLOW_HTTP_LOOPBACK=true", "MAESTRO_LEGACY_WEBHOOK_SECRET="+legacyHookSecret)
	return az, subs
}

// TestServeCommitPushedKilledWhileQueueing: on both stores, a `maestro
// serve` process is killed (SIGKILL) while its request to queue the action
// of a /CommitPushed push is in flight, after the watch state recorded the
// delivery and the claim; the request then reaches the Azure DevOps double.
// A server started on the same store takes the event over once its claim
// lapses, takes the push no second time, waits for the action's claim to
// lapse and records the build the killed one queued (found by its marker)
// instead of queueing another: one build.
func TestServeCommitPushedKilledWhileQueueing(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		az, subs := legacyRoutesSetup(t, e)
		inFlight, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		az.BeforeRequest(func(r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(strings.ToLower(r.URL.Path), "/_apis/build/builds") {
				once.Do(func() { close(inFlight); <-release })
			}
		})
		config := writeFile(t, t.TempDir(), "serve.yaml", "claimTimeout: 2s\nlegacy:\n  commitPushed: true\n  subscriptions: "+subs+
			"\n  claimTimeout: 4s\n  vsoUrls:\n    dnceng.visualstudio.com: "+az.OrganizationURL()+"\n")
		gh := githubdouble.NewServer(t)
		versions := gh.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "versions", DefaultBranch: "master", Files: map[string]string{"README.md": "versions\n"}})

		first := serve(t, e, "--config", config)
		versions.AddHook(githubdouble.HookSpec{URL: first.url + "/CommitPushed", Secret: legacyHookSecret, Events: []string{"push"}})
		c1 := versions.Commit(githubdouble.CommitSpec{Branch: "master", Files: map[string]string{"build-info/dotnet/corefx/master/Latest.txt": "preview1-1"}})
		select {
		case <-inFlight:
		case <-time.After(30 * time.Second):
			t.Fatalf("no queue request\n%s", first.log())
		}
		first.kill(t)
		close(release)
		lw := &legacyWatch{srv: az}
		require.Eventually(t, func() bool { return len(az.QueueBuildRequests()) == 1 }, 10*time.Second, 10*time.Millisecond, "the killed server's request reached the service")
		ds := gh.WaitDeliveries()
		require.Len(t, ds, 2, "ping and push")
		require.Equal(t, http.StatusAccepted, ds[1].StatusCode)

		second := serve(t, e, "--config", config)
		reg := openRegistry(t, e)
		ev := waitEvent(t, reg, "legacy", ds[1].GUID)
		assert.Equal(t, "subscription 0, action mirror: found queued build 1", ev.Result, second.log())
		assert.Equal(t, []string{mirrorBuild(c1)}, lw.queued(t), "one build")
		data, _, err := reg.Store().Get(t.Context(), legacy.StateKey("dotnet/versions", "master"))
		require.NoError(t, err)
		var st legacy.WatchState
		require.NoError(t, json.Unmarshal(data, &st))
		assert.Empty(t, st.Pending)
		require.Len(t, st.Queued, 1)
		assert.True(t, st.Queued[0].Found)
		assert.Equal(t, []string{ds[1].GUID}, st.Deliveries)
		assert.NotContains(t, second.log(), legacyHookSecret)
	})
}

// TestServeLegacyRefusesToStart: an enabled /CommitPushed without its
// secret, its subscriptions file or an Azure DevOps token stops maestro
// serve before it listens, exit code 2, naming what to set.
func TestServeLegacyRefusesToStart(t *testing.T) {
	e := newLocal(t)
	subs := writeFile(t, t.TempDir(), "subscriptions.json", legacyWatchSubscriptions)
	secret := "MAESTRO_LEGACY_WEBHOOK_SECRET=" + legacyHookSecret
	tests := []struct {
		name    string
		args    []string
		environ []string
		want    string
	}{
		{"no secret", []string{"--legacy-subscriptions", subs}, []string{"MAESTRO_AZDO_TOKEN=" + routesPAT},
			"the legacy /CommitPushed route is enabled but has no secret: set MAESTRO_LEGACY_WEBHOOK_SECRET"},
		{"no subscriptions", nil, []string{secret, "MAESTRO_AZDO_TOKEN=" + routesPAT},
			"has no subscriptions file: give --legacy-subscriptions FILE"},
		{"no Azure DevOps token", []string{"--legacy-subscriptions", subs}, []string{secret},
			"set MAESTRO_AZDO_TOKEN (or run in a job with SYSTEM_ACCESSTOKEN)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := &env{t: t, store: e.store, environ: tt.environ}
			r := run.run(append([]string{"serve", "--listen", "127.0.0.1:0", "--legacy-commit-pushed"}, tt.args...)...)
			assert.Equal(t, 2, r.code, r.stderr)
			assert.Contains(t, r.stderr, tt.want)
			assert.NotContains(t, r.stderr, "msg=serving")
			assert.NotContains(t, r.stderr, legacyHookSecret)
			assert.NotContains(t, r.stderr, routesPAT)
		})
	}
}
