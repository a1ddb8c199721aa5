package wire

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/redact"
)

// Environment variables that configure which hosts receive credentials.
const (
	// EnvGitHubURL is the web URL of a GitHub Enterprise Server (default https://github.com).
	EnvGitHubURL = "MAESTRO_GITHUB_URL"
	// EnvAzdoServerURLs lists Azure DevOps Server collection URLs
	// (https://tfs.example.com/tfs/DefaultCollection), separated by commas or spaces.
	EnvAzdoServerURLs = "MAESTRO_AZDO_SERVER_URLS"
	// EnvAllowHTTPLoopback set to "true" lets tokens go over plain http to
	// 127.0.0.1, ::1 or localhost — for tests against local doubles only.
	EnvAllowHTTPLoopback = "MAESTRO_ALLOW_HTTP_LOOPBACK"
)

// HostKind is the kind of git host a repository URL belongs to.
type HostKind int

// Host kinds.
const (
	HostUnknown HostKind = iota
	HostGitHub
	HostAzureDevOps
)

// Hosts says which configured host serves a URL. A token is only ever sent
// to a URL it recognises, and only over https (plain http to a loopback
// address only when AllowHTTPLoopback is set).
type Hosts struct {
	// GitHub is the web URL of github.com or of a GitHub Enterprise Server.
	GitHub *url.URL
	// AzureDevOpsServers are the collection URLs of Azure DevOps Servers.
	AzureDevOpsServers []*url.URL
	AllowHTTPLoopback  bool
}

// ParseHosts reads the host configuration from the environment.
func ParseHosts(getenv func(string) string) (Hosts, error) {
	h := Hosts{AllowHTTPLoopback: strings.EqualFold(strings.TrimSpace(getenv(EnvAllowHTTPLoopback)), "true")}
	gh := strings.TrimSpace(getenv(EnvGitHubURL))
	if gh == "" {
		gh = "https://github.com"
	}
	u, err := h.parseBase(EnvGitHubURL, gh)
	if err != nil {
		return h, err
	}
	h.GitHub = u
	for _, raw := range strings.FieldsFunc(getenv(EnvAzdoServerURLs), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		u, err := h.parseBase(EnvAzdoServerURLs, raw)
		if err != nil {
			return h, err
		}
		h.AzureDevOpsServers = append(h.AzureDevOpsServers, u)
	}
	return h, nil
}

// parseBase reads a configured base URL: https (or loopback http when
// allowed), no user info, query or fragment.
func (h Hosts) parseBase(name, raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(strings.TrimSpace(raw), "/"))
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, maestro.Errorf(maestro.KindInvalid, "%s: %q is not a base URL like https://host[/path] (no user name, password, query or fragment)", name, redact.String(raw))
	}
	if err := h.transport(u); err != nil {
		return nil, maestro.Errorf(maestro.KindInvalid, "%s: %v", name, err)
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	return u, nil
}

// transport checks that credentials may travel to u: https, or http to a
// loopback address when AllowHTTPLoopback is set.
func (h Hosts) transport(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if h.AllowHTTPLoopback && isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%s is plain http: credentials go only over https (%s=true allows http to 127.0.0.1/::1/localhost, for tests)", redact.String(u.String()), EnvAllowHTTPLoopback)
	}
	return fmt.Errorf("%s: use an https URL", redact.String(u.String()))
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Repository says which host serves a repository URL and, for Azure
// DevOps, the organization (collection) URL that tokens and API calls go
// to. A URL that no configured host serves, or that would carry a token
// over plain http, is an error of kind invalid.
func (h Hosts) Repository(raw string) (kind HostKind, org string, err error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return HostUnknown, "", maestro.Errorf(maestro.KindInvalid, "repository %q is not an https URL", redact.String(raw))
	}
	if u.User != nil {
		return HostUnknown, "", maestro.Errorf(maestro.KindInvalid, "repository %s: remove the user name and password from the URL; credentials come from the environment", redact.String(u.String()))
	}
	if err := h.transport(u); err != nil {
		return HostUnknown, "", maestro.Errorf(maestro.KindInvalid, "repository %s: %v", redact.String(raw), err)
	}
	if rest, ok := under(u, h.GitHub); ok && len(segments(rest)) == 2 {
		return HostGitHub, "", nil
	}
	if org, ok := h.azureDevOps(u, true); ok {
		return HostAzureDevOps, org, nil
	}
	return HostUnknown, "", maestro.Errorf(maestro.KindInvalid, "repository %s: no configured host serves it; pull requests go to local repositories (an absolute path or file:// URL), GitHub (%s/OWNER/REPO), Azure Repos (https://dev.azure.com/ORG/PROJECT/_git/REPO, https://ORG.visualstudio.com/PROJECT/_git/REPO) and the Azure DevOps Servers in %s; set %s to name an Azure DevOps Server collection, or %s for GitHub Enterprise Server", redact.String(raw), h.GitHub, EnvAzdoServerURLs, EnvAzdoServerURLs, EnvGitHubURL)
}

