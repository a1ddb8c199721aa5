package wire_test

import (
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/service/wire"
)

// TestFeedAuthorization: the Azure DevOps token goes to Azure Artifacts
// hosts only, over https (loopback http only when allowed).
func TestFeedAuthorization(t *testing.T) {
	env := map[string]string{"MAESTRO_AZDO_TOKEN": "pat-123456", "MAESTRO_AZDO_SERVER_URLS": "https://tfs.contoso.com/tfs/Coll"}
	e := wire.Env{Getenv: func(k string) string { return env[k] }}
	auth, secrets, err := e.FeedAuthorization()
	require.NoError(t, err)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(":pat-123456"))
	assert.Contains(t, secrets, "pat-123456")
	for raw, want := range map[string]string{
		"https://pkgs.dev.azure.com/dnceng/public/_packaging/dotnet8/nuget/v3/index.json": basic,
		"https://dnceng.pkgs.visualstudio.com/_packaging/feed/nuget/v3/index.json":        basic,
		"https://tfs.contoso.com/tfs/Coll/_packaging/feed/nuget/v3/index.json":            basic,
		"http://pkgs.dev.azure.com/dnceng/_packaging/f/nuget/v3/index.json":               "", // plain http
		"https://pkgs.dev.azure.com.evil.example/x/index.json":                            "",
		"https://a.b.pkgs.visualstudio.com/_packaging/f/nuget/v3/index.json":              "",
		"https://tfs.contoso.com/tfs/Other/_packaging/feed/nuget/v3/index.json":           "",
		"https://api.nuget.org/v3/index.json":                                             "",
		"https://dotnetcli.blob.core.windows.net/dotnet/index.json":                       "",
	} {
		u, err := url.Parse(raw)
		require.NoError(t, err)
		assert.Equal(t, want, auth(u), raw)
	}

	env["MAESTRO_ALLOW_HTTP_LOOPBACK"] = "true"
	env["MAESTRO_AZDO_SERVER_URLS"] = "http://127.0.0.1:8080/org"
	delete(env, "MAESTRO_AZDO_TOKEN")
	env["SYSTEM_ACCESSTOKEN"] = "job-token-1234"
	auth, _, err = e.FeedAuthorization()
	require.NoError(t, err)
	u, _ := url.Parse("http://127.0.0.1:8080/org/_packaging/f/nuget/v3/index.json")
	assert.Equal(t, "Bearer job-token-1234", auth(u))
	other, _ := url.Parse("http://127.0.0.1:9090/org/_packaging/f/nuget/v3/index.json")
	assert.Equal(t, "", auth(other), "another loopback server is not configured")

	delete(env, "SYSTEM_ACCESSTOKEN")
	auth, secrets, err = e.FeedAuthorization()
	require.NoError(t, err)
	assert.Empty(t, secrets)
	assert.Equal(t, "", auth(u), "no token, nothing sent")

	env["MAESTRO_AZDO_SERVER_URLS"] = "https://user:pw@tfs.example"
	_, _, err = e.FeedAuthorization()
	assert.Error(t, err)
}
