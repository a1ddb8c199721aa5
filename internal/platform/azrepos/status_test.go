package azrepos_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	azgit "github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	azpolicy "github.com/microsoft/azure-devops-go-api/azuredevops/v7/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/policy"
	"github.com/maestroplusplus/maestro/test/azdo"
)

// TestStatusThroughTheDouble: Status reads the last merge source commit,
// statuses (with their links) and policy evaluations, reviewer votes and
// commits with their authors from the Azure DevOps double, and the policies
// judge what it read: a failed status, a rejecting vote and a commit pushed
// by a person.
func TestStatusThroughTheDouble(t *testing.T) {
	ctx := context.Background()
	srv, repo, p := newDouble(t)
	alice := srv.AddToken(azdo.Token{Value: "alice-pat", Kind: azdo.PAT, Identity: azdo.Identity{DisplayName: "Alice Smith", UniqueName: "alice@contoso.com"}})
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: repo.WebURL(), Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)

	// Alice pushes a commit of her own to the branch.
	person := git.Runner{Token: "alice-pat", Author: git.Identity{Name: "Alice Smith", Email: "alice@contoso.com"}}
	url, err := p.CloneURL(repo.WebURL())
	require.NoError(t, err)
	work := filepath.Join(t.TempDir(), "work")
	require.NoError(t, person.Clone(ctx, url, work, "darc-main-1"))
	require.NoError(t, os.WriteFile(filepath.Join(work, "README.md"), []byte("by hand\n"), 0o644))
	_, err = person.CommitAll(ctx, work, "a fix by hand")
	require.NoError(t, err)
	require.NoError(t, person.Push(ctx, work, "origin", "HEAD", "darc-main-1", ""))
	head, err := person.RevParse(ctx, work, "HEAD")
	require.NoError(t, err)

	bot, err := azgit.NewClient(ctx, azuredevops.NewPatConnection(srv.OrganizationURL(), "pat"))
	require.NoError(t, err)
	_, err = bot.CreatePullRequestStatus(ctx, azgit.CreatePullRequestStatusArgs{Project: ptr("internal"), RepositoryId: ptr("dotnet-runtime"), PullRequestId: &pr.Number,
		Status: &azgit.GitPullRequestStatus{State: &azgit.GitStatusStateValues.Failed, TargetUrl: ptr("https://dev.azure.com/dnceng/internal/_build/results?buildId=7"),
			Context: &azgit.GitStatusContext{Genre: ptr("dotnet-ci"), Name: ptr("build")}}})
	require.NoError(t, err)
	srv.SetPolicyEvaluations(pr.Number, azdo.PolicyEvaluation{Type: "Minimum number of reviewers", Status: azpolicy.PolicyEvaluationStatusValues.Rejected, Blocking: true},
		azdo.PolicyEvaluation{Type: "Build", Status: azpolicy.PolicyEvaluationStatusValues.Rejected, Blocking: true, Settings: map[string]any{"displayName": "CI"},
			Context: map[string]any{"buildId": 2606, "buildDefinitionId": 152, "isExpired": false}})
	voter, err := azgit.NewClient(ctx, azuredevops.NewPatConnection(srv.OrganizationURL(), "alice-pat"))
	require.NoError(t, err)
	_, err = voter.CreatePullRequestReviewer(ctx, azgit.CreatePullRequestReviewerArgs{Project: ptr("internal"), RepositoryId: ptr("dotnet-runtime"), PullRequestId: &pr.Number,
		ReviewerId: ptr(alice.ID.String()), Reviewer: &azgit.IdentityRefWithVote{Vote: ptr(-10)}})
	require.NoError(t, err)

	st, err := p.Status(ctx, pr)
	require.NoError(t, err)
	assert.Equal(t, head, st.HeadCommit)
	assert.ElementsMatch(t, []platform.Check{
		{Name: "dotnet-ci/build", State: platform.CheckFailure, URL: "https://dev.azure.com/dnceng/internal/_build/results?buildId=7", Genre: "dotnet-ci", AltNames: []string{"build"}},
		{Name: "policy/Minimum number of reviewers", State: platform.CheckFailure, AltNames: []string{"Minimum number of reviewers"}},
		{Name: "policy/Build (CI)", State: platform.CheckFailure, AltNames: []string{"Build", "CI"}, URL: srv.OrganizationURL() + "/internal/_build/results?buildId=2606"},
	}, st.Checks)
	assert.Equal(t, []platform.Review{{Reviewer: "alice@contoso.com", State: platform.ReviewChangesRequested}}, st.Reviews)
	var authors []string
	for _, c := range st.Commits {
		authors = append(authors, c.AuthorEmail)
	}
	assert.ElementsMatch(t, []string{"setup@example.com", "alice@contoso.com"}, authors, "the pull request's commits (the double's setup commit stands for the bot's)")

	// Standard ignores "Minimum number of reviewers", as production does.
	res := policy.Evaluate([]maestro.MergePolicy{{Name: maestro.PolicyStandard}}, policy.PullRequestState{Host: st, BotEmails: []string{"setup@example.com"}})
	outcome := map[string]policy.PolicyResult{}
	for _, r := range res.Policies {
		outcome[r.Name] = r
	}
	assert.Equal(t, policy.Failure, outcome[maestro.PolicyAllChecksSuccessful].Outcome)
	assert.Contains(t, outcome[maestro.PolicyAllChecksSuccessful].Message, "- dotnet-ci/build: https://dev.azure.com/dnceng/internal/_build/results?buildId=7")
	assert.Contains(t, outcome[maestro.PolicyAllChecksSuccessful].Message, "- policy/Build (CI): "+srv.OrganizationURL()+"/internal/_build/results?buildId=2606")
	assert.NotContains(t, outcome[maestro.PolicyAllChecksSuccessful].Message, "Minimum number of reviewers")
	assert.Equal(t, policy.Failure, outcome[maestro.PolicyNoRequestedChanges].Outcome)
	assert.Contains(t, outcome[maestro.PolicyNoRequestedChanges].Message, "alice@contoso.com")
	assert.Equal(t, policy.Failure, outcome[maestro.PolicyNoExtraCommits].Outcome)
	assert.True(t, outcome[maestro.PolicyNoExtraCommits].Decisive)
	assert.Contains(t, outcome[maestro.PolicyNoExtraCommits].Message, "Alice Smith <alice@contoso.com>")
}

