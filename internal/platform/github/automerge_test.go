package github_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	gh "github.com/google/go-github/v60/github"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/platform/github"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// autoMergeFixture is a repository that allows auto-merge, whose main
// branch requires the check "build", and a pull request into it.
type autoMergeFixture struct {
	srv  *githubdouble.Server
	repo *githubdouble.Repo
	p    *github.Platform
	pr   maestro.PullRequest
	head string
	base string
}

func newAutoMergeFixture(t *testing.T, spec githubdouble.RepoSpec) autoMergeFixture {
	ctx := context.Background()
	srv := githubdouble.NewServer(t)
	spec.Owner, spec.Name, spec.Files = "dotnet", "runtime", map[string]string{"README.md": "hello\n"}
	repo := srv.AddRepo(spec)
	head := repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-1", Files: map[string]string{"README.md": "changed\n"}})
	client := srv.Client(githubdouble.DefaultToken)
	checks := []*gh.RequiredStatusCheck{{Context: "build"}}
	_, _, err := client.Repositories.UpdateBranchProtection(ctx, "dotnet", "runtime", "main",
		&gh.ProtectionRequest{RequiredStatusChecks: &gh.RequiredStatusChecks{Checks: &checks}})
	require.NoError(t, err)
	p := github.New(client, srv.URL(), githubdouble.DefaultToken, git.Identity{Name: "maestro-bot", Email: "maestro-bot@users.noreply.github.com"})
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: srv.URL() + "/dotnet/runtime", Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	return autoMergeFixture{srv: srv, repo: repo, p: p, pr: pr, head: head, base: repo.Branch("main")}
}

// TestEnableAutoMergeWaitsForTheRequiredCheck: with the required check
// pending, EnableAutoMerge switches GitHub's auto-merge on (squash, the
// message's title and body), which REST and Status read back, and nothing
// merges; asking again is success. When the check succeeds GitHub (the
// double) merges the judged head as one squash commit with the message.
func TestEnableAutoMergeWaitsForTheRequiredCheck(t *testing.T) {
	ctx := context.Background()
	f := newAutoMergeFixture(t, githubdouble.RepoSpec{AllowAutoMerge: true})
	f.repo.AddCheckRun(gh.CheckRun{Name: gh.String("build"), HeadSHA: gh.String(f.head), Status: gh.String("in_progress")})

	opts := platform.MergeOptions{Head: f.head, Message: "[main] Update dependencies\n\nFrom build 20261205.1"}
	require.NoError(t, f.p.EnableAutoMerge(ctx, f.pr, opts))
	got, _, err := f.srv.Client(githubdouble.DefaultToken).PullRequests.Get(ctx, "dotnet", "runtime", f.pr.Number)
	require.NoError(t, err)
	require.NotNil(t, got.AutoMerge, "auto_merge is set")
	assert.Equal(t, "squash", got.AutoMerge.GetMergeMethod())
	assert.Equal(t, "[main] Update dependencies", got.AutoMerge.GetCommitTitle())
	assert.Equal(t, "From build 20261205.1", got.AutoMerge.GetCommitMessage())
	assert.False(t, got.GetMerged(), "not merged while the required check is pending")
	assert.Equal(t, f.base, f.repo.Branch("main"))
	st, err := f.p.Status(ctx, f.pr)
	require.NoError(t, err)
	assert.True(t, st.AutoMerge)
	assert.Equal(t, maestro.PullRequestOpen, st.State)
	require.NoError(t, f.p.EnableAutoMerge(ctx, f.pr, opts), "already on is success")

	f.repo.AddCheckRun(gh.CheckRun{Name: gh.String("build"), HeadSHA: gh.String(f.head), Status: gh.String("completed"), Conclusion: gh.String("success")})
	st, err = f.p.Status(ctx, f.pr)
	require.NoError(t, err)
	assert.Equal(t, maestro.PullRequestMerged, st.State, "GitHub merged it once the check passed")
	assert.False(t, st.AutoMerge)
	merged := f.repo.PullRequest(f.pr.Number).GetMergeCommitSHA()
	assert.Equal(t, merged, f.repo.Branch("main"))
	out, err := exec.Command("git", "--git-dir", f.repo.Dir(), "log", "-1", "--format=%P%x00%B", merged).Output()
	require.NoError(t, err)
	parents, message, _ := strings.Cut(string(out), "\x00")
	assert.Equal(t, f.base, parents, "one squash commit on main")
	assert.Equal(t, "[main] Update dependencies\n\nFrom build 20261205.1", strings.TrimRight(message, "\n"))
	require.NoError(t, f.p.DeleteBranch(ctx, f.pr.Repository, f.pr.HeadBranch))
}

