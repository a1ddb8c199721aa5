package e2e_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/test/azdo"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// gitHubTarget is a GitHub double with dotnet/runtime at Arcade 9.0.0-beta.1,
// a channel, a default channel and an everyBuild subscription into it, on e.
type gitHubTarget struct {
	e    *env
	srv  *githubdouble.Server
	repo *githubdouble.Repo
	sub  maestro.Subscription
	dir  string
}

// runtimeFiles are dotnet/runtime's dependency files at Arcade 9.0.0-beta.1.
func runtimeFiles() map[string]string {
	return map[string]string{
		"eng/Version.Details.xml": `<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
  </ProductDependencies>
  <ToolsetDependencies>
    <Dependency Name="Microsoft.DotNet.Arcade.Sdk" Version="9.0.0-beta.1">
      <Uri>https://github.com/dotnet/arcade</Uri>
      <Sha>0000000000000000000000000000000000000001</Sha>
    </Dependency>
  </ToolsetDependencies>
</Dependencies>
`,
		"global.json": "{\n  \"msbuild-sdks\": {\n    \"Microsoft.DotNet.Arcade.Sdk\": \"9.0.0-beta.1\"\n  }\n}\n",
	}
}

func newGitHubTarget(t *testing.T, e *env, webURL func(*githubdouble.Server) string) *gitHubTarget {
	srv := githubdouble.NewServer(t)
	repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: runtimeFiles()})
	web := srv.URL()
	if webURL != nil {
		web = webURL(srv)
	}
	e.environ = append(e.environ, "GITHUB_TOKEN="+githubdouble.DefaultToken, "MAESTRO_GITHUB_URL="+web, "MAESTRO_ALLOW_HTTP_LOOPBACK=true")
	g := &gitHubTarget{e: e, srv: srv, repo: repo, dir: t.TempDir()}
	e.ok("channel", "add", "--name", "dev")
	e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", "dev")
	e.okJSON(&g.sub, "subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
		"--target-repo", web+"/dotnet/runtime", "--target-branch", "main", "--update-frequency", "everyBuild")
	return g
}

// publish records build n of Arcade (version 10.0.0-beta.n) and returns
// what publish reported.
func (g *gitHubTarget) publish(t *testing.T, n int) string {
	m := writeFile(t, g.dir, fmt.Sprintf("m%d.xml", n), manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main",
		commit: sha(n), azdoBuildID: n, packages: []string{fmt.Sprintf("Microsoft.DotNet.Arcade.Sdk@10.0.0-beta.%d", n)}}.xml())
	r := g.e.run("publish", "--manifest", m)
	require.Equal(t, 0, r.code, r.stderr)
	return r.stderr
}

func (g *gitHubTarget) history(t *testing.T) (results []string) {
	var history []maestro.FlowOutcome
	g.e.okJSON(&history, "flow", "history", "--subscription", g.sub.ID)
	for _, h := range history {
		results = append(results, fmt.Sprintf("%d:%s", h.BuildID, h.Result))
	}
	return results
}

// commits counts the commits on branch that main lacks.
func (g *gitHubTarget) commits(t *testing.T, branch string) int {
	out, err := exec.Command("git", "--git-dir", g.repo.Dir(), "rev-list", "--count", "main.."+branch).Output()
	require.NoError(t, err)
	var n int
	fmt.Sscan(string(out), &n)
	return n
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// TestPendingChecksThenTick: an update that meets pending checks is kept as
// pending work; a newer build supersedes it; once the checks succeed,
// `flow tick` pushes the newest build's update, once.
func TestPendingChecksThenTick(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		g := newGitHubTarget(t, e, nil)
		start := time.Now().UTC()
		assert.Contains(t, g.publish(t, 1), "build 1: updated")
		head := g.repo.PullRequest(1).GetHead().GetRef()
		g.repo.AddCheckRun(gh.CheckRun{HeadSHA: gh.String(g.repo.Branch(head)), Name: gh.String("build"), Status: gh.String("in_progress")})

		assert.Contains(t, g.publish(t, 2), "build 2: rescheduled")
		explain := e.ok("flow", "explain", "--build", "2")
		assert.Contains(t, explain, "pending: build 2 (checks)")
		assert.Contains(t, explain, "next attempt at")
		assert.Contains(t, g.publish(t, 3), "build 3: rescheduled")
		assert.Contains(t, e.ok("flow", "explain", "--build", "3"), "pending: build 3 (checks)", "the newer build supersedes build 2")

		// Still pending at the next attempt: nothing pushed.
		assert.Contains(t, e.ok("flow", "tick", "--now", stamp(start.Add(6*time.Minute))), "build 3: rescheduled")
		assert.Equal(t, 1, g.commits(t, head))

		g.repo.AddCheckRun(gh.CheckRun{HeadSHA: gh.String(g.repo.Branch(head)), Name: gh.String("build"), Status: gh.String("completed"), Conclusion: gh.String("success")})
		assert.Contains(t, e.ok("flow", "tick", "--now", stamp(start.Add(8*time.Minute))), "nothing is due", "not before the next attempt")
		assert.Contains(t, e.ok("flow", "tick", "--now", stamp(start.Add(12*time.Minute))), "build 3: updated")
		got, _ := g.repo.File(head, "global.json")
		assert.Contains(t, got, "10.0.0-beta.3")
		assert.Equal(t, 2, g.commits(t, head), "build 1's commit and build 3's, never build 2's")
		assert.Contains(t, e.ok("flow", "tick", "--now", stamp(start.Add(time.Hour))), "nothing is due")
		assert.Equal(t, 2, g.commits(t, head))
		assert.Len(t, g.repo.PullRequests(), 1)
		assert.NotContains(t, e.ok("flow", "explain", "--build", "3"), "pending:")
		assert.Equal(t, []string{"1:updated", "2:rescheduled", "3:rescheduled", "3:rescheduled", "3:updated"}, g.history(t))
	})
}

