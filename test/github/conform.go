package githubdouble

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/maestroplusplus/maestro/test/github/ghspec"
)

// The double holds every API exchange to GitHub's REST description
// (@octokit/openapi, loaded once per test binary by package ghspec):
//
//   - the wrapper of every route (repoRoute, and the installation-token
//     route) checks the request body against the operation's requestBody
//     schema before the handler runs, and answers a body that breaks it
//     with GitHub's 422 "Invalid request." and a detail line;
//   - serve checks every response it sent against the operation's schema
//     for its status, and the status against those the operation lists or
//     the allow-list below, and fails the test that caused a mismatch.
//
// TestConformance drives every route and reports from the same functions
// and the same allow-list.

// allowance is a status code, route or request form GitHub uses although
// the description leaves it out: why GitHub answers so, and the page that
// documents it.
type allowance struct{ Reason, Link string }

// allowAll are statuses any operation may answer (the description lists
// them only on some), by status code. Their bodies are GitHub's basic-error.
var allowAll = map[int]allowance{
	http.StatusUnauthorized: {"every endpoint answers 401 \"Requires authentication\" without a token and 401 \"Bad credentials\" with a wrong one",
		"https://docs.github.com/rest/authentication/authenticating-to-the-rest-api#failed-login-limit"},
	http.StatusForbidden: {"a spent primary budget (\"API rate limit exceeded for user ID N.\"), a secondary rate limit (with Retry-After) or a token without the permission (\"Resource not accessible by integration\") gets 403 on every endpoint",
		"https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api#rate-limit-errors"},
	http.StatusBadRequest: {"a body that is not JSON gets 400 \"Problems parsing JSON\" on every endpoint that reads one",
		"https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api#problems-parsing-json"},
	http.StatusNotFound: {"a repository, pull request, comment, check run, hook or branch in the path that does not exist (or that the token may not see) gets 404 \"Not Found\" on every endpoint; the description lists 404 only on some",
		"https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api#404-not-found-for-an-existing-resource"},
}

// allowList are statuses of single operations, by "METHOD template status".
var allowList = map[string]allowance{
	"POST /repos/{owner}/{repo}/check-runs 403": {"a token that is not a GitHub App's installation token gets 403 \"You must authenticate via a GitHub App.\"; the page says OAuth apps and personal access tokens (classic) cannot use the endpoint",
		"https://docs.github.com/rest/checks/runs#create-a-check-run"},
	"POST /repos/{owner}/{repo}/check-runs 422": {"a head_sha the repository has no commit for gets 422 \"No commit found for SHA: <sha>\", GitHub's answer wherever a commit is named by SHA (as for creating a status, below); the description lists only 201",
		"https://docs.github.com/rest/checks/runs#create-a-check-run"},
	"POST /repos/{owner}/{repo}/statuses/{sha} 422": {"a SHA the repository has no commit for gets 422 {\"message\": \"No commit found for SHA: <sha>\", \"documentation_url\": \".../repos#create-a-commit-status\"}, as clients report it (kubernetes/test-infra#21987, https://github.com/kubernetes/test-infra/issues/21987), and a description over 140 characters gets 422 \"Validation Failed\" with \"description is too long (maximum is 140 characters)\" (sclorg/testing-farm-as-github-action#187, https://github.com/sclorg/testing-farm-as-github-action/pull/187); the description lists only 201",
		"https://docs.github.com/rest/commits/statuses#create-a-commit-status"},
	"GET /repos/{owner}/{repo}/commits/{ref}/check-runs 422": {"a ref that names no commit gets 422 \"No commit found for SHA: <ref>\", GitHub's answer wherever a commit is looked up by SHA (as for creating a status); the description lists only 200",
		"https://docs.github.com/rest/checks/runs#list-check-runs-for-a-git-reference"},
}

