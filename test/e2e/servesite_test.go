package e2e_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeSite: the binary serves the status site from what it embeds —
// the sign-in form, the stylesheet, a build's page after signing in with
// an API token — and the site's graph twins answer what `maestro graph
// flow --format json` prints.
func TestServeSite(t *testing.T) {
	e := newLocal(t)
	e.ok("channel", "add", "--name", ".NET 10", "--classification", "product")
	e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", ".NET 10")
	m := writeFile(t, t.TempDir(), "m.xml", manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main",
		commit: "7b731032220c21a3ed0021c72757b1f3122579b2", azdoBuildID: 1,
		packages: []string{"Microsoft.DotNet.Arcade.Sdk@1.0.0-beta.19463.3"}}.xml())
	e.ok("publish", "--manifest", m)
	e.ok("subscription", "add", "--channel", ".NET 10", "--source-repo", "https://github.com/dotnet/arcade",
		"--target-repo", "https://github.com/dotnet/runtime", "--target-branch", "main", "--update-frequency", "everyDay")
	e.environ = append(e.environ, "MAESTRO_API_READ_TOKEN="+apiReadToken)
	s := serve(t, e)
	t.Cleanup(func() { assert.NotContains(t, s.log(), apiReadToken) })

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar}
	get := func(path string) (int, string, http.Header) {
		t.Helper()
		resp, err := c.Get(s.url + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body), resp.Header
	}

	code, body, _ := get("/builds/1")
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Contains(t, body, `<form method="post" action="/signin"`)
	code, css, h := get("/static/site.css")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, h.Get("Content-Type"), "text/css")
	assert.Contains(t, css, "--head-bg")

	req, err := http.NewRequest("POST", s.url+"/signin", strings.NewReader(url.Values{"token": {apiReadToken}, "next": {"/builds/1"}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.url)
	resp, err := c.Do(req)
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the build's page after the sign-in's redirect: %s", page)
	assert.Contains(t, string(page), "Build 1 of dotnet/arcade")
	assert.Contains(t, string(page), "Microsoft.DotNet.Arcade.Sdk")
	assert.Contains(t, string(page), "https://github.com/dotnet/arcade/commit/7b731032220c21a3ed0021c72757b1f3122579b2")
	assert.NotContains(t, string(page), "<svg", "a graph of one build is not drawn")
	code, body, _ = get("/flow")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "dotnet/arcade</span>")
	assert.Contains(t, body, `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Flow graph: 2 repositories, 1 subscriptions"`,
		"the binary draws the graph (Graphviz in WebAssembly)")
	assert.Contains(t, body, "<title>r0-&gt;r1</title>")

	code, body = apiDo(t, s, "GET", "/api/flow/graph", apiReadToken, "")
	require.Equal(t, http.StatusOK, code, body)
	assert.JSONEq(t, e.ok("graph", "flow", "--format", "json"), body, "the twin answers what the command prints")
}
