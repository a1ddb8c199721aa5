package azdo

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
)

// handleRepositories serves GET {project}/_apis/git/repositories[/{repositoryId}].
func handleRepositories(c *call) (int, any, error) {
	if c.values["repositoryId"] == "" {
		p, err := c.project()
		if err != nil {
			return 0, nil, err
		}
		var out []git.GitRepository
		for _, r := range c.s.repos {
			if r.Project == p {
				out = append(out, *r.model())
			}
		}
		return http.StatusOK, list(out), nil
	}
	r, err := c.repository()
	if err != nil {
		return 0, nil, err
	}
	m := r.model()
	m.Links = r.links()
	return http.StatusOK, m, nil
}

func (r *Repository) links() map[string]any {
	href := func(u string) map[string]string { return map[string]string{"href": u} }
	return map[string]any{
		"self":         href(r.apiURL()),
		"project":      href(r.Project.url()),
		"web":          href(r.WebURL()),
		"commits":      href(r.apiURL() + "/commits"),
		"refs":         href(r.apiURL() + "/refs"),
		"pullRequests": href(r.apiURL() + "/pullRequests"),
		"items":        href(r.apiURL() + "/items"),
		"pushes":       href(r.apiURL() + "/pushes"),
	}
}

// handleGetRefs serves GET .../repositories/{repositoryId}/refs. filter is
// a prefix after "refs/" ("heads/main" also returns refs/heads/main-2),
// filterContains a substring, and $top with continuationToken pages the list
// (the token is the first ref name of the next page, sent back in the
// X-MS-ContinuationToken header).
func handleGetRefs(c *call) (int, any, error) {
	r, err := c.repository()
	if err != nil {
		return 0, nil, err
	}
	prefix := "refs/"
	if f := strings.TrimSpace(c.query.Get("filter")); f != "" {
		prefix = "refs/" + f
	} else if f := c.values["filter"]; f != "" {
		prefix = "refs/" + f
	}
	all, err := r.git.refs("refs/")
	if err != nil {
		return 0, nil, err
	}
	contains := strings.ToLower(c.query.Get("filterContains"))
	var refs []ref
	for _, rf := range all {
		if !strings.HasPrefix(rf.name, prefix) || strings.HasPrefix(rf.name, "refs/pull/") && !strings.HasPrefix(prefix, "refs/pull") {
			continue
		}
		if contains != "" && !strings.Contains(strings.ToLower(strings.TrimPrefix(rf.name, "refs/")), contains) {
			continue
		}
		refs = append(refs, rf)
	}
	if token := c.query.Get("continuationToken"); token != "" {
		start := len(refs)
		for i, rf := range refs {
			if rf.name >= token {
				start = i
				break
			}
		}
		refs = refs[start:]
	}
	top := 0
	if v := c.query.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, nil, newError(http.StatusBadRequest, "ArgumentException", "The value '%s' is not valid for $top.", v)
		}
		top = min(n, 1000)
	}
	if top == 0 && c.query.Get("continuationToken") != "" {
		top = 100
	}
	if top > 0 && len(refs) > top {
		c.w.Header().Set("X-MS-ContinuationToken", refs[top].name)
		refs = refs[:top]
	}
	includeLinks := c.query.Get("includeLinks") == "true"
	peel := c.query.Get("peelTags") == "true"
	out := make([]git.GitRef, 0, len(refs))
	for _, rf := range refs {
		m := git.GitRef{
			Name:     ptr(rf.name),
			ObjectId: ptr(rf.oid),
			Url:      ptr(r.apiURL() + "/refs?filter=" + url.QueryEscape(strings.TrimPrefix(rf.name, "refs/"))),
		}
		if peel && r.git.objectType(rf.oid) == "tag" {
			if out, err := r.git.run(nil, nil, "rev-parse", rf.oid+"^{}"); err == nil {
				m.PeeledObjectId = ptr(strings.TrimSpace(string(out)))
			}
		}
		if includeLinks {
			m.Links = map[string]any{"self": map[string]string{"href": *m.Url}, "repository": map[string]string{"href": r.apiURL()}}
		}
		out = append(out, m)
	}
	return http.StatusOK, list(out), nil
}