// TestPendingChecksThenTickOnLocalRepos is TestPendingChecksThenTick on
// the local platform, whose checks are set with `maestro pr set-check`.
func TestPendingChecksThenTickOnLocalRepos(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		g, target := newLocalTarget(t, e, nil)
		commits := func(branch string) int {
			out, err := exec.Command("git", "--git-dir", target, "rev-list", "--count", "main.."+branch).Output()
			require.NoError(t, err)
			var n int
			fmt.Sscan(string(out), &n)
			return n
		}

		start := time.Now().UTC()
		assert.Contains(t, g.publish(t, 1), "build 1: updated")
		var prs []maestro.PullRequest
		e.okJSON(&prs, "pr", "list", "--repository", target)
		require.Len(t, prs, 1)
		num, head := fmt.Sprint(prs[0].Number), prs[0].HeadBranch
		assert.Equal(t, 1, commits(head))
		assert.Contains(t, e.ok("pr", "set-check", "--repository", target, "--number", num, "--name", "build", "--state", "pending"),
			"pull request #"+num+": check build is pending")
		assert.Contains(t, e.ok("pr", "show", "--repository", target, "--number", num), "check build: pending")

		assert.Contains(t, g.publish(t, 2), "build 2: rescheduled")
		explain := e.ok("flow", "explain", "--build", "2")
		assert.Contains(t, explain, "pending: build 2 (checks)")
		assert.Contains(t, explain, "next attempt at")
		assert.Contains(t, g.publish(t, 3), "build 3: rescheduled")
		assert.Contains(t, e.ok("flow", "explain", "--build", "3"), "pending: build 3 (checks)", "the newer build supersedes build 2")

		// Still pending at the next attempt: nothing pushed.
		assert.Contains(t, e.ok("flow", "tick", "--now", stamp(start.Add(6*time.Minute))), "build 3: rescheduled")
		assert.Equal(t, 1, commits(head))

		e.ok("pr", "set-check", "--repository", target, "--number", num, "--name", "build", "--state", "success")
		assert.Contains(t, e.ok("flow", "tick", "--now", stamp(start.Add(8*time.Minute))), "nothing is due", "not before the next attempt")
		assert.Contains(t, e.ok("flow", "tick", "--now", stamp(start.Add(12*time.Minute))), "build 3: updated")
		assert.Contains(t, showFile(t, target, head, "global.json"), "10.0.0-beta.3")
		assert.Equal(t, 2, commits(head), "build 1's commit and build 3's, never build 2's")
		assert.Contains(t, e.ok("flow", "tick", "--now", stamp(start.Add(time.Hour))), "nothing is due")
		assert.Equal(t, 2, commits(head))
		e.okJSON(&prs, "pr", "list", "--repository", target)
		assert.Len(t, prs, 1)
		assert.NotContains(t, e.ok("flow", "explain", "--build", "3"), "pending:")
		assert.Equal(t, []string{"1:updated", "2:rescheduled", "3:rescheduled", "3:rescheduled", "3:updated"}, g.history(t))

		// Bad input is refused with its exit code and changes nothing.
		r := e.run("pr", "set-check", "--repository", target, "--number", "99", "--name", "build", "--state", "pending")
		assert.Equal(t, 3, r.code, r.stderr)
		assert.Contains(t, r.stderr, "pull request #99 of "+target+" does not exist")
		r = e.run("pr", "set-check", "--repository", target, "--number", num, "--name", "", "--state", "pending")
		assert.Equal(t, 2, r.code, r.stderr)
		var pr maestro.PullRequest
		e.okJSON(&pr, "pr", "show", "--repository", target, "--number", num)
		assert.Equal(t, []maestro.Check{{Name: "build", State: maestro.CheckSuccess}}, pr.Checks)
	})
}

