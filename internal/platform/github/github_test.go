package github_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	gh "github.com/google/go-github/v60/github"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/platform/github"
	"github.com/maestroplusplus/maestro/internal/platform/platformtest"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

func TestConformance(t *testing.T) {
	platformtest.Run(t, func(t *testing.T) platformtest.Fixture {
		srv := githubdouble.NewServer(t)
		srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"README.md": "hello\n"}})
		p := github.New(srv.Client(githubdouble.DefaultToken), srv.URL(), githubdouble.DefaultToken,
			git.Identity{Name: "maestro-bot", Email: "maestro-bot@users.noreply.github.com"})
		return platformtest.Fixture{Platform: p, Repo: srv.URL() + "/dotnet/runtime"}
	})
}

// TestBodiesWithinGitHubsLimit: GitHub counts characters, so a pull request
// body of 65,536 two-byte characters is accepted and one more is refused
// (the updater cuts bodies before they get here); a comment over the limit
// is cut to fit, keeps its beginning in whole lines, and says it was cut.
func TestBodiesWithinGitHubsLimit(t *testing.T) {
	ctx := context.Background()
	srv := githubdouble.NewServer(t)
	repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"README.md": "hello\n"}})
	repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-1", Files: map[string]string{"README.md": "changed\n"}})
	p := github.New(srv.Client(githubdouble.DefaultToken), srv.URL(), githubdouble.DefaultToken,
		git.Identity{Name: "maestro-bot", Email: "maestro-bot@users.noreply.github.com"})

	full := strings.Repeat("é", github.MaxBody)
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: srv.URL() + "/dotnet/runtime", Title: "t", Body: full, HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err, "65,536 characters are accepted, whatever their bytes")
	assert.Equal(t, full, repo.PullRequest(pr.Number).GetBody())
	pr.Body = full + "x"
	err = p.UpdatePullRequest(ctx, pr)
	var ghErr *gh.ErrorResponse
	require.ErrorAs(t, err, &ghErr, "one character more is refused")
	assert.Equal(t, http.StatusUnprocessableEntity, ghErr.Response.StatusCode)

	var long strings.Builder
	for i := 0; long.Len() < 3*github.MaxBody; i++ {
		fmt.Fprintf(&long, "- Microsoft.Extensions.Package%05d: 9.0.%d → 10.0.0 ✓\n", i, i)
	}
	require.NoError(t, p.Comment(ctx, pr, long.String()))
	comments := repo.Comments(pr.Number)
	require.Len(t, comments, 1)
	got := comments[0].GetBody()
	assert.LessOrEqual(t, utf8.RuneCountInString(got), github.MaxBody)
	kept, ok := strings.CutSuffix(got, "\n\n... This comment was too long for GitHub and was cut here.\n")
	require.True(t, ok, got[len(got)-200:])
	assert.True(t, strings.HasPrefix(long.String(), kept) && strings.HasSuffix(kept, "✓\n"), "whole lines of the comment")
	assert.Greater(t, utf8.RuneCountInString(kept), github.MaxBody-200, "the cut keeps what fits")

	require.NoError(t, p.Comment(ctx, pr, "short"))
	assert.Equal(t, "short", repo.Comments(pr.Number)[1].GetBody(), "a comment that fits is sent as it is")
}

