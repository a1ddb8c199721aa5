package server_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/server"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	azdodouble "github.com/maestroplusplus/maestro/test/azdo"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
	"github.com/maestroplusplus/maestro/test/testenv"
)

const (
	legacySecret = "legacy-sha1-s3cret"
	azdoPAT      = "azdo-pat-s3cret"
	ghToken      = "ghp_routesTestToken000000000000000000000"
)

// routes is how startRoutes configures a server.
type routes struct {
	github, legacy bool
	subscriptions  string
	vsoURL         string // the organization of the legacy actions' vsoInstance
	env            map[string]string
	workers        int
	config         string // a configuration file, "" none
}

// startRoutes runs a server on reg with the routes r enables and the hosts
// (wire.Env, as maestro serve builds them) of r.env, until the test ends.
func startRoutes(t *testing.T, reg *registry.Registry, r routes) replica {
	t.Helper()
	env := map[string]string{server.EnvGitHubWebhookSecret: secret, server.EnvLegacyWebhookSecret: legacySecret}
	maps.Copy(env, r.env)
	flags := server.Flags{Listen: "127.0.0.1:0", GitHubWebhooks: &r.github, LegacyCommitPushed: &r.legacy,
		LegacySubscriptions: r.subscriptions, Workers: r.workers}
	if r.vsoURL != "" {
		flags.LegacyVSOURLs = map[string]string{"dnceng.visualstudio.com": r.vsoURL}
	}
	cfg, err := server.LoadConfig(r.config, envOf(env), flags)
	require.NoError(t, err)
	logs := &syncBuffer{}
	hosts := wire.Env{Getenv: envOf(env), Now: time.Now}
	srv, err := server.New(cfg, hosts.Service(reg), slog.New(slog.NewTextHandler(logs, nil)), server.WithHosts(hosts))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
		for _, s := range []string{secret, legacySecret, azdoPAT, ghToken} {
			assert.NotContains(t, logs.String(), s, "no secret in the logs")
		}
	})
	return replica{url: "http://" + ln.Addr().String(), log: logs}
}

// azdoEnv is the environment that sends Azure DevOps requests to srv.
func azdoEnv(srv *azdodouble.Server) map[string]string {
	return map[string]string{"MAESTRO_AZDO_TOKEN": azdoPAT, wire.EnvAzdoServerURLs: srv.OrganizationURL(), wire.EnvAllowHTTPLoopback: "true"}
}

// mirrorPipeline adds the repository's pipelines/mirror.yml as a YAML
// pipeline of project: the double checks each run's parameters against it.
func mirrorPipeline(t *testing.T, srv *azdodouble.Server, project *azdodouble.Project) *azdodouble.Pipeline {
	t.Helper()
	yml, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "pipelines", "mirror.yml"))
	require.NoError(t, err)
	repo := srv.AddRepository(project, "maestro-pipelines")
	repo.Commit("main", map[string][]byte{"pipelines/mirror.yml": yml}, "Add the mirror pipeline")
	return srv.AddYAMLPipeline(project, azdodouble.YAMLPipeline{Name: "mirror", Repository: repo, Path: "/pipelines/mirror.yml"})
}

// last returns the deliveries of event after the first n.
func deliveriesOf(ds []githubdouble.Delivery, event string, from int) []githubdouble.Delivery {
	var out []githubdouble.Delivery
	for _, d := range ds[from:] {
		if d.Event == event {
			out = append(out, d)
		}
	}
	return out
}

