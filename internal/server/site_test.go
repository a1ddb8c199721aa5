package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/server"
	"github.com/maestroplusplus/maestro/internal/service"
	"github.com/maestroplusplus/maestro/internal/service/wire"
)

// evilRepo is a repository whose name is markup: every page must show it
// as text.
const evilRepo = "https://github.com/contoso/<script>alert(1)</script>"

// siteSeed is what seedSite recorded.
type siteSeed struct {
	channel            maestro.Channel
	arcade1, arcade2   maestro.Build
	runtime, evil      maestro.Build
	healthy, failing   maestro.Subscription
	healthyOutcome     maestro.FlowOutcome
	failingOutcome     maestro.FlowOutcome
	evilRepoID, target string
}

// seedSite records, as publish and the flow record them, two arcade builds
// in a channel, a runtime build that depends on both (a conflict: arcade at
// two commits), a build of a repository named with markup, and two
// subscriptions from arcade triggered through the flow service: one to a
// local target (updated, a pull request open), one to a target that does
// not exist (failure).
func seedSite(t *testing.T, reg *registry.Registry) siteSeed {
	t.Helper()
	ctx := t.Context()
	var s siteSeed
	var err error
	s.channel, err = reg.AddChannel(ctx, ".NET 10", "product")
	require.NoError(t, err)
	s.arcade1 = publish(t, reg, "1111111111111111111111111111111111111111", "2.0.0", s.channel.ID)
	s.arcade2 = publish(t, reg, "2222222222222222222222222222222222222222", "3.0.0", s.channel.ID)
	res, err := reg.PublishBuild(ctx, maestro.Build{
		Repository: "https://github.com/dotnet/runtime", Branch: "main", Commit: "3333333333333333333333333333333333333333",
		DateProduced: time.Date(2026, 12, 5, 11, 0, 0, 0, time.UTC), AzureDevOpsAccount: "dnceng", AzureDevOpsProject: "internal",
		AzureDevOpsBuildID: 4242, AzureDevOpsBuildNumber: "20261205.1",
		Assets: []maestro.Asset{{Name: "Microsoft.NETCore.App.Ref", Version: "10.0.1",
			Locations: []maestro.AssetLocation{{Type: maestro.LocationNuGetFeed, Location: "https://pkgs.example.com/feed/index.json"}}}},
		Dependencies: []maestro.BuildDependency{{BuildID: s.arcade1.ID, IsProduct: true}, {BuildID: s.arcade2.ID, IsProduct: false}},
	}, registry.PublishOptions{Channels: []int{s.channel.ID}})
	require.NoError(t, err)
	s.runtime = res.Build
	res, err = reg.PublishBuild(ctx, maestro.Build{
		Repository: evilRepo, Branch: "<b>main</b>", Commit: "4444444444444444444444444444444444444444",
		DateProduced: time.Date(2026, 12, 5, 11, 30, 0, 0, time.UTC),
	}, registry.PublishOptions{})
	require.NoError(t, err)
	s.evil = res.Build

	svc := wire.Env{Getenv: func(string) string { return "" }, Now: time.Now}.Service(reg)
	s.target = localTarget(t)
	s.healthy, err = reg.AddSubscription(ctx, maestro.Subscription{ChannelID: s.channel.ID, SourceRepository: "https://github.com/dotnet/arcade",
		TargetRepository: s.target, TargetBranch: "main", Enabled: true, ExcludedAssets: []string{},
		Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild}})
	require.NoError(t, err)
	s.failing, err = reg.AddSubscription(ctx, maestro.Subscription{ChannelID: s.channel.ID, SourceRepository: "https://github.com/dotnet/arcade",
		TargetRepository: filepath.Join(t.TempDir(), "gone.git"), TargetBranch: "main", Enabled: true, ExcludedAssets: []string{},
		Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild}})
	require.NoError(t, err)
	s.healthyOutcome, err = svc.Trigger(ctx, service.TriggerRequest{SubscriptionID: s.healthy.ID})
	require.NoError(t, err)
	require.Equal(t, maestro.ResultUpdated, s.healthyOutcome.Result, s.healthyOutcome.Message)
	s.failingOutcome, err = svc.Trigger(ctx, service.TriggerRequest{SubscriptionID: s.failing.ID})
	require.Error(t, err, "a target that does not exist fails the update")
	require.Equal(t, maestro.ResultFailure, s.failingOutcome.Result, s.failingOutcome.Message)
	return s
}

