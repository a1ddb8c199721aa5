package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	gh "github.com/google/go-github/v60/github"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// TestOversizedGitHubPullRequestLinksTheFullList: a build that updates 500
// dependencies renders a pull request body of about 100,000 characters; the
// GitHub double refuses bodies over 65,536 characters like GitHub, so the
// pull request opens only because the body is cut to fit: after whole
// lines, its section closed, ending with a link to GitHub's compare page of
// the pull request branch, which holds every change. The next build
// rewrites the cut section in place.
func TestOversizedGitHubPullRequestLinksTheFullList(t *testing.T) {
	const n = 500
	var details strings.Builder
	details.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Dependencies>\n  <ProductDependencies>\n")
	for i := range n {
		// Each dependency at its own version: one "From ... to ..." group,
		// with a compare link, per dependency.
		fmt.Fprintf(&details, "    <Dependency Name=\"Microsoft.Extensions.Package%04d\" Version=\"9.0.%d\">\n      <Uri>https://github.com/dotnet/arcade</Uri>\n      <Sha>%s</Sha>\n    </Dependency>\n", i, i, sha(1000+i))
	}
	details.WriteString("  </ProductDependencies>\n  <ToolsetDependencies>\n  </ToolsetDependencies>\n</Dependencies>\n")
	e := newLocal(t)
	srv := githubdouble.NewServer(t)
	repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"eng/Version.Details.xml": details.String()}})
	e.environ = append(e.environ, "GITHUB_TOKEN="+githubdouble.DefaultToken, "MAESTRO_GITHUB_URL="+srv.URL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true")
	e.ok("channel", "add", "--name", "dev")
	e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", "dev")
	var sub maestro.Subscription
	e.okJSON(&sub, "subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
		"--target-repo", srv.URL()+"/dotnet/runtime", "--target-branch", "main", "--update-frequency", "everyBuild")
	dir := t.TempDir()
	publish := func(build int) string {
		var packages []string
		for i := range n {
			// Versions differ per package: one group per dependency again.
			packages = append(packages, fmt.Sprintf("Microsoft.Extensions.Package%04d@10.0.%d-beta.%d", i, i, build))
		}
		m := writeFile(t, dir, fmt.Sprintf("m%d.xml", build), manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main",
			commit: sha(build), azdoBuildID: build, packages: packages}.xml())
		r := e.run("publish", "--manifest", m)
		require.Equal(t, 0, r.code, r.stderr)
		return r.stderr
	}

	require.Contains(t, publish(1), "build 1: updated")
	prs := repo.PullRequests()
	require.Len(t, prs, 1)
	head := prs[0].GetHead().GetRef()
	body := prs[0].GetBody()
	note := "\n\n... The description was too long; the full list of updates is at " + srv.URL() + "/dotnet/runtime/compare/main..." + head + "\n"
	assert.LessOrEqual(t, utf8.RuneCountInString(body), 65536)
	assert.Greater(t, utf8.RuneCountInString(body), 60000, "the cut keeps what fits")
	assert.True(t, strings.HasSuffix(body, "[marker]: <> (End:"+sub.ID+")\n"+note), body[len(body)-400:])
	assert.Contains(t, body, "Microsoft.Extensions.Package0000")
	assert.NotContains(t, body, fmt.Sprintf("Microsoft.Extensions.Package%04d", n-1), "the tail is behind the link")
	got, ok := repo.File(head, "eng/Version.Details.xml")
	require.True(t, ok)
	assert.Equal(t, n, strings.Count(got, `-beta.1"`), "the linked branch has every update")
	for _, r := range srv.Requests() {
		assert.NotEqual(t, http.StatusUnprocessableEntity, r.Status, "%s %s", r.Method, r.Path)
	}

	require.Contains(t, publish(2), "build 2: updated")
	prs = repo.PullRequests()
	require.Len(t, prs, 1, "updated in place")
	body = prs[0].GetBody()
	assert.LessOrEqual(t, utf8.RuneCountInString(body), 65536)
	assert.Equal(t, 1, strings.Count(body, "(Begin:"+sub.ID+")"), "the cut section is rewritten, not appended")
	assert.Equal(t, 1, strings.Count(body, "The description was too long"))
	assert.Contains(t, body, "- **Build**: 20261125.2 ")
	assert.NotContains(t, body, "20261125.1")
	got, _ = repo.File(head, "eng/Version.Details.xml")
	assert.Equal(t, n, strings.Count(got, `-beta.2"`))
}

