package azdo_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/core"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
)

// TestPullRequestLabels: a label is created once per project (names compare
// case-insensitively) and assigned once; the list of pull requests shows
// it, one pull request's GET does not; a label not assigned is 404 to GET
// and DELETE; names the service refuses are 400; labels of a pull request
// that does not exist are 404.
func TestPullRequestLabels(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pr := openPR(t, e, "darc-main-1", "x\n")
	id := pr.PullRequestId
	create := func(name *string) (*core.WebApiTagDefinition, error) {
		return e.git.CreatePullRequestLabel(e.ctx, git.CreatePullRequestLabelArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id,
			Label: &core.WebApiCreateTagRequestData{Name: name}})
	}
	labels := func() []core.WebApiTagDefinition {
		t.Helper()
		got, err := e.git.GetPullRequestLabels(e.ctx, git.GetPullRequestLabelsArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id})
		if err != nil {
			t.Fatalf("GetPullRequestLabels: %v", err)
		}
		return *got
	}
	first, err := create(ptr("speculative"))
	if err != nil {
		t.Fatalf("CreatePullRequestLabel: %v", err)
	}
	if deref(first.Name) != "speculative" || first.Id == nil || !deref(first.Active) || !strings.Contains(deref(first.Url), first.Id.String()) {
		t.Errorf("created label = %+v", first)
	}
	again, err := create(ptr("Speculative"))
	if err != nil {
		t.Fatalf("CreatePullRequestLabel again: %v", err)
	}
	if *again.Id != *first.Id || deref(again.Name) != "speculative" {
		t.Errorf("the same tag, in another case, gave %+v, want the tag %v", again, *first.Id)
	}
	if got := labels(); len(got) != 1 || *got[0].Id != *first.Id {
		t.Errorf("labels = %+v, want the one label", got)
	}
	one, err := e.git.GetPullRequestLabel(e.ctx, git.GetPullRequestLabelArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id, LabelIdOrName: ptr(first.Id.String())})
	if err != nil || deref(one.Name) != "speculative" {
		t.Errorf("GetPullRequestLabel by id = %+v, %v", one, err)
	}
	list, err := e.git.GetPullRequests(e.ctx, git.GetPullRequestsArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), SearchCriteria: &git.GitPullRequestSearchCriteria{}})
	if err != nil || len(*list) != 1 || (*list)[0].Labels == nil || len(*(*list)[0].Labels) != 1 {
		t.Errorf("the list of pull requests shows no label: %+v, %v", list, err)
	}
	got, err := e.git.GetPullRequest(e.ctx, git.GetPullRequestArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id})
	if err != nil || got.Labels != nil {
		t.Errorf("GET of one pull request shows labels %v (%v)", got.Labels, err)
	}
	if snap, _ := e.s.PullRequest(*id); len(snap.Labels) != 1 || snap.Labels[0] != "speculative" {
		t.Errorf("snapshot labels = %v", snap.Labels)
	}

	del := git.DeletePullRequestLabelsArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id, LabelIdOrName: ptr("SPECULATIVE")}
	if err := e.git.DeletePullRequestLabels(e.ctx, del); err != nil {
		t.Fatalf("DeletePullRequestLabels: %v", err)
	}
	if code := statusOf(e.s, http.MethodDelete, "/labels/SPECULATIVE"); code != http.StatusOK {
		t.Errorf("delete answered %d, want 200", code)
	}
	if got := labels(); len(got) != 0 {
		t.Errorf("labels after the delete = %+v", got)
	}
	wrappedError(t, e.git.DeletePullRequestLabels(e.ctx, del))
	if code := statusOf(e.s, http.MethodDelete, "/labels/SPECULATIVE"); code != http.StatusNotFound {
		t.Errorf("deleting a label not assigned answered %d, want 404", code)
	}
	_, err = e.git.GetPullRequestLabel(e.ctx, git.GetPullRequestLabelArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id, LabelIdOrName: ptr("speculative")})
	if w := wrappedError(t, err); deref(w.StatusCode) != http.StatusNotFound {
		t.Errorf("GET of a label not assigned = %v, want 404", w.Error())
	}
	readded, err := create(ptr("speculative"))
	if err != nil || *readded.Id != *first.Id {
		t.Errorf("the tag stays after the delete: got %+v, %v", readded, err)
	}

	for _, bad := range []*string{nil, ptr(""), ptr("  "), ptr("a,b"), ptr("a;b"), ptr("a\nb"), ptr(strings.Repeat("x", 401))} {
		_, err := create(bad)
		w := wrappedError(t, err)
		if deref(w.StatusCode) != http.StatusBadRequest {
			t.Errorf("label %v: status %v, want 400", bad, deref(w.StatusCode))
		}
	}
	if _, err := create(ptr(strings.Repeat("x", 400))); err != nil {
		t.Errorf("a 400-character name: %v", err)
	}
	_, err = e.git.CreatePullRequestLabel(e.ctx, git.CreatePullRequestLabelArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: ptr(999),
		Label: &core.WebApiCreateTagRequestData{Name: ptr("speculative")}})
	wantError(t, err, http.StatusNotFound, "GitPullRequestNotFoundException")
}
