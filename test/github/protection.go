package githubdouble

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Branch protection, as https://docs.github.com/rest/branches/branch-protection
// manages it and https://docs.github.com/repositories/configuring-branches-and-merges-in-your-repository/managing-protected-branches/about-protected-branches
// enforces it on merges: required status checks (statuses and check runs by
// name, optionally from one app, and "strict": the head must contain the
// base) and required approving reviews.
const (
	docGetProtection    = "branches/branch-protection#get-branch-protection"
	docUpdateProtection = "branches/branch-protection#update-branch-protection"
	docDeleteProtection = "branches/branch-protection#delete-branch-protection"

	// docProtectedBranches is where GitHub's merge refusals point.
	docProtectedBranches = "https://docs.github.com/articles/about-protected-branches"

	msgBranchNotProtected = "Branch not protected"
	msgBranchNotFound     = "Branch not found"
	msgHeadBehind         = "Head branch is not up to date with the base branch"
	msgOrgRestrictions    = "Only organization repositories can have users and team restrictions"
	// msgChangesRequested is the double's wording: GitHub blocks the merge
	// but its API message for this case is undocumented.
	msgChangesRequested = "Changes were requested by reviewers with write access."
)

// protection is the protection of one branch.
type protection struct {
	checks  *requiredChecks  // nil when status checks are not required
	reviews *requiredReviews // nil when reviews are not required
	flags   map[string]bool  // enforce_admins, required_linear_history, allow_force_pushes, ...
}

// requiredCheck is a status or check run that must succeed; appID nil
// (or -1) accepts it from any source.
type requiredCheck struct {
	Context string `json:"context"`
	AppID   *int64 `json:"app_id"`
}

type requiredChecks struct {
	strict bool
	checks []requiredCheck
}

type requiredReviews struct {
	count                              int
	dismissStale, codeOwners, lastPush bool
}

// protectionFlags are the boolean settings of a protection, rendered as
// {"enabled": bool}.
var protectionFlags = []string{
	"enforce_admins", "required_linear_history", "allow_force_pushes", "allow_deletions",
	"block_creations", "required_conversation_resolution", "lock_branch", "allow_fork_syncing",
}

// branchesRoute answers {GET,PUT,DELETE} /repos/{owner}/{repo}/branches/{branch}/protection.
// The branch may contain slashes, escaped or not, so the route takes the
// rest of the path.
func branchesRoute(c *call) {
	branch, ok := strings.CutSuffix(c.r.PathValue("rest"), "/protection")
	if !ok || branch == "" {
		writeError(c.w, notFound(docsBase))
		return
	}
	doc := map[string]string{http.MethodGet: docGetProtection, http.MethodPut: docUpdateProtection, http.MethodDelete: docDeleteProtection}[c.r.Method]
	sha, err := branchIfValid(c, branch)
	if err != nil {
		c.fail(err)
		return
	}
	if sha == "" {
		writeError(c.w, newAPIError(http.StatusNotFound, msgBranchNotFound, docURL(doc)))
		return
	}
	switch c.r.Method {
	case http.MethodGet:
		p := c.repo.protected[branch]
		if p == nil {
			writeError(c.w, newAPIError(http.StatusNotFound, msgBranchNotProtected, docURL(doc)))
			return
		}
		writeJSON(c.w, http.StatusOK, c.s.protectionJSON(c.repo, branch, p))
	case http.MethodPut:
		updateProtection(c, branch, docURL(doc))
	case http.MethodDelete:
		if c.repo.protected[branch] == nil {
			writeError(c.w, newAPIError(http.StatusNotFound, msgBranchNotProtected, docURL(doc)))
			return
		}
		delete(c.repo.protected, branch)
		writeNoContent(c.w)
	}
}

