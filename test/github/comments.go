package githubdouble

import (
	"net/http"
	"strconv"
	"time"

	"github.com/google/go-github/v60/github"
)

const (
	docListComments  = "issues/comments#list-issue-comments"
	docCreateComment = "issues/comments#create-an-issue-comment"
)

// Comments returns the comments on pull request number, oldest first.
func (h *Repo) Comments(number int) []*github.IssueComment {
	var out []*github.IssueComment
	h.locked(func(r *repo) {
		for _, c := range r.comments[number] {
			cp := *c
			out = append(out, &cp)
		}
	})
	return out
}

// issueFromPath finds the pull request of the {number} path value (the only
// issues the double has), writing 404 when there is none.
func issueFromPath(c *call, doc string) (int, bool) {
	n, err := strconv.Atoi(c.r.PathValue("number"))
	if err != nil || c.repo.pull(n) == nil {
		writeError(c.w, notFound(docURL(doc)))
		return 0, false
	}
	return n, true
}

// listComments answers GET /repos/{owner}/{repo}/issues/{number}/comments,
// oldest first, with the since filter.
func listComments(c *call) {
	n, ok := issueFromPath(c, docListComments)
	if !ok {
		return
	}
	var since time.Time
	if v := c.r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeError(c.w, validationFailed(docURL(docListComments), fieldError{Resource: "IssueComment", Field: "since", Code: "invalid", Value: v}))
			return
		}
		since = t
	}
	out := []*github.IssueComment{}
	for _, cm := range c.repo.comments[n] {
		if cm.GetUpdatedAt().Time.Before(since) {
			continue
		}
		out = append(out, cm)
	}
	writeJSON(c.w, http.StatusOK, objects(paginate(c, out), c.s.commentObject))
}

// createComment answers POST /repos/{owner}/{repo}/issues/{number}/comments.
func createComment(c *call) {
	doc := docURL(docCreateComment)
	n, ok := issueFromPath(c, docCreateComment)
	if !ok {
		return
	}
	body, ok := commentBody(c, doc)
	if !ok {
		return
	}
	r := c.repo
	id := c.s.newID()
	now := c.s.now()
	api := c.s.apiURL("repos", r.owner.Login, r.spec.Name)
	cm := &github.IssueComment{
		ID:                github.Int64(id),
		NodeID:            github.String(nodeID("IC", id)),
		Body:              github.String(body),
		User:              c.s.userJSON(c.user),
		CreatedAt:         ts(now),
		UpdatedAt:         ts(now),
		AuthorAssociation: github.String(association(r, c.user)),
		URL:               github.String(api + "/issues/comments/" + strconv.FormatInt(id, 10)),
		HTMLURL:           github.String(c.s.htmlURL(r.owner.Login, r.spec.Name, "pull", strconv.Itoa(n)) + "#issuecomment-" + strconv.FormatInt(id, 10)),
		IssueURL:          github.String(api + "/issues/" + strconv.Itoa(n)),
	}
	r.comments[n] = append(r.comments[n], cm)
	c.s.commentEvent(r, r.pull(n), cm, "created", c.user, nil)
	c.w.Header().Set("Location", cm.GetURL())
	writeJSON(c.w, http.StatusCreated, c.s.commentObject(cm))
}

// commentBody reads the body of a comment create or edit and checks it as
// GitHub does (present, at most 65,536 characters); on a refusal it has
// answered the request and reports false.
func commentBody(c *call, doc string) (string, bool) {
	b, aerr := decodeBody(c.body, doc)
	if aerr != nil {
		writeError(c.w, aerr)
		return "", false
	}
	body := b.str("body")
	if body == "" {
		writeError(c.w, validationFailed(doc, fieldError{Resource: "IssueComment", Field: "body", Code: "missing_field"}))
		return "", false
	}
	if bodyTooLong(body) {
		writeError(c.w, commentBodyTooLong(doc))
		return "", false
	}
	return body, true
}
