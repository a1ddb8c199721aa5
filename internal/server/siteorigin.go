package server

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// requestOrigin is the origin (scheme://host[:port], the default port
// left out) at which the client reached the site. The scheme is https when
// the request came over TLS, or when a proxy in front that terminates TLS
// says so with X-Forwarded-Proto: https (its first value); the host is the
// request's Host, which the proxy must pass on unchanged. Trusting
// X-Forwarded-Proto here gives a cross-site request nothing: a page of
// another site cannot make the browser send a header of its choosing (a
// form cannot set one; fetch would need CORS, which the server never
// grants), and a client that sets it itself holds no victim's cookie.
// X-Forwarded-Host is not read.
func requestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || forwardedHTTPS(r) {
		scheme = "https"
	}
	return normalOrigin(scheme, r.Host)
}

// forwardedHTTPS: the request's first X-Forwarded-Proto value is https.
func forwardedHTTPS(r *http.Request) bool {
	first, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(first), "https")
}

// normalOrigin writes scheme and host as an origin: lower case, without
// the scheme's default port.
func normalOrigin(scheme, host string) string {
	scheme, host = strings.ToLower(scheme), strings.ToLower(host)
	if h, port, err := net.SplitHostPort(host); err == nil &&
		(scheme == "https" && port == "443" || scheme == "http" && port == "80") {
		host = h
		if strings.Contains(h, ":") {
			host = "[" + h + "]"
		}
	}
	return scheme + "://" + host
}

// sameOrigin: a POST is taken only from a page of this site's own origin —
// the same scheme, host and port (requestOrigin). A POST whose Origin is
// another one (or "null", or not a URL) is refused; without an Origin,
// one whose Sec-Fetch-Site names another site is.
func sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" || u.User != nil || u.Path != "" && u.Path != "/" || u.RawQuery != "" {
			return false
		}
		return normalOrigin(u.Scheme, u.Host) == requestOrigin(r)
	}
	site := r.Header.Get("Sec-Fetch-Site")
	return site == "" || site == "same-origin" || site == "none"
}
