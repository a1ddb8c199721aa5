package githubdouble

import (
	"maps"
	"slices"
)

// AccessTokensRoute is the route serveAccessToken answers outside the
// route table.
const AccessTokensRoute = "POST /app/installations/{installation_id}/access_tokens"

// RoutePatterns returns the ServeMux patterns of the route table, sorted,
// for the conformance test.
func RoutePatterns() []string {
	return slices.Sorted(maps.Keys(routeTable()))
}
