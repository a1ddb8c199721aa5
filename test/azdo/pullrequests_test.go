package azdo_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/test/azdo"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/policy"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/webapi"
)

func identityRef(id string) *webapi.IdentityRef { return &webapi.IdentityRef{Id: &id} }

// openPR pushes a branch with one change and opens a pull request from it
// into main.
func openPR(t *testing.T, e *env, branch, content string) *git.GitPullRequest {
	t.Helper()
	_, err := e.git.CreatePush(e.ctx, git.CreatePushArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"),
		Push: push("refs/heads/"+branch, e.repo.Head("main"), "Update dependencies",
			change(git.VersionControlChangeTypeValues.Edit, "/eng/Version.Details.xml", content))})
	if err != nil {
		t.Fatalf("CreatePush: %v", err)
	}
	pr, err := e.git.CreatePullRequest(e.ctx, git.CreatePullRequestArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"),
		GitPullRequestToCreate: &git.GitPullRequest{
			SourceRefName: ptr("refs/heads/" + branch),
			TargetRefName: ptr("refs/heads/main"),
			Title:         ptr("[main] Update dependencies from dotnet/arcade"),
			Description:   ptr("This pull request updates the following dependencies"),
		}})
	if err != nil {
		t.Fatalf("CreatePullRequest: %v", err)
	}
	return pr
}

func TestCreatePullRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pr := openPR(t, e, "darc-main-1", "<Dependencies><A /></Dependencies>\n")
	if st := statusOf(e.s, http.MethodPost, "/pullRequests"); st != http.StatusCreated {
		t.Errorf("status = %d, want 201", st)
	}
	if *pr.PullRequestId != 1 || *pr.Status != git.PullRequestStatusValues.Active || *pr.SourceRefName != "refs/heads/darc-main-1" {
		t.Errorf("pull request = %d %s %s", *pr.PullRequestId, *pr.Status, *pr.SourceRefName)
	}
	if *pr.MergeStatus != git.PullRequestAsyncStatusValues.Succeeded || pr.LastMergeCommit == nil {
		t.Errorf("merge status = %s, lastMergeCommit %v", *pr.MergeStatus, pr.LastMergeCommit)
	}
	if *pr.LastMergeSourceCommit.CommitId != e.repo.Head("darc-main-1") || *pr.LastMergeTargetCommit.CommitId != e.repo.Head("main") {
		t.Errorf("last merge commits = %s, %s", *pr.LastMergeSourceCommit.CommitId, *pr.LastMergeTargetCommit.CommitId)
	}
	if *pr.CreatedBy.Id == "" || *pr.Repository.Id != e.repo.ID || !strings.HasPrefix(*pr.ArtifactId, "vstfs:///Git/PullRequestId/") {
		t.Errorf("createdBy %v repository %v artifactId %v", *pr.CreatedBy.Id, pr.Repository.Id, *pr.ArtifactId)
	}
	// The preview merge is a real merge commit.
	merge := *pr.LastMergeCommit.CommitId
	if parents := runGit(t, e.repo.Dir(), "log", "-1", "--format=%P", merge); parents != e.repo.Head("main")+" "+e.repo.Head("darc-main-1") {
		t.Errorf("merge parents = %s", parents)
	}
	if ref := runGit(t, e.repo.Dir(), "rev-parse", "refs/pull/1/merge"); ref != merge {
		t.Errorf("refs/pull/1/merge = %s, want %s", ref, merge)
	}

	e.repo.Commit("feature", map[string][]byte{"f.txt": []byte("f")}, "feature")
	create := func(pr *git.GitPullRequest) error {
		_, err := e.git.CreatePullRequest(e.ctx, git.CreatePullRequestArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), GitPullRequestToCreate: pr})
		return err
	}
	tests := []struct {
		name    string
		pr      git.GitPullRequest
		status  int
		typeKey string
	}{
		{name: "active pull request for the same branches", pr: git.GitPullRequest{SourceRefName: ptr("refs/heads/darc-main-1"), TargetRefName: ptr("refs/heads/main"), Title: ptr("again")},
			status: http.StatusConflict, typeKey: "GitPullRequestExistsException"},
		{name: "missing source branch", pr: git.GitPullRequest{SourceRefName: ptr("refs/heads/nope"), TargetRefName: ptr("refs/heads/main"), Title: ptr("t")},
			status: http.StatusBadRequest, typeKey: "GitPullRequestCannotBeActivated"},
		{name: "missing target branch", pr: git.GitPullRequest{SourceRefName: ptr("refs/heads/feature"), TargetRefName: ptr("refs/heads/nope"), Title: ptr("t")},
			status: http.StatusBadRequest, typeKey: "GitPullRequestCannotBeActivated"},
		{name: "no source ref", pr: git.GitPullRequest{TargetRefName: ptr("refs/heads/main"), Title: ptr("t")},
			status: http.StatusBadRequest, typeKey: "InvalidArgumentValueException"},
		{name: "blank title", pr: git.GitPullRequest{SourceRefName: ptr("refs/heads/feature"), TargetRefName: ptr("refs/heads/main"), Title: ptr("  ")},
			status: http.StatusBadRequest, typeKey: "InvalidArgumentValueException"},
		{name: "same source and target", pr: git.GitPullRequest{SourceRefName: ptr("refs/heads/main"), TargetRefName: ptr("refs/heads/main"), Title: ptr("t")},
			status: http.StatusBadRequest, typeKey: "InvalidArgumentValueException"},
		{name: "description over 4000 characters", pr: git.GitPullRequest{SourceRefName: ptr("refs/heads/feature"), TargetRefName: ptr("refs/heads/main"), Title: ptr("t"), Description: ptr(strings.Repeat("x", 4001))},
			status: http.StatusBadRequest, typeKey: "InvalidArgumentValueException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr := tt.pr
			wantError(t, create(&pr), tt.status, tt.typeKey)
		})
	}
	t.Run("unknown repository", func(t *testing.T) {
		_, err := e.git.CreatePullRequest(e.ctx, git.CreatePullRequestArgs{Project: ptr("dnceng"), RepositoryId: ptr("nope"),
			GitPullRequestToCreate: &git.GitPullRequest{SourceRefName: ptr("refs/heads/feature"), TargetRefName: ptr("refs/heads/main"), Title: ptr("t")}})
		wantError(t, err, http.StatusNotFound, "GitRepositoryNotFoundException")
	})
	t.Run("description of exactly 4000 characters", func(t *testing.T) {
		if err := create(&git.GitPullRequest{SourceRefName: ptr("refs/heads/feature"), TargetRefName: ptr("refs/heads/main"), Title: ptr("t"), Description: ptr(strings.Repeat("x", 4000))}); err != nil {
			t.Fatalf("CreatePullRequest: %v", err)
		}
	})
}

func TestGetPullRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := openPR(t, e, "darc-main-1", "1\n")
	second := openPR(t, e, "darc-main-2", "2\n")
	abandon(t, e, *first.PullRequestId)
	tests := []struct {
		name     string
		criteria git.GitPullRequestSearchCriteria
		want     []int
	}{
		{name: "active by default", criteria: git.GitPullRequestSearchCriteria{}, want: []int{*second.PullRequestId}},
		{name: "all, newest first", criteria: git.GitPullRequestSearchCriteria{Status: ptr(git.PullRequestStatusValues.All)}, want: []int{2, 1}},
		{name: "abandoned", criteria: git.GitPullRequestSearchCriteria{Status: ptr(git.PullRequestStatusValues.Abandoned)}, want: []int{1}},
		{name: "by source branch", criteria: git.GitPullRequestSearchCriteria{Status: ptr(git.PullRequestStatusValues.All), SourceRefName: ptr("refs/heads/darc-main-1")}, want: []int{1}},
		{name: "by target branch", criteria: git.GitPullRequestSearchCriteria{TargetRefName: ptr("refs/heads/release")}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			criteria := tt.criteria
			got, err := e.git.GetPullRequests(e.ctx, git.GetPullRequestsArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), SearchCriteria: &criteria})
			if err != nil {
				t.Fatalf("GetPullRequests: %v", err)
			}
			var ids []int
			for _, pr := range *got {
				ids = append(ids, *pr.PullRequestId)
			}
			if len(ids) != len(tt.want) || (len(ids) > 0 && ids[0] != tt.want[0]) {
				t.Errorf("pull requests = %v, want %v", ids, tt.want)
			}
		})
	}
	t.Run("by ID in the project", func(t *testing.T) {
		pr, err := e.git.GetPullRequestById(e.ctx, git.GetPullRequestByIdArgs{Project: ptr("dnceng"), PullRequestId: second.PullRequestId})
		if err != nil {
			t.Fatalf("GetPullRequestById: %v", err)
		}
		if *pr.Title != *second.Title || *pr.Repository.Name != "runtime" {
			t.Errorf("pull request = %s in %s", *pr.Title, *pr.Repository.Name)
		}
	})
	t.Run("by ID in the repository with commits", func(t *testing.T) {
		pr, err := e.git.GetPullRequest(e.ctx, git.GetPullRequestArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: second.PullRequestId, IncludeCommits: ptr(true)})
		if err != nil {
			t.Fatalf("GetPullRequest: %v", err)
		}
		if pr.Commits == nil || len(*pr.Commits) != 1 || *(*pr.Commits)[0].Comment != "Update dependencies" {
			t.Errorf("commits = %+v", pr.Commits)
		}
	})
	t.Run("commits", func(t *testing.T) {
		got, err := e.git.GetPullRequestCommits(e.ctx, git.GetPullRequestCommitsArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: second.PullRequestId})
		if err != nil {
			t.Fatalf("GetPullRequestCommits: %v", err)
		}
		if len(got.Value) != 1 || *got.Value[0].CommitId != e.repo.Head("darc-main-2") || deref(got.Value[0].Author.Name) == "" {
			t.Errorf("commits = %+v", got.Value)
		}
	})
	for _, tt := range []struct {
		name string
		get  func() error
	}{
		{name: "unknown ID in the project", get: func() error {
			_, err := e.git.GetPullRequestById(e.ctx, git.GetPullRequestByIdArgs{Project: ptr("dnceng"), PullRequestId: ptr(99)})
			return err
		}},
		{name: "unknown ID in the repository", get: func() error {
			_, err := e.git.GetPullRequest(e.ctx, git.GetPullRequestArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: ptr(99)})
			return err
		}},
		{name: "statuses of an unknown pull request", get: func() error {
			_, err := e.git.GetPullRequestStatuses(e.ctx, git.GetPullRequestStatusesArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: ptr(99)})
			return err
		}},
		{name: "threads of an unknown pull request", get: func() error {
			_, err := e.git.GetThreads(e.ctx, git.GetThreadsArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: ptr(99)})
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, tt.get(), http.StatusNotFound, "GitPullRequestNotFoundException")
		})
	}
}