// faultProxy stands between maestro and a host: it answers the first n
// requests that match with status (and Retry-After when set) and passes
// everything else through.
type faultProxy struct {
	*httputil.ReverseProxy
	mu     sync.Mutex
	match  func(*http.Request) bool
	left   int
	status int
	after  string
	faults int
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	fail := p.left > 0 && p.match(r)
	if fail {
		p.left--
		p.faults++
	}
	p.mu.Unlock()
	if fail {
		if p.after != "" {
			w.Header().Set("Retry-After", p.after)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(p.status)
		fmt.Fprintf(w, `{"message":"host trouble %d"}`, p.status)
		return
	}
	p.ReverseProxy.ServeHTTP(w, r)
}

// TestHostFailuresAreRetried: a host that answers 500 twice, or 429 with
// Retry-After, before it creates the pull request: the update lands once,
// after three attempts (backoff, Retry-After honoured), all in the history;
// a host that keeps failing ends in failure with its message.
func TestHostFailuresAreRetried(t *testing.T) {
	for _, tc := range []struct {
		name         string
		status       int
		after        string
		faults       int
		ticks        []time.Duration // after the publish
		wantHistory  []string
		wantPRs      int
		wantLastText string
	}{
		{"500 twice", http.StatusInternalServerError, "", 2, []time.Duration{2 * time.Minute, 5 * time.Minute},
			[]string{"1:rescheduled", "1:rescheduled", "1:updated"}, 1, "opened pull request"},
		{"429 with Retry-After", http.StatusTooManyRequests, "600", 2, []time.Duration{2 * time.Minute, 11 * time.Minute, 22 * time.Minute},
			[]string{"1:rescheduled", "1:rescheduled", "1:updated"}, 1, "opened pull request"},
		{"500 always", http.StatusInternalServerError, "", 100, []time.Duration{2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 20 * time.Minute, 40 * time.Minute},
			[]string{"1:rescheduled", "1:rescheduled", "1:rescheduled", "1:rescheduled", "1:failure"}, 0, "host trouble 500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newLocal(t)
			var proxy *faultProxy
			g := newGitHubTarget(t, e, func(srv *githubdouble.Server) string {
				u, err := url.Parse(srv.URL())
				require.NoError(t, err)
				proxy = &faultProxy{ReverseProxy: httputil.NewSingleHostReverseProxy(u), status: tc.status, after: tc.after, left: tc.faults,
					match: func(r *http.Request) bool {
						return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/repos/dotnet/runtime/pulls")
					}}
				return startServer(t, proxy)
			})
			start := time.Now().UTC()
			assert.Contains(t, g.publish(t, 1), "build 1: rescheduled")
			for _, d := range tc.ticks {
				e.ok("flow", "tick", "--now", stamp(start.Add(d)))
			}
			assert.Equal(t, tc.wantHistory, g.history(t))
			assert.Len(t, g.repo.PullRequests(), tc.wantPRs)
			var history []maestro.FlowOutcome
			e.okJSON(&history, "flow", "history", "--subscription", g.sub.ID)
			assert.Contains(t, history[len(history)-1].Message, tc.wantLastText)
			assert.NotContains(t, e.ok("flow", "explain", "--build", "1"), "pending:", "no pending work is left")
			assert.Contains(t, e.ok("flow", "tick", "--now", stamp(start.Add(24*time.Hour))), "nothing is due")
		})
	}
}

