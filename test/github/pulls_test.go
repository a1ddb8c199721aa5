package githubdouble_test

import (
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

func TestCreatePullRequest(t *testing.T) {
	f := newFixture(t)
	head := f.branch(t, "darc-main-1", "eng/Versions.props", strings.Replace(versionsProps, "8.0.0", "8.0.1", 1))
	pr, resp, err := f.client.PullRequests.Create(t.Context(), "dotnet", "runtime", &github.NewPullRequest{
		Title: github.String("[main] Update dependencies from dotnet/arcade"),
		Head:  github.String("dotnet:darc-main-1"),
		Base:  github.String("main"),
		Body:  github.String("[marker]: <> (Begin:abc)"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 || resp.Header.Get("Location") != pr.GetURL() {
		t.Fatalf("status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"number", pr.GetNumber(), 1},
		{"state", pr.GetState(), "open"},
		{"title", pr.GetTitle(), "[main] Update dependencies from dotnet/arcade"},
		{"body", pr.GetBody(), "[marker]: <> (Begin:abc)"},
		{"user", pr.GetUser().GetLogin(), githubdouble.DefaultLogin},
		{"head ref", pr.GetHead().GetRef(), "darc-main-1"},
		{"head label", pr.GetHead().GetLabel(), "dotnet:darc-main-1"},
		{"head sha", pr.GetHead().GetSHA(), head},
		{"head repo", pr.GetHead().GetRepo().GetFullName(), "dotnet/runtime"},
		{"base ref", pr.GetBase().GetRef(), "main"},
		{"base sha", pr.GetBase().GetSHA(), f.repo.Branch("main")},
		{"merged", pr.GetMerged(), false},
		{"mergeable", pr.GetMergeable(), true},
		{"mergeable state", pr.GetMergeableState(), "clean"},
		{"commits", pr.GetCommits(), 1},
		{"additions", pr.GetAdditions(), 1},
		{"deletions", pr.GetDeletions(), 1},
		{"changed files", pr.GetChangedFiles(), 1},
		{"html url", pr.GetHTMLURL(), f.srv.URL() + "/dotnet/runtime/pull/1"},
		{"url", pr.GetURL(), f.srv.APIURL() + "repos/dotnet/runtime/pulls/1"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if got := git(t, f.repo.Dir(), "rev-parse", "refs/pull/1/head"); got != head {
		t.Fatalf("refs/pull/1/head is %q, want %s", got, head)
	}
}

func TestCreatePullRequestErrors(t *testing.T) {
	f := newFixture(t)
	f.openPR(t, "open")
	f.branch(t, "feature", "a.txt", "a\n")
	f.repo.Commit(githubdouble.CommitSpec{Branch: "same", Files: map[string]string{}})
	git(t, f.repo.Dir(), "update-ref", "refs/heads/same", f.repo.Branch("main"))
	for _, tc := range []struct {
		name string
		pr   github.NewPullRequest
		want github.Error
	}{
		{"already open", github.NewPullRequest{Title: github.String("t"), Head: github.String("open"), Base: github.String("main")},
			github.Error{Resource: "PullRequest", Code: "custom", Message: "A pull request already exists for dotnet:open."}},
		{"already open, owner form", github.NewPullRequest{Title: github.String("t"), Head: github.String("DotNet:open"), Base: github.String("main")},
			github.Error{Resource: "PullRequest", Code: "custom", Message: "A pull request already exists for dotnet:open."}},
		{"no commits", github.NewPullRequest{Title: github.String("t"), Head: github.String("same"), Base: github.String("main")},
			github.Error{Resource: "PullRequest", Code: "custom", Message: "No commits between main and same"}},
		{"missing head branch", github.NewPullRequest{Title: github.String("t"), Head: github.String("nope"), Base: github.String("main")},
			github.Error{Resource: "PullRequest", Field: "head", Code: "invalid"}},
		{"missing base branch", github.NewPullRequest{Title: github.String("t"), Head: github.String("feature"), Base: github.String("nope")},
			github.Error{Resource: "PullRequest", Field: "base", Code: "invalid"}},
		{"fork head", github.NewPullRequest{Title: github.String("t"), Head: github.String("someone:feature"), Base: github.String("main")},
			github.Error{Resource: "PullRequest", Field: "head", Code: "invalid"}},
		{"bad branch name", github.NewPullRequest{Title: github.String("t"), Head: github.String("a..b"), Base: github.String("main")},
			github.Error{Resource: "PullRequest", Field: "head", Code: "invalid"}},
		{"no title", github.NewPullRequest{Head: github.String("feature"), Base: github.String("main")},
			github.Error{Resource: "PullRequest", Field: "title", Code: "missing_field"}},
		{"issue", github.NewPullRequest{Issue: github.Int(5), Head: github.String("feature"), Base: github.String("main")},
			github.Error{Resource: "PullRequest", Field: "issue", Code: "invalid"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := f.client.PullRequests.Create(t.Context(), "dotnet", "runtime", &tc.pr)
			wantFieldError(t, err, tc.want)
		})
	}
	if n := len(f.repo.PullRequests()); n != 1 {
		t.Fatalf("%d pull requests, want the one opened", n)
	}
}

func TestListPullRequests(t *testing.T) {
	f := newFixture(t)
	f.openPR(t, "a")
	f.openPR(t, "b")
	f.openPR(t, "c")
	f.repo.Commit(githubdouble.CommitSpec{Branch: "release", Files: map[string]string{"r.txt": "r\n"}})
	f.branch(t, "d", "d.txt", "d\n")
	if _, _, err := f.client.PullRequests.Create(t.Context(), "dotnet", "runtime", &github.NewPullRequest{
		Title: github.String("into release"), Head: github.String("d"), Base: github.String("release"),
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.client.PullRequests.Edit(t.Context(), "dotnet", "runtime", 2, &github.PullRequest{State: github.String("closed")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts github.PullRequestListOptions
		want []int
	}{
		{"default is open, newest first", github.PullRequestListOptions{}, []int{4, 3, 1}},
		{"closed", github.PullRequestListOptions{State: "closed"}, []int{2}},
		{"all, oldest first", github.PullRequestListOptions{State: "all", Direction: "asc"}, []int{1, 2, 3, 4}},
		{"head with owner", github.PullRequestListOptions{Head: "dotnet:c"}, []int{3}},
		{"head with owner, closed one", github.PullRequestListOptions{Head: "dotnet:b"}, nil},
		{"head without owner is ignored", github.PullRequestListOptions{Head: "c"}, []int{4, 3, 1}},
		{"head of another owner", github.PullRequestListOptions{Head: "someone:c"}, nil},
		{"base", github.PullRequestListOptions{Base: "release"}, []int{4}},
		{"head and base", github.PullRequestListOptions{Head: "dotnet:a", Base: "release"}, nil},
		{"updated", github.PullRequestListOptions{State: "all", Sort: "updated", Direction: "desc"}, []int{2, 4, 3, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prs, _, err := f.client.PullRequests.List(t.Context(), "dotnet", "runtime", &tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, pr := range prs {
				got = append(got, pr.GetNumber())
				if pr.Merged != nil || pr.Mergeable != nil || pr.Commits != nil {
					t.Fatalf("#%d: the list shows fields only GET of one pull request has", pr.GetNumber())
				}
			}
			if !equalInts(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	_, _, err := f.client.PullRequests.List(t.Context(), "dotnet", "runtime", &github.PullRequestListOptions{State: "merged"})
	wantFieldError(t, err, github.Error{Resource: "PullRequest", Field: "state", Code: "invalid"})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestListPullRequestsPaginates(t *testing.T) {
	f := newFixture(t)
	for _, b := range []string{"a", "b", "c", "d", "e"} {
		f.openPR(t, b)
	}
	opts := &github.PullRequestListOptions{State: "all", Direction: "asc", ListOptions: github.ListOptions{PerPage: 2}}
	var got []int
	pages := 0
	for {
		prs, resp, err := f.client.PullRequests.List(t.Context(), "dotnet", "runtime", opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, pr := range prs {
			got = append(got, pr.GetNumber())
		}
		if resp.NextPage == 0 {
			if resp.LastPage != 0 || resp.PrevPage != 2 || resp.FirstPage != 1 {
				t.Fatalf("last page links: %+v", resp)
			}
			break
		}
		if resp.LastPage != 3 {
			t.Fatalf("rel=last is page %d, want 3", resp.LastPage)
		}
		opts.Page = resp.NextPage
	}
	if pages != 3 || !equalInts(got, []int{1, 2, 3, 4, 5}) {
		t.Fatalf("%d pages with %v", pages, got)
	}
}

func TestPullRequestFollowsItsBranch(t *testing.T) {
	f := newFixture(t)
	pr := f.openPR(t, "darc")
	alice := githubdouble.User{Login: "alice", Name: "Alice", Email: "alice@example.com"}
	f.srv.AddUser(alice)
	tip := f.repo.Commit(githubdouble.CommitSpec{Branch: "darc", Message: "Manual fix", Files: map[string]string{"fix.txt": "x\n"}, Author: alice})
	got, _, err := f.client.PullRequests.Get(t.Context(), "dotnet", "runtime", pr.GetNumber())
	if err != nil {
		t.Fatal(err)
	}
	if got.GetHead().GetSHA() != tip || got.GetCommits() != 2 || got.GetChangedFiles() != 2 {
		t.Fatalf("after a push: head %s (want %s), %d commits, %d files", got.GetHead().GetSHA(), tip, got.GetCommits(), got.GetChangedFiles())
	}
	if ref := git(t, f.repo.Dir(), "rev-parse", "refs/pull/1/head"); ref != tip {
		t.Fatalf("refs/pull/1/head is %s, want %s", ref, tip)
	}
	commits, _, err := f.client.PullRequests.ListCommits(t.Context(), "dotnet", "runtime", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(commits) != 2 || commits[1].GetSHA() != tip || commits[1].GetAuthor().GetLogin() != "alice" ||
		commits[1].GetCommit().GetAuthor().GetEmail() != "alice@example.com" || commits[1].GetCommit().GetMessage() != "Manual fix" ||
		commits[0].GetAuthor().GetLogin() != githubdouble.DefaultLogin || len(commits[1].Parents) != 1 || commits[1].Parents[0].GetSHA() != commits[0].GetSHA() {
		t.Fatalf("commits %s", github.Stringify(commits))
	}

	if _, err := f.client.Git.DeleteRef(t.Context(), "dotnet", "runtime", "heads/darc"); err != nil {
		t.Fatal(err)
	}
	got, _, err = f.client.PullRequests.Get(t.Context(), "dotnet", "runtime", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetState() != "closed" || got.GetMerged() || got.ClosedAt == nil || got.GetHead().GetSHA() != tip || got.GetCommits() != 2 {
		t.Fatalf("after deleting the branch: %s", github.Stringify(got))
	}
	_, _, err = f.client.PullRequests.Edit(t.Context(), "dotnet", "runtime", 1, &github.PullRequest{State: github.String("open")})
	wantFieldError(t, err, github.Error{Resource: "PullRequest", Code: "custom", Message: "state cannot be changed. The darc branch has been deleted."})
}

func TestUpdatePullRequest(t *testing.T) {
	f := newFixture(t)
	f.openPR(t, "darc")
	f.repo.Commit(githubdouble.CommitSpec{Branch: "release/9.0", Files: map[string]string{"r.txt": "r\n"}})
	pr, _, err := f.client.PullRequests.Edit(t.Context(), "dotnet", "runtime", 1, &github.PullRequest{
		Title: github.String("new title"), Body: github.String("new body"), Base: &github.PullRequestBranch{Ref: github.String("release/9.0")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if pr.GetTitle() != "new title" || pr.GetBody() != "new body" || pr.GetBase().GetRef() != "release/9.0" || pr.GetState() != "open" {
		t.Fatalf("got %s", github.Stringify(pr))
	}
	_, _, err = f.client.PullRequests.Edit(t.Context(), "dotnet", "runtime", 1, &github.PullRequest{Base: &github.PullRequestBranch{Ref: github.String("nope")}})
	wantFieldError(t, err, github.Error{Resource: "PullRequest", Field: "base", Code: "invalid"})

	pr, _, err = f.client.PullRequests.Edit(t.Context(), "dotnet", "runtime", 1, &github.PullRequest{State: github.String("closed")})
	if err != nil || pr.GetState() != "closed" || pr.ClosedAt == nil || pr.GetMerged() {
		t.Fatalf("close: %v %s", err, github.Stringify(pr))
	}
	f.openPR(t, "darc2")
	pr, _, err = f.client.PullRequests.Edit(t.Context(), "dotnet", "runtime", 1, &github.PullRequest{State: github.String("open")})
	if err != nil || pr.GetState() != "open" || pr.ClosedAt != nil {
		t.Fatalf("reopen: %v %s", err, github.Stringify(pr))
	}
	_, _, err = f.client.PullRequests.Edit(t.Context(), "dotnet", "runtime", 9, &github.PullRequest{Title: github.String("x")})
	wantAPIError(t, err, 404, "Not Found")
}

func TestMergePullRequest(t *testing.T) {
	for _, tc := range []struct {
		method  string
		parents int
		message string
	}{
		{"merge", 2, "Merge pull request #1 from dotnet/darc\n\n[main] Update dependencies from dotnet/arcade"},
		{"squash", 1, "[main] Update dependencies from dotnet/arcade (#1)\n\n* Change eng/Versions.props\n\n* Second"},
		{"rebase", 1, "Second"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			f := newFixture(t)
			f.openPR(t, "darc")
			head := f.repo.Commit(githubdouble.CommitSpec{Branch: "darc", Message: "Second", Files: map[string]string{"second.txt": "2\n"}})
			f.repo.Commit(githubdouble.CommitSpec{Branch: "main", Message: "Moved on", Files: map[string]string{"README.md": "# runtime!\n"}})
			res, _, err := f.client.PullRequests.Merge(t.Context(), "dotnet", "runtime", 1, "", &github.PullRequestOptions{MergeMethod: tc.method, SHA: head})
			if err != nil {
				t.Fatal(err)
			}
			main := f.repo.Branch("main")
			if !res.GetMerged() || res.GetSHA() != main || res.GetMessage() != "Pull Request successfully merged" {
				t.Fatalf("result %s, main at %s", github.Stringify(res), main)
			}
			parents := strings.Fields(git(t, f.repo.Dir(), "log", "-1", "--format=%P", main))
			if len(parents) != tc.parents {
				t.Fatalf("%d parents, want %d", len(parents), tc.parents)
			}
			if msg := git(t, f.repo.Dir(), "log", "-1", "--format=%B", main); msg != tc.message {
				t.Fatalf("message %q, want %q", msg, tc.message)
			}
			if committer := git(t, f.repo.Dir(), "log", "-1", "--format=%cn <%ce>", main); committer != "GitHub <noreply@github.com>" {
				t.Fatalf("committer %q", committer)
			}
			for path, want := range map[string]string{"README.md": "# runtime!\n", "second.txt": "2\n", "eng/Versions.props": strings.Replace(versionsProps, "8.0.0", "8.0.1-darc", 1)} {
				if got, ok := f.repo.File("main", path); !ok || got != want {
					t.Fatalf("%s on main: %q, want %q", path, got, want)
				}
			}
			pr, _, err := f.client.PullRequests.Get(t.Context(), "dotnet", "runtime", 1)
			if err != nil {
				t.Fatal(err)
			}
			if pr.GetState() != "closed" || !pr.GetMerged() || pr.GetMergeCommitSHA() != main || pr.GetMergedBy().GetLogin() != githubdouble.DefaultLogin ||
				pr.MergedAt == nil || pr.GetCommits() != 2 || pr.GetHead().GetSHA() != head {
				t.Fatalf("merged pull request %s", github.Stringify(pr))
			}
			merged, _, err := f.client.PullRequests.IsMerged(t.Context(), "dotnet", "runtime", 1)
			if err != nil || !merged {
				t.Fatalf("IsMerged: %v %v", merged, err)
			}
			commits, _, err := f.client.PullRequests.ListCommits(t.Context(), "dotnet", "runtime", 1, nil)
			if err != nil || len(commits) != 2 {
				t.Fatalf("commits after merge: %d, %v", len(commits), err)
			}
			_, _, err = f.client.PullRequests.Merge(t.Context(), "dotnet", "runtime", 1, "", nil)
			wantAPIError(t, err, 405, "Pull Request is not mergeable")
		})
	}
}

func TestMergeIsDeterministic(t *testing.T) {
	merge := func() string {
		f := newFixture(t)
		f.openPR(t, "darc")
		res, _, err := f.client.PullRequests.Merge(t.Context(), "dotnet", "runtime", 1, "Custom text", &github.PullRequestOptions{CommitTitle: "Custom title"})
		if err != nil {
			t.Fatal(err)
		}
		if msg := git(t, f.repo.Dir(), "log", "-1", "--format=%B", res.GetSHA()); msg != "Custom title\n\nCustom text" {
			t.Fatalf("message %q", msg)
		}
		return res.GetSHA()
	}
	if a, b := merge(), merge(); a != b {
		t.Fatalf("the same merge on two servers with the same clock made %s and %s", a, b)
	}
}

func TestMergeErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		spec    githubdouble.RepoSpec
		prepare func(t *testing.T, f *fixture) github.PullRequestOptions
		status  int
		message string
	}{
		{"head moved", githubdouble.RepoSpec{}, func(t *testing.T, f *fixture) github.PullRequestOptions {
			old := f.repo.Branch("darc")
			f.repo.Commit(githubdouble.CommitSpec{Branch: "darc", Files: map[string]string{"x": "x\n"}})
			return github.PullRequestOptions{SHA: old}
		}, 409, "Head branch was modified. Review and try the merge again."},
		{"conflict", githubdouble.RepoSpec{}, func(t *testing.T, f *fixture) github.PullRequestOptions {
			f.repo.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"eng/Versions.props": "conflict\n"}})
			return github.PullRequestOptions{}
		}, 405, "Pull Request is not mergeable"},
		{"rebase conflict", githubdouble.RepoSpec{}, func(t *testing.T, f *fixture) github.PullRequestOptions {
			f.repo.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"eng/Versions.props": "conflict\n"}})
			return github.PullRequestOptions{MergeMethod: "rebase"}
		}, 405, "This branch can't be rebased"},
		{"closed", githubdouble.RepoSpec{}, func(t *testing.T, f *fixture) github.PullRequestOptions {
			if _, _, err := f.client.PullRequests.Edit(t.Context(), "dotnet", "runtime", 1, &github.PullRequest{State: github.String("closed")}); err != nil {
				t.Fatal(err)
			}
			return github.PullRequestOptions{}
		}, 405, "Pull Request is not mergeable"},
		{"merge commits disabled", githubdouble.RepoSpec{DisallowMergeCommit: true}, func(t *testing.T, f *fixture) github.PullRequestOptions {
			return github.PullRequestOptions{}
		}, 405, "Merge commits are not allowed on this repository."},
		{"squash disabled", githubdouble.RepoSpec{DisallowSquashMerge: true}, func(t *testing.T, f *fixture) github.PullRequestOptions {
			return github.PullRequestOptions{MergeMethod: "squash"}
		}, 405, "Squash merges are not allowed on this repository."},
		{"rebase disabled", githubdouble.RepoSpec{DisallowRebaseMerge: true}, func(t *testing.T, f *fixture) github.PullRequestOptions {
			return github.PullRequestOptions{MergeMethod: "rebase"}
		}, 405, "Rebase merges are not allowed on this repository."},
		{"rebase of a merge commit", githubdouble.RepoSpec{}, func(t *testing.T, f *fixture) github.PullRequestOptions {
			f.repo.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"other.txt": "o\n"}})
			wt := t.TempDir()
			git(t, wt, "clone", "-q", f.repo.AuthCloneURL(githubdouble.DefaultToken), ".")
			git(t, wt, "checkout", "-q", "darc")
			git(t, wt, "commit", "-q", "--allow-empty", "-m", "side")
			git(t, wt, "merge", "-q", "--no-ff", "-m", "merge main", "origin/main")
			git(t, wt, "push", "-q", "origin", "darc")
			return github.PullRequestOptions{MergeMethod: "rebase"}
		}, 405, "This branch must not contain merge commits."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			spec.Owner, spec.Name = "dotnet", "runtime"
			spec.Files = map[string]string{"README.md": "# runtime\n", "eng/Versions.props": versionsProps}
			f := newFixture(t, spec)
			f.openPR(t, "darc")
			opts := tc.prepare(t, f)
			before := f.repo.Branch("main")
			_, _, err := f.client.PullRequests.Merge(t.Context(), "dotnet", "runtime", 1, "", &opts)
			wantAPIError(t, err, tc.status, tc.message)
			if f.repo.Branch("main") != before {
				t.Fatal("a refused merge moved main")
			}
			if pr := f.repo.PullRequest(1); pr.GetMerged() {
				t.Fatal("a refused merge marked the pull request merged")
			}
		})
	}
}

func TestMergeDraftAndMergeability(t *testing.T) {
	f := newFixture(t)
	f.branch(t, "draft", "a.txt", "a\n")
	pr, _, err := f.client.PullRequests.Create(t.Context(), "dotnet", "runtime", &github.NewPullRequest{
		Title: github.String("wip"), Head: github.String("draft"), Base: github.String("main"), Draft: github.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !pr.GetDraft() || pr.GetMergeableState() != "draft" {
		t.Fatalf("draft: %v %s", pr.GetDraft(), pr.GetMergeableState())
	}
	_, _, err = f.client.PullRequests.Merge(t.Context(), "dotnet", "runtime", 1, "", nil)
	wantAPIError(t, err, 405, "Pull Request is still a draft")

	f.openPR(t, "darc")
	f.repo.AddStatus(f.repo.Branch("darc"), github.RepoStatus{State: github.String("pending"), Context: github.String("ci")})
	if got := f.repo.PullRequest(2).GetMergeableState(); got != "unstable" {
		t.Fatalf("with a pending status: %s, want unstable", got)
	}
	f.repo.AddStatus(f.repo.Branch("darc"), github.RepoStatus{State: github.String("success"), Context: github.String("ci")})
	if got := f.repo.PullRequest(2).GetMergeableState(); got != "clean" {
		t.Fatalf("with a green status: %s, want clean", got)
	}
	f.repo.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"eng/Versions.props": "conflict\n"}})
	if got := f.repo.PullRequest(2); got.GetMergeable() || got.GetMergeableState() != "dirty" {
		t.Fatalf("with a conflict: mergeable %v, %s", got.GetMergeable(), got.GetMergeableState())
	}
}

func TestDeleteBranchOnMerge(t *testing.T) {
	f := newFixture(t, githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", DeleteBranchOnMerge: true,
		Files: map[string]string{"eng/Versions.props": versionsProps}})
	f.openPR(t, "darc")
	if _, _, err := f.client.PullRequests.Merge(t.Context(), "dotnet", "runtime", 1, "", &github.PullRequestOptions{MergeMethod: "squash"}); err != nil {
		t.Fatal(err)
	}
	if f.repo.Branch("darc") != "" {
		t.Fatal("the head branch survived the merge")
	}
	if pr := f.repo.PullRequest(1); !pr.GetMerged() || pr.GetState() != "closed" {
		t.Fatalf("pull request %s after its branch was deleted", github.Stringify(pr))
	}
}

func TestReopenAndMergedRules(t *testing.T) {
	f := newFixture(t)
	f.openPR(t, "darc")
	if _, _, err := f.client.PullRequests.Edit(t.Context(), "dotnet", "runtime", 1, &github.PullRequest{State: github.String("closed")}); err != nil {
		t.Fatal(err)
	}
	if merged, _, err := f.client.PullRequests.IsMerged(t.Context(), "dotnet", "runtime", 1); err != nil || merged {
		t.Fatalf("IsMerged of a closed pull request: %v %v", merged, err)
	}
	_, _, err := f.client.PullRequests.Edit(t.Context(), "dotnet", "runtime", 1, &github.PullRequest{
		State: github.String("open"), Base: &github.PullRequestBranch{Ref: github.String("other")},
	})
	wantFieldError(t, err, github.Error{Resource: "PullRequest", Code: "custom", Message: "Cannot change base branch of closed pull request"})
	if _, _, err := f.client.PullRequests.Create(t.Context(), "dotnet", "runtime", &github.NewPullRequest{
		Title: github.String("again"), Head: github.String("darc"), Base: github.String("main"),
	}); err != nil {
		t.Fatalf("a new pull request from the branch of a closed one: %v", err)
	}
	_, _, err = f.client.PullRequests.Edit(t.Context(), "dotnet", "runtime", 1, &github.PullRequest{State: github.String("open")})
	wantFieldError(t, err, github.Error{Resource: "PullRequest", Code: "custom", Message: "A pull request already exists for dotnet:darc."})
	if _, _, err := f.client.PullRequests.Merge(t.Context(), "dotnet", "runtime", 2, "", nil); err != nil {
		t.Fatal(err)
	}
	_, _, err = f.client.PullRequests.Edit(t.Context(), "dotnet", "runtime", 2, &github.PullRequest{State: github.String("open")})
	wantFieldError(t, err, github.Error{Resource: "PullRequest", Code: "custom", Message: "state cannot be changed. The pull request has already been merged."})
}

func TestMergeableStateFollowsCheckRuns(t *testing.T) {
	f := newFixture(t)
	f.openPR(t, "darc")
	head := f.repo.Branch("darc")
	for _, tc := range []struct {
		name       string
		conclusion *string
		want       string
	}{
		{"failing run", github.String("failure"), "unstable"},
		{"rerun in progress", nil, "unstable"},
		{"rerun passed", github.String("success"), "clean"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := github.CheckRun{HeadSHA: github.String(head), Name: github.String("build"), Conclusion: tc.conclusion}
			if tc.conclusion == nil {
				run.Status = github.String("in_progress")
			}
			f.repo.AddCheckRun(run)
			if got := f.repo.PullRequest(1).GetMergeableState(); got != tc.want {
				t.Fatalf("mergeable_state %s, want %s", got, tc.want)
			}
		})
	}
}
