// Package xmledit makes splice edits to an xmltok document that follow the
// file's own layout: new elements go on their own lines at the indentation of
// their siblings, with the file's line ending.
package xmledit

import (
	"strings"

	"github.com/maestroplusplus/maestro/internal/deps/splice"
	"github.com/maestroplusplus/maestro/internal/deps/xmltok"
)

// SetAttr replaces an attribute's value, or adds the attribute after the last
// one when the element lacks it.
// Whitespace around the old value stays, as it is not part of the value.
func SetAttr(doc *xmltok.Document, n *xmltok.Node, name, value string) splice.Edit {
	if a := n.Attr(name); a != nil {
		start, end := trimSpan(doc.Src, a.ValueStart, a.ValueEnd)
		return splice.Edit{Start: start, End: end, Text: xmltok.EscapeAttr(value)}
	}
	at := n.Start + 1 + len(n.Name)
	if len(n.Attrs) > 0 {
		at = n.Attrs[len(n.Attrs)-1].End()
	}
	return splice.Edit{Start: at, End: at, Text: " " + name + `="` + xmltok.EscapeAttr(value) + `"`}
}

// AppendSetText appends to edits the edits that replace an element's content
// with text; rename, when not empty, also gives the element a new name. When
// the content is plain text, the whitespace around the old value stays; other
// content (a comment, say) is replaced whole.
func AppendSetText(edits []splice.Edit, doc *xmltok.Document, n *xmltok.Node, text, rename string) []splice.Edit {
	name := n.Name
	if rename != "" {
		name = rename
	}
	if n.SelfClosing {
		attrs := strings.TrimRight(string(doc.Src[n.Start+1+len(n.Name):n.StartTagEnd-2]), " \t\r\n")
		return append(edits, splice.Edit{Start: n.Start, End: n.End, Text: "<" + name + attrs + ">" + xmltok.EscapeText(text) + "</" + name + ">"})
	}
	start, end := n.StartTagEnd, n.EndTagStart
	if n.TextOnly() {
		if s, e := trimSpan(doc.Src, start, end); s < e {
			start, end = s, e
		}
	}
	if name == n.Name {
		return append(edits, splice.Edit{Start: start, End: end, Text: xmltok.EscapeText(text)})
	}
	// In document order, so that splice.Apply need not sort them.
	return append(edits,
		splice.Edit{Start: n.Start + 1, End: n.Start + 1 + len(n.Name), Text: name},
		splice.Edit{Start: start, End: end, Text: xmltok.EscapeText(text)},
		splice.Edit{Start: n.EndTagStart + 2, End: n.EndTagStart + 2 + len(n.Name), Text: name})
}

// IndentUnit guesses one level of indentation from the root's first child.
func IndentUnit(doc *xmltok.Document) string {
	for c := range doc.Root.Children() {
		if c.Kind == xmltok.Element || c.Kind == xmltok.Comment {
			if ind, ok := xmltok.Indent(doc.Src, c.Start); ok && ind != "" {
				return ind
			}
			break
		}
	}
	return "  "
}

// AppendChildren inserts elements as the last children of parent, one per
// line at the children's indentation. An element's text may span lines with
// "\n"; each line is indented and ends with the file's line ending.
func AppendChildren(doc *xmltok.Document, parent *xmltok.Node, elems []string) splice.Edit {
	src := doc.Src
	nl := doc.Newline()
	parentIndent, _ := xmltok.Indent(src, parent.Start)
	childIndent := parentIndent + IndentUnit(doc)
	var ref *xmltok.Node
	for c := range parent.Children() {
		if c.Kind == xmltok.Element || c.Kind == xmltok.Comment {
			ref = c
		}
	}
	if ref != nil {
		if ind, ok := xmltok.Indent(src, ref.Start); ok {
			childIndent = ind
		}
	}
	var b strings.Builder
	for i, e := range elems {
		if i > 0 {
			b.WriteString(nl)
		}
		b.WriteString(childIndent + strings.ReplaceAll(e, "\n", nl+childIndent))
	}
	body := b.String()
	if parent.SelfClosing {
		attrs := strings.TrimRight(string(src[parent.Start+1+len(parent.Name):parent.StartTagEnd-2]), " \t\r\n")
		return splice.Edit{Start: parent.Start, End: parent.End,
			Text: "<" + parent.Name + attrs + ">" + nl + body + nl + parentIndent + "</" + parent.Name + ">"}
	}
	endLine := xmltok.LineStart(src, parent.EndTagStart)
	if _, own := xmltok.Indent(src, parent.EndTagStart); own && endLine > parent.StartTagEnd {
		return splice.Edit{Start: endLine, End: endLine, Text: body + nl}
	}
	return splice.Edit{Start: parent.EndTagStart, End: parent.EndTagStart, Text: nl + body + nl + parentIndent}
}

// PrependChild inserts elem as the first child of parent, on its own line.
func PrependChild(doc *xmltok.Document, parent *xmltok.Node, elem string) splice.Edit {
	for c := range parent.Children() {
		if c.Kind == xmltok.Element || c.Kind == xmltok.Comment {
			if ind, ok := xmltok.Indent(doc.Src, c.Start); ok {
				return splice.Edit{Start: c.Start, End: c.Start, Text: elem + doc.Newline() + ind}
			}
			return splice.Edit{Start: c.Start, End: c.Start, Text: elem}
		}
	}
	return AppendChildren(doc, parent, []string{elem})
}

// Remove deletes node n together with its line when the line holds nothing
// else, so no blank line is left behind.
func Remove(src []byte, n *xmltok.Node) splice.Edit {
	start, end := n.Start, n.End
	ls := xmltok.LineStart(src, start)
	if _, own := xmltok.Indent(src, start); own {
		e := end
		for e < len(src) && (src[e] == ' ' || src[e] == '\t') {
			e++
		}
		switch {
		case e < len(src) && src[e] == '\n':
			return splice.Edit{Start: ls, End: e + 1}
		case e+1 < len(src) && src[e] == '\r' && src[e+1] == '\n':
			return splice.Edit{Start: ls, End: e + 2}
		}
	}
	return splice.Edit{Start: start, End: end}
}

// trimSpan narrows [start, end) of src to exclude surrounding XML whitespace.
func trimSpan(src []byte, start, end int) (int, int) {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
	for start < end && isSpace(src[start]) {
		start++
	}
	for end > start && isSpace(src[end-1]) {
		end--
	}
	return start, end
}
