package graph_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/graph"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// svgShape is a drawn element of a node or an edge.
type svgShape struct {
	XMLName   xml.Name
	Fill      string `xml:"fill,attr"`
	Stroke    string `xml:"stroke,attr"`
	Width     string `xml:"stroke-width,attr"`
	DashArray string `xml:"stroke-dasharray,attr"`
}

// svgGroup is a <g> of Graphviz's SVG: a node or an edge, named by its
// title ("b1", "b1->b2").
type svgGroup struct {
	Class  string     `xml:"class,attr"`
	Title  string     `xml:"title"`
	Text   []string   `xml:"text"`
	Shapes []svgShape `xml:",any"`
}

// outline is the group's first drawn shape: a node's box or an edge's line.
func (g svgGroup) outline() svgShape {
	for _, s := range g.Shapes {
		if s.XMLName.Local == "path" || s.XMLName.Local == "polygon" {
			return s
		}
	}
	return svgShape{}
}

func (g svgGroup) outlines() int {
	n := 0
	for _, s := range g.Shapes {
		if s.XMLName.Local == "path" || s.XMLName.Local == "polygon" {
			n++
		}
	}
	return n
}

// parseSVG renders the SVG, parses it as XML and returns its nodes and
// edges by title, checking that each title is there once.
func parseSVG(t *testing.T, render func(io.Writer, graph.Format) error) (nodes, edges map[string]svgGroup) {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, render(&buf, graph.SVG))
	var doc struct {
		XMLName xml.Name `xml:"svg"`
		Groups  []struct {
			Class  string     `xml:"class,attr"`
			Groups []svgGroup `xml:"g"`
		} `xml:"g"`
	}
	dec := xml.NewDecoder(&buf)
	dec.Strict = true
	require.NoError(t, dec.Decode(&doc), "the SVG is well-formed XML")
	require.Len(t, doc.Groups, 1, "one graph")
	nodes, edges = map[string]svgGroup{}, map[string]svgGroup{}
	for _, g := range doc.Groups[0].Groups {
		m := map[string]map[string]svgGroup{"node": nodes, "edge": edges}[g.Class]
		require.NotNil(t, m, "group %q of class %q", g.Title, g.Class)
		require.NotContains(t, m, g.Title, "drawn once")
		m[g.Title] = g
	}
	return nodes, edges
}

// TestSVGBuildGraph: every node and edge of the diamond is drawn, with
// its label; the conflicting arcade builds red and filled as in the DOT
// text, toolset edges dashed, product edges wider.
func TestSVGBuildGraph(t *testing.T) {
	s, sdk := seedDiamond(t)
	g, err := graph.BuildDependencies(s.ctx, s.reg, sdk, 0, now)
	require.NoError(t, err)
	nodes, edges := parseSVG(t, g.Render)
	checkBuildSVG(t, g, nodes, edges)
	conflicts := 0
	for _, n := range g.Nodes {
		if n.Conflict {
			conflicts++
		}
	}
	assert.Equal(t, 2, conflicts, "the two arcade builds")
}

func checkBuildSVG(t *testing.T, g *graph.BuildGraph, nodes, edges map[string]svgGroup) {
	t.Helper()
	require.Len(t, nodes, len(g.Nodes))
	require.Len(t, edges, len(g.Edges))
	for _, n := range g.Nodes {
		name := fmt.Sprintf("b%d", n.ID)
		got, ok := nodes[name]
		if !assert.True(t, ok, "node %s is drawn", name) {
			continue
		}
		box := got.outline()
		if n.Conflict {
			assert.Equal(t, shapeStyle{"#fde2e2", "red", "2", ""}, style(box), "%s is a conflict", name)
		} else {
			assert.Equal(t, shapeStyle{"none", "black", "", ""}, style(box), name)
		}
		require.NotEmpty(t, got.Text, name)
		assert.Equal(t, strings.TrimPrefix(n.Repository, "https://"), got.Text[0], "%s's label", name)
	}
	for _, e := range g.Edges {
		name := fmt.Sprintf("b%d->b%d", e.From, e.To)
		got, ok := edges[name]
		if !assert.True(t, ok, "edge %s is drawn", name) {
			continue
		}
		want := shapeStyle{"none", "black", "2", ""}
		if !e.Product {
			want = shapeStyle{"none", "black", "", "5,2"}
		}
		assert.Equal(t, want, style(got.outline()), name)
		assert.Equal(t, []string{e.Kind()}, got.Text, "%s's label", name)
	}
}