// invalidRequestAllowed allows 422 "Invalid request." on every operation
// that reads a body, also where the description lists no 422: it is
// GitHub's answer to a body that breaks the operation's schema.
var invalidRequestAllowed = allowance{"a body that breaks the operation's schema gets 422 \"Invalid request.\" on every endpoint",
	"https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api#invalid-request"}

// allowedStatus returns the allowance for an operation ("METHOD template"),
// a status the operation does not list and the response body.
func allowedStatus(op string, status int, body []byte) (allowance, bool) {
	if a, ok := allowList[op+" "+strconv.Itoa(status)]; ok {
		return a, true
	}
	if status == http.StatusUnprocessableEntity && bytes.Contains(body, []byte(`"message":"Invalid request.`)) {
		return invalidRequestAllowed, true
	}
	a, ok := allowAll[status]
	return a, ok
}

// undocumentedRoute is a route GitHub serves that the description does not
// list, with the schema its success bodies are checked against (error
// bodies are basic-error).
type undocumentedRoute struct {
	allowance
	Schema string
}

// undocumented are such routes, by ServeMux pattern.
var undocumented = map[string]undocumentedRoute{
	"GET /repos/{owner}/{repo}/git/refs/{ref...}": {
		allowance{"the legacy form of Get a reference, which GitHub still answers (one ref, or an array of the refs under a prefix); the description lists only /git/ref/{ref} and /git/matching-refs/{ref}",
			"https://docs.github.com/rest/git/refs#get-a-reference"},
		"#/components/schemas/git-ref",
	},
}

// notREST are the patterns outside the REST description; their exchanges
// are checked elsewhere.
var notREST = map[string]string{
	"POST /graphql": "GitHub's GraphQL API: the double validates every document against @octokit/graphql-schema (TestGraphQLValidation)",
}

// requestForm is a form of request body GitHub's page for an operation
// names although its requestBody schema leaves it out; normal rewrites the
// decoded body into the described form, which is then validated.
type requestForm struct {
	allowance
	normal func(any) any
}

// requestForms are such forms, by operation ("METHOD template").
var requestForms = map[string]requestForm{
	"POST /repos/{owner}/{repo}/issues/{issue_number}/labels": {allowance{"GitHub also takes the labels as a bare array of names (the form go-github sends), as the description of the labels property says beside the schema that lists only the object",
		"https://docs.github.com/rest/issues/labels#add-labels-to-an-issue"}, wrapLabels},
	"PUT /repos/{owner}/{repo}/issues/{issue_number}/labels": {allowance{"GitHub also takes the labels as a bare array of names (the form go-github sends), as the description of the labels property says beside the schema that lists only the object",
		"https://docs.github.com/rest/issues/labels#set-labels-for-an-issue"}, wrapLabels},
	"PUT /repos/{owner}/{repo}/branches/{branch}/protection": {allowance{"GitHub takes required_status_checks with checks and without the deprecated contexts (go-github sends one of the two, never both); the page marks contexts deprecated in favour of checks, while the schema still requires it",
		"https://docs.github.com/rest/branches/branch-protection#update-branch-protection"}, checksWithoutContexts},
}

// wrapLabels turns a bare array of labels into {"labels": [...]}.
func wrapLabels(v any) any {
	if list, ok := v.([]any); ok {
		return map[string]any{"labels": list}
	}
	return v
}

// checksWithoutContexts gives required_status_checks with checks and no
// contexts an empty contexts, which GitHub's schema requires.
func checksWithoutContexts(v any) any {
	obj, ok := v.(map[string]any)
	if !ok {
		return v
	}
	rsc, ok := obj["required_status_checks"].(map[string]any)
	if !ok {
		return v
	}
	_, checks := rsc["checks"]
	if _, contexts := rsc["contexts"]; !checks || contexts {
		return v
	}
	out := maps.Clone(obj)
	inner := maps.Clone(rsc)
	inner["contexts"] = []any{}
	out["required_status_checks"] = inner
	return out
}

