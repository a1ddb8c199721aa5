package githubdouble

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

const (
	docListPulls   = "pulls/pulls#list-pull-requests"
	docCreatePull  = "pulls/pulls#create-a-pull-request"
	docGetPull     = "pulls/pulls#get-a-pull-request"
	docUpdatePull  = "pulls/pulls#update-a-pull-request"
	docPullCommits = "pulls/pulls#list-commits-on-a-pull-request"
	docIsMerged    = "pulls/pulls#check-if-a-pull-request-has-been-merged"
	docMergePull   = "pulls/pulls#merge-a-pull-request"

	msgNotMergeable   = "Pull Request is not mergeable"
	msgHeadModified   = "Head branch was modified. Review and try the merge again."
	msgBaseModified   = "Base branch was modified. Review and try the merge again."
	msgMerged         = "Pull Request successfully merged"
	msgDraft          = "Pull Request is still a draft"
	msgNoMergeCommits = "This branch must not contain merge commits."
	msgCannotRebase   = "This branch can't be rebased"

	// maxPullCommits is how many commits GitHub lists for a pull request.
	maxPullCommits = 250
)

// pull is a pull request. Its head SHA follows the head branch while it is
// open; closing it freezes the head SHA and its commits.
type pull struct {
	id                  int64
	number              int
	title, body         string
	state               string // open, closed
	draft               bool
	maintainerCanModify bool
	user                *user
	head, base          string // branch names
	headSHA, baseSHA    string
	createdAt           time.Time
	updatedAt           time.Time
	closedAt, mergedAt  time.Time
	merged              bool
	mergedBy            *user
	mergeCommitSHA      string
	frozen              *pullContent // the commits and diff when it was closed
	autoMerge           *autoMerge   // nil while auto-merge is off
}

// pullContent is what a pull request brings: its commits and diff size.
type pullContent struct {
	commits []commitInfo
	stat    diffStat
}

func (p *pull) open() bool { return p.state == "open" }

func (r *repo) pull(number int) *pull {
	for _, p := range r.pulls {
		if p.number == number {
			return p
		}
	}
	return nil
}

// PullRequest returns pull request number as GET shows it, or nil when
// there is none.
func (h *Repo) PullRequest(number int) *github.PullRequest {
	h.s.tb.Helper()
	var out *github.PullRequest
	h.locked(func(r *repo) {
		p := r.pull(number)
		if p == nil {
			return
		}
		var err error
		if out, err = h.s.pullJSON(r, p, true); err != nil {
			h.s.tb.Fatalf("github double: %v", err)
		}
	})
	return out
}

// PullRequests returns every pull request, open and closed, by number.
func (h *Repo) PullRequests() []*github.PullRequest {
	h.s.tb.Helper()
	var out []*github.PullRequest
	h.locked(func(r *repo) {
		for _, p := range r.pulls {
			pr, err := h.s.pullJSON(r, p, true)
			if err != nil {
				h.s.tb.Fatalf("github double: %v", err)
			}
			out = append(out, pr)
		}
	})
	return out
}

// syncPulls brings open pull requests up to date with the repository's
// branches, as GitHub does after every push: the head SHA follows the head
// branch (and refs/pull/N/head with it), and a pull request whose head
// branch was deleted is closed.
func (s *Server) syncPulls(r *repo) error {
	if !slices.ContainsFunc(r.pulls, (*pull).open) {
		return nil
	}
	heads, err := s.git.refs(r.dir, "refs/heads/")
	if err != nil {
		return err
	}
	tips := map[string]string{}
	for _, h := range heads {
		tips[strings.TrimPrefix(h.Name, "refs/heads/")] = h.SHA
	}
	for _, p := range r.pulls {
		if !p.open() {
			continue
		}
		if tip, ok := tips[p.base]; ok {
			p.baseSHA = tip
		}
		tip, ok := tips[p.head]
		if !ok {
			if err := s.closePull(r, p); err != nil {
				return err
			}
			s.pullEvent(r, p, "closed", s.sender(), nil)
			continue
		}
		if tip != p.headSHA {
			before := p.headSHA
			p.headSHA = tip
			p.updatedAt = s.now()
			if err := s.git.updateRef(r.dir, fmt.Sprintf("refs/pull/%d/head", p.number), tip, ""); err != nil {
				return err
			}
			s.pullEvent(r, p, "synchronize", s.sender(), object{"before": before, "after": tip})
		}
	}
	return nil
}