type shapeStyle struct{ fill, stroke, width, dash string }

func style(s svgShape) shapeStyle { return shapeStyle{s.Fill, s.Stroke, s.Width, s.DashArray} }

// TestSVGFlowGraph: the cycle's repositories and subscriptions are all
// drawn; the cycle's repositories with a double purple border, the failing
// subscription red, the disabled one dashed, the one that never flows
// dotted, the cycle's other edge purple.
func TestSVGFlowGraph(t *testing.T) {
	s, _ := seedCycle(t)
	g, err := graph.FlowSubscriptions(s.ctx, s.reg, 0)
	require.NoError(t, err)
	nodes, edges := parseSVG(t, g.Render)
	require.Len(t, nodes, len(g.Repositories))
	require.Len(t, edges, len(g.Flows))
	idx := func(r string) int {
		return slices.IndexFunc(g.Repositories, func(x graph.Repository) bool { return x.Repository == r })
	}
	inCycle := map[string]bool{}
	for _, c := range g.Cycles {
		for _, r := range c {
			inCycle[r] = true
		}
	}
	for i, r := range g.Repositories {
		name := fmt.Sprintf("r%d", i)
		got, ok := nodes[name]
		if !assert.True(t, ok, "node %s is drawn", name) {
			continue
		}
		assert.Equal(t, []string{strings.TrimPrefix(r.Repository, "https://")}, got.Text, name)
		if inCycle[r.Repository] {
			assert.Equal(t, 2, got.outlines(), "%s has a double border", name)
			assert.Equal(t, "purple", got.outline().Stroke, name)
		} else {
			assert.Equal(t, 1, got.outlines(), name)
			assert.Equal(t, "black", got.outline().Stroke, name)
		}
	}
	var kinds []string
	for _, f := range g.Flows {
		name := fmt.Sprintf("r%d->r%d", idx(f.Source), idx(f.Target))
		got, ok := edges[name]
		if !assert.True(t, ok, "edge %s is drawn", name) {
			continue
		}
		line := got.outline()
		switch {
		case f.Failing:
			kinds = append(kinds, "failing")
			assert.Equal(t, "#c00000", line.Stroke, "%s is red", name)
		case !f.Enabled:
			kinds = append(kinds, "disabled")
			assert.Equal(t, "5,2", line.DashArray, "%s is dashed", name)
		case f.Frequency == "none":
			kinds = append(kinds, "never")
			assert.Equal(t, "1,5", line.DashArray, "%s is dotted", name)
		case f.InCycle:
			kinds = append(kinds, "cycle")
			assert.Equal(t, "purple", line.Stroke, name)
		default:
			assert.Equal(t, shapeStyle{"none", "black", line.Width, ""}, style(line), name)
		}
		require.NotEmpty(t, got.Text, name)
		assert.Equal(t, string(f.Frequency), got.Text[0], "%s's label", name)
	}
	assert.ElementsMatch(t, []string{"failing", "disabled", "never", "cycle"}, kinds, "every style is tested")
}

// TestSVGProduct: the 60-repository product's 61 nodes and 200 edges are
// all drawn.
func TestSVGProduct(t *testing.T) {
	s, root := seedProduct(t, mem.New())
	g, err := graph.BuildDependencies(s.ctx, s.reg, root, 0, now)
	require.NoError(t, err)
	nodes, edges := parseSVG(t, g.Render)
	checkBuildSVG(t, g, nodes, edges)
}

// TestLayoutSVGBadDOT: text Graphviz cannot read is an error, not a panic
// or an empty picture.
func TestLayoutSVGBadDOT(t *testing.T) {
	_, err := graph.LayoutSVG([]byte("digraph { a -> "))
	assert.ErrorContains(t, err, "graphviz: read the DOT text")
}
