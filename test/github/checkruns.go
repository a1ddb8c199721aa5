package githubdouble

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// Check runs written through the API, as
// https://docs.github.com/rest/checks/runs describes them: only a GitHub
// App may create or update them (a personal access token gets 403 "You must
// authenticate via a GitHub App."), the run belongs to the app of the
// installation token, a conclusion makes the run completed, and a completed
// run needs a conclusion.
const (
	docCreateCheckRun = "checks/runs#create-a-check-run"
	docUpdateCheckRun = "checks/runs#update-a-check-run"
	docGetCheckRun    = "checks/runs#get-a-check-run"

	msgAppsOnly = "You must authenticate via a GitHub App."
)

// appOf returns the GitHub App an installation token's bot acts for, or nil
// for a person's token.
func (s *Server) appOf(u *user) *github.App {
	if !u.Bot {
		return nil
	}
	slug := strings.TrimSuffix(u.Login, "[bot]")
	id := u.id
	for _, a := range s.apps {
		if a.slug == slug {
			id = a.id
		}
	}
	return &github.App{ID: github.Int64(id), Slug: github.String(slug), Name: github.String(slug), NodeID: github.String(nodeID("A", id))}
}

// createCheckRun answers POST /repos/{owner}/{repo}/check-runs.
func createCheckRun(c *call) {
	doc := docURL(docCreateCheckRun)
	app := c.s.appOf(c.user)
	if app == nil {
		writeError(c.w, newAPIError(http.StatusForbidden, msgAppsOnly, doc))
		return
	}
	b, aerr := decodeBody(c.body, doc)
	if aerr != nil {
		writeError(c.w, aerr)
		return
	}
	sha := b.str("head_sha")
	if c.s.git.objectType(c.repo.dir, sha) != "commit" {
		writeError(c.w, unprocessable("No commit found for SHA: "+sha, doc))
		return
	}
	run := github.CheckRun{HeadSHA: github.String(sha), App: app, Status: github.String("queued")}
	if aerr := applyCheckRun(c, &run, b, doc); aerr != nil {
		writeError(c.w, aerr)
		return
	}
	id := c.s.newID()
	r := c.repo
	run.ID = github.Int64(id)
	run.NodeID = github.String(nodeID("CR", id))
	run.URL = github.String(c.s.apiURL("repos", r.owner.Login, r.spec.Name, "check-runs", strconv.FormatInt(id, 10)))
	run.HTMLURL = github.String(c.s.htmlURL(r.owner.Login, r.spec.Name, "runs", strconv.FormatInt(id, 10)))
	run.CheckSuite = c.s.suiteFor(r, app, sha)
	stored := run
	r.checkRuns = append(r.checkRuns, &stored)
	c.s.checkRunEvent(r, &stored, "created", c.user)
	if stored.GetStatus() == "completed" {
		c.s.checkRunEvent(r, &stored, "completed", c.user)
	}
	cp := stored
	writeJSON(c.w, http.StatusCreated, c.s.checkRunObject(&cp))
}

// checkRunFromPath finds the check run of the {check_run_id} path value,
// writing 404 when the repository has none.
func checkRunFromPath(c *call, doc string) *github.CheckRun {
	id, err := strconv.ParseInt(c.r.PathValue("check_run_id"), 10, 64)
	if err == nil {
		for _, run := range c.repo.checkRuns {
			if run.GetID() == id {
				return run
			}
		}
	}
	writeError(c.w, notFound(docURL(doc)))
	return nil
}

// getCheckRun answers GET /repos/{owner}/{repo}/check-runs/{check_run_id}.
func getCheckRun(c *call) {
	run := checkRunFromPath(c, docGetCheckRun)
	if run == nil {
		return
	}
	cp := *run
	writeJSON(c.w, http.StatusOK, c.s.checkRunObject(&cp))
}

