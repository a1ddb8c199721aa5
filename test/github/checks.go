package githubdouble

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
)

const (
	docCheckRuns      = "checks/runs#list-check-runs-for-a-git-reference"
	docCombinedStatus = "commits/statuses#get-the-combined-status-for-a-specific-reference"
	docListStatuses   = "commits/statuses#list-commit-statuses-for-a-reference"
	docCreateStatus   = "commits/statuses#create-a-commit-status"
)

// The GitHub App check runs come from when a test does not say.
var defaultApp = &github.App{
	ID:   github.Int64(15368),
	Slug: github.String("github-actions"),
	Name: github.String("GitHub Actions"),
}

var (
	checkStatuses    = []string{"queued", "in_progress", "completed", "waiting", "requested", "pending"}
	checkConclusions = []string{"action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"}
	statusStates     = []string{"error", "failure", "pending", "success"}
)

// AddCheckRun records a check run on a commit, as a CI app would create it,
// and returns it as the API shows it. HeadSHA and Name are required; Status
// defaults to "completed" when Conclusion is set, else "queued"; App defaults
// to GitHub Actions. A later run with the same name and app supersedes an
// earlier one in the default (filter=latest) listing.
func (h *Repo) AddCheckRun(run github.CheckRun) *github.CheckRun {
	h.s.tb.Helper()
	var out *github.CheckRun
	h.locked(func(r *repo) {
		if run.GetName() == "" || h.s.git.objectType(r.dir, run.GetHeadSHA()) != "commit" {
			h.s.tb.Fatalf("github double: check run needs a name and the full SHA of a commit in %s, got %q on %q", r.fullName(), run.GetName(), run.GetHeadSHA())
		}
		if run.Status == nil {
			run.Status = github.String("queued")
			if run.Conclusion != nil {
				run.Status = github.String("completed")
			}
		}
		if !contains(checkStatuses, run.GetStatus()) || run.Conclusion != nil && !contains(checkConclusions, run.GetConclusion()) ||
			(run.GetStatus() == "completed") != (run.Conclusion != nil) {
			h.s.tb.Fatalf("github double: check run %q: invalid status %q with conclusion %q", run.GetName(), run.GetStatus(), run.GetConclusion())
		}
		id := h.s.newID()
		now := h.s.now()
		run.ID = github.Int64(id)
		run.NodeID = github.String(nodeID("CR", id))
		run.URL = github.String(h.s.apiURL("repos", r.owner.Login, r.spec.Name, "check-runs", strconv.FormatInt(id, 10)))
		run.HTMLURL = github.String(h.s.htmlURL(r.owner.Login, r.spec.Name, "runs", strconv.FormatInt(id, 10)))
		if run.App == nil {
			run.App = defaultApp
		}
		if run.StartedAt == nil {
			run.StartedAt = ts(now)
		}
		if run.GetStatus() == "completed" && run.CompletedAt == nil {
			run.CompletedAt = ts(now)
		}
		if run.CheckSuite == nil {
			run.CheckSuite = h.s.suiteFor(r, run.App, run.GetHeadSHA())
		}
		run.PullRequests = nil
		stored := run
		r.checkRuns = append(r.checkRuns, &stored)
		// As a GitHub App creating a run: created, and completed (with the
		// suite's check_suite.completed) when it is created completed.
		bot := appBot(stored.App)
		h.s.checkRunEvent(r, &stored, "created", bot)
		if stored.GetStatus() == "completed" {
			h.s.checkRunEvent(r, &stored, "completed", bot)
		}
		cp := stored
		out = &cp
	})
	return out
}

// AddStatus records a commit status on sha, as if a CI system had posted it
// with the default token's user, and returns it as the API shows it. State
// is required; Context defaults to "default".
func (h *Repo) AddStatus(sha string, st github.RepoStatus) *github.RepoStatus {
	h.s.tb.Helper()
	var out *github.RepoStatus
	h.locked(func(r *repo) {
		if h.s.git.objectType(r.dir, sha) != "commit" || !contains(statusStates, st.GetState()) {
			h.s.tb.Fatalf("github double: status needs a commit SHA of %s and a state in %v, got %q on %q", r.fullName(), statusStates, st.GetState(), sha)
		}
		out = h.s.addStatus(r, sha, st, h.s.users[strings.ToLower(DefaultLogin)])
	})
	return out
}