// TestMergeRefusedByBranchProtection: GitHub's 405 for a protected branch
// whose required check fails is a conflict wrapping platform.ErrMergeRefused
// with GitHub's reason; the pull request stays open and the base unmoved;
// once the check passes the same merge succeeds.
func TestMergeRefusedByBranchProtection(t *testing.T) {
	ctx := context.Background()
	srv := githubdouble.NewServer(t)
	repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"README.md": "hello\n"}})
	head := repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-1", Files: map[string]string{"README.md": "changed\n"}})
	client := srv.Client(githubdouble.DefaultToken)
	checks := []*gh.RequiredStatusCheck{{Context: "build"}}
	_, _, err := client.Repositories.UpdateBranchProtection(ctx, "dotnet", "runtime", "main",
		&gh.ProtectionRequest{RequiredStatusChecks: &gh.RequiredStatusChecks{Checks: &checks}})
	require.NoError(t, err)
	p := github.New(client, srv.URL(), githubdouble.DefaultToken, git.Identity{Name: "maestro-bot", Email: "maestro-bot@users.noreply.github.com"})
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: srv.URL() + "/dotnet/runtime", Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	base := repo.Branch("main")
	repo.AddCheckRun(gh.CheckRun{Name: gh.String("build"), HeadSHA: gh.String(head), Status: gh.String("completed"), Conclusion: gh.String("failure")})

	err = p.Merge(ctx, pr, platform.MergeOptions{Head: head, Message: "Merge"})
	require.ErrorIs(t, err, platform.ErrMergeRefused)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err))
	assert.Equal(t, fmt.Sprintf(`merge %s: GitHub refused the merge: Required status check "build" is failing.`, pr.URL), err.Error())
	var ghErr *gh.ErrorResponse
	require.ErrorAs(t, err, &ghErr, "the host's answer stays in the chain")
	assert.Equal(t, http.StatusMethodNotAllowed, ghErr.Response.StatusCode)
	assert.Equal(t, "blocked", repo.PullRequest(pr.Number).GetMergeableState())
	assert.Equal(t, base, repo.Branch("main"), "nothing merged")
	got, err := p.PullRequest(ctx, pr.Repository, pr.Number)
	require.NoError(t, err)
	assert.Equal(t, maestro.PullRequestOpen, got.State)

	repo.AddCheckRun(gh.CheckRun{Name: gh.String("build"), HeadSHA: gh.String(head), Status: gh.String("completed"), Conclusion: gh.String("success")})
	require.NoError(t, p.Merge(ctx, pr, platform.MergeOptions{Head: head, Message: "Merge"}))
	got, err = p.PullRequest(ctx, pr.Repository, pr.Number)
	require.NoError(t, err)
	assert.Equal(t, maestro.PullRequestMerged, got.State)
	assert.NotEqual(t, base, repo.Branch("main"))
	assert.Empty(t, repo.Branch("darc-main-1"), "the head branch is deleted")
}

// TestCloseLabelAndMergeCommit: what speculative version flow asks of
// GitHub — a label added and removed (twice is no error), a pull request
// closed (twice is no error; a merged one is a conflict), and the commit a
// merge left on the base.
func TestCloseLabelAndMergeCommit(t *testing.T) {
	ctx := context.Background()
	srv := githubdouble.NewServer(t)
	repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"README.md": "hello\n"}})
	head1 := repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-1", Files: map[string]string{"README.md": "one\n"}})
	repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-2", Files: map[string]string{"README.md": "two\n"}})
	p := github.New(srv.Client(githubdouble.DefaultToken), srv.URL(), githubdouble.DefaultToken,
		git.Identity{Name: "maestro-bot", Email: "maestro-bot@users.noreply.github.com"})
	url := srv.URL() + "/dotnet/runtime"
	one, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: url, Title: "one", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	two, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: url, Title: "two", Body: "b", HeadBranch: "darc-main-2", BaseBranch: "main"})
	require.NoError(t, err)

	labels := func(n int) []string {
		var out []string
		for _, l := range repo.PullRequest(n).Labels {
			out = append(out, l.GetName())
		}
		return out
	}
	for range 2 {
		require.NoError(t, p.SetLabel(ctx, one, "speculative", true))
	}
	assert.Equal(t, []string{"speculative"}, labels(one.Number))
	for range 2 {
		require.NoError(t, p.SetLabel(ctx, one, "speculative", false))
	}
	assert.Empty(t, labels(one.Number))

	for range 2 {
		require.NoError(t, p.Close(ctx, two))
	}
	got, err := p.PullRequest(ctx, url, two.Number)
	require.NoError(t, err)
	assert.Equal(t, maestro.PullRequestClosed, got.State)
	assert.Empty(t, got.MergeCommit)

	got, err = p.PullRequest(ctx, url, one.Number)
	require.NoError(t, err)
	assert.Empty(t, got.MergeCommit, "an open pull request has no merge commit")
	require.NoError(t, p.Merge(ctx, one, platform.MergeOptions{Head: head1, Message: "one"}))
	got, err = p.PullRequest(ctx, url, one.Number)
	require.NoError(t, err)
	assert.Equal(t, maestro.PullRequestMerged, got.State)
	assert.Equal(t, repo.Branch("main"), got.MergeCommit)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(p.Close(ctx, one)))
}
