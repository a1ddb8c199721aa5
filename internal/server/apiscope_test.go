package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/server"
	"github.com/maestroplusplus/maestro/internal/store/azure"
	"github.com/maestroplusplus/maestro/test/azurite"
)

// snapshot is every document of the registry's store.
func snapshot(t *testing.T, reg *registry.Registry) map[string]string {
	t.Helper()
	keys, err := reg.Store().List(t.Context(), "")
	require.NoError(t, err)
	out := map[string]string{}
	for _, k := range keys {
		data, _, err := reg.Store().Get(t.Context(), k)
		require.NoError(t, err)
		out[k] = string(data)
	}
	return out
}

// concrete fills a route template's parameters.
func concrete(path string) string {
	return strings.NewReplacer("{id}", "1", "{buildId}", "1").Replace(path)
}

// TestAPIScopes: for every operation of the document, a request without a
// token, with an unknown token or another scheme is 401; a read token
// reads but every write is 403 and writes nothing; the write token does
// both.
func TestAPIScopes(t *testing.T) {
	reg := newRegistry(t)
	_, err := reg.AddChannel(t.Context(), "dev", "dev")
	require.NoError(t, err)
	base, logs := apiServer(t, reg, "")
	doc := openAPI(t)
	cov := &coverage{}
	c := client{t: t, url: base, doc: doc, cov: cov}
	ops := doc.Operations()
	require.Greater(t, len(ops), 20)
	for _, op := range ops {
		if op.Path == "/api/openapi.json" {
			continue
		}
		path := concrete(op.Path)
		body := []byte(`{}`)
		if op.Method == "GET" || op.Method == "DELETE" {
			body = nil
		}
		t.Run(op.String(), func(t *testing.T) {
			c := c
			c.t = t
			before := snapshot(t, reg)
			for _, tok := range []string{"", "not-a-token-of-this-server", writeToken[:len(writeToken)-1], strings.ToUpper(readToken)} {
				code, out := c.with(tok).do(op.Method, path, body)
				assert.Equal(t, http.StatusUnauthorized, code, "token %q: %s", tok, out)
			}
			req, err := http.NewRequest(op.Method, base+path, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Basic "+readToken)
			code, _ := send(t, req)
			assert.Equal(t, http.StatusUnauthorized, code, "another scheme")
			for _, tok := range []string{readToken, fileReadToken} {
				code, out := c.with(tok).do(op.Method, path, body)
				if op.Method == "GET" {
					assert.NotContains(t, []int{401, 403}, code, "%s", out)
				} else {
					assert.Equal(t, http.StatusForbidden, code, "%s", out)
					assert.Contains(t, string(out), "lacks the write scope")
				}
			}
			assert.Equal(t, before, snapshot(t, reg), "nothing written")
			code, out := c.with(writeToken).do(op.Method, path, body)
			assert.NotContains(t, []int{401, 403}, code, "%s", out)
		})
	}
	assert.Contains(t, logs.String(), "API request refused: unknown token")
}

// TestAPIAnonymousRead: with api.anonymousRead, a request without a token
// reads; writes still need the write token, and a wrong token is still 401.
func TestAPIAnonymousRead(t *testing.T) {
	reg := newRegistry(t)
	base, _ := apiServer(t, reg, "  anonymousRead: true\n")
	c := client{t: t, url: base, doc: openAPI(t), cov: &coverage{}}
	var chs []maestro.Channel
	c.want(200, "GET", "/api/channels", nil, &chs)
	c.wantError(401, "POST", "/api/channels", map[string]any{"name": "dev"})
	c.with("wrong-token-wrong-token").wantError(401, "GET", "/api/channels", nil)
	c.with(readToken).wantError(403, "POST", "/api/channels", map[string]any{"name": "dev"})
	c.with(writeToken).want(201, "POST", "/api/channels", map[string]any{"name": "dev"}, nil)
}

// TestAPIConfig: tokens come from the environment (read, write) and the
// file (by SHA-256); a file holding a token instead of its hash, a bad
// scope or a short environment token refuses to start.
func TestAPIConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	sum := sha256.Sum256([]byte("a-token-in-the-file-0123"))
	good := write("good.yaml", "api:\n  anonymousRead: true\n  tokens:\n    - name: ci\n      sha256: "+hex.EncodeToString(sum[:])+"\n      scopes: [read, write]\n")
	cfg, err := server.LoadConfig(good, envOf(map[string]string{server.EnvAPIReadToken: readToken}), server.Flags{})
	require.NoError(t, err)
	assert.True(t, cfg.API.AnonymousRead)
	require.Len(t, cfg.API.Tokens, 2)
	tok, ok := cfg.API.Token("a-token-in-the-file-0123")
	require.True(t, ok)
	assert.Equal(t, "ci", tok.Name)
	assert.True(t, tok.Allows(server.ScopeWrite))
	tok, ok = cfg.API.Token(readToken)
	require.True(t, ok)
	assert.Equal(t, "$"+server.EnvAPIReadToken, tok.Name)
	assert.True(t, tok.Allows(server.ScopeRead))
	assert.False(t, tok.Allows(server.ScopeWrite))
	_, ok = cfg.API.Token("a-token-in-the-file-012")
	assert.False(t, ok)
	assert.NotContains(t, cfg.String(), hex.EncodeToString(sum[:]), "no hash in the description")
	assert.NotContains(t, cfg.String(), readToken)
	assert.Contains(t, cfg.String(), "ci [read write]")

	tests := []struct {
		name, file string
		env        map[string]string
		wantErr    string
	}{
		{"token instead of hash", write("plain.yaml", "api:\n  tokens:\n    - name: ci\n      sha256: a-token-in-the-file-0123\n      scopes: [read]\n"), nil, "never the token itself"},
		{"unknown scope", write("scope.yaml", "api:\n  tokens:\n    - name: ci\n      sha256: "+hex.EncodeToString(sum[:])+"\n      scopes: [admin]\n"), nil, `scope "admin": use read or write`},
		{"no scopes", write("noscope.yaml", "api:\n  tokens:\n    - name: ci\n      sha256: "+hex.EncodeToString(sum[:])+"\n"), nil, "scopes is empty"},
		{"no name", write("noname.yaml", "api:\n  tokens:\n    - sha256: "+hex.EncodeToString(sum[:])+"\n      scopes: [read]\n"), nil, "name is empty"},
		{"unknown field", write("field.yaml", "api:\n  token: x\n"), nil, "field token not found"},
		{"short env token", "", map[string]string{server.EnvAPIWriteToken: "short"}, server.EnvAPIWriteToken + " is shorter than 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := server.LoadConfig(tt.file, envOf(tt.env), server.Flags{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
			assert.NotContains(t, err.Error(), "a-token-in-the-file-0123")
		})
	}
}

