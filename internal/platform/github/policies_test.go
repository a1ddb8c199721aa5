package github_test

import (
	"context"
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
	"github.com/maestroplusplus/maestro/internal/policy"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// appToken is an installation token of the GitHub App "maestro": only an
// app may write check runs.
const appToken = "ghs_maestroinstallation"

func newAppPlatform(t *testing.T) (*githubdouble.Server, *githubdouble.Repo, *github.Platform) {
	srv := githubdouble.NewServer(t)
	srv.AddInstallationToken("maestro", appToken)
	repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"README.md": "hello\n"}})
	p := github.New(srv.Client(appToken), srv.URL(), appToken, git.Identity{Name: "maestro[bot]", Email: "maestro[bot]@users.noreply.github.com"}, github.AsApp())
	return srv, repo, p
}

// newTokenPlatform is the platform with a person's token (GITHUB_TOKEN),
// which may not write check runs.
func newTokenPlatform(t *testing.T) (*githubdouble.Server, *githubdouble.Repo, *github.Platform) {
	srv := githubdouble.NewServer(t)
	repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"README.md": "hello\n"}})
	p := github.New(srv.Client(githubdouble.DefaultToken), srv.URL(), githubdouble.DefaultToken, git.Identity{Name: "maestro-bot", Email: "maestro-bot@users.noreply.github.com"})
	return srv, repo, p
}

func TestPolicyReporterConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) (*githubdouble.Server, *githubdouble.Repo, *github.Platform)
	}{
		{"app, check runs", newAppPlatform},
		{"personal token, commit statuses", newTokenPlatform},
	} {
		t.Run(tc.name, func(t *testing.T) {
			platformtest.RunPolicyReporter(t, func(t *testing.T) platformtest.Fixture {
				srv, _, p := tc.open(t)
				return platformtest.Fixture{Platform: p, Repo: srv.URL() + "/dotnet/runtime"}
			})
		})
	}
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

// TestPolicyCheckRunsNeedAnApp: a person's token passed off as an App's
// (AsApp) cannot write check runs; GitHub's 403 comes back as the error.
func TestPolicyCheckRunsNeedAnApp(t *testing.T) {
	ctx := context.Background()
	srv := githubdouble.NewServer(t)
	repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"README.md": "hello\n"}})
	head := repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-1", Files: map[string]string{"README.md": "changed\n"}})
	p := github.New(srv.Client(githubdouble.DefaultToken), srv.URL(), githubdouble.DefaultToken, git.Identity{Name: "bot", Email: "bot@example.com"}, github.AsApp())
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: srv.URL() + "/dotnet/runtime", Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	err = p.ReportPolicies(ctx, pr, head, []platform.PolicyResult{{Name: "Standard", State: platform.CheckSuccess}})
	assert.ErrorContains(t, err, "You must authenticate via a GitHub App.")
}