// TestPushTriggersMirror: a push to a branch of a mirrored repository that
// a branch pattern selects queues the mirror pipeline on the Azure DevOps
// double, as `maestro mirror trigger` does, and a second push while the run
// is queued coalesces into it; pushes to another branch, to a tag, of a
// deleted branch and of an unmirrored repository are answered 200 and
// recorded nowhere.
func TestPushTriggersMirror(t *testing.T) {
	reg := newRegistry(t)
	az := azdodouble.NewServer(t, azdodouble.WithPAT(azdoPAT))
	project := az.AddProject("internal")
	pl := mirrorPipeline(t, az, project)
	ghs := githubdouble.NewServer(t)
	ghs.AddToken(githubdouble.DefaultLogin, ghToken)
	repo := ghs.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"a.txt": "1\n"}})
	other := ghs.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "other", Files: map[string]string{"a.txt": "1\n"}})
	source, target := ghs.URL()+"/dotnet/runtime", az.OrganizationURL()+"/internal/_git/dotnet-runtime"
	require.NoError(t, reg.AddMirror(t.Context(), maestro.Mirror{SourceRepository: source, TargetRepository: target,
		Branches: []maestro.MirrorBranch{{Pattern: "main", Mode: maestro.MirrorFastForward}, {Pattern: `release/.*`, Mode: maestro.MirrorInternalMerge}},
		Pipeline: maestro.UpdatePipeline{Organization: az.OrganizationURL(), Project: "internal", PipelineID: pl.ID}}))
	a := startRoutes(t, reg, routes{github: true, env: azdoEnv(az)})
	for _, r := range []*githubdouble.Repo{repo, other} {
		r.AddHook(githubdouble.HookSpec{URL: a.url + "/webhooks/github", Secret: secret, Events: []string{"push"}})
	}
	n := len(ghs.WaitDeliveries()) // the pings

	head := repo.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"a.txt": "2\n"}})
	pushes := deliveriesOf(ghs.WaitDeliveries(), "push", n)
	require.Len(t, pushes, 1)
	require.Equal(t, http.StatusAccepted, pushes[0].StatusCode, string(pushes[0].Response))
	ev := waitDone(t, reg, pushes[0].GUID)
	runs := az.RunRequests()
	require.Len(t, runs, 1)
	assert.Equal(t, map[string]string{"sourceRepository": source, "branch": "main", "targetRepository": target, "mode": "fastForward"}, *runs[0].Parameters.TemplateParameters)
	assert.Regexp(t, `^queued mirror run \d+ \(fastForward\) of `+source+` main$`, ev.Result)
	run, _, err := reg.MirrorRun(t.Context(), source, "main")
	require.NoError(t, err)
	assert.Equal(t, head, run.Commit, "the pushed commit is kept with the run")

	n = len(ghs.WaitDeliveries())
	repo.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"a.txt": "3\n"}})
	pushes = deliveriesOf(ghs.WaitDeliveries(), "push", n)
	require.Len(t, pushes, 1)
	ev = waitDone(t, reg, pushes[0].GUID)
	assert.Contains(t, ev.Result, "coalesced into mirror run")
	assert.Len(t, az.RunRequests(), 1, "one run while it is queued")

	az.SetBuildStatus(runs[0].RunID, build.BuildStatusValues.Completed, build.BuildResultValues.Succeeded)
	n = len(ghs.WaitDeliveries())
	repo.Commit(githubdouble.CommitSpec{Branch: "release/1.0", Files: map[string]string{"b.txt": "1\n"}})
	pushes = deliveriesOf(ghs.WaitDeliveries(), "push", n)
	require.Len(t, pushes, 1)
	waitDone(t, reg, pushes[0].GUID)
	runs = az.RunRequests()
	require.Len(t, runs, 2, "a new branch the patterns select")
	assert.Equal(t, "internalMerge", (*runs[1].Parameters.TemplateParameters)["mode"])

	recorded := keys(t, reg)
	client := ghs.Client(ghToken)
	ignored := []struct {
		name, answer string
		act          func()
	}{
		{"another branch", "no branch pattern of the mirror of " + source + " selects feature/x; push ignored", func() {
			repo.Commit(githubdouble.CommitSpec{Branch: "feature/x", Files: map[string]string{"c.txt": "1\n"}})
		}},
		{"a tag", "push to refs/tags/v1.0 is not to a branch; ignored", func() {
			_, _, err := client.Git.CreateRef(t.Context(), "dotnet", "runtime", &gh.Reference{Ref: new("refs/tags/v1.0"), Object: &gh.GitObject{SHA: new(head)}})
			require.NoError(t, err)
		}},
		{"a deleted branch", "push deleted branch release/1.0; ignored", func() {
			_, err := client.Git.DeleteRef(t.Context(), "dotnet", "runtime", "heads/release/1.0")
			require.NoError(t, err)
		}},
		{"an unmirrored repository", ghs.URL() + "/dotnet/other is not mirrored; push ignored", func() {
			other.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"a.txt": "2\n"}})
		}},
	}
	for _, tt := range ignored {
		t.Run(tt.name, func(t *testing.T) {
			n := len(ghs.WaitDeliveries())
			tt.act()
			pushes := deliveriesOf(ghs.WaitDeliveries(), "push", n)
			require.Len(t, pushes, 1)
			assert.Equal(t, http.StatusOK, pushes[0].StatusCode)
			var msg struct{ Message string }
			require.NoError(t, json.Unmarshal(pushes[0].Response, &msg))
			assert.Equal(t, tt.answer, msg.Message)
		})
	}
	assert.Equal(t, recorded, keys(t, reg), "nothing recorded")
	assert.Len(t, az.RunRequests(), 2)
}