// TestReviewerVotes: the double refuses what the service refuses when a
// vote is cast — a vote for someone else, a vote outside 10/5/0/-5/-10, a
// body whose ID is not the reviewer's — and lets a reviewer change a vote.
func TestReviewerVotes(t *testing.T) {
	ctx := context.Background()
	srv, repo, p := newDouble(t)
	alice := srv.AddToken(azdo.Token{Value: "alice-pat", Kind: azdo.PAT, Identity: azdo.Identity{DisplayName: "Alice Smith", UniqueName: "alice@contoso.com"}})
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: repo.WebURL(), Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	bot, err := azgit.NewClient(ctx, azuredevops.NewPatConnection(srv.OrganizationURL(), "pat"))
	require.NoError(t, err)
	voter, err := azgit.NewClient(ctx, azuredevops.NewPatConnection(srv.OrganizationURL(), "alice-pat"))
	require.NoError(t, err)
	vote := func(c azgit.Client, id string, body azgit.IdentityRefWithVote) error {
		_, err := c.CreatePullRequestReviewer(ctx, azgit.CreatePullRequestReviewerArgs{Project: ptr("internal"), RepositoryId: ptr("dotnet-runtime"), PullRequestId: &pr.Number,
			ReviewerId: ptr(id), Reviewer: &body})
		return err
	}
	assert.ErrorContains(t, vote(bot, alice.ID.String(), azgit.IdentityRefWithVote{Vote: ptr(10)}), "vote must be set to zero")
	assert.ErrorContains(t, vote(voter, alice.ID.String(), azgit.IdentityRefWithVote{Vote: ptr(7)}), "not valid")
	assert.ErrorContains(t, vote(voter, alice.ID.String(), azgit.IdentityRefWithVote{Id: ptr("7a8b9c0d-1e2f-4a3b-8c5d-6e7f8a9b0c1d"), Vote: ptr(10)}), "must match")
	require.NoError(t, vote(bot, alice.ID.String(), azgit.IdentityRefWithVote{}), "adding a reviewer without a vote")
	require.NoError(t, vote(voter, alice.ID.String(), azgit.IdentityRefWithVote{Vote: ptr(-5)}))
	require.NoError(t, vote(voter, alice.ID.String(), azgit.IdentityRefWithVote{Vote: ptr(10)}))
	st, err := p.Status(ctx, pr)
	require.NoError(t, err)
	assert.Equal(t, []platform.Review{{Reviewer: "alice@contoso.com", State: platform.ReviewApproved}}, st.Reviews, "one entry per reviewer, at the latest vote")
}
