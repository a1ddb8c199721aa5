package azdo

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/pipelines"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/webapi"
)

// Server is an Azure DevOps organization served over loopback HTTP. Create
// it with NewServer; it closes itself when the test ends.
type Server struct {
	tb    testing.TB
	http  *httptest.Server
	org   string
	clock func() time.Time
	root  string // where the repositories live on disk

	locations []*resourceLocation

	mu             sync.Mutex
	before         func(*http.Request)
	tokens         map[string]*Token
	projects       []*Project
	repos          []*Repository
	pipelines      []*Pipeline
	builds         []*buildRecord
	runRequests    []RunRequest
	queueRequests  []QueueBuildRequest
	prs            []*pullRequest
	tags           map[uuid.UUID][]*tagDefinition // by project: the tags pull request labels name
	pushes         []Push
	refUpdates     []RefUpdate
	requests       []Request
	nextBuildID    int
	nextPushID     int
	nextPRID       int
	nextArtifactID int

	pendingTokens []Token // from options, added once all options are applied
}

var _ http.Handler = (*Server)(nil)

// TokenKind says how a token authenticates.
type TokenKind int

const (
	// PAT is a personal access token, sent as the password of HTTP Basic
	// authentication (any user name).
	PAT TokenKind = iota
	// JobToken is a pipeline job's access token (System.AccessToken), sent
	// as a Bearer token or, like a PAT, as a Basic password.
	JobToken
)

// Identity is who a token acts as: the createdBy of pull requests, the
// author of comments, the requestedFor of builds.
type Identity struct {
	ID          uuid.UUID
	DisplayName string
	UniqueName  string
}

// Token is a credential the organization accepts.
type Token struct {
	Value    string
	Kind     TokenKind
	Identity Identity
}

// Option configures a Server.
type Option func(*Server)

// WithOrganization names the organization (default "maestro"); the
// organization URL is URL()+"/"+name.
func WithOrganization(name string) Option { return func(s *Server) { s.org = name } }

// WithClock sets the clock that dates pull requests, builds, pushes and
// commits (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.clock = now } }

// WithPAT accepts a personal access token acting as a user named after it.
func WithPAT(token string) Option {
	return func(s *Server) { s.pendingTokens = append(s.pendingTokens, Token{Value: token, Kind: PAT}) }
}

// WithJobToken accepts a pipeline job access token acting as the project
// collection build service.
func WithJobToken(token string) Option {
	return func(s *Server) { s.pendingTokens = append(s.pendingTokens, Token{Value: token, Kind: JobToken}) }
}

// NewServer starts an organization on a loopback port. It fails the test if
// git (with `merge-tree --write-tree`, git 2.38 or later) is not installed.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	if err := checkGit(); err != nil {
		tb.Fatalf("azdo: %v", err)
	}
	s := &Server{
		tb:          tb,
		org:         "maestro",
		clock:       time.Now,
		root:        tb.TempDir(),
		locations:   newLocations(),
		tokens:      map[string]*Token{},
		nextBuildID: 1,
		nextPushID:  1,
		nextPRID:    1,
	}
	for _, opt := range opts {
		opt(s)
	}
	for _, t := range s.pendingTokens {
		s.addToken(t.Value, t.Kind, t.Identity)
	}
	s.http = httptest.NewServer(s)
	tb.Cleanup(s.http.Close)
	return s
}

// BeforeRequest sets a function the server calls before it serves each
// request (nil: none), outside its lock: a test's way to let another client
// act at an exact moment, such as deleting a branch (in Repository.Dir)
// between a client's reading its head and deleting it.
func (s *Server) BeforeRequest(f func(r *http.Request)) {
	s.mu.Lock()
	s.before = f
	s.mu.Unlock()
}

// URL returns the server's base URL (http://127.0.0.1:port).
func (s *Server) URL() string { return s.http.URL }

// OrganizationURL returns the URL a connection is opened with:
// URL()+"/"+organization.
func (s *Server) OrganizationURL() string { return s.http.URL + "/" + s.org }

// Organization returns the organization's name.
func (s *Server) Organization() string { return s.org }

func (s *Server) now() time.Time { return s.clock().UTC() }