// startServer serves h on a loopback port until the test ends and returns its URL.
func startServer(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestPendingPolicyThenTickOnAzureRepos: on the Azure DevOps double, a
// build-validation policy still running keeps the update pending; a newer
// build supersedes it; once the policy approves, `flow tick` pushes the
// newest build's update, once.
func TestPendingPolicyThenTickOnAzureRepos(t *testing.T) {
	e := newLocal(t)
	srv := azdo.NewServer(t, azdo.WithPAT("maestro-pat"))
	repo := srv.AddRepository(srv.AddProject("internal"), "dotnet-runtime")
	repo.Commit("main", map[string][]byte{
		"eng/Version.Details.xml": []byte("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Dependencies>\n  <ToolsetDependencies>\n" +
			"    <Dependency Name=\"Microsoft.DotNet.Arcade.Sdk\" Version=\"9.0.0-beta.1\">\n      <Uri>https://github.com/dotnet/arcade</Uri>\n" +
			"      <Sha>0000000000000000000000000000000000000001</Sha>\n    </Dependency>\n  </ToolsetDependencies>\n</Dependencies>\n"),
		"global.json": []byte("{\n  \"msbuild-sdks\": {\n    \"Microsoft.DotNet.Arcade.Sdk\": \"9.0.0-beta.1\"\n  }\n}\n"),
	}, "initial")
	e.environ = append(e.environ, "MAESTRO_AZDO_TOKEN=maestro-pat", "MAESTRO_AZDO_SERVER_URLS="+srv.OrganizationURL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true")
	e.ok("channel", "add", "--name", "dev")
	e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", "dev")
	var sub maestro.Subscription
	e.okJSON(&sub, "subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
		"--target-repo", repo.WebURL(), "--target-branch", "main", "--update-frequency", "everyBuild")
	g := &gitHubTarget{e: e, sub: sub, dir: t.TempDir()}
	start := time.Now().UTC()
	assert.Contains(t, g.publish(t, 1), "build 1: updated")
	prs := srv.PullRequests()
	require.Len(t, prs, 1)
	id := *prs[0].PullRequestId
	head := strings.TrimPrefix(*prs[0].SourceRefName, "refs/heads/")
	running := azdo.PolicyEvaluation{Type: "Build", Status: policy.PolicyEvaluationStatusValues.Running, Blocking: true,
		Settings: map[string]any{"buildDefinitionId": 7, "displayName": "CI"}}
	srv.SetPolicyEvaluations(id, running)
	assert.Contains(t, g.publish(t, 2), "build 2: rescheduled")
	assert.Contains(t, g.publish(t, 3), "build 3: rescheduled")
	assert.Contains(t, e.ok("flow", "explain", "--build", "3"), "pending: build 3 (checks)")

	approved := running
	approved.Status = policy.PolicyEvaluationStatusValues.Approved
	srv.SetPolicyEvaluations(id, approved)
	assert.Contains(t, e.ok("flow", "tick", "--now", stamp(start.Add(6*time.Minute))), "build 3: updated")
	got, err := repo.ReadFile(head, "global.json")
	require.NoError(t, err)
	assert.Contains(t, string(got), "10.0.0-beta.3")
	assert.Contains(t, e.ok("flow", "tick", "--now", stamp(start.Add(time.Hour))), "nothing is due")
	assert.Len(t, srv.PullRequests(), 1)
	assert.Equal(t, []string{"1:updated", "2:rescheduled", "3:rescheduled", "3:updated"}, g.history(t))
}

// TestConcurrentTicksRunPendingWorkOnce: four `flow tick` processes started
// together over one pending update push it once; the others find it claimed
// or done.
func TestConcurrentTicksRunPendingWorkOnce(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		g := newGitHubTarget(t, e, nil)
		start := time.Now().UTC()
		assert.Contains(t, g.publish(t, 1), "build 1: updated")
		head := g.repo.PullRequest(1).GetHead().GetRef()
		g.repo.AddCheckRun(gh.CheckRun{HeadSHA: gh.String(g.repo.Branch(head)), Name: gh.String("build"), Status: gh.String("in_progress")})
		assert.Contains(t, g.publish(t, 2), "build 2: rescheduled")
		g.repo.AddCheckRun(gh.CheckRun{HeadSHA: gh.String(g.repo.Branch(head)), Name: gh.String("build"), Status: gh.String("completed"), Conclusion: gh.String("success")})

		var wg sync.WaitGroup
		results := make([]result, 4)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = e.run("flow", "tick", "--now", stamp(start.Add(6*time.Minute)))
			}()
		}
		wg.Wait()
		updated := 0
		for _, r := range results {
			require.Equal(t, 0, r.code, r.stderr)
			updated += strings.Count(r.stdout, "build 2: updated")
		}
		assert.Equal(t, 1, updated, "one tick pushed")
		assert.Equal(t, 2, g.commits(t, head))
		got, _ := g.repo.File(head, "global.json")
		assert.Contains(t, got, "10.0.0-beta.2")
		history := g.history(t)
		assert.Equal(t, 1, strings.Count(strings.Join(history, " "), "2:updated"), history)
		assert.Contains(t, e.ok("flow", "tick", "--now", stamp(start.Add(time.Hour))), "nothing is due")
	})
}