// content returns the commits and diff of a pull request: frozen when it is
// closed, computed from the branches while it is open.
func (s *Server) content(r *repo, p *pull) (*pullContent, error) {
	if p.frozen != nil {
		return p.frozen, nil
	}
	commits, err := s.git.log(r.dir, p.baseSHA, p.headSHA)
	if err != nil {
		return nil, err
	}
	stat, err := s.git.diffStat(r.dir, p.baseSHA, p.headSHA)
	if err != nil {
		return nil, err
	}
	return &pullContent{commits: commits, stat: stat}, nil
}

// closePull closes an open pull request without merging it.
func (s *Server) closePull(r *repo, p *pull) error {
	content, err := s.content(r, p)
	if err != nil {
		return err
	}
	now := s.now()
	p.frozen, p.state, p.closedAt, p.updatedAt = content, "closed", now, now
	p.autoMerge = nil
	return nil
}

// pullJSON renders a pull request; full adds what only GET of one pull
// request returns (merged, mergeable, counts).
func (s *Server) pullJSON(r *repo, p *pull, full bool) (*github.PullRequest, error) {
	api := s.apiURL("repos", r.owner.Login, r.spec.Name)
	html := s.htmlURL(r.owner.Login, r.spec.Name)
	num := strconv.Itoa(p.number)
	branch := func(name, sha string) *github.PullRequestBranch {
		return &github.PullRequestBranch{
			Label: github.String(r.owner.Login + ":" + name),
			Ref:   github.String(name),
			SHA:   github.String(sha),
			Repo:  s.repoJSON(r),
			User:  s.userJSON(r.owner),
		}
	}
	state := p.state
	pr := &github.PullRequest{
		ID:                github.Int64(p.id),
		NodeID:            github.String(nodeID("PR", p.id)),
		Number:            github.Int(p.number),
		State:             &state,
		Locked:            github.Bool(false),
		Title:             github.String(p.title),
		User:              s.userJSON(p.user),
		Draft:             github.Bool(p.draft),
		CreatedAt:         ts(p.createdAt),
		UpdatedAt:         ts(p.updatedAt),
		URL:               github.String(api + "/pulls/" + num),
		HTMLURL:           github.String(html + "/pull/" + num),
		DiffURL:           github.String(html + "/pull/" + num + ".diff"),
		PatchURL:          github.String(html + "/pull/" + num + ".patch"),
		IssueURL:          github.String(api + "/issues/" + num),
		CommitsURL:        github.String(api + "/pulls/" + num + "/commits"),
		ReviewCommentsURL: github.String(api + "/pulls/" + num + "/comments"),
		ReviewCommentURL:  github.String(api + "/pulls/comments{/number}"),
		CommentsURL:       github.String(api + "/issues/" + num + "/comments"),
		StatusesURL:       github.String(api + "/statuses/" + p.headSHA),
		Head:              branch(p.head, p.headSHA),
		Base:              branch(p.base, p.baseSHA),
		AuthorAssociation: github.String(association(r, p.user)),
		Labels:            r.labelsOf(p.number),
		Assignees:         []*github.User{},
	}
	if p.body != "" {
		pr.Body = github.String(p.body)
	}
	if !p.closedAt.IsZero() {
		pr.ClosedAt = ts(p.closedAt)
	}
	if p.merged {
		pr.MergedAt = ts(p.mergedAt)
		pr.MergeCommitSHA = github.String(p.mergeCommitSHA)
	}
	am, err := s.autoMergeJSON(r, p)
	if err != nil {
		return nil, err
	}
	pr.AutoMerge = am
	if !full {
		return pr, nil
	}
	content, err := s.content(r, p)
	if err != nil {
		return nil, err
	}
	pr.Merged = github.Bool(p.merged)
	pr.MergedBy = s.userJSON(p.mergedBy)
	pr.Comments = github.Int(len(r.comments[p.number]))
	pr.ReviewComments = github.Int(0)
	pr.Commits = github.Int(len(content.commits))
	pr.Additions = github.Int(content.stat.Additions)
	pr.Deletions = github.Int(content.stat.Deletions)
	pr.ChangedFiles = github.Int(content.stat.Files)
	pr.MaintainerCanModify = github.Bool(p.maintainerCanModify)
	pr.RequestedReviewers = []*github.User{}
	if !p.open() {
		pr.MergeableState = github.String("unknown")
		return pr, nil
	}
	_, clean, err := s.git.mergeTree(r.dir, p.baseSHA, p.headSHA)
	if err != nil {
		return nil, err
	}
	pr.Mergeable = github.Bool(clean)
	pr.Rebaseable = github.Bool(clean && !hasMergeCommit(content.commits))
	block, err := s.protectionBlock(r, p)
	if err != nil {
		return nil, err
	}
	switch {
	case !clean:
		pr.MergeableState = github.String("dirty")
	case p.draft:
		pr.MergeableState = github.String("draft")
	case block != nil:
		pr.MergeableState = github.String(block.state)
	case !s.checksGreen(r, p.headSHA):
		pr.MergeableState = github.String("unstable")
	default:
		pr.MergeableState = github.String("clean")
	}
	return pr, nil
}