// AddPAT accepts a personal access token and returns the identity it acts as.
func (s *Server) AddPAT(token string) Identity { return s.addToken(token, PAT, Identity{}) }

// AddJobToken accepts a job access token and returns the identity it acts as.
func (s *Server) AddJobToken(token string) Identity { return s.addToken(token, JobToken, Identity{}) }

// AddToken accepts a token acting as a given identity. Zero fields of the
// identity are filled in.
func (s *Server) AddToken(t Token) Identity { return s.addToken(t.Value, t.Kind, t.Identity) }

func (s *Server) addToken(value string, kind TokenKind, who Identity) Identity {
	if value == "" {
		s.tb.Fatalf("azdo: a token must not be empty")
	}
	if who.DisplayName == "" {
		if kind == JobToken {
			who.DisplayName = "Project Collection Build Service (" + s.org + ")"
		} else {
			who.DisplayName = "User " + shortHash(value)
		}
	}
	if who.UniqueName == "" {
		if kind == JobToken {
			who.UniqueName = "Build\\" + stableID("build-service", s.org).String()
		} else {
			who.UniqueName = "user-" + shortHash(value) + "@example.com"
		}
	}
	if who.ID == uuid.Nil {
		who.ID = stableID("identity", who.UniqueName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[value] = &Token{Value: value, Kind: kind, Identity: who}
	return who
}

// idNamespace scopes the double's name-based UUIDs, which keep IDs equal
// from run to run.
var idNamespace = uuid.MustParse("6f0d3bb4-4a8e-4b7a-9a55-3b6d3f7e2c10")

func stableID(parts ...string) uuid.UUID {
	return uuid.NewSHA1(idNamespace, []byte(strings.Join(parts, "\x00")))
}

func shortHash(s string) string { return stableID("token", s).String()[:8] }

// Request is one request the server received, in arrival order.
type Request struct {
	Method     string
	Path       string // escaped path, e.g. /maestro/proj/_apis/git/repositories/r/refs
	RawQuery   string
	APIVersion string // from the Accept header or the api-version query parameter
	Body       []byte // the request body; nil for git's smart HTTP
	Status     int
	Response   []byte    // the response body; nil for git's smart HTTP
	Identity   *Identity // nil when the request was not authenticated
}

// Requests returns every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// UnauthorizedRequests returns the requests answered 401.
func (s *Server) UnauthorizedRequests() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Status == http.StatusUnauthorized {
			out = append(out, r)
		}
	}
	return out
}

// statusRecorder remembers the status and, unless it is git's pack data,
// the body a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status  int
	capture bool
	body    bytes.Buffer
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.capture {
		r.body.Write(b)
	}
	return r.ResponseWriter.Write(b)
}

// ServeHTTP serves the organization's REST API and git repositories.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	isGit := strings.Contains(strings.ToLower(r.URL.Path), "/_git/")
	rec := &statusRecorder{ResponseWriter: w, capture: !isGit}
	var body []byte
	if !isGit && r.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(r.Body, 64<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	who := s.authenticate(r)
	s.mu.Lock()
	before := s.before
	s.mu.Unlock()
	if before != nil {
		before(r)
	}
	s.route(rec, r, body, who)
	entry := Request{
		Method:     r.Method,
		Path:       r.URL.EscapedPath(),
		RawQuery:   r.URL.RawQuery,
		APIVersion: requestAPIVersion(r),
		Body:       body,
		Status:     rec.status,
	}
	if rec.capture {
		entry.Response = rec.body.Bytes()
	}
	if who != nil {
		id := who.Identity
		entry.Identity = &id
	}
	s.mu.Lock()
	s.requests = append(s.requests, entry)
	s.mu.Unlock()
}

