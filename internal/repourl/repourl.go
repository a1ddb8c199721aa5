// Package repourl normalizes repository URLs so that the spellings one
// repository goes by (trailing ".git" or "/", letter case, the old
// {org}.visualstudio.com host of Azure DevOps) compare equal, and derives
// the short keys the registry files repositories under.
package repourl

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/maestroplusplus/maestro/internal/redact"
)

// Normalize returns the canonical form of a repository URL: scheme and host
// lower-cased, no user info, no query or fragment, no trailing ".git" or "/",
// GitHub paths lower-cased (GitHub names are case-insensitive) and
// https://{org}.visualstudio.com/{project}/_git/{repo} rewritten to
// https://dev.azure.com/{org}/{project}/_git/{repo}. Local paths and file://
// URLs are returned cleaned but otherwise as given.
func Normalize(raw string) string {
	s := strings.TrimSpace(raw)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return strings.TrimSuffix(strings.TrimSuffix(s, "/"), ".git")
	}
	host := strings.ToLower(u.Host)
	path := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), ".git")
	if org, ok := strings.CutSuffix(host, ".visualstudio.com"); ok {
		host = "dev.azure.com"
		path = "/" + org + path
		path = strings.Replace(path, "/DefaultCollection/", "/", 1)
	}
	if host == "github.com" {
		path = strings.ToLower(path)
	}
	return strings.ToLower(u.Scheme) + "://" + host + path
}

// Equal reports whether a and b name the same repository.
func Equal(a, b string) bool {
	return strings.EqualFold(Normalize(a), Normalize(b))
}

// Key returns a short, path-safe key for a repository, equal for equal URLs.
func Key(raw string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(Normalize(raw))))
	return hex.EncodeToString(sum[:8])
}

// Validate checks that raw looks like a repository: an http(s) URL with a
// host and a path and no user info (credentials come from the environment,
// never from a stored URL), a file:// URL, or an absolute local path. Its
// errors never repeat a password.
func Validate(raw string) error {
	s := strings.TrimSpace(raw)
	if s == "" {
		return fmt.Errorf("repository URL is empty")
	}
	if strings.HasPrefix(s, "/") {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("repository URL %q: not a URL", redact.String(raw))
	}
	if u.User != nil {
		return fmt.Errorf("repository URL %q: remove the user name and password; credentials come from the environment (GITHUB_TOKEN, MAESTRO_AZDO_TOKEN)", redact.String(s))
	}
	switch u.Scheme {
	case "https", "http":
		if u.Host == "" || strings.Trim(u.Path, "/") == "" {
			return fmt.Errorf("repository URL %q: needs a host and a path, like https://github.com/dotnet/arcade", raw)
		}
	case "file":
		if u.Path == "" {
			return fmt.Errorf("repository URL %q: file URL without a path", raw)
		}
	default:
		return fmt.Errorf("repository URL %q: use https://host/owner/repo, a file:// URL or an absolute path", raw)
	}
	return nil
}

// GitHubOwnerRepo returns "owner", "repo" for a github.com URL.
func GitHubOwnerRepo(raw string) (owner, repo string, ok bool) {
	n := Normalize(raw)
	rest, found := strings.CutPrefix(n, "https://github.com/")
	if !found {
		return "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 2 {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// SameRepository reports whether a and b are one repository: equal URLs, or
// a GitHub repository and its Azure DevOps mirror, which dnceng names
// https://dev.azure.com/{org}/{project}/_git/{owner}-{repo}.
func SameRepository(a, b string) bool {
	if Equal(a, b) {
		return true
	}
	return mirrors(a, b) || mirrors(b, a)
}

// mirrors reports whether azdo is an Azure DevOps mirror of the GitHub repository gh.
func mirrors(gh, azdo string) bool {
	owner, repo, ok := GitHubOwnerRepo(gh)
	if !ok {
		return false
	}
	n := Normalize(azdo)
	rest, found := strings.CutPrefix(n, "https://dev.azure.com/")
	if !found {
		return false
	}
	parts := strings.Split(rest, "/")
	return len(parts) == 4 && parts[2] == "_git" && strings.EqualFold(parts[3], owner+"-"+repo)
}

// PullRequest parses the web URL of a pull request on GitHub (or GitHub
// Enterprise Server), https://{host}/{owner}/{repo}/pull/{number}, or on Azure
// Repos, https://dev.azure.com/{org}/{project}/_git/{repo}/pullrequest/{number}
// (also {org}.visualstudio.com and a server's
// https://{host}/{collection}/{project}/_git/{repo}/pullrequest/{number}).
// It returns the repository's normalized URL and the number. Its errors
// never repeat a password.
func PullRequest(raw string) (repo string, number int, err error) {
	s := strings.TrimSpace(raw)
	bad := func(why string) (string, int, error) {
		return "", 0, fmt.Errorf("%q is not a pull request URL (%s): use https://github.com/{owner}/{repo}/pull/{number} or https://dev.azure.com/{org}/{project}/_git/{repo}/pullrequest/{number} (file://{dir}#pull/{number} on the local platform)", redact.String(s), why)
	}
	u, perr := url.Parse(s)
	if perr == nil && u.Scheme == "file" && u.Host == "" && strings.HasPrefix(u.Fragment, "pull/") && u.RawQuery == "" {
		// A pull request of the local platform: file://{dir}#pull/{number}.
		num, cerr := strconv.Atoi(strings.TrimPrefix(u.Fragment, "pull/"))
		if cerr != nil || num <= 0 || u.Fragment != "pull/"+strconv.Itoa(num) {
			return bad("the number is not a positive integer")
		}
		if !path.IsAbs(u.Path) || path.Clean(u.Path) != strings.TrimSuffix(u.Path, "/") {
			return bad("not an absolute, clean path")
		}
		return Normalize(u.Path), num, nil
	}
	if perr != nil || u.Host == "" {
		return bad("not an absolute URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return bad("not http(s)")
	}
	if u.User != nil {
		return bad("it carries a user name or password")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return bad("it has a query or fragment")
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	n := len(parts)
	if n < 2 {
		return bad("no pull request number")
	}
	num, cerr := strconv.Atoi(parts[n-1])
	if cerr != nil || num <= 0 || parts[n-1] != strconv.Itoa(num) {
		return bad("the number is not a positive integer")
	}
	for _, p := range parts[:n-1] {
		if p == "" || p == "." || p == ".." {
			return bad("an empty or dot path segment")
		}
	}
	base := strings.ToLower(u.Scheme) + "://" + u.Host + "/"
	switch {
	case n == 4 && parts[2] == "pull":
		return Normalize(base + parts[0] + "/" + parts[1]), num, nil
	case n >= 5 && parts[n-2] == "pullrequest" && parts[n-4] == "_git":
		return Normalize(base + strings.Join(parts[:n-2], "/")), num, nil
	}
	return bad("neither …/{owner}/{repo}/pull/{number} nor …/_git/{repo}/pullrequest/{number}")
}
