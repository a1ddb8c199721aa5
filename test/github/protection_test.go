package githubdouble_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// protect sets the protection of main through go-github.
func (f *fixture) protect(t *testing.T, req *github.ProtectionRequest) *github.Protection {
	t.Helper()
	p, _, err := f.client.Repositories.UpdateBranchProtection(t.Context(), "dotnet", "runtime", "main", req)
	if err != nil {
		t.Fatalf("protect main: %v", err)
	}
	return p
}

func requireChecks(strict bool, contexts ...string) *github.RequiredStatusChecks {
	var checks []*github.RequiredStatusCheck
	for _, c := range contexts {
		checks = append(checks, &github.RequiredStatusCheck{Context: c})
	}
	return &github.RequiredStatusChecks{Strict: strict, Checks: &checks}
}

func TestBranchProtectionAPI(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	_, _, err := f.client.Repositories.GetBranchProtection(ctx, "dotnet", "runtime", "main")
	if !errors.Is(err, github.ErrBranchNotProtected) {
		t.Fatalf("unprotected branch: got %v, want github.ErrBranchNotProtected", err)
	}
	_, _, err = f.client.Repositories.GetBranchProtection(ctx, "dotnet", "runtime", "nope")
	wantAPIError(t, err, 404, "Branch not found")

	appID := int64(15368)
	checks := []*github.RequiredStatusCheck{{Context: "build"}, {Context: "test", AppID: &appID}}
	got := f.protect(t, &github.ProtectionRequest{
		RequiredStatusChecks:       &github.RequiredStatusChecks{Strict: true, Checks: &checks},
		RequiredPullRequestReviews: &github.PullRequestReviewsEnforcementRequest{RequiredApprovingReviewCount: 2, DismissStaleReviews: true},
		EnforceAdmins:              true,
	})
	for _, p := range []*github.Protection{got, mustGetProtection(t, f, "main")} {
		rsc, rpr := p.GetRequiredStatusChecks(), p.GetRequiredPullRequestReviews()
		if !rsc.Strict || len(*rsc.Checks) != 2 || (*rsc.Checks)[0].Context != "build" || (*rsc.Checks)[0].AppID != nil ||
			(*rsc.Checks)[1].GetAppID() != appID || strings.Join(*rsc.Contexts, ",") != "build,test" ||
			rpr.RequiredApprovingReviewCount != 2 || !rpr.DismissStaleReviews || !p.GetEnforceAdmins().Enabled ||
			p.GetAllowForcePushes().Enabled || p.GetURL() != f.srv.APIURL()+"repos/dotnet/runtime/branches/main/protection" {
			t.Fatalf("protection %s", github.Stringify(p))
		}
	}
	// Contexts, the older form, are required checks from any app.
	f.protect(t, &github.ProtectionRequest{RequiredStatusChecks: &github.RequiredStatusChecks{Contexts: &[]string{"ci"}}})
	p := mustGetProtection(t, f, "main")
	if c := *p.GetRequiredStatusChecks().Checks; len(c) != 1 || c[0].Context != "ci" || c[0].AppID != nil || p.RequiredPullRequestReviews != nil {
		t.Fatalf("protection from contexts %s", github.Stringify(p))
	}
	// A branch whose name has a slash.
	f.repo.Commit(githubdouble.CommitSpec{Branch: "release/8.0", Files: map[string]string{"r": "r\n"}})
	if _, _, err := f.client.Repositories.UpdateBranchProtection(ctx, "dotnet", "runtime", "release/8.0",
		&github.ProtectionRequest{RequiredStatusChecks: requireChecks(false, "build")}); err != nil {
		t.Fatal(err)
	}
	if p := mustGetProtection(t, f, "release/8.0"); (*p.GetRequiredStatusChecks().Checks)[0].Context != "build" {
		t.Fatalf("release/8.0 protection %s", github.Stringify(p))
	}

	if resp, err := f.client.Repositories.RemoveBranchProtection(ctx, "dotnet", "runtime", "main"); err != nil || resp.StatusCode != 204 {
		t.Fatalf("remove protection: %v", err)
	}
	if _, _, err := f.client.Repositories.GetBranchProtection(ctx, "dotnet", "runtime", "main"); !errors.Is(err, github.ErrBranchNotProtected) {
		t.Fatalf("after removal: %v", err)
	}
	_, err = f.client.Repositories.RemoveBranchProtection(ctx, "dotnet", "runtime", "main")
	wantAPIError(t, err, 404, "Branch not protected")
}