// authenticate returns the token a request carries, or nil. Basic
// authentication takes a PAT or a job token as the password (the user name is
// ignored, as the service ignores it); Bearer takes only job tokens.
func (s *Server) authenticate(r *http.Request) *Token {
	header := r.Header.Get("Authorization")
	scheme, cred, ok := strings.Cut(header, " ")
	if !ok {
		return nil
	}
	var value string
	bearer := false
	switch strings.ToLower(scheme) {
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if err != nil {
			return nil
		}
		_, password, ok := strings.Cut(string(raw), ":")
		if !ok {
			return nil
		}
		value = password
	case "bearer":
		value = strings.TrimSpace(cred)
		bearer = true
	default:
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for v, t := range s.tokens {
		if subtle.ConstantTimeCompare([]byte(v), []byte(value)) == 1 {
			if bearer && t.Kind != JobToken {
				return nil
			}
			return t
		}
	}
	return nil
}

// route dispatches a request: git over HTTP, the location OPTIONS, or a REST
// resource location.
func (s *Server) route(w http.ResponseWriter, r *http.Request, body []byte, who *Token) {
	parts, err := splitPath(r.URL.EscapedPath())
	if err != nil || len(parts) == 0 || !strings.EqualFold(parts[0], s.org) {
		writeError(w, newError(http.StatusNotFound, "HttpException", "The resource cannot be found."))
		return
	}
	parts = parts[1:]
	if i := indexFold(parts, "_git"); i >= 0 {
		s.serveGit(w, r, parts, i, who)
		return
	}
	if who == nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+s.http.URL+`/"`)
		message := "TF400813: Resource not available for anonymous access. Client authentication required."
		if r.Header.Get("Authorization") != "" {
			message = "TF400813: The user is not authorized to access this resource."
		}
		writeError(w, newError(http.StatusUnauthorized, "UnauthorizedRequestException", "%s", message))
		return
	}
	if r.Method == http.MethodOptions && len(parts) >= 1 && len(parts) <= 2 && strings.EqualFold(parts[0], "_apis") {
		area := ""
		if len(parts) == 2 {
			area = parts[1]
		}
		s.serveLocations(w, area)
		return
	}
	for _, l := range s.locations {
		values, ok := l.match(parts)
		if !ok {
			continue
		}
		h, ok := l.handlers[r.Method]
		if !ok {
			w.Header().Set("Allow", allowed(l))
			writeError(w, newError(http.StatusMethodNotAllowed, "HttpException", "The requested resource does not support http method '%s'.", r.Method))
			return
		}
		if e := l.checkAPIVersion(r.Method, requestAPIVersion(r)); e != nil {
			writeError(w, e)
			return
		}
		c := &call{s: s, w: w, r: r, values: values, query: r.URL.Query(), body: body, who: who, loc: l}
		s.mu.Lock()
		status, value, err := h(c)
		s.mu.Unlock()
		c.respond(status, value, err)
		return
	}
	writeError(w, newError(http.StatusNotFound, "HttpException", "The controller for path '%s' was not found or does not implement IController.", r.URL.Path))
}

func allowed(l *resourceLocation) string {
	var methods []string
	for m := range l.handlers {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	return strings.Join(methods, ", ")
}

// splitPath splits an escaped URL path into unescaped segments.
func splitPath(escaped string) ([]string, error) {
	var parts []string
	for _, p := range strings.Split(strings.Trim(escaped, "/"), "/") {
		if p == "" {
			continue
		}
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, err
		}
		parts = append(parts, u)
	}
	return parts, nil
}

func indexFold(parts []string, want string) int {
	for i, p := range parts {
		if strings.EqualFold(p, want) {
			return i
		}
	}
	return -1
}

// handler serves one method of one location. It runs with the server's lock
// held and returns a status and a value to encode, or an error; *apiError
// values become WrappedError bodies.
type handler func(c *call) (int, any, error)

// call is one request being served.
type call struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	values map[string]string
	query  url.Values
	body   []byte
	who    *Token
	loc    *resourceLocation
}

// emptyBody is a response without a body (and without a Content-Type).
type emptyBody struct{}

// collection is a list response, written as {"count":n,"value":[...]}.
type collection[T any] struct {
	Count int `json:"count"`
	Value []T `json:"value"`
}

func list[T any](items []T) collection[T] {
	if items == nil {
		items = []T{}
	}
	return collection[T]{Count: len(items), Value: items}
}

