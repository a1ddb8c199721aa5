package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"io"
	"strings"
	"sync"

	"github.com/maestroplusplus/maestro/internal/graph"
)

// The status site draws the build page's dependency graph and the flow
// graph as inline SVG: the DOT text the graph package writes, laid out by
// Graphviz in-process (graph.LayoutSVG), cleaned to an allowlist of SVG
// elements and attributes, and cached by the DOT text's SHA-256 — a build
// is immutable, but its graph's ages and "newer builds?" change, and those
// change the DOT text, so a changed graph is a new key, never a stale
// picture. The table or list beside it stays the text alternative.

const (
	// svgCacheEntries bounds the cache; the oldest entry goes first.
	svgCacheEntries = 64
	// svgMaxItems: a graph with more nodes and edges than this is not
	// drawn (its layout would hold the one Graphviz instance for seconds);
	// the page says so and keeps the table.
	svgMaxItems = 2000
)

// svgCache holds laid-out graphs by the SHA-256 of their DOT text.
type svgCache struct {
	mu    sync.Mutex
	byKey map[[32]byte]template.HTML
	order [][32]byte // insertion order, for eviction
}

func newSVGCache() *svgCache { return &svgCache{byKey: map[[32]byte]template.HTML{}} }

func (c *svgCache) get(k [32]byte) (template.HTML, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.byKey[k]
	return v, ok
}

func (c *svgCache) put(k [32]byte, v template.HTML) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[k]; ok {
		return
	}
	if len(c.order) >= svgCacheEntries {
		delete(c.byKey, c.order[0])
		c.order = c.order[1:]
	}
	c.byKey[k] = v
	c.order = append(c.order, k)
}

// graphSVG returns the graph drawn as inline SVG named label, from the cache
// when the same DOT text was drawn before; "" when the graph is too large
// to draw. render is the graph's Render method.
func (s *Server) graphSVG(render func(io.Writer, graph.Format) error, items int, label string) (template.HTML, error) {
	if items > svgMaxItems {
		return "", nil
	}
	var dot bytes.Buffer
	if err := render(&dot, graph.DOT); err != nil {
		return "", fmt.Errorf("write the graph's DOT text: %w", err)
	}
	key := svgKey(dot.Bytes(), label)
	if v, ok := s.svgs.get(key); ok {
		return v, nil
	}
	raw, err := graph.LayoutSVG(dot.Bytes())
	if err != nil {
		return "", err
	}
	v, err := inlineSVG(raw, label)
	if err != nil {
		return "", err
	}
	s.svgs.put(key, v)
	return v, nil
}

// pageSVG is graphSVG for a page: a layout that fails is logged and the
// page goes without the picture (the table is still there).
func (s *Server) pageSVG(render func(io.Writer, graph.Format) error, items int, label string) template.HTML {
	v, err := s.graphSVG(render, items, label)
	if err != nil {
		s.log.Error("status site: draw the graph", "graph", label, "err", err)
	}
	return v
}

// svgKey is the cache key of a graph's DOT text drawn under label.
func svgKey(dot []byte, label string) [32]byte {
	h := sha256.New()
	h.Write(dot)
	h.Write([]byte{0})
	h.Write([]byte(label))
	return [32]byte(h.Sum(nil))
}

// svgAttrs are the attributes inlineSVG keeps, per element ("" for all).
var (
	svgElements = map[string]bool{"svg": true, "g": true, "title": true, "path": true, "polygon": true,
		"polyline": true, "ellipse": true, "text": true}
	svgAttrs = map[string]bool{"class": true, "transform": true, "fill": true, "stroke": true,
		"stroke-width": true, "stroke-dasharray": true, "points": true, "d": true, "x": true, "y": true,
		"cx": true, "cy": true, "rx": true, "ry": true, "text-anchor": true, "font-family": true,
		"font-size": true, "font-weight": true, "font-style": true, "width": true, "height": true, "viewBox": true}
)

// svgEscape escapes text and attribute values (newlines stay as they are).
var svgEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;")

// inlineSVG rewrites Graphviz's SVG document for an HTML page: elements and
// attributes from an allowlist only (an unknown element is an error, an
// unknown attribute is dropped), no prolog, doctype, comments or ids, the
// root named label for assistive technology (role="img", aria-label and a
// <title>) so the page's table is what a screen reader reads.
func inlineSVG(doc []byte, label string) (template.HTML, error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	dec.Strict = true
	var b strings.Builder
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("read Graphviz's SVG: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if !svgElements[name] || (depth == 0) != (name == "svg") {
				return "", fmt.Errorf("read Graphviz's SVG: unexpected element <%s>", name)
			}
			b.WriteString("<" + name)
			if depth == 0 {
				b.WriteString(` xmlns="http://www.w3.org/2000/svg" role="img" aria-label="`)
				b.WriteString(svgEscape.Replace(label))
				b.WriteString(`"`)
			}
			for _, a := range t.Attr {
				if a.Name.Space != "" || !svgAttrs[a.Name.Local] {
					continue
				}
				b.WriteString(" " + a.Name.Local + `="`)
				b.WriteString(svgEscape.Replace(a.Value))
				b.WriteString(`"`)
			}
			b.WriteString(">")
			if depth == 0 {
				b.WriteString("<title>")
				b.WriteString(svgEscape.Replace(label))
				b.WriteString("</title>")
			}
			depth++
		case xml.EndElement:
			depth--
			b.WriteString("</" + t.Name.Local + ">")
		case xml.CharData:
			if depth > 0 {
				b.WriteString(svgEscape.Replace(string(t)))
			}
		}
	}
	if depth != 0 || b.Len() == 0 {
		return "", errors.New("read Graphviz's SVG: no <svg> document")
	}
	return template.HTML(b.String()), nil //nolint:gosec // rebuilt from an allowlist above, every value escaped
}
