package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store/local"
)

// seedProductBuilds records, on reg, the product of
// BenchmarkBuildDependenciesProduct (internal/graph): 60 repositories in 6
// levels of 10, each taking three of the next level as product
// dependencies and, on levels 0-3, one toolset repository of the last
// level, each with an older build in the channel too; the product build
// takes the 10 of level 0 and has 100 assets. It returns the product build.
func seedProductBuilds(tb testing.TB, reg *registry.Registry) int {
	ctx := tb.Context()
	ch, err := reg.AddChannel(ctx, ".NET 11", "product")
	require.NoError(tb, err)
	const levels, width = 6, 10
	ids := map[string]int{}
	n := 0
	publish := func(key, repo string, hours int, deps []maestro.BuildDependency, assets int) int {
		n++
		b := maestro.Build{Repository: "https://github.com/contoso/" + repo, Branch: "main", Commit: fmt.Sprintf("%040x", n),
			AzureDevOpsAccount: "contoso", AzureDevOpsProject: "internal", AzureDevOpsBuildID: n,
			DateProduced: time.Now().Add(-time.Duration(hours) * time.Hour), Dependencies: deps}
		for a := range assets {
			b.Assets = append(b.Assets, maestro.Asset{Name: fmt.Sprintf("Contoso.%s.%d", repo, a), Version: fmt.Sprintf("1.0.%d", n),
				Locations: []maestro.AssetLocation{{Type: maestro.LocationNuGetFeed, Location: "https://pkgs.example.com/feed/index.json"}}})
		}
		res, err := reg.PublishBuild(ctx, b, registry.PublishOptions{Channels: []int{ch.ID}})
		require.NoError(tb, err)
		ids[key] = res.Build.ID
		return res.Build.ID
	}
	name := func(l, i int) string { return fmt.Sprintf("repo-%d-%d", l, i) }
	for l := levels - 1; l >= 0; l-- {
		for i := range width {
			var deps []maestro.BuildDependency
			if l < levels-1 {
				for k := range 3 {
					deps = append(deps, maestro.BuildDependency{BuildID: ids[name(l+1, (i+k)%width)], IsProduct: true})
				}
				if l < levels-2 {
					deps = append(deps, maestro.BuildDependency{BuildID: ids[name(levels-1, 0)]})
				}
			}
			publish(name(l, i)+"-old", name(l, i), 48, deps, 1)
			publish(name(l, i), name(l, i), 24, deps, 1)
		}
	}
	var top []maestro.BuildDependency
	for i := range width {
		top = append(top, maestro.BuildDependency{BuildID: ids[name(0, i)], IsProduct: true})
	}
	return publish("product", "product", 1, top, 100)
}

// BenchmarkSitePageBuild serves the build page of the product build (its
// 100 assets and its dependency graph of 61 builds and 200 edges, with the
// newer-build checks, as a table and drawn as SVG — laid out by the first
// request, from the cache after) from a registry on the local store, one request at a
// time over loopback; docs/performance.md keeps the figures (goal: at most
// 50 ms).
func BenchmarkSitePageBuild(b *testing.B) {
	st, err := local.Open(b.TempDir())
	require.NoError(b, err)
	reg := registry.New(st)
	_, _, err = reg.Init(b.Context())
	require.NoError(b, err)
	root := seedProductBuilds(b, reg)
	ts := httptest.NewServer(siteHandler(b, reg, "  anonymousRead: true\n"))
	defer ts.Close()
	url := fmt.Sprintf("%s/builds/%d", ts.URL, root)
	var took []time.Duration
	size := 0
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		took = append(took, time.Since(start))
		size = len(body)
		if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "61 builds, 200 dependencies") ||
			!strings.Contains(string(body), `role="img" aria-label="Dependency graph of build`) {
			b.Fatalf("GET %s: %d %v %.300s", url, resp.StatusCode, err, body)
		}
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(size)/1024, "page-KB")
}