func updatePR(e *env, id int, update git.GitPullRequest) (*git.GitPullRequest, error) {
	return e.git.UpdatePullRequest(e.ctx, git.UpdatePullRequestArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: ptr(id), GitPullRequestToUpdate: &update})
}

func abandon(t *testing.T, e *env, id int) {
	t.Helper()
	if _, err := updatePR(e, id, git.GitPullRequest{Status: ptr(git.PullRequestStatusValues.Abandoned)}); err != nil {
		t.Fatalf("abandon %d: %v", id, err)
	}
}

func TestUpdatePullRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pr := openPR(t, e, "darc-main-1", "1\n")
	id := *pr.PullRequestId

	got, err := updatePR(e, id, git.GitPullRequest{Title: ptr("new title"), Description: ptr("new body")})
	if err != nil {
		t.Fatalf("update title: %v", err)
	}
	if *got.Title != "new title" || *got.Description != "new body" {
		t.Errorf("after update: %q %q", *got.Title, *got.Description)
	}

	bad := []struct {
		name    string
		update  git.GitPullRequest
		status  int
		typeKey string
	}{
		{name: "source branch", update: git.GitPullRequest{SourceRefName: ptr("refs/heads/x")}, status: http.StatusBadRequest, typeKey: "InvalidArgumentValueException"},
		{name: "blank title", update: git.GitPullRequest{Title: ptr("")}, status: http.StatusBadRequest, typeKey: "InvalidArgumentValueException"},
		{name: "long description", update: git.GitPullRequest{Description: ptr(strings.Repeat("d", 4001))}, status: http.StatusBadRequest, typeKey: "InvalidArgumentValueException"},
		{name: "complete without source commit", update: git.GitPullRequest{Status: ptr(git.PullRequestStatusValues.Completed)}, status: http.StatusBadRequest, typeKey: "InvalidArgumentValueException"},
		{name: "complete with a stale source commit", update: git.GitPullRequest{Status: ptr(git.PullRequestStatusValues.Completed), LastMergeSourceCommit: &git.GitCommitRef{CommitId: ptr(e.repo.Head("main"))}},
			status: http.StatusConflict, typeKey: "GitPullRequestStaleException"},
		{name: "reviewers", update: git.GitPullRequest{Reviewers: &[]git.IdentityRefWithVote{}},
			status: http.StatusBadRequest, typeKey: "InvalidArgumentValueException"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := updatePR(e, id, tt.update)
			wantError(t, err, tt.status, tt.typeKey)
		})
	}
	t.Run("unknown pull request", func(t *testing.T) {
		_, err := updatePR(e, 42, git.GitPullRequest{Title: ptr("x")})
		wantError(t, err, http.StatusNotFound, "GitPullRequestNotFoundException")
	})

	t.Run("abandon and reactivate", func(t *testing.T) {
		abandon(t, e, id)
		other := openPR(t, e, "darc-main-1b", "1b\n")
		_ = other
		got, err := updatePR(e, id, git.GitPullRequest{Status: ptr(git.PullRequestStatusValues.Active)})
		if err != nil {
			t.Fatalf("reactivate: %v", err)
		}
		if *got.Status != git.PullRequestStatusValues.Active || got.ClosedDate != nil {
			t.Errorf("after reactivation: %s closed %v", *got.Status, got.ClosedDate)
		}
	})
	t.Run("reactivate over an active duplicate", func(t *testing.T) {
		abandon(t, e, id)
		if _, err := e.git.CreatePullRequest(e.ctx, git.CreatePullRequestArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"),
			GitPullRequestToCreate: &git.GitPullRequest{SourceRefName: ptr("refs/heads/darc-main-1"), TargetRefName: ptr("refs/heads/main"), Title: ptr("dup")}}); err != nil {
			t.Fatalf("CreatePullRequest: %v", err)
		}
		_, err := updatePR(e, id, git.GitPullRequest{Status: ptr(git.PullRequestStatusValues.Active)})
		wantError(t, err, http.StatusConflict, "GitPullRequestExistsException")
	})
}