// siteHandler is a server's handler on reg with the API's test tokens;
// more is appended to its configuration file.
func siteHandler(t testing.TB, reg *registry.Registry, more string) http.Handler {
	t.Helper()
	sum := sha256.Sum256([]byte(fileReadToken))
	file := filepath.Join(t.TempDir(), "serve.yaml")
	require.NoError(t, os.WriteFile(file, []byte("api:\n  tokens:\n    - name: dashboard\n      sha256: "+hex.EncodeToString(sum[:])+"\n      scopes: [read]\n"+more), 0o600))
	cfg, err := server.LoadConfig(file, envOf(map[string]string{server.EnvAPIReadToken: readToken, server.EnvAPIWriteToken: writeToken}),
		server.Flags{Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	srv, err := server.New(cfg, wire.Env{Getenv: func(string) string { return "" }, Now: time.Now}.Service(reg), slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	return srv.Handler()
}

// browser is an HTTP client with cookies that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b browser) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return resp.StatusCode, string(body)
}

// post sends a form as a page of this site does (Origin: the site).
func (b browser) post(path string, form url.Values, origin string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin == "" {
		origin = b.base
	}
	req.Header.Set("Origin", origin)
	resp, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return resp, string(body)
}

func (b browser) signIn(token string) {
	b.t.Helper()
	resp, body := b.post("/signin", url.Values{"token": {token}, "next": {"/subscriptions"}}, "")
	require.Equal(b.t, http.StatusSeeOther, resp.StatusCode, body)
	assert.Equal(b.t, "/subscriptions", resp.Header.Get("Location"))
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func TestSitePages(t *testing.T) {
	reg := newRegistry(t)
	s := seedSite(t, reg)
	spec := seedSpecTrees(t, reg, "")
	pb := saveProductBuild(t, reg, "https://github.com/dotnet")
	ts := httptest.NewServer(siteHandler(t, reg, ""))
	defer ts.Close()
	pages := []string{"/", "/channels", "/builds", "/builds?channelId=" + itoa(s.channel.ID), "/builds/" + itoa(s.runtime.ID),
		"/subscriptions", "/subscriptions/" + s.failing.ID, "/flow", "/flow/health",
		"/speculative/builds", "/speculative/builds/" + pb.ID, "/speculative/pull-requests", "/speculative/pull-requests?pullRequest=" + url.QueryEscape(spec.rootA)}

	anon := newBrowser(t, ts.URL)
	for _, p := range pages {
		code, body := anon.get(p)
		assert.Equal(t, http.StatusUnauthorized, code, p)
		assert.Contains(t, body, `<label for="token">API token</label>`, "%s: the sign-in form", p)
		assert.NotContains(t, body, "dotnet/runtime", "%s: nothing of the registry before signing in", p)
	}
	code, _ := anon.get("/api/channels")
	assert.Equal(t, http.StatusUnauthorized, code)

	b := newBrowser(t, ts.URL)
	b.signIn(fileReadToken)
	for _, p := range pages {
		t.Run(p, func(t *testing.T) {
			resp, err := b.c.Get(ts.URL + p)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
			assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'")
			assert.Contains(t, string(body), `<html lang="en">`)
			assert.NotRegexp(t, `(src|href)="(https?:)?//[^"]*\.(css|js|svg|png|woff2?)"`, string(body), "no asset from elsewhere")
		})
	}
	// The cookie is the site's, not the API's.
	code, _ = b.get("/api/channels")
	assert.Equal(t, http.StatusUnauthorized, code, "/api/ takes bearer tokens only")

	_, home := b.get("/")
	assert.Contains(t, home, "1 failing subscription")
	assert.Contains(t, home, "/subscriptions/"+s.failing.ID)
	assert.Contains(t, home, "Open pull requests")
	_, sub := b.get("/subscriptions/" + s.failing.ID)
	assert.Contains(t, sub, `<span class="result-failure">failure</span>`)
	assert.Contains(t, sub, "sign in</a> with one", "a read token sees no trigger button")
	assert.NotContains(t, sub, "Trigger now")
	_, build := b.get("/builds/" + itoa(s.runtime.ID))
	assert.Contains(t, build, "https://dev.azure.com/dnceng/internal/_build/results?buildId=4242")
	assert.Contains(t, build, "https://github.com/dotnet/runtime/commit/3333333333333333333333333333333333333333")
	assert.Contains(t, build, `<strong class="flag">conflict</strong>`)
	assert.Contains(t, build, "Microsoft.NETCore.App.Ref")
	_, filtered := b.get("/subscriptions?targetRepository=" + url.QueryEscape(s.target))
	assert.Contains(t, filtered, "/subscriptions/"+s.healthy.ID)
	assert.NotContains(t, filtered, "/subscriptions/"+s.failing.ID)

	for p, want := range map[string]int{
		"/builds/999":               http.StatusNotFound,
		"/builds/x":                 http.StatusBadRequest,
		"/builds?before=x":          http.StatusBadRequest,
		"/builds?channelId=99":      http.StatusBadRequest,
		"/subscriptions?state=sad":  http.StatusBadRequest,
		"/subscriptions/" + "nope":  http.StatusNotFound,
		"/flow?channelId=99":        http.StatusBadRequest,
		"/channels?x=1":             http.StatusBadRequest,
		"/nothing-here":             http.StatusNotFound,
		"/static/site.css":          http.StatusOK,
		"/static/site.js":           http.StatusOK,
		"/static/logo.svg":          http.StatusOK,
		"/static/missing.css":       http.StatusNotFound,
		"/flow/health?failures=0":   http.StatusBadRequest,
		"/builds?repository=nobody": http.StatusOK,
	} {
		code, body := b.get(p)
		assert.Equal(t, want, code, "%s: %s", p, body)
	}
}

// TestSitePaging: a page of builds holds 25, newest first; "Older builds"
// leads to the next, with the repository filter kept.
func TestSitePaging(t *testing.T) {
	reg := newRegistry(t)
	ch, err := reg.AddChannel(t.Context(), "tools", "dev")
	require.NoError(t, err)
	var ids []int
	for i := range 30 {
		ids = append(ids, publish(t, reg, strings.Repeat(string("0123456789abcdef"[i%16]), 39)+string("0123456789abcdef"[i/16]), "1.0."+itoa(i), ch.ID).ID)
	}
	ts := httptest.NewServer(siteHandler(t, reg, "api:\n  anonymousRead: true\n"[len("api:\n"):]))
	defer ts.Close()
	b := newBrowser(t, ts.URL)
	repo := url.QueryEscape("https://github.com/dotnet/arcade")
	code, page1 := b.get("/builds?channelId=" + itoa(ch.ID) + "&repository=" + repo)
	require.Equal(t, http.StatusOK, code, page1)
	assert.Equal(t, 25, strings.Count(page1, `<td><a href="/builds/`))
	assert.Contains(t, page1, `href="/builds/`+itoa(ids[29])+`"`)
	assert.NotContains(t, page1, `href="/builds/`+itoa(ids[4])+`"`)
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(page1)
	require.NotNil(t, next, "a link to the older builds")
	code, page2 := b.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, 5, strings.Count(page2, `<td><a href="/builds/`))
	assert.Contains(t, page2, `href="/builds/`+itoa(ids[0])+`"`)
	assert.NotContains(t, page2, `rel="next"`)
	_, none := b.get("/builds?repository=" + url.QueryEscape("https://github.com/dotnet/runtime"))
	assert.Contains(t, none, "<p>No build.</p>")
}

// TestSiteEscapes: user data (a repository, a branch, a channel name) is
// text on every page, never markup.
func TestSiteEscapes(t *testing.T) {
	reg := newRegistry(t)
	s := seedSite(t, reg)
	_, err := reg.AddChannel(t.Context(), `<img src=x onerror=alert(2)>`, "dev")
	require.NoError(t, err)
	// Speculative pull requests of repositories in a folder named with
	// markup, and a product build of repositories named so.
	spec := seedSpecTrees(t, reg, filepath.Join(t.TempDir(), "<script>alert(1)</script>"))
	pb := saveProductBuild(t, reg, evilRepo)
	ts := httptest.NewServer(siteHandler(t, reg, "api:\n  anonymousRead: true\n"[len("api:\n"):]))
	defer ts.Close()
	b := newBrowser(t, ts.URL)
	for _, p := range []string{"/", "/builds", "/builds/" + itoa(s.evil.ID), "/channels", "/subscriptions", "/flow",
		"/builds?repository=" + url.QueryEscape(evilRepo), "/speculative/builds", "/speculative/builds/" + pb.ID,
		"/speculative/pull-requests", "/speculative/pull-requests?pullRequest=" + url.QueryEscape(spec.rootA)} {
		code, body := b.get(p)
		require.Equal(t, http.StatusOK, code, p)
		assert.NotContains(t, body, "<script>alert(1)", p)
		assert.NotContains(t, body, "<b>main</b>", p)
		assert.NotContains(t, body, "<img src=x", p)
	}
	_, build := b.get("/builds/" + itoa(s.evil.ID))
	assert.Contains(t, build, "&lt;script&gt;alert(1)&lt;/script&gt;")
	assert.Contains(t, build, "&lt;b&gt;main&lt;/b&gt;")
	_, chans := b.get("/channels")
	assert.Contains(t, chans, "&lt;img src=x onerror=alert(2)&gt;")
	_, tree := b.get("/speculative/pull-requests?pullRequest=" + url.QueryEscape(spec.rootA))
	assert.Contains(t, tree, "&lt;script&gt;alert(1)&lt;/script&gt;/r1.git", "the table")
	assert.Contains(t, tree, `<g class="node">`, "drawn")
	_, product := b.get("/speculative/builds/" + pb.ID)
	assert.Contains(t, product, "&lt;script&gt;alert(1)&lt;/script&gt;/a", "the table and the picture")
	assert.Contains(t, product, `<g class="node">`, "drawn")
}

// TestSiteSignInAndTrigger: the cookie, the write scope, CSRF and Origin.
func TestSiteSignInAndTrigger(t *testing.T) {
	reg := newRegistry(t)
	s := seedSite(t, reg)
	ts := httptest.NewServer(siteHandler(t, reg, ""))
	defer ts.Close()
	trigger := "/subscriptions/" + s.healthy.ID + "/trigger"

	b := newBrowser(t, ts.URL)
	resp, body := b.post("/signin", url.Values{"token": {"not-a-token-at-all"}}, "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, body, "not one of the server&#39;s API tokens")
	assert.Empty(t, resp.Cookies())
	resp, _ = b.post("/signin", url.Values{"token": {writeToken}}, "https://evil.example.com")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "a sign-in form of another site")
	resp, _ = b.post("/signin", url.Values{"token": {readToken}, "next": {"//evil.example.com/x"}}, "")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/", resp.Header.Get("Location"), "next stays on this site")
	cookie := resp.Cookies()[0]
	assert.True(t, cookie.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, cookie.SameSite)

	// A read token: no trigger.
	_, page := b.get("/subscriptions/" + s.healthy.ID)
	csrf := csrfField.FindStringSubmatch(page)
	require.NotNil(t, csrf, "the sign-out form carries the CSRF value")
	resp, body = b.post(trigger, url.Values{"csrf": {csrf[1]}}, "")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Contains(t, body, "lacks the write scope")

	// A write token: the trigger button, CSRF checked.
	b.signIn(writeToken)
	_, page = b.get("/subscriptions/" + s.healthy.ID)
	assert.Contains(t, page, "Trigger now")
	csrf2 := csrfField.FindStringSubmatch(page)
	require.NotNil(t, csrf2)
	assert.NotEqual(t, csrf[1], csrf2[1], "the CSRF value is the token's")
	before, err := reg.Outcomes(t.Context(), registry.OutcomeFilter{SubscriptionID: s.healthy.ID})
	require.NoError(t, err)
	for _, bad := range []url.Values{{}, {"csrf": {csrf[1]}}, {"csrf": {"00"}}} {
		resp, body = b.post(trigger, bad, "")
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, body)
		assert.Contains(t, body, "CSRF")
	}
	resp, _ = b.post(trigger, url.Values{"csrf": {csrf2[1]}}, "https://evil.example.com")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "another site's form")
	after, err := reg.Outcomes(t.Context(), registry.OutcomeFilter{SubscriptionID: s.healthy.ID})
	require.NoError(t, err)
	assert.Equal(t, len(before), len(after), "no refused trigger ran")

	arcade3 := publish(t, reg, "5555555555555555555555555555555555555555", "4.0.0", s.channel.ID)
	resp, body = b.post(trigger, url.Values{"csrf": {csrf2[1]}}, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Contains(t, body, "Triggered with build "+itoa(arcade3.ID)+": updated.")
	after, err = reg.Outcomes(t.Context(), registry.OutcomeFilter{SubscriptionID: s.healthy.ID})
	require.NoError(t, err)
	assert.Len(t, after, len(before)+1, "the trigger ran once")
	resp, _ = b.post("/subscriptions/00000000-0000-4000-8000-000000000000/trigger", url.Values{"csrf": {csrf2[1]}}, "")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	// A trigger the flow fails: the page says so, the history has it.
	resp, body = b.post("/subscriptions/"+s.failing.ID+"/trigger", url.Values{"csrf": {csrf2[1]}}, "")
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode, "as the API answers")
	assert.Contains(t, body, "The trigger failed")
	assert.Equal(t, 2, strings.Count(body, `<span class="result-failure">failure</span></td>`), "both failures in the history")

	// Sign out: the cookie is gone.
	resp, _ = b.post("/signout", url.Values{"csrf": {csrf2[1]}}, "")
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	code, _ := b.get("/")
	assert.Equal(t, http.StatusUnauthorized, code)
}