func hasMergeCommit(commits []commitInfo) bool {
	return slices.ContainsFunc(commits, func(c commitInfo) bool { return len(c.Parents) > 1 })
}

// association is a user's author_association in a repository.
func association(r *repo, u *user) string {
	if u == r.owner {
		return "OWNER"
	}
	return "COLLABORATOR"
}

// pullFromPath finds the pull request of the {number} path value, writing
// 404 when there is none.
func pullFromPath(c *call, doc string) *pull {
	n, err := strconv.Atoi(c.r.PathValue("number"))
	var p *pull
	if err == nil {
		p = c.repo.pull(n)
	}
	if p == nil {
		writeError(c.w, notFound(docURL(doc)))
	}
	return p
}

// listPulls answers GET /repos/{owner}/{repo}/pulls with GitHub's filters:
// state (open, closed, all), head ("owner:branch"; a value without the owner
// is ignored, as GitHub ignores it), base, sort and direction.
func listPulls(c *call) {
	doc := docURL(docListPulls)
	q := c.r.URL.Query()
	state := cmp.Or(q.Get("state"), "open")
	sortBy := cmp.Or(q.Get("sort"), "created")
	direction := q.Get("direction")
	if direction == "" {
		direction = "asc"
		if sortBy == "created" {
			direction = "desc"
		}
	}
	for _, check := range []struct {
		field, value string
		allowed      []string
	}{
		{"state", state, []string{"open", "closed", "all"}},
		{"sort", sortBy, []string{"created", "updated", "popularity", "long-running"}},
		{"direction", direction, []string{"asc", "desc"}},
	} {
		if !contains(check.allowed, check.value) {
			writeError(c.w, validationFailed(doc, fieldError{Resource: "PullRequest", Field: check.field, Code: "invalid", Value: check.value}))
			return
		}
	}
	headOwner, headBranch, headFilter := strings.Cut(q.Get("head"), ":")
	base := q.Get("base")
	var matched []*pull
	for _, p := range c.repo.pulls {
		switch {
		case state != "all" && p.state != state:
		case headFilter && (!strings.EqualFold(headOwner, c.repo.owner.Login) || p.head != headBranch):
		case base != "" && p.base != base:
		default:
			matched = append(matched, p)
		}
	}
	key := func(p *pull) int64 {
		switch sortBy {
		case "updated":
			return p.updatedAt.UnixNano()
		case "popularity":
			return int64(len(c.repo.comments[p.number]))
		default: // created; long-running is the age of open pull requests
			return p.createdAt.UnixNano()
		}
	}
	slices.SortStableFunc(matched, func(a, b *pull) int {
		d := cmp.Compare(key(a), key(b))
		if d == 0 {
			d = cmp.Compare(a.number, b.number)
		}
		if direction == "desc" {
			d = -d
		}
		return d
	})
	out := []object{}
	for _, p := range paginate(c, matched) {
		pr, err := c.s.pullObject(c.repo, p, false)
		if err != nil {
			c.fail(err)
			return
		}
		out = append(out, pr)
	}
	writeJSON(c.w, http.StatusOK, out)
}

