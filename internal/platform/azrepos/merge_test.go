package azrepos_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	azgit "github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/platform/azrepos"
	"github.com/maestroplusplus/maestro/test/azdo"
)

// TestMergeCompletesTheJudgedHead: completing with a lastMergeSourceCommit
// that is not the source branch's head is the service's 409
// (GitPullRequestStaleException), a conflict wrapping
// platform.ErrMergeRefused with the service's message, and the pull request
// stays active with no completion options stored; a completion that a
// rejected blocking policy holds back is refused too, naming the policy;
// once the policy approves, the merge squashes the judged head into main
// with the message given and deletes the source branch.
func TestMergeCompletesTheJudgedHead(t *testing.T) {
	ctx := context.Background()
	srv, repo, p := newDouble(t)
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: repo.WebURL(), Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	judged := repo.Head("darc-main-1")
	base := repo.Head("main")
	later := repo.Commit("darc-main-1", map[string][]byte{"extra.txt": []byte("later\n")}, "a later commit")

	err = p.Merge(ctx, pr, platform.MergeOptions{Head: judged, Message: "Update dependencies"})
	require.ErrorIs(t, err, platform.ErrMergeRefused)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err))
	assert.Equal(t, fmt.Sprintf("merge %s: Azure DevOps refused the merge: TF401192: The source branch has been modified since the last merge attempt.", pr.URL), err.Error())
	var werr azuredevops.WrappedError
	require.ErrorAs(t, err, &werr, "the service's answer stays in the chain")
	assert.Equal(t, 409, *werr.StatusCode)
	snap, _ := srv.PullRequest(pr.Number)
	assert.Equal(t, azgit.PullRequestStatusValues.Active, *snap.Status)
	assert.Nil(t, snap.CompletionOptions, "a refused completion keeps no options")
	assert.Equal(t, base, repo.Head("main"))

	srv.SetPolicyEvaluations(pr.Number, azdo.PolicyEvaluation{Type: "Build", Status: policy.PolicyEvaluationStatusValues.Rejected, Blocking: true, Settings: map[string]any{"displayName": "CI"}},
		azdo.PolicyEvaluation{Type: "Comment requirements", Status: policy.PolicyEvaluationStatusValues.Rejected})
	err = p.Merge(ctx, pr, platform.MergeOptions{Head: later, Message: "Update dependencies"})
	require.ErrorIs(t, err, platform.ErrMergeRefused)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err))
	assert.Equal(t, fmt.Sprintf("merge %s: Azure DevOps refused the merge: policy/Build (CI) is rejected", pr.URL), err.Error(), "the blocking policy, not the optional one")
	snap, _ = srv.PullRequest(pr.Number)
	assert.Equal(t, azgit.PullRequestStatusValues.Active, *snap.Status)
	assert.Equal(t, base, repo.Head("main"))

	srv.SetPolicyEvaluations(pr.Number, azdo.PolicyEvaluation{Type: "Build", Status: policy.PolicyEvaluationStatusValues.Approved, Blocking: true, Settings: map[string]any{"displayName": "CI"}})
	require.NoError(t, p.Merge(ctx, pr, platform.MergeOptions{Head: later, Message: "Update dependencies\n\nFrom build 20261205.1"}))
	snap, _ = srv.PullRequest(pr.Number)
	assert.Equal(t, azgit.PullRequestStatusValues.Completed, *snap.Status)
	assert.Equal(t, azgit.GitPullRequestMergeStrategyValues.Squash, *snap.CompletionOptions.MergeStrategy)
	assert.Empty(t, repo.Head("darc-main-1"), "the source branch is deleted")
	out, err := exec.Command("git", "--git-dir", repo.Dir(), "log", "--format=%P%x00%B", "-1", "main").Output()
	require.NoError(t, err)
	parents, message, _ := strings.Cut(string(out), "\x00")
	assert.Equal(t, base, parents, "one squash commit on main")
	assert.Equal(t, "Update dependencies\n\nFrom build 20261205.1", strings.TrimRight(message, "\n"))

	st, err := p.Status(ctx, pr)
	require.NoError(t, err)
	assert.Equal(t, maestro.PullRequestMerged, st.State)
	assert.Equal(t, later, st.HeadCommit)
}

// TestCompletionBlockers: why the service left a completion active.
func TestCompletionBlockers(t *testing.T) {
	blocking := func(kind string, status policy.PolicyEvaluationStatus, isBlocking bool) policy.PolicyEvaluationRecord {
		return policy.PolicyEvaluationRecord{Status: &status, Configuration: &policy.PolicyConfiguration{IsEnabled: ptr(true), IsBlocking: &isBlocking,
			Type: &policy.PolicyTypeRef{DisplayName: ptr(kind)}}}
	}
	tests := []struct {
		name  string
		pr    azgit.GitPullRequest
		evals []policy.PolicyEvaluationRecord
		want  string
	}{
		{"nothing known", azgit.GitPullRequest{}, nil, "the service left the pull request active (its completion is queued)"},
		{"draft", azgit.GitPullRequest{IsDraft: ptr(true)}, nil, "the pull request is a draft"},
		{"conflicts", azgit.GitPullRequest{MergeStatus: &azgit.PullRequestAsyncStatusValues.Conflicts}, nil, "the merge has conflicts"},
		{"failure", azgit.GitPullRequest{MergeStatus: &azgit.PullRequestAsyncStatusValues.Failure, MergeFailureMessage: ptr("The source branch no longer exists.")}, nil,
			"the merge failed: The source branch no longer exists."},
		{"rejected by policy", azgit.GitPullRequest{MergeStatus: &azgit.PullRequestAsyncStatusValues.RejectedByPolicy}, nil, "the merge was rejected by policy"},
		{"policies", azgit.GitPullRequest{}, []policy.PolicyEvaluationRecord{
			blocking("Build", policy.PolicyEvaluationStatusValues.Queued, true),
			blocking("Minimum number of reviewers", policy.PolicyEvaluationStatusValues.Rejected, true),
			blocking("Comment requirements", policy.PolicyEvaluationStatusValues.Rejected, false),
			blocking("Status", policy.PolicyEvaluationStatusValues.Approved, true),
		}, "policy/Build is queued; policy/Minimum number of reviewers is rejected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, azrepos.CompletionBlockers(&tt.pr, tt.evals))
		})
	}
}
