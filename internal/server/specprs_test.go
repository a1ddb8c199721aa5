package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/service"
)

// apiGet reads a JSON answer of the API with the read token.
func apiGet[T any](t *testing.T, base, path string) (int, T) {
	t.Helper()
	var v T
	req, err := http.NewRequest("GET", base+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+readToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
	}
	return resp.StatusCode, v
}

// TestSiteSpeculativePullRequests: the trees of speculative pull requests
// the flow service built on local repositories (seedSpecTrees) — their
// roots listed, each tree drawn coloured by state and gate beside its
// table, the JSON twin answering what `maestro speculative status -o
// json` prints; a reader must sign in; bad input is 400.
func TestSiteSpeculativePullRequests(t *testing.T) {
	reg := newRegistry(t)
	s := seedSpecTrees(t, reg, "")
	ts := httptest.NewServer(siteHandler(t, reg, ""))
	defer ts.Close()
	treeOf := func(pr string) string { return "/speculative/pull-requests?pullRequest=" + url.QueryEscape(pr) }

	anon := newBrowser(t, ts.URL)
	for _, p := range []string{"/speculative/pull-requests", treeOf(s.rootA)} {
		code, body := anon.get(p)
		assert.Equal(t, http.StatusUnauthorized, code, p)
		assert.NotContains(t, body, "r1.git", p)
	}

	// The twin: tree A, root first and down each chain.
	code, nodes := apiGet[[]service.SpeculativeNode](t, ts.URL, "/api/speculative/pull-requests?pullRequest="+url.QueryEscape(s.rootA))
	require.Equal(t, http.StatusOK, code)
	type row struct {
		URL, State, Gate string
		Depth            int
	}
	var got []row
	for _, n := range nodes {
		got = append(got, row{n.PullRequestURL, n.State, n.Gate, n.Depth})
	}
	assert.Equal(t, []row{{s.a[1].URL, maestro.SpeculativeMoved, "passed", 1}, {s.a[2].URL, maestro.SpeculativeOpen, "waiting", 2},
		{s.a[3].URL, maestro.SpeculativeOpen, "waiting", 2}}, got)
	code, all := apiGet[[]service.SpeculativeNode](t, ts.URL, "/api/speculative/pull-requests")
	require.Equal(t, http.StatusOK, code)
	assert.Len(t, all, 5, "every tree: three of A, one of B, one of C")

	b := newBrowser(t, ts.URL)
	b.signIn(fileReadToken)
	code, list := b.get("/speculative/pull-requests")
	require.Equal(t, http.StatusOK, code, list)
	assert.Contains(t, list, `aria-current="page">Speculative pull requests</a>`)
	for _, root := range []struct{ url, state, counts string }{
		{s.rootA, "merged", `<span class="prstate-open">2 open</span>, <span class="prstate-moved">1 moved</span>`},
		{s.rootB, "closed", `<span class="prstate-closed">1 closed</span>`},
		{s.rootC, "closed", `<span class="prstate-open">1 open</span>`},
	} {
		at := strings.Index(list, `<code>`+root.url+`</code>`)
		require.GreaterOrEqual(t, at, 0, "a row of root %s: %s", root.url, list)
		tr := list[strings.LastIndex(list[:at], "<tr>"):]
		tr = tr[:strings.Index(tr, "</tr>")]
		href := regexp.MustCompile(`<a href="([^"]+)">`).FindStringSubmatch(tr)
		require.NotNil(t, href, tr)
		link, err := url.Parse(href[1])
		require.NoError(t, err)
		assert.Equal(t, "/speculative/pull-requests", link.Path)
		assert.Equal(t, root.url, link.Query().Get("pullRequest"), "the link leads to the root's tree")
		assert.Contains(t, tr, `<span class="prstate-`+root.state+`">`+root.state+`</span>`, root.url)
		assert.Contains(t, tr, root.counts, root.url)
	}

	code, tree := b.get(treeOf(s.rootA))
	require.Equal(t, http.StatusOK, code, tree)
	rows := regexp.MustCompile(`(?s)<tr class="prstate-(\w+)">\s*<td>(\d)</td>.*?<td>(?:<span class="gate-\w+">)?(\w+|—)(?:</span>)?</td>\s*<td>[^<]*</td>\s*</tr>`).FindAllStringSubmatch(tree, -1)
	var cells []string
	for _, r := range rows {
		cells = append(cells, r[1]+" "+r[2]+" "+r[3])
	}
	assert.Equal(t, []string{"moved 1 passed", "open 2 waiting", "open 2 waiting"}, cells, "each row coloured by its state, the gate written out")
	assert.Contains(t, tree, `role="img" aria-label="Speculative pull requests below `+s.rootA+`: 3 pull requests"`)
	assert.Equal(t, 4, strings.Count(tree, `<g class="node">`), "the root and the three drawn")
	assert.Equal(t, 3, strings.Count(tree, `<g class="edge">`))
	assert.Contains(t, tree, "Above them: ")
	assert.Contains(t, tree, `(<span class="prstate-merged">merged</span>)`)
	assert.Contains(t, tree, `href="/api/speculative/pull-requests?pullRequest=`+url.QueryEscape(s.rootA)+`"`)

	_, treeC := b.get(treeOf(s.rootC))
	assert.Contains(t, treeC, `<span class="gate-failed">failed</span>`, "C closed on its host: the gate below it failed")
	_, treeB := b.get(treeOf(s.rootB))
	assert.Contains(t, treeB, `<tr class="prstate-closed">`)
	assert.Contains(t, treeB, "closed without merging")
	// Asked mid-chain: a[1] and the two below it, the root above.
	_, mid := b.get(treeOf(s.a[1].URL))
	assert.Equal(t, 3, strings.Count(mid, `<tr class="prstate-`))
	assert.Equal(t, 4, strings.Count(mid, `<g class="node">`))

	for p, want := range map[string]int{
		"/speculative/pull-requests?pullRequest=nonsense":        http.StatusBadRequest,
		"/speculative/pull-requests?x=1":                         http.StatusBadRequest,
		"/speculative/pull-requests?pullRequest=a&pullRequest=b": http.StatusBadRequest,
		treeOf("https://github.com/dotnet/runtime/pull/404"):     http.StatusOK,
	} {
		code, body := b.get(p)
		assert.Equal(t, want, code, "%s: %s", p, body)
	}
	_, none := b.get(treeOf("https://github.com/dotnet/runtime/pull/404"))
	assert.Contains(t, none, "No speculative pull request below this one.")
}