// TestPushWithoutAzureDevOpsToken: a push to a mirrored branch on a server
// without an Azure DevOps token is accepted and fails its attempt with an
// error naming the variable to set; it stays queued for a retry.
func TestPushWithoutAzureDevOpsToken(t *testing.T) {
	reg := newRegistry(t)
	ghs := githubdouble.NewServer(t)
	repo := ghs.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"a.txt": "1\n"}})
	require.NoError(t, reg.AddMirror(t.Context(), maestro.Mirror{SourceRepository: ghs.URL() + "/dotnet/runtime", TargetRepository: "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime",
		Branches: []maestro.MirrorBranch{{Pattern: "main", Mode: maestro.MirrorFastForward}},
		Pipeline: maestro.UpdatePipeline{Organization: "https://dev.azure.com/dnceng", Project: "internal", PipelineID: 7}}))
	a := startRoutes(t, reg, routes{github: true})
	repo.AddHook(githubdouble.HookSpec{URL: a.url + "/webhooks/github", Secret: secret, Events: []string{"push"}})
	repo.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"a.txt": "2\n"}})
	pushes := deliveriesOf(ghs.WaitDeliveries(), "push", 0)
	require.Len(t, pushes, 1)
	require.Equal(t, http.StatusAccepted, pushes[0].StatusCode)
	var ev registry.Event
	require.Eventually(t, func() bool {
		var err error
		ev, _, err = reg.Event(t.Context(), "github", pushes[0].GUID)
		return err == nil && ev.LastError != ""
	}, 10*time.Second, 10*time.Millisecond)
	assert.Contains(t, ev.LastError, "set MAESTRO_AZDO_TOKEN")
	assert.Equal(t, registry.EventQueued, ev.State)
}

const legacySubscriptions = `{
  "actions": {
    "mirror": {"vsoInstance": "dnceng.visualstudio.com", "vsoProject": "internal", "buildDefinitionId": 1},
    "publish": {"vsoInstance": "dnceng.visualstudio.com", "vsoProject": "internal", "buildDefinitionId": 2},
  },
  "subscriptions": [
    {
      "triggerPaths": [
        "https://github.com/dotnet/versions/blob/master/build-info/dotnet/corefx/master/Latest.txt",
        "https://github.com/dotnet/versions2/blob/master/build-info/dotnet/corefx/master/Latest.txt",
      ],
      "action": "mirror",
      "actionArguments": {"vsoSourceBranch": "main", "vsoBuildParameters": {
        "GithubRepo": "<trigger-repo>", "BranchToMirror": "<trigger-branch>", "CommitsToMirror": "<trigger-commitlist>",
      }},
    },
    {
      "triggerPaths": ["https://github.com/dotnet/versions/blob/master/build-info/dotnet/product/cli/**/*"],
      "action": "publish",
      "delay": "00:00:02",
      "actionArguments": {"vsoBuildParameters": {"PB_TriggerPath": "<trigger-path>", "PB_VersionsRepoRef": "<trigger-commit>"}},
    },
  ],
}`

// legacySetup is an Azure DevOps double with the two definitions
// legacySubscriptions names, the subscriptions file, and a GitHub double.
type legacySetup struct {
	az   *azdodouble.Server
	gh   *githubdouble.Server
	subs string
}

func newLegacySetup(t *testing.T) legacySetup {
	az := azdodouble.NewServer(t, azdodouble.WithPAT(azdoPAT))
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
	subs := filepath.Join(t.TempDir(), "subscriptions.json")
	require.NoError(t, os.WriteFile(subs, []byte(legacySubscriptions), 0o600))
	return legacySetup{az: az, gh: githubdouble.NewServer(t), subs: subs}
}

func (l legacySetup) routes(workers int) routes {
	return routes{legacy: true, subscriptions: l.subs, vsoURL: l.az.OrganizationURL(), env: azdoEnv(l.az), workers: workers}
}