// updateCheckRun answers PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}.
func updateCheckRun(c *call) {
	doc := docURL(docUpdateCheckRun)
	if c.s.appOf(c.user) == nil {
		writeError(c.w, newAPIError(http.StatusForbidden, msgAppsOnly, doc))
		return
	}
	stored := checkRunFromPath(c, docUpdateCheckRun)
	if stored == nil {
		return
	}
	b, aerr := decodeBody(c.body, doc)
	if aerr != nil {
		writeError(c.w, aerr)
		return
	}
	run := *stored
	if aerr := applyCheckRun(c, &run, b, doc); aerr != nil {
		writeError(c.w, aerr)
		return
	}
	completes := run.GetStatus() == "completed" && (stored.GetStatus() != "completed" || stored.GetConclusion() != run.GetConclusion())
	*stored = run
	if completes {
		c.s.checkRunEvent(c.repo, stored, "completed", c.user)
	}
	cp := run
	writeJSON(c.w, http.StatusOK, c.s.checkRunObject(&cp))
}

// applyCheckRun applies the properties of a create or update body to run,
// enforcing GitHub's rules: a conclusion (or completed_at) makes the run
// completed, a completed run needs a conclusion, and a run that goes back
// to queued or in_progress loses its conclusion.
func applyCheckRun(c *call, run *github.CheckRun, b body, doc string) *apiError {
	str := func(name string) *string {
		v := b.str(name)
		return &v
	}
	when := func(name string) (*github.Timestamp, *apiError) {
		t, err := time.Parse(time.RFC3339, b.str(name))
		if err != nil {
			return nil, invalidRequest("For 'properties/"+name+"', "+strconv.Quote(b.str(name))+" is not a date-time.", doc)
		}
		return ts(t.UTC()), nil
	}
	if b.has("name") {
		if strings.TrimSpace(b.str("name")) == "" {
			return validationFailed(doc, fieldError{Resource: "CheckRun", Field: "name", Code: "missing_field"})
		}
		run.Name = str("name")
	}
	for _, name := range []string{"details_url", "external_id"} {
		if b.has(name) {
			v := str(name)
			if name == "details_url" {
				run.DetailsURL = v
			} else {
				run.ExternalID = v
			}
		}
	}
	if b.has("output") {
		out, aerr := decodeBody(b["output"], doc)
		if aerr != nil {
			return aerr
		}
		run.Output = &github.CheckRunOutput{Title: github.String(out.str("title")), Summary: github.String(out.str("summary"))}
		if out.has("text") {
			run.Output.Text = github.String(out.str("text"))
		}
		var annotations []json.RawMessage
		_ = json.Unmarshal(out["annotations"], &annotations)
		run.Output.AnnotationsCount = github.Int(len(annotations))
	}
	status := run.GetStatus()
	if b.has("status") {
		status = b.str("status")
	}
	conclusion := run.GetConclusion()
	if b.has("conclusion") {
		conclusion, status = b.str("conclusion"), "completed"
	}
	if b.has("completed_at") && !b.has("conclusion") && conclusion == "" {
		return invalidRequest(`"conclusion" wasn't supplied.`, doc)
	}
	if status == "completed" && conclusion == "" {
		return invalidRequest(`"conclusion" wasn't supplied.`, doc)
	}
	if b.has("started_at") {
		t, aerr := when("started_at")
		if aerr != nil {
			return aerr
		}
		run.StartedAt = t
	}
	var completedAt *github.Timestamp
	if b.has("completed_at") {
		t, aerr := when("completed_at")
		if aerr != nil {
			return aerr
		}
		completedAt = t
	}
	now := c.s.now()
	if run.StartedAt == nil {
		run.StartedAt = ts(now)
	}
	run.Status = github.String(status)
	if status == "completed" {
		run.Conclusion = github.String(conclusion)
		switch {
		case completedAt != nil:
			run.CompletedAt = completedAt
		case run.CompletedAt == nil || b.has("conclusion"):
			run.CompletedAt = ts(now)
		}
	} else {
		run.Conclusion, run.CompletedAt = nil, nil
	}
	return nil
}
