package server_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSiteLinks follows every link of the site from its navigation — to
// pages, JSON twins, static files — and checks that each answers 200: no
// page links to a route, a filter or an id that does not exist. The
// registry holds what every page shows: the seeded builds, subscriptions
// and pull requests, trees of speculative pull requests built through the
// flow service, and a speculative product build's report.
func TestSiteLinks(t *testing.T) {
	reg := newRegistry(t)
	seedSite(t, reg)
	seedSpecTrees(t, reg, "")
	saveProductBuild(t, reg, "https://github.com/dotnet")
	ts := httptest.NewServer(siteHandler(t, reg, "api:\n  anonymousRead: true\n"[len("api:\n"):]))
	defer ts.Close()
	b := newBrowser(t, ts.URL)
	href := regexp.MustCompile(`(?:href|src|action)="([^"]*)"`)
	seen := map[string]string{"/": "start"} // link → the page it was found on
	queue := []string{"/"}
	for len(queue) > 0 && len(seen) < 400 {
		link := queue[0]
		queue = queue[1:]
		code, body := b.get(link)
		if !assert.Equal(t, http.StatusOK, code, "%s (linked from %s): %.300s", link, seen[link], body) || !strings.HasPrefix(body, "<!DOCTYPE html>") {
			continue
		}
		for _, m := range href.FindAllStringSubmatch(body, -1) {
			u, err := url.Parse(html.UnescapeString(m[1]))
			require.NoError(t, err, "%s on %s", m[1], link)
			if u.Scheme != "" || u.Host != "" || u.Path == "" || strings.HasPrefix(u.Path, "/sign") {
				continue // another site, this page, or a form that posts
			}
			next := u.RequestURI()
			if _, ok := seen[next]; !ok {
				seen[next] = link
				queue = append(queue, next)
			}
		}
	}
	assert.Less(t, len(seen), 400, "the crawl ended by itself")
	for _, want := range []string{"/speculative/pull-requests", "/api/speculative/pull-requests", "/speculative/builds", "/api/speculative/builds",
		"/flow", "/subscriptions", "/static/site.css"} {
		assert.Contains(t, seen, want, "the crawl reached %s", want)
	}
	trees := 0
	for l := range seen {
		if strings.HasPrefix(l, "/speculative/pull-requests?pullRequest=") {
			trees++
		}
	}
	assert.Equal(t, 3, trees, "each root's tree")
	t.Logf("%d links followed", len(seen))
}
