// Package xmltok tokenises an XML document into a tree of nodes that record
// their byte spans in the source. It never re-serialises: callers read values
// through the spans and change a file by splicing new text into them, so
// everything they do not touch — BOM, declaration, line endings, indentation,
// comments, attribute order and quoting — stays byte-identical.
//
// The tokeniser accepts well-formed XML 1.0 without external entities. It
// rejects what an XML parser would reject for these files (unclosed or
// mismatched tags, bad names, unquoted or duplicate attributes, unknown
// entities, content outside the root) with a *SyntaxError that carries the line.
package xmltok

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// Kind says what a Node is.
type Kind uint8

// Node kinds.
const (
	Element Kind = iota + 1
	Text
	Comment
	ProcInst
	CData
	Doctype
)

// Attr is one attribute of an element start tag.
type Attr struct {
	Name       string
	Start      int // offset of the attribute name
	ValueStart int // offset of the first byte inside the quotes
	ValueEnd   int // offset of the closing quote
}

// End returns the offset just after the attribute's closing quote.
func (a *Attr) End() int { return a.ValueEnd + 1 }

// Node is one piece of the document. Start and End span the whole node: for an
// element from the '<' of its start tag to just after the '>' of its end tag.
type Node struct {
	Kind        Kind
	SelfClosing bool // element written as <x/>
	Start, End  int
	Name        string // element name, or processing-instruction target
	Attrs       []Attr
	StartTagEnd int // element: offset just after the start tag's '>'
	EndTagStart int // element: offset of "</" (End for a self-closing element)
	Parent      *Node
	// The children, linked: FirstChild, then each child's Next. Whitespace
	// between markup is not a node (its bytes stay in the source), and
	// neither is the text of an element that holds only text: such an
	// element has no children, and its content is Src[StartTagEnd:EndTagStart].
	FirstChild, Next *Node
}

// Children iterates over the node's children in document order.
func (n *Node) Children() iter.Seq[*Node] {
	return func(yield func(*Node) bool) {
		for c := n.FirstChild; c != nil; c = c.Next {
			if !yield(c) {
				return
			}
		}
	}
}

// TextOnly reports whether an element's content, if any, is plain text
// (no child elements, comments or CDATA).
func (n *Node) TextOnly() bool { return n.Kind == Element && n.FirstChild == nil }

// Attr returns the attribute with exactly this name, or nil.
func (n *Node) Attr(name string) *Attr {
	for i := range n.Attrs {
		if n.Attrs[i].Name == name {
			return &n.Attrs[i]
		}
	}
	return nil
}

// LocalName returns the element name without a namespace prefix.
func (n *Node) LocalName() string {
	if i := strings.IndexByte(n.Name, ':'); i >= 0 {
		return n.Name[i+1:]
	}
	return n.Name
}

// Child returns the first child element with exactly this name, or nil.
func (n *Node) Child(name string) *Node {
	for c := n.FirstChild; c != nil; c = c.Next {
		if c.Kind == Element && c.Name == name {
			return c
		}
	}
	return nil
}

// Elements returns the child elements in document order.
func (n *Node) Elements() []*Node {
	var out []*Node
	for c := n.FirstChild; c != nil; c = c.Next {
		if c.Kind == Element {
			out = append(out, c)
		}
	}
	return out
}

// Document is a tokenised XML file.
type Document struct {
	Src   []byte
	Nodes []*Node // top-level nodes: declaration, comments, the root element
	Root  *Node
	lines []int // offsets of '\n', built on first use
	// text is Src viewed as a string (see Parse): names and values are
	// substrings of it, so reading them allocates nothing.
	text string
	// The first node and attribute slabs, drawn from the pools below and
	// given back by Release.
	nodeSlab []Node
	attrSlab []Attr
}

// Node and attribute slabs are reused across documents: a server parses many
// large files, and on a small VM touching fresh memory (clearing it, faulting
// it in, collecting it) costs more than tokenising. Only Release puts a slab
// back, so memory in the pools is never reachable from a live Document. A
// pooled slab is not cleared (newNode overwrites each node it hands out): until
// it is reused, or the pool drops it at a later collection, it keeps the
// released document's source reachable.
var (
	nodePool sync.Pool // of *[]Node
	attrPool sync.Pool // of *[]Attr
)

