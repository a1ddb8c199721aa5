package githubdouble_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

func TestCheckRuns(t *testing.T) {
	f := newFixture(t)
	sha := f.branch(t, "darc", "a.txt", "a\n")
	other := &github.App{ID: github.Int64(9), Slug: github.String("azure-pipelines"), Name: github.String("Azure Pipelines")}
	f.repo.AddCheckRun(github.CheckRun{HeadSHA: github.String(sha), Name: github.String("build"), Conclusion: github.String("failure")})
	rerun := f.repo.AddCheckRun(github.CheckRun{HeadSHA: github.String(sha), Name: github.String("build"), Conclusion: github.String("success")})
	f.repo.AddCheckRun(github.CheckRun{HeadSHA: github.String(sha), Name: github.String("build"), App: other, Status: github.String("in_progress")})
	f.repo.AddCheckRun(github.CheckRun{HeadSHA: github.String(sha), Name: github.String("license/cla"), Conclusion: github.String("neutral")})
	f.repo.AddCheckRun(github.CheckRun{HeadSHA: github.String(f.repo.Branch("main")), Name: github.String("on main"), Conclusion: github.String("success")})
	if rerun.GetID() == 0 || rerun.GetStatus() != "completed" || rerun.CompletedAt == nil || rerun.GetApp().GetSlug() != "github-actions" {
		t.Fatalf("added run %s", github.Stringify(rerun))
	}
	type run struct{ name, status, conclusion string }
	for _, tc := range []struct {
		name string
		ref  string
		opts *github.ListCheckRunsOptions
		want []run
	}{
		{"latest by SHA", sha, nil, []run{{"license/cla", "completed", "neutral"}, {"build", "in_progress", ""}, {"build", "completed", "success"}}},
		{"by branch", "darc", nil, []run{{"license/cla", "completed", "neutral"}, {"build", "in_progress", ""}, {"build", "completed", "success"}}},
		{"by short SHA", sha[:10], &github.ListCheckRunsOptions{CheckName: github.String("license/cla")}, []run{{"license/cla", "completed", "neutral"}}},
		{"all", sha, &github.ListCheckRunsOptions{Filter: github.String("all"), CheckName: github.String("build")},
			[]run{{"build", "in_progress", ""}, {"build", "completed", "success"}, {"build", "completed", "failure"}}},
		{"status", sha, &github.ListCheckRunsOptions{Status: github.String("in_progress")}, []run{{"build", "in_progress", ""}}},
		{"app", sha, &github.ListCheckRunsOptions{AppID: github.Int64(9)}, []run{{"build", "in_progress", ""}}},
		{"none", "main", &github.ListCheckRunsOptions{CheckName: github.String("build")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _, err := f.client.Checks.ListCheckRunsForRef(t.Context(), "dotnet", "runtime", tc.ref, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []run
			for _, r := range res.CheckRuns {
				got = append(got, run{r.GetName(), r.GetStatus(), r.GetConclusion()})
				if r.GetHeadSHA() != sha {
					t.Fatalf("run %s is on %s", r.GetName(), r.GetHeadSHA())
				}
			}
			if res.GetTotal() != len(tc.want) || len(got) != len(tc.want) {
				t.Fatalf("total %d, runs %v; want %v", res.GetTotal(), got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("runs %v, want %v", got, tc.want)
				}
			}
		})
	}
	_, _, err := f.client.Checks.ListCheckRunsForRef(t.Context(), "dotnet", "runtime", "no-such-branch", nil)
	wantAPIError(t, err, 422, "No commit found for SHA: no-such-branch")
	_, _, err = f.client.Checks.ListCheckRunsForRef(t.Context(), "dotnet", "runtime", sha, &github.ListCheckRunsOptions{Filter: github.String("newest")})
	wantFieldError(t, err, github.Error{Resource: "CheckRun", Field: "filter", Code: "invalid"})
}

func TestCombinedStatus(t *testing.T) {
	f := newFixture(t)
	sha := f.branch(t, "feature/darc", "a.txt", "a\n")
	status := func() *github.CombinedStatus {
		t.Helper()
		cs, _, err := f.client.Repositories.GetCombinedStatus(t.Context(), "dotnet", "runtime", "feature/darc", nil)
		if err != nil {
			t.Fatal(err)
		}
		// GitHub's combined status has no name (go-github's Name stays nil);
		// the repository object names it.
		if cs.GetSHA() != sha || cs.Name != nil || cs.GetTotalCount() != len(cs.Statuses) {
			t.Fatalf("combined status %s", github.Stringify(cs))
		}
		return cs
	}
	steps := []struct {
		name    string
		add     *github.RepoStatus
		state   string
		context int
	}{
		{"no statuses", nil, "pending", 0},
		{"one pending", &github.RepoStatus{State: github.String("pending"), Context: github.String("ci/build")}, "pending", 1},
		{"green", &github.RepoStatus{State: github.String("success"), Context: github.String("ci/build")}, "success", 1},
		{"another context fails", &github.RepoStatus{State: github.String("failure"), Context: github.String("ci/test")}, "failure", 2},
		{"retried", &github.RepoStatus{State: github.String("success"), Context: github.String("ci/test")}, "success", 2},
		{"error", &github.RepoStatus{State: github.String("error")}, "failure", 3},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.add != nil {
				f.repo.AddStatus(sha, *st.add)
			}
			if cs := status(); cs.GetState() != st.state || cs.GetTotalCount() != st.context {
				t.Fatalf("state %s with %d contexts, want %s with %d", cs.GetState(), cs.GetTotalCount(), st.state, st.context)
			}
		})
	}
	all, _, err := f.client.Repositories.ListStatuses(t.Context(), "dotnet", "runtime", sha, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 || all[0].GetState() != "error" || all[0].GetContext() != "default" || all[4].GetState() != "pending" {
		t.Fatalf("statuses newest first: %s", github.Stringify(all))
	}
	// An unknown ref is 404, as GitHub's description lists for this route.
	for _, ref := range []string{"1234567890abcdef1234567890abcdef12345678", "no-such-branch"} {
		_, _, err = f.client.Repositories.GetCombinedStatus(t.Context(), "dotnet", "runtime", ref, nil)
		wantAPIError(t, err, 404, "Not Found")
	}
}