// updateProtection answers PUT .../branches/{branch}/protection: it
// replaces the branch's protection with the body's.
func updateProtection(c *call, branch, doc string) {
	b, aerr := decodeBody(c.body, doc)
	if aerr != nil {
		writeError(c.w, aerr)
		return
	}
	p := &protection{flags: map[string]bool{}}
	for _, f := range protectionFlags {
		p.flags[f] = b.boolean(f)
	}
	if !b.isNull("restrictions") {
		// The double has no teams and does not restrict pushes; GitHub
		// refuses restrictions on repositories that users own.
		writeJSON(c.w, http.StatusUnprocessableEntity, validationFailedSimple(msgOrgRestrictions, doc))
		return
	}
	if !b.isNull("required_status_checks") {
		sc, aerr := decodeBody(b["required_status_checks"], doc)
		if aerr != nil {
			writeError(c.w, aerr)
			return
		}
		rc := &requiredChecks{strict: sc.boolean("strict"), checks: []requiredCheck{}}
		switch {
		case sc.has("checks"):
			if err := json.Unmarshal(sc["checks"], &rc.checks); err != nil || !validChecks(rc.checks) {
				writeError(c.w, invalidRequest("For 'properties/checks', "+string(sc["checks"])+" is not an array of {context, app_id}.", doc))
				return
			}
		case sc.has("contexts"):
			var contexts []string
			if err := json.Unmarshal(sc["contexts"], &contexts); err != nil {
				writeError(c.w, invalidRequest("For 'items', "+string(sc["contexts"])+" is not an array of strings.", doc))
				return
			}
			for _, ctx := range contexts {
				rc.checks = append(rc.checks, requiredCheck{Context: ctx})
			}
		default:
			writeError(c.w, invalidRequest(`"contexts" wasn't supplied.`, doc))
			return
		}
		p.checks = rc
	}
	if !b.isNull("required_pull_request_reviews") {
		rv, aerr := decodeBody(b["required_pull_request_reviews"], doc)
		if aerr != nil {
			writeError(c.w, aerr)
			return
		}
		var count int
		if rv.has("required_approving_review_count") {
			_ = json.Unmarshal(rv["required_approving_review_count"], &count)
		}
		if count < 0 || count > 6 {
			writeError(c.w, invalidRequest(fmt.Sprintf("For 'properties/required_approving_review_count', %d is not a number between 0 and 6.", count), doc))
			return
		}
		p.reviews = &requiredReviews{
			count:        count,
			dismissStale: rv.boolean("dismiss_stale_reviews"),
			codeOwners:   rv.boolean("require_code_owner_reviews"),
			lastPush:     rv.boolean("require_last_push_approval"),
		}
	}
	if c.repo.protected == nil {
		c.repo.protected = map[string]*protection{}
	}
	c.repo.protected[branch] = p
	writeJSON(c.w, http.StatusOK, c.s.protectionJSON(c.repo, branch, p))
}

func validChecks(checks []requiredCheck) bool {
	for _, rc := range checks {
		if rc.Context == "" {
			return false
		}
	}
	return true
}

type enabledJSON struct {
	URL     string `json:"url,omitempty"`
	Enabled bool   `json:"enabled"`
}

type statusChecksJSON struct {
	URL         string          `json:"url"`
	Strict      bool            `json:"strict"`
	Contexts    []string        `json:"contexts"`
	ContextsURL string          `json:"contexts_url"`
	Checks      []requiredCheck `json:"checks"`
}

type reviewsJSON struct {
	URL                          string `json:"url"`
	DismissStaleReviews          bool   `json:"dismiss_stale_reviews"`
	RequireCodeOwnerReviews      bool   `json:"require_code_owner_reviews"`
	RequiredApprovingReviewCount int    `json:"required_approving_review_count"`
	RequireLastPushApproval      bool   `json:"require_last_push_approval"`
}

// protectionJSON renders a protection as GET (and PUT) answer it; the
// settings that are off are left out, as GitHub leaves them out.
func (s *Server) protectionJSON(r *repo, branch string, p *protection) map[string]any {
	base := s.apiURL("repos", r.owner.Login, r.spec.Name, "branches", branch, "protection")
	out := map[string]any{
		"url":                 base,
		"required_signatures": enabledJSON{URL: base + "/required_signatures"},
	}
	for _, f := range protectionFlags {
		e := enabledJSON{Enabled: p.flags[f]}
		if f == "enforce_admins" {
			e.URL = base + "/enforce_admins"
		}
		out[f] = e
	}
	if p.checks != nil {
		contexts := []string{}
		checks := []requiredCheck{}
		for _, rc := range p.checks.checks {
			contexts = append(contexts, rc.Context)
			checks = append(checks, rc)
		}
		out["required_status_checks"] = statusChecksJSON{
			URL: base + "/required_status_checks", Strict: p.checks.strict,
			Contexts: contexts, ContextsURL: base + "/required_status_checks/contexts", Checks: checks,
		}
	}
	if p.reviews != nil {
		out["required_pull_request_reviews"] = reviewsJSON{
			URL:                          base + "/required_pull_request_reviews",
			DismissStaleReviews:          p.reviews.dismissStale,
			RequireCodeOwnerReviews:      p.reviews.codeOwners,
			RequiredApprovingReviewCount: p.reviews.count,
			RequireLastPushApproval:      p.reviews.lastPush,
		}
	}
	return out
}

