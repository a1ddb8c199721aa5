package graph

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/goccy/go-graphviz"
)

// layoutMu serialises the layouts: go-graphviz runs every graph in one
// WebAssembly module instance, which is not safe for concurrent calls.
var layoutMu sync.Mutex

// LayoutSVG lays DOT text out with Graphviz's dot and returns the SVG.
// Graphviz is compiled to WebAssembly and run in-process by go-graphviz (our
// patched copy in internal/thirdparty/go-graphviz): no cgo and no Graphviz
// binary on the user's machine. The first call in a process compiles the
// module (about a second without a warm cache, see docs/performance.md);
// a process that never lays out a graph pays nothing. Calls are serialised.
func LayoutSVG(dot []byte) ([]byte, error) {
	layoutMu.Lock()
	defer layoutMu.Unlock()
	ctx := context.Background()
	gv, err := graphviz.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("start graphviz: %w", err)
	}
	defer gv.Close()
	g, err := graphviz.ParseBytes(dot)
	if err != nil {
		return nil, fmt.Errorf("graphviz: read the DOT text: %w", err)
	}
	defer g.Close()
	var out bytes.Buffer
	if err := gv.Render(ctx, g, graphviz.SVG, &out); err != nil {
		return nil, fmt.Errorf("graphviz: lay out the graph as SVG: %w", err)
	}
	return out.Bytes(), nil
}

// renderSVG writes the diagram's DOT text laid out as SVG.
func renderSVG(w io.Writer, d diagram) error {
	var dot strings.Builder
	if err := writeDOT(&dot, d); err != nil {
		return err
	}
	svg, err := LayoutSVG([]byte(dot.String()))
	if err != nil {
		return err
	}
	_, err = w.Write(svg)
	return err
}
