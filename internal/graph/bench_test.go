package graph_test

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/graph"
	"github.com/maestroplusplus/maestro/internal/store/local"
)

// BenchmarkBuildDependenciesProduct reads the dependency graph of a product
// build over 60 repositories, 6 levels deep (see seedProduct), from a
// registry on the local store, with the newer-build lookups; docs/performance.md
// keeps the figure (goal: at most 100 ms).
func BenchmarkBuildDependenciesProduct(b *testing.B) {
	st, err := local.Open(b.TempDir())
	require.NoError(b, err)
	s, root := seedProduct(b, st)
	b.ResetTimer()
	for b.Loop() {
		g, err := graph.BuildDependencies(s.ctx, s.reg, root, 0, now)
		if err != nil || len(g.Nodes) != 61 {
			b.Fatalf("graph of %d nodes, %v", len(g.Nodes), err)
		}
	}
}

// BenchmarkRenderSVGProduct lays the product's graph (61 nodes, 200 edges)
// out as SVG with Graphviz in WebAssembly, after the first layout has
// compiled the module; docs/performance.md keeps the figure (no goal of its
// own: the status site's build page caches the SVG).
func BenchmarkRenderSVGProduct(b *testing.B) {
	st, err := local.Open(b.TempDir())
	require.NoError(b, err)
	s, root := seedProduct(b, st)
	g, err := graph.BuildDependencies(s.ctx, s.reg, root, 0, now)
	require.NoError(b, err)
	require.NoError(b, g.Render(io.Discard, graph.SVG), "compile the module before timing")
	b.ResetTimer()
	for b.Loop() {
		if err := g.Render(io.Discard, graph.SVG); err != nil {
			b.Fatal(err)
		}
	}
}