// createPull answers POST /repos/{owner}/{repo}/pulls. Only same-repository
// pull requests exist here: a head "owner:branch" must name this repository's owner.
func createPull(c *call) {
	doc := docURL(docCreatePull)
	b, aerr := decodeBody(c.body, doc)
	if aerr != nil {
		writeError(c.w, aerr)
		return
	}
	invalid := func(field string) {
		writeError(c.w, validationFailed(doc, fieldError{Resource: "PullRequest", Field: field, Code: "invalid"}))
	}
	custom := func(msg string) {
		writeError(c.w, validationFailed(doc, fieldError{Resource: "PullRequest", Code: "custom", Message: msg}))
	}
	if b.has("issue") {
		invalid("issue") // the double has no issues to turn into pull requests
		return
	}
	if strings.TrimSpace(b.str("title")) == "" {
		writeError(c.w, validationFailed(doc, fieldError{Resource: "PullRequest", Field: "title", Code: "missing_field"}))
		return
	}
	if bodyTooLong(b.str("body")) {
		writeError(c.w, pullBodyTooLong(doc))
		return
	}
	r := c.repo
	head, base := b.str("head"), b.str("base")
	if owner, branch, ok := strings.Cut(head, ":"); ok {
		if !strings.EqualFold(owner, r.owner.Login) {
			invalid("head")
			return
		}
		head = branch
	}
	if hr := b.str("head_repo"); b.has("head_repo") && !strings.EqualFold(hr, r.fullName()) && !strings.EqualFold(hr, r.spec.Name) {
		invalid("head_repo")
		return
	}
	baseSHA, err := branchIfValid(c, base)
	if err != nil {
		c.fail(err)
		return
	}
	if baseSHA == "" {
		invalid("base")
		return
	}
	headSHA, err := branchIfValid(c, head)
	if err != nil {
		c.fail(err)
		return
	}
	if headSHA == "" {
		invalid("head")
		return
	}
	for _, p := range r.pulls {
		if p.open() && p.head == head && p.base == base {
			custom(fmt.Sprintf("A pull request already exists for %s:%s.", r.owner.Login, head))
			return
		}
	}
	commits, err := c.s.git.log(r.dir, baseSHA, headSHA)
	if err != nil {
		c.fail(err)
		return
	}
	if len(commits) == 0 {
		custom(fmt.Sprintf("No commits between %s and %s", base, head))
		return
	}
	now := c.s.now()
	p := &pull{
		id:                  c.s.newID(),
		number:              r.nextNumber,
		title:               b.str("title"),
		body:                b.str("body"),
		state:               "open",
		draft:               b.boolean("draft"),
		maintainerCanModify: b.boolean("maintainer_can_modify"),
		user:                c.user,
		head:                head,
		base:                base,
		headSHA:             headSHA,
		baseSHA:             baseSHA,
		createdAt:           now,
		updatedAt:           now,
	}
	if err := c.s.git.updateRef(r.dir, fmt.Sprintf("refs/pull/%d/head", p.number), headSHA, ""); err != nil {
		c.fail(err)
		return
	}
	r.nextNumber++
	r.pulls = append(r.pulls, p)
	c.s.pullEvent(r, p, "opened", c.user, nil)
	pr, err := c.s.pullObject(r, p, true)
	if err != nil {
		c.fail(err)
		return
	}
	c.w.Header().Set("Location", pr["url"].(string))
	writeJSON(c.w, http.StatusCreated, pr)
}

// branchIfValid returns the tip of a branch, or "" when the name is not a
// valid branch name or no such branch exists.
func branchIfValid(c *call, name string) (string, error) {
	if !validBranchName(name) {
		return "", nil
	}
	return c.s.git.branchSHA(c.repo.dir, name)
}