// TestProtectedBranchRefusesTheMerge: the dependency pull request the flow
// opened on GitHub targets a branch whose protection requires the check
// "build"; while that check fails, the product's merge (the GitHub platform
// as the composition root builds it for the command line and the server)
// is refused by the double with GitHub's 405 and reported as a conflict
// with GitHub's reason; nothing is merged. Once the check passes, the same
// merge succeeds.
func TestProtectedBranchRefusesTheMerge(t *testing.T) {
	ctx := context.Background()
	e := newLocal(t)
	g := newGitHubTarget(t, e, nil)
	assert.Contains(t, g.publish(t, 1), "build 1: updated")
	gpr := g.repo.PullRequest(1)
	headSHA := gpr.GetHead().GetSHA()
	client := g.srv.Client(githubdouble.DefaultToken)
	checks := []*gh.RequiredStatusCheck{{Context: "build"}}
	_, _, err := client.Repositories.UpdateBranchProtection(ctx, "dotnet", "runtime", "main",
		&gh.ProtectionRequest{RequiredStatusChecks: &gh.RequiredStatusChecks{Checks: &checks}})
	require.NoError(t, err)
	g.repo.AddCheckRun(gh.CheckRun{Name: gh.String("build"), HeadSHA: gh.String(headSHA), Status: gh.String("completed"), Conclusion: gh.String("failure")})
	base := g.repo.Branch("main")

	environ := map[string]string{"GITHUB_TOKEN": githubdouble.DefaultToken, wire.EnvGitHubURL: g.srv.URL(), wire.EnvAllowHTTPLoopback: "true"}
	p, err := wire.Env{Getenv: func(k string) string { return environ[k] }, Now: time.Now}.Platform(nil, g.srv.URL()+"/dotnet/runtime")
	require.NoError(t, err)
	pr, err := p.PullRequest(ctx, g.srv.URL()+"/dotnet/runtime", 1)
	require.NoError(t, err)
	err = p.Merge(ctx, pr, platform.MergeOptions{Head: headSHA, Message: "Merge pull request #1"})
	require.ErrorIs(t, err, platform.ErrMergeRefused)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err))
	assert.Equal(t, `merge `+pr.URL+`: GitHub refused the merge: Required status check "build" is failing.`, err.Error())
	assert.NotContains(t, err.Error(), githubdouble.DefaultToken)
	assert.Equal(t, base, g.repo.Branch("main"), "nothing merged")
	assert.Equal(t, "blocked", g.repo.PullRequest(1).GetMergeableState())
	last := g.srv.Requests()[len(g.srv.Requests())-1]
	assert.Equal(t, http.StatusMethodNotAllowed, last.Status, "%s %s", last.Method, last.Path)

	g.repo.AddCheckRun(gh.CheckRun{Name: gh.String("build"), HeadSHA: gh.String(headSHA), Status: gh.String("completed"), Conclusion: gh.String("success")})
	require.NoError(t, p.Merge(ctx, pr, platform.MergeOptions{Head: headSHA, Message: "Merge pull request #1"}))
	got, _ := g.repo.File("main", "global.json")
	assert.Contains(t, got, "10.0.0-beta.1")
}

// TestSecondaryRateLimitDelaysTheUpdate: GitHub's secondary rate limit
// (403 with Retry-After: 90) refuses the update's first request twice; each
// time the update waits as pending work (reason rate-limit, not counted as
// a failed attempt) and `flow tick` does not run it before Retry-After has
// passed; it lands at the first tick after that.
func TestSecondaryRateLimitDelaysTheUpdate(t *testing.T) {
	e := newLocal(t)
	g := newGitHubTarget(t, e, nil)
	const retryAfter = 90 * time.Second
	g.srv.TripSecondaryRateLimit(2, retryAfter)
	at := func(d time.Time) string { return d.UTC().Format(time.RFC3339Nano) }
	lastAttempt := func() maestro.FlowOutcome {
		var history []maestro.FlowOutcome
		e.okJSON(&history, "flow", "history", "--subscription", g.sub.ID)
		require.NotEmpty(t, history)
		return history[len(history)-1]
	}

	assert.Contains(t, g.publish(t, 1), "build 1: rescheduled")
	first := lastAttempt()
	assert.Contains(t, first.Message, "You have exceeded a secondary rate limit")
	assert.Contains(t, first.Message, "not counted as an attempt")
	explain := e.ok("flow", "explain", "--build", "1")
	assert.Contains(t, explain, "pending: build 1 (rate-limit)")
	assert.Contains(t, explain, "0 attempts; next attempt at "+first.Time.Add(retryAfter).UTC().Format(time.RFC3339))

	assert.Contains(t, e.ok("flow", "tick", "--now", at(first.Time.Add(retryAfter-time.Second))), "nothing is due")
	assert.Contains(t, e.ok("flow", "tick", "--now", at(first.Time.Add(retryAfter))), "build 1: rescheduled", "refused again")
	second := lastAttempt()
	assert.Empty(t, g.repo.PullRequests())

	assert.Contains(t, e.ok("flow", "tick", "--now", at(second.Time.Add(retryAfter-time.Second))), "nothing is due")
	assert.Contains(t, e.ok("flow", "tick", "--now", at(second.Time.Add(retryAfter))), "build 1: updated")
	prs := g.repo.PullRequests()
	require.Len(t, prs, 1)
	got, _ := g.repo.File(prs[0].GetHead().GetRef(), "global.json")
	assert.Contains(t, got, "10.0.0-beta.1")
	assert.Equal(t, []string{"1:rescheduled", "1:rescheduled", "1:updated"}, g.history(t))
	assert.NotContains(t, e.ok("flow", "explain", "--build", "1"), "pending:")
	var history []maestro.FlowOutcome
	e.okJSON(&history, "flow", "history", "--subscription", g.sub.ID)
	for _, h := range history {
		assert.NotContains(t, h.Message, githubdouble.DefaultToken)
	}
	refused := 0
	for _, r := range g.srv.Requests() {
		if r.Status == http.StatusForbidden {
			refused++
		}
	}
	assert.Equal(t, 2, refused, "one refused request per attempt: the attempt stops at the limit")
}