// Release gives the document's node and attribute memory back for reuse by
// later Parse calls. After Release the Document, its Root and Nodes, and every
// *Node and *Attr taken from it must not be used; strings read from it (names,
// values, text) stay valid, as they share Src rather than the released memory.
// Calling Release again does nothing. A document that is never released is
// collected as usual.
func (d *Document) Release() {
	if d.nodeSlab != nil {
		s := d.nodeSlab[:0]
		nodePool.Put(&s)
	}
	if d.attrSlab != nil {
		s := d.attrSlab[:0]
		attrPool.Put(&s)
	}
	*d = Document{}
}

// str returns Src[start:end] as a string, without allocating for a parsed
// document.
func (d *Document) str(start, end int) string {
	if len(d.text) != len(d.Src) {
		return string(d.Src[start:end])
	}
	return d.text[start:end]
}

// ErrNoRoot is wrapped by the SyntaxError of a document that is well formed
// but has no root element (only comments, say).
var ErrNoRoot = errors.New("no root element")

// SyntaxError reports malformed XML at a line and column (both from 1).
type SyntaxError struct {
	Line, Col int
	Msg       string
	Err       error // ErrNoRoot, or nil
}

// Unwrap returns ErrNoRoot for a document without a root element.
func (e *SyntaxError) Unwrap() error { return e.Err }

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

// Line returns the 1-based line number of a byte offset.
func (d *Document) Line(offset int) int {
	if d.lines == nil {
		d.lines = make([]int, 0, bytes.Count(d.Src, []byte{'\n'}))
		for i, c := range d.Src {
			if c == '\n' {
				d.lines = append(d.lines, i)
			}
		}
	}
	return sort.SearchInts(d.lines, offset) + 1
}

// AttrValue returns an attribute's value with entities decoded.
func (d *Document) AttrValue(a *Attr) string {
	return d.unescape(a.ValueStart, a.ValueEnd)
}

// RawAttr returns the named attribute's decoded value and whether it exists.
func (d *Document) RawAttr(n *Node, name string) (string, bool) {
	a := n.Attr(name)
	if a == nil {
		return "", false
	}
	return d.AttrValue(a), true
}