func (c *call) respond(status int, value any, err error) {
	if err != nil {
		var e *apiError
		if errors.As(err, &e) {
			writeError(c.w, e)
			return
		}
		c.s.tb.Errorf("azdo: %s %s: %v", c.r.Method, c.r.URL.Path, err)
		writeError(c.w, newError(http.StatusInternalServerError, "HttpException", "%v", err))
		return
	}
	if _, ok := value.(emptyBody); ok || status == http.StatusNoContent {
		c.w.WriteHeader(status)
		return
	}
	if z, ok := value.(zipBody); ok {
		c.w.Header().Set("Content-Type", "application/zip")
		c.w.WriteHeader(status)
		c.w.Write(z)
		return
	}
	data, err := json.Marshal(value)
	if err != nil {
		c.s.tb.Errorf("azdo: encode response of %s %s: %v", c.r.Method, c.r.URL.Path, err)
		writeError(c.w, newError(http.StatusInternalServerError, "HttpException", "%v", err))
		return
	}
	contentType := "application/json; charset=utf-8"
	if v := requestAPIVersion(c.r); v != "" {
		contentType += "; api-version=" + v
	}
	c.w.Header().Set("Content-Type", contentType)
	c.w.WriteHeader(status)
	c.w.Write(data)
}

// decode decodes the JSON body into v. It reports false for an empty body,
// "null", or a body the service's model binder would reject; the service
// then sees a null argument.
func (c *call) decode(v any) bool {
	body := bytes.TrimSpace(bytes.TrimPrefix(c.body, []byte("\xef\xbb\xbf")))
	if len(body) == 0 || bytes.Equal(body, []byte("null")) {
		return false
	}
	return json.Unmarshal(body, v) == nil
}

// identityRef is how the service shows an identity.
func (s *Server) identityRef(who Identity) *webapi.IdentityRef {
	id := who.ID.String()
	return &webapi.IdentityRef{
		Id:          &id,
		DisplayName: ptr(who.DisplayName),
		UniqueName:  ptr(who.UniqueName),
		Url:         ptr(s.http.URL + "/" + s.org + "/_apis/Identities/" + id),
		ImageUrl:    ptr(s.http.URL + "/" + s.org + "/_apis/GraphProfile/MemberAvatars/" + id),
		Descriptor:  ptr("aad." + base64.RawURLEncoding.EncodeToString(who.ID[:])),
	}
}

// Project is a project of the organization.
type Project struct {
	ID   uuid.UUID
	Name string
	s    *Server
}

// AddProject creates a project.
func (s *Server) AddProject(name string) *Project {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.findProject(name); p != nil {
		s.tb.Fatalf("azdo: project %q already exists", name)
	}
	p := &Project{ID: stableID("project", s.org, strings.ToLower(name)), Name: name, s: s}
	s.projects = append(s.projects, p)
	return p
}

// findProject finds a project by name (case-insensitive) or ID.
func (s *Server) findProject(nameOrID string) *Project {
	for _, p := range s.projects {
		if strings.EqualFold(p.Name, nameOrID) || strings.EqualFold(p.ID.String(), nameOrID) {
			return p
		}
	}
	return nil
}

// project resolves the {project} route value; it must be present.
func (c *call) project() (*Project, error) {
	name := c.values["project"]
	if name == "" {
		return nil, projectNotFound("")
	}
	p := c.s.findProject(name)
	if p == nil {
		return nil, projectNotFound(name)
	}
	return p, nil
}

func (p *Project) url() string {
	return p.s.http.URL + "/" + p.s.org + "/_apis/projects/" + p.ID.String()
}

// Repository is a Git repository of a project, kept as a bare repository on
// disk and served for clone and push at RemoteURL.
type Repository struct {
	ID      uuid.UUID
	Name    string
	Project *Project
	s       *Server
	git     *gitRepo
}

// AddRepository creates an empty repository whose default branch will be
// refs/heads/main.
func (s *Server) AddRepository(p *Project, name string) *Repository {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.findRepository(p, name) != nil {
		s.tb.Fatalf("azdo: repository %q already exists in project %q", name, p.Name)
	}
	id := stableID("repository", s.org, p.ID.String(), strings.ToLower(name))
	g, err := initBareRepo(filepath.Join(s.root, id.String()+".git"), "main")
	if err != nil {
		s.tb.Fatalf("azdo: create repository %s: %v", name, err)
	}
	r := &Repository{ID: id, Name: name, Project: p, s: s, git: g}
	s.repos = append(s.repos, r)
	return r
}