func mustGetProtection(t *testing.T, f *fixture, branch string) *github.Protection {
	t.Helper()
	p, _, err := f.client.Repositories.GetBranchProtection(t.Context(), "dotnet", "runtime", branch)
	if err != nil {
		t.Fatalf("get protection of %s: %v", branch, err)
	}
	return p
}

func TestBranchProtectionValidation(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name    string
		body    map[string]any
		message string
	}{
		{"missing properties", map[string]any{"required_status_checks": nil},
			"Invalid request.\n\n\"enforce_admins\" and \"required_pull_request_reviews\" and \"restrictions\" weren't supplied."},
		{"checks not an object", map[string]any{"required_status_checks": "build", "enforce_admins": nil, "required_pull_request_reviews": nil, "restrictions": nil},
			"Invalid request.\n\nFor 'properties/required_status_checks', \"build\" is not an object."},
		{"strict missing", map[string]any{"required_status_checks": map[string]any{"contexts": []string{}}, "enforce_admins": nil, "required_pull_request_reviews": nil, "restrictions": nil},
			"Invalid request.\n\n\"strict\" wasn't supplied."},
		{"too many reviews", map[string]any{"required_status_checks": nil, "enforce_admins": nil,
			"required_pull_request_reviews": map[string]any{"required_approving_review_count": 7}, "restrictions": nil},
			"Invalid request.\n\nFor 'properties/required_approving_review_count', 7 is not a number between 0 and 6."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := raw(t, f.srv, "PUT", "repos/dotnet/runtime/branches/main/protection", tc.body)
			if r.status != 422 || r.body["message"] != tc.message {
				t.Fatalf("got %d %q, want 422 %q", r.status, r.body["message"], tc.message)
			}
		})
	}
	r := raw(t, f.srv, "PUT", "repos/dotnet/runtime/branches/main/protection", map[string]any{
		"required_status_checks": nil, "enforce_admins": nil, "required_pull_request_reviews": nil,
		"restrictions": map[string]any{"users": []string{}, "teams": []string{}},
	})
	// The description gives this 422 plain-string errors (validation_failed_simple).
	if errs, _ := r.body["errors"].([]any); r.status != 422 || r.body["message"] != "Validation Failed" || len(errs) != 1 || errs[0] != "Only organization repositories can have users and team restrictions" {
		t.Fatalf("got %d %v, want 422 Validation Failed with the restrictions error", r.status, r.body)
	}
	if r := raw(t, f.srv, "GET", "repos/dotnet/runtime/branches/main/protection", nil); r.status != 404 {
		t.Fatalf("a refused PUT protected the branch: %d", r.status)
	}
}

// wantMergeRefused asserts that merging pull request n answers 405 with
// msg and that the pull request shows state.
func wantMergeRefused(t *testing.T, f *fixture, n int, msg, state string) {
	t.Helper()
	_, _, err := f.client.PullRequests.Merge(t.Context(), "dotnet", "runtime", n, "", &github.PullRequestOptions{MergeMethod: "squash"})
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 405 || er.Message != msg ||
		er.DocumentationURL != "https://docs.github.com/articles/about-protected-branches" {
		t.Fatalf("merge: got %v, want 405 %q", err, msg)
	}
	pr, _, err := f.client.PullRequests.Get(t.Context(), "dotnet", "runtime", n)
	if err != nil {
		t.Fatal(err)
	}
	if pr.GetMergeableState() != state || pr.GetMerged() || pr.GetState() != "open" {
		t.Fatalf("pull request: mergeable_state %q merged %v state %s, want %q and open", pr.GetMergeableState(), pr.GetMerged(), pr.GetState(), state)
	}
}