func (s *Server) addStatus(r *repo, sha string, st github.RepoStatus, creator *user) *github.RepoStatus {
	id := s.newID()
	now := s.now()
	st.ID = github.Int64(id)
	st.NodeID = github.String(nodeID("SC", id))
	st.URL = github.String(s.apiURL("repos", r.owner.Login, r.spec.Name, "statuses", sha))
	if st.Context == nil {
		st.Context = github.String("default")
	}
	st.AvatarURL = github.String(s.htmlURL("avatars", creator.Login))
	st.Creator = s.userJSON(creator)
	st.CreatedAt, st.UpdatedAt = ts(now), ts(now)
	stored := st
	r.statuses[sha] = append(r.statuses[sha], &stored)
	s.statusEvent(r, sha, &stored, creator)
	cp := stored
	return &cp
}

// resolveFromPath resolves the {ref} of a commits route to a commit,
// writing 422 "No commit found for SHA: ref" when there is none.
func resolveFromPath(c *call, ref, doc string) string {
	sha, err := c.s.resolveCommit(c.repo, ref)
	if err != nil {
		c.fail(err)
		return ""
	}
	if sha == "" {
		writeError(c.w, unprocessable("No commit found for SHA: "+ref, docURL(doc)))
	}
	return sha
}

// commitsRoute answers GET /repos/{owner}/{repo}/commits/{ref}/{check-runs,
// status,statuses}; the ref may contain slashes, so the route takes the rest
// of the path and splits off the last segment.
func commitsRoute(c *call) {
	rest := c.r.PathValue("rest")
	i := strings.LastIndex(rest, "/")
	if i <= 0 {
		writeError(c.w, notFound(docsBase))
		return
	}
	ref, what := rest[:i], rest[i+1:]
	switch what {
	case "check-runs":
		listCheckRuns(c, ref)
	case "status":
		combinedStatus(c, ref)
	case "statuses":
		listStatuses(c, ref)
	default:
		writeError(c.w, notFound(docsBase))
	}
}

// latestRuns keeps the newest run of each name and app, newest first.
func latestRuns(runs []*github.CheckRun) []*github.CheckRun {
	seen := map[string]bool{}
	var out []*github.CheckRun
	for i := len(runs) - 1; i >= 0; i-- {
		key := fmt.Sprintf("%d/%s", runs[i].GetApp().GetID(), runs[i].GetName())
		if !seen[key] {
			seen[key] = true
			out = append(out, runs[i])
		}
	}
	return out
}

func (r *repo) runsFor(sha string) []*github.CheckRun {
	var runs []*github.CheckRun
	for _, run := range r.checkRuns {
		if run.GetHeadSHA() == sha {
			runs = append(runs, run)
		}
	}
	return runs
}

// listCheckRuns answers GET .../commits/{ref}/check-runs with the filters
// check_name, status, filter (latest, all) and app_id.
func listCheckRuns(c *call, ref string) {
	doc := docURL(docCheckRuns)
	sha := resolveFromPath(c, ref, docCheckRuns)
	if sha == "" {
		return
	}
	q := c.r.URL.Query()
	filter := cmp.Or(q.Get("filter"), "latest")
	if !contains([]string{"latest", "all"}, filter) {
		writeError(c.w, validationFailed(doc, fieldError{Resource: "CheckRun", Field: "filter", Code: "invalid", Value: filter}))
		return
	}
	if st := q.Get("status"); st != "" && !contains([]string{"queued", "in_progress", "completed"}, st) {
		writeError(c.w, validationFailed(doc, fieldError{Resource: "CheckRun", Field: "status", Code: "invalid", Value: st}))
		return
	}
	runs := c.repo.runsFor(sha)
	if filter == "latest" {
		runs = latestRuns(runs)
	} else {
		runs = slices.Clone(runs)
		slices.Reverse(runs)
	}
	var matched []*github.CheckRun
	for _, run := range runs {
		switch {
		case q.Has("check_name") && run.GetName() != q.Get("check_name"):
		case q.Has("status") && run.GetStatus() != q.Get("status"):
		case q.Has("app_id") && strconv.FormatInt(run.GetApp().GetID(), 10) != q.Get("app_id"):
		default:
			cp := *run
			matched = append(matched, &cp)
		}
	}
	writeJSON(c.w, http.StatusOK, object{
		"total_count": len(matched),
		"check_runs":  objects(paginate(c, matched), c.s.checkRunObject),
	})
}

// latestStatuses keeps the newest status of each context, newest first.
func latestStatuses(all []*github.RepoStatus) []*github.RepoStatus {
	seen := map[string]bool{}
	var out []*github.RepoStatus
	for i := len(all) - 1; i >= 0; i-- {
		if !seen[all[i].GetContext()] {
			seen[all[i].GetContext()] = true
			cp := *all[i]
			out = append(out, &cp)
		}
	}
	return out
}

