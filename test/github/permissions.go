package githubdouble

import (
	"net/http"
	"strings"
)

// Token permissions, as GitHub Apps' installation tokens and fine-grained
// personal access tokens carry them
// (https://docs.github.com/rest/authentication/permissions-required-for-github-apps):
// each REST operation needs one repository permission at read (GET) or
// write (anything else) level, and a token without it gets 403 "Resource
// not accessible by integration" (an installation token) or "Resource not
// accessible by personal access token". Every token may read metadata.
// Tokens without a permission set (the default) may do everything.

// permissionLevels are the levels a permission can be granted at.
var permissionLevels = map[string]int{"read": 1, "write": 2}

// permissionNames are the repository permissions the double's routes need.
var permissionNames = []string{"administration", "checks", "contents", "issues", "metadata", "pull_requests", "repository_hooks", "statuses"}

// SetPermissions restricts what token may do to perms, a map from GitHub's
// repository permission names (administration, checks, contents, issues,
// metadata, pull_requests, repository_hooks, statuses) to "read" or
// "write", as an installation token's permissions read. A request the token
// lacks the permission for answers 403 "Resource not accessible by
// integration" (by personal access token, for a person's token); the
// GraphQL auto-merge mutations need pull_requests write. nil lifts the
// restriction.
func (s *Server) SetPermissions(token string, perms map[string]string) {
	s.tb.Helper()
	for name, level := range perms {
		if !contains(permissionNames, name) || permissionLevels[level] == 0 {
			s.tb.Fatalf("github double: permission %q: %q, want one of %v at read or write", name, level, permissionNames)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if perms == nil {
		delete(s.permissions, token)
		return
	}
	cp := map[string]string{}
	for k, v := range perms {
		cp[k] = v
	}
	s.permissions[token] = cp
}

// routePermission returns the permissions that allow a request (any one of
// them) and the level it needs; none for routes outside repositories.
func routePermission(r *http.Request) (names []string, level string) {
	level = "write"
	if r.Method == http.MethodGet {
		level = "read"
	}
	pattern := r.Pattern
	if _, p, ok := strings.Cut(pattern, " "); ok {
		pattern = p
	}
	rest, ok := strings.CutPrefix(pattern, "/repos/{owner}/{repo}")
	if !ok {
		return nil, ""
	}
	switch {
	case rest == "":
		return []string{"metadata"}, level
	case strings.HasPrefix(rest, "/git/"):
		return []string{"contents"}, level
	case strings.HasSuffix(rest, "/merge") && level == "write":
		return []string{"contents"}, level
	case strings.HasPrefix(rest, "/pulls"):
		return []string{"pull_requests"}, level
	case strings.HasPrefix(rest, "/issues/") || strings.HasPrefix(rest, "/labels"):
		// Comments and labels on a pull request are allowed by either permission.
		return []string{"issues", "pull_requests"}, level
	case strings.HasPrefix(rest, "/branches/"):
		return []string{"administration"}, level
	case strings.HasPrefix(rest, "/commits/"):
		if strings.HasSuffix(r.URL.Path, "/check-runs") {
			return []string{"checks"}, level
		}
		return []string{"statuses"}, level
	case strings.HasPrefix(rest, "/check-runs"):
		return []string{"checks"}, level
	case strings.HasPrefix(rest, "/statuses/"):
		return []string{"statuses"}, level
	case strings.HasPrefix(rest, "/hooks"):
		return []string{"repository_hooks"}, level
	}
	return nil, ""
}

// allows reports whether the call's token has one of names at level.
func (c *call) allows(names []string, level string) bool {
	if c.perms == nil {
		return true
	}
	for _, n := range names {
		if n == "metadata" || permissionLevels[c.perms[n]] >= permissionLevels[level] {
			return true
		}
	}
	return false
}

// notAccessible is GitHub's message for a token that lacks a permission.
func (c *call) notAccessible() string {
	if c.user.Bot {
		return "Resource not accessible by integration"
	}
	return "Resource not accessible by personal access token"
}

// permitted checks the route's permission, answering 403 (pointing at doc)
// when the token lacks it.
func (c *call) permitted(doc string) bool {
	names, level := routePermission(c.r)
	if len(names) == 0 || c.allows(names, level) {
		return true
	}
	writeError(c.w, newAPIError(http.StatusForbidden, c.notAccessible(), doc))
	return false
}
