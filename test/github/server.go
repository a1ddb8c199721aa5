package githubdouble

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/maestroplusplus/maestro/test/github/ghspec"
	"github.com/maestroplusplus/maestro/test/testenv"
)

// The user and token every new server knows.
const (
	DefaultLogin = "maestro-bot"
	DefaultToken = "ghp_maestroDoubleDefaultToken000000000000"
)

// apiPrefix is where GitHub Enterprise Server serves the REST API, and where
// go-github's WithEnterpriseURLs sends requests.
const apiPrefix = "/api/v3"

// maxBody bounds the request bodies the API reads.
const maxBody = 10 << 20

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock for timestamps and commit dates (merge commits,
// initial commits). The default is time.Now truncated to seconds; tests that
// compare SHAs of merge commits pass a fixed clock. The server calls now with
// its lock held, never concurrently.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// WithMismatchReport sends each API response that GitHub's REST
// description does not allow to report, instead of failing the test the
// server was made with. A fuzz target needs it: its failures must come from
// the target's own t, not from the *testing.F that made the server. The
// server calls report before the client receives the response.
func WithMismatchReport(report func(msg string)) Option {
	return func(s *Server) { s.mismatch = report }
}

// Request is one request the server answered.
type Request struct {
	Method string
	Path   string // the URL path as sent, e.g. /api/v3/repos/o/r/pulls
	Query  string // the raw query string
	Body   []byte // the request body (API requests only)
	Login  string // the authenticated user, "" when authentication failed or was missing
	Status int    // the response status code
	Git    bool   // a git smart-HTTP request (clone, fetch, push)
}

// Server is a GitHub REST API and git host on loopback. Its methods are safe
// for concurrent use.
type Server struct {
	tb   testing.TB
	http *httptest.Server
	git  *gitRunner
	root string // holds OWNER/REPO.git bare repositories
	tmp  string // scratch space for temporary index files and worktrees
	now  func() time.Time
	api  *http.ServeMux

	mu     sync.Mutex
	users  map[string]*user // by lower-case login
	tokens map[string]*user
	repos  map[string]*repo // by lower-case "owner/name"
	apps   []app
	nextID int64
	seq    int // scratch file counter
	log    []Request

	graphQLSchema string           // path of GitHub's schema.graphql
	spec          *ghspec.Document // GitHub's REST description; nil when validation is off (conform.go)
	mismatch      func(msg string) // reports responses the description does not allow; nil: tb.Error

	permissions map[string]map[string]string // by token; see SetPermissions

	rateLimit   int // primary budget per user and hour
	rateWindows map[*user]*rateWindowState
	secondary   secondaryTrip

	hooks hookState // repository webhooks and their deliveries (hooks.go)
	actor *user     // who caused the change being processed, for webhook senders
}

// NewServer starts a server on a free loopback port and closes it when the
// test ends. It knows DefaultLogin with DefaultToken and no repositories.
// It fails the test when git (2.38 or newer) is missing.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	g, err := newGitRunner()
	if err != nil {
		tb.Fatalf("github double: %v", err)
	}
	s := &Server{
		tb:     tb,
		git:    g,
		root:   filepath.Join(tb.TempDir(), "repos"),
		tmp:    tb.TempDir(),
		now:    func() time.Time { return time.Now().UTC().Truncate(time.Second) },
		users:  map[string]*user{},
		tokens: map[string]*user{},
		repos:  map[string]*repo{},
		nextID: 1000,

		permissions: map[string]map[string]string{},
		rateLimit:   defaultRateLimit,
		rateWindows: map[*user]*rateWindowState{},
	}
	for _, o := range opts {
		o(s)
	}
	if err := os.MkdirAll(s.root, 0o755); err != nil {
		tb.Fatalf("github double: %v", err)
	}
	s.graphQLSchema = filepath.Join(testenv.RepoRoot(tb), filepath.FromSlash(graphQLSchemaFile))
	s.spec = loadRESTSpec(tb)
	s.api = s.routes()
	s.http = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.http.Close)
	s.hooks.d = newDeliverer()
	tb.Cleanup(s.hooks.d.close) // before the server closes: no delivery outlives the test
	s.AddToken(DefaultLogin, DefaultToken)
	return s
}

// URL is the server's root, like http://127.0.0.1:PORT; git repositories are
// served under it as URL/OWNER/REPO.git.
func (s *Server) URL() string { return s.http.URL }

// APIURL is the REST API's base URL (URL + "/api/v3/"), as GitHub Enterprise
// Server serves it. The API also answers at the root (URL + "/"), the way
// api.github.com does.
func (s *Server) APIURL() string { return s.http.URL + apiPrefix + "/" }

// Client returns a go-github client that authenticates with token and talks
// to this server through its enterprise URLs.
func (s *Server) Client(token string) *github.Client {
	s.tb.Helper()
	c, err := github.NewClient(nil).WithAuthToken(token).WithEnterpriseURLs(s.APIURL(), s.APIURL())
	if err != nil {
		s.tb.Fatalf("github double: %v", err)
	}
	return c
}