// combinedState is GitHub's rule: failure if any context errored or failed,
// pending if there is none or any is pending, success otherwise.
func combinedState(latest []*github.RepoStatus) string {
	if len(latest) == 0 {
		return "pending"
	}
	state := "success"
	for _, st := range latest {
		switch st.GetState() {
		case "error", "failure":
			return "failure"
		case "pending":
			state = "pending"
		}
	}
	return state
}

// combinedStatus answers GET .../commits/{ref}/status; an unknown ref
// answers 404, the status GitHub's description lists for it (where the
// other commit routes answer 422).
func combinedStatus(c *call, ref string) {
	sha, err := c.s.resolveCommit(c.repo, ref)
	if err != nil {
		c.fail(err)
		return
	}
	if sha == "" {
		writeError(c.w, notFound(docURL(docCombinedStatus)))
		return
	}
	latest := latestStatuses(c.repo.statuses[sha])
	statuses := objects(paginate(c, latest), c.s.statusObject)
	for _, st := range statuses {
		delete(st, "creator") // simple-commit-status: GitHub leaves the creator out here
	}
	writeJSON(c.w, http.StatusOK, object{
		"state":       combinedState(latest),
		"sha":         sha,
		"total_count": len(latest),
		"statuses":    statuses,
		"repository":  c.s.repoObject(c.repo),
		"commit_url":  c.s.apiURL("repos", c.repo.owner.Login, c.repo.spec.Name, "commits", sha),
		"url":         c.s.apiURL("repos", c.repo.owner.Login, c.repo.spec.Name, "commits", sha, "status"),
	})
}

// listStatuses answers GET .../commits/{ref}/statuses: every status, newest
// first. A ref that names no commit has none: 200 with an empty list, as
// the description lists only 200 (and 301 for a moved repository) and
// GitHub documents no error for it.
func listStatuses(c *call, ref string) {
	sha, err := c.s.resolveCommit(c.repo, ref)
	if err != nil {
		c.fail(err)
		return
	}
	var all []*github.RepoStatus
	list := c.repo.statuses[sha]
	for i := len(list) - 1; i >= 0; i-- {
		cp := *list[i]
		all = append(all, &cp)
	}
	if all == nil {
		all = []*github.RepoStatus{}
	}
	writeJSON(c.w, http.StatusOK, objects(paginate(c, all), c.s.statusObject))
}

// maxStatusDescription is the longest commit status description GitHub
// takes, in characters: a longer one gets 422 with the field error
// {"resource": "Status", "code": "custom", "field": "description",
// "message": "description is too long (maximum is 140 characters)"}, as
// clients report it (sclorg/testing-farm-as-github-action#187,
// vince-riv/argo-diff#49); the REST description states no maxLength.
const maxStatusDescription = 140

// statusDescriptionTooLong is GitHub's 422 for a status description over
// maxStatusDescription.
func statusDescriptionTooLong(doc string) *apiError {
	return validationFailed(doc, fieldError{Resource: "Status", Field: "description", Code: "custom",
		Message: "description is too long (maximum is 140 characters)"})
}

// createStatus answers POST /repos/{owner}/{repo}/statuses/{sha}; a
// description over maxStatusDescription characters is refused.
func createStatus(c *call) {
	doc := docURL(docCreateStatus)
	b, aerr := decodeBody(c.body, doc)
	if aerr != nil {
		writeError(c.w, aerr)
		return
	}
	ref := c.r.PathValue("sha")
	sha := resolveFromPath(c, ref, docCreateStatus)
	if sha == "" {
		return
	}
	st := github.RepoStatus{State: github.String(b.str("state"))}
	if b.has("target_url") && !b.isNull("target_url") {
		st.TargetURL = github.String(b.str("target_url"))
	}
	if b.has("description") && !b.isNull("description") {
		st.Description = github.String(b.str("description"))
		if utf8.RuneCountInString(st.GetDescription()) > maxStatusDescription {
			writeError(c.w, statusDescriptionTooLong(doc))
			return
		}
	}
	if b.has("context") {
		st.Context = github.String(b.str("context"))
	}
	writeJSON(c.w, http.StatusCreated, c.s.statusObject(c.s.addStatus(c.repo, sha, st, c.user)))
}

// checksGreen reports whether a commit's statuses and check runs would let
// GitHub call a pull request "clean": no failing or pending status, and
// every latest check run completed with success, neutral or skipped.
func (s *Server) checksGreen(r *repo, sha string) bool {
	if latest := latestStatuses(r.statuses[sha]); len(latest) > 0 && combinedState(latest) != "success" {
		return false
	}
	for _, run := range latestRuns(r.runsFor(sha)) {
		if run.GetStatus() != "completed" || !contains([]string{"success", "neutral", "skipped"}, run.GetConclusion()) {
			return false
		}
	}
	return true
}