func TestProtectedMerge(t *testing.T) {
	other := &github.App{ID: github.Int64(99), Slug: github.String("other-ci")}
	type step func(t *testing.T, f *fixture, pr *github.PullRequest)
	checkRun := func(name, conclusion string, app *github.App) step {
		return func(t *testing.T, f *fixture, pr *github.PullRequest) {
			run := github.CheckRun{Name: github.String(name), HeadSHA: github.String(pr.GetHead().GetSHA()), App: app}
			if conclusion == "" {
				run.Status = github.String("in_progress")
			} else {
				run.Conclusion = github.String(conclusion)
			}
			f.repo.AddCheckRun(run)
		}
	}
	status := func(context, state string) step {
		return func(t *testing.T, f *fixture, pr *github.PullRequest) {
			f.repo.AddStatus(pr.GetHead().GetSHA(), github.RepoStatus{Context: github.String(context), State: github.String(state)})
		}
	}
	approve := func(login string) step {
		return func(t *testing.T, f *fixture, pr *github.PullRequest) {
			f.repo.AddReview(pr.GetNumber(), login, github.PullRequestReview{State: github.String("APPROVED")})
		}
	}
	review := func(login, state string) step {
		return func(t *testing.T, f *fixture, pr *github.PullRequest) {
			f.repo.AddReview(pr.GetNumber(), login, github.PullRequestReview{State: github.String(state)})
		}
	}
	push := func(t *testing.T, f *fixture, pr *github.PullRequest) {
		f.repo.Commit(githubdouble.CommitSpec{Branch: pr.GetHead().GetRef(), Files: map[string]string{"more.txt": "more\n"}})
	}
	moveBase := func(t *testing.T, f *fixture, pr *github.PullRequest) {
		f.repo.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"other.txt": "other\n"}})
	}
	appID := int64(15368) // GitHub Actions, the double's default app
	reviews := func(n int, stale bool) *github.PullRequestReviewsEnforcementRequest {
		return &github.PullRequestReviewsEnforcementRequest{RequiredApprovingReviewCount: n, DismissStaleReviews: stale}
	}
	for _, tc := range []struct {
		name    string
		prot    github.ProtectionRequest
		steps   []step
		message string // "" when the merge succeeds
		state   string
	}{
		{"required check missing", github.ProtectionRequest{RequiredStatusChecks: requireChecks(false, "build")},
			nil, `Required status check "build" is expected.`, "blocked"},
		{"required check failing", github.ProtectionRequest{RequiredStatusChecks: requireChecks(false, "build")},
			[]step{checkRun("build", "failure", nil)}, `Required status check "build" is failing.`, "blocked"},
		{"required check in progress", github.ProtectionRequest{RequiredStatusChecks: requireChecks(false, "build")},
			[]step{checkRun("build", "", nil)}, `Required status check "build" is pending.`, "blocked"},
		{"required status failing", github.ProtectionRequest{RequiredStatusChecks: requireChecks(false, "license/cla")},
			[]step{status("license/cla", "error")}, `Required status check "license/cla" is failing.`, "blocked"},
		{"required status pending", github.ProtectionRequest{RequiredStatusChecks: requireChecks(false, "license/cla")},
			[]step{status("license/cla", "pending")}, `Required status check "license/cla" is pending.`, "blocked"},
		{"a check run and a status of one name are both required", github.ProtectionRequest{RequiredStatusChecks: requireChecks(false, "build")},
			[]step{checkRun("build", "success", nil), status("build", "failure")}, `Required status check "build" is failing.`, "blocked"},
		{"a later run supersedes a failed one", github.ProtectionRequest{RequiredStatusChecks: requireChecks(false, "build")},
			[]step{checkRun("build", "failure", nil), checkRun("build", "success", nil)}, "", ""},
		{"second required check missing", github.ProtectionRequest{RequiredStatusChecks: requireChecks(false, "build", "test")},
			[]step{checkRun("build", "success", nil)}, `Required status check "test" is expected.`, "blocked"},
		{"check from another app does not count", github.ProtectionRequest{RequiredStatusChecks: &github.RequiredStatusChecks{
			Checks: &[]*github.RequiredStatusCheck{{Context: "build", AppID: &appID}}}},
			[]step{checkRun("build", "success", other)}, `Required status check "build" is expected.`, "blocked"},
		{"check from the required app", github.ProtectionRequest{RequiredStatusChecks: &github.RequiredStatusChecks{
			Checks: &[]*github.RequiredStatusCheck{{Context: "build", AppID: &appID}}}},
			[]step{checkRun("build", "success", nil)}, "", ""},
		{"checks green", github.ProtectionRequest{RequiredStatusChecks: requireChecks(false, "build")},
			[]step{checkRun("build", "neutral", nil), status("build", "success")}, "", ""},
		{"approval missing", github.ProtectionRequest{RequiredPullRequestReviews: reviews(1, false)},
			[]step{review("alice", "COMMENTED")}, "At least 1 approving review is required by reviewers with write access.", "blocked"},
		{"two approvals required", github.ProtectionRequest{RequiredPullRequestReviews: reviews(2, false)},
			[]step{approve("alice"), approve("alice")}, "At least 2 approving reviews are required by reviewers with write access.", "blocked"},
		{"approval withdrawn by a change request", github.ProtectionRequest{RequiredPullRequestReviews: reviews(1, false)},
			[]step{approve("alice"), review("alice", "CHANGES_REQUESTED")}, "Changes were requested by reviewers with write access.", "blocked"},
		{"a change request blocks other approvals", github.ProtectionRequest{RequiredPullRequestReviews: reviews(1, false)},
			[]step{approve("alice"), approve("bob"), review("carol", "CHANGES_REQUESTED")}, "Changes were requested by reviewers with write access.", "blocked"},
		{"a change request replaced by an approval", github.ProtectionRequest{RequiredPullRequestReviews: reviews(1, false)},
			[]step{review("carol", "CHANGES_REQUESTED"), approve("carol")}, "", ""},
		{"a dismissed change request", github.ProtectionRequest{RequiredPullRequestReviews: reviews(1, false)},
			[]step{approve("alice"), review("carol", "CHANGES_REQUESTED"), review("carol", "DISMISSED")}, "", ""},
		{"a comment keeps an approval", github.ProtectionRequest{RequiredPullRequestReviews: reviews(1, false)},
			[]step{approve("alice"), review("alice", "COMMENTED")}, "", ""},
		{"approvals given", github.ProtectionRequest{RequiredPullRequestReviews: reviews(2, false)},
			[]step{approve("alice"), approve("bob")}, "", ""},
		{"stale approval dismissed", github.ProtectionRequest{RequiredPullRequestReviews: reviews(1, true)},
			[]step{approve("alice"), push}, "At least 1 approving review is required by reviewers with write access.", "blocked"},
		{"stale approval kept", github.ProtectionRequest{RequiredPullRequestReviews: reviews(1, false)},
			[]step{approve("alice"), push}, "", ""},
		{"strict: head behind base", github.ProtectionRequest{RequiredStatusChecks: &github.RequiredStatusChecks{Strict: true, Contexts: &[]string{}}},
			[]step{moveBase}, "Head branch is not up to date with the base branch", "behind"},
		{"not strict: head behind base", github.ProtectionRequest{RequiredStatusChecks: &github.RequiredStatusChecks{Contexts: &[]string{}}},
			[]step{moveBase}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			pr := f.openPR(t, "darc-main-1")
			f.protect(t, &tc.prot)
			for _, s := range tc.steps {
				s(t, f, pr)
			}
			if tc.message != "" {
				wantMergeRefused(t, f, pr.GetNumber(), tc.message, tc.state)
				return
			}
			res, _, err := f.client.PullRequests.Merge(t.Context(), "dotnet", "runtime", pr.GetNumber(), "", &github.PullRequestOptions{MergeMethod: "squash"})
			if err != nil || !res.GetMerged() {
				t.Fatalf("merge: %v", err)
			}
		})
	}
}

func TestProtectionOfAnotherBranchDoesNotApply(t *testing.T) {
	f := newFixture(t)
	pr := f.openPR(t, "darc-main-1")
	f.repo.Commit(githubdouble.CommitSpec{Branch: "release/8.0", Files: map[string]string{"r": "r\n"}})
	if _, _, err := f.client.Repositories.UpdateBranchProtection(t.Context(), "dotnet", "runtime", "release/8.0",
		&github.ProtectionRequest{RequiredStatusChecks: requireChecks(false, "build")}); err != nil {
		t.Fatal(err)
	}
	if got := f.repo.PullRequest(pr.GetNumber()).GetMergeableState(); got != "clean" {
		t.Fatalf("mergeable_state %q, want clean", got)
	}
	if _, _, err := f.client.PullRequests.Merge(t.Context(), "dotnet", "runtime", pr.GetNumber(), "", nil); err != nil {
		t.Fatal(err)
	}
}
