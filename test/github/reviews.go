package githubdouble

import (
	"net/http"
	"strconv"

	"github.com/google/go-github/v60/github"
)

const (
	docListReviews  = "pulls/reviews#list-reviews-for-a-pull-request"
	docCreateReview = "pulls/reviews#create-a-review-for-a-pull-request"
)

// reviewStates are the states a submitted (or pending) review can have.
var reviewStates = []string{"APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"}

// AddReview records a review of pull request number by login (registered
// when new), as if that user had submitted it. State is required; CommitID
// defaults to the pull request's head.
func (h *Repo) AddReview(number int, login string, review github.PullRequestReview) *github.PullRequestReview {
	h.s.tb.Helper()
	var out *github.PullRequestReview
	h.locked(func(r *repo) {
		p := r.pull(number)
		if p == nil || !contains(reviewStates, review.GetState()) || !validLogin(login) {
			h.s.tb.Fatalf("github double: review of #%d in %s by %q: needs a pull request, a login and a state in %v, got %q", number, r.fullName(), login, reviewStates, review.GetState())
		}
		out = h.s.addReview(r, p, h.s.addUserLocked(User{Login: login}), review)
	})
	return out
}

func (s *Server) addReview(r *repo, p *pull, u *user, review github.PullRequestReview) *github.PullRequestReview {
	id := s.newID()
	num := strconv.Itoa(p.number)
	review.ID = github.Int64(id)
	review.NodeID = github.String(nodeID("PRR", id))
	review.User = s.userJSON(u)
	if review.Body == nil {
		review.Body = github.String("")
	}
	if review.CommitID == nil {
		review.CommitID = github.String(p.headSHA)
	}
	if review.GetState() != "PENDING" && review.SubmittedAt == nil {
		review.SubmittedAt = ts(s.now())
	}
	review.HTMLURL = github.String(s.htmlURL(r.owner.Login, r.spec.Name, "pull", num) + "#pullrequestreview-" + strconv.FormatInt(id, 10))
	review.PullRequestURL = github.String(s.apiURL("repos", r.owner.Login, r.spec.Name, "pulls", num))
	review.AuthorAssociation = github.String(association(r, u))
	stored := review
	r.reviews[p.number] = append(r.reviews[p.number], &stored)
	s.reviewEvent(r, p, &stored, u)
	cp := stored
	return &cp
}

// listReviews answers GET /repos/{owner}/{repo}/pulls/{number}/reviews,
// oldest first. Pending reviews are shown only to their author.
func listReviews(c *call) {
	p := pullFromPath(c, docListReviews)
	if p == nil {
		return
	}
	out := []*github.PullRequestReview{}
	for _, rv := range c.repo.reviews[p.number] {
		if rv.GetState() == "PENDING" && rv.GetUser().GetID() != c.user.id {
			continue
		}
		out = append(out, rv)
	}
	writeJSON(c.w, http.StatusOK, objects(paginate(c, out), c.s.reviewObject))
}

// createReview answers POST /repos/{owner}/{repo}/pulls/{number}/reviews
// (without inline comments, which the double does not keep).
func createReview(c *call) {
	doc := docURL(docCreateReview)
	p := pullFromPath(c, docCreateReview)
	if p == nil {
		return
	}
	b, aerr := decodeBody(c.body, doc)
	if aerr != nil {
		writeError(c.w, aerr)
		return
	}
	unprocessableEntity := func(msg string) {
		writeJSON(c.w, http.StatusUnprocessableEntity, entityErrors(msg, doc))
	}
	event := b.str("event")
	state := map[string]string{"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED", "": "PENDING"}[event]
	switch {
	case c.user == p.user && event == "APPROVE":
		unprocessableEntity("Can not approve your own pull request")
		return
	case c.user == p.user && event == "REQUEST_CHANGES":
		unprocessableEntity("Can not request changes on your own pull request")
		return
	case (event == "REQUEST_CHANGES" || event == "COMMENT") && b.str("body") == "":
		unprocessableEntity("Review body is required for " + event + " events")
		return
	}
	review := github.PullRequestReview{State: github.String(state), Body: github.String(b.str("body"))}
	if b.has("commit_id") {
		if c.s.git.objectType(c.repo.dir, b.str("commit_id")) != "commit" {
			// The description gives this operation's 422 plain-string
			// errors; the wording is the double's.
			writeJSON(c.w, http.StatusUnprocessableEntity, validationFailedSimple("commit_id is not a commit of this repository", doc))
			return
		}
		review.CommitID = github.String(b.str("commit_id"))
	}
	writeJSON(c.w, http.StatusOK, c.s.reviewObject(c.s.addReview(c.repo, p, c.user, review)))
}
