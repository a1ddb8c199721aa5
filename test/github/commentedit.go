package githubdouble

import (
	"net/http"
	"strconv"
)

const docUpdateComment = "issues/comments#update-an-issue-comment"

// updateComment answers PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}:
// it replaces the body of a comment of this repository and moves its
// updated_at; 404 when the repository has no such comment.
func updateComment(c *call) {
	doc := docURL(docUpdateComment)
	id, err := strconv.ParseInt(c.r.PathValue("comment_id"), 10, 64)
	var found bool
	var number, index int
	if err == nil {
		for n, list := range c.repo.comments {
			for i, cm := range list {
				if cm.GetID() == id {
					found, number, index = true, n, i
				}
			}
		}
	}
	if !found {
		writeError(c.w, notFound(doc))
		return
	}
	body, ok := commentBody(c, doc)
	if !ok {
		return
	}
	cm := *c.repo.comments[number][index]
	old := cm.GetBody()
	cm.Body = &body
	cm.UpdatedAt = ts(c.s.now())
	c.repo.comments[number][index] = &cm
	c.s.commentEvent(c.repo, c.repo.pull(number), &cm, "edited", c.user, object{"changes": object{"body": object{"from": old}}})
	writeJSON(c.w, http.StatusOK, c.s.commentObject(&cm))
}
