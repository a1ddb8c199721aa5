package server_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSiteSignInNextStaysOnSite: the page a sign-in leads to is a path of
// this site whatever next holds. A browser drops tabs and line breaks from
// a Location before resolving it, so "/\t/evil.example.com" is
// "//evil.example.com" to it: another host, an open redirect a link to
// /signin?next=... would hand a phishing page the signed-in reader.
func TestSiteSignInNextStaysOnSite(t *testing.T) {
	reg := newRegistry(t)
	ts := httptest.NewServer(siteHandler(t, reg, ""))
	defer ts.Close()
	for _, next := range []string{
		"//evil.example.com/x",
		`/\evil.example.com`,
		"/\t/evil.example.com",
		"/\n/evil.example.com",
		"/\r/evil.example.com",
		"\t//evil.example.com",
		"/\t\\evil.example.com",
		"https://evil.example.com/",
		"javascript:alert(1)",
		"/%2F%2Fevil.example.com", // stays a path: allowed, but never a host
	} {
		t.Run(url.QueryEscape(next), func(t *testing.T) {
			b := newBrowser(t, ts.URL)
			resp, body := b.post("/signin", url.Values{"token": {readToken}, "next": {next}}, "")
			require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
			loc := resp.Header.Get("Location")
			u, err := url.Parse(loc)
			require.NoError(t, err, "Location %q must be a URL a browser reads as this site's path", loc)
			assert.Empty(t, u.Host, "Location %q", loc)
			assert.Empty(t, u.Scheme, "Location %q", loc)
			assert.Regexp(t, `^/([^/\\]|$)`, loc, "Location %q is a path of this site", loc)
			assert.NotRegexp(t, `[\x00-\x1f\x7f\\]`, loc, "Location %q has no character a browser drops or turns into a slash", loc)
		})
	}
	// A plain path with a query is kept.
	b := newBrowser(t, ts.URL)
	resp, body := b.post("/signin", url.Values{"token": {readToken}, "next": {"/builds?repository=https%3A%2F%2Fgithub.com%2Fdotnet%2Farcade"}}, "")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	assert.Equal(t, "/builds?repository=https%3A%2F%2Fgithub.com%2Fdotnet%2Farcade", resp.Header.Get("Location"))
	// The form carries next as the GET asked, cleaned the same way.
	code, page := b.get("/signin?next=" + url.QueryEscape("/\t/evil.example.com"))
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, page, `name="next" value="/"`)
}

// TestSiteFormsAreBounded: a POST to the site is read only as the small
// urlencoded form its pages send. A multipart body (which PostFormValue
// would take, spooling file parts to disk) is 415 and a body over 16 KB
// 413, before a token or CSRF value is looked at: the sign-in form is open
// to anyone.
func TestSiteFormsAreBounded(t *testing.T) {
	reg := newRegistry(t)
	ts := httptest.NewServer(siteHandler(t, reg, ""))
	defer ts.Close()
	post := func(path, contentType string, body io.Reader) *http.Response {
		t.Helper()
		req, err := http.NewRequest("POST", ts.URL+path, body)
		require.NoError(t, err)
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Origin", ts.URL)
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	require.NoError(t, mw.WriteField("token", readToken))
	fw, err := mw.CreateFormFile("junk", "junk.bin")
	require.NoError(t, err)
	_, err = fw.Write(bytes.Repeat([]byte{'x'}, 1<<20))
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	for _, path := range []string{"/signin", "/signout", "/subscriptions/00000000-0000-4000-8000-000000000000/trigger"} {
		resp := post(path, mw.FormDataContentType(), bytes.NewReader(mp.Bytes()))
		assert.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode, path+": multipart")
		assert.Empty(t, resp.Cookies(), path)
		big := url.Values{"token": {readToken}, "pad": {strings.Repeat("x", 32<<10)}}.Encode()
		resp = post(path, "application/x-www-form-urlencoded", strings.NewReader(big))
		assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, path+": too large")
		assert.Empty(t, resp.Cookies(), path)
	}
	// The form as the page sends it still signs in.
	resp := post("/signin", "application/x-www-form-urlencoded", strings.NewReader(url.Values{"token": {readToken}}.Encode()))
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
}