func complete(e *env, id int, opts *git.GitPullRequestCompletionOptions) (*git.GitPullRequest, error) {
	pr, err := e.git.GetPullRequestById(e.ctx, git.GetPullRequestByIdArgs{Project: ptr("dnceng"), PullRequestId: ptr(id)})
	if err != nil {
		return nil, err
	}
	return updatePR(e, id, git.GitPullRequest{
		Status:                ptr(git.PullRequestStatusValues.Completed),
		LastMergeSourceCommit: pr.LastMergeSourceCommit,
		CompletionOptions:     opts,
	})
}

func TestCompletePullRequest(t *testing.T) {
	t.Parallel()
	t.Run("merge commit", func(t *testing.T) {
		e := newEnv(t)
		pr := openPR(t, e, "darc-main-1", "<Dependencies>1</Dependencies>\n")
		source, target := e.repo.Head("darc-main-1"), e.repo.Head("main")
		got, err := complete(e, *pr.PullRequestId, &git.GitPullRequestCompletionOptions{DeleteSourceBranch: ptr(true)})
		if err != nil {
			t.Fatalf("complete: %v", err)
		}
		if *got.Status != git.PullRequestStatusValues.Completed || got.ClosedDate == nil || got.ClosedBy == nil {
			t.Fatalf("after completion: %s", *got.Status)
		}
		main := e.repo.Head("main")
		if main != *got.LastMergeCommit.CommitId {
			t.Errorf("main = %s, lastMergeCommit = %s", main, *got.LastMergeCommit.CommitId)
		}
		if parents := runGit(t, e.repo.Dir(), "log", "-1", "--format=%P", main); parents != target+" "+source {
			t.Errorf("merge parents = %q, want %q", parents, target+" "+source)
		}
		if msg := runGit(t, e.repo.Dir(), "log", "-1", "--format=%s", main); msg != "Merged PR 1: [main] Update dependencies from dotnet/arcade" {
			t.Errorf("merge message = %q", msg)
		}
		if data, _ := e.repo.ReadFile("main", "eng/Version.Details.xml"); string(data) != "<Dependencies>1</Dependencies>\n" {
			t.Errorf("merged file = %q", data)
		}
		if e.repo.Head("darc-main-1") != "" {
			t.Errorf("the source branch was not deleted")
		}
		_, err = updatePR(e, 1, git.GitPullRequest{Title: ptr("again")})
		wantError(t, err, http.StatusBadRequest, "GitPullRequestNotEditableException")
	})
	t.Run("squash", func(t *testing.T) {
		e := newEnv(t)
		pr := openPR(t, e, "darc-main-1", "squashed\n")
		target := e.repo.Head("main")
		if _, err := complete(e, *pr.PullRequestId, &git.GitPullRequestCompletionOptions{MergeStrategy: ptr(git.GitPullRequestMergeStrategyValues.Squash), MergeCommitMessage: ptr("Squashed")}); err != nil {
			t.Fatalf("complete: %v", err)
		}
		if parents := runGit(t, e.repo.Dir(), "log", "-1", "--format=%P %s", "main"); parents != target+" Squashed" {
			t.Errorf("squash commit = %q", parents)
		}
	})
	t.Run("conflict", func(t *testing.T) {
		e := newEnv(t)
		pr := openPR(t, e, "darc-main-1", "mine\n")
		e.repo.Commit("main", map[string][]byte{"eng/Version.Details.xml": []byte("theirs\n")}, "conflicting change")
		got, err := complete(e, *pr.PullRequestId, nil)
		if err != nil {
			t.Fatalf("complete: %v", err)
		}
		if *got.Status != git.PullRequestStatusValues.Active || *got.MergeStatus != git.PullRequestAsyncStatusValues.Conflicts {
			t.Errorf("after completion: %s, merge %s; want active with conflicts", *got.Status, *got.MergeStatus)
		}
	})
	t.Run("blocked by a policy, then auto-complete", func(t *testing.T) {
		e := newEnv(t)
		pr := openPR(t, e, "darc-main-1", "policy\n")
		id := *pr.PullRequestId
		e.s.SetPolicyEvaluations(id,
			azdo.PolicyEvaluation{Type: "Build", Status: policy.PolicyEvaluationStatusValues.Rejected, Blocking: true},
			azdo.PolicyEvaluation{Type: "Comment requirements", Status: policy.PolicyEvaluationStatusValues.Rejected, Blocking: false})
		got, err := complete(e, id, nil)
		if err != nil {
			t.Fatalf("complete: %v", err)
		}
		if *got.Status != git.PullRequestStatusValues.Active || got.CompletionQueueTime == nil {
			t.Errorf("a rejected blocking policy did not block completion: %s", *got.Status)
		}
		identity := e.s.Requests()[0].Identity
		_, err = e.git.UpdatePullRequest(e.ctx, git.UpdatePullRequestArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: ptr(id),
			GitPullRequestToUpdate: &git.GitPullRequest{AutoCompleteSetBy: nil, CompletionOptions: &git.GitPullRequestCompletionOptions{DeleteSourceBranch: ptr(true)}}})
		if err != nil {
			t.Fatalf("set completion options: %v", err)
		}
		setBy := identity.ID.String()
		got, err = e.git.UpdatePullRequest(e.ctx, git.UpdatePullRequestArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: ptr(id),
			GitPullRequestToUpdate: &git.GitPullRequest{AutoCompleteSetBy: identityRef(setBy)}})
		if err != nil {
			t.Fatalf("set auto-complete: %v", err)
		}
		if *got.Status != git.PullRequestStatusValues.Active || got.AutoCompleteSetBy == nil {
			t.Fatalf("auto-complete: status %s, set by %v", *got.Status, got.AutoCompleteSetBy)
		}
		e.s.SetPolicyEvaluations(id,
			azdo.PolicyEvaluation{Type: "Build", Status: policy.PolicyEvaluationStatusValues.Approved, Blocking: true},
			azdo.PolicyEvaluation{Type: "Comment requirements", Status: policy.PolicyEvaluationStatusValues.Rejected, Blocking: false})
		snap, _ := e.s.PullRequest(id)
		if *snap.Status != git.PullRequestStatusValues.Completed {
			t.Errorf("auto-complete did not complete the pull request once the build policy approved: %s", *snap.Status)
		}
		if data, _ := e.repo.ReadFile("main", "eng/Version.Details.xml"); string(data) != "policy\n" {
			t.Errorf("main's file = %q", data)
		}
		_, err = e.git.UpdatePullRequest(e.ctx, git.UpdatePullRequestArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: ptr(id),
			GitPullRequestToUpdate: &git.GitPullRequest{AutoCompleteSetBy: identityRef("11111111-2222-3333-4444-555555555555")}})
		wantError(t, err, http.StatusBadRequest, "GitPullRequestNotEditableException")
	})
	t.Run("auto-complete cancelled", func(t *testing.T) {
		// Cancelled with the empty identity, as `az repos pr update
		// --auto-complete false` does: the blocking policy approving
		// afterwards completes nothing.
		e := newEnv(t)
		pr := openPR(t, e, "darc-main-1", "cancelled\n")
		id := *pr.PullRequestId
		e.s.SetPolicyEvaluations(id, azdo.PolicyEvaluation{Type: "Build", Status: policy.PolicyEvaluationStatusValues.Queued, Blocking: true})
		main := e.repo.Head("main")
		got, err := updatePR(e, id, git.GitPullRequest{AutoCompleteSetBy: identityRef(e.s.Requests()[0].Identity.ID.String())})
		if err != nil || got.AutoCompleteSetBy == nil {
			t.Fatalf("set auto-complete: %v, set by %v", err, got)
		}
		got, err = updatePR(e, id, git.GitPullRequest{AutoCompleteSetBy: identityRef("00000000-0000-0000-0000-000000000000")})
		if err != nil {
			t.Fatalf("cancel auto-complete: %v", err)
		}
		if got.AutoCompleteSetBy != nil {
			t.Fatalf("auto-complete still set by %v", *got.AutoCompleteSetBy.Id)
		}
		e.s.SetPolicyEvaluations(id, azdo.PolicyEvaluation{Type: "Build", Status: policy.PolicyEvaluationStatusValues.Approved, Blocking: true})
		snap, _ := e.s.PullRequest(id)
		if *snap.Status != git.PullRequestStatusValues.Active || snap.AutoCompleteSetBy != nil || e.repo.Head("main") != main {
			t.Errorf("after the policy approved: %s, set by %v, main %s (was %s)", *snap.Status, snap.AutoCompleteSetBy, e.repo.Head("main"), main)
		}
	})
	t.Run("auto-complete by someone else", func(t *testing.T) {
		e := newEnv(t)
		pr := openPR(t, e, "darc-main-1", "x\n")
		_, err := e.git.UpdatePullRequest(e.ctx, git.UpdatePullRequestArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: pr.PullRequestId,
			GitPullRequestToUpdate: &git.GitPullRequest{AutoCompleteSetBy: identityRef("11111111-2222-3333-4444-555555555555")}})
		wantError(t, err, http.StatusBadRequest, "InvalidArgumentValueException")
	})
	t.Run("source moved after the merge was read", func(t *testing.T) {
		e := newEnv(t)
		pr := openPR(t, e, "darc-main-1", "x\n")
		old := *pr.LastMergeSourceCommit.CommitId
		e.repo.Commit("darc-main-1", map[string][]byte{"extra.txt": []byte("by someone else")}, "extra commit")
		_, err := updatePR(e, *pr.PullRequestId, git.GitPullRequest{Status: ptr(git.PullRequestStatusValues.Completed), LastMergeSourceCommit: &git.GitCommitRef{CommitId: ptr(old)}})
		wantError(t, err, http.StatusConflict, "GitPullRequestStaleException")
		snap, _ := e.s.PullRequest(*pr.PullRequestId)
		if len(snap.Commits) != 2 {
			t.Errorf("pull request commits = %d, want 2", len(snap.Commits))
		}
	})
}