// getPull answers GET /repos/{owner}/{repo}/pulls/{number}.
func getPull(c *call) {
	p := pullFromPath(c, docGetPull)
	if p == nil {
		return
	}
	pr, err := c.s.pullObject(c.repo, p, true)
	if err != nil {
		c.fail(err)
		return
	}
	writeJSON(c.w, http.StatusOK, pr)
}

// updatePull answers PATCH /repos/{owner}/{repo}/pulls/{number}: title, body,
// state (close or reopen) and base.
func updatePull(c *call) {
	doc := docURL(docUpdatePull)
	p := pullFromPath(c, docUpdatePull)
	if p == nil {
		return
	}
	b, aerr := decodeBody(c.body, doc)
	if aerr != nil {
		writeError(c.w, aerr)
		return
	}
	custom := func(msg string) {
		writeError(c.w, validationFailed(doc, fieldError{Resource: "PullRequest", Code: "custom", Message: msg}))
	}
	r := c.repo
	state := p.state
	if b.has("state") {
		state = b.str("state")
	}
	if b.has("title") && strings.TrimSpace(b.str("title")) == "" {
		writeError(c.w, validationFailed(doc, fieldError{Resource: "PullRequest", Field: "title", Code: "missing_field"}))
		return
	}
	if bodyTooLong(b.str("body")) {
		writeError(c.w, pullBodyTooLong(doc))
		return
	}
	base := p.base
	if b.has("base") && b.str("base") != p.base {
		if !p.open() || state != "open" {
			custom("Cannot change base branch of closed pull request")
			return
		}
		sha, err := branchIfValid(c, b.str("base"))
		if err != nil {
			c.fail(err)
			return
		}
		if sha == "" {
			writeError(c.w, validationFailed(doc, fieldError{Resource: "PullRequest", Field: "base", Code: "invalid"}))
			return
		}
		base = b.str("base")
	}
	if state == "open" && !p.open() {
		switch {
		case p.merged:
			custom("state cannot be changed. The pull request has already been merged.")
			return
		case headMissing(c, p):
			custom(fmt.Sprintf("state cannot be changed. The %s branch has been deleted.", p.head))
			return
		}
		for _, o := range r.pulls {
			if o.open() && o.head == p.head && o.base == p.base {
				custom(fmt.Sprintf("A pull request already exists for %s:%s.", r.owner.Login, p.head))
				return
			}
		}
	}
	oldTitle, oldBody, oldBase, oldBaseSHA := p.title, p.body, p.base, p.baseSHA
	if b.has("title") {
		p.title = b.str("title")
	}
	if b.has("body") {
		p.body = b.str("body")
	}
	if b.has("maintainer_can_modify") {
		p.maintainerCanModify = b.boolean("maintainer_can_modify")
	}
	p.base = base
	p.updatedAt = c.s.now()
	wasOpen := p.open()
	switch {
	case state == "closed" && p.open():
		if err := c.s.closePull(r, p); err != nil {
			c.fail(err)
			return
		}
	case state == "open" && !p.open():
		p.state, p.closedAt, p.frozen = "open", time.Time{}, nil
	}
	if err := c.s.syncPulls(r); err != nil {
		c.fail(err)
		return
	}
	c.s.pullEdited(r, p, c.user, oldTitle, oldBody, oldBase, oldBaseSHA)
	switch {
	case state == "closed" && wasOpen:
		c.s.pullEvent(r, p, "closed", c.user, nil)
	case state == "open" && !wasOpen:
		c.s.pullEvent(r, p, "reopened", c.user, nil)
	}
	pr, err := c.s.pullObject(r, p, true)
	if err != nil {
		c.fail(err)
		return
	}
	writeJSON(c.w, http.StatusOK, pr)
}

func headMissing(c *call, p *pull) bool {
	sha, err := c.s.git.branchSHA(c.repo.dir, p.head)
	return err != nil || sha == ""
}