// Organization checks that an Azure DevOps organization (or collection) URL,
// such as an update pipeline's, belongs to a configured Azure DevOps host
// and returns it canonical.
func (h Hosts) Organization(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSuffix(strings.TrimSpace(raw), "/"))
	if err != nil || u.Host == "" || u.User != nil {
		return "", maestro.Errorf(maestro.KindInvalid, "Azure DevOps organization %q is not an https URL without user info", redact.String(raw))
	}
	if err := h.transport(u); err != nil {
		return "", maestro.Errorf(maestro.KindInvalid, "Azure DevOps organization %s: %v", redact.String(raw), err)
	}
	if org, ok := h.azureDevOps(u, false); ok {
		return org, nil
	}
	return "", maestro.Errorf(maestro.KindInvalid, "Azure DevOps organization %s: not dev.azure.com/ORG, ORG.visualstudio.com or an Azure DevOps Server listed in %s; set %s to name an Azure DevOps Server collection", redact.String(raw), EnvAzdoServerURLs, EnvAzdoServerURLs)
}

// azureDevOps recognises dev.azure.com/{org}, {org}.visualstudio.com and
// the configured servers' collections. With repo, the rest of the path must
// be {project}/_git/{name}; without, nothing may follow the organization.
func (h Hosts) azureDevOps(u *url.URL, repo bool) (string, bool) {
	host := strings.ToLower(u.Host)
	var org string
	var rest []string
	switch {
	case u.Scheme == "https" && host == "dev.azure.com":
		segs := segments(u.Path)
		if len(segs) == 0 {
			return "", false
		}
		org, rest = "https://dev.azure.com/"+segs[0], segs[1:]
	case u.Scheme == "https" && strings.HasSuffix(host, ".visualstudio.com") && !strings.Contains(strings.TrimSuffix(host, ".visualstudio.com"), "."):
		org, rest = "https://"+host, segments(u.Path)
		if len(rest) > 0 && strings.EqualFold(rest[0], "DefaultCollection") {
			rest = rest[1:]
		}
	default:
		for _, s := range h.AzureDevOpsServers {
			if r, ok := under(u, s); ok {
				org, rest = s.String(), segments(r)
				break
			}
		}
		if org == "" {
			return "", false
		}
	}
	if !repo {
		return org, len(rest) == 0
	}
	return org, len(rest) == 3 && rest[1] == "_git" && rest[0] != "" && rest[2] != ""
}

// under reports whether u lies at or below base (same scheme and host, path
// prefix on a segment boundary) and returns the rest of the path.
func under(u, base *url.URL) (string, bool) {
	if base == nil || !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) {
		return "", false
	}
	p, bp := strings.TrimSuffix(u.Path, "/"), strings.TrimSuffix(base.Path, "/")
	if bp == "" {
		return p, true
	}
	if strings.EqualFold(p, bp) {
		return "", true
	}
	if len(p) > len(bp) && strings.EqualFold(p[:len(bp)], bp) && p[len(bp)] == '/' {
		return p[len(bp):], true
	}
	return "", false
}

func segments(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(p, ".git"), "/")
}
