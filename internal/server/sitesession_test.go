package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/server"
	"github.com/maestroplusplus/maestro/internal/service/wire"
)

// TestSiteSessionCookieHoldsNoToken: a token with the bytes a cookie value
// cannot hold (; " \ and a space) signs in and stays signed in; the cookie
// holds neither the token nor its SHA-256, is no bearer token for /api/,
// and nothing the server logs holds the token.
func TestSiteSessionCookieHoldsNoToken(t *testing.T) {
	const odd = `w;r"i\te to;ken-0123456789`
	reg := newRegistry(t)
	cfg, err := server.LoadConfig("", envOf(map[string]string{server.EnvAPIWriteToken: odd}), server.Flags{Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	logs := &syncBuffer{}
	srv, err := server.New(cfg, wire.Env{Getenv: func(string) string { return "" }, Now: time.Now}.Service(reg), slog.New(slog.NewTextHandler(logs, nil)))
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	b := newBrowser(t, ts.URL)
	resp, body := b.post("/signin", url.Values{"token": {odd}, "next": {"/subscriptions"}}, "")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	code, page := b.get("/subscriptions")
	require.Equal(t, http.StatusOK, code, "signed in with the odd token: %s", page)
	assert.Contains(t, page, "$"+server.EnvAPIWriteToken, "the page names the token")

	u, err := url.Parse(ts.URL)
	require.NoError(t, err)
	cookies := b.c.Jar.Cookies(u)
	require.Len(t, cookies, 1)
	sum := sha256.Sum256([]byte(odd))
	for _, part := range []string{odd, "w;r", `i\te`, hex.EncodeToString(sum[:])} {
		assert.NotContains(t, cookies[0].Value, part)
	}
	assert.NotContains(t, page, odd)
	assert.NotContains(t, logs.String(), odd)
	assert.NotContains(t, logs.String(), "w;r")

	// The cookie's value is no bearer token.
	req, err := http.NewRequest("GET", ts.URL+"/api/channels", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+cookies[0].Value)
	api, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	api.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, api.StatusCode)
	// A changed cookie is no session.
	forged := newBrowser(t, ts.URL)
	// A middle character, and the last one, whose low bits base64 leaves
	// unused: a value that only differs there is no session either.
	for _, at := range []int{len(cookies[0].Value) / 2, len(cookies[0].Value) - 1} {
		value := []byte(cookies[0].Value)
		if value[at] == 'A' {
			value[at] = 'B'
		} else {
			value[at] = 'A'
		}
		forged.c.Jar.SetCookies(u, []*http.Cookie{{Name: cookies[0].Name, Value: string(value)}})
		code, _ = forged.get("/subscriptions")
		assert.Equal(t, http.StatusUnauthorized, code, "cookie changed at %d: %s", at, value)
	}
}