// TestPolicyStatusesWithoutNoise: with a person's token, one commit status
// per policy on the head commit, context "Maestro auto-merge - {policy}",
// state pending/success/failure, the message's first line as description
// and no target URL, and never a check run. Statuses are append-only: the
// same report again posts nothing; a change posts one status; a policy no
// longer evaluated gets one success status saying it is skipped; a new
// head commit gets its own.
func TestPolicyStatusesWithoutNoise(t *testing.T) {
	ctx := context.Background()
	srv, repo, p := newTokenPlatform(t)
	head := repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-1", Files: map[string]string{"README.md": "changed\n"}})
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: srv.URL() + "/dotnet/runtime", Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	client := srv.Client(githubdouble.DefaultToken)
	// every status ever posted on sha, newest first
	statuses := func(sha string) []*gh.RepoStatus {
		t.Helper()
		list, _, err := client.Repositories.ListStatuses(ctx, "dotnet", "runtime", sha, &gh.ListOptions{PerPage: 100})
		require.NoError(t, err)
		return list
	}
	posts := func() int {
		n := 0
		for _, r := range srv.Requests() {
			if r.Method == http.MethodPost && strings.Contains(r.Path, "/statuses/") {
				n++
			}
			assert.NotContains(t, r.Path, "/check-runs", "no check run with a person's token")
		}
		return n
	}

	results := []platform.PolicyResult{
		{Name: "AllChecksSuccessful", State: platform.CheckPending, Message: "Waiting for 1 check\n\nThese checks on 1234567 have not finished:\n- build"},
		{Name: "NoRequestedChanges", State: platform.CheckSuccess, Message: "No changes requested."},
	}
	require.NoError(t, p.ReportPolicies(ctx, pr, head, results))
	assert.Equal(t, 2, posts(), "one status per policy")
	got := statuses(head)
	require.Len(t, got, 2)
	byContext := map[string]*gh.RepoStatus{}
	for _, st := range got {
		byContext[st.GetContext()] = st
		assert.Empty(t, st.GetTargetURL())
		assert.Equal(t, githubdouble.DefaultLogin, st.GetCreator().GetLogin())
	}
	all := byContext["Maestro auto-merge - AllChecksSuccessful"]
	require.NotNil(t, all)
	assert.Equal(t, "pending", all.GetState())
	assert.Equal(t, "Waiting for 1 check", all.GetDescription(), "the message's first line")
	none := byContext["Maestro auto-merge - NoRequestedChanges"]
	require.NotNil(t, none)
	assert.Equal(t, "success", none.GetState())
	assert.Equal(t, "No changes requested.", none.GetDescription())

	require.NoError(t, p.ReportPolicies(ctx, pr, head, results))
	assert.Equal(t, 2, posts(), "the same report posts nothing")
	results[0].Message = "Waiting for 1 check\n\nThese checks on 1234567 have not finished:\n- test"
	require.NoError(t, p.ReportPolicies(ctx, pr, head, results))
	assert.Equal(t, 2, posts(), "the status shows the first line only: nothing to change")

	failed := platform.PolicyResult{Name: "AllChecksSuccessful", State: platform.CheckFailure, Message: "1 check failed\n\nThese checks on 1234567 failed:\n- build: https://ci.example/1"}
	require.NoError(t, p.ReportPolicies(ctx, pr, head, []platform.PolicyResult{results[1], failed}))
	assert.Equal(t, 3, posts(), "one changed result posts one status")
	assert.Equal(t, "failure", statuses(head)[0].GetState())
	assert.Equal(t, "1 check failed", statuses(head)[0].GetDescription())

	require.NoError(t, p.ReportPolicies(ctx, pr, head, []platform.PolicyResult{failed}))
	assert.Equal(t, 4, posts(), "a dropped policy is skipped")
	skipped := statuses(head)[0]
	assert.Equal(t, "Maestro auto-merge - NoRequestedChanges", skipped.GetContext())
	assert.Equal(t, "success", skipped.GetState(), "skipped neither blocks nor fails the pull request")
	assert.Equal(t, "Skipped: no longer evaluated for this pull request.", skipped.GetDescription())
	require.NoError(t, p.ReportPolicies(ctx, pr, head, []platform.PolicyResult{failed}))
	assert.Equal(t, 4, posts(), "a skipped policy is not skipped again")

	back, err := p.PolicyResults(ctx, pr, head)
	require.NoError(t, err)
	assert.Equal(t, []platform.PolicyResult{
		{Name: "AllChecksSuccessful", State: platform.CheckFailure, Message: "1 check failed"},
		{Name: "NoRequestedChanges", State: platform.CheckSkipped, Message: "Skipped: no longer evaluated for this pull request."},
	}, back, "the latest status per context, sorted by name")

	combined, _, err := client.Repositories.GetCombinedStatus(ctx, "dotnet", "runtime", head, nil)
	require.NoError(t, err)
	assert.Len(t, combined.Statuses, 2, "GitHub shows one status per policy")

	next := repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-1", Files: map[string]string{"README.md": "again\n"}})
	require.NoError(t, p.ReportPolicies(ctx, pr, next, []platform.PolicyResult{failed}))
	assert.Equal(t, 5, posts())
	assert.Len(t, statuses(next), 1, "a new head commit has its own statuses")
	assert.Len(t, statuses(head), 4)
}

