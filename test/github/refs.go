package githubdouble

import (
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"
)

const (
	docGetRef      = "git/refs#get-a-reference"
	docMatchRefs   = "git/refs#list-matching-references"
	docCreateRef   = "git/refs#create-a-reference"
	docUpdateRef   = "git/refs#update-a-reference"
	docDeleteRef   = "git/refs#delete-a-reference"
	msgEmptyRepo   = "Git Repository is empty."
	msgRefExists   = "Reference already exists"
	msgRefMissing  = "Reference does not exist"
	msgNoObject    = "Object does not exist"
	msgNotFastFwd  = "Update is not a fast forward"
	msgRefFailed   = "Reference update failed"
	msgRefTooShort = "Reference name must contain at least three slash-separated components."
	// msgDeleteDefault is GitHub's 422 for deleting the default branch.
	msgDeleteDefault = "Cannot delete the default branch"
)

func (s *Server) refJSON(r *repo, t refTarget) *github.Reference {
	short := strings.TrimPrefix(t.Name, "refs/")
	return &github.Reference{
		Ref:    github.String(t.Name),
		NodeID: github.String(nodeID("REF", r.id) + "_" + short),
		URL:    github.String(s.apiURL("repos", r.owner.Login, r.spec.Name, "git", "refs", short)),
		Object: &github.GitObject{
			Type: github.String(t.Type),
			SHA:  github.String(t.SHA),
			URL:  github.String(s.apiURL("repos", r.owner.Login, r.spec.Name, "git", t.Type+"s", t.SHA)),
		},
	}
}

// isEmpty reports whether the repository has no refs at all (GitHub answers
// 409 "Git Repository is empty." to the refs API then).
func (s *Server) isEmpty(r *repo) (bool, error) {
	refs, err := s.git.refs(r.dir, "refs/")
	for _, t := range refs {
		if !hiddenRef(t.Name) {
			return false, err
		}
	}
	return true, err
}

// getRef answers GET /repos/{owner}/{repo}/git/ref/{ref}: the ref named
// exactly (heads/main, tags/v1), 404 otherwise.
func getRef(c *call) {
	name := "refs/" + c.r.PathValue("ref")
	if empty, err := c.s.isEmpty(c.repo); err != nil {
		c.fail(err)
		return
	} else if empty {
		writeError(c.w, newAPIError(http.StatusConflict, msgEmptyRepo, docURL(docGetRef)))
		return
	}
	t, ok, err := c.s.git.ref(c.repo.dir, name)
	if err != nil {
		c.fail(err)
		return
	}
	if !ok || hiddenRef(name) {
		writeError(c.w, notFound(docURL(docGetRef)))
		return
	}
	writeJSON(c.w, http.StatusOK, c.s.refJSON(c.repo, t))
}

// hiddenRef reports refs the refs API does not show: GitHub keeps
// refs/pull/* to itself there (though git fetches them), and refs/double/*
// is the double's own.
func hiddenRef(name string) bool {
	return strings.HasPrefix(name, "refs/pull/") || strings.HasPrefix(name, "refs/double/")
}

// listRefs answers GET .../git/matching-refs/{ref} (every ref whose name
// starts with refs/{ref}, [] when none) and the legacy GET .../git/refs/{ref}
// (the ref itself when it exists, else the refs under it, else 404).
func listRefs(legacy bool) func(*call) {
	doc := docMatchRefs
	if legacy {
		doc = docGetRef
	}
	return func(c *call) {
		prefix := "refs/" + c.r.PathValue("ref")
		if empty, err := c.s.isEmpty(c.repo); err != nil {
			c.fail(err)
			return
		} else if empty {
			writeError(c.w, newAPIError(http.StatusConflict, msgEmptyRepo, docURL(doc)))
			return
		}
		refs, err := c.s.git.refs(c.repo.dir, prefix)
		if err != nil {
			c.fail(err)
			return
		}
		var out []*github.Reference
		for _, t := range refs {
			if hiddenRef(t.Name) {
				continue
			}
			if legacy && t.Name == prefix {
				writeJSON(c.w, http.StatusOK, c.s.refJSON(c.repo, t))
				return
			}
			if legacy && !strings.HasPrefix(t.Name, strings.TrimSuffix(prefix, "/")+"/") {
				continue
			}
			out = append(out, c.s.refJSON(c.repo, t))
		}
		if legacy && len(out) == 0 {
			writeError(c.w, notFound(docURL(doc)))
			return
		}
		if out == nil {
			out = []*github.Reference{}
		}
		writeJSON(c.w, http.StatusOK, paginate(c, out))
	}
}

