package azrepos_test

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/core"
	azgit "github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/platform/azrepos"
	"github.com/maestroplusplus/maestro/internal/platform/platformtest"
	"github.com/maestroplusplus/maestro/test/azdo"
)

func TestConformance(t *testing.T) {
	platformtest.Run(t, func(t *testing.T) platformtest.Fixture {
		srv := azdo.NewServer(t, azdo.WithPAT("pat"))
		project := srv.AddProject("internal")
		repo := srv.AddRepository(project, "dotnet-runtime")
		repo.Commit("main", map[string][]byte{"README.md": []byte("hello\n")}, "initial")
		p := azrepos.New(srv.OrganizationURL(), azuredevops.NewPatConnection(srv.OrganizationURL(), "pat"), "pat",
			git.Identity{Name: "maestro-bot", Email: "maestro-bot@example.com"})
		return platformtest.Fixture{Platform: p, Repo: repo.WebURL()}
	})
}

// TestChecksIncludePolicyEvaluations: branch-policy evaluations are checks,
// mapped as production darc maps them.
func TestChecksIncludePolicyEvaluations(t *testing.T) {
	ctx := context.Background()
	srv := azdo.NewServer(t, azdo.WithPAT("pat"))
	project := srv.AddProject("internal")
	repo := srv.AddRepository(project, "dotnet-runtime")
	repo.Commit("main", map[string][]byte{"README.md": []byte("hello\n")}, "initial")
	repo.Commit("darc-main-1", map[string][]byte{"README.md": []byte("update\n")}, "update")
	p := azrepos.New(srv.OrganizationURL(), azuredevops.NewPatConnection(srv.OrganizationURL(), "pat"), "pat",
		git.Identity{Name: "maestro-bot", Email: "maestro-bot@example.com"})
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: repo.WebURL(), Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)

	ci := []string{"Build", "CI"}
	tests := []struct {
		status policy.PolicyEvaluationStatus
		want   []platform.Check
	}{
		{policy.PolicyEvaluationStatusValues.Queued, []platform.Check{{Name: "policy/Build (CI)", State: platform.CheckPending, AltNames: ci}}},
		{policy.PolicyEvaluationStatusValues.Running, []platform.Check{{Name: "policy/Build (CI)", State: platform.CheckPending, AltNames: ci}}},
		{policy.PolicyEvaluationStatusValues.Approved, []platform.Check{{Name: "policy/Build (CI)", State: platform.CheckSuccess, AltNames: ci}}},
		{policy.PolicyEvaluationStatusValues.Rejected, []platform.Check{{Name: "policy/Build (CI)", State: platform.CheckFailure, AltNames: ci}}},
		{policy.PolicyEvaluationStatusValues.Broken, []platform.Check{{Name: "policy/Build (CI)", State: platform.CheckFailure, AltNames: ci}}},
		{policy.PolicyEvaluationStatusValues.NotApplicable, []platform.Check{}},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			srv.SetPolicyEvaluations(pr.Number,
				azdo.PolicyEvaluation{Type: "Build", Status: tt.status, Blocking: true, Settings: map[string]any{"displayName": "CI"}},
				azdo.PolicyEvaluation{Type: "Minimum number of reviewers", Status: policy.PolicyEvaluationStatusValues.NotApplicable})
			got, err := p.Checks(ctx, pr)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func newDouble(t *testing.T) (*azdo.Server, *azdo.Repository, *azrepos.Platform) {
	srv := azdo.NewServer(t, azdo.WithPAT("pat"))
	project := srv.AddProject("internal")
	repo := srv.AddRepository(project, "dotnet-runtime")
	repo.Commit("main", map[string][]byte{"README.md": []byte("hello\n")}, "initial")
	repo.Commit("darc-main-1", map[string][]byte{"README.md": []byte("update\n")}, "update")
	p := azrepos.New(srv.OrganizationURL(), azuredevops.NewPatConnection(srv.OrganizationURL(), "pat"), "pat",
		git.Identity{Name: "maestro-bot", Email: "maestro-bot@example.com"})
	return srv, repo, p
}

// TestChecksCountAStatusOnce: Checks reads statuses and policy evaluations.
// A status that a Status policy requires is counted once, as the policy's
// evaluation (not also as the status); a notApplicable status is no check;
// a status no policy requires is a check of its own.
func TestChecksCountAStatusOnce(t *testing.T) {
	ctx := context.Background()
	srv, repo, p := newDouble(t)
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: repo.WebURL(), Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	client, err := azgit.NewClient(ctx, azuredevops.NewPatConnection(srv.OrganizationURL(), "pat"))
	require.NoError(t, err)
	post := func(genre, name string, state azgit.GitStatusState) {
		_, err := client.CreatePullRequestStatus(ctx, azgit.CreatePullRequestStatusArgs{Project: ptr("internal"), RepositoryId: ptr("dotnet-runtime"), PullRequestId: &pr.Number,
			Status: &azgit.GitPullRequestStatus{State: &state, Context: &azgit.GitStatusContext{Genre: ptr(genre), Name: ptr(name)}}})
		require.NoError(t, err)
	}
	post("ci", "build", azgit.GitStatusStateValues.Pending)
	post("ci", "optional", azgit.GitStatusStateValues.NotApplicable)
	post("lint", "style", azgit.GitStatusStateValues.Failed)
	post("lint", "style", azgit.GitStatusStateValues.Succeeded) // the latest counts
	srv.SetPolicyEvaluations(pr.Number,
		azdo.PolicyEvaluation{Type: "Status", Status: policy.PolicyEvaluationStatusValues.Running, Blocking: true,
			Settings: map[string]any{"statusGenre": "CI", "statusName": "Build"}})

	got, err := p.Checks(ctx, pr)
	require.NoError(t, err)
	assert.ElementsMatch(t, []platform.Check{
		{Name: "lint/style", State: platform.CheckSuccess, Genre: "lint", AltNames: []string{"style"}},
		{Name: "policy/Status", State: platform.CheckPending, AltNames: []string{"CI/Build", "Build", "Status"}},
	}, got)
}

// TestDeleteBranchThatVanishes: the branch is deleted by someone else
// between DeleteBranch reading its head and updating the ref: the update
// fails with staleOldObjectId, the re-read finds no branch, and that is
// success. A branch that moved instead is a refusal that says what to do.
func TestDeleteBranchThatVanishes(t *testing.T) {
	ctx := context.Background()
	for _, moved := range []bool{false, true} {
		t.Run(fmt.Sprintf("moved %v", moved), func(t *testing.T) {
			srv, repo, p := newDouble(t)
			var once sync.Once
			srv.BeforeRequest(func(r *http.Request) {
				if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/refs") {
					return
				}
				once.Do(func() {
					if moved {
						repo.Commit("darc-main-1", map[string][]byte{"README.md": []byte("moved\n")}, "someone else")
						return
					}
					out, err := exec.Command("git", "--git-dir", repo.Dir(), "update-ref", "-d", "refs/heads/darc-main-1").CombinedOutput()
					require.NoError(t, err, "%s", out)
				})
			})
			err := p.DeleteBranch(ctx, repo.WebURL(), "darc-main-1")
			updates := srv.RefUpdates()
			require.Len(t, updates, 1)
			assert.Equal(t, azgit.GitRefUpdateStatusValues.StaleOldObjectId, updates[0].Status, "the race happened")
			if !moved {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "refused to delete branch darc-main-1")
			assert.Contains(t, err.Error(), "staleOldObjectId")
			assert.Contains(t, err.Error(), "Branches page")
			assert.NotEmpty(t, repo.Head("darc-main-1"), "the moved branch stays")
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestPolicyReporterConformance(t *testing.T) {
	platformtest.RunPolicyReporter(t, func(t *testing.T) platformtest.Fixture {
		srv := azdo.NewServer(t, azdo.WithPAT("pat"))
		project := srv.AddProject("internal")
		repo := srv.AddRepository(project, "dotnet-runtime")
		repo.Commit("main", map[string][]byte{"README.md": []byte("hello\n")}, "initial")
		p := azrepos.New(srv.OrganizationURL(), azuredevops.NewPatConnection(srv.OrganizationURL(), "pat"), "pat",
			git.Identity{Name: "maestro-bot", Email: "maestro-bot@example.com"})
		return platformtest.Fixture{Platform: p, Repo: repo.WebURL()}
	})
}

// TestPolicyStatusesAndSummaryWithoutNoise: one status of genre maestro per
// policy and one "Auto-Merge Status" comment edited in place; the same
// report again writes nothing; a changed policy gets a new status and its
// old one is deleted; a policy no longer evaluated is notApplicable, which
// Checks ignores; our statuses are our own checks (platform.IsPolicyCheck).
func TestPolicyStatusesAndSummaryWithoutNoise(t *testing.T) {
	ctx := context.Background()
	srv, _, p := newDouble(t)
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: srv.OrganizationURL() + "/internal/_git/dotnet-runtime", Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	writes := func() int {
		n := 0
		for _, r := range srv.Requests() {
			if (strings.Contains(r.Path, "/statuses") || strings.Contains(r.Path, "/threads")) && r.Method != http.MethodGet {
				n++
			}
		}
		return n
	}
	snapshot := func() azdo.PullRequest {
		s, ok := srv.PullRequest(pr.Number)
		require.True(t, ok)
		return s
	}
	results := []platform.PolicyResult{
		{Name: "AllChecksSuccessful", State: platform.CheckPending, Message: "Waiting for checks: build."},
		{Name: "NoRequestedChanges", State: platform.CheckSuccess, Message: "No changes requested."},
	}
	require.NoError(t, p.ReportPolicies(ctx, pr, "head1", results))
	s := snapshot()
	require.Len(t, s.Statuses, 2)
	assert.Equal(t, "maestro", *s.Statuses[0].Context.Genre)
	assert.Equal(t, "AllChecksSuccessful", *s.Statuses[0].Context.Name)
	assert.Equal(t, azgit.GitStatusStateValues.Pending, *s.Statuses[0].State)
	require.Len(t, s.Threads, 1)
	assert.Equal(t, "## Auto-Merge Status\n\nThis pull request has not been merged because Maestro++ is waiting on the following merge policies.\n\n"+
		"- ⏳ **AllChecksSuccessful** Pending - Waiting for checks: build.\n- ✔️ **NoRequestedChanges** Succeeded - No changes requested.\n",
		*(*s.Threads[0].Comments)[0].Content)
	assert.Equal(t, azgit.CommentThreadStatusValues.Closed, *s.Threads[0].Status)
	assert.Equal(t, 3, writes())

	require.NoError(t, p.ReportPolicies(ctx, pr, "head1", results))
	assert.Equal(t, 3, writes(), "the same report writes nothing")

	results[0] = platform.PolicyResult{Name: "AllChecksSuccessful", State: platform.CheckFailure, Message: "Check build failed."}
	require.NoError(t, p.ReportPolicies(ctx, pr, "head1", results[:1]))
	s = snapshot()
	require.Len(t, s.Statuses, 2, "one status per policy")
	states := map[string]azgit.GitStatusState{}
	for _, st := range s.Statuses {
		states[*st.Context.Name] = *st.State
	}
	assert.Equal(t, map[string]azgit.GitStatusState{"AllChecksSuccessful": azgit.GitStatusStateValues.Failed, "NoRequestedChanges": azgit.GitStatusStateValues.NotApplicable}, states)
	require.Len(t, s.Threads, 1, "the summary is edited, not posted again")
	require.Len(t, *s.Threads[0].Comments, 1)
	assert.Equal(t, "## Auto-Merge Status\n\nThis pull request has not been merged because Maestro++ is waiting on the following merge policies.\n\n"+
		"- ❌ **AllChecksSuccessful** Failed - Check build failed.\n", *(*s.Threads[0].Comments)[0].Content)

	checks, err := p.Checks(ctx, pr)
	require.NoError(t, err)
	assert.Equal(t, []platform.Check{{Name: "maestro/AllChecksSuccessful", State: platform.CheckFailure, Genre: "maestro", AltNames: []string{"AllChecksSuccessful"}}}, checks)
	assert.True(t, platform.IsPolicyCheck(checks[0].Name))

	posted, err := p.Notify(ctx, pr, "head1", "@dotnet/runtime-infra: failing")
	require.NoError(t, err)
	assert.True(t, posted)
	posted, err = p.Notify(ctx, pr, "head1", "@dotnet/runtime-infra: failing")
	require.NoError(t, err)
	assert.False(t, posted)
	assert.Len(t, snapshot().Threads, 2, "one notification")
}

// TestSetLabel: the label is added once however often it is set, removed
// once however often it is cleared (in any case), and only the label named
// is touched; each call reads the labels first.
func TestSetLabel(t *testing.T) {
	ctx := context.Background()
	srv, repo, p := newDouble(t)
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: repo.WebURL(), Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	labels := func() []string {
		snap, ok := srv.PullRequest(pr.Number)
		require.True(t, ok)
		return snap.Labels
	}
	client, err := azgit.NewClient(ctx, azuredevops.NewPatConnection(srv.OrganizationURL(), "pat"))
	require.NoError(t, err)
	_, err = client.CreatePullRequestLabel(ctx, azgit.CreatePullRequestLabelArgs{Project: ptr("internal"), RepositoryId: ptr("dotnet-runtime"), PullRequestId: &pr.Number,
		Label: &core.WebApiCreateTagRequestData{Name: ptr("keep")}})
	require.NoError(t, err)

	for range 2 {
		require.NoError(t, p.SetLabel(ctx, pr, "speculative", true))
	}
	assert.Equal(t, []string{"keep", "speculative"}, labels())
	posts := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/labels") {
			posts++
		}
	}
	assert.Equal(t, 2, posts, "the label is posted once (and the other once by the test)")
	for range 2 {
		require.NoError(t, p.SetLabel(ctx, pr, "Speculative", false))
	}
	assert.Equal(t, []string{"keep"}, labels())

	err = p.SetLabel(ctx, maestro.PullRequest{Repository: repo.WebURL(), Number: 99, URL: repo.WebURL() + "/pullrequest/99"}, "speculative", true)
	require.ErrorIs(t, err, platform.ErrNotFound)
	assert.Contains(t, err.Error(), "/pullrequest/99")
}