// refUpdateBody is one entry of an UpdateRefs request.
type refUpdateBody struct {
	Name        *string `json:"name"`
	OldObjectID *string `json:"oldObjectId"`
	NewObjectID *string `json:"newObjectId"`
	IsLocked    *bool   `json:"isLocked"`
}

func invalidObjectID(s string) *apiError {
	return newError(http.StatusBadRequest, "ArgumentException",
		"An object ID must be 40 characters long and only have hex digits. Passed in object ID: %s.", s)
}

// handleUpdateRefs serves POST .../repositories/{repositoryId}/refs: create,
// move and delete refs. Each update succeeds or fails on its own and is
// reported in the 200 response: a stale oldObjectId gives success=false
// with updateStatus "staleOldObjectId", as the service reports it.
func handleUpdateRefs(c *call) (int, any, error) {
	var updates []*refUpdateBody
	if !c.decode(&updates) {
		return 0, nil, argumentNull("refUpdates")
	}
	if len(updates) == 0 {
		return 0, nil, newError(http.StatusBadRequest, "ArgumentException", "The collection must contain at least one element.\r\nParameter name: refUpdates")
	}
	for _, u := range updates {
		if u == nil {
			return 0, nil, newError(http.StatusBadRequest, "ArgumentException", "The collection must not contain null elements.\r\nParameter name: refUpdates")
		}
		if u.OldObjectID == nil || !validOID(*u.OldObjectID) {
			return 0, nil, invalidObjectID(deref(u.OldObjectID))
		}
		if u.NewObjectID == nil || !validOID(*u.NewObjectID) {
			return 0, nil, invalidObjectID(deref(u.NewObjectID))
		}
	}
	r, err := c.repository()
	if err != nil {
		return 0, nil, err
	}
	results := make([]git.GitRefUpdateResult, 0, len(updates))
	for _, u := range updates {
		name := deref(u.Name)
		oldOID, newOID := strings.ToLower(*u.OldObjectID), strings.ToLower(*u.NewObjectID)
		status := c.s.applyRefUpdate(r, name, oldOID, newOID)
		c.s.refUpdates = append(c.s.refUpdates, RefUpdate{Repository: r.Name, Name: name, OldObjectID: oldOID, NewObjectID: newOID, Status: status, Via: "refs"})
		id := r.ID
		results = append(results, git.GitRefUpdateResult{
			RepositoryId: &id,
			Name:         ptr(name),
			OldObjectId:  ptr(oldOID),
			NewObjectId:  ptr(newOID),
			UpdateStatus: ptr(status),
			Success:      ptr(status == git.GitRefUpdateStatusValues.Succeeded),
			IsLocked:     ptr(false),
		})
	}
	return http.StatusOK, list(results), nil
}

// applyRefUpdate performs one ref update and returns its status.
func (s *Server) applyRefUpdate(r *Repository, name, oldOID, newOID string) git.GitRefUpdateStatus {
	if !r.git.validRefName(name) {
		return git.GitRefUpdateStatusValues.InvalidRefName
	}
	if newOID != zeroOID && !r.git.isCommit(newOID) {
		return git.GitRefUpdateStatusValues.UnresolvableToCommit
	}
	current, err := r.git.resolve(name)
	if err != nil {
		s.tb.Errorf("azdo: resolve %s: %v", name, err)
		return git.GitRefUpdateStatusValues.Unprocessed
	}
	if current == "" {
		current = zeroOID
	}
	if current != oldOID {
		return git.GitRefUpdateStatusValues.StaleOldObjectId
	}
	if oldOID == zeroOID && newOID == zeroOID {
		return git.GitRefUpdateStatusValues.Succeeded
	}
	if err := r.git.updateRef(name, newOID, oldOID); err != nil {
		if errors.Is(err, errStale) {
			return git.GitRefUpdateStatusValues.StaleOldObjectId
		}
		s.tb.Errorf("azdo: update %s: %v", name, err)
		return git.GitRefUpdateStatusValues.Unprocessed
	}
	if oldOID == zeroOID {
		r.ensureDefaultBranch(name)
	}
	return git.GitRefUpdateStatusValues.Succeeded
}