// TestPolicyStatusDescriptionLimit: GitHub takes status descriptions of at
// most 140 characters (the double refuses longer ones with GitHub's 422);
// a longer first line is cut to 140 characters ending with "…", the same
// way every time, so reporting it again posts nothing.
func TestPolicyStatusDescriptionLimit(t *testing.T) {
	ctx := context.Background()
	srv, repo, p := newTokenPlatform(t)
	head := repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-1", Files: map[string]string{"README.md": "changed\n"}})
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: srv.URL() + "/dotnet/runtime", Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	long := []platform.PolicyResult{{Name: "NoNewerUpdateMerged", State: platform.CheckFailure,
		Message: strings.Repeat("Ünïcode ", 30) + "\n\nmore"}}
	require.NoError(t, p.ReportPolicies(ctx, pr, head, long))
	got, err := p.PolicyResults(ctx, pr, head)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, 140, utf8.RuneCountInString(got[0].Message))
	assert.True(t, strings.HasPrefix(got[0].Message, "Ünïcode Ünïcode"), got[0].Message)
	assert.True(t, strings.HasSuffix(got[0].Message, "…"), got[0].Message)
	before := len(srv.Requests())
	require.NoError(t, p.ReportPolicies(ctx, pr, head, long))
	for _, r := range srv.Requests()[before:] {
		assert.NotEqual(t, http.MethodPost, r.Method, "%s %s", r.Method, r.Path)
	}
}

// TestPolicyStatusesAreNotCI: our statuses are listed among the head's
// checks but platform.IsPolicyCheck knows them, so AllChecksSuccessful
// never judges by them: a failing policy status beside green CI still
// succeeds, and alone it is "no checks yet".
func TestPolicyStatusesAreNotCI(t *testing.T) {
	ctx := context.Background()
	srv, repo, p := newTokenPlatform(t)
	head := repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-1", Files: map[string]string{"README.md": "changed\n"}})
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: srv.URL() + "/dotnet/runtime", Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	require.NoError(t, p.ReportPolicies(ctx, pr, head, []platform.PolicyResult{
		{Name: "AllChecksSuccessful", State: platform.CheckFailure, Message: "1 check failed"},
		{Name: "NoRequestedChanges", State: platform.CheckPending, Message: "Waiting for reviews"},
	}))
	allChecks := []maestro.MergePolicy{{Name: maestro.PolicyAllChecksSuccessful}}
	judge := func() policy.PolicyResult {
		t.Helper()
		s, err := p.Status(ctx, pr)
		require.NoError(t, err)
		require.Equal(t, head, s.HeadCommit)
		res := policy.Evaluate(allChecks, policy.PullRequestState{Host: s})
		require.Len(t, res.Policies, 1)
		return res.Policies[0]
	}
	s, err := p.Status(ctx, pr)
	require.NoError(t, err)
	require.Len(t, s.Checks, 2, "our statuses are on the head commit")
	for _, c := range s.Checks {
		assert.True(t, platform.IsPolicyCheck(c.Name), c.Name)
	}
	assert.Equal(t, policy.Pending, judge().Outcome, "only our own statuses: no checks yet")

	repo.AddStatus(head, gh.RepoStatus{State: gh.String("success"), Context: gh.String("build")})
	got := judge()
	assert.Equal(t, policy.Success, got.Outcome, "%s: %s", got.Title, got.Message)
	assert.Equal(t, "1 check succeeded", got.Title)
}
