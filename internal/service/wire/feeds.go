package wire

import (
	"encoding/base64"
	"net/url"
	"strings"
)

// FeedAuthorization returns what `maestro build gather-drop` authenticates
// NuGet feed requests with: the Azure DevOps token (MAESTRO_AZDO_TOKEN, a
// personal access token sent as Basic; else the job's SYSTEM_ACCESSTOKEN,
// sent as Bearer), and only to Azure Artifacts — pkgs.dev.azure.com,
// ORG.pkgs.visualstudio.com and the Azure DevOps Servers named in
// MAESTRO_AZDO_SERVER_URLS — over https (plain http to a loopback address
// with MAESTRO_ALLOW_HTTP_LOOPBACK=true). Any other URL gets "", and so does
// every URL without a token. secrets are the values no message may show.
// A bad MAESTRO_AZDO_SERVER_URLS or MAESTRO_GITHUB_URL is an error of kind
// invalid.
func (e Env) FeedAuthorization() (auth func(u *url.URL) string, secrets []string, err error) {
	hosts, err := ParseHosts(e.Getenv)
	if err != nil {
		return nil, nil, err
	}
	token, bearer := e.azdoToken()
	if token == "" {
		return func(*url.URL) string { return "" }, nil, nil
	}
	header := "Bearer " + token
	if !bearer {
		header = "Basic " + base64.StdEncoding.EncodeToString([]byte(":"+token))
	}
	return func(u *url.URL) string {
		if hosts.transport(u) != nil || u.User != nil || !hosts.artifacts(u) {
			return ""
		}
		return header
	}, []string{token, header}, nil
}

// artifacts reports whether u is served by Azure Artifacts of a known
// Azure DevOps host.
func (h Hosts) artifacts(u *url.URL) bool {
	host := strings.ToLower(u.Hostname())
	switch {
	case u.Scheme == "https" && host == "pkgs.dev.azure.com" && u.Port() == "":
		return true
	case u.Scheme == "https" && u.Port() == "" && strings.HasSuffix(host, ".pkgs.visualstudio.com") &&
		!strings.Contains(strings.TrimSuffix(host, ".pkgs.visualstudio.com"), "."):
		return true
	}
	for _, s := range h.AzureDevOpsServers {
		if _, ok := under(u, s); ok {
			return true
		}
	}
	return false
}