// findRepository finds a repository by name (case-insensitive) or ID,
// within a project or, with p nil, by ID in the whole organization.
func (s *Server) findRepository(p *Project, nameOrID string) *Repository {
	for _, r := range s.repos {
		if p != nil && r.Project != p {
			continue
		}
		if strings.EqualFold(r.ID.String(), nameOrID) || (p != nil && strings.EqualFold(r.Name, nameOrID)) {
			return r
		}
	}
	return nil
}

// repository resolves the {project} and {repositoryId} route values. The
// project is optional for git routes; without it the repository must be
// named by ID.
func (c *call) repository() (*Repository, error) {
	var p *Project
	if name := c.values["project"]; name != "" {
		if p = c.s.findProject(name); p == nil {
			return nil, projectNotFound(name)
		}
	}
	id := c.values["repositoryId"]
	r := c.s.findRepository(p, id)
	if r == nil {
		return nil, repositoryNotFound(id)
	}
	return r, nil
}

// Dir returns the bare repository's directory.
func (r *Repository) Dir() string { return r.git.dir }

// RemoteURL returns the URL git clones and pushes with, in the service's
// form: http://{org}@host/{org}/{project}/_git/{repo}.
func (r *Repository) RemoteURL() string {
	u, _ := url.Parse(r.s.http.URL)
	u.User = url.User(r.s.org)
	u.Path = "/" + r.s.org + "/" + r.Project.Name + "/_git/" + r.Name
	return u.String()
}

// WebURL returns the repository's web URL (the remote URL without a user).
func (r *Repository) WebURL() string {
	return r.s.http.URL + "/" + url.PathEscape(r.s.org) + "/" + url.PathEscape(r.Project.Name) + "/_git/" + url.PathEscape(r.Name)
}

func (r *Repository) apiURL() string {
	return r.s.http.URL + "/" + r.s.org + "/" + r.Project.ID.String() + "/_apis/git/repositories/" + r.ID.String()
}