// queued lists the builds the double queued: definition, source branch
// and parameters of each request, all of which it accepted.
func (l legacySetup) queued(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, r := range l.az.QueueBuildRequests() {
		var body struct {
			Definition   struct{ ID int }
			SourceBranch string
			Parameters   string
		}
		require.NoError(t, json.Unmarshal(r.Body, &body))
		require.Equal(t, http.StatusOK, r.Status, "refused: %s", r.Body)
		out = append(out, fmt.Sprintf("%d %s %s", body.Definition.ID, body.SourceBranch, body.Parameters))
	}
	return out
}

func mirrorBuild(repo string, commits ...string) string {
	return `1 refs/heads/main {"GithubRepo":"` + repo + `","BranchToMirror":"master","CommitsToMirror":"` + strings.Join(commits, " ") + `"}`
}

func waitDoneOf(t *testing.T, reg *registry.Registry, source, id string) registry.Event {
	t.Helper()
	var ev registry.Event
	require.Eventually(t, func() bool {
		var err error
		ev, _, err = reg.Event(t.Context(), source, id)
		return err == nil && ev.State == registry.EventDone
	}, 20*time.Second, 10*time.Millisecond)
	return ev
}

// TestCommitPushedQueuesLegacyActionOnce: a push to the versions
// repository, delivered to /CommitPushed with the old service's sha1
// signature, queues the action its subscription names once — also when the
// delivery comes again, to this or another replica; pushes within an
// action's delay make one build with both commits.
func TestCommitPushedQueuesLegacyActionOnce(t *testing.T) {
	reg := newRegistry(t)
	l := newLegacySetup(t)
	a, b := startRoutes(t, reg, l.routes(0)), startRoutes(t, reg, l.routes(0))
	versions := l.gh.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "versions", DefaultBranch: "master", Files: map[string]string{"README.md": "versions\n"}})
	versions.AddHook(githubdouble.HookSpec{URL: a.url + "/CommitPushed", Secret: legacySecret, Events: []string{"push"}})
	ds := l.gh.WaitDeliveries()
	require.Len(t, ds, 1)
	assert.Equal(t, "ping", ds[0].Event)
	assert.Equal(t, http.StatusOK, ds[0].StatusCode, string(ds[0].Response))
	assert.Empty(t, keys(t, reg), "a ping is not recorded")

	c1 := versions.Commit(githubdouble.CommitSpec{Branch: "master", Files: map[string]string{"build-info/dotnet/corefx/master/Latest.txt": "preview1-1"}})
	pushes := deliveriesOf(l.gh.WaitDeliveries(), "push", 1)
	require.Len(t, pushes, 1)
	require.Equal(t, http.StatusAccepted, pushes[0].StatusCode, string(pushes[0].Response))
	ev := waitDoneOf(t, reg, "legacy", pushes[0].GUID)
	assert.Equal(t, "1 actions triggered; subscription 0, action mirror: queued build 1", ev.Result)
	assert.Equal(t, []string{mirrorBuild("versions", c1)}, l.queued(t))

	for _, url := range []string{a.url, b.url} {
		req, err := pushes[0].NewRequest(t.Context(), url+"/CommitPushed")
		require.NoError(t, err)
		code, body := send(t, req)
		assert.Equal(t, http.StatusOK, code, body)
		assert.Contains(t, body, "accepted before")
	}
	assert.Equal(t, []string{mirrorBuild("versions", c1)}, l.queued(t), "sent three times, queued once")

	// Two pushes within the publish action's delay of two seconds: one build.
	n := len(l.gh.WaitDeliveries())
	d1 := versions.Commit(githubdouble.CommitSpec{Branch: "master", Files: map[string]string{"build-info/dotnet/product/cli/release/2.1/build.semaphore": "1"}})
	d2 := versions.Commit(githubdouble.CommitSpec{Branch: "master", Files: map[string]string{"build-info/dotnet/product/cli/release/2.1/build.xml": "<Build/>"}})
	pushes = deliveriesOf(l.gh.WaitDeliveries(), "push", n)
	require.Len(t, pushes, 2)
	for _, d := range pushes {
		require.Equal(t, http.StatusAccepted, d.StatusCode, string(d.Response))
	}
	assert.Len(t, l.queued(t), 1, "not before the delay")
	for _, d := range pushes {
		waitDoneOf(t, reg, "legacy", d.GUID)
	}
	assert.Equal(t, []string{mirrorBuild("versions", c1),
		`2  {"PB_TriggerPath":"build-info/dotnet/product/cli/release/2.1/build.xml","PB_VersionsRepoRef":"` + d2 + `"}`}, l.queued(t))
	assert.Regexp(t, `msg="event waits" delivery=\S+ event=push attempt=1 took=\S+ why="1 legacy actions of dotnet/versions master wait for their delay"`, a.log.String()+b.log.String())
	_ = d1
}

