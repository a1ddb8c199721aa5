package server

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
)

// The REST API under /api/: JSON, with the names the command line prints
// with --output json, over the same registry and flow service calls as the
// commands. openapi.json, embedded below and served at /api/openapi.json,
// describes every route; the tests check the handlers' real answers
// against it.
//
// Every route but the document needs a bearer token (Authorization:
// Bearer TOKEN) whose scope covers it: read for GET, write for the rest;
// a request without a token, or with one the server does not know, is
// 401; a token without the scope 403. With api.anonymousRead, a request
// without any Authorization header may read. Errors are {"message": ...}
// with the status of the error's kind: 400 invalid input, 404 not found,
// 409 conflict, 503 the store (or another service) unavailable, 500
// anything else (its cause is logged, not answered); and 413 for a request
// body over maxAPIBody, 415 for one that is not JSON (jsonBody).
//
// The document's schemas forbid properties they do not name, so a field
// added to a type the API answers (maestro.Build, maestro.Subscription,
// ...) must be added to openapi.json too: TestAPIThroughTheDocument fails
// until it is, naming the property.

//go:embed openapi.json
var openAPIDocument []byte

// maxAPIBody bounds a request body of the API.
const maxAPIBody = 1 << 20

// apiRoute is one route of the API: a method and a ServeMux pattern, the
// scope it needs, and its handler.
type apiRoute struct {
	method, pattern string
	handler         func(*Server) apiHandler
}

// scope is what a route needs: read for GET, write for every other method.
func (a apiRoute) scope() Scope {
	if a.method == http.MethodGet {
		return ScopeRead
	}
	return ScopeWrite
}

// apiTable lists the API's routes; openapi.json describes each.
var apiTable = []apiRoute{
	{"GET", "/api/builds", func(s *Server) apiHandler { return s.apiBuilds }},
	{"GET", "/api/builds/latest", func(s *Server) apiHandler { return s.apiLatestBuild }},
	{"GET", "/api/builds/{id}", func(s *Server) apiHandler { return s.apiBuild }},
	{"GET", "/api/builds/{id}/graph", func(s *Server) apiHandler { return s.apiBuildGraph }},
	{"GET", "/api/speculative/builds", func(s *Server) apiHandler { return s.apiProductBuilds }},
	{"GET", "/api/speculative/builds/{id}", func(s *Server) apiHandler { return s.apiProductBuild }},
	{"GET", "/api/speculative/pull-requests", func(s *Server) apiHandler { return s.apiSpeculativePullRequests }},
	{"GET", "/api/assets", func(s *Server) apiHandler { return s.apiAssets }},
	{"GET", "/api/channels", func(s *Server) apiHandler { return s.apiChannels }},
	{"GET", "/api/channels/{id}", func(s *Server) apiHandler { return s.apiChannel }},
	{"POST", "/api/channels", func(s *Server) apiHandler { return s.apiAddChannel }},
	{"DELETE", "/api/channels/{id}", func(s *Server) apiHandler { return s.apiDeleteChannel }},
	{"GET", "/api/default-channels", func(s *Server) apiHandler { return s.apiDefaultChannels }},
	{"POST", "/api/default-channels", func(s *Server) apiHandler { return s.apiAddDefaultChannel }},
	{"PATCH", "/api/default-channels/{id}", func(s *Server) apiHandler { return s.apiPatchDefaultChannel }},
	{"DELETE", "/api/default-channels/{id}", func(s *Server) apiHandler { return s.apiDeleteDefaultChannel }},
	{"GET", "/api/subscriptions", func(s *Server) apiHandler { return s.apiSubscriptions }},
	{"GET", "/api/subscriptions/{id}", func(s *Server) apiHandler { return s.apiSubscription }},
	{"POST", "/api/subscriptions", func(s *Server) apiHandler { return s.apiAddSubscription }},
	{"PATCH", "/api/subscriptions/{id}", func(s *Server) apiHandler { return s.apiPatchSubscription }},
	{"DELETE", "/api/subscriptions/{id}", func(s *Server) apiHandler { return s.apiDeleteSubscription }},
	{"POST", "/api/subscriptions/{id}/trigger", func(s *Server) apiHandler { return s.apiTrigger }},
	{"GET", "/api/repository-policies", func(s *Server) apiHandler { return s.apiRepositoryPolicies }},
	{"GET", "/api/repository-policy", func(s *Server) apiHandler { return s.apiRepositoryPolicy }},
	{"PUT", "/api/repository-policy", func(s *Server) apiHandler { return s.apiSetRepositoryPolicy }},
	{"DELETE", "/api/repository-policy", func(s *Server) apiHandler { return s.apiDeleteRepositoryPolicy }},
	{"GET", "/api/flow/history", func(s *Server) apiHandler { return s.apiHistory }},
	{"GET", "/api/flow/explain/{buildId}", func(s *Server) apiHandler { return s.apiExplain }},
	{"GET", "/api/flow/health", func(s *Server) apiHandler { return s.apiHealth }},
	{"GET", "/api/flow/subscriptions", func(s *Server) apiHandler { return s.apiFlowSubscriptions }},
	{"GET", "/api/flow/graph", func(s *Server) apiHandler { return s.apiFlowGraph }},
	{"GET", "/api/pull-requests", func(s *Server) apiHandler { return s.apiPullRequests }},
}