// Requests returns a copy of the log of every request answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// serve is the root handler: it sends API paths to the REST API and every
// other path to git's smart-HTTP backend, and logs the request.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w}
	entry := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	path := r.URL.Path
	api := func(path string) {
		rec.keep = true
		var pattern string
		entry.Body, pattern = s.serveAPI(rec, r, path, &entry.Login)
		s.checkSent(r, path, pattern, rec)
		rec.send()
	}
	switch {
	case path == apiPrefix || strings.HasPrefix(path, apiPrefix+"/"):
		api(strings.TrimPrefix(path, apiPrefix))
	case strings.HasPrefix(path, "/repos/") || path == "/user" || path == "/graphql":
		api(path)
	case path == "/api/graphql": // GitHub Enterprise Server's GraphQL endpoint
		api("/graphql")
	default:
		entry.Git = true
		s.serveGit(rec, r, &entry.Login)
	}
	entry.Status = rec.status()
	s.mu.Lock()
	s.log = append(s.log, entry)
	s.mu.Unlock()
}

// statusRecorder remembers the status code written through it. With keep
// set (API responses) it holds the response back until send, so that
// checkSent has judged it before the client sees it.
type statusRecorder struct {
	http.ResponseWriter
	code int
	keep bool
	body bytes.Buffer
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	if !w.keep {
		w.ResponseWriter.WriteHeader(code)
	}
}

// send writes a kept response.
func (w *statusRecorder) send() {
	w.ResponseWriter.WriteHeader(w.status())
	_, _ = w.ResponseWriter.Write(w.body.Bytes())
}

func (w *statusRecorder) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if w.keep {
		return w.body.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// checkSent validates an API response the server sent against GitHub's
// REST description (conform.go) and fails the test on a mismatch, naming
// the request, the operation, the status and the JSON pointer of each
// problem. path is the request's path without the API prefix.
func (s *Server) checkSent(r *http.Request, path, pattern string, rec *statusRecorder) {
	if s.spec == nil {
		return
	}
	escaped := r.URL.EscapedPath()
	if strings.HasPrefix(escaped, apiPrefix+"/") {
		escaped = strings.TrimPrefix(escaped, apiPrefix)
	} else if path == "/graphql" {
		escaped = path
	}
	v := checkResponse(s.spec, r.Method, escaped, pattern, rec.status(), rec.Header(), rec.body.Bytes())
	if v.Err == nil {
		return
	}
	msg := fmt.Sprintf("github double: %s %s (%s) answered %d, which GitHub's REST description does not allow: %v",
		r.Method, r.URL.Path, cmp.Or(v.Route, "no route"), rec.status(), v.Err)
	if s.mismatch != nil {
		s.mismatch(msg)
		return
	}
	s.tb.Error(msg)
}

func (w *statusRecorder) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// call is one authenticated API request being answered, with the server lock held.
type call struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	user  *user
	repo  *repo             // set for routes under /repos/{owner}/{repo}
	perms map[string]string // the token's permissions; nil for all
	body  []byte
}

// serveAPI answers a REST request whose path has the API prefix removed and
// returns the request body it read and the ServeMux pattern of the route
// ("" for a route the double does not serve). Everything runs under the
// server lock, so API requests are answered one at a time, in order.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, path string, login *string) ([]byte, string) {
	r2 := r.Clone(r.Context())
	r2.URL.Path = path
	r2.URL.RawPath = ""
	if r.URL.RawPath != "" {
		r2.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, apiPrefix)
	}
	h, pattern := s.api.Handler(r2)
	if _, route := h.(apiHandler); !route {
		// ServeMux's redirect to a path with a trailing slash (GET
		// .../branches for the .../branches/{rest...} routes): the double
		// does not serve that route, and GitHub does not redirect.
		pattern = ""
	}
	if r.Method == http.MethodPost && accessTokensPath.MatchString(path) {
		pattern = accessTokensRoute
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeError(w, newAPIError(http.StatusBadRequest, "Problems parsing JSON", docsBase))
		return nil, pattern
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Requests without a valid token are reported against the anonymous
	// budget of 60 an hour, which the double does not count down.
	setRateHeaders(w.Header(), 60, 0, s.now().Add(rateWindow))
	if s.serveAccessToken(w, r, path, raw, login) {
		return raw, pattern
	}
	u, aerr := s.authenticate(r.Header.Get("Authorization"))
	if aerr != nil {
		writeError(w, aerr)
		return raw, pattern
	}
	*login = u.Login
	if s.chargeRate(w, u) {
		return raw, pattern
	}
	if pattern == "" {
		writeError(w, notFound(docsBase))
		return raw, pattern
	}
	c := &call{s: s, w: w, user: u, body: raw, perms: s.permissions[tokenFromHeader(r.Header.Get("Authorization"))]}
	s.api.ServeHTTP(w, r2.WithContext(context.WithValue(r2.Context(), callKey{}, c)))
	return raw, pattern
}