// loadRESTSpec loads GitHub's REST description for the server, once per
// test binary. Under CI=true a missing description fails the test;
// elsewhere the server runs without validating and says so in the log.
func loadRESTSpec(tb testing.TB) *ghspec.Document {
	tb.Helper()
	doc, err := ghspec.Find(ghspec.RESTFile)
	switch {
	case err == nil:
		return doc
	case errors.Is(err, os.ErrNotExist) && os.Getenv("CI") != "true":
		tb.Logf("github double: VALIDATION OFF: requests and responses are not checked against GitHub's REST description: %v", err)
		return nil
	default:
		tb.Fatalf("github double: GitHub's REST description: %v", err)
		return nil
	}
}

// checkRequest validates an API request body against its operation's
// requestBody schema. path is the escaped URL path without the API
// prefix. It returns GitHub's 422 "Invalid request." for a body that
// breaks the schema, or nil (also when the server does not validate, or the
// request is not a REST operation's).
func (s *Server) checkRequest(method, path string, raw []byte) *apiError {
	if s.spec == nil {
		return nil
	}
	op, detail, err := requestProblem(s.spec, method, path, raw)
	if err != nil || detail == "" {
		return nil
	}
	return invalidRequest(detail, op.DocsURL)
}

// requestProblem checks a request body and words its first problem as
// GitHub's detail line ("\"head\" wasn't supplied.", "For
// 'properties/title', 5 is not a string."); "" when the body is valid. It
// answers an error when no operation serves the request, and leaves bodies
// that are not JSON to the handlers (400 "Problems parsing JSON").
func requestProblem(doc *ghspec.Document, method, path string, raw []byte) (*ghspec.Operation, string, error) {
	op, err := doc.Match(method, path)
	if err != nil {
		return nil, "", err
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		trimmed = []byte("{}") // GitHub reads no body as an empty object
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if dec.Decode(&v) != nil || dec.More() {
		return op, "", nil
	}
	if v == nil {
		// go-github sends null for nil options; GitHub reads it as no body.
		if op.CheckRequest(nil) != nil {
			return op, "For 'links/0/schema', nil is not an object.", nil
		}
		return op, "", nil
	}
	if f, ok := requestForms[op.String()]; ok {
		v = f.normal(v)
		trimmed, _ = json.Marshal(v)
	}
	var se *ghspec.Error
	if err := op.CheckRequest(trimmed); errors.As(err, &se) {
		// GitHub checks the formats of dates in requests ("is not a
		// date-time"), but not of URLs and the like: a hook's malformed
		// config.url gets the hook's own 422 Validation Failed.
		issues := slices.DeleteFunc(slices.Clone(se.Issues), func(is ghspec.Issue) bool {
			f, ok := is.Kind.(*kind.Format)
			return ok && f.Want != "date-time"
		})
		if len(issues) == 0 {
			return op, "", nil
		}
		return op, detail(issues, v), nil
	} else if err != nil {
		return op, "", err
	}
	return op, "", nil
}

// detail words the first problem the way GitHub's schema errors do. Issues
// of the "null" half of a nullable schema are passed over for the other.
func detail(issues []ghspec.Issue, body any) string {
	pick := issues[0]
	for _, is := range issues {
		if t, ok := is.Kind.(*kind.Type); ok && slices.Equal(t.Want, []string{"null"}) {
			continue
		}
		pick = is
		break
	}
	value := at(body, pick.Pointer)
	where := "links/0/schema"
	if pick.Pointer != "" {
		where = "properties/" + pick.Pointer[strings.LastIndex(pick.Pointer, "/")+1:]
	}
	switch k := pick.Kind.(type) {
	case *kind.Required:
		missing := slices.Clone(k.Missing)
		sort.Strings(missing)
		for i, m := range missing {
			missing[i] = strconv.Quote(m)
		}
		verb := "wasn't"
		if len(missing) > 1 {
			verb = "weren't"
		}
		return fmt.Sprintf("%s %s supplied.", strings.Join(missing, " and "), verb)
	case *kind.Type:
		want := slices.DeleteFunc(slices.Clone(k.Want), func(t string) bool { return t == "null" })
		if len(want) == 0 {
			want = k.Want
		}
		return fmt.Sprintf("For '%s', %s is not %s %s.", where, describe(value), articleFor(want[0]), want[0])
	case *kind.Format:
		return fmt.Sprintf("For '%s', %s is not %s %s.", where, describe(value), articleFor(k.Want), k.Want)
	case *kind.Enum:
		quoted := make([]string, 0, len(k.Want))
		for _, w := range k.Want {
			if w != nil {
				quoted = append(quoted, describe(w))
			}
		}
		return fmt.Sprintf("For '%s', %s is not one of [%s].", where, describe(value), strings.Join(quoted, ", "))
	default:
		return fmt.Sprintf("For '%s', %s is not valid: %s.", where, describe(value), pick.Message)
	}
}

func articleFor(typ string) string {
	if strings.ContainsAny(typ[:1], "aeiou") {
		return "an"
	}
	return "a"
}

// at returns the value at a JSON pointer into v, or nil.
func at(v any, pointer string) any {
	if pointer == "" {
		return v
	}
	for _, tok := range strings.Split(pointer[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch x := v.(type) {
		case map[string]any:
			v = x[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// describe renders a JSON value the way GitHub's schema errors quote it.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case string:
		return strconv.Quote(x)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	default:
		out, _ := json.Marshal(x)
		return string(out)
	}
}

// verdict is what checkResponse found for one response.
type verdict struct {
	Route  string // "METHOD template" of the description, or the ServeMux pattern of an undocumented route; "" when not checked
	Strict bool   // the status is listed and the body matches its schema
	Err    error  // nil when the exchange conforms (the status listed or allowed, the body valid)
}

// checkResponse checks one response of the REST API. path is the escaped
// URL path without the API prefix; pattern is the ServeMux pattern that
// served it ("" when the double serves no such route, whose 404 body must
// still be GitHub's basic-error).
func checkResponse(doc *ghspec.Document, method, path, pattern string, status int, header http.Header, body []byte) verdict {
	basicError := func() error { return doc.Check("#/components/schemas/basic-error", body) }
	if _, ok := notREST[pattern]; ok {
		return verdict{}
	}
	if u, ok := undocumented[pattern]; ok {
		v := verdict{Route: pattern}
		switch {
		case status == http.StatusOK && bytes.HasPrefix(bytes.TrimSpace(body), []byte("[")):
			v.Err = checkArray(doc, u.Schema, body)
		case status == http.StatusOK:
			v.Err = doc.Check(u.Schema, body)
		default:
			v.Err = basicError()
		}
		return v
	}
	op, err := doc.Match(method, path)
	if pattern == "" || err != nil {
		// A route the double does not serve: GitHub's 404 body.
		if e := basicError(); e != nil {
			return verdict{Err: fmt.Errorf("%s %s (not served) -> %d: %w", method, path, status, e)}
		}
		return verdict{}
	}
	v := verdict{Route: op.String(), Strict: true}
	err = op.CheckResponse(status, header, body)
	if errors.Is(err, ghspec.ErrUnlistedStatus) {
		v.Strict = false
		if a, ok := allowedStatus(op.String(), status, body); ok {
			if err = basicError(); err != nil {
				err = fmt.Errorf("%d allowed (%s), but its body: %w", status, a.Link, err)
			}
		}
	}
	if err != nil {
		v.Strict, v.Err = false, err
	}
	return v
}

// checkArray checks each element of a JSON array against a schema.
func checkArray(doc *ghspec.Document, schema string, body []byte) error {
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		return err
	}
	for i, item := range items {
		if err := doc.Check(schema, item); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
	}
	return nil
}
