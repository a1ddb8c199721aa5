package server

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/flow"
	"github.com/maestroplusplus/maestro/internal/graph"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// The status site at / (docs/site.md): server-rendered HTML over the API's
// handlers — each page calls the handler of its JSON twin under /api/
// (callAPI) and renders its value, so a page never reads the registry in
// a way the API does not. Templates, the stylesheet and the script are
// embedded (site/): the site loads nothing from elsewhere, and its
// Content-Security-Policy forbids it to.
//
// Authentication: the API's tokens. A reader signs in by pasting a token
// into the form at /signin; the server checks it as the API does and
// keeps a session derived from it, never the token, in an HttpOnly,
// SameSite=Strict cookie (Secure when served over TLS or behind a proxy
// that says so; sitesession.go). Pages need the read scope (or
// api.anonymousRead); the trigger button needs a token with the write
// scope. Every POST carries a CSRF field, the HMAC-SHA256 of a fixed text
// keyed with the session, which a page of another site can
// neither read nor compute, and is refused when its Origin is not this
// site's own (scheme, host and port; siteorigin.go). The cookie is never read by /api/, which takes bearer tokens only.

//go:embed site/templates/*.html site/static/*
var siteFiles embed.FS

const (
	// siteCookie holds the signed-in reader's session (sitesession.go).
	siteCookie = "maestro_token"
	// sitePageSize is how many builds a page of builds lists.
	sitePageSize = 25
	// siteRefresh is how often (seconds) the script refreshes a page.
	siteRefresh = 30
)

// sitePages are the parsed templates, one per page, each with the layout.
var sitePages = parseSitePages()

func parseSitePages() map[string]*template.Template {
	layout := template.Must(template.New("layout.html").Funcs(siteFuncs).ParseFS(siteFiles, "site/templates/layout.html", "site/templates/partials.html"))
	names, err := fs.Glob(siteFiles, "site/templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(n[len("site/templates/"):], ".html")
		if base == "layout" || base == "partials" {
			continue
		}
		pages[base] = template.Must(template.Must(layout.Clone()).ParseFS(siteFiles, n))
	}
	return pages
}

var siteFuncs = template.FuncMap{
	"when":      siteTime,
	"ago":       siteAgo,
	"short":     shortCommit,
	"repoName":  repoName,
	"commitURL": commitURL,
	"azdoURL":   azdoBuildURL,
	"pageURL":   pageURL,
	"seconds":   siteSeconds,
	"prName":    prName,
	"webURL":    webURL,
	// speculativeID: a speculative build has no page (it is in no
	// channel; `maestro build show --id` and GET /api/builds/{id} show
	// it), so it is not linked.
	"speculativeID": registry.IsSpeculativeID,
}

// siteRoutes adds the site's pages and static files to mux.
func (s *Server) siteRoutes(mux *http.ServeMux) {
	static, err := fs.Sub(siteFiles, "site/static")
	if err != nil {
		panic(err)
	}
	files := http.FileServerFS(static)
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		siteHeaders(w)
		w.Header().Set("Cache-Control", "max-age=300")
		files.ServeHTTP(w, r)
	})))
	mux.HandleFunc("GET /{$}", s.page(ScopeRead, s.homePage))
	mux.HandleFunc("GET /channels", s.page(ScopeRead, s.channelsPage))
	mux.HandleFunc("GET /builds", s.page(ScopeRead, s.buildsPage))
	mux.HandleFunc("GET /builds/{id}", s.page(ScopeRead, s.buildPage))
	mux.HandleFunc("GET /subscriptions", s.page(ScopeRead, s.subscriptionsPage))
	mux.HandleFunc("GET /subscriptions/{id}", s.page(ScopeRead, s.subscriptionPage))
	mux.HandleFunc("POST /subscriptions/{id}/trigger", s.page(ScopeWrite, s.triggerPage))
	mux.HandleFunc("GET /speculative/builds", s.page(ScopeRead, s.productBuildsPage))
	mux.HandleFunc("GET /speculative/builds/{id}", s.page(ScopeRead, s.productBuildPage))
	mux.HandleFunc("GET /speculative/pull-requests", s.page(ScopeRead, s.speculativePullRequestsPage))
	mux.HandleFunc("GET /flow", s.page(ScopeRead, s.flowPage))
	mux.HandleFunc("GET /flow/health", s.page(ScopeRead, s.healthPage))
	mux.HandleFunc("GET /signin", s.signInForm)
	mux.HandleFunc("POST /signin", s.signIn)
	mux.HandleFunc("POST /signout", s.signOut)
}

