package githubdouble_test

import (
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

func labelNames(labels []*github.Label) string {
	var names []string
	for _, l := range labels {
		names = append(names, l.GetName())
	}
	return strings.Join(names, ",")
}

func TestLabels(t *testing.T) {
	f := newFixture(t)
	f.openPR(t, "darc-main-1")
	ctx := t.Context()
	created, resp, err := f.client.Issues.CreateLabel(ctx, "dotnet", "runtime", &github.Label{
		Name: github.String("area-infrastructure"), Color: github.String("0E8A16"), Description: github.String("Infra")})
	if err != nil || resp.StatusCode != 201 || created.GetColor() != "0e8a16" || created.GetDescription() != "Infra" || created.GetDefault() {
		t.Fatalf("create label: %v %s", err, github.Stringify(created))
	}
	// Adding creates the labels the repository lacks; names match case-insensitively.
	got, _, err := f.client.Issues.AddLabelsToIssue(ctx, "dotnet", "runtime", 1, []string{"Area-Infrastructure", "auto-merge"})
	if err != nil || labelNames(got) != "area-infrastructure,auto-merge" {
		t.Fatalf("add: %v %s", err, labelNames(got))
	}
	all, _, err := f.client.Issues.ListLabels(ctx, "dotnet", "runtime", nil)
	if err != nil || labelNames(all) != "area-infrastructure,auto-merge" || all[1].GetColor() != "ededed" {
		t.Fatalf("repository labels: %v %s", err, github.Stringify(all))
	}
	// Adding again does not duplicate; the pull request shows its labels.
	if got, _, err = f.client.Issues.AddLabelsToIssue(ctx, "dotnet", "runtime", 1, []string{"auto-merge"}); err != nil || len(got) != 2 {
		t.Fatalf("add again: %v %s", err, labelNames(got))
	}
	if pr := f.repo.PullRequest(1); labelNames(pr.Labels) != "area-infrastructure,auto-merge" {
		t.Fatalf("pull request labels %s", labelNames(pr.Labels))
	}
	if _, err := f.client.Issues.RemoveLabelForIssue(ctx, "dotnet", "runtime", 1, "auto-merge"); err != nil {
		t.Fatal(err)
	}
	if got, _, err = f.client.Issues.ListLabelsByIssue(ctx, "dotnet", "runtime", 1, nil); err != nil || labelNames(got) != "area-infrastructure" {
		t.Fatalf("after remove: %v %s", err, labelNames(got))
	}
	_, err = f.client.Issues.RemoveLabelForIssue(ctx, "dotnet", "runtime", 1, "auto-merge")
	wantAPIError(t, err, 404, "Label does not exist")
	if got, _, err = f.client.Issues.ReplaceLabelsForIssue(ctx, "dotnet", "runtime", 1, []string{"x/y"}); err != nil || labelNames(got) != "x/y" {
		t.Fatalf("replace: %v %s", err, labelNames(got))
	}
	if _, err := f.client.Issues.RemoveLabelForIssue(ctx, "dotnet", "runtime", 1, "x/y"); err != nil {
		t.Fatalf("remove a label with a slash: %v", err)
	}
	if _, err := f.client.Issues.RemoveLabelsForIssue(ctx, "dotnet", "runtime", 1); err != nil {
		t.Fatal(err)
	}
	// The object form of the body, and GitHub's refusals.
	if r := raw(t, f.srv, "POST", "repos/dotnet/runtime/issues/1/labels", map[string]any{"labels": []any{map[string]any{"name": "bug"}}}); r.status != 200 {
		t.Fatalf("object form: %d %v", r.status, r.body)
	}
	_, _, err = f.client.Issues.CreateLabel(ctx, "dotnet", "runtime", &github.Label{Name: github.String("BUG")})
	wantFieldError(t, err, github.Error{Resource: "Label", Field: "name", Code: "already_exists"})
	_, _, err = f.client.Issues.CreateLabel(ctx, "dotnet", "runtime", &github.Label{Name: github.String("c"), Color: github.String("red")})
	wantFieldError(t, err, github.Error{Resource: "Label", Field: "color", Code: "invalid"})
	_, _, err = f.client.Issues.AddLabelsToIssue(ctx, "dotnet", "runtime", 1, []string{" "})
	wantFieldError(t, err, github.Error{Resource: "Label", Field: "name", Code: "missing_field"})
	_, _, err = f.client.Issues.AddLabelsToIssue(ctx, "dotnet", "runtime", 7, []string{"a"})
	wantAPIError(t, err, 404, "Not Found")
}
