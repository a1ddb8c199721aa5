package githubdouble

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// RepoSpec describes a repository to create.
type RepoSpec struct {
	Owner, Name   string
	DefaultBranch string            // "main" when empty
	Files         map[string]string // committed as the first commit of DefaultBranch; none leaves the repository empty
	Description   string
	Private       bool // shown as the repository's visibility; every request needs a token either way

	// Merge settings, as on the repository's settings page.
	DisallowMergeCommit bool
	DisallowSquashMerge bool
	DisallowRebaseMerge bool
	DeleteBranchOnMerge bool
	AllowAutoMerge      bool // lets enablePullRequestAutoMerge switch auto-merge on
}

// repo is one repository: a bare git repository on disk plus the pull
// requests, comments, checks and statuses kept in memory.
type repo struct {
	spec      RepoSpec
	id        int64
	owner     *user
	dir       string
	createdAt time.Time

	nextNumber  int
	pulls       []*pull                             // by number order
	comments    map[int][]*github.IssueComment      // by issue number
	reviews     map[int][]*github.PullRequestReview // by pull request number
	checkRuns   []*github.CheckRun                  // in creation order
	statuses    map[string][]*github.RepoStatus     // by commit SHA, in creation order
	protected   map[string]*protection              // by branch name; nil until a branch is protected
	labels      []*github.Label                     // the repository's labels, in creation order
	issueLabels map[int][]string                    // label names by issue number
}

func (r *repo) fullName() string { return r.owner.Login + "/" + r.spec.Name }

var repoNameRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

// Repo is a handle on one repository of the server, for tests to inspect
// and change it beside the API.
type Repo struct {
	s   *Server
	key string
}

