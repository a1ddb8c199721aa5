package github_test

import (
	"context"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/platform/github"
	"github.com/maestroplusplus/maestro/internal/policy"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// TestStatusThroughTheDouble: Status reads the head commit, check runs
// (with their links), commit statuses, reviews and commits with their
// authors from the GitHub double, and the policies judge what it read: a
// failed check run, a reviewer requesting changes and a commit by a person.
func TestStatusThroughTheDouble(t *testing.T) {
	ctx := context.Background()
	srv, repo, p := newAppPlatform(t)
	srv.AddUser(githubdouble.User{Login: "monalisa", Name: "Mona Lisa", Email: "mona@example.com"})
	srv.AddToken("alice", "ghp_alice")
	srv.AddToken("ci-bot", "ghp_ci")
	first := repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-1", Files: map[string]string{"README.md": "changed\n"}})
	head := repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-1", Files: map[string]string{"README.md": "fixed\n"}, Author: githubdouble.User{Login: "monalisa"}})
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: srv.URL() + "/dotnet/runtime", Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)

	app := srv.Client(appToken)
	build, _, err := app.Checks.CreateCheckRun(ctx, "dotnet", "runtime", gh.CreateCheckRunOptions{Name: "build", HeadSHA: head,
		Status: gh.String("completed"), Conclusion: gh.String("failure")})
	require.NoError(t, err)
	own, _, err := app.Checks.CreateCheckRun(ctx, "dotnet", "runtime", gh.CreateCheckRunOptions{Name: "Maestro auto-merge - Standard", HeadSHA: head, Status: gh.String("in_progress")})
	require.NoError(t, err)
	_, _, err = srv.Client("ghp_ci").Repositories.CreateStatus(ctx, "dotnet", "runtime", head, &gh.RepoStatus{State: gh.String("success"),
		Context: gh.String("ci/tests"), TargetURL: gh.String("https://ci.example.com/42")})
	require.NoError(t, err)
	_, _, err = srv.Client("ghp_alice").PullRequests.CreateReview(ctx, "dotnet", "runtime", pr.Number, &gh.PullRequestReviewRequest{
		Event: gh.String("REQUEST_CHANGES"), Body: gh.String("please pin this")})
	require.NoError(t, err)

	st, err := p.Status(ctx, pr)
	require.NoError(t, err)
	assert.Equal(t, head, st.HeadCommit)
	assert.ElementsMatch(t, []platform.Check{
		{Name: "build", State: platform.CheckFailure, URL: build.GetHTMLURL()},
		{Name: "Maestro auto-merge - Standard", State: platform.CheckPending, URL: own.GetHTMLURL()},
		{Name: "ci/tests", State: platform.CheckSuccess, URL: "https://ci.example.com/42"},
	}, st.Checks)
	require.NotEmpty(t, build.GetHTMLURL())
	require.Len(t, st.Reviews, 1)
	assert.Equal(t, "alice", st.Reviews[0].Reviewer)
	assert.Equal(t, platform.ReviewChangesRequested, st.Reviews[0].State)
	require.Len(t, st.Commits, 2)
	assert.Equal(t, first, st.Commits[0].SHA)
	assert.Equal(t, githubdouble.DefaultLogin, st.Commits[0].AuthorLogin)
	assert.Equal(t, platform.Commit{SHA: head, AuthorName: "Mona Lisa", AuthorEmail: "mona@example.com", AuthorLogin: "monalisa"}, st.Commits[1])

	res := policy.Evaluate([]maestro.MergePolicy{{Name: maestro.PolicyAllChecksSuccessful}, {Name: maestro.PolicyNoRequestedChanges}, {Name: maestro.PolicyNoExtraCommits}},
		policy.PullRequestState{Host: st, BotLogins: []string{githubdouble.DefaultLogin}})
	require.Len(t, res.Policies, 3)
	assert.Equal(t, policy.Failure, res.Policies[0].Outcome)
	assert.Contains(t, res.Policies[0].Message, "- build: "+build.GetHTMLURL())
	assert.Equal(t, policy.Failure, res.Policies[1].Outcome)
	assert.Contains(t, res.Policies[1].Message, "alice")
	assert.Equal(t, policy.Failure, res.Policies[2].Outcome)
	assert.Contains(t, res.Policies[2].Message, "Mona Lisa <mona@example.com> (@monalisa)")
	assert.True(t, res.Decisive, "a commit by a person needs a new head")
}

// TestStateOf: merged (merged, or merged_at set as list answers show it),
// closed without merging, open.
func TestStateOf(t *testing.T) {
	now := &gh.Timestamp{Time: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)}
	tests := []struct {
		name string
		pr   gh.PullRequest
		want maestro.PullRequestState
	}{
		{"open", gh.PullRequest{State: gh.String("open")}, maestro.PullRequestOpen},
		{"merged", gh.PullRequest{State: gh.String("closed"), Merged: gh.Bool(true)}, maestro.PullRequestMerged},
		{"merged_at without merged", gh.PullRequest{State: gh.String("closed"), MergedAt: now}, maestro.PullRequestMerged},
		{"closed", gh.PullRequest{State: gh.String("closed"), Merged: gh.Bool(false)}, maestro.PullRequestClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, github.StateOf(&tt.pr))
		})
	}
}

// TestStatusOfAClosedPullRequest: a pull request closed without merging
// reports its state and head commit, and nothing to judge.
func TestStatusOfAClosedPullRequest(t *testing.T) {
	ctx := context.Background()
	srv, repo, p := newAppPlatform(t)
	head := repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-1", Files: map[string]string{"README.md": "changed\n"}})
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: srv.URL() + "/dotnet/runtime", Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	_, _, err = srv.Client(appToken).PullRequests.Edit(ctx, "dotnet", "runtime", pr.Number, &gh.PullRequest{State: gh.String("closed")})
	require.NoError(t, err)
	st, err := p.Status(ctx, pr)
	require.NoError(t, err)
	assert.Equal(t, platform.Status{State: maestro.PullRequestClosed, HeadCommit: head, Checks: []platform.Check{}, Reviews: []platform.Review{}, Commits: []platform.Commit{}}, st)
}
