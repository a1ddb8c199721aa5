package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
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
	benchPage(b, fmt.Sprintf("%s/builds/%d", ts.URL, root), "61 builds, 200 dependencies", `role="img" aria-label="Dependency graph of build`)
}

// benchPage gets url one request at a time over loopback and reports the
// latencies and the page's size; every answer must be 200 and hold each
// of must.
func benchPage(b *testing.B, url string, must ...string) {
	b.Helper()
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
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d %v %.300s", url, resp.StatusCode, err, body)
		}
		for _, m := range must {
			if !strings.Contains(string(body), m) {
				b.Fatalf("GET %s: no %q in %.300s", url, m, body)
			}
		}
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(size)/1024, "page-KB")
}

// BenchmarkSitePageProductBuild serves the page of a speculative product
// build of a 60-repository product (6 levels of 10, each repository taking
// three of the level above; one failed on level 2, its downstream skipped;
// a critical path of 6) — a report kept as a run keeps it, the mainline
// times worked out from the registry, the graph drawn (laid out by the
// first request, from the cache after) and the table — from a registry on
// the local store.
func BenchmarkSitePageProductBuild(b *testing.B) {
	st, err := local.Open(b.TempDir())
	require.NoError(b, err)
	reg := registry.New(st)
	_, _, err = reg.Init(b.Context())
	require.NoError(b, err)
	ch, err := reg.AddChannel(b.Context(), ".NET 11", "product")
	require.NoError(b, err)
	const levels, width = 6, 10
	name := func(l, i int) string { return fmt.Sprintf("https://github.com/contoso/repo-%d-%d", l, i) }
	start := time.Date(2026, 12, 5, 15, 0, 0, 0, time.UTC)
	pb := maestro.ProductBuild{ID: "20261205T150000.000Z-0badcafe", Channel: ch, Inject: []string{name(0, 0) + "@" + strings.Repeat("1", 40)},
		Result: maestro.SpeculativeFailed, Started: start, Finished: start.Add(time.Hour), WallSeconds: 3600, Platform: "local"}
	failed := map[string]bool{}
	for l := range levels {
		for i := range width {
			e := maestro.ProductBuildEntry{Repository: name(l, i), Branch: "main", Commit: fmt.Sprintf("%040x", l*width+i+1), Level: l,
				Upstream: []string{}, Result: maestro.SpeculativeSucceeded, Seconds: float64(60 + i), BuildID: 1_000_000_000 + l*width + i}
			if l > 0 {
				for k := range 3 {
					e.Upstream = append(e.Upstream, name(l-1, (i+k)%width))
				}
			}
			for _, u := range e.Upstream {
				if failed[u] {
					e.Result, e.Reason, e.BuildID, e.Seconds = maestro.SpeculativeSkipped, "upstream "+u+" failed", 0, 0
				}
			}
			if l == 2 && i == 0 {
				e.Result, e.Reason, e.BuildID = maestro.SpeculativeFailed, "build command: exit status 3", 0
			}
			if e.Result == maestro.SpeculativeFailed || e.Result == maestro.SpeculativeSkipped {
				failed[e.Repository] = true
			}
			pb.Repositories = append(pb.Repositories, e)
		}
	}
	for l := range levels {
		pb.CriticalPath = append(pb.CriticalPath, name(l, 9))
		pb.CriticalPathSeconds += 69
	}
	require.NoError(b, reg.SaveProductBuild(b.Context(), pb))
	ts := httptest.NewServer(siteHandler(b, reg, "  anonymousRead: true\n"))
	defer ts.Close()
	benchPage(b, ts.URL+"/speculative/builds/"+pb.ID, `role="img" aria-label="Speculative product build `+pb.ID+`: 60 repositories, failed"`)
}

// BenchmarkSitePageSpeculativeTree serves the page of a tree of
// speculative pull requests the flow service built on local repositories
// (seedSpecTrees: a root and three pull requests below it), each state
// and gate read from the local host per request as `speculative status`
// reads them, the tree drawn (from the cache after the first request).
func BenchmarkSitePageSpeculativeTree(b *testing.B) {
	st, err := local.Open(b.TempDir())
	require.NoError(b, err)
	reg := registry.New(st)
	_, _, err = reg.Init(b.Context())
	require.NoError(b, err)
	s := seedSpecTrees(b, reg, "")
	ts := httptest.NewServer(siteHandler(b, reg, "  anonymousRead: true\n"))
	defer ts.Close()
	benchPage(b, ts.URL+"/speculative/pull-requests?pullRequest="+neturl.QueryEscape(s.rootA), ": 3 pull requests\"")
}
