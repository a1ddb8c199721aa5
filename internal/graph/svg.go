package graph

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/goccy/go-graphviz"
)

// renderSVG lays the diagram out with Graphviz's dot, compiled to
// WebAssembly and run in-process by go-graphviz: no cgo, and no Graphviz
// binary on the user's machine.
func renderSVG(w io.Writer, d diagram) error {
	var dot strings.Builder
	if err := writeDOT(&dot, d); err != nil {
		return err
	}
	ctx := context.Background()
	gv, err := graphviz.New(ctx)
	if err != nil {
		return fmt.Errorf("start graphviz: %w", err)
	}
	defer gv.Close()
	g, err := graphviz.ParseBytes([]byte(dot.String()))
	if err != nil {
		return fmt.Errorf("graphviz: read the DOT text: %w", err)
	}
	defer g.Close()
	if err := gv.Render(ctx, g, graphviz.SVG, w); err != nil {
		return fmt.Errorf("graphviz: lay out the graph as SVG: %w", err)
	}
	return nil
}