// mergeBlock is why branch protection keeps a pull request from merging.
type mergeBlock struct {
	message string // GitHub's 405 message
	state   string // the mergeable_state it shows: blocked or behind
}

// protectionBlock returns what the base branch's protection says against
// merging p now, or nil when nothing does. Protection applies to every
// user: the double does not model administrators' bypass.
func (s *Server) protectionBlock(r *repo, p *pull) (*mergeBlock, error) {
	prot := r.protected[p.base]
	if prot == nil {
		return nil, nil
	}
	if prot.checks != nil {
		for _, rc := range prot.checks.checks {
			if verb := requiredCheckVerb(r, p.headSHA, rc); verb != "" {
				return &mergeBlock{message: fmt.Sprintf("Required status check %q is %s.", rc.Context, verb), state: "blocked"}, nil
			}
		}
	}
	if rv := prot.reviews; rv != nil {
		n, changesRequested := approvals(r, p, rv.dismissStale)
		if changesRequested {
			return &mergeBlock{message: msgChangesRequested, state: "blocked"}, nil
		}
		if n < rv.count {
			msg := fmt.Sprintf("At least %d approving review is required by reviewers with write access.", rv.count)
			if rv.count > 1 {
				msg = fmt.Sprintf("At least %d approving reviews are required by reviewers with write access.", rv.count)
			}
			return &mergeBlock{message: msg, state: "blocked"}, nil
		}
	}
	if prot.checks != nil && prot.checks.strict {
		upToDate, err := s.git.isAncestor(r.dir, p.baseSHA, p.headSHA)
		if err != nil {
			return nil, err
		}
		if !upToDate {
			return &mergeBlock{message: msgHeadBehind, state: "behind"}, nil
		}
	}
	return nil, nil
}

// requiredCheckVerb says what keeps a required check from passing on sha:
// "expected" (no status or check run of that name yet), "failing",
// "pending", or "" when it passes. A status and a check run of the same name
// are both required, as GitHub requires both.
func requiredCheckVerb(r *repo, sha string, rc requiredCheck) string {
	var results []string // success, pending or failing of each source
	anyApp := rc.AppID == nil || *rc.AppID == -1
	if anyApp {
		for _, st := range latestStatuses(r.statuses[sha]) {
			if st.GetContext() != rc.Context {
				continue
			}
			switch st.GetState() {
			case "success":
				results = append(results, "success")
			case "pending":
				results = append(results, "pending")
			default:
				results = append(results, "failing")
			}
		}
	}
	for _, run := range latestRuns(r.runsFor(sha)) {
		if run.GetName() != rc.Context || !anyApp && run.GetApp().GetID() != *rc.AppID {
			continue
		}
		switch {
		case run.GetStatus() != "completed":
			results = append(results, "pending")
		case contains([]string{"success", "neutral", "skipped"}, run.GetConclusion()):
			results = append(results, "success")
		default:
			results = append(results, "failing")
		}
	}
	switch {
	case len(results) == 0:
		return "expected"
	case contains(results, "failing"):
		return "failing"
	case contains(results, "pending"):
		return "pending"
	}
	return ""
}

// approvals counts the users whose latest deciding review of p approves it
// (a comment does not change a user's decision), and reports whether any
// user's latest decision requests changes, which blocks merging while
// reviews are required; with dismissStale, an approval of an older head
// commit does not count.
func approvals(r *repo, p *pull, dismissStale bool) (n int, changesRequested bool) {
	latest := map[int64]string{} // user id -> state, or "" when stale
	for _, rv := range r.reviews[p.number] {
		switch rv.GetState() {
		case "APPROVED", "CHANGES_REQUESTED", "DISMISSED":
			state := rv.GetState()
			if dismissStale && state == "APPROVED" && rv.GetCommitID() != p.headSHA {
				state = ""
			}
			latest[rv.GetUser().GetID()] = state
		}
	}
	for _, state := range latest {
		switch state {
		case "APPROVED":
			n++
		case "CHANGES_REQUESTED":
			changesRequested = true
		}
	}
	return n, changesRequested
}
