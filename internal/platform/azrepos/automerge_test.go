package azrepos_test

import (
	"context"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	azgit "github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/test/azdo"
)

// TestEnableAutoMergeCompletesOncePoliciesApprove: while a blocking build
// policy is queued, EnableAutoMerge sets auto-complete by the token's own
// identity (the double refuses anyone else's) with squash, source branch
// deletion and the message, which Status reads back, and nothing merges;
// asking again is success. When the policy approves, the service (the
// double) completes the pull request: one squash commit on main with the
// message, the source branch deleted.
func TestEnableAutoMergeCompletesOncePoliciesApprove(t *testing.T) {
	ctx := context.Background()
	srv, repo, p := newDouble(t)
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: repo.WebURL(), Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	head, base := repo.Head("darc-main-1"), repo.Head("main")
	srv.SetPolicyEvaluations(pr.Number, azdo.PolicyEvaluation{Type: "Build", Status: policy.PolicyEvaluationStatusValues.Queued, Blocking: true})

	opts := platform.MergeOptions{Head: head, Message: "[main] Update dependencies\n\nFrom build 20261205.1"}
	require.NoError(t, p.EnableAutoMerge(ctx, pr, opts))
	snap, _ := srv.PullRequest(pr.Number)
	require.NotNil(t, snap.AutoCompleteSetBy, "auto-complete is set")
	assert.Equal(t, azgit.PullRequestStatusValues.Active, *snap.Status, "nothing merges while the policy is queued")
	require.NotNil(t, snap.CompletionOptions)
	assert.Equal(t, azgit.GitPullRequestMergeStrategyValues.Squash, *snap.CompletionOptions.MergeStrategy)
	assert.True(t, *snap.CompletionOptions.DeleteSourceBranch)
	assert.Equal(t, opts.Message, *snap.CompletionOptions.MergeCommitMessage)
	st, err := p.Status(ctx, pr)
	require.NoError(t, err)
	assert.True(t, st.AutoMerge)
	assert.Equal(t, maestro.PullRequestOpen, st.State)
	require.NoError(t, p.EnableAutoMerge(ctx, pr, opts), "already set is success")
	assert.Equal(t, base, repo.Head("main"))

	srv.SetPolicyEvaluations(pr.Number, azdo.PolicyEvaluation{Type: "Build", Status: policy.PolicyEvaluationStatusValues.Approved, Blocking: true})
	st, err = p.Status(ctx, pr)
	require.NoError(t, err)
	assert.Equal(t, maestro.PullRequestMerged, st.State, "completed once the policy approved")
	assert.Empty(t, repo.Head("darc-main-1"), "the source branch is deleted")
	out, err := exec.Command("git", "--git-dir", repo.Dir(), "log", "--format=%P%x00%B", "-1", "main").Output()
	require.NoError(t, err)
	parents, message, _ := strings.Cut(string(out), "\x00")
	assert.Equal(t, base, parents, "one squash commit on main")
	assert.Equal(t, opts.Message, strings.TrimRight(message, "\n"))
}

// TestEnableAutoMergeRefusesAMovedHead: a source branch that is not at the
// judged head is refused (platform.ErrMergeRefused, a conflict) and
// auto-complete stays off; so is a pull request that is not active.
func TestEnableAutoMergeRefusesAMovedHead(t *testing.T) {
	ctx := context.Background()
	srv, repo, p := newDouble(t)
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: repo.WebURL(), Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	judged := repo.Head("darc-main-1")
	later := repo.Commit("darc-main-1", map[string][]byte{"extra.txt": []byte("later\n")}, "a later commit")

	err = p.EnableAutoMerge(ctx, pr, platform.MergeOptions{Head: judged, Message: "m"})
	require.ErrorIs(t, err, platform.ErrMergeRefused)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err))
	assert.Contains(t, err.Error(), "the source branch is at "+later)
	snap, _ := srv.PullRequest(pr.Number)
	assert.Nil(t, snap.AutoCompleteSetBy)

	require.NoError(t, p.Merge(ctx, pr, platform.MergeOptions{Head: later, Message: "m"}))
	err = p.EnableAutoMerge(ctx, pr, platform.MergeOptions{Head: later, Message: "m"})
	require.ErrorIs(t, err, platform.ErrMergeRefused)
	assert.Contains(t, err.Error(), "the pull request is completed")
}

// TestEnableAutoMergeWhileTheSourceMoves: a push lands between the head
// check and the service setting auto-complete. While a policy blocks,
// auto-complete is cancelled again and the call refused; when nothing
// blocks and the service completes at once, the error says that a head the
// policies did not judge was merged.
func TestEnableAutoMergeWhileTheSourceMoves(t *testing.T) {
	ctx := context.Background()
	for _, blocked := range []bool{true, false} {
		name := "completed at once"
		if blocked {
			name = "blocked by a policy"
		}
		t.Run(name, func(t *testing.T) {
			srv, repo, p := newDouble(t)
			pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: repo.WebURL(), Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
			require.NoError(t, err)
			if blocked {
				srv.SetPolicyEvaluations(pr.Number, azdo.PolicyEvaluation{Type: "Build", Status: policy.PolicyEvaluationStatusValues.Queued, Blocking: true})
			}
			judged := repo.Head("darc-main-1")
			var later string
			srv.BeforeRequest(func(r *http.Request) {
				if r.Method == http.MethodPatch && later == "" {
					later = repo.Commit("darc-main-1", map[string][]byte{"extra.txt": []byte("pushed meanwhile\n")}, "a push meanwhile")
				}
			})
			err = p.EnableAutoMerge(ctx, pr, platform.MergeOptions{Head: judged, Message: "m"})
			require.Error(t, err)
			require.NotEmpty(t, later)
			snap, _ := srv.PullRequest(pr.Number)
			if blocked {
				require.ErrorIs(t, err, platform.ErrMergeRefused)
				assert.Contains(t, err.Error(), "the source branch is at "+later)
				assert.Nil(t, snap.AutoCompleteSetBy, "auto-complete is cancelled")
				assert.Equal(t, azgit.PullRequestStatusValues.Active, *snap.Status)
				return
			}
			assert.NotErrorIs(t, err, platform.ErrMergeRefused)
			assert.Contains(t, err.Error(), "completed the pull request at source commit "+later)
			assert.Equal(t, azgit.PullRequestStatusValues.Completed, *snap.Status)
		})
	}
}