// TestAPIStoreUnavailable: with the store (Azurite) stopped, a read and a
// write answer 503 with the store's message, as the command line exits 5.
func TestAPIStoreUnavailable(t *testing.T) {
	srv := azurite.Start(t)
	st, err := azure.Open(t.Context(), azure.Account{ConnectionString: srv.ConnectionString()}, "api-unavailable")
	require.NoError(t, err)
	reg := registry.New(st)
	_, _, err = reg.Init(t.Context())
	require.NoError(t, err)
	base, _ := apiServer(t, reg, "")
	c := client{t: t, url: base, token: writeToken, doc: openAPI(t), cov: &coverage{}}
	c.want(201, "POST", "/api/channels", map[string]any{"name": "dev"}, nil)
	srv.Stop()
	start := time.Now()
	msg := c.wantError(503, "GET", "/api/channels", nil)
	assert.Contains(t, msg, "store unavailable")
	c.wantError(503, "POST", "/api/channels", map[string]any{"name": "tools"})
	t.Logf("503 after %s", time.Since(start))
}

// TestAPIRoutesAreTheDocument: the server serves exactly the operations
// the OpenAPI document describes, and every write route needs the write
// scope (its security names it).
func TestAPIRoutesAreTheDocument(t *testing.T) {
	doc := openAPI(t)
	var described []string
	for _, op := range doc.Operations() {
		described = append(described, op.String())
	}
	assert.ElementsMatch(t, server.APIRoutes(), described)
	raw, err := os.ReadFile("openapi.json")
	require.NoError(t, err)
	var d struct {
		Paths map[string]map[string]struct {
			Security []map[string][]string `json:"security"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(raw, &d))
	for path, ops := range d.Paths {
		for method, op := range ops {
			want := []map[string][]string{{"bearer": {"read"}}}
			switch {
			case path == "/api/openapi.json":
				want = []map[string][]string{}
			case method != "get":
				want = []map[string][]string{{"bearer": {"write"}}}
			}
			assert.Equal(t, want, op.Security, "%s %s", method, path)
		}
	}
}
