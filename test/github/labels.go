package githubdouble

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/google/go-github/v60/github"
)

// Labels, as https://docs.github.com/rest/issues/labels serves them: a
// repository's labels, and the labels of an issue (here, of a pull
// request). Adding a label the repository does not have creates it, as
// GitHub does, with the color "ededed".
const (
	docListRepoLabels  = "issues/labels#list-labels-for-a-repository"
	docCreateLabel     = "issues/labels#create-a-label"
	docListIssueLabels = "issues/labels#list-labels-for-an-issue"
	docAddLabels       = "issues/labels#add-labels-to-an-issue"
	docSetLabels       = "issues/labels#set-labels-for-an-issue"
	docRemoveLabel     = "issues/labels#remove-a-label-from-an-issue"
	docRemoveAllLabels = "issues/labels#remove-all-labels-from-an-issue"

	defaultLabelColor = "ededed"
)

var labelColorRe = regexp.MustCompile(`^[0-9a-fA-F]{6}$`)

// label finds a repository label by name (case-insensitive, as on GitHub).
func (r *repo) label(name string) *github.Label {
	for _, l := range r.labels {
		if strings.EqualFold(l.GetName(), name) {
			return l
		}
	}
	return nil
}

// addLabel creates a repository label.
func (s *Server) addLabel(r *repo, name, color string, description *string) *github.Label {
	id := s.newID()
	l := &github.Label{
		ID:          github.Int64(id),
		NodeID:      github.String(nodeID("LA", id)),
		URL:         github.String(s.apiURL("repos", r.owner.Login, r.spec.Name, "labels", name)),
		Name:        github.String(name),
		Color:       github.String(strings.ToLower(color)),
		Default:     github.Bool(false),
		Description: description,
	}
	r.labels = append(r.labels, l)
	return l
}

// labelObject is GitHub's label: description null when it has none.
func labelObject(l *github.Label) object {
	o := toObject(l)
	o["description"] = strOrNull(l.GetDescription())
	return o
}

// labelsOf returns the labels of an issue, in the order they were added.
func (r *repo) labelsOf(number int) []*github.Label {
	out := []*github.Label{}
	for _, name := range r.issueLabels[number] {
		if l := r.label(name); l != nil {
			cp := *l
			out = append(out, &cp)
		}
	}
	return out
}

// listRepoLabels answers GET /repos/{owner}/{repo}/labels.
func listRepoLabels(c *call) {
	out := []*github.Label{}
	for _, l := range c.repo.labels {
		cp := *l
		out = append(out, &cp)
	}
	writeJSON(c.w, http.StatusOK, objects(paginate(c, out), labelObject))
}

// createLabel answers POST /repos/{owner}/{repo}/labels.
func createLabel(c *call) {
	doc := docURL(docCreateLabel)
	b, aerr := decodeBody(c.body, doc)
	if aerr != nil {
		writeError(c.w, aerr)
		return
	}
	name := strings.TrimSpace(b.str("name"))
	color := strings.TrimPrefix(b.str("color"), "#")
	switch {
	case name == "":
		writeError(c.w, validationFailed(doc, fieldError{Resource: "Label", Field: "name", Code: "missing_field"}))
		return
	case c.repo.label(name) != nil:
		writeError(c.w, validationFailed(doc, fieldError{Resource: "Label", Field: "name", Code: "already_exists"}))
		return
	case b.has("color") && !labelColorRe.MatchString(color):
		writeError(c.w, validationFailed(doc, fieldError{Resource: "Label", Field: "color", Code: "invalid"}))
		return
	}
	if color == "" {
		color = defaultLabelColor
	}
	var description *string
	if b.has("description") {
		description = github.String(b.str("description"))
	}
	l := c.s.addLabel(c.repo, name, color, description)
	cp := *l
	c.w.Header().Set("Location", l.GetURL())
	writeJSON(c.w, http.StatusCreated, labelObject(&cp))
}

// listIssueLabels answers GET /repos/{owner}/{repo}/issues/{number}/labels.
func listIssueLabels(c *call) {
	n, ok := issueFromPath(c, docListIssueLabels)
	if !ok {
		return
	}
	writeJSON(c.w, http.StatusOK, objects(paginate(c, c.repo.labelsOf(n)), labelObject))
}