// createRef answers POST /repos/{owner}/{repo}/git/refs.
func createRef(c *call) {
	doc := docURL(docCreateRef)
	b, aerr := decodeBody(c.body, doc)
	if aerr != nil {
		writeError(c.w, aerr)
		return
	}
	name, sha := b.str("ref"), b.str("sha")
	if !strings.HasPrefix(name, "refs/") || strings.Count(name, "/") < 2 {
		writeError(c.w, unprocessable(msgRefTooShort, doc))
		return
	}
	if !validRefName(name) || hiddenRef(name) {
		writeError(c.w, unprocessable(name+" is not a valid ref name.", doc))
		return
	}
	if c.s.git.objectType(c.repo.dir, sha) == "" {
		writeError(c.w, unprocessable(msgNoObject, doc))
		return
	}
	if _, ok, err := c.s.git.ref(c.repo.dir, name); err != nil {
		c.fail(err)
		return
	} else if ok {
		writeError(c.w, unprocessable(msgRefExists, doc))
		return
	}
	if err := c.s.git.updateRef(c.repo.dir, name, sha, zeroSHA); err != nil {
		// A ref that is a prefix of the new one, or under it (heads/a vs heads/a/b).
		writeError(c.w, unprocessable(msgRefFailed, doc))
		return
	}
	t, _, err := c.s.git.ref(c.repo.dir, name)
	if err != nil {
		c.fail(err)
		return
	}
	ref := c.s.refJSON(c.repo, t)
	c.w.Header().Set("Location", ref.GetURL())
	writeJSON(c.w, http.StatusCreated, ref)
}

// updateRef answers PATCH /repos/{owner}/{repo}/git/refs/{ref}.
func updateRef(c *call) {
	doc := docURL(docUpdateRef)
	b, aerr := decodeBody(c.body, doc)
	if aerr != nil {
		writeError(c.w, aerr)
		return
	}
	name := "refs/" + c.r.PathValue("ref")
	sha := b.str("sha")
	cur, ok, err := c.s.git.ref(c.repo.dir, name)
	if err != nil {
		c.fail(err)
		return
	}
	if !ok || hiddenRef(name) {
		writeError(c.w, unprocessable(msgRefMissing, doc))
		return
	}
	typ := c.s.git.objectType(c.repo.dir, sha)
	if typ == "" {
		writeError(c.w, unprocessable(msgNoObject, doc))
		return
	}
	if !b.boolean("force") {
		ff := false
		if typ == "commit" && cur.Type == "commit" {
			if ff, err = c.s.git.isAncestor(c.repo.dir, cur.SHA, sha); err != nil {
				c.fail(err)
				return
			}
		}
		if !ff {
			writeError(c.w, unprocessable(msgNotFastFwd, doc))
			return
		}
	}
	if err := c.s.git.updateRef(c.repo.dir, name, sha, cur.SHA); err != nil {
		writeError(c.w, unprocessable(msgRefFailed, doc))
		return
	}
	t, _, err := c.s.git.ref(c.repo.dir, name)
	if err != nil {
		c.fail(err)
		return
	}
	writeJSON(c.w, http.StatusOK, c.s.refJSON(c.repo, t))
}

// deleteRef answers DELETE /repos/{owner}/{repo}/git/refs/{ref}. Deleting
// the head branch of an open pull request closes it.
func deleteRef(c *call) {
	doc := docURL(docDeleteRef)
	name := "refs/" + c.r.PathValue("ref")
	cur, ok, err := c.s.git.ref(c.repo.dir, name)
	if err != nil {
		c.fail(err)
		return
	}
	if !ok || hiddenRef(name) {
		writeError(c.w, unprocessable(msgRefMissing, doc))
		return
	}
	if name == "refs/heads/"+c.repo.spec.DefaultBranch {
		writeError(c.w, unprocessable(msgDeleteDefault, doc))
		return
	}
	if err := c.s.git.deleteRef(c.repo.dir, name, cur.SHA); err != nil {
		writeError(c.w, unprocessable(msgRefFailed, doc))
		return
	}
	if err := c.s.syncPulls(c.repo); err != nil {
		c.fail(err)
		return
	}
	writeNoContent(c.w)
}
