package azrepos_test

import (
	"context"
	"testing"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
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
		if !azrepos.Handles(srv.OrganizationURL(), repo.WebURL()) {
			t.Fatalf("Handles(%s, %s) = false", srv.OrganizationURL(), repo.WebURL())
		}
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

	tests := []struct {
		status policy.PolicyEvaluationStatus
		want   []platform.Check
	}{
		{policy.PolicyEvaluationStatusValues.Queued, []platform.Check{{Name: "policy/Build (CI)", State: platform.CheckPending}}},
		{policy.PolicyEvaluationStatusValues.Running, []platform.Check{{Name: "policy/Build (CI)", State: platform.CheckPending}}},
		{policy.PolicyEvaluationStatusValues.Approved, []platform.Check{{Name: "policy/Build (CI)", State: platform.CheckSuccess}}},
		{policy.PolicyEvaluationStatusValues.Rejected, []platform.Check{{Name: "policy/Build (CI)", State: platform.CheckFailure}}},
		{policy.PolicyEvaluationStatusValues.Broken, []platform.Check{{Name: "policy/Build (CI)", State: platform.CheckFailure}}},
		{policy.PolicyEvaluationStatusValues.NotApplicable, nil},
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