// TestEnableAutoMergeRefusals: GitHub's refusals are conflicts wrapping
// platform.ErrMergeRefused with GitHub's message — a repository that does
// not allow auto-merge, a pull request that can merge now (clean status) —
// and so is a head that is not the judged one; nothing is switched on.
func TestEnableAutoMergeRefusals(t *testing.T) {
	ctx := context.Background()
	t.Run("not allowed", func(t *testing.T) {
		f := newAutoMergeFixture(t, githubdouble.RepoSpec{})
		err := f.p.EnableAutoMerge(ctx, f.pr, platform.MergeOptions{Head: f.head, Message: "m"})
		require.ErrorIs(t, err, platform.ErrMergeRefused)
		assert.Equal(t, maestro.KindConflict, maestro.KindOf(err))
		assert.Equal(t, fmt.Sprintf("enable auto-merge of %s: GitHub refused the merge: Auto merge is not allowed for this repository", f.pr.URL), err.Error())
		assert.Nil(t, f.repo.PullRequest(f.pr.Number).AutoMerge)
	})
	t.Run("clean status", func(t *testing.T) {
		f := newAutoMergeFixture(t, githubdouble.RepoSpec{AllowAutoMerge: true})
		f.repo.AddCheckRun(gh.CheckRun{Name: gh.String("build"), HeadSHA: gh.String(f.head), Status: gh.String("completed"), Conclusion: gh.String("success")})
		err := f.p.EnableAutoMerge(ctx, f.pr, platform.MergeOptions{Head: f.head, Message: "m"})
		require.ErrorIs(t, err, platform.ErrMergeRefused)
		assert.Contains(t, err.Error(), "is in clean status")
		assert.Nil(t, f.repo.PullRequest(f.pr.Number).AutoMerge)
	})
	t.Run("head moved", func(t *testing.T) {
		f := newAutoMergeFixture(t, githubdouble.RepoSpec{AllowAutoMerge: true})
		later := f.repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-1", Files: map[string]string{"README.md": "again\n"}})
		err := f.p.EnableAutoMerge(ctx, f.pr, platform.MergeOptions{Head: f.head, Message: "m"})
		require.ErrorIs(t, err, platform.ErrMergeRefused)
		assert.Contains(t, err.Error(), "the head is "+later)
		assert.Nil(t, f.repo.PullRequest(f.pr.Number).AutoMerge)
	})
}

func TestGraphQLURL(t *testing.T) {
	for api, want := range map[string]string{
		"https://api.github.com/":              "https://api.github.com/graphql",
		"https://ghes.contoso.com/api/v3/":     "https://ghes.contoso.com/api/graphql",
		"http://127.0.0.1:8080/prefix/api/v3/": "http://127.0.0.1:8080/prefix/api/graphql",
	} {
		u, err := url.Parse(api)
		require.NoError(t, err)
		got, err := github.GraphQLURL(u)
		require.NoError(t, err)
		assert.Equal(t, want, got, api)
	}
}

// graphQLRequests counts the GraphQL requests srv has answered.
func graphQLRequests(srv *githubdouble.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/graphql") {
			n++
		}
	}
	return n
}

// TestDisableAutoMergeKeepsThePullRequestOpen: with auto-merge on and the
// required check pending, DisableAutoMerge turns it off (REST and Status
// read it back), and when the check then passes GitHub (the double) no
// longer merges: the pull request stays open and main does not move.
// Disabling again is success, without a mutation.
func TestDisableAutoMergeKeepsThePullRequestOpen(t *testing.T) {
	ctx := context.Background()
	f := newAutoMergeFixture(t, githubdouble.RepoSpec{AllowAutoMerge: true})
	f.repo.AddCheckRun(gh.CheckRun{Name: gh.String("build"), HeadSHA: gh.String(f.head), Status: gh.String("in_progress")})
	require.NoError(t, f.p.EnableAutoMerge(ctx, f.pr, platform.MergeOptions{Head: f.head, Message: "[main] Update dependencies"}))
	st, err := f.p.Status(ctx, f.pr)
	require.NoError(t, err)
	require.True(t, st.AutoMerge)

	require.NoError(t, f.p.DisableAutoMerge(ctx, f.pr))
	assert.Nil(t, f.repo.PullRequest(f.pr.Number).AutoMerge, "auto_merge is null")
	st, err = f.p.Status(ctx, f.pr)
	require.NoError(t, err)
	assert.False(t, st.AutoMerge)

	f.repo.AddCheckRun(gh.CheckRun{Name: gh.String("build"), HeadSHA: gh.String(f.head), Status: gh.String("completed"), Conclusion: gh.String("success")})
	st, err = f.p.Status(ctx, f.pr)
	require.NoError(t, err)
	assert.Equal(t, maestro.PullRequestOpen, st.State, "not merged once the required check passed")
	assert.False(t, st.AutoMerge)
	assert.Equal(t, f.base, f.repo.Branch("main"))

	before := graphQLRequests(f.srv)
	require.NoError(t, f.p.DisableAutoMerge(ctx, f.pr), "off already is success")
	assert.Equal(t, before, graphQLRequests(f.srv), "no mutation for auto-merge that is off")
}