// APIRoutes lists the API's routes as "METHOD /api/path", the document's
// own route included (for the tests that hold the document to them).
func APIRoutes() []string {
	out := []string{"GET /api/openapi.json"}
	for _, a := range apiTable {
		out = append(out, a.method+" "+a.pattern)
	}
	return out
}

// apiRoutes adds the API's routes to mux.
func (s *Server) apiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPIDocument)
	})
	for _, a := range apiTable {
		mux.Handle(a.method+" "+a.pattern, s.authorize(a.scope(), a.handler(s)))
	}
	// Anything else under /api/ is a JSON 404, after authentication.
	mux.Handle("/api/", s.authorize(ScopeRead, func(_ *http.Request) (int, any, error) {
		return 0, nil, maestro.Errorf(maestro.KindNotFound, "no such API route; /api/openapi.json lists the routes")
	}))
}

// apiHandler does one API call: it returns the status and the value to
// answer as JSON (nil: no body), or an error that becomes {"message"}.
type apiHandler func(r *http.Request) (int, any, error)

// authorize checks the request's bearer token for scope, then runs h and
// writes its answer. The token is never logged or answered.
func (s *Server) authorize(scope Scope, h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		switch {
		case auth == "" && scope == ScopeRead && s.cfg.API.AnonymousRead:
		case auth == "":
			w.Header().Set("WWW-Authenticate", `Bearer realm="maestro"`)
			message(w, http.StatusUnauthorized, "no Authorization header: send Authorization: Bearer TOKEN with an API token of the server's configuration")
			return
		default:
			scheme, presented, _ := strings.Cut(auth, " ")
			tok, ok := s.cfg.API.Token(strings.TrimSpace(presented))
			if !strings.EqualFold(scheme, "Bearer") || !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="maestro", error="invalid_token"`)
				s.log.Warn("API request refused: unknown token", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
				message(w, http.StatusUnauthorized, "the bearer token is not one of the server's API tokens")
				return
			}
			if !tok.Allows(scope) {
				message(w, http.StatusForbidden, fmt.Sprintf("token %q lacks the %s scope this request needs", tok.Name, scope))
				return
			}
		}
		if err := jsonBody(r); err != nil {
			s.apiError(w, r, err)
			return
		}
		code, v, err := h(r)
		if err != nil {
			s.apiError(w, r, err)
			return
		}
		if v == nil {
			w.WriteHeader(code)
			return
		}
		writeJSON(w, code, v)
	})
}

// apiError answers err as {"message"} with the status of its kind. An
// error of no kind is the server's: its text goes to the log only.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	code := statusOf(err)
	if code == http.StatusInternalServerError {
		s.log.Error("API request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		message(w, code, "internal error; the server's log says why")
		return
	}
	if code == http.StatusServiceUnavailable {
		s.log.Warn("API request failed: unavailable", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	setRetryAfter(w, err)
	message(w, code, err.Error())
}

// statusOf maps an error's kind to an HTTP status, as the command line maps
// it to an exit code (cmdutil.ExitCode).
func statusOf(err error) int {
	if se, ok := errors.AsType[*statusError](err); ok {
		return se.code
	}
	switch maestro.KindOf(err) {
	case maestro.KindInvalid:
		return http.StatusBadRequest
	case maestro.KindNotFound:
		return http.StatusNotFound
	case maestro.KindConflict:
		return http.StatusConflict
	case maestro.KindUnavailable:
		return http.StatusServiceUnavailable
	}
	// Work cut short by the request's bound (requestTimeout), or by the
	// client going away, is unavailable, to try again: not the server's
	// fault (500). The git and HTTP calls it made were stopped with it.
	if errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// statusError is a refusal of the HTTP layer that no error kind names
// (413 for a body over maxAPIBody, 415 for one that is not JSON); its
// message is answered as is.
type statusError struct {
	code int
	msg  string
	// retryAfter, when set, is answered as Retry-After (whole seconds).
	retryAfter time.Duration
}

func (e *statusError) Error() string { return e.msg }

func invalidf(format string, args ...any) error {
	return maestro.Errorf(maestro.KindInvalid, format, args...)
}

// query reads a request's query parameters: only those named in known
// may be given, each at most once.
func query(r *http.Request, known ...string) (map[string]string, error) {
	q := r.URL.Query()
	out := map[string]string{}
	for k, vs := range q {
		if !slices.Contains(known, k) {
			if len(known) == 0 {
				return nil, invalidf("query parameter %q: this route takes none", k)
			}
			return nil, invalidf("query parameter %q: use %s", k, strings.Join(known, ", "))
		}
		if len(vs) > 1 {
			return nil, invalidf("query parameter %q is given %d times; give it once", k, len(vs))
		}
		out[k] = vs[0]
	}
	return out, nil
}

// intParam reads an integer parameter (of the query or the path) that must
// be at least min; "" is def.
func intParam(name, v string, min, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		return 0, invalidf("%s %q: an integer of at least %d", name, v, min)
	}
	return n, nil
}

// maxListLimit bounds a list's limit (GET /api/builds, /api/assets): one
// request cannot make the server read the whole registry. Page with
// before= for more.
const maxListLimit = 1000

// limitParam reads a list's limit: 1 to maxListLimit, "" is def.
func limitParam(v string, def int) (int, error) {
	n, err := intParam("limit", v, 1, def)
	if err != nil {
		return 0, err
	}
	if n > maxListLimit {
		return 0, invalidf("limit %d: at most %d (GET /api/builds pages with before=)", n, maxListLimit)
	}
	return n, nil
}

// pathID reads the integer path parameter name (at least 1).
func pathID(r *http.Request, name string) (int, error) {
	v := r.PathValue(name)
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, invalidf("%s %q in the path: a positive integer", name, v)
	}
	return n, nil
}

// durationParam reads a duration parameter (Go syntax, e.g. 168h) that must
// be positive; "" is def.
func durationParam(name, v string, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, invalidf("%s %q: a positive duration such as 168h or 30m", name, v)
	}
	return d, nil
}

// jsonBody refuses, with 415, a request body that is not JSON: a POST,
// PUT, PATCH or DELETE that sends a body (a Content-Length other than 0,
// or a chunked one) must say Content-Type: application/json, with
// parameters or not (application/json; charset=utf-8), or
// application/merge-patch+json for PATCH. A body without a Content-Type is
// refused too, as the site's forms refuse one (siteform.go): curl -d, for
// one, sends application/x-www-form-urlencoded, which is no JSON. A request
// without a body (a trigger with no options, a DELETE) needs none.
func jsonBody(r *http.Request) error {
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.ContentLength == 0 {
		return nil
	}
	if hasMediaType(r, "application/json") || r.Method == http.MethodPatch && hasMediaType(r, "application/merge-patch+json") {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	what := fmt.Sprintf("Content-Type %q", ct)
	if ct == "" {
		what = "no Content-Type"
	}
	return &statusError{code: http.StatusUnsupportedMediaType,
		msg: what + ": send the request body as application/json (application/merge-patch+json also for PATCH)"}
}

// readBody reads a JSON request body (at most maxAPIBody; authorize
// checked its type) into raw bytes; an empty body is allowed only when
// optional.
func readBody(r *http.Request, optional bool) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxAPIBody+1))
	if err != nil {
		return nil, invalidf("read the request body: %v", err)
	}
	if len(data) > maxAPIBody {
		return nil, &statusError{code: http.StatusRequestEntityTooLarge,
			msg: fmt.Sprintf("request body larger than %d bytes (1 MB): send a smaller one", maxAPIBody)}
	}
	if len(bytes.TrimSpace(data)) == 0 && !optional {
		return nil, invalidf("empty request body: send a JSON object")
	}
	return data, nil
}

// decodeStrict decodes one JSON value from data into v: unknown fields and
// trailing data are bad input, as a misspelt field must not be ignored.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalidf("request body: %v", err)
	}
	if dec.More() {
		return invalidf("request body: more than one JSON value")
	}
	return nil
}