func TestCreateStatus(t *testing.T) {
	f := newFixture(t)
	f.srv.AddToken("ci", "ghp_ci")
	sha := f.branch(t, "darc", "a.txt", "a\n")
	st, resp, err := f.srv.Client("ghp_ci").Repositories.CreateStatus(t.Context(), "dotnet", "runtime", sha, &github.RepoStatus{
		State: github.String("success"), Context: github.String("ci"), Description: github.String("ok"), TargetURL: github.String("https://ci/1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 || st.GetCreator().GetLogin() != "ci" || st.GetState() != "success" || st.GetTargetURL() != "https://ci/1" {
		t.Fatalf("%d %s", resp.StatusCode, github.Stringify(st))
	}
	if cs, _, err := f.client.Repositories.GetCombinedStatus(t.Context(), "dotnet", "runtime", sha, nil); err != nil || cs.GetState() != "success" {
		t.Fatalf("combined status after create: %v %v", cs.GetState(), err)
	}
	_, _, err = f.client.Repositories.CreateStatus(t.Context(), "dotnet", "runtime", "nope", &github.RepoStatus{State: github.String("success")})
	wantAPIError(t, err, 422, "No commit found for SHA: nope")
	_, _, err = f.client.Repositories.CreateStatus(t.Context(), "dotnet", "runtime", sha, &github.RepoStatus{Context: github.String("ci")})
	wantAPIError(t, err, 422, "Invalid request.\n\n\"state\" wasn't supplied.")

	// Descriptions are at most 140 characters (not bytes).
	long := strings.Repeat("é", 140)
	if st, _, err := f.client.Repositories.CreateStatus(t.Context(), "dotnet", "runtime", sha, &github.RepoStatus{
		State: github.String("pending"), Context: github.String("ci"), Description: github.String(long)}); err != nil || st.GetDescription() != long {
		t.Fatalf("140 characters: %v %s", err, github.Stringify(st))
	}
	_, _, err = f.client.Repositories.CreateStatus(t.Context(), "dotnet", "runtime", sha, &github.RepoStatus{
		State: github.String("failure"), Context: github.String("ci"), Description: github.String(long + "x")})
	wantFieldError(t, err, github.Error{Resource: "Status", Field: "description", Code: "custom", Message: "description is too long (maximum is 140 characters)"})
	if all, _, err := f.client.Repositories.ListStatuses(t.Context(), "dotnet", "runtime", sha, nil); err != nil || len(all) != 2 || all[0].GetState() != "pending" {
		t.Fatalf("a refused status is not stored: %v %s", err, github.Stringify(all))
	}
}

func TestComments(t *testing.T) {
	f := newFixture(t)
	f.openPR(t, "darc")
	f.srv.AddToken("alice", "ghp_alice")
	bodies := []string{"Skipping the update: the branch has commits by alice.", "second", "third"}
	for i, body := range bodies {
		client := f.client
		if i == 1 {
			client = f.srv.Client("ghp_alice")
		}
		c, resp, err := client.Issues.CreateComment(t.Context(), "dotnet", "runtime", 1, &github.IssueComment{Body: github.String(body)})
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 201 || c.GetBody() != body || c.GetID() == 0 || c.GetIssueURL() != f.srv.APIURL()+"repos/dotnet/runtime/issues/1" {
			t.Fatalf("created %d %s", resp.StatusCode, github.Stringify(c))
		}
	}
	list, resp, err := f.client.Issues.ListComments(t.Context(), "dotnet", "runtime", 1, &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].GetBody() != bodies[0] || list[1].GetUser().GetLogin() != "alice" || resp.NextPage != 2 {
		t.Fatalf("first page %s, next %d", github.Stringify(list), resp.NextPage)
	}
	if got := f.repo.Comments(1); len(got) != 3 || got[2].GetBody() != "third" {
		t.Fatalf("Comments: %s", github.Stringify(got))
	}
	if pr := f.repo.PullRequest(1); pr.GetComments() != 3 {
		t.Fatalf("pull request counts %d comments", pr.GetComments())
	}
	_, _, err = f.client.Issues.CreateComment(t.Context(), "dotnet", "runtime", 1, &github.IssueComment{Body: github.String("")})
	wantFieldError(t, err, github.Error{Resource: "IssueComment", Field: "body", Code: "missing_field"})
	_, _, err = f.client.Issues.ListComments(t.Context(), "dotnet", "runtime", 2, nil)
	wantAPIError(t, err, 404, "Not Found")
}

func TestReviews(t *testing.T) {
	f := newFixture(t)
	f.openPR(t, "darc")
	f.srv.AddToken("reviewer", "ghp_reviewer")
	f.repo.AddReview(1, "bob", github.PullRequestReview{State: github.String("CHANGES_REQUESTED"), Body: github.String("no")})
	rv, _, err := f.srv.Client("ghp_reviewer").PullRequests.CreateReview(t.Context(), "dotnet", "runtime", 1, &github.PullRequestReviewRequest{Event: github.String("APPROVE")})
	if err != nil {
		t.Fatal(err)
	}
	if rv.GetState() != "APPROVED" || rv.GetUser().GetLogin() != "reviewer" || rv.GetCommitID() != f.repo.Branch("darc") || rv.SubmittedAt == nil {
		t.Fatalf("review %s", github.Stringify(rv))
	}
	list, _, err := f.client.PullRequests.ListReviews(t.Context(), "dotnet", "runtime", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].GetState() != "CHANGES_REQUESTED" || list[0].GetUser().GetLogin() != "bob" || list[1].GetState() != "APPROVED" {
		t.Fatalf("reviews %s", github.Stringify(list))
	}
	for _, tc := range []struct {
		name, event, message string
	}{
		{"approve own", "APPROVE", "Can not approve your own pull request"},
		{"request changes on own", "REQUEST_CHANGES", "Can not request changes on your own pull request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := f.client.PullRequests.CreateReview(t.Context(), "dotnet", "runtime", 1, &github.PullRequestReviewRequest{Event: github.String(tc.event), Body: github.String("x")})
			er := wantAPIError(t, err, 422, "Unprocessable Entity")
			if len(er.Errors) != 1 || er.Errors[0].Message != tc.message {
				t.Fatalf("errors %+v, want %q", er.Errors, tc.message)
			}
		})
	}
	_, _, err = f.client.PullRequests.ListReviews(t.Context(), "dotnet", "runtime", 5, nil)
	wantAPIError(t, err, 404, "Not Found")
}

func TestRepoHandleHelpers(t *testing.T) {
	f := newFixture(t)
	if got, ok := f.repo.File("main", "eng/Versions.props"); !ok || got != versionsProps {
		t.Fatalf("File: %q %v", got, ok)
	}
	sha := f.repo.Commit(githubdouble.CommitSpec{Branch: "cleanup", Delete: []string{"README.md"}, Files: map[string]string{"dir/with space/\"q\".txt": "q\n"}})
	if _, ok := f.repo.File(sha, "README.md"); ok {
		t.Fatal("README.md survived its deletion")
	}
	if got, ok := f.repo.File("cleanup", "dir/with space/\"q\".txt"); !ok || got != "q\n" {
		t.Fatalf("quoted path: %q %v", got, ok)
	}
	if _, ok := f.repo.File("nope", "README.md"); ok {
		t.Fatal("File found a file on a branch that does not exist")
	}
	if f.repo.FullName() != "dotnet/runtime" || f.repo.Branch("nope") != "" {
		t.Fatal("FullName or Branch")
	}
	if got := git(t, f.repo.Dir(), "for-each-ref", "--format=%(refname)", "refs/heads/"); got != "refs/heads/cleanup\nrefs/heads/main" {
		t.Fatalf("branches %q", got)
	}
}

func TestCommentsSinceAndPendingReviews(t *testing.T) {
	f := newFixture(t)
	f.openPR(t, "darc")
	first, _, err := f.client.Issues.CreateComment(t.Context(), "dotnet", "runtime", 1, &github.IssueComment{Body: github.String("one")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.client.Issues.CreateComment(t.Context(), "dotnet", "runtime", 1, &github.IssueComment{Body: github.String("two")}); err != nil {
		t.Fatal(err)
	}
	since := first.GetCreatedAt().Add(time.Second)
	list, _, err := f.client.Issues.ListComments(t.Context(), "dotnet", "runtime", 1, &github.IssueListCommentsOptions{Since: &since})
	if err != nil || len(list) != 1 || list[0].GetBody() != "two" {
		t.Fatalf("since: %v %s", err, github.Stringify(list))
	}

	f.srv.AddToken("reviewer", "ghp_reviewer")
	reviewer := f.srv.Client("ghp_reviewer")
	pending, _, err := reviewer.PullRequests.CreateReview(t.Context(), "dotnet", "runtime", 1, &github.PullRequestReviewRequest{Body: github.String("draft")})
	if err != nil || pending.GetState() != "PENDING" || pending.SubmittedAt != nil {
		t.Fatalf("pending review: %v %s", err, github.Stringify(pending))
	}
	for _, tc := range []struct {
		name   string
		client *github.Client
		want   int
	}{{"author sees own pending review", reviewer, 1}, {"others do not", f.client, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			list, _, err := tc.client.PullRequests.ListReviews(t.Context(), "dotnet", "runtime", 1, nil)
			if err != nil || len(list) != tc.want {
				t.Fatalf("%d reviews (%v), want %d", len(list), err, tc.want)
			}
		})
	}
	_, _, err = reviewer.PullRequests.CreateReview(t.Context(), "dotnet", "runtime", 1, &github.PullRequestReviewRequest{Event: github.String("REQUEST_CHANGES")})
	if er := wantAPIError(t, err, 422, "Unprocessable Entity"); len(er.Errors) != 1 {
		t.Fatalf("errors %+v", er.Errors)
	}
	_, _, err = reviewer.PullRequests.CreateReview(t.Context(), "dotnet", "runtime", 1, &github.PullRequestReviewRequest{
		Event: github.String("APPROVE"), CommitID: github.String("1234567890123456789012345678901234567890"),
	})
	// The description gives this 422 plain-string errors (validation_failed_simple).
	wantFieldError(t, err, github.Error{Message: "commit_id is not a commit of this repository"})
}
