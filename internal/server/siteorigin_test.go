package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSiteOriginComparesSchemeHostPort: a POST is taken only from a page
// of the origin the browser reached the site at — scheme, host and port.
// The scheme is https over TLS or when the proxy in front says
// X-Forwarded-Proto: https; default ports are the same as none.
func TestSiteOriginComparesSchemeHostPort(t *testing.T) {
	reg := newRegistry(t)
	ts := httptest.NewServer(siteHandler(t, reg, ""))
	defer ts.Close()
	hostPort := strings.TrimPrefix(ts.URL, "http://")
	_, port, _ := strings.Cut(hostPort, ":")
	tests := []struct {
		name, origin, host, proto string
		want                      int
	}{
		{"the site itself", ts.URL, "", "", http.StatusSeeOther},
		{"upper case", "HTTP://" + hostPort, "", "", http.StatusSeeOther},
		{"https page, site on http", "https://" + hostPort, "", "", http.StatusForbidden},
		{"another port", "http://127.0.0.1:1" + port, "", "", http.StatusForbidden},
		{"another host", "http://localhost:" + port, "", "", http.StatusForbidden},
		{"null", "null", "", "", http.StatusForbidden},
		{"not a URL", "%%", "", "", http.StatusForbidden},
		{"behind a TLS proxy", "https://maestro.example", "maestro.example", "https", http.StatusSeeOther},
		{"behind a TLS proxy, default port", "https://maestro.example:443", "maestro.example", "https", http.StatusSeeOther},
		{"behind a TLS proxy, proxy list", "https://maestro.example", "maestro.example", "https, http", http.StatusSeeOther},
		{"behind a TLS proxy, http page", "http://maestro.example", "maestro.example", "https", http.StatusForbidden},
		{"behind a TLS proxy, other port", "https://maestro.example:8443", "maestro.example", "https", http.StatusForbidden},
		{"plain proxy, https page", "https://maestro.example", "maestro.example", "http", http.StatusForbidden},
		{"plain proxy, default port", "http://maestro.example:80", "maestro.example", "", http.StatusSeeOther},
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("POST", ts.URL+"/signin", strings.NewReader(url.Values{"token": {readToken}}.Encode()))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", tt.origin)
			if tt.host != "" {
				req.Host = tt.host
			}
			if tt.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			resp, err := client.Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			assert.Equal(t, tt.want, resp.StatusCode)
			if tt.want == http.StatusForbidden {
				assert.Empty(t, resp.Cookies(), "no sign-in")
			} else {
				require.Len(t, resp.Cookies(), 1)
				assert.Equal(t, tt.proto == "https" || strings.HasPrefix(tt.proto, "https,"), resp.Cookies()[0].Secure, "Secure behind TLS")
			}
		})
	}
}