type callKey struct{}

// handle adapts an API handler to the mux: it picks up the call that
// serveAPI put in the request context.
func handle(h func(*call)) http.Handler { return apiHandler(h) }

// apiHandler is a route's handler in the mux.
type apiHandler func(*call)

func (h apiHandler) ServeHTTP(_ http.ResponseWriter, r *http.Request) {
	c := r.Context().Value(callKey{}).(*call)
	c.r = r
	h(c)
}

// authenticate checks an Authorization header the way the REST API does:
// "token T", "Bearer T" or Basic with the token as password (or as user name).
func (s *Server) authenticate(header string) (*user, *apiError) {
	if header == "" {
		return nil, newAPIError(http.StatusUnauthorized, "Requires authentication", docsBase)
	}
	tok := tokenFromHeader(header)
	if u, ok := s.tokens[tok]; ok && tok != "" {
		return u, nil
	}
	return nil, newAPIError(http.StatusUnauthorized, "Bad credentials", docsBase)
}

// tokenFromHeader extracts the token from an Authorization header value, or
// "" when the header has no recognizable token.
func tokenFromHeader(header string) string {
	scheme, value, _ := strings.Cut(strings.TrimSpace(header), " ")
	value = strings.TrimSpace(value)
	switch strings.ToLower(scheme) {
	case "token", "bearer":
		return value
	case "basic":
		dec, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			return ""
		}
		userName, password, _ := strings.Cut(string(dec), ":")
		if password == "" || password == "x-oauth-basic" {
			return userName
		}
		return password
	}
	return ""
}

// writeJSON writes v with GitHub's headers.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func writeError(w http.ResponseWriter, e *apiError) { writeJSON(w, e.status, e) }

func writeNoContent(w http.ResponseWriter) {
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	w.WriteHeader(http.StatusNoContent)
}

// fail reports an internal error: a 500 to the client and an error on the
// test, because the double itself is broken.
func (c *call) fail(err error) {
	c.s.tb.Errorf("github double: %s %s: %v", c.r.Method, c.r.URL.Path, err)
	writeJSON(c.w, http.StatusInternalServerError, newAPIError(http.StatusInternalServerError, "Server Error", docsBase))
}

// page is the pagination of a list request: GitHub's per_page (default 30,
// at most 100) and page (from 1).
type page struct{ perPage, page int }

func (c *call) page() page {
	q := c.r.URL.Query()
	p := page{perPage: 30, page: 1}
	if n, err := strconv.Atoi(q.Get("per_page")); err == nil && n > 0 {
		p.perPage = min(n, 100)
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		p.page = n
	}
	return p
}

// paginate returns the slice of items on the requested page and sets the
// Link header (first, prev, next, last) as GitHub does.
func paginate[T any](c *call, items []T) []T {
	p := c.page()
	last := max(1, (len(items)+p.perPage-1)/p.perPage)
	link := func(n int, rel string) string {
		u := *c.r.URL
		u.Scheme, u.Host = "http", c.r.Host
		u.Path = apiPrefix + c.r.URL.Path
		u.RawPath = ""
		q := u.Query()
		q.Set("per_page", strconv.Itoa(p.perPage))
		q.Set("page", strconv.Itoa(n))
		u.RawQuery = q.Encode()
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if p.page > 1 {
		links = append(links, link(p.page-1, "prev"), link(1, "first"))
	}
	if p.page < last {
		links = append(links, link(p.page+1, "next"), link(last, "last"))
	}
	if len(links) > 0 {
		c.w.Header().Set("Link", strings.Join(links, ", "))
	}
	start := (p.page - 1) * p.perPage
	if start >= len(items) {
		return []T{}
	}
	return items[start:min(start+p.perPage, len(items))]
}

// newID returns the next object id; ids are unique across object kinds.
func (s *Server) newID() int64 {
	s.nextID++
	return s.nextID
}

func nodeID(prefix string, id int64) string {
	return prefix + "_" + base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

// scratch returns a fresh path under the server's scratch folder.
func (s *Server) scratch(name string) string {
	s.seq++
	return filepath.Join(s.tmp, fmt.Sprintf("%s-%d", name, s.seq))
}

// apiURL builds an absolute API URL from path segments.
func (s *Server) apiURL(segments ...string) string {
	return s.http.URL + apiPrefix + "/" + joinEscaped(segments)
}

// htmlURL builds an absolute web URL from path segments.
func (s *Server) htmlURL(segments ...string) string {
	return s.http.URL + "/" + joinEscaped(segments)
}

func joinEscaped(segments []string) string {
	var parts []string
	for _, seg := range segments {
		for _, p := range strings.Split(seg, "/") {
			parts = append(parts, url.PathEscape(p))
		}
	}
	return strings.Join(parts, "/")
}

func ts(t time.Time) *github.Timestamp { return &github.Timestamp{Time: t} }