// TestCommitPushedSignatures: /CommitPushed verifies X-Hub-Signature
// (HMAC-SHA1) with the legacy secret, and X-Hub-Signature-256 when GitHub
// sends it too; a delivery that fails either, or has no sha1 signature, is
// answered 401 and nothing is recorded. The GitHub route's secret does not
// open it.
func TestCommitPushedSignatures(t *testing.T) {
	reg := newRegistry(t)
	l := newLegacySetup(t)
	a := startRoutes(t, reg, l.routes(0))
	versions := l.gh.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "versions", DefaultBranch: "master", Files: map[string]string{"README.md": "versions\n"}})
	versions.AddHook(githubdouble.HookSpec{URL: "http://127.0.0.1:1/CommitPushed", Secret: legacySecret, Events: []string{"push"}})
	versions.Commit(githubdouble.CommitSpec{Branch: "master", Files: map[string]string{"build-info/dotnet/corefx/master/Latest.txt": "preview1-1"}})
	pushes := deliveriesOf(l.gh.WaitDeliveries(), "push", 0)
	require.Len(t, pushes, 1)
	d := pushes[0]
	sha1Hex := func(key string, body []byte) string {
		return "sha1=" + hmacSHA1(key, body)
	}
	tests := []struct {
		name   string
		change func(r *http.Request)
	}{
		{"bad sha1", func(r *http.Request) { r.Header.Set("X-Hub-Signature", "sha1="+strings.Repeat("0", 40)) }},
		{"sha1 with another secret", func(r *http.Request) { r.Header.Set("X-Hub-Signature", sha1Hex("other", d.Body)) }},
		{"sha1 with the GitHub route's secret", func(r *http.Request) {
			r.Header.Set("X-Hub-Signature", sha1Hex(secret, d.Body))
			r.Header.Set("X-Hub-Signature-256", "sha256="+hmacHex(secret, d.Body))
		}},
		{"no sha1, good sha256", func(r *http.Request) { r.Header.Del("X-Hub-Signature") }},
		{"good sha1, bad sha256", func(r *http.Request) { r.Header.Set("X-Hub-Signature-256", "sha256="+hmacHex("other", d.Body)) }},
		{"missing", func(r *http.Request) { r.Header.Del("X-Hub-Signature"); r.Header.Del("X-Hub-Signature-256") }},
		{"another body", func(r *http.Request) {
			body := bytes.Replace(d.Body, []byte("corefx"), []byte("coreclr"), 1)
			require.NotEqual(t, d.Body, body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := d.NewRequest(t.Context(), a.url+"/CommitPushed")
			require.NoError(t, err)
			tt.change(req)
			code, body := send(t, req)
			assert.Equal(t, http.StatusUnauthorized, code, body)
			assert.Contains(t, body, "X-Hub-Signature")
			assert.Empty(t, keys(t, reg), "nothing recorded")
		})
	}
	assert.Empty(t, l.queued(t))
	// A content type a GitHub webhook cannot be set to is 415, whatever
	// its signature.
	req, err := d.NewRequest(t.Context(), a.url+"/CommitPushed")
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/plain")
	code, body := send(t, req)
	assert.Equal(t, http.StatusUnsupportedMediaType, code, body)
	assert.Empty(t, keys(t, reg), "nothing recorded")

	// The old service's own deliveries carried only the sha1 signature.
	req, err = d.NewRequest(t.Context(), a.url+"/CommitPushed")
	require.NoError(t, err)
	req.Header.Del("X-Hub-Signature-256")
	code, body = send(t, req)
	assert.Equal(t, http.StatusAccepted, code, body)
	waitDoneOf(t, reg, "legacy", d.GUID)
	assert.Len(t, l.queued(t), 1)
	fams := scrape(t, a.url)
	assert.Equal(t, float64(len(tests)+1), counter(fams, "maestro_events_received_total", map[string]string{"source": "legacy", "type": "unknown", "result": "rejected"}))
	assert.Equal(t, 1.0, counter(fams, "maestro_events_received_total", map[string]string{"source": "legacy", "type": "push", "result": "accepted"}))
}