// viewer is who reads a page: the token of the cookie (Name "" when
// anonymous), and the CSRF value its forms carry.
type viewer struct {
	Name  string
	Write bool
	CSRF  string
}

// pageData is what every page's template receives.
type pageData struct {
	Title   string
	Nav     string // the nav entry of the page
	Viewer  viewer
	Refresh int    // seconds; 0: the page is not refreshed
	Status  int    // the page's HTTP status; 0 is 200
	Notice  string // a message at the top of main (e.g. the outcome of a trigger)
	Data    any
	Now     time.Time
}

// pageFunc renders one page: it returns the template's name and data, or
// an error whose kind decides the status (as for the API).
type pageFunc func(w http.ResponseWriter, r *http.Request, v viewer) (string, pageData, error)

// viewerOf reads the request's cookie: the viewer, and whether the cookie
// holds a live session of a token the server knows (sitesession.go).
func (s *Server) viewerOf(r *http.Request) (viewer, bool) {
	c, err := r.Cookie(siteCookie)
	if err != nil || c.Value == "" {
		return viewer{}, false
	}
	tok, ok := s.cfg.API.session(c.Value, s.now())
	if !ok {
		return viewer{}, false
	}
	return viewer{Name: tok.Name, Write: tok.Allows(ScopeWrite), CSRF: csrfFor(c.Value)}, true
}

// page checks the reader's scope (and, for a POST, the CSRF field and
// Origin), runs p and renders its page.
func (s *Server) page(scope Scope, p pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, signedIn := s.viewerOf(r)
		if r.Method == http.MethodPost {
			if !s.readSiteForm(w, r) {
				return
			}
			if !sameOrigin(r) {
				s.sitePage(w, r, http.StatusForbidden, "error", pageData{Title: "Refused", Viewer: v, Data: "This form was sent from another site."})
				return
			}
			if !signedIn || !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(v.CSRF)) {
				s.sitePage(w, r, http.StatusForbidden, "error", pageData{Title: "Refused", Viewer: v,
					Data: "The form's CSRF value does not match your sign-in: reload the page and send the form again."})
				return
			}
		}
		switch {
		case scope == ScopeRead && (signedIn || s.cfg.API.AnonymousRead):
		case scope == ScopeWrite && v.Write:
		case !signedIn:
			w.Header().Set("WWW-Authenticate", `Bearer realm="maestro"`)
			s.sitePage(w, r, http.StatusUnauthorized, "signin", pageData{Title: "Sign in", Viewer: v, Data: signInData{Next: nextOf(r)}})
			return
		default:
			s.sitePage(w, r, http.StatusForbidden, "error", pageData{Title: "Not allowed", Viewer: v,
				Data: fmt.Sprintf("Token %q lacks the %s scope this needs: sign in with a token that has it.", v.Name, scope)})
			return
		}
		name, data, err := p(w, r, v)
		if err != nil {
			code := statusOf(err)
			msg := err.Error()
			if code == http.StatusInternalServerError {
				s.log.Error("site page failed", "method", r.Method, "path", r.URL.Path, "error", err)
				msg = "Internal error; the server's log says why."
			}
			setRetryAfter(w, err)
			s.sitePage(w, r, code, "error", pageData{Title: http.StatusText(code), Viewer: v, Data: msg})
			return
		}
		if name == "" { // p answered itself (a redirect)
			return
		}
		data.Viewer = v
		s.sitePage(w, r, cmp.Or(data.Status, http.StatusOK), name, data)
	}
}

