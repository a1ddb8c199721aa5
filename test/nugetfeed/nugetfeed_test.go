package nugetfeed_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/test/nugetfeed"
)

// TestRejects: the double refuses what a NuGet v3 server refuses — other
// methods than GET and HEAD, a missing or wrong token, a content path in
// other than lower case.
func TestRejects(t *testing.T) {
	s := nugetfeed.New("org", "feed")
	t.Cleanup(s.Close)
	s.Add("Contoso.A", "1.0.0-Beta", []byte("a"))
	base := strings.TrimSuffix(s.IndexURL(), "/index.json")
	get := func(method, url, auth string) int {
		req, err := http.NewRequest(method, url, nil)
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, get(http.MethodGet, base+nugetfeed.PackagePath("Contoso.A", "1.0.0-Beta"), ""))
	assert.Equal(t, http.StatusOK, get(http.MethodHead, base+nugetfeed.PackagePath("Contoso.A", "1.0.0-Beta"), ""))
	assert.Equal(t, http.StatusNotFound, get(http.MethodGet, base+"/flat2/Contoso.A/1.0.0-beta/contoso.a.1.0.0-beta.nupkg", ""))
	assert.Equal(t, http.StatusMethodNotAllowed, get(http.MethodPut, s.IndexURL(), ""))
	assert.Equal(t, http.StatusOK, get(http.MethodGet, base+"/registrations2-semver2/contoso.a/index.json", ""))
	assert.Equal(t, http.StatusNotFound, get(http.MethodGet, base+"/registrations2-semver2/contoso.b/index.json", ""))

	s.Token = "secret-token"
	assert.Equal(t, http.StatusUnauthorized, get(http.MethodGet, s.IndexURL(), ""))
	assert.Equal(t, http.StatusUnauthorized, get(http.MethodGet, s.IndexURL(), "Bearer other"))
	assert.Equal(t, http.StatusOK, get(http.MethodGet, s.IndexURL(), "Bearer secret-token"))
	assert.Equal(t, http.StatusOK, get(http.MethodGet, s.IndexURL(), "Basic "+base64.StdEncoding.EncodeToString([]byte("any:secret-token"))))
	assert.Equal(t, 5, s.Requests("/index.json"))
}