// listPullCommits answers GET /repos/{owner}/{repo}/pulls/{number}/commits:
// the pull request's commits, oldest first, at most 250.
func listPullCommits(c *call) {
	p := pullFromPath(c, docPullCommits)
	if p == nil {
		return
	}
	content, err := c.s.content(c.repo, p)
	if err != nil {
		c.fail(err)
		return
	}
	commits := content.commits[:min(len(content.commits), maxPullCommits)]
	out := []object{}
	for _, ci := range paginate(c, commits) {
		out = append(out, c.s.commitObject(c.repo, ci))
	}
	writeJSON(c.w, http.StatusOK, out)
}

func (s *Server) commitJSON(r *repo, ci commitInfo) *github.RepositoryCommit {
	api := s.apiURL("repos", r.owner.Login, r.spec.Name)
	html := s.htmlURL(r.owner.Login, r.spec.Name)
	var parents []*github.Commit
	for _, p := range ci.Parents {
		parents = append(parents, &github.Commit{
			SHA:     github.String(p),
			URL:     github.String(api + "/commits/" + p),
			HTMLURL: github.String(html + "/commit/" + p),
		})
	}
	author := func(id identity) *github.CommitAuthor {
		return &github.CommitAuthor{Name: github.String(id.Name), Email: github.String(id.Email), Date: ts(id.When)}
	}
	return &github.RepositoryCommit{
		SHA:    github.String(ci.SHA),
		NodeID: github.String(nodeID("C", r.id) + "_" + ci.SHA),
		Commit: &github.Commit{
			Author:       author(ci.Author),
			Committer:    author(ci.Committer),
			Message:      github.String(strings.TrimRight(ci.Message, "\n")),
			Tree:         &github.Tree{SHA: github.String(ci.Tree)},
			URL:          github.String(api + "/git/commits/" + ci.SHA),
			CommentCount: github.Int(0),
		},
		Author:      s.userJSON(s.userByEmail(ci.Author.Email)),
		Committer:   s.userJSON(s.committerUser(ci.Committer)),
		Parents:     parents,
		URL:         github.String(api + "/commits/" + ci.SHA),
		HTMLURL:     github.String(html + "/commit/" + ci.SHA),
		CommentsURL: github.String(api + "/commits/" + ci.SHA + "/comments"),
	}
}

// webFlow is the account GitHub's own commits (merges on the website) are
// committed as.
var webFlow = &user{User: User{Login: "web-flow", Name: "GitHub", Email: "noreply@github.com"}, id: 19864447}

func (s *Server) committerUser(id identity) *user {
	if strings.EqualFold(id.Email, webFlow.Email) {
		return webFlow
	}
	return s.userByEmail(id.Email)
}

// isMerged answers GET /repos/{owner}/{repo}/pulls/{number}/merge: 204 when
// merged, 404 otherwise.
func isMerged(c *call) {
	p := pullFromPath(c, docIsMerged)
	if p == nil {
		return
	}
	if !p.merged {
		writeError(c.w, notFound(docURL(docIsMerged)))
		return
	}
	writeNoContent(c.w)
}

// mergePull answers PUT /repos/{owner}/{repo}/pulls/{number}/merge: it
// merges in the bare repository (a merge commit, a squash commit, or the
// commits rebased), moves the base branch, and marks the pull request merged.
func mergePull(c *call) {
	doc := docURL(docMergePull)
	p := pullFromPath(c, docMergePull)
	if p == nil {
		return
	}
	b, aerr := decodeBody(c.body, doc)
	if aerr != nil {
		writeError(c.w, aerr)
		return
	}
	r := c.repo
	notAllowed := func(msg string) { writeError(c.w, newAPIError(http.StatusMethodNotAllowed, msg, doc)) }
	method := cmp.Or(b.str("merge_method"), "merge")
	switch {
	case !p.open():
		notAllowed(msgNotMergeable)
		return
	case b.str("sha") != "" && b.str("sha") != p.headSHA:
		writeError(c.w, newAPIError(http.StatusConflict, msgHeadModified, doc))
		return
	case methodNotAllowed(r, method) != "":
		notAllowed(methodNotAllowed(r, method))
		return
	case p.draft:
		notAllowed(msgDraft)
		return
	}
	if block, err := c.s.protectionBlock(r, p); err != nil {
		c.fail(err)
		return
	} else if block != nil {
		writeError(c.w, newAPIError(http.StatusMethodNotAllowed, block.message, docProtectedBranches))
		return
	}
	sha, refusal, err := c.s.mergeNow(r, p, method, c.user, b)
	if err != nil {
		c.fail(err)
		return
	}
	if refusal != "" {
		notAllowed(refusal)
		return
	}
	writeJSON(c.w, http.StatusOK, &github.PullRequestMergeResult{
		SHA:     github.String(sha),
		Merged:  github.Bool(true),
		Message: github.String(msgMerged),
	})
}