func TestStatusesAndThreads(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pr := openPR(t, e, "darc-main-1", "x\n")
	id := pr.PullRequestId
	st, err := e.git.CreatePullRequestStatus(e.ctx, git.CreatePullRequestStatusArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id,
		Status: &git.GitPullRequestStatus{
			State:       ptr(git.GitStatusStateValues.Succeeded),
			Description: ptr("Maestro policies passed"),
			Context:     &git.GitStatusContext{Name: ptr("maestro-policies"), Genre: ptr("maestro")},
			TargetUrl:   ptr("https://maestro.example.com/pr/1"),
		}})
	if err != nil {
		t.Fatalf("CreatePullRequestStatus: %v", err)
	}
	if *st.Id != 1 || *st.State != git.GitStatusStateValues.Succeeded || st.CreatedBy == nil || st.CreationDate == nil {
		t.Errorf("status = %+v", st)
	}
	if code := statusOf(e.s, http.MethodPost, "/statuses"); code != http.StatusOK {
		t.Errorf("create status answered %d, want 200", code)
	}
	statuses, err := e.git.GetPullRequestStatuses(e.ctx, git.GetPullRequestStatusesArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id})
	if err != nil {
		t.Fatalf("GetPullRequestStatuses: %v", err)
	}
	if len(*statuses) != 1 || *(*statuses)[0].Context.Name != "maestro-policies" {
		t.Errorf("statuses = %+v", *statuses)
	}
	t.Run("status without context", func(t *testing.T) {
		_, err := e.git.CreatePullRequestStatus(e.ctx, git.CreatePullRequestStatusArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id,
			Status: &git.GitPullRequestStatus{State: ptr(git.GitStatusStateValues.Pending)}})
		wantError(t, err, http.StatusBadRequest, "ArgumentNullException")
	})
	t.Run("status of an unknown iteration", func(t *testing.T) {
		_, err := e.git.CreatePullRequestStatus(e.ctx, git.CreatePullRequestStatusArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id,
			Status: &git.GitPullRequestStatus{State: ptr(git.GitStatusStateValues.Pending), Context: &git.GitStatusContext{Name: ptr("c")}, IterationId: ptr(7)}})
		wantError(t, err, http.StatusNotFound, "GitPullRequestIterationNotFoundException")
	})

	th, err := e.git.CreateThread(e.ctx, git.CreateThreadArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id,
		CommentThread: &git.GitPullRequestCommentThread{
			Comments: &[]git.Comment{{Content: ptr("Skipped the update: the branch has commits by someone else."), CommentType: ptr(git.CommentTypeValues.Text)}},
			Status:   ptr(git.CommentThreadStatusValues.Active),
		}})
	if err != nil {
		t.Fatalf("CreateThread: %v", err)
	}
	if *th.Id != 1 || len(*th.Comments) != 1 || *(*th.Comments)[0].Id != 1 || (*th.Comments)[0].Author == nil {
		t.Errorf("thread = %+v", th)
	}
	threads, err := e.git.GetThreads(e.ctx, git.GetThreadsArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id})
	if err != nil {
		t.Fatalf("GetThreads: %v", err)
	}
	if len(*threads) != 1 || !strings.Contains(*(*(*threads)[0].Comments)[0].Content, "someone else") {
		t.Errorf("threads = %+v", *threads)
	}
	t.Run("thread without comments", func(t *testing.T) {
		_, err := e.git.CreateThread(e.ctx, git.CreateThreadArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id,
			CommentThread: &git.GitPullRequestCommentThread{Status: ptr(git.CommentThreadStatusValues.Active)}})
		wantError(t, err, http.StatusBadRequest, "ArgumentNullException")
	})
	t.Run("thread with an ID", func(t *testing.T) {
		_, err := e.git.CreateThread(e.ctx, git.CreateThreadArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id,
			CommentThread: &git.GitPullRequestCommentThread{Id: ptr(5), Comments: &[]git.Comment{{Content: ptr("x")}}}})
		wantError(t, err, http.StatusBadRequest, "GitPullRequestCommentThreadCreateIdException")
	})

	snap, ok := e.s.PullRequest(*id)
	if !ok || len(snap.Statuses) != 1 || len(snap.Threads) != 1 {
		t.Errorf("snapshot has %d statuses and %d threads", len(snap.Statuses), len(snap.Threads))
	}
}

func TestRetargetPullRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.repo.Commit("release/8.0", map[string][]byte{"release.txt": []byte("8.0")}, "release branch")
	pr := openPR(t, e, "darc-main-1", "retarget\n")
	got, err := updatePR(e, *pr.PullRequestId, git.GitPullRequest{TargetRefName: ptr("refs/heads/release/8.0")})
	if err != nil {
		t.Fatalf("retarget: %v", err)
	}
	if *got.TargetRefName != "refs/heads/release/8.0" || *got.LastMergeTargetCommit.CommitId != e.repo.Head("release/8.0") {
		t.Errorf("after retarget: %s at %s", *got.TargetRefName, *got.LastMergeTargetCommit.CommitId)
	}
	_, err = updatePR(e, *pr.PullRequestId, git.GitPullRequest{TargetRefName: ptr("refs/heads/nope")})
	wantError(t, err, http.StatusBadRequest, "GitPullRequestCannotBeActivated")
	all := e.s.PullRequests()
	if len(all) != 1 || *all[0].TargetRefName != "refs/heads/release/8.0" || len(all[0].Commits) != 1 {
		t.Errorf("PullRequests() = %+v", all)
	}
}

// TestDeleteStatusAndEditComment: a deleted status leaves the list and its
// ID is not given again (answered 204); an edited comment has the new
// content, in place; unknown ones are 404.
func TestDeleteStatusAndEditComment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pr := openPR(t, e, "darc-main-1", "x\n")
	id := pr.PullRequestId
	args := func(name string) git.CreatePullRequestStatusArgs {
		return git.CreatePullRequestStatusArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id,
			Status: &git.GitPullRequestStatus{State: ptr(git.GitStatusStateValues.Pending), Context: &git.GitStatusContext{Name: ptr(name), Genre: ptr("maestro")}}}
	}
	first, err := e.git.CreatePullRequestStatus(e.ctx, args("a"))
	if err != nil {
		t.Fatalf("CreatePullRequestStatus: %v", err)
	}
	if _, err := e.git.CreatePullRequestStatus(e.ctx, args("b")); err != nil {
		t.Fatalf("CreatePullRequestStatus: %v", err)
	}
	del := git.DeletePullRequestStatusArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id, StatusId: first.Id}
	if err := e.git.DeletePullRequestStatus(e.ctx, del); err != nil {
		t.Fatalf("DeletePullRequestStatus: %v", err)
	}
	if code := statusOf(e.s, http.MethodDelete, "/statuses/1"); code != http.StatusNoContent {
		t.Errorf("delete status answered %d, want 204", code)
	}
	wantError(t, e.git.DeletePullRequestStatus(e.ctx, del), http.StatusNotFound, "GitPullRequestStatusNotFoundException")
	_, err = e.git.GetPullRequestStatus(e.ctx, git.GetPullRequestStatusArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id, StatusId: first.Id})
	wantError(t, err, http.StatusNotFound, "GitPullRequestStatusNotFoundException")
	third, err := e.git.CreatePullRequestStatus(e.ctx, args("c"))
	if err != nil {
		t.Fatalf("CreatePullRequestStatus: %v", err)
	}
	if *third.Id != 3 {
		t.Errorf("a status after a delete got ID %d, want 3", *third.Id)
	}
	statuses, err := e.git.GetPullRequestStatuses(e.ctx, git.GetPullRequestStatusesArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id})
	if err != nil {
		t.Fatalf("GetPullRequestStatuses: %v", err)
	}
	if len(*statuses) != 2 || *(*statuses)[0].Context.Name != "b" || *(*statuses)[1].Context.Name != "c" {
		t.Errorf("statuses = %+v", *statuses)
	}

	if _, err := e.git.CreateThread(e.ctx, git.CreateThreadArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id,
		CommentThread: &git.GitPullRequestCommentThread{Comments: &[]git.Comment{{Content: ptr("## Auto-Merge Status\n\npending")}}}}); err != nil {
		t.Fatalf("CreateThread: %v", err)
	}
	upd := git.UpdateCommentArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id, ThreadId: ptr(1), CommentId: ptr(1),
		Comment: &git.Comment{Content: ptr("## Auto-Merge Status\n\nsucceeded")}}
	cm, err := e.git.UpdateComment(e.ctx, upd)
	if err != nil {
		t.Fatalf("UpdateComment: %v", err)
	}
	if *cm.Content != "## Auto-Merge Status\n\nsucceeded" || *cm.Id != 1 {
		t.Errorf("comment = %+v", cm)
	}
	comments, err := e.git.GetComments(e.ctx, git.GetCommentsArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id, ThreadId: ptr(1)})
	if err != nil {
		t.Fatalf("GetComments: %v", err)
	}
	if len(*comments) != 1 || *(*comments)[0].Content != "## Auto-Merge Status\n\nsucceeded" {
		t.Errorf("comments = %+v", *comments)
	}
	upd.CommentId = ptr(2)
	_, err = e.git.UpdateComment(e.ctx, upd)
	wantError(t, err, http.StatusNotFound, "GitPullRequestCommentNotFoundException")
	upd.ThreadId = ptr(9)
	_, err = e.git.UpdateComment(e.ctx, upd)
	wantError(t, err, http.StatusNotFound, "GitPullRequestCommentThreadNotFoundException")
}