// TestEventsOfOneRepositoryInOrder: events of one repository are processed
// one at a time, in the order they arrived, while events of another
// repository run beside them. Each legacy push queues a build that the
// Azure DevOps double holds for a while; the double sees at most one build
// request per versions repository at a time, both repositories at once, and
// each repository's commits in push order, one build each — with one
// server, and with two on one store that take the deliveries in turn.
func TestEventsOfOneRepositoryInOrder(t *testing.T) {
	for _, replicas := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d replicas", replicas), func(t *testing.T) { eventsInOrder(t, replicas) })
	}
}

// eventsInOrder is TestEventsOfOneRepositoryInOrder with the deliveries
// sent in turn to replicas servers on one store.
func eventsInOrder(t *testing.T, replicas int) {
	const perRepo = 4
	reg := newRegistry(t)
	l := newLegacySetup(t)
	var mu sync.Mutex
	running := map[string]int{}
	most, both := 0, false
	l.az.BeforeRequest(func(r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(strings.ToLower(r.URL.Path), "/_apis/build/builds") {
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var req struct{ Parameters string }
		var params struct{ GithubRepo string }
		_ = json.Unmarshal(body, &req)
		_ = json.Unmarshal([]byte(req.Parameters), &params)
		mu.Lock()
		running[params.GithubRepo]++
		most = max(most, running[params.GithubRepo])
		both = both || running["versions"] > 0 && running["versions2"] > 0
		mu.Unlock()
		time.Sleep(150 * time.Millisecond)
		mu.Lock()
		running[params.GithubRepo]--
		mu.Unlock()
	})
	var servers []replica
	for range replicas {
		servers = append(servers, startRoutes(t, reg, l.routes(4)))
	}
	var repos []*githubdouble.Repo
	for _, name := range []string{"versions", "versions2"} {
		r := l.gh.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: name, DefaultBranch: "master", Files: map[string]string{"README.md": "versions\n"}})
		r.AddHook(githubdouble.HookSpec{URL: "http://127.0.0.1:1/CommitPushed", Secret: legacySecret, Events: []string{"push"}})
		repos = append(repos, r)
	}
	commits := map[string][]string{}
	for i := range perRepo {
		for _, r := range repos {
			c := r.Commit(githubdouble.CommitSpec{Branch: "master", Files: map[string]string{"build-info/dotnet/corefx/master/Latest.txt": "preview-" + string(rune('a'+i))}})
			commits[r.FullName()] = append(commits[r.FullName()], c)
		}
	}
	pushes := deliveriesOf(l.gh.WaitDeliveries(), "push", 0)
	require.Len(t, pushes, 2*perRepo)
	for i, d := range pushes { // in the order the pushes happened, at once
		req, err := d.NewRequest(t.Context(), servers[i%replicas].url+"/CommitPushed")
		require.NoError(t, err)
		code, body := send(t, req)
		require.Equal(t, http.StatusAccepted, code, body)
	}
	for _, d := range pushes {
		waitDoneOf(t, reg, "legacy", d.GUID)
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 1, most, "one build request per repository at a time")
	assert.True(t, both, "the two repositories' events ran at once")
	var want1, want2 []string
	for _, c := range commits["dotnet/versions"] {
		want1 = append(want1, mirrorBuild("versions", c))
	}
	for _, c := range commits["dotnet/versions2"] {
		want2 = append(want2, mirrorBuild("versions2", c))
	}
	var got1, got2 []string
	for _, q := range l.queued(t) {
		if strings.Contains(q, `"GithubRepo":"versions"`) {
			got1 = append(got1, q)
		} else {
			got2 = append(got2, q)
		}
	}
	assert.Equal(t, want1, got1, "dotnet/versions in push order, one build each")
	assert.Equal(t, want2, got2, "dotnet/versions2 in push order, one build each")
}

func hmacSHA1(key string, body []byte) string {
	m := hmac.New(sha1.New, []byte(key))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}