// changeTypeBits are the flags of VersionControlChangeType, which the
// service accepts as names ("edit, rename") or as a number.
var changeTypeBits = map[string]int{
	"none": 0, "add": 1, "edit": 2, "encoding": 4, "rename": 8, "delete": 16, "undelete": 32,
	"branch": 64, "merge": 128, "lock": 256, "rollback": 512, "sourcerename": 1024,
	"targetrename": 2048, "property": 4096, "all": 8191,
}

// changeType is a VersionControlChangeType read the way the service's JSON
// reader reads it.
type changeType int

func (t *changeType) UnmarshalJSON(data []byte) error {
	var n int
	if err := json.Unmarshal(data, &n); err == nil {
		*t = changeType(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	bits := 0
	for _, name := range strings.Split(s, ",") {
		b, ok := changeTypeBits[strings.ToLower(strings.TrimSpace(name))]
		if !ok {
			return fmt.Errorf("unknown change type %q", name)
		}
		bits |= b
	}
	*t = changeType(bits)
	return nil
}

func (t changeType) has(name string) bool { return int(t)&changeTypeBits[name] != 0 }

// pushBody is a CreatePush request (GitPush).
type pushBody struct {
	Date       *azuredevops.Time `json:"date"`
	PushID     int               `json:"pushId"`
	PushedBy   json.RawMessage   `json:"pushedBy"`
	Repository *struct {
		ID string `json:"id"`
	} `json:"repository"`
	RefUpdates []*refUpdateBody `json:"refUpdates"`
	Commits    []*struct {
		CommitID  string           `json:"commitId"`
		Comment   string           `json:"comment"`
		Parents   []string         `json:"parents"`
		Author    *git.GitUserDate `json:"author"`
		Committer *git.GitUserDate `json:"committer"`
		Changes   []*struct {
			ChangeType changeType `json:"changeType"`
			Item       *struct {
				Path string `json:"path"`
			} `json:"item"`
			SourceServerItem   string           `json:"sourceServerItem"`
			NewContent         *git.ItemContent `json:"newContent"`
			NewContentTemplate json.RawMessage  `json:"newContentTemplate"`
		} `json:"changes"`
	} `json:"commits"`
}

func invalidPush(param string) *apiError {
	return badRequest("The parameters supplied are not valid.\r\nParameter name: %s", param)
}

// handleCreatePush serves POST .../repositories/{repositoryId}/pushes: one
// commit of file changes on top of a base commit, applied with the git CLI to
// the repository on disk, and one ref update. The base is the ref update's
// oldObjectId or the commit's parent; if the ref exists it must still point at
// the base, or the push fails with 409 GitReferenceStaleException.
func handleCreatePush(c *call) (int, any, error) {
	r, err := c.repository()
	if err != nil {
		return 0, nil, err
	}
	var push pushBody
	if !c.decode(&push) {
		return 0, nil, badRequest("The request body is not valid JSON.\r\nParameter name: contentStream")
	}
	if (push.Date != nil && !push.Date.Time.IsZero()) || push.PushID != 0 || (len(push.PushedBy) > 0 && string(push.PushedBy) != "null") ||
		(push.Repository != nil && push.Repository.ID != "" && !strings.EqualFold(push.Repository.ID, r.ID.String())) {
		return 0, nil, invalidPush("newPush")
	}
	if len(push.Commits) != 1 || push.Commits[0] == nil || len(push.RefUpdates) != 1 || push.RefUpdates[0] == nil {
		return 0, nil, badRequest("A push must contain exactly one commit and one ref update.\r\nParameter name: newPush")
	}
	update, commit := push.RefUpdates[0], push.Commits[0]
	if deref(update.Name) == "" || deref(update.NewObjectID) != "" {
		return 0, nil, invalidPush("refUpdate")
	}
	if commit.CommitID != "" || commit.Comment == "" || len(commit.Changes) == 0 {
		return 0, nil, invalidPush("newCommit")
	}
	if len(commit.Parents) > 1 {
		return 0, nil, invalidPush("newCommit")
	}
	base, hasBase := "", false
	if old := deref(update.OldObjectID); old != "" {
		if len(old) != 40 || !validOID(old) {
			return 0, nil, invalidPush("OldObjectId")
		}
		base, hasBase = strings.ToLower(old), true
	}
	if len(commit.Parents) == 1 && commit.Parents[0] != "" {
		parent := strings.ToLower(commit.Parents[0])
		if !validOID(parent) {
			return 0, nil, invalidPush("parentCommitId")
		}
		if hasBase && base != zeroOID && base != parent {
			return 0, nil, invalidPush("baseCommitId")
		}
		base, hasBase = parent, true
	}
	if !hasBase {
		return 0, nil, invalidPush("baseCommitId")
	}
	var changes []fileChange
	for _, ch := range commit.Changes {
		if ch == nil {
			return 0, nil, invalidPush("Changes")
		}
		if len(ch.NewContentTemplate) > 0 && string(ch.NewContentTemplate) != "null" {
			return 0, nil, badRequest("Content templates are not supported by this server.")
		}
		if ch.Item == nil || strings.Trim(ch.Item.Path, "/") == "" || strings.Contains("/"+ch.Item.Path+"/", "/../") {
			return 0, nil, invalidPush("item")
		}
		fc := fileChange{path: strings.Trim(ch.Item.Path, "/")}
		if ch.NewContent != nil {
			data, err := itemContent(ch.NewContent)
			if err != nil {
				return 0, nil, err
			}
			fc.content, fc.hasData = data, true
		}
		switch {
		case ch.ChangeType.has("delete"):
			fc.kind = "delete"
		case ch.ChangeType.has("rename"):
			fc.kind = "rename"
			fc.oldPath = strings.Trim(ch.SourceServerItem, "/")
			if fc.oldPath == "" {
				return 0, nil, invalidPush("sourceServerItem")
			}
		case ch.ChangeType.has("add"):
			fc.kind = "add"
		case ch.ChangeType.has("edit"):
			fc.kind = "edit"
		default:
			return 0, nil, badRequest("The change type of '/%s' is not supported.", fc.path)
		}
		if (fc.kind == "add" || fc.kind == "edit") && !fc.hasData {
			return 0, nil, invalidPush("newContent")
		}
		changes = append(changes, fc)
	}

	name := *update.Name
	if !r.git.validRefName(name) {
		return 0, nil, badRequest("The ref name '%s' is not valid.", name)
	}
	current, err := r.git.resolve(name)
	if err != nil {
		return 0, nil, err
	}
	parent := base
	if parent == zeroOID {
		parent = ""
	}
	stale := func() *apiError {
		return newError(http.StatusConflict, "GitReferenceStaleException",
			"TF401028: The reference '%s' has already been updated by another client, so you cannot update it. Please try again.", name)
	}
	if current != "" && current != parent {
		c.s.refUpdates = append(c.s.refUpdates, RefUpdate{Repository: r.Name, Name: name, OldObjectID: base, NewObjectID: zeroOID, Status: git.GitRefUpdateStatusValues.StaleOldObjectId, Via: "pushes"})
		return 0, nil, stale()
	}
	if parent != "" && !r.git.isCommit(parent) {
		return 0, nil, newError(http.StatusNotFound, "GitCommitDoesNotExistException", "The commit %s does not exist in repository '%s'.", parent, r.Name)
	}
	now := c.s.now()
	author := signatureOf(commit.Author, c.who.Identity, now)
	committer := author
	if commit.Committer != nil {
		committer = signatureOf(commit.Committer, c.who.Identity, now)
	}
	oid, err := r.git.commitChanges(parent, changes, commit.Comment, author, committer)
	if err != nil {
		var ce *changeError
		if errors.As(err, &ce) {
			return 0, nil, badRequest("%s", ce.msg)
		}
		return 0, nil, err
	}
	old := current
	if old == "" {
		old = zeroOID
	}
	if err := r.git.updateRef(name, oid, old); err != nil {
		if errors.Is(err, errStale) {
			return 0, nil, stale()
		}
		return 0, nil, err
	}
	r.ensureDefaultBranch(name)
	c.s.refUpdates = append(c.s.refUpdates, RefUpdate{Repository: r.Name, Name: name, OldObjectID: old, NewObjectID: oid, Status: git.GitRefUpdateStatusValues.Succeeded, Via: "pushes"})
	pushID := c.s.nextPushID
	c.s.nextPushID++
	c.s.pushes = append(c.s.pushes, Push{PushID: pushID, Repository: r.Name, RefName: name, OldObjectID: old, NewObjectID: oid, Body: c.body, Identity: c.who.Identity})

	meta, err := r.git.readCommit(oid)
	if err != nil {
		return 0, nil, err
	}
	pushURL := r.apiURL() + "/pushes/" + strconv.Itoa(pushID)
	id := r.ID
	return http.StatusCreated, git.GitPush{
		Commits:    &[]git.GitCommitRef{*commitRef(r, meta)},
		RefUpdates: &[]git.GitRefUpdate{{RepositoryId: &id, Name: ptr(name), OldObjectId: ptr(old), NewObjectId: ptr(oid)}},
		Repository: r.model(),
		PushedBy:   c.s.identityRef(c.who.Identity),
		PushId:     ptr(pushID),
		Date:       &azuredevops.Time{Time: now},
		Url:        ptr(pushURL),
		Links: map[string]any{
			"self":       map[string]string{"href": pushURL},
			"repository": map[string]string{"href": r.apiURL()},
			"commits":    map[string]string{"href": pushURL + "/commits"},
			"pusher":     map[string]string{"href": *c.s.identityRef(c.who.Identity).Url},
			"refs":       map[string]string{"href": r.apiURL() + "/refs"},
		},
	}, nil
}

// itemContent decodes a change's newContent.
func itemContent(ic *git.ItemContent) ([]byte, error) {
	content := deref(ic.Content)
	if ic.ContentType != nil && *ic.ContentType == git.ItemContentTypeValues.Base64Encoded {
		data, err := base64.StdEncoding.DecodeString(content)
		if err != nil {
			return nil, badRequest("The content is not valid base64: %v", err)
		}
		return data, nil
	}
	return []byte(content), nil
}

// signatureOf is the author or committer of a pushed commit: what the
// request says, completed from the pusher.
func signatureOf(u *git.GitUserDate, who Identity, now time.Time) signature {
	sig := signature{name: who.DisplayName, email: who.UniqueName, when: now}
	if u == nil {
		return sig
	}
	if u.Name != nil && *u.Name != "" {
		sig.name = *u.Name
	}
	if u.Email != nil && *u.Email != "" {
		sig.email = *u.Email
	}
	if u.Date != nil && !u.Date.Time.IsZero() {
		sig.when = u.Date.Time
	}
	return sig
}

// commitRef is a commit as GitCommitRef shows it.
func commitRef(r *Repository, m commitMeta) *git.GitCommitRef {
	userDate := func(s signature) *git.GitUserDate {
		return &git.GitUserDate{Name: ptr(s.name), Email: ptr(s.email), Date: &azuredevops.Time{Time: s.when}}
	}
	ref := &git.GitCommitRef{
		CommitId:  ptr(m.oid),
		Author:    userDate(m.author),
		Committer: userDate(m.committer),
		Comment:   ptr(m.message),
		Url:       ptr(r.apiURL() + "/commits/" + m.oid),
	}
	if len(m.parents) > 0 {
		ref.Parents = ptr(append([]string(nil), m.parents...))
	}
	return ref
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