// TestAutoMergeThroughTheCompositionRoot: the GitHub platform as the
// composition root builds it (GHES URLs, the redacting transport, the
// token) switches GitHub's auto-merge on through GraphQL at the enterprise
// endpoint; GitHub waits for the pending required check, then merges.
func TestAutoMergeThroughTheCompositionRoot(t *testing.T) {
	ctx := context.Background()
	srv := githubdouble.NewServer(t)
	repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"README.md": "hello\n"}, AllowAutoMerge: true})
	head := repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-1", Files: map[string]string{"README.md": "changed\n"}})
	client := srv.Client(githubdouble.DefaultToken)
	checks := []*gh.RequiredStatusCheck{{Context: "build"}}
	_, _, err := client.Repositories.UpdateBranchProtection(ctx, "dotnet", "runtime", "main",
		&gh.ProtectionRequest{RequiredStatusChecks: &gh.RequiredStatusChecks{Checks: &checks}})
	require.NoError(t, err)
	_, _, err = client.PullRequests.Create(ctx, "dotnet", "runtime", &gh.NewPullRequest{Title: gh.String("t"), Head: gh.String("darc-main-1"), Base: gh.String("main")})
	require.NoError(t, err)
	repo.AddCheckRun(gh.CheckRun{Name: gh.String("build"), HeadSHA: gh.String(head), Status: gh.String("queued")})

	environ := map[string]string{"GITHUB_TOKEN": githubdouble.DefaultToken, wire.EnvGitHubURL: srv.URL(), wire.EnvAllowHTTPLoopback: "true"}
	p, err := wire.Env{Getenv: func(k string) string { return environ[k] }, Now: time.Now}.Platform(nil, srv.URL()+"/dotnet/runtime")
	require.NoError(t, err)
	am, ok := p.(platform.AutoMerger)
	require.True(t, ok, "the GitHub platform merges natively")
	pr, err := p.PullRequest(ctx, srv.URL()+"/dotnet/runtime", 1)
	require.NoError(t, err)
	require.NoError(t, am.EnableAutoMerge(ctx, pr, platform.MergeOptions{Head: head, Message: "Update dependencies (#1)"}))
	var graphQL bool
	for _, r := range srv.Requests() {
		graphQL = graphQL || (r.Method == http.MethodPost && r.Path == "/api/graphql" && r.Status == http.StatusOK)
	}
	assert.True(t, graphQL, "GraphQL at the enterprise endpoint")
	st, err := p.Status(ctx, pr)
	require.NoError(t, err)
	assert.True(t, st.AutoMerge)
	assert.Equal(t, maestro.PullRequestOpen, st.State)

	repo.AddCheckRun(gh.CheckRun{Name: gh.String("build"), HeadSHA: gh.String(head), Status: gh.String("completed"), Conclusion: gh.String("success")})
	st, err = p.Status(ctx, pr)
	require.NoError(t, err)
	assert.Equal(t, maestro.PullRequestMerged, st.State)
	got, _ := repo.File("main", "README.md")
	assert.Equal(t, "changed\n", got)
}