// TestSitePendingWork: an update the target branch's policy caps waits as
// pending work, which the home page and the pending filter show.
func TestSitePendingWork(t *testing.T) {
	reg := newRegistry(t)
	s := seedSite(t, reg)
	require.NoError(t, reg.SetRepositoryPolicy(t.Context(), maestro.RepositoryBranchPolicy{Repository: s.target, Branch: "main",
		AutoMerge: true, MergeMethod: maestro.MergeMethodSquash, MergePolicies: []maestro.MergePolicy{}, MaxOpenPullRequests: 1}))
	tools, err := reg.AddChannel(t.Context(), "tools", "dev")
	require.NoError(t, err)
	waiting := publish(t, reg, "6666666666666666666666666666666666666666", "9.0.0", tools.ID)
	capped, err := reg.AddSubscription(t.Context(), maestro.Subscription{ChannelID: tools.ID, SourceRepository: "https://github.com/dotnet/arcade",
		TargetRepository: s.target, TargetBranch: "main", Enabled: true, ExcludedAssets: []string{},
		Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild}})
	require.NoError(t, err)
	out, err := wire.Env{Getenv: func(string) string { return "" }, Now: time.Now}.Service(reg).Trigger(t.Context(), service.TriggerRequest{SubscriptionID: capped.ID})
	require.NoError(t, err)
	require.Equal(t, maestro.ResultRescheduled, out.Result, "the cap of one open pull request: %s", out.Message)

	ts := httptest.NewServer(siteHandler(t, reg, "  anonymousRead: true\n"))
	defer ts.Close()
	b := newBrowser(t, ts.URL)
	code, home := b.get("/")
	require.Equal(t, http.StatusOK, code, home)
	at := strings.Index(home, `<h2 id="pending">`)
	require.GreaterOrEqual(t, at, 0, "the pending section: %s", home)
	pending := home[at:]
	assert.Contains(t, pending, `/subscriptions/`+capped.ID)
	assert.Contains(t, pending, `<a href="/builds/`+itoa(waiting.ID)+`">`)
	assert.Contains(t, pending, "<td>cap: ")
	assert.NotContains(t, pending, "Nothing is waiting")
	_, list := b.get("/subscriptions?state=pending")
	assert.Contains(t, list, "/subscriptions/"+capped.ID)
	assert.NotContains(t, list, "/subscriptions/"+s.healthy.ID)
	_, one := b.get("/subscriptions/" + capped.ID)
	assert.Contains(t, one, "build "+itoa(waiting.ID)+", cap: ")
}