// patches lists the bodies of the PATCH requests srv has answered.
func patches(srv *azdo.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPatch {
			out = append(out, string(r.Body))
		}
	}
	return out
}

// TestDisableAutoMergeKeepsThePullRequestActive: with auto-complete set and
// a blocking build policy queued, DisableAutoMerge cancels it — a PATCH of
// autoCompleteSetBy with the empty identity — which Status reads back, and
// when the policy then approves the service (the double) no longer
// completes: the pull request stays active, main and the source branch
// stay where they were. Cancelling again is success, without a request.
func TestDisableAutoMergeKeepsThePullRequestActive(t *testing.T) {
	ctx := context.Background()
	srv, repo, p := newDouble(t)
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: repo.WebURL(), Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	head, base := repo.Head("darc-main-1"), repo.Head("main")
	srv.SetPolicyEvaluations(pr.Number, azdo.PolicyEvaluation{Type: "Build", Status: policy.PolicyEvaluationStatusValues.Queued, Blocking: true})
	require.NoError(t, p.EnableAutoMerge(ctx, pr, platform.MergeOptions{Head: head, Message: "[main] Update dependencies"}))
	st, err := p.Status(ctx, pr)
	require.NoError(t, err)
	require.True(t, st.AutoMerge)

	before := len(patches(srv))
	require.NoError(t, p.DisableAutoMerge(ctx, pr))
	sent := patches(srv)[before:]
	require.Len(t, sent, 1)
	assert.JSONEq(t, `{"autoCompleteSetBy": {"id": "00000000-0000-0000-0000-000000000000"}}`, sent[0])
	snap, _ := srv.PullRequest(pr.Number)
	assert.Nil(t, snap.AutoCompleteSetBy, "auto-complete is cancelled")
	st, err = p.Status(ctx, pr)
	require.NoError(t, err)
	assert.False(t, st.AutoMerge)

	srv.SetPolicyEvaluations(pr.Number, azdo.PolicyEvaluation{Type: "Build", Status: policy.PolicyEvaluationStatusValues.Approved, Blocking: true})
	st, err = p.Status(ctx, pr)
	require.NoError(t, err)
	assert.Equal(t, maestro.PullRequestOpen, st.State, "not completed once the policy approved")
	assert.False(t, st.AutoMerge)
	assert.Equal(t, base, repo.Head("main"))
	assert.Equal(t, head, repo.Head("darc-main-1"))

	before = len(patches(srv))
	require.NoError(t, p.DisableAutoMerge(ctx, pr), "not set is success")
	assert.Len(t, patches(srv), before, "no request for auto-complete that is not set")
}

// TestDisableAutoMergeWhenOff: a pull request whose auto-complete was never
// set, and one that is completed, are success without a PATCH.
func TestDisableAutoMergeWhenOff(t *testing.T) {
	ctx := context.Background()
	srv, repo, p := newDouble(t)
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: repo.WebURL(), Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	require.NoError(t, p.DisableAutoMerge(ctx, pr), "never set")
	assert.Empty(t, patches(srv))
	require.NoError(t, p.Merge(ctx, pr, platform.MergeOptions{Head: repo.Head("darc-main-1"), Message: "m"}))
	before := len(patches(srv))
	require.NoError(t, p.DisableAutoMerge(ctx, pr), "completed")
	assert.Len(t, patches(srv), before)
}

// TestDisableAutoMergeWhileTheServiceCompletes: the blocking policy
// approves after DisableAutoMerge read the pull request with auto-complete
// set and before its PATCH arrives, so the service completes it and then
// refuses the update (TF401181, not editable). The pull request, read
// again, is completed: success, and Status reports it merged.
func TestDisableAutoMergeWhileTheServiceCompletes(t *testing.T) {
	ctx := context.Background()
	srv, repo, p := newDouble(t)
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: repo.WebURL(), Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	srv.SetPolicyEvaluations(pr.Number, azdo.PolicyEvaluation{Type: "Build", Status: policy.PolicyEvaluationStatusValues.Queued, Blocking: true})
	require.NoError(t, p.EnableAutoMerge(ctx, pr, platform.MergeOptions{Head: repo.Head("darc-main-1"), Message: "m"}))

	approved := false
	srv.BeforeRequest(func(r *http.Request) {
		if r.Method == http.MethodPatch && !approved {
			approved = true
			srv.SetPolicyEvaluations(pr.Number, azdo.PolicyEvaluation{Type: "Build", Status: policy.PolicyEvaluationStatusValues.Approved, Blocking: true})
		}
	})
	require.NoError(t, p.DisableAutoMerge(ctx, pr))
	require.True(t, approved)
	st, err := p.Status(ctx, pr)
	require.NoError(t, err)
	assert.Equal(t, maestro.PullRequestMerged, st.State, "the service completed before the update arrived")
}
