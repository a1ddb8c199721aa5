package githubdouble

import (
	"maps"
	"net/http"
	"slices"

	"github.com/maestroplusplus/maestro/test/github/ghspec"
)

// AccessTokensRoute is the route serveAccessToken answers outside the
// route table.
const AccessTokensRoute = accessTokensRoute

// RoutePatterns returns the ServeMux patterns of the route table, sorted,
// for the conformance test.
func RoutePatterns() []string {
	return slices.Sorted(maps.Keys(routeTable()))
}

// Verdict is what the double's response check found for one response.
type Verdict = verdict

// CheckResponse is the check the server makes of every API response it
// sends (conform.go), for the conformance report.
func CheckResponse(doc *ghspec.Document, method, path, pattern string, status int, header http.Header, body []byte) Verdict {
	return checkResponse(doc, method, path, pattern, status, header, body)
}

// RequestProblem is the check the route wrapper makes of every request
// body: GitHub's detail line for its first problem, "" for a valid body.
func RequestProblem(doc *ghspec.Document, method, path string, body []byte) (string, error) {
	_, detail, err := requestProblem(doc, method, path, body)
	return detail, err
}

// Undocumented reports whether a ServeMux pattern is a route GitHub serves
// that its description leaves out.
func Undocumented(pattern string) bool { _, ok := undocumented[pattern]; return ok }

// NotREST says what checks a pattern outside the REST description, or "".
func NotREST(pattern string) string { return notREST[pattern] }

// RequestForm reports whether the double takes a request body form the
// description leaves out for an operation ("METHOD template").
func RequestForm(op string) bool { _, ok := requestForms[op]; return ok }
