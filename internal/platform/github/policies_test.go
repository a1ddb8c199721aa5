package github_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

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

// appToken is an installation token of the GitHub App "maestro": only an
// app may write check runs.
const appToken = "ghs_maestroinstallation"

func newAppPlatform(t *testing.T) (*githubdouble.Server, *githubdouble.Repo, *github.Platform) {
	srv := githubdouble.NewServer(t)
	srv.AddInstallationToken("maestro", appToken)
	repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"README.md": "hello\n"}})
	p := github.New(srv.Client(appToken), srv.URL(), appToken, git.Identity{Name: "maestro[bot]", Email: "maestro[bot]@users.noreply.github.com"})
	return srv, repo, p
}

func TestPolicyReporterConformance(t *testing.T) {
	platformtest.RunPolicyReporter(t, func(t *testing.T) platformtest.Fixture {
		srv, _, p := newAppPlatform(t)
		return platformtest.Fixture{Platform: p, Repo: srv.URL() + "/dotnet/runtime"}
	})
}

// TestPolicyCheckRunsWithoutNoise: one check run per policy on the head
// commit, named "Maestro auto-merge - {policy}"; pending is in_progress; the
// same report again sends no write; a change patches the run in place; a
// policy no longer evaluated is completed as skipped once; a new head commit
// gets its own runs. Our runs are our own checks (platform.IsPolicyCheck).
func TestPolicyCheckRunsWithoutNoise(t *testing.T) {
	ctx := context.Background()
	srv, repo, p := newAppPlatform(t)
	head := repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-1", Files: map[string]string{"README.md": "changed\n"}})
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: srv.URL() + "/dotnet/runtime", Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	client := srv.Client(appToken)
	runs := func(sha string) []*gh.CheckRun {
		t.Helper()
		list, _, err := client.Checks.ListCheckRunsForRef(ctx, "dotnet", "runtime", sha, &gh.ListCheckRunsOptions{Filter: gh.String("all")})
		require.NoError(t, err)
		return list.CheckRuns
	}
	writes := func() int {
		n := 0
		for _, r := range srv.Requests() {
			if strings.HasSuffix(r.Path, "/check-runs") && r.Method == http.MethodPost || strings.Contains(r.Path, "/check-runs/") && r.Method == http.MethodPatch {
				n++
			}
		}
		return n
	}

	results := []platform.PolicyResult{
		{Name: "AllChecksSuccessful", State: platform.CheckPending, Message: "Waiting for checks: build."},
		{Name: "NoRequestedChanges", State: platform.CheckSuccess, Message: "No changes requested."},
	}
	require.NoError(t, p.ReportPolicies(ctx, pr, head, results))
	got := runs(head)
	require.Len(t, got, 2)
	byName := map[string]*gh.CheckRun{}
	for _, r := range got {
		byName[r.GetName()] = r
	}
	all := byName["Maestro auto-merge - AllChecksSuccessful"]
	require.NotNil(t, all)
	assert.Equal(t, "in_progress", all.GetStatus())
	assert.Equal(t, "Waiting for checks: build.", all.GetOutput().GetSummary())
	assert.Equal(t, "maestro", all.GetApp().GetSlug())
	assert.Equal(t, "success", byName["Maestro auto-merge - NoRequestedChanges"].GetConclusion())
	assert.Equal(t, 2, writes())

	require.NoError(t, p.ReportPolicies(ctx, pr, head, results))
	assert.Equal(t, 2, writes(), "the same report writes nothing")

	results[0] = platform.PolicyResult{Name: "AllChecksSuccessful", State: platform.CheckFailure, Message: "Check build failed: https://ci.example/1"}
	require.NoError(t, p.ReportPolicies(ctx, pr, head, results[:1]))
	got = runs(head)
	require.Len(t, got, 2, "updated in place, not added")
	for _, r := range got {
		assert.Equal(t, "completed", r.GetStatus())
		switch r.GetName() {
		case "Maestro auto-merge - AllChecksSuccessful":
			assert.Equal(t, all.GetID(), r.GetID())
			assert.Equal(t, "failure", r.GetConclusion())
		default:
			assert.Equal(t, "skipped", r.GetConclusion())
		}
	}
	assert.Equal(t, 4, writes())
	require.NoError(t, p.ReportPolicies(ctx, pr, head, results[:1]))
	assert.Equal(t, 4, writes(), "a skipped run is not skipped again")

	checks, err := p.Checks(ctx, pr)
	require.NoError(t, err)
	require.Len(t, checks, 2)
	for _, c := range checks {
		assert.True(t, platform.IsPolicyCheck(c.Name), c.Name)
	}

	next := repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-1", Files: map[string]string{"README.md": "again\n"}})
	require.NoError(t, p.ReportPolicies(ctx, pr, next, results[:1]))
	assert.Len(t, runs(next), 1, "a new head commit has its own runs")
	assert.Len(t, runs(head), 2)

	posted, err := p.Notify(ctx, pr, next, "@dotnet/runtime-infra: failing")
	require.NoError(t, err)
	assert.True(t, posted)
	posted, err = p.Notify(ctx, pr, next, "@dotnet/runtime-infra: failing")
	require.NoError(t, err)
	assert.False(t, posted)
	require.Len(t, repo.Comments(pr.Number), 1, "one notification")
	assert.Equal(t, platform.NotificationMarker(next)+"\n@dotnet/runtime-infra: failing", repo.Comments(pr.Number)[0].GetBody())
}

// TestPolicyReportNeedsAnApp: a personal token cannot write check runs;
// GitHub's 403 comes back as the error.
func TestPolicyReportNeedsAnApp(t *testing.T) {
	ctx := context.Background()
	srv := githubdouble.NewServer(t)
	repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"README.md": "hello\n"}})
	head := repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-1", Files: map[string]string{"README.md": "changed\n"}})
	p := github.New(srv.Client(githubdouble.DefaultToken), srv.URL(), githubdouble.DefaultToken, git.Identity{Name: "bot", Email: "bot@example.com"})
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: srv.URL() + "/dotnet/runtime", Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	err = p.ReportPolicies(ctx, pr, head, []platform.PolicyResult{{Name: "Standard", State: platform.CheckSuccess}})
	assert.ErrorContains(t, err, "You must authenticate via a GitHub App.")
}