// Commit commits files (path → content; a nil content deletes the path) on
// top of branch and returns the new commit's ID. A missing branch is created
// from the default branch (or as a root commit in an empty repository). It
// is for setting up a test, like a push that no one requested.
func (r *Repository) Commit(branch string, files map[string][]byte, message string) string {
	r.s.tb.Helper()
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	name := "refs/heads/" + strings.TrimPrefix(branch, "refs/heads/")
	current, err := r.git.resolve(name)
	if err != nil {
		r.s.tb.Fatalf("azdo: resolve %s: %v", name, err)
	}
	base := current
	if base == "" {
		if def := r.defaultBranch(); def != "" {
			base, _ = r.git.resolve(def)
		}
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var changes []fileChange
	for _, p := range paths {
		clean := strings.TrimPrefix(p, "/")
		exists := false
		if base != "" {
			_, err := r.git.readBlob(base, clean)
			exists = err == nil
		}
		switch {
		case files[p] == nil && exists:
			changes = append(changes, fileChange{kind: "delete", path: clean})
		case files[p] == nil:
		case exists:
			changes = append(changes, fileChange{kind: "edit", path: clean, content: files[p], hasData: true})
		default:
			changes = append(changes, fileChange{kind: "add", path: clean, content: files[p], hasData: true})
		}
	}
	who := signature{name: "Test Setup", email: "setup@example.com", when: r.s.now()}
	oid, err := r.git.commitChanges(base, changes, message, who, who)
	if err != nil {
		r.s.tb.Fatalf("azdo: commit to %s: %v", name, err)
	}
	old := current
	if old == "" {
		old = zeroOID
	}
	if err := r.git.updateRef(name, oid, old); err != nil {
		r.s.tb.Fatalf("azdo: update %s: %v", name, err)
	}
	r.ensureDefaultBranch(name)
	return oid
}

// Head returns the commit a branch points at, or "" if it does not exist.
func (r *Repository) Head(branch string) string {
	r.s.tb.Helper()
	oid, err := r.git.resolve("refs/heads/" + strings.TrimPrefix(branch, "refs/heads/"))
	if err != nil {
		r.s.tb.Fatalf("azdo: resolve %s: %v", branch, err)
	}
	return oid
}

// ReadFile returns a file's content at a branch, tag or commit.
func (r *Repository) ReadFile(rev, path string) ([]byte, error) {
	data, err := r.git.readBlob(rev, path)
	if err != nil {
		return nil, fmt.Errorf("read %s at %s in %s: %w", path, rev, r.Name, err)
	}
	return data, nil
}

// ensureDefaultBranch makes a newly created branch the default branch of a
// repository that had none, as the service does with the first push.
func (r *Repository) ensureDefaultBranch(created string) {
	if !strings.HasPrefix(created, "refs/heads/") {
		return
	}
	head, err := r.git.symbolicHead()
	if err != nil {
		return
	}
	if oid, _ := r.git.resolve(head); oid == "" {
		_ = r.git.setHead(created)
	}
}

// defaultBranch returns the default branch, or "" for an empty repository.
func (r *Repository) defaultBranch() string {
	head, err := r.git.symbolicHead()
	if err != nil {
		return ""
	}
	if oid, _ := r.git.resolve(head); oid == "" {
		heads, _ := r.git.refs("refs/heads/")
		if len(heads) == 0 {
			return ""
		}
		_ = r.git.setHead(heads[0].name)
		return heads[0].name
	}
	return head
}

// model is the repository as the REST API shows it.
func (r *Repository) model() *git.GitRepository {
	id := r.ID
	m := &git.GitRepository{
		Id:              &id,
		Name:            ptr(r.Name),
		Url:             ptr(r.apiURL()),
		Project:         r.Project.reference(),
		RemoteUrl:       ptr(r.RemoteURL()),
		WebUrl:          ptr(r.WebURL()),
		Size:            ptr(r.git.size()),
		IsDisabled:      ptr(false),
		IsInMaintenance: ptr(false),
	}
	if b := r.defaultBranch(); b != "" {
		m.DefaultBranch = ptr(b)
	}
	return m
}

// RunRequest is a pipeline run request as received (RunPipeline).
type RunRequest struct {
	Project    string
	PipelineID int
	RunID      int    // 0 when the request was rejected or was a preview
	Body       []byte // exactly as received
	// Parameters is Body decoded: resources, templateParameters, variables.
	Parameters pipelines.RunPipelineParameters
	Identity   Identity
	Status     int
}

// RunRequests returns the run requests received so far, including rejected
// ones.
func (s *Server) RunRequests() []RunRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RunRequest(nil), s.runRequests...)
}

// QueueBuildRequest is a queue-build request as received (QueueBuild).
type QueueBuildRequest struct {
	Project  string
	BuildID  int    // 0 when the request was rejected
	Body     []byte // exactly as received
	Build    build.Build
	Identity Identity
	Status   int
}

// QueueBuildRequests returns the queue-build requests received so far,
// including rejected ones.
func (s *Server) QueueBuildRequests() []QueueBuildRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]QueueBuildRequest(nil), s.queueRequests...)
}

// Builds returns every build (queued builds and pipeline runs), as GetBuild
// shows them.
func (s *Server) Builds() []build.Build {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]build.Build, 0, len(s.builds))
	for _, b := range s.builds {
		out = append(out, *b.model(s))
	}
	return out
}

// RefUpdate is one ref change made through the REST API: UpdateRefs,
// CreatePush, or a pull request's completion.
type RefUpdate struct {
	Repository  string // repository name
	Name        string
	OldObjectID string
	NewObjectID string
	Status      git.GitRefUpdateStatus
	Via         string // "refs", "pushes" or "pullRequest"
}

// RefUpdates returns the ref updates attempted so far.
func (s *Server) RefUpdates() []RefUpdate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RefUpdate(nil), s.refUpdates...)
}

// Push is a push made through the REST API (CreatePush).
type Push struct {
	PushID      int
	Repository  string
	RefName     string
	OldObjectID string
	NewObjectID string // the new commit
	Body        []byte
	Identity    Identity
}

// Pushes returns the pushes made so far.
func (s *Server) Pushes() []Push {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Push(nil), s.pushes...)
}