// AddRepo creates a repository: a bare git repository under the test's
// temporary directory, with spec.Files committed on the default branch.
func (s *Server) AddRepo(spec RepoSpec) *Repo {
	s.tb.Helper()
	if spec.DefaultBranch == "" {
		spec.DefaultBranch = "main"
	}
	if !validLogin(spec.Owner) || !repoNameRe.MatchString(spec.Name) || spec.Name == "." || spec.Name == ".." || strings.HasSuffix(spec.Name, ".git") {
		s.tb.Fatalf("github double: invalid repository name %q/%q", spec.Owner, spec.Name)
	}
	if !validBranchName(spec.DefaultBranch) {
		s.tb.Fatalf("github double: invalid default branch %q", spec.DefaultBranch)
	}
	key := strings.ToLower(spec.Owner + "/" + spec.Name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.repos[key]; ok {
		s.tb.Fatalf("github double: repository %s/%s already exists", spec.Owner, spec.Name)
	}
	owner := s.ownerLocked(spec.Owner)
	r := &repo{
		spec:        spec,
		id:          s.newID(),
		owner:       owner,
		dir:         filepath.Join(s.root, owner.Login, spec.Name+".git"),
		createdAt:   s.now(),
		nextNumber:  1,
		comments:    map[int][]*github.IssueComment{},
		reviews:     map[int][]*github.PullRequestReview{},
		statuses:    map[string][]*github.RepoStatus{},
		issueLabels: map[int][]string{},
	}
	if err := s.initRepo(r); err != nil {
		s.tb.Fatalf("github double: create %s: %v", r.fullName(), err)
	}
	s.repos[key] = r
	if len(s.hooks.apps) > 0 {
		s.trackHeads(r) // an app's hook gets this repository's pushes too
	}
	return &Repo{s: s, key: key}
}

func (s *Server) initRepo(r *repo) error {
	if err := os.MkdirAll(filepath.Dir(r.dir), 0o755); err != nil {
		return err
	}
	if _, err := s.git.run("", nil, nil, "init", "--bare", "--initial-branch="+r.spec.DefaultBranch, r.dir); err != nil {
		return err
	}
	if err := appendConfig(filepath.Join(r.dir, "config"), repoConfig); err != nil {
		return err
	}
	if len(r.spec.Files) == 0 {
		return nil
	}
	who := identity{Name: r.owner.gitName(), Email: r.owner.gitEmail(), When: s.now()}
	sha, err := s.git.writeCommit(r.dir, s.scratch("marks"), "", r.spec.Files, nil, "Initial commit\n", who, who)
	if err != nil {
		return err
	}
	return s.git.updateRef(r.dir, "refs/heads/"+r.spec.DefaultBranch, sha, zeroSHA)
}

// repoConfig is appended to every bare repository's config: GitHub refuses
// pushes to refs/pull/* ("deny updating a hidden ref"), the double hides its
// scratch ref, and nothing runs gc behind the tests' back.
const repoConfig = `[receive]
	hideRefs = refs/pull
	hideRefs = refs/double
	autogc = false
[uploadpack]
	hideRefs = refs/double
	allowReachableSHA1InWant = true
[gc]
	auto = 0
`

func appendConfig(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// Repo returns the handle of an existing repository (names are
// case-insensitive, as on GitHub).
func (s *Server) Repo(owner, name string) *Repo {
	s.tb.Helper()
	key := strings.ToLower(owner + "/" + name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.repos[key]; !ok {
		s.tb.Fatalf("github double: no repository %s/%s", owner, name)
	}
	return &Repo{s: s, key: key}
}

// locked runs f with the server lock held and the repository's pull requests
// brought up to date with its branches.
func (h *Repo) locked(f func(r *repo)) {
	h.s.tb.Helper()
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	r := h.s.repos[h.key]
	if err := h.s.syncPulls(r); err != nil {
		h.s.tb.Fatalf("github double: %s: %v", r.fullName(), err)
	}
	f(r)
	if err := h.s.runAutoMerges(r); err != nil {
		h.s.tb.Fatalf("github double: auto-merge in %s: %v", r.fullName(), err)
	}
	// An auto-merge moved the base branch: its push reaches webhooks now,
	// not with the next request.
	h.s.observePushes(r, h.s.sender())
}

// FullName is "owner/name".
func (h *Repo) FullName() string {
	var name string
	h.locked(func(r *repo) { name = r.fullName() })
	return name
}

// Dir is the path of the bare git repository on disk.
func (h *Repo) Dir() string {
	var dir string
	h.locked(func(r *repo) { dir = r.dir })
	return dir
}

// CloneURL is the repository's git URL, URL/OWNER/NAME.git; git needs a
// token to use it (see AuthCloneURL).
func (h *Repo) CloneURL() string {
	var u string
	h.locked(func(r *repo) { u = h.s.htmlURL(r.owner.Login, r.spec.Name+".git") })
	return u
}

// AuthCloneURL is CloneURL with token as the password, the way GitHub Apps
// write x-access-token URLs.
func (h *Repo) AuthCloneURL(token string) string {
	u, err := url.Parse(h.CloneURL())
	if err != nil {
		h.s.tb.Fatalf("github double: %v", err)
	}
	u.User = url.UserPassword("x-access-token", token)
	return u.String()
}

// Branch returns the commit SHA of a branch, or "" when there is no such branch.
func (h *Repo) Branch(name string) string {
	var sha string
	h.locked(func(r *repo) {
		var err error
		if sha, err = h.s.git.branchSHA(r.dir, name); err != nil {
			h.s.tb.Fatalf("github double: %v", err)
		}
	})
	return sha
}

// File returns the content of path at rev (a branch, tag or SHA), or ok=false
// when it does not exist there.
func (h *Repo) File(rev, path string) (content string, ok bool) {
	h.locked(func(r *repo) {
		sha, err := h.s.resolveCommit(r, rev)
		if err != nil {
			h.s.tb.Fatalf("github double: %v", err)
		}
		if sha == "" {
			return
		}
		out, err := h.s.git.run(r.dir, nil, nil, "cat-file", "blob", sha+":"+path)
		if err == nil {
			content, ok = out, true
		}
	})
	return content, ok
}

// CommitSpec is a commit a test makes directly in a repository, as if
// someone had pushed it.
type CommitSpec struct {
	Branch  string            // the branch to commit on
	From    string            // where a new branch starts (branch or SHA); the default branch when empty
	Message string            // "Update" when empty
	Files   map[string]string // files to write
	Delete  []string          // files to delete
	Author  User              // the author; DefaultLogin when empty
}

// Commit adds a commit to a branch (creating the branch when it does not
// exist) and returns its SHA.
func (h *Repo) Commit(c CommitSpec) string {
	h.s.tb.Helper()
	var sha string
	h.locked(func(r *repo) {
		var err error
		if sha, err = h.s.commitLocked(r, c); err != nil {
			h.s.tb.Fatalf("github double: commit on %s in %s: %v", c.Branch, r.fullName(), err)
		}
		author := h.s.users[strings.ToLower(cmp.Or(c.Author.Login, DefaultLogin))]
		h.s.actor = author
		defer func() { h.s.actor = nil }()
		h.s.observePushes(r, author)
		if err := h.s.syncPulls(r); err != nil {
			h.s.tb.Fatalf("github double: %s: %v", r.fullName(), err)
		}
	})
	return sha
}

func (s *Server) commitLocked(r *repo, c CommitSpec) (string, error) {
	if !validBranchName(c.Branch) {
		return "", fmt.Errorf("invalid branch name %q", c.Branch)
	}
	old, err := s.git.branchSHA(r.dir, c.Branch)
	if err != nil {
		return "", err
	}
	parent, expect := old, old
	if old == "" {
		expect = zeroSHA
		from := c.From
		if from == "" {
			from = r.spec.DefaultBranch
		}
		if parent, err = s.resolveCommit(r, from); err != nil {
			return "", err
		}
		if parent == "" && c.From != "" {
			return "", fmt.Errorf("no commit %q to start from", c.From)
		}
	}
	author := User{Login: DefaultLogin}
	if c.Author.Login != "" {
		author = c.Author
	}
	au := s.addUserLocked(author)
	who := identity{Name: au.gitName(), Email: au.gitEmail(), When: s.now()}
	msg := c.Message
	if msg == "" {
		msg = "Update"
	}
	sha, err := s.git.writeCommit(r.dir, s.scratch("marks"), parent, c.Files, c.Delete, msg+"\n", who, who)
	if err != nil {
		return "", err
	}
	if err := s.git.updateRef(r.dir, "refs/heads/"+c.Branch, sha, expect); err != nil {
		return "", err
	}
	return sha, nil
}

// resolveCommit resolves a branch name, tag name or (full or abbreviated)
// SHA to a commit SHA, as the commits endpoints do; "" when nothing matches.
func (s *Server) resolveCommit(r *repo, rev string) (string, error) {
	var candidates []string
	if validBranchName(rev) {
		candidates = append(candidates, "refs/heads/"+rev, "refs/tags/"+rev)
	}
	if abbrevSHARe.MatchString(rev) {
		candidates = append(candidates, rev)
	}
	for _, cand := range candidates {
		out, err := s.git.run(r.dir, nil, nil, "rev-parse", "--verify", "--quiet", cand+"^{commit}")
		if err == nil {
			return firstLine(out), nil
		}
		if exitCode(err) != 1 {
			return "", err
		}
	}
	return "", nil
}

var abbrevSHARe = regexp.MustCompile(`^[0-9a-f]{7,40}$`)

// repoJSON is the full repository object (GET /repos/{owner}/{repo}).
func (s *Server) repoJSON(r *repo) *github.Repository {
	visibility := "public"
	if r.spec.Private {
		visibility = "private"
	}
	host := strings.TrimPrefix(s.http.URL, "http://")
	return &github.Repository{
		ID:                  github.Int64(r.id),
		NodeID:              github.String(nodeID("R", r.id)),
		Name:                github.String(r.spec.Name),
		FullName:            github.String(r.fullName()),
		Owner:               s.userJSON(r.owner),
		Private:             github.Bool(r.spec.Private),
		Visibility:          github.String(visibility),
		Description:         github.String(r.spec.Description),
		Fork:                github.Bool(false),
		HTMLURL:             github.String(s.htmlURL(r.owner.Login, r.spec.Name)),
		URL:                 github.String(s.apiURL("repos", r.owner.Login, r.spec.Name)),
		PullsURL:            github.String(s.apiURL("repos", r.owner.Login, r.spec.Name) + "/pulls{/number}"),
		CloneURL:            github.String(s.htmlURL(r.owner.Login, r.spec.Name+".git")),
		SSHURL:              github.String(fmt.Sprintf("git@%s:%s.git", host, r.fullName())),
		DefaultBranch:       github.String(r.spec.DefaultBranch),
		AllowMergeCommit:    github.Bool(!r.spec.DisallowMergeCommit),
		AllowSquashMerge:    github.Bool(!r.spec.DisallowSquashMerge),
		AllowRebaseMerge:    github.Bool(!r.spec.DisallowRebaseMerge),
		DeleteBranchOnMerge: github.Bool(r.spec.DeleteBranchOnMerge),
		AllowAutoMerge:      github.Bool(r.spec.AllowAutoMerge),
		Archived:            github.Bool(false),
		Disabled:            github.Bool(false),
		CreatedAt:           ts(r.createdAt),
		UpdatedAt:           ts(r.createdAt),
		Permissions:         map[string]bool{"admin": true, "maintain": true, "push": true, "triage": true, "pull": true},
	}
}

// repoRoute adapts a handler of a route under /repos/{owner}/{repo}: it
// finds the repository (404 when there is none), checks the token's
// permission, validates the request body against the operation's schema in
// GitHub's REST description (422 "Invalid request.", conform.go) and brings
// the repository's pull requests up to date with its branches.
func repoRoute(doc string, h func(*call)) func(*call) {
	return func(c *call) {
		key := strings.ToLower(c.r.PathValue("owner") + "/" + c.r.PathValue("repo"))
		r, ok := c.s.repos[key]
		if !ok {
			writeError(c.w, notFound(docURL(doc)))
			return
		}
		if !c.permitted(docURL(doc)) {
			return
		}
		// Every request body meets the operation's schema before a
		// handler reads it: GitHub answers 422 "Invalid request." otherwise.
		if aerr := c.s.checkRequest(c.r.Method, c.r.URL.EscapedPath(), c.body); aerr != nil {
			writeError(c.w, aerr)
			return
		}
		c.s.actor = c.user
		defer func() { c.s.actor = nil }()
		if err := c.s.syncPulls(r); err != nil {
			c.fail(err)
			return
		}
		c.repo = r
		h(c)
		// The answer is written already: an error here means the double
		// itself is broken. Auto-merges run first, so that their pushes
		// reach webhooks with the request's.
		if err := c.s.runAutoMerges(r); err != nil {
			c.s.tb.Errorf("github double: auto-merge in %s: %v", r.fullName(), err)
		}
		// What the request changed reaches webhooks now: pushes (refs
		// API, merges) and the pull requests following their branches.
		c.s.observePushes(r, c.user)
		if err := c.s.syncPulls(r); err != nil {
			c.s.tb.Errorf("github double: after %s %s: %v", c.r.Method, c.r.URL.Path, err)
		}
	}
}

// getRepo answers GET /repos/{owner}/{repo}.
func getRepo(c *call) {
	writeJSON(c.w, http.StatusOK, c.s.repoObject(c.repo))
}
