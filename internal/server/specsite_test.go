package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// TestSiteProductBuild: the status site's page of a speculative product
// build report — the diamond A ← B, C ← D with B failed, C partially
// succeeded and D skipped — shows each repository's row coloured by its
// result with the result written out, what it took and what took it, the
// critical path and the mainline comparison (unknown here); its JSON twin
// is the API's report; the list links to it; a reader must sign in.
func TestSiteProductBuild(t *testing.T) {
	reg := newRegistry(t)
	pb := saveProductBuild(t, reg, "https://github.com/dotnet")
	ts := httptest.NewServer(siteHandler(t, reg, ""))
	defer ts.Close()

	anon := newBrowser(t, ts.URL)
	for _, p := range []string{"/speculative/builds", "/speculative/builds/" + pb.ID} {
		code, body := anon.get(p)
		assert.Equal(t, http.StatusUnauthorized, code, p)
		assert.NotContains(t, body, "dotnet/a", p)
	}
	b := newBrowser(t, ts.URL)
	b.signIn(fileReadToken)
	code, list := b.get("/speculative/builds")
	require.Equal(t, http.StatusOK, code, list)
	assert.Contains(t, list, `<a href="/speculative/builds/`+pb.ID+`">`+pb.ID+`</a>`)
	assert.Contains(t, list, `aria-current="page">Speculative builds</a>`)
	code, page := b.get("/speculative/builds/" + pb.ID)
	require.Equal(t, http.StatusOK, code, page)
	rows := regexp.MustCompile(`(?s)<tr class="spec-(\w+)">\s*<td>(\d)</td>\s*<td>dotnet/(\w)`).FindAllStringSubmatch(page, -1)
	var got []string
	for _, r := range rows {
		got = append(got, r[3]+" "+r[2]+" "+r[1])
	}
	assert.Equal(t, []string{"a 0 succeeded", "b 1 failed", "c 1 partiallySucceeded", "d 2 skipped"}, got, "each row coloured by its result, in build order")
	assert.Contains(t, page, "<td>partiallySucceeded</td>", "the result written out, not only the colour")
	assert.Contains(t, page, "dotnet/a (injected) <strong>critical path</strong>")
	assert.Contains(t, page, "<td>dotnet/b, dotnet/c</td>", "what D took")
	assert.Contains(t, page, `<a href="https://dev.azure.com/dnceng/internal/_build/results?buildId=77">Azure DevOps build 77</a>`)
	assert.Contains(t, page, "upstream https://github.com/dotnet/b failed")
	assert.Contains(t, page, "dotnet/a → dotnet/c (6.0s)")
	assert.Contains(t, page, "<dt>Through mainline</dt><dd>unknown")
	assert.Contains(t, page, `<a href="/api/speculative/builds/`+pb.ID+`">JSON</a>`)
	assert.Contains(t, page, "<h1")
	// The graph drawn: a box per repository, an arrow per upstream, the
	// critical path's boxes marked.
	assert.Contains(t, page, `role="img" aria-label="Speculative product build `+pb.ID+`: 4 repositories, failed"`)
	assert.Equal(t, 4, strings.Count(page, `<g class="node">`))
	assert.Equal(t, 4, strings.Count(page, `<g class="edge">`), "a→b, a→c, b→d, c→d")
	assert.Equal(t, 2, strings.Count(page, ">critical path</text>"), "a and c")
	assert.Regexp(t, `>dotnet/d</text>\s*<text[^>]*>skipped · 3\.0s</text>`, page)

	// The twin.
	req, err := http.NewRequest("GET", ts.URL+"/api/speculative/builds/"+pb.ID, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+readToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var twin maestro.ProductBuild
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&twin))
	assert.Equal(t, pb, twin)

	for p, want := range map[string]int{
		"/speculative/builds/20261205T160000.000Z-00000000": http.StatusNotFound,
		"/speculative/builds/" + pb.ID + "?x=1":             http.StatusBadRequest,
		"/speculative/builds?x=1":                           http.StatusBadRequest,
	} {
		code, body := b.get(p)
		assert.Equal(t, want, code, "%s: %s", p, body)
	}
}

// saveProductBuild keeps the report of a speculative product build of the
// diamond A ← B, C ← D of repositories under owner (a URL) on a new channel:
// A injected and built through Azure DevOps, B failed, C partially
// succeeded, D skipped; the critical path A → C.
func saveProductBuild(t *testing.T, reg *registry.Registry, owner string) maestro.ProductBuild {
	t.Helper()
	ch, err := reg.AddChannel(t.Context(), ".NET 10 product builds", "product")
	require.NoError(t, err)
	repo := func(n string) string { return owner + "/" + n }
	start := time.Date(2026, 12, 5, 15, 0, 0, 0, time.UTC)
	entry := func(n, result, reason string, level int, up ...string) maestro.ProductBuildEntry {
		e := maestro.ProductBuildEntry{Repository: repo(n), Branch: "main", Commit: "1111111111111111111111111111111111111111", Level: level,
			Upstream: []string{}, Result: result, Reason: reason, Seconds: 3}
		for _, u := range up {
			e.Upstream = append(e.Upstream, repo(u))
		}
		return e
	}
	a := entry("a", maestro.SpeculativeSucceeded, "", 0)
	a.Injected, a.BuildID, a.AzureDevOpsBuildID, a.AzureDevOpsBuildURL = true, 1_000_000_001, 77, "https://dev.azure.com/dnceng/internal/_build/results?buildId=77"
	pb := maestro.ProductBuild{ID: "20261205T150000.000Z-1a2b3c4d", Channel: ch, Inject: []string{repo("a") + "@1111111111111111111111111111111111111111"},
		Result: maestro.SpeculativeFailed, Started: start, Finished: start.Add(10 * time.Second), WallSeconds: 10, Platform: "azure-devops",
		Repositories: []maestro.ProductBuildEntry{a,
			entry("b", maestro.SpeculativeFailed, "Azure DevOps build 20261205.2 (id 78) failed", 1, "a"),
			entry("c", maestro.SpeculativePartiallySucceeded, "Azure DevOps build 20261205.3 (id 79) partially succeeded", 1, "a"),
			entry("d", maestro.SpeculativeSkipped, "upstream "+repo("b")+" failed", 2, "b", "c")},
		CriticalPath: []string{repo("a"), repo("c")}, CriticalPathSeconds: 6}
	require.NoError(t, reg.SaveProductBuild(t.Context(), pb))
	return pb
}