// labelNames reads the body of adding or setting labels: an array of names,
// {"labels": [names]} or {"labels": [{"name": name}]}, as GitHub accepts.
func labelNames(raw []byte, doc string) ([]string, *apiError) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var names []string
		if err := json.Unmarshal(trimmed, &names); err != nil {
			return nil, invalidRequest("For 'items', "+string(trimmed)+" is not an array of strings.", doc)
		}
		return names, nil
	}
	b, aerr := decodeBody(raw, doc)
	if aerr != nil {
		return nil, aerr
	}
	var items []json.RawMessage
	_ = json.Unmarshal(b["labels"], &items)
	var names []string
	for _, it := range items {
		var name string
		if err := json.Unmarshal(it, &name); err == nil {
			names = append(names, name)
			continue
		}
		var obj struct {
			Name *string `json:"name"`
		}
		if err := json.Unmarshal(it, &obj); err != nil || obj.Name == nil {
			return nil, invalidRequest("For 'properties/labels', "+string(b["labels"])+" is not an array of names.", doc)
		}
		names = append(names, *obj.Name)
	}
	return names, nil
}

// addIssueLabels answers POST (add) and PUT (set) .../issues/{number}/labels:
// it answers every label the issue has afterwards.
func addIssueLabels(replace bool) func(*call) {
	anchor := docAddLabels
	if replace {
		anchor = docSetLabels
	}
	return func(c *call) {
		doc := docURL(anchor)
		n, ok := issueFromPath(c, anchor)
		if !ok {
			return
		}
		names, aerr := labelNames(c.body, doc)
		if aerr != nil {
			writeError(c.w, aerr)
			return
		}
		for _, name := range names {
			if strings.TrimSpace(name) == "" {
				writeError(c.w, validationFailed(doc, fieldError{Resource: "Label", Field: "name", Code: "missing_field"}))
				return
			}
		}
		before := slices.Clone(c.repo.issueLabels[n])
		if replace {
			delete(c.repo.issueLabels, n)
		}
		for _, name := range names {
			l := c.repo.label(name)
			if l == nil {
				l = c.s.addLabel(c.repo, strings.TrimSpace(name), defaultLabelColor, nil)
			}
			if !slicesContainsFold(c.repo.issueLabels[n], l.GetName()) {
				c.repo.issueLabels[n] = append(c.repo.issueLabels[n], l.GetName())
			}
		}
		c.touchIssue(n)
		c.s.labelEvents(c.repo, n, before, c.user)
		writeJSON(c.w, http.StatusOK, objects(c.repo.labelsOf(n), labelObject))
	}
}

func slicesContainsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// removeIssueLabel answers DELETE .../issues/{number}/labels/{name}: the
// labels left, or 404 "Label does not exist" when the issue does not have it.
func removeIssueLabel(c *call) {
	n, ok := issueFromPath(c, docRemoveLabel)
	if !ok {
		return
	}
	name := c.r.PathValue("name")
	list := c.repo.issueLabels[n]
	for i, x := range list {
		if strings.EqualFold(x, name) {
			before := slices.Clone(list)
			c.repo.issueLabels[n] = append(list[:i:i], list[i+1:]...)
			c.touchIssue(n)
			c.s.labelEvents(c.repo, n, before, c.user)
			writeJSON(c.w, http.StatusOK, objects(c.repo.labelsOf(n), labelObject))
			return
		}
	}
	writeError(c.w, newAPIError(http.StatusNotFound, "Label does not exist", docURL(docRemoveLabel)))
}

// removeAllIssueLabels answers DELETE .../issues/{number}/labels.
func removeAllIssueLabels(c *call) {
	n, ok := issueFromPath(c, docRemoveAllLabels)
	if !ok {
		return
	}
	before := c.repo.issueLabels[n]
	delete(c.repo.issueLabels, n)
	c.touchIssue(n)
	c.s.labelEvents(c.repo, n, before, c.user)
	writeNoContent(c.w)
}

// touchIssue moves the updated_at of the pull request an issue is.
func (c *call) touchIssue(n int) {
	if p := c.repo.pull(n); p != nil {
		p.updatedAt = c.s.now()
	}
}