// InnerText returns the concatenated, decoded text of an element's
// descendants, skipping comments and processing instructions (as .NET's
// XmlNode.InnerText does).
func (d *Document) InnerText(n *Node) string {
	if n.Kind == Text {
		return d.unescape(n.Start, n.End)
	}
	if n.Kind == CData {
		return d.str(n.Start+9, n.End-3)
	}
	if n.TextOnly() {
		return d.unescape(n.StartTagEnd, n.EndTagStart)
	}
	var b strings.Builder
	var walk func(*Node)
	walk = func(n *Node) {
		for c := n.FirstChild; c != nil; c = c.Next {
			switch {
			case c.Kind == Text:
				b.WriteString(d.unescape(c.Start, c.End))
			case c.Kind == CData:
				b.Write(d.Src[c.Start+9 : c.End-3])
			case c.TextOnly():
				b.WriteString(d.unescape(c.StartTagEnd, c.EndTagStart))
			case c.Kind == Element:
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}

// CommentText returns the text between "<!--" and "-->".
func (d *Document) CommentText(n *Node) string {
	return d.str(n.Start+4, n.End-3)
}

// Newline returns the line ending the document uses: "\r\n" when its first
// line ends that way, otherwise "\n".
func (d *Document) Newline() string { return Newline(d.Src) }

// Newline returns "\r\n" when the first line of src ends with it, else "\n".
func Newline(src []byte) string {
	if i := bytes.IndexByte(src, '\n'); i > 0 && src[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}

// Indent returns the whitespace between the start of offset's line and
// offset, and whether only whitespace precedes offset on that line.
func Indent(src []byte, offset int) (string, bool) {
	i := offset
	for i > 0 && (src[i-1] == ' ' || src[i-1] == '\t') {
		i--
	}
	return string(src[i:offset]), i == 0 || src[i-1] == '\n' || src[i-1] == '\r'
}

// LineStart returns the offset of the first byte of offset's line.
func LineStart(src []byte, offset int) int {
	i := offset
	for i > 0 && src[i-1] != '\n' {
		i--
	}
	return i
}

var (
	textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;")
)

// EscapeText escapes s for use as element content.
func EscapeText(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '&' || c == '<' || c == '>' {
			return textEscaper.Replace(s)
		}
	}
	return s
}

// EscapeAttr escapes s for use inside a double-quoted attribute value.
func EscapeAttr(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '&' || c == '<' || c == '>' || c == '"' {
			return attrEscaper.Replace(s)
		}
	}
	return s
}

// Parse tokenises src. The returned Document keeps src, and the names and
// values it returns are strings that share src's memory: the caller must not
// modify src afterwards.
func Parse(src []byte) (*Document, error) {
	// Safe because of the rule above: nothing writes to src once it is
	// parsed, so the string view is as immutable as a Go string must be.
	// Copying instead would double the memory a large file needs, and
	// allocating each name and value separately costs as much again.
	text := unsafe.String(unsafe.SliceData(src), len(src))
	p := &parser{src: src, doc: &Document{Src: src, text: text}}
	if err := p.parse(); err != nil {
		p.doc.Release()
		return nil, err
	}
	return p.doc, nil
}

type parser struct {
	src   []byte
	doc   *Document
	i     int
	stack []*Node
	last  []*Node // last child so far of each element in stack, or nil
	nodes []Node  // slab the nodes are allocated from
	attrs []Attr  // slab the attribute lists are cut from
	// text not yet made a node: it becomes one only if its element turns
	// out to have other children.
	textStart, textEnd int
	textOwner          *Node
}

// newNode returns a zeroed node from the slab with its kind and span set.
func (p *parser) newNode(kind Kind, start, end int) *Node {
	if len(p.nodes) == cap(p.nodes) {
		// Most nodes are elements with a start and an end tag: size the
		// first slab for half the '<' of the file, and the few later ones
		// for what that estimate missed.
		size := max(64, cap(p.nodes)/8)
		if p.nodes == nil {
			size = max(size, bytes.Count(p.src, []byte{'<'})/2+16)
			if s, ok := nodePool.Get().(*[]Node); ok && cap(*s) >= size {
				p.nodes, p.doc.nodeSlab = *s, *s
			}
		}
		if p.nodes == nil {
			p.nodes = make([]Node, 0, size)
			p.doc.nodeSlab = p.nodes
		} else if len(p.nodes) == cap(p.nodes) {
			p.nodes = make([]Node, 0, size)
		}
	}
	p.nodes = p.nodes[:len(p.nodes)+1]
	n := &p.nodes[len(p.nodes)-1]
	// A pooled slab holds the nodes of an earlier document.
	*n = Node{Kind: kind, Start: start, End: end}
	return n
}

func (p *parser) errAt(offset int, format string, args ...any) error {
	line, col := 1, 1
	if offset > len(p.src) {
		offset = len(p.src)
	}
	for _, c := range p.src[:offset] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return &SyntaxError{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) add(n *Node) {
	p.flushText()
	p.link(n)
}

// flushText makes the pending text a node of its element.
func (p *parser) flushText() {
	if p.textOwner == nil {
		return
	}
	t := p.newNode(Text, p.textStart, p.textEnd)
	p.textOwner = nil
	p.link(t)
}

func (p *parser) link(n *Node) {
	if len(p.stack) == 0 {
		p.doc.Nodes = append(p.doc.Nodes, n)
		return
	}
	top := len(p.stack) - 1
	n.Parent = p.stack[top]
	if p.last[top] == nil {
		n.Parent.FirstChild = n
	} else {
		p.last[top].Next = n
	}
	p.last[top] = n
}

func (p *parser) parse() error {
	src := p.src
	if bytes.HasPrefix(src, []byte("\xef\xbb\xbf")) {
		p.i = 3
	}
	if !utf8.Valid(src[p.i:]) {
		off := p.i
		for off < len(src) {
			r, size := utf8.DecodeRune(src[off:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			off += size
		}
		return p.errAt(off, "invalid UTF-8")
	}
	first := true
	for p.i < len(src) {
		if src[p.i] != '<' {
			if err := p.text(); err != nil {
				return err
			}
			first = false
			continue
		}
		var err error
		var next byte
		if p.i+1 < len(src) {
			next = src[p.i+1]
		}
		switch {
		case next == '/':
			err = p.endTag()
		case next == '?':
			err = p.procInst(first)
		case next != '!':
			err = p.startTag()
		case bytes.HasPrefix(src[p.i:], []byte("<!--")):
			err = p.comment()
		case bytes.HasPrefix(src[p.i:], []byte("<![CDATA[")):
			err = p.cdata()
		case bytes.HasPrefix(src[p.i:], []byte("<!DOCTYPE")):
			err = p.doctype()
		default:
			err = p.errAt(p.i, "unknown markup after \"<!\"")
		}
		if err != nil {
			return err
		}
		first = false
	}
	if len(p.stack) > 0 {
		open := p.stack[len(p.stack)-1]
		return p.errAt(len(src), "element <%s> opened on line %d is not closed", open.Name, p.doc.Line(open.Start))
	}
	if p.doc.Root == nil {
		err := p.errAt(len(src), "no root element").(*SyntaxError)
		err.Err = ErrNoRoot
		return err
	}
	return nil
}

func (p *parser) text() error {
	start := p.i
	end := bytes.IndexByte(p.src[start:], '<')
	if end < 0 {
		end = len(p.src)
	} else {
		end += start
	}
	raw := p.src[start:end]
	p.i = end
	blank := true
	for _, c := range raw {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			blank = false
			break
		}
	}
	if blank {
		// Whitespace between markup carries no value; its bytes stay in the
		// source, and the nodes around it know their spans.
		return nil
	}
	if len(p.stack) == 0 {
		k := bytes.IndexFunc(raw, func(r rune) bool { return r != ' ' && r != '\t' && r != '\r' && r != '\n' })
		return p.errAt(start+k, "text outside the root element")
	}
	if err := p.checkRefs(raw, start); err != nil {
		return err
	}
	p.flushText()
	p.textStart, p.textEnd, p.textOwner = start, end, p.stack[len(p.stack)-1]
	return nil
}

func (p *parser) procInst(first bool) error {
	start := p.i
	end := bytes.Index(p.src[start+2:], []byte("?>"))
	if end < 0 {
		return p.errAt(start, "processing instruction is not closed with ?>")
	}
	end += start + 4
	nameEnd := start + 2
	for nameEnd < end-2 && isNameByte(p.src[nameEnd], nameEnd == start+2) {
		nameEnd++
	}
	name := p.doc.text[start+2 : nameEnd]
	if name == "" {
		return p.errAt(start, "processing instruction has no target name")
	}
	if strings.EqualFold(name, "xml") && (!first || len(p.stack) > 0 || (start != 0 && start != 3)) {
		return p.errAt(start, "XML declaration is allowed only at the start of the file")
	}
	n := p.newNode(ProcInst, start, end)
	n.Name = name
	p.add(n)
	p.i = end
	return nil
}

func (p *parser) comment() error {
	start := p.i
	body := start + 4
	end := bytes.Index(p.src[body:], []byte("--"))
	if end < 0 {
		return p.errAt(start, "comment is not closed with -->")
	}
	end += body
	if end+2 >= len(p.src) || p.src[end+2] != '>' {
		return p.errAt(end, "\"--\" is not allowed inside a comment")
	}
	p.add(p.newNode(Comment, start, end+3))
	p.i = end + 3
	return nil
}

func (p *parser) cdata() error {
	start := p.i
	if len(p.stack) == 0 {
		return p.errAt(start, "CDATA section outside the root element")
	}
	end := bytes.Index(p.src[start+9:], []byte("]]>"))
	if end < 0 {
		return p.errAt(start, "CDATA section is not closed with ]]>")
	}
	end += start + 9 + 3
	p.add(p.newNode(CData, start, end))
	p.i = end
	return nil
}

func (p *parser) doctype() error {
	start := p.i
	if len(p.stack) > 0 || p.doc.Root != nil {
		return p.errAt(start, "DOCTYPE is allowed only before the root element")
	}
	depth := 0
	var quote byte
	for k := start + 9; k < len(p.src); k++ {
		c := p.src[k]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == '>' && depth <= 0:
			p.add(p.newNode(Doctype, start, k+1))
			p.i = k + 1
			return nil
		}
	}
	return p.errAt(start, "DOCTYPE is not closed with >")
}

func (p *parser) name(at int) (string, int, error) {
	k, err := p.nameEnd(at)
	if err != nil {
		return "", at, err
	}
	return p.doc.text[at:k], k, nil
}

// nameEnd returns the offset just after the name that starts at at.
func (p *parser) nameEnd(at int) (int, error) {
	k := at
	if k < len(p.src) && nameBytes[p.src[k]]&nameStart != 0 {
		k++
		for k < len(p.src) && nameBytes[p.src[k]] != 0 {
			k++
		}
	}
	if k == at {
		if at >= len(p.src) {
			return at, p.errAt(at, "unexpected end of file, expected a name")
		}
		return at, p.errAt(at, "invalid character %q, expected a name", p.src[at])
	}
	return k, nil
}

func (p *parser) skipSpace(k int) int {
	for k < len(p.src) && isSpace(p.src[k]) {
		k++
	}
	return k
}

func (p *parser) startTag() error {
	start := p.i
	if len(p.stack) == 0 && p.doc.Root != nil {
		return p.errAt(start, "a second root element; an XML file has exactly one")
	}
	name, k, err := p.name(start + 1)
	if err != nil {
		return err
	}
	n := p.newNode(Element, start, 0)
	n.Name = name
	attrStart := len(p.attrs)
	for {
		sp := p.skipSpace(k)
		if sp >= len(p.src) {
			return p.errAt(start, "start tag <%s> is not closed", name)
		}
		c := p.src[sp]
		if c == '>' {
			n.StartTagEnd = sp + 1
			break
		}
		if c == '/' {
			if sp+1 >= len(p.src) || p.src[sp+1] != '>' {
				return p.errAt(sp, "expected /> to close <%s>", name)
			}
			n.SelfClosing = true
			n.StartTagEnd = sp + 2
			n.EndTagStart = sp + 2
			n.End = sp + 2
			break
		}
		if sp == k {
			return p.errAt(sp, "expected whitespace before an attribute in <%s>", name)
		}
		aname, ak, err := p.name(sp)
		if err != nil {
			return err
		}
		ak = p.skipSpace(ak)
		if ak >= len(p.src) || p.src[ak] != '=' {
			return p.errAt(ak, "attribute %s in <%s> has no value", aname, name)
		}
		ak = p.skipSpace(ak + 1)
		if ak >= len(p.src) || (p.src[ak] != '"' && p.src[ak] != '\'') {
			return p.errAt(ak, "value of attribute %s in <%s> is not quoted", aname, name)
		}
		q := p.src[ak]
		vend := bytes.IndexByte(p.src[ak+1:], q)
		if vend < 0 {
			return p.errAt(ak, "value of attribute %s in <%s> is not closed", aname, name)
		}
		vend += ak + 1
		raw := p.src[ak+1 : vend]
		if lt := bytes.IndexByte(raw, '<'); lt >= 0 {
			return p.errAt(ak+1+lt, "'<' is not allowed in the value of attribute %s", aname)
		}
		if err := p.checkRefs(raw, ak+1); err != nil {
			return err
		}
		for _, a := range p.attrs[attrStart:] {
			if a.Name == aname {
				return p.errAt(sp, "attribute %s appears twice in <%s>", aname, name)
			}
		}
		if len(p.attrs) == cap(p.attrs) {
			// Start a new slab, carrying this element's attributes over.
			// Every attribute has an '=', so the first slab sized by them
			// usually holds all.
			size := 64
			var grown []Attr
			if p.attrs == nil {
				size = bytes.Count(p.src[sp:], []byte{'='}) + 16
				if s, ok := attrPool.Get().(*[]Attr); ok && cap(*s) >= size {
					grown = (*s)[:0]
				} else {
					grown = make([]Attr, 0, size)
				}
				p.doc.attrSlab = grown
			} else {
				grown = make([]Attr, 0, max(size, 2*(len(p.attrs)-attrStart)))
			}
			grown = append(grown, p.attrs[attrStart:]...)
			p.attrs, attrStart = grown, 0
		}
		p.attrs = append(p.attrs, Attr{Name: aname, Start: sp, ValueStart: ak + 1, ValueEnd: vend})
		k = vend + 1
	}
	if len(p.attrs) > attrStart {
		n.Attrs = p.attrs[attrStart:len(p.attrs):len(p.attrs)]
	}
	p.add(n)
	if len(p.stack) == 0 {
		p.doc.Root = n
	}
	if !n.SelfClosing {
		p.stack = append(p.stack, n)
		p.last = append(p.last, nil)
	}
	p.i = n.StartTagEnd
	return nil
}

func (p *parser) endTag() error {
	start := p.i
	k, err := p.nameEnd(start + 2)
	if err != nil {
		return err
	}
	name := p.doc.text[start+2 : k]
	k = p.skipSpace(k)
	if k >= len(p.src) || p.src[k] != '>' {
		return p.errAt(k, "end tag </%s> is not closed with >", name)
	}
	if len(p.stack) == 0 {
		return p.errAt(start, "end tag </%s> without a start tag", name)
	}
	open := p.stack[len(p.stack)-1]
	if open.Name != name {
		return p.errAt(start, "end tag </%s> does not match <%s> opened on line %d", name, open.Name, p.doc.Line(open.Start))
	}
	if p.textOwner == open && open.FirstChild != nil {
		p.flushText()
	}
	p.textOwner = nil
	open.EndTagStart = start
	open.End = k + 1
	p.stack = p.stack[:len(p.stack)-1]
	p.last = p.last[:len(p.last)-1]
	p.i = k + 1
	return nil
}

// checkRefs validates the entity and character references in raw text.
func (p *parser) checkRefs(raw []byte, base int) error {
	for k := 0; k < len(raw); {
		amp := bytes.IndexByte(raw[k:], '&')
		if amp < 0 {
			return nil
		}
		amp += k
		semi := bytes.IndexByte(raw[amp:], ';')
		if semi < 0 {
			return p.errAt(base+amp, "'&' must start an entity reference such as &amp;")
		}
		ref := string(raw[amp+1 : amp+semi])
		if _, ok := decodeRef(ref); !ok {
			return p.errAt(base+amp, "unknown entity reference &%s;", ref)
		}
		k = amp + semi + 1
	}
	return nil
}

func decodeRef(ref string) (string, bool) {
	switch ref {
	case "amp":
		return "&", true
	case "lt":
		return "<", true
	case "gt":
		return ">", true
	case "quot":
		return "\"", true
	case "apos":
		return "'", true
	}
	if strings.HasPrefix(ref, "#x") {
		v, err := strconv.ParseUint(ref[2:], 16, 32)
		if err != nil || !utf8.ValidRune(rune(v)) || v == 0 {
			return "", false
		}
		return string(rune(v)), true
	}
	if strings.HasPrefix(ref, "#") {
		v, err := strconv.ParseUint(ref[1:], 10, 32)
		if err != nil || !utf8.ValidRune(rune(v)) || v == 0 {
			return "", false
		}
		return string(rune(v)), true
	}
	return "", false
}

// unescape decodes references in Src[start:end], text that the parser
// already validated, and normalises line endings as an XML parser does.
func (d *Document) unescape(start, end int) string {
	raw := d.Src[start:end]
	if bytes.IndexByte(raw, '&') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		return d.str(start, end)
	}
	var b strings.Builder
	for k := 0; k < len(raw); k++ {
		c := raw[k]
		switch c {
		case '\r':
			b.WriteByte('\n')
			if k+1 < len(raw) && raw[k+1] == '\n' {
				k++
			}
		case '&':
			semi := bytes.IndexByte(raw[k:], ';')
			if semi < 0 {
				b.WriteByte(c)
				continue
			}
			s, ok := decodeRef(string(raw[k+1 : k+semi]))
			if !ok {
				b.WriteByte(c)
				continue
			}
			b.WriteString(s)
			k += semi
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isNameByte(c byte, first bool) bool {
	if first {
		return nameBytes[c]&nameStart != 0
	}
	return nameBytes[c] != 0
}

// Classes of bytes in names, for the nameBytes table.
const (
	nameStart = 1 << iota // may start a name
	nameRest              // may follow the first byte
)

// nameBytes classifies every byte value, as a table lookup is faster than
// the comparisons in the tokeniser's tightest loop.
var nameBytes = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == ':', c >= 0x80:
			t[c] = nameStart | nameRest
		case c >= '0' && c <= '9', c == '-', c == '.':
			t[c] = nameRest
		}
	}
	return t
}()
