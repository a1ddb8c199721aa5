package graph

import (
	"fmt"
	"io"
)

// Picture is a graph whose nodes and edges the caller styles: what the
// status site draws of a tree of speculative pull requests (coloured by
// state and gate) and of a speculative product build (coloured by outcome,
// the critical path marked). The data behind it is the caller's; a Picture
// only draws it, as DOT text (laid out by LayoutSVG) — the page's table
// beside it is the text alternative.
type Picture struct {
	Title string
	Nodes []PictureNode
	Edges []PictureEdge
}

// PictureNode is one box of a Picture.
type PictureNode struct {
	ID    string   // unique in the picture: letters, digits and _
	Lines []string // its label, one entry per line
	// Color is the outline's colour, Fill the box's ("" for Graphviz's
	// defaults: black, no fill). Width is the outline's width (0: 1).
	Color, Fill string
	Width       int
	Dashed      bool // a dashed outline
	Double      bool // a second outline
}

// PictureEdge is one arrow of a Picture, From → To (node IDs).
type PictureEdge struct {
	From, To string
	Label    string // "" for none; lines separated by \n
	Color    string // "" for black; the label is drawn in it too
	Width    int    // 0: 1
	Dashed   bool
}

// DOT writes the picture as DOT text, as the other graphs write theirs.
func (p *Picture) DOT(w io.Writer) error {
	d := diagram{title: p.Title}
	for _, n := range p.Nodes {
		d.nodes = append(d.nodes, dnode{id: n.ID, lines: n.Lines, color: n.Color, fill: n.Fill, width: n.Width, dashed: n.Dashed, double: n.Double})
	}
	for _, e := range p.Edges {
		de := dedge{from: e.From, to: e.To, label: e.Label, color: e.Color, width: max(e.Width, 1), dashed: e.Dashed}
		d.edges = append(d.edges, de)
	}
	for _, e := range d.edges {
		if !validID(e.from) || !validID(e.to) {
			return fmt.Errorf("draw %s: an edge %q → %q between node IDs that are not plain words", p.Title, e.from, e.to)
		}
	}
	for _, n := range d.nodes {
		if !validID(n.id) {
			return fmt.Errorf("draw %s: node ID %q is not a plain word", p.Title, n.id)
		}
	}
	return writeDOT(w, d)
}

// validID: a DOT ID written unquoted must be letters, digits and _, not
// starting with a digit.
func validID(id string) bool {
	if id == "" || id[0] >= '0' && id[0] <= '9' {
		return false
	}
	for _, r := range id {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
