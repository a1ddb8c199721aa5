package graph_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/graph"
)

// TestPictureDOT: a Picture's styles become DOT attributes, labels are
// quoted (a quote, a backslash, a line break in stored text stay inside
// the label), and an ID that is not a plain word is refused.
func TestPictureDOT(t *testing.T) {
	p := &graph.Picture{Title: "t", Nodes: []graph.PictureNode{
		{ID: "a", Lines: []string{`say "hi"\`, "line\nbreak"}, Color: "#1a7f37", Fill: "#dcf5e3", Width: 2, Double: true},
		{ID: "b", Lines: []string{"b"}, Color: "#595959", Dashed: true},
		{ID: "c", Lines: []string{"c"}},
	}, Edges: []graph.PictureEdge{{From: "a", To: "b", Label: "gate waiting", Color: "#8a5a00", Width: 2, Dashed: true}, {From: "a", To: "c"}}}
	var b strings.Builder
	require.NoError(t, p.DOT(&b))
	want := `digraph "t" {
  rankdir=LR;
  node [shape=box, style=rounded, fontname="Helvetica", fontsize=10];
  edge [fontname="Helvetica", fontsize=9];
  a [label="say \"hi\"\\\nline break", color="#1a7f37", penwidth=2, fillcolor="#dcf5e3", style="rounded,filled", peripheries=2];
  b [label="b", color="#595959", style="rounded,dashed"];
  c [label="c"];
  a -> b [label="gate waiting", penwidth=2, style="dashed", color="#8a5a00", fontcolor="#8a5a00"];
  a -> c [penwidth=1];
}
`
	assert.Equal(t, want, b.String())
	svg, err := graph.LayoutSVG([]byte(b.String()))
	require.NoError(t, err, "Graphviz reads it")
	assert.Contains(t, string(svg), `fill="#dcf5e3" stroke="#1a7f37"`)

	for _, bad := range []*graph.Picture{
		{Nodes: []graph.PictureNode{{ID: "a b"}}},
		{Nodes: []graph.PictureNode{{ID: "1a"}}},
		{Nodes: []graph.PictureNode{{ID: "a"}}, Edges: []graph.PictureEdge{{From: "a", To: "b;c"}}},
	} {
		assert.Error(t, bad.DOT(&strings.Builder{}))
	}
}
