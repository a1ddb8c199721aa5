package githubdouble_test

import (
	"testing"

	"github.com/google/go-github/v60/github"
)

func TestCheckRunsThroughTheAPI(t *testing.T) {
	f := newFixture(t)
	sha := f.branch(t, "darc", "a.txt", "a\n")
	f.srv.AddInstallationToken("maestro-app", "ghs_app")
	app := f.srv.Client("ghs_app")
	ctx := t.Context()

	_, _, err := f.client.Checks.CreateCheckRun(ctx, "dotnet", "runtime", github.CreateCheckRunOptions{Name: "x", HeadSHA: sha})
	wantAPIError(t, err, 403, "You must authenticate via a GitHub App.")

	run, resp, err := app.Checks.CreateCheckRun(ctx, "dotnet", "runtime", github.CreateCheckRunOptions{
		Name: "Maestro auto-merge - Standard", HeadSHA: sha, ExternalID: github.String("policy:Standard"),
		Status: github.String("in_progress"),
		Output: &github.CheckRunOutput{Title: github.String("Pending"), Summary: github.String("waiting for checks")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 || run.GetStatus() != "in_progress" || run.Conclusion != nil || run.CompletedAt != nil ||
		run.GetExternalID() != "policy:Standard" || run.GetApp().GetSlug() != "maestro-app" || run.GetHeadSHA() != sha ||
		run.GetOutput().GetSummary() != "waiting for checks" || run.StartedAt == nil {
		t.Fatalf("created run %s", github.Stringify(run))
	}
	done, _, err := app.Checks.UpdateCheckRun(ctx, "dotnet", "runtime", run.GetID(), github.UpdateCheckRunOptions{
		Name: "Maestro auto-merge - Standard", Conclusion: github.String("failure"),
		Output: &github.CheckRunOutput{Title: github.String("Failed"), Summary: github.String("build failed")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if done.GetID() != run.GetID() || done.GetStatus() != "completed" || done.GetConclusion() != "failure" || done.CompletedAt == nil ||
		done.GetExternalID() != "policy:Standard" || done.GetOutput().GetTitle() != "Failed" {
		t.Fatalf("updated run %s", github.Stringify(done))
	}
	got, _, err := f.client.Checks.GetCheckRun(ctx, "dotnet", "runtime", run.GetID())
	if err != nil || got.GetConclusion() != "failure" {
		t.Fatalf("get run: %v %s", err, github.Stringify(got))
	}
	list, _, err := f.client.Checks.ListCheckRunsForRef(ctx, "dotnet", "runtime", sha, nil)
	if err != nil || list.GetTotal() != 1 || list.CheckRuns[0].GetID() != run.GetID() {
		t.Fatalf("list: %v %s", err, github.Stringify(list))
	}
	// Back to in_progress: the conclusion goes.
	again, _, err := app.Checks.UpdateCheckRun(ctx, "dotnet", "runtime", run.GetID(), github.UpdateCheckRunOptions{
		Name: "Maestro auto-merge - Standard", Status: github.String("in_progress")})
	if err != nil || again.GetStatus() != "in_progress" || again.Conclusion != nil || again.CompletedAt != nil {
		t.Fatalf("re-queued run: %v %s", err, github.Stringify(again))
	}
	skipped, _, err := app.Checks.CreateCheckRun(ctx, "dotnet", "runtime", github.CreateCheckRunOptions{
		Name: "Maestro auto-merge - NoExtraCommits", HeadSHA: sha, Conclusion: github.String("skipped")})
	if err != nil || skipped.GetStatus() != "completed" || skipped.CompletedAt == nil {
		t.Fatalf("run created with a conclusion: %v %s", err, github.Stringify(skipped))
	}

	for _, tc := range []struct {
		name    string
		method  string
		path    string
		body    map[string]any
		status  int
		message string
	}{
		{"completed without conclusion", "POST", "check-runs", map[string]any{"name": "x", "head_sha": sha, "status": "completed"},
			422, "Invalid request.\n\n\"conclusion\" wasn't supplied."},
		{"completed_at without conclusion", "POST", "check-runs", map[string]any{"name": "x", "head_sha": sha, "completed_at": "2024-05-01T12:00:00Z"},
			422, "Invalid request.\n\n\"conclusion\" wasn't supplied."},
		{"update to completed without conclusion", "PATCH", "check-runs/" + jsonNumber(run.GetID()), map[string]any{"status": "completed"},
			422, "Invalid request.\n\n\"conclusion\" wasn't supplied."},
		{"unknown conclusion", "POST", "check-runs", map[string]any{"name": "x", "head_sha": sha, "conclusion": "green"},
			422, "Invalid request.\n\nFor 'properties/conclusion', \"green\" is not one of [\"action_required\", \"cancelled\", \"failure\", \"neutral\", \"success\", \"skipped\", \"stale\", \"timed_out\"]."},
		{"missing head_sha", "POST", "check-runs", map[string]any{"name": "x"}, 422, "Invalid request.\n\n\"head_sha\" wasn't supplied."},
		{"unknown commit", "POST", "check-runs", map[string]any{"name": "x", "head_sha": "0123456789012345678901234567890123456789"},
			422, "No commit found for SHA: 0123456789012345678901234567890123456789"},
		{"output without summary", "POST", "check-runs", map[string]any{"name": "x", "head_sha": sha, "output": map[string]any{"title": "t"}},
			422, "Invalid request.\n\n\"summary\" wasn't supplied."},
		{"bad started_at", "POST", "check-runs", map[string]any{"name": "x", "head_sha": sha, "started_at": "yesterday"},
			422, "Invalid request.\n\nFor 'properties/started_at', \"yesterday\" is not a date-time."},
		{"unknown run", "PATCH", "check-runs/1", map[string]any{"status": "queued"}, 404, "Not Found"},
		{"get unknown run", "GET", "check-runs/1", nil, 404, "Not Found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rawAs(t, f.srv, "ghs_app", tc.method, "repos/dotnet/runtime/"+tc.path, tc.body)
			if r.status != tc.status || r.body["message"] != tc.message {
				t.Fatalf("got %d %q, want %d %q", r.status, r.body["message"], tc.status, tc.message)
			}
		})
	}
	// The refused update left the run as it was.
	if got, _, _ := f.client.Checks.GetCheckRun(ctx, "dotnet", "runtime", run.GetID()); got.GetStatus() != "in_progress" {
		t.Fatalf("run after refused updates: %s", github.Stringify(got))
	}
}