// mergeNow merges p into its base by method as u, in the bare repository
// (a merge commit, a squash commit, or the commits rebased), moves the base
// branch and marks p merged; b may give commit_title and commit_message.
// When git refuses (a conflict, merge commits to rebase, a base that moved)
// it returns GitHub's 405 message as refusal and changes nothing.
func (s *Server) mergeNow(r *repo, p *pull, method string, u *user, b body) (sha, refusal string, err error) {
	content, err := s.content(r, p)
	if err != nil {
		return "", "", err
	}
	now := s.now()
	author := identity{Name: u.gitName(), Email: u.gitEmail(), When: now}
	committer := identity{Name: webFlow.Name, Email: webFlow.Email, When: now}
	switch method {
	case "rebase":
		if hasMergeCommit(content.commits) {
			return "", msgNoMergeCommits, nil
		}
		tip, clean, err := s.git.rebase(r.dir, s.scratch("worktree"), p.baseSHA, content.commits, committer)
		if err != nil {
			return "", "", err
		}
		if !clean {
			return "", msgCannotRebase, nil
		}
		sha = tip
	default:
		tree, clean, err := s.git.mergeTree(r.dir, p.baseSHA, p.headSHA)
		if err != nil {
			return "", "", err
		}
		if !clean {
			return "", msgNotMergeable, nil
		}
		parents := []string{p.baseSHA, p.headSHA}
		message := mergeMessage(r, p, b)
		if method == "squash" {
			parents = parents[:1]
			message = squashMessage(p, content.commits, b)
		}
		if sha, err = s.git.commitTree(r.dir, tree, message, author, committer, parents...); err != nil {
			return "", "", err
		}
	}
	if err := s.git.updateRef(r.dir, "refs/heads/"+p.base, sha, p.baseSHA); err != nil {
		return "", msgBaseModified, nil
	}
	p.frozen, p.state, p.merged = content, "closed", true
	p.mergedAt, p.closedAt, p.updatedAt = now, now, now
	p.mergedBy, p.mergeCommitSHA = u, sha
	p.autoMerge = nil
	s.pullEvent(r, p, "closed", u, nil)
	if r.spec.DeleteBranchOnMerge {
		if err := s.git.deleteRef(r.dir, "refs/heads/"+p.head, p.headSHA); err != nil {
			return "", "", err
		}
	}
	return sha, "", nil
}

// mergeMessage is the message of a merge commit: "Merge pull request #N from
// owner/branch" and the title, unless the request gives its own.
func mergeMessage(r *repo, p *pull, b body) string {
	title := fmt.Sprintf("Merge pull request #%d from %s/%s", p.number, r.owner.Login, p.head)
	text := p.title
	return joinMessage(b, title, text)
}

// squashMessage is the message of a squash commit: "title (#N)" and the
// squashed commits' messages, unless the request gives its own.
func squashMessage(p *pull, commits []commitInfo, b body) string {
	title := fmt.Sprintf("%s (#%d)", p.title, p.number)
	var parts []string
	for _, ci := range commits {
		parts = append(parts, "* "+strings.TrimRight(ci.Message, "\n"))
	}
	return joinMessage(b, title, strings.Join(parts, "\n\n"))
}

func joinMessage(b body, title, text string) string {
	if b.has("commit_title") {
		title = b.str("commit_title")
	}
	if b.has("commit_message") {
		text = b.str("commit_message")
	}
	if text == "" {
		return title + "\n"
	}
	return title + "\n\n" + text + "\n"
}