// TestDisableAutoMergeWhenOff: a pull request whose auto-merge was never
// enabled, and one that is closed, are success without a mutation (GitHub
// would refuse it: "Can't disable auto-merge for this pull request.").
func TestDisableAutoMergeWhenOff(t *testing.T) {
	ctx := context.Background()
	f := newAutoMergeFixture(t, githubdouble.RepoSpec{AllowAutoMerge: true})
	require.NoError(t, f.p.DisableAutoMerge(ctx, f.pr), "never enabled")
	_, _, err := f.srv.Client(githubdouble.DefaultToken).PullRequests.Edit(ctx, "dotnet", "runtime", f.pr.Number, &gh.PullRequest{State: gh.String("closed")})
	require.NoError(t, err)
	require.NoError(t, f.p.DisableAutoMerge(ctx, f.pr), "closed")
	assert.Zero(t, graphQLRequests(f.srv))
}

// raceTransport runs before once, before the first request whose path
// ends in suffix is sent.
type raceTransport struct {
	suffix string
	before func()
}

func (rt *raceTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if rt.before != nil && strings.HasSuffix(r.URL.Path, rt.suffix) {
		rt.before()
		rt.before = nil
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestDisableAutoMergeWhileGitHubMerges: the required check passes after
// DisableAutoMerge read the pull request with auto-merge on and before its
// mutation arrives, so GitHub merges and then refuses the mutation. The
// pull request, read again, has auto-merge off: success, and Status
// reports it merged.
func TestDisableAutoMergeWhileGitHubMerges(t *testing.T) {
	ctx := context.Background()
	f := newAutoMergeFixture(t, githubdouble.RepoSpec{AllowAutoMerge: true})
	f.repo.AddCheckRun(gh.CheckRun{Name: gh.String("build"), HeadSHA: gh.String(f.head), Status: gh.String("in_progress")})
	require.NoError(t, f.p.EnableAutoMerge(ctx, f.pr, platform.MergeOptions{Head: f.head, Message: "[main] Update dependencies"}))

	rt := &raceTransport{suffix: "/graphql", before: func() {
		f.repo.AddCheckRun(gh.CheckRun{Name: gh.String("build"), HeadSHA: gh.String(f.head), Status: gh.String("completed"), Conclusion: gh.String("success")})
	}}
	client, err := gh.NewClient(&http.Client{Transport: rt}).WithAuthToken(githubdouble.DefaultToken).WithEnterpriseURLs(f.srv.APIURL(), f.srv.APIURL())
	require.NoError(t, err)
	p := github.New(client, f.srv.URL(), githubdouble.DefaultToken, git.Identity{Name: "maestro-bot", Email: "maestro-bot@users.noreply.github.com"})

	require.NoError(t, p.DisableAutoMerge(ctx, f.pr))
	require.Nil(t, rt.before, "the check passed between the read and the mutation")
	st, err := p.Status(ctx, f.pr)
	require.NoError(t, err)
	assert.Equal(t, maestro.PullRequestMerged, st.State, "GitHub merged before the mutation arrived")
}

// TestDisableAutoMergeForbidden: a token that may not write pull requests
// gets GitHub's refusal with what the token needs; auto-merge stays on.
func TestDisableAutoMergeForbidden(t *testing.T) {
	ctx := context.Background()
	f := newAutoMergeFixture(t, githubdouble.RepoSpec{AllowAutoMerge: true})
	f.repo.AddCheckRun(gh.CheckRun{Name: gh.String("build"), HeadSHA: gh.String(f.head), Status: gh.String("in_progress")})
	require.NoError(t, f.p.EnableAutoMerge(ctx, f.pr, platform.MergeOptions{Head: f.head, Message: "m"}))
	f.srv.SetPermissions(githubdouble.DefaultToken, map[string]string{"pull_requests": "read", "contents": "write"})

	err := f.p.DisableAutoMerge(ctx, f.pr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Resource not accessible by personal access token")
	assert.Contains(t, err.Error(), "the token needs pull requests write access")
	assert.NotNil(t, f.repo.PullRequest(f.pr.Number).AutoMerge)
}
