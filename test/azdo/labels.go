package azdo

import (
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/core"
)

// maxTagName is the longest tag (label) name the service accepts, in
// characters.
const maxTagName = 400

// Pull request labels are the project's tags (shared with work item tags)
// assigned to a pull request (Pull Request Labels in the git area,
// https://learn.microsoft.com/rest/api/azure/devops/git/pull-request-labels):
//
//	POST   .../pullRequests/{pullRequestId}/labels                 {"name": N}: the tag created when the project has none
//	                                                               of that name (names compare case-insensitively), and
//	                                                               assigned; 200 with the tag. Assigning an assigned tag
//	                                                               is the same 200.
//	GET    .../pullRequests/{pullRequestId}/labels                 the assigned tags, {"count","value"}
//	GET    .../pullRequests/{pullRequestId}/labels/{labelIdOrName} one assigned tag, by id or name; 404 when not assigned
//	DELETE .../pullRequests/{pullRequestId}/labels/{labelIdOrName} unassigned (the tag itself stays); 200 without a
//	                                                               body; 404 when not assigned
//
// A name that is empty, longer than 400 characters, or holds a comma, a
// semicolon or a control character is refused 400, as a tag's name is; a
// missing body is an ArgumentNullException. The list of pull requests shows
// each one's labels; GET of one pull request does not (as the service has
// done since 2024).

// tagDefinition is a project's tag.
type tagDefinition struct {
	id   uuid.UUID
	name string
}

func (s *Server) tagModel(p *Project, t *tagDefinition) core.WebApiTagDefinition {
	id := t.id
	return core.WebApiTagDefinition{
		Id:     &id,
		Name:   ptr(t.name),
		Active: ptr(true),
		Url:    ptr(s.http.URL + "/" + s.org + "/_apis/tagging/scopes/" + p.ID.String() + "/tags/" + t.id.String()),
	}
}

// labelsOf is the pull request's labels as the API shows them.
func (s *Server) labelsOf(pr *pullRequest) []core.WebApiTagDefinition {
	out := make([]core.WebApiTagDefinition, 0, len(pr.labels))
	for _, t := range pr.labels {
		out = append(out, s.tagModel(pr.repo.Project, t))
	}
	return out
}

// validTagName says why name cannot be a tag's name ("" when it can).
func validTagName(name string) string {
	switch {
	case strings.TrimSpace(name) == "":
		return "The tag name cannot be empty."
	case utf8.RuneCountInString(name) > maxTagName:
		return "The tag name is longer than 400 characters."
	case strings.ContainsAny(name, ",;") || strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "The tag name '" + name + "' contains a character that is not allowed: commas, semicolons and control characters."
	}
	return ""
}

// handleCreatePRLabel serves POST .../pullRequests/{pullRequestId}/labels.
func handleCreatePRLabel(c *call) (int, any, error) {
	var body struct {
		Name *string `json:"name"`
	}
	if !c.decode(&body) {
		return 0, nil, argumentNull("label")
	}
	pr, err := c.pullRequestOf()
	if err != nil {
		return 0, nil, err
	}
	name := strings.TrimSpace(deref(body.Name))
	if body.Name == nil {
		return 0, nil, argumentNull("label.Name")
	}
	if why := validTagName(name); why != "" {
		return 0, nil, newError(http.StatusBadRequest, "ArgumentException", "%s\r\nParameter name: label.Name", why)
	}
	p := pr.repo.Project
	t := c.s.tag(p, name)
	for _, has := range pr.labels {
		if has == t {
			return http.StatusOK, c.s.tagModel(p, t), nil
		}
	}
	pr.labels = append(pr.labels, t)
	return http.StatusOK, c.s.tagModel(p, t), nil
}

// tag is the project's tag of that name, created when it has none.
func (s *Server) tag(p *Project, name string) *tagDefinition {
	for _, t := range s.tags[p.ID] {
		if strings.EqualFold(t.name, name) {
			return t
		}
	}
	if s.tags == nil {
		s.tags = map[uuid.UUID][]*tagDefinition{}
	}
	t := &tagDefinition{id: stableID("tag", p.ID.String(), strings.ToLower(name)), name: name}
	s.tags[p.ID] = append(s.tags[p.ID], t)
	return t
}

// labelOf finds the assigned label of the {labelIdOrName} route value.
func (c *call) labelOf(pr *pullRequest) (int, error) {
	key := c.values["labelIdOrName"]
	for i, t := range pr.labels {
		if strings.EqualFold(t.name, key) || strings.EqualFold(t.id.String(), key) {
			return i, nil
		}
	}
	return 0, newError(http.StatusNotFound, "HttpException", "The label '%s' is not assigned to pull request %d.", key, pr.id)
}

// handleGetPRLabels serves GET .../pullRequests/{pullRequestId}/labels, and
// .../labels/{labelIdOrName} for one.
func handleGetPRLabels(c *call) (int, any, error) {
	pr, err := c.pullRequestOf()
	if err != nil {
		return 0, nil, err
	}
	if c.values["labelIdOrName"] == "" {
		return http.StatusOK, list(c.s.labelsOf(pr)), nil
	}
	i, err := c.labelOf(pr)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, c.s.tagModel(pr.repo.Project, pr.labels[i]), nil
}

// handleDeletePRLabel serves DELETE .../pullRequests/{pullRequestId}/labels/{labelIdOrName}.
func handleDeletePRLabel(c *call) (int, any, error) {
	pr, err := c.pullRequestOf()
	if err != nil {
		return 0, nil, err
	}
	if c.values["labelIdOrName"] == "" {
		return 0, nil, argumentNull("labelIdOrName")
	}
	i, err := c.labelOf(pr)
	if err != nil {
		return 0, nil, err
	}
	pr.labels = append(pr.labels[:i], pr.labels[i+1:]...)
	return http.StatusOK, emptyBody{}, nil
}