// sitePage renders template name with d and code; the page is written only
// when the template succeeded, so a failure is a clean 500.
func (s *Server) sitePage(w http.ResponseWriter, r *http.Request, code int, name string, d pageData) {
	d.Now = s.now()
	var buf bytes.Buffer
	if err := sitePages[name].ExecuteTemplate(&buf, "layout.html", d); err != nil {
		s.log.Error("site template failed", "page", name, "path", r.URL.Path, "error", err)
		code, buf = http.StatusInternalServerError, *bytes.NewBufferString("internal error; the server's log says why\n")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	siteHeaders(w)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// siteHeaders forbid the site's pages anything but their own files.
func siteHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
}

// nextOf is where to go after signing in: the page asked for.
func nextOf(r *http.Request) string {
	if r.Method != http.MethodGet {
		return "/"
	}
	return r.URL.RequestURI()
}

// safeNext keeps a redirect on this site: a path, never //host or a URL.
// A browser drops tabs and line breaks from a Location and reads a
// backslash as a slash before resolving it, so a next holding any control
// character or backslash is refused too ("/\t/host" is "//host" to it).
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

type signInData struct {
	Next  string
	Error string
}

func (s *Server) signInForm(w http.ResponseWriter, r *http.Request) {
	v, _ := s.viewerOf(r)
	s.sitePage(w, r, http.StatusOK, "signin", pageData{Title: "Sign in", Viewer: v, Data: signInData{Next: safeNext(r.URL.Query().Get("next"))}})
}

// signIn checks the token as the API does and keeps it in the cookie.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	if !s.readSiteForm(w, r) {
		return
	}
	next := safeNext(r.PostFormValue("next"))
	if !sameOrigin(r) {
		s.sitePage(w, r, http.StatusForbidden, "error", pageData{Title: "Refused", Data: "This form was sent from another site."})
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	tok, ok := s.cfg.API.Token(token)
	if token == "" || !ok {
		s.log.Warn("site sign-in refused: unknown token", "remote", r.RemoteAddr)
		s.sitePage(w, r, http.StatusUnauthorized, "signin", pageData{Title: "Sign in",
			Data: signInData{Next: next, Error: "That is not one of the server's API tokens."}})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: siteCookie, Value: newSession(tok, s.now()), Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil || forwardedHTTPS(r), MaxAge: int(siteSessionTTL / time.Second)})
	s.log.Info("site sign-in", "token", tok.Name, "remote", r.RemoteAddr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signOut forgets the cookie (a POST with the CSRF field).
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if !s.readSiteForm(w, r) {
		return
	}
	v, signedIn := s.viewerOf(r)
	if signedIn && (!sameOrigin(r) || !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(v.CSRF))) {
		s.sitePage(w, r, http.StatusForbidden, "error", pageData{Title: "Refused", Viewer: v, Data: "The form's CSRF value does not match your sign-in."})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: siteCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// Pages.

type homeData struct {
	Failing      []SubscriptionStatus
	Pending      []SubscriptionStatus
	Builds       []maestro.Build
	PullRequests []TrackedPullRequest
}

func (s *Server) homePage(_ http.ResponseWriter, r *http.Request, _ viewer) (string, pageData, error) {
	if _, err := query(r); err != nil {
		return "", pageData{}, err
	}
	var d homeData
	var err error
	if d.Failing, err = callAPI[[]SubscriptionStatus](s.apiFlowSubscriptions, r, url.Values{"state": {"failing"}}, nil); err != nil {
		return "", pageData{}, err
	}
	if d.Pending, err = callAPI[[]SubscriptionStatus](s.apiFlowSubscriptions, r, url.Values{"state": {"pending"}}, nil); err != nil {
		return "", pageData{}, err
	}
	if d.Builds, err = callAPI[[]maestro.Build](s.apiBuilds, r, url.Values{"limit": {"10"}}, nil); err != nil {
		return "", pageData{}, err
	}
	if d.PullRequests, err = callAPI[[]TrackedPullRequest](s.apiPullRequests, r, nil, nil); err != nil {
		return "", pageData{}, err
	}
	return "home", pageData{Title: "Status", Nav: "home", Refresh: siteRefresh, Data: d}, nil
}

func (s *Server) channelsPage(_ http.ResponseWriter, r *http.Request, _ viewer) (string, pageData, error) {
	chs, err := callAPI[[]maestro.Channel](s.apiChannels, r, r.URL.Query(), nil)
	if err != nil {
		return "", pageData{}, err
	}
	return "channels", pageData{Title: "Channels", Nav: "channels", Data: chs}, nil
}

type buildsData struct {
	Channel    *maestro.Channel
	Repository string
	Builds     []maestro.Build
	// Next is the query of the next page, "" on the last.
	Next url.Values
}

// buildsPage lists builds newest first, a page at a time (before=ID), of a
// channel (channelId) and a repository (repository) when given.
func (s *Server) buildsPage(_ http.ResponseWriter, r *http.Request, _ viewer) (string, pageData, error) {
	q, err := query(r, "channelId", "repository", "before")
	if err != nil {
		return "", pageData{}, err
	}
	api := url.Values{"limit": {strconv.Itoa(sitePageSize + 1)}}
	for k, v := range q {
		if v != "" {
			api.Set(k, v)
		}
	}
	d := buildsData{Repository: q["repository"]}
	if d.Builds, err = callAPI[[]maestro.Build](s.apiBuilds, r, api, nil); err != nil {
		return "", pageData{}, err
	}
	title := "Builds"
	if q["channelId"] != "" {
		ch, err := callAPI[maestro.Channel](s.apiChannel, r, nil, map[string]string{"id": q["channelId"]})
		if err != nil {
			return "", pageData{}, err
		}
		d.Channel = &ch
		title = "Builds in " + ch.Name
	}
	if len(d.Builds) > sitePageSize {
		d.Builds = d.Builds[:sitePageSize]
		next := url.Values{"before": {strconv.Itoa(d.Builds[sitePageSize-1].ID)}}
		for _, k := range []string{"channelId", "repository"} {
			if q[k] != "" {
				next.Set(k, q[k])
			}
		}
		d.Next = next
	}
	return "builds", pageData{Title: title, Nav: "channels", Data: d}, nil
}

type buildData struct {
	Build maestro.Build
	Graph *graph.BuildGraph
	// SVG is the graph drawn (sitegraph.go), "" when it is not drawn.
	SVG template.HTML
	// Nodes by id, for the edges' labels; Deps the edges from each node.
	Nodes map[int]graph.Node
	Deps  map[int][]graph.Edge
}

func (s *Server) buildPage(_ http.ResponseWriter, r *http.Request, _ viewer) (string, pageData, error) {
	if _, err := query(r); err != nil {
		return "", pageData{}, err
	}
	id := map[string]string{"id": r.PathValue("id")}
	b, err := callAPI[maestro.Build](s.apiBuild, r, nil, id)
	if err != nil {
		return "", pageData{}, err
	}
	g, err := callAPI[*graph.BuildGraph](s.apiBuildGraph, r, nil, id)
	if err != nil {
		return "", pageData{}, err
	}
	d := buildData{Build: b, Graph: g, Nodes: map[int]graph.Node{}, Deps: map[int][]graph.Edge{}}
	for _, n := range g.Nodes {
		d.Nodes[n.ID] = n
	}
	for _, e := range g.Edges {
		d.Deps[e.From] = append(d.Deps[e.From], e)
	}
	if len(g.Edges) > 0 { // one build alone is not worth a picture
		d.SVG = s.pageSVG(g.Render, len(g.Nodes)+len(g.Edges), fmt.Sprintf("Dependency graph of build %d: %d builds, %d dependencies", b.ID, len(g.Nodes), len(g.Edges)))
	}
	return "build", pageData{Title: fmt.Sprintf("Build %d of %s", b.ID, repoName(b.Repository)), Nav: "channels", Data: d}, nil
}

type subscriptionsData struct {
	Channels      []maestro.Channel
	Filter        map[string]string
	Subscriptions []SubscriptionStatus
	JSON          string // the twin's URL with the same filter
}

// subscriptionsPage lists the subscriptions with their state, filtered by
// channel, source and target as the form asks.
func (s *Server) subscriptionsPage(_ http.ResponseWriter, r *http.Request, _ viewer) (string, pageData, error) {
	q, err := query(r, "channelId", "sourceRepository", "targetRepository", "targetBranch", "state")
	if err != nil {
		return "", pageData{}, err
	}
	api := url.Values{}
	for k, v := range q {
		if v != "" { // an empty field of the form is no filter
			api.Set(k, v)
		}
	}
	d := subscriptionsData{Filter: q, JSON: pageURL("/api/flow/subscriptions", api)}
	if d.Subscriptions, err = callAPI[[]SubscriptionStatus](s.apiFlowSubscriptions, r, api, nil); err != nil {
		return "", pageData{}, err
	}
	if d.Channels, err = callAPI[[]maestro.Channel](s.apiChannels, r, nil, nil); err != nil {
		return "", pageData{}, err
	}
	return "subscriptions", pageData{Title: "Subscriptions", Nav: "subscriptions", Refresh: siteRefresh, Data: d}, nil
}

type subscriptionData struct {
	Status  SubscriptionStatus
	History []maestro.FlowOutcome
}

func (s *Server) subscriptionPage(_ http.ResponseWriter, r *http.Request, _ viewer) (string, pageData, error) {
	if _, err := query(r); err != nil {
		return "", pageData{}, err
	}
	return s.subscriptionView(r, "")
}

// subscriptionView renders subscription {id} with its history and notice.
func (s *Server) subscriptionView(r *http.Request, notice string) (string, pageData, error) {
	id := r.PathValue("id")
	sub, err := callAPI[subscriptionWithState](s.apiSubscription, r, nil, map[string]string{"id": id})
	if err != nil {
		return "", pageData{}, err
	}
	// Its row of the list, for the channel's name and the open pull request.
	rows, err := callAPI[[]SubscriptionStatus](s.apiFlowSubscriptions, r, url.Values{"channelId": {strconv.Itoa(sub.ChannelID)},
		"sourceRepository": {sub.SourceRepository}, "targetRepository": {sub.TargetRepository}, "targetBranch": {sub.TargetBranch}}, nil)
	if err != nil {
		return "", pageData{}, err
	}
	d := subscriptionData{Status: SubscriptionStatus{Subscription: sub.Subscription, FlowState: sub.FlowState}}
	for _, row := range rows {
		if row.ID == sub.ID {
			d.Status = row
		}
	}
	if d.History, err = callAPI[[]maestro.FlowOutcome](s.apiHistory, r, url.Values{"subscriptionId": {sub.ID}}, nil); err != nil {
		return "", pageData{}, err
	}
	// Newest first on the page.
	for i, j := 0, len(d.History)-1; i < j; i, j = i+1, j-1 {
		d.History[i], d.History[j] = d.History[j], d.History[i]
	}
	title := fmt.Sprintf("%s → %s (%s)", repoName(sub.SourceRepository), repoName(sub.TargetRepository), sub.TargetBranch)
	return "subscription", pageData{Title: title, Nav: "subscriptions", Notice: notice, Data: d}, nil
}

// triggerPage flows the newest build of the subscription's channel through
// it now (POST /api/subscriptions/{id}/trigger with no body) and shows the
// subscription with the outcome.
func (s *Server) triggerPage(_ http.ResponseWriter, r *http.Request, v viewer) (string, pageData, error) {
	out, err := callAPI[maestro.FlowOutcome](s.apiTrigger, r, nil, map[string]string{"id": r.PathValue("id")})
	if code := statusOf(err); err != nil && code == http.StatusInternalServerError {
		// The flow ran and failed: the API answers 500 (the cause to
		// the log); the page shows the outcome the flow recorded.
		s.log.Error("site trigger failed", "subscription", r.PathValue("id"), "token", v.Name, "error", err)
		name, d, verr := s.subscriptionView(r, "The trigger failed: the history below has what the flow recorded, and the server's log the cause.")
		d.Status = code
		return name, d, verr
	} else if err != nil {
		return "", pageData{}, err
	}
	s.log.Info("site trigger", "subscription", out.SubscriptionID, "build", out.BuildID, "result", out.Result, "token", v.Name)
	notice := fmt.Sprintf("Triggered with build %d: %s.", out.BuildID, out.Result)
	if out.Message != "" {
		notice += " " + out.Message
	}
	return s.subscriptionView(r, notice)
}

type flowData struct {
	Channels []maestro.Channel
	Channel  int
	Graph    *graph.FlowGraph
	SVG      template.HTML // the graph drawn, "" when it is not
}

func (s *Server) flowPage(_ http.ResponseWriter, r *http.Request, _ viewer) (string, pageData, error) {
	q, err := query(r, "channelId")
	if err != nil {
		return "", pageData{}, err
	}
	api := url.Values{}
	if q["channelId"] != "" {
		api.Set("channelId", q["channelId"])
	}
	d := flowData{}
	d.Channel, _ = strconv.Atoi(q["channelId"])
	if d.Graph, err = callAPI[*graph.FlowGraph](s.apiFlowGraph, r, api, nil); err != nil {
		return "", pageData{}, err
	}
	if d.Channels, err = callAPI[[]maestro.Channel](s.apiChannels, r, nil, nil); err != nil {
		return "", pageData{}, err
	}
	if len(d.Graph.Flows) > 0 {
		d.SVG = s.pageSVG(d.Graph.Render, len(d.Graph.Repositories)+len(d.Graph.Flows),
			fmt.Sprintf("Flow graph: %d repositories, %d subscriptions", len(d.Graph.Repositories), len(d.Graph.Flows)))
	}
	return "flow", pageData{Title: "Flow graph", Nav: "flow", Data: d}, nil
}

func (s *Server) healthPage(_ http.ResponseWriter, r *http.Request, _ viewer) (string, pageData, error) {
	problems, err := callAPI[[]flow.Problem](s.apiHealth, r, r.URL.Query(), nil)
	if err != nil {
		return "", pageData{}, err
	}
	return "health", pageData{Title: "Flow health", Nav: "health", Data: problems}, nil
}

// Template helpers.

func siteTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// siteAgo says how long before now t was (or, in the future, "in …").
func siteAgo(now, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if d := now.Sub(t); d >= 0 {
		return roughDuration(d) + " ago"
	}
	return "in " + roughDuration(t.Sub(now))
}

func roughDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func shortCommit(c string) string {
	if len(c) > 10 {
		return c[:10]
	}
	return c
}

// repoName is the last two segments of a repository URL (owner/name).
func repoName(repo string) string {
	u, err := url.Parse(repo)
	if err != nil || u.Host == "" {
		return repo
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) >= 2 {
		return parts[len(parts)-2] + "/" + parts[len(parts)-1]
	}
	return strings.Trim(u.Path, "/")
}

// commitURL links a commit on GitHub or Azure DevOps; "" for other hosts.
func commitURL(repo, commit string) string {
	u, err := url.Parse(repo)
	if err != nil || commit == "" || u.Scheme != "https" {
		return ""
	}
	switch {
	case strings.EqualFold(u.Host, "github.com"):
		return strings.TrimSuffix(repo, "/") + "/commit/" + url.PathEscape(commit)
	case strings.EqualFold(u.Host, "dev.azure.com") || strings.HasSuffix(strings.ToLower(u.Host), ".visualstudio.com"):
		return strings.TrimSuffix(repo, "/") + "/commit/" + url.PathEscape(commit)
	}
	return ""
}

// azdoBuildURL links the build's Azure DevOps run; "" when not recorded.
func azdoBuildURL(b maestro.Build) string {
	if b.AzureDevOpsAccount == "" || b.AzureDevOpsProject == "" || b.AzureDevOpsBuildID == 0 {
		return ""
	}
	return fmt.Sprintf("https://dev.azure.com/%s/%s/_build/results?buildId=%d",
		url.PathEscape(b.AzureDevOpsAccount), url.PathEscape(b.AzureDevOpsProject), b.AzureDevOpsBuildID)
}

// pageURL is path with the query q ("" values left out).
func pageURL(path string, q url.Values) string {
	clean := url.Values{}
	for k, vs := range q {
		for _, v := range vs {
			if v != "" {
				clean.Add(k, v)
			}
		}
	}
	if len(clean) == 0 {
		return path
	}
	return path + "?" + clean.Encode()
}
