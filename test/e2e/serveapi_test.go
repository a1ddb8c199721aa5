package e2e_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	apiReadToken  = "e2e-api-read-token-0123456789"
	apiWriteToken = "e2e-api-write-token-0123456789"
)

// apiDo sends method path (with body) to the server with token and returns the status
// and the body.
func apiDo(t *testing.T, s *served, method, path, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(out)
}

// TestServeAPIAnswersWhatTheCommandsPrint: `maestro serve` with API tokens
// from the environment answers the REST API with the JSON the commands
// print with --output json, refuses a read token's write (403) and a
// request without a token (401), and a write through the API is what the
// commands then read. Neither token reaches the log.
func TestServeAPIAnswersWhatTheCommandsPrint(t *testing.T) {
	e := newLocal(t)
	e.ok("channel", "add", "--name", ".NET 10", "--classification", "product")
	e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", ".NET 10")
	m := writeFile(t, t.TempDir(), "m.xml", manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main",
		commit: "7b731032220c21a3ed0021c72757b1f3122579b2", azdoBuildID: 1,
		packages: []string{"Microsoft.DotNet.Arcade.Sdk@1.0.0-beta.19463.3"}}.xml())
	e.ok("publish", "--manifest", m)
	e.environ = append(e.environ, "MAESTRO_API_READ_TOKEN="+apiReadToken, "MAESTRO_API_WRITE_TOKEN="+apiWriteToken)
	s := serve(t, e)
	t.Cleanup(func() {
		assert.NotContains(t, s.log(), apiReadToken)
		assert.NotContains(t, s.log(), apiWriteToken)
	})

	arcade := url.QueryEscape("https://github.com/dotnet/arcade")
	for _, tt := range []struct {
		path string
		cmd  []string
	}{
		{"/api/channels", []string{"channel", "list"}},
		{"/api/default-channels", []string{"default-channel", "list"}},
		{"/api/builds", []string{"build", "list"}},
		{"/api/builds/latest?repository=" + arcade + "&channelId=1", []string{"build", "latest", "--repository", "https://github.com/dotnet/arcade", "--channel", "1"}},
		{"/api/builds/1", []string{"build", "show", "--id", "1"}},
		{"/api/assets?name=Microsoft.DotNet.Arcade.Sdk", []string{"asset", "find", "--name", "Microsoft.DotNet.Arcade.Sdk"}},
	} {
		code, body := apiDo(t, s, "GET", tt.path, apiReadToken, "")
		require.Equal(t, http.StatusOK, code, "%s: %s", tt.path, body)
		assert.JSONEq(t, e.ok(append(tt.cmd, "--output", "json")...), body, tt.path)
	}

	code, body := apiDo(t, s, "GET", "/api/channels", "", "")
	assert.Equal(t, http.StatusUnauthorized, code, body)
	code, body = apiDo(t, s, "POST", "/api/channels", apiReadToken, `{"name": "tools"}`)
	assert.Equal(t, http.StatusForbidden, code, body)
	code, body = apiDo(t, s, "POST", "/api/channels", apiWriteToken, `{"name": "tools"}`)
	require.Equal(t, http.StatusCreated, code, body)
	var added struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &added))
	assert.Contains(t, e.ok("channel", "list"), "tools")
	code, body = apiDo(t, s, "POST", "/api/channels", apiWriteToken, `{"name": "tools"}`)
	assert.Equal(t, http.StatusConflict, code, body)
}

// TestServeRefusesAShortAPIToken: an API token shorter than 16 characters
// in the environment refuses to start, exit 2, without printing it.
func TestServeRefusesAShortAPIToken(t *testing.T) {
	e := newLocal(t)
	e.environ = append(e.environ, "MAESTRO_API_WRITE_TOKEN=tooshort")
	r := e.run("serve", "--listen", "127.0.0.1:0")
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, "MAESTRO_API_WRITE_TOKEN is shorter than 16 characters")
	assert.NotContains(t, r.stderr, "tooshort")
	assert.NotContains(t, r.stderr, "msg=serving")
}
