package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAPIListLimitsAreBounded: a list's limit has a maximum, as the
// document says, so that one request of a reader (or, with anonymous read,
// of anyone) cannot make the server read every build or asset of the
// registry; above it the answer is 400, naming the bound.
func TestAPIListLimitsAreBounded(t *testing.T) {
	reg := newRegistry(t)
	base, _ := apiServer(t, reg, "")
	get := func(path string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", base+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+readToken)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var m struct{ Message string }
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m.Message
	}
	for _, route := range []string{"/api/builds", "/api/assets?name=Microsoft.DotNet.Arcade.Sdk&"} {
		sep := "?"
		if route[len(route)-1] == '&' {
			sep = ""
		}
		code, _ := get(route + sep + "limit=1000")
		assert.Equal(t, http.StatusOK, code, route+" at the maximum")
		code, msg := get(route + sep + "limit=1001")
		assert.Equal(t, http.StatusBadRequest, code, route+" above the maximum")
		assert.Contains(t, msg, "at most 1000")
		code, _ = get(route + sep + "limit=100000000000")
		assert.Equal(t, http.StatusBadRequest, code, route)
	}
	// The document gives the same bound.
	doc, err := os.ReadFile("openapi.json")
	require.NoError(t, err)
	var d struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name   string
				Schema map[string]any
			}
		}
	}
	require.NoError(t, json.Unmarshal(doc, &d))
	for _, p := range []string{"/api/builds", "/api/assets"} {
		found := false
		for _, prm := range d.Paths[p]["get"].Parameters {
			if prm.Name == "limit" {
				found = true
				assert.EqualValues(t, 1000, prm.Schema["maximum"], p)
			}
		}
		assert.True(t, found, p)
	}
}

// TestAPIBodyOverTheLimitIs413: every route that takes a body refuses one
// over 1 MB with 413 and a {"message"}, as the document says (the client
// checks each answer against it), and writes nothing; 1 MB itself is read.
func TestAPIBodyOverTheLimitIs413(t *testing.T) {
	reg := newRegistry(t)
	base, _ := apiServer(t, reg, "")
	c := client{t: t, url: base, token: writeToken, doc: openAPI(t), cov: &coverage{}}
	// A JSON string padded to exactly n bytes of body.
	body := func(n int) []byte {
		return append(append([]byte(`"`), bytes.Repeat([]byte("x"), n-2)...), '"')
	}
	for _, route := range []struct{ method, path string }{
		{"POST", "/api/channels"},
		{"POST", "/api/default-channels"},
		{"PATCH", "/api/default-channels/1"},
		{"POST", "/api/subscriptions"},
		{"PATCH", "/api/subscriptions/00000000-0000-0000-0000-000000000001"},
		{"POST", "/api/subscriptions/00000000-0000-0000-0000-000000000001/trigger"},
		{"PUT", "/api/repository-policy?repository=https://github.com/dotnet/runtime&branch=main"},
	} {
		t.Run(route.method+" "+route.path, func(t *testing.T) {
			msg := c.wantError(http.StatusRequestEntityTooLarge, route.method, route.path, body(1<<20+1))
			assert.Contains(t, msg, "larger than 1048576 bytes")
			code, out := c.do(route.method, route.path, body(1<<20))
			assert.NotEqual(t, http.StatusRequestEntityTooLarge, code, "a body of exactly 1 MB is read: %s", out)
		})
	}
	assert.Empty(t, keys(t, reg), "nothing written")
}
