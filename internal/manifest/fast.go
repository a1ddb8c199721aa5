package manifest

import (
	"encoding/xml"
	"strings"
)

// parseFast reads the plain XML that Arcade writes about ten times faster than
// encoding/xml: ASCII names without prefixes, attribute values without entity
// references, carriage returns or non-ASCII bytes, white space between
// elements, comments and the <?xml?> declaration. It reports ok=false as soon as
// it meets anything else, and the caller must then read data with parseSlow.
// What it accepts, it turns into exactly the manifest or error parseSlow would
// (FuzzFastMatchesSlow checks this).
//
// Names and values are substrings of doc, so the Manifest keeps it alive; for manifests of tens of thousands of packages, most of the
// text is Ids and Versions anyway.
func parseFast(doc, path string) (m *Manifest, err error, ok bool) {
	if len(doc) >= splitMin {
		if at := splitPoint(doc); at > 0 {
			return parseFastSplit(doc, path, at)
		}
	}
	s := newScanner(doc, path)
	if err, ok = s.run(); !ok {
		return nil, nil, false
	}
	if err != nil {
		return nil, err, true
	}
	return s.p.m, nil, true
}

func newScanner(doc, path string) *scanner {
	s := &scanner{doc: doc, line: 1, p: newParser(path)}
	if n := strings.Count(doc, "<Package "); n > 0 {
		s.p.m.Packages = make([]Package, 0, n)
	}
	return s
}

// splitMin is the size from which a manifest is read in two halves side by
// side: a manifest of tens of thousands of packages takes milliseconds to
// read, and publish waits for it.
const splitMin = 1 << 20

// splitPoint is where the second half starts: the first <Package or <Blob
// tag after the middle of doc, or -1.
func splitPoint(doc string) int {
	mid := len(doc) / 2
	for _, tag := range []string{"<Package ", "<Blob "} {
		if i := strings.Index(doc[mid:], tag); i >= 0 {
			return mid + i
		}
	}
	return -1
}

// parseFastSplit reads doc[:at] and doc[at:] side by side, the second half
// as children of <Build>, and joins them. It gives what parseFast gives
// reading the whole document in one go (FuzzSplitMatchesSlow): the first
// half's error comes first, and if the first half does not end exactly at
// at, inside <Build> and nothing else, the split fell inside something (a
// comment, a nested element) and the first half's reading simply goes on.
func parseFastSplit(doc, path string, at int) (m *Manifest, err error, ok bool) {
	type half struct {
		s   *scanner
		err error
		ok  bool
	}
	// Each half counts its own packages; the first makes one slice for
	// both, and the second half reads into its tail, so joining the halves
	// copies nothing when the counts hold (a "<Package " inside a comment
	// makes them not hold, and the halves are then appended).
	counted := make(chan int, 1)
	tail := make(chan []Package, 1)
	second := make(chan half, 1)
	build := xml.Name{Local: "Build"}
	go func() {
		counted <- strings.Count(doc[at:], "<Package ")
		s := &scanner{doc: doc, pos: at, line: 1 + strings.Count(doc[:at], "\n"), p: newParser(path)}
		s.p.stack = []xml.Name{build}
		s.p.m.Packages = <-tail
		err, ok := s.runTo(len(doc))
		second <- half{s, err, ok}
	}()
	n1 := strings.Count(doc[:at], "<Package ")
	n2 := <-counted
	var all []Package // nil without packages, as parseFast leaves it
	if n1+n2 > 0 {
		all = make([]Package, 0, n1+n2)
	}
	tail <- all[n1 : n1 : n1+n2]
	first := &scanner{doc: doc, line: 1, p: newParser(path)}
	first.p.m.Packages = all[:0:n1]
	err, ok = first.runTo(at)
	if !ok || err != nil {
		return nil, err, ok
	}
	if first.pos != at || first.p.rootDone || len(first.p.stack) != 1 || first.p.stack[0] != build {
		if err, ok = first.run(); !ok || err != nil {
			return nil, err, ok
		}
		return first.p.m, nil, true
	}
	h := <-second
	if !h.ok || h.err != nil {
		return nil, h.err, h.ok
	}
	m = first.p.m
	rest := h.s.p.m.Packages
	if len(m.Packages) == n1 && sameStart(m.Packages, all) && (len(rest) == 0 || sameStart(rest, all[n1:n1])) {
		m.Packages = all[:n1+len(rest)]
	} else {
		m.Packages = append(m.Packages, rest...)
	}
	m.Blobs = append(m.Blobs, h.s.p.m.Blobs...)
	h.s.p.m = m
	if err := h.s.p.end(h.s.line); err != nil {
		return nil, err, true
	}
	return m, nil, true
}

// sameStart reports whether a and b start at the same element of one array.
func sameStart(a, b []Package) bool {
	return cap(a) > 0 && cap(b) > 0 && &a[:1][0] == &b[:1][0]
}

type scanner struct {
	doc   string
	pos   int
	line  int // line at pos
	p     *parser
	attrs []xml.Attr // reused for each element; the parser does not keep it
}

// run feeds the rest of the document to the parser and checks its end.
// ok=false means "read it with parseSlow".
func (s *scanner) run() (err error, ok bool) {
	if err, ok = s.runTo(len(s.doc)); !ok || err != nil {
		return err, ok
	}
	return s.p.end(s.line), true
}

// runTo feeds the document to the parser until a token ends at or after limit.
func (s *scanner) runTo(limit int) (err error, ok bool) {
	doc := s.doc
	for s.pos < limit {
		if doc[s.pos] != '<' {
			if !s.whiteSpace() {
				return nil, false
			}
			continue
		}
		s.p.line = s.line
		if s.pos+1 >= len(doc) {
			return nil, false
		}
		switch doc[s.pos+1] {
		case '?':
			if !s.procInst() {
				return nil, false
			}
		case '!':
			if !s.comment() {
				return nil, false
			}
		case '/':
			name, ok := s.endTag()
			if !ok {
				return nil, false
			}
			if err := s.p.endElement(name); err != nil {
				return err, true
			}
		default:
			name, empty, ok := s.startTag()
			if !ok {
				return nil, false
			}
			if err := s.p.startElement(name, s.attrs); err != nil {
				return err, true
			}
			if empty {
				if err := s.p.endElement(name); err != nil {
					return err, true
				}
			}
		}
	}
	return nil, true
}

// whiteSpace skips text up to the next '<', which must be XML white space.
func (s *scanner) whiteSpace() bool {
	for ; s.pos < len(s.doc); s.pos++ {
		switch s.doc[s.pos] {
		case ' ', '\t', '\r':
		case '\n':
			s.line++
		case '<':
			return true
		default:
			return false
		}
	}
	return true
}

// space skips XML white space from i and returns where it ends.
func (s *scanner) space(i int) int {
	for ; i < len(s.doc); i++ {
		switch s.doc[i] {
		case ' ', '\t', '\r':
		case '\n':
			s.line++
		default:
			return i
		}
	}
	return i
}

// name reads an ASCII XML name without a prefix at i.
func (s *scanner) name(i int) (name string, end int, ok bool) {
	start := i
	if i >= len(s.doc) || !isNameStart(s.doc[i]) {
		return "", i, false
	}
	for i++; i < len(s.doc) && isNameByte(s.doc[i]); i++ {
	}
	if i >= len(s.doc) || s.doc[i] == ':' || s.doc[i] >= 0x80 {
		return "", i, false
	}
	return s.doc[start:i], i, true
}

func isNameStart(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_'
}

func isNameByte(c byte) bool { return nameByte[c] }

// nameByte marks the bytes of an ASCII XML name after its first.
var nameByte = func() (t [256]bool) {
	for c := range 256 {
		b := byte(c)
		t[c] = isNameStart(b) || '0' <= b && b <= '9' || b == '.' || b == '-'
	}
	return t
}()

// valueStop marks, for a value in double ([0]) or single ([1]) quotes, the
// bytes an attribute value scan stops at: its closing quote, a newline (which
// it counts) and every byte the fast scanner leaves to encoding/xml (<, &,
// carriage return, control characters but tab, non-ASCII).
var valueStop = func() (t [2][256]bool) {
	for q, quote := range []byte{'"', '\''} {
		for c := range 256 {
			b := byte(c)
			t[q][c] = b == quote || b == '\n' || b == '<' || b == '&' || b == '\r' || b >= 0x80 || b < 0x20 && b != '\t'
		}
	}
	return t
}()

// startTag reads <name attr="value" ...> or <name .../> at pos.
func (s *scanner) startTag() (name xml.Name, empty, ok bool) {
	doc := s.doc
	local, i, ok := s.name(s.pos + 1)
	if !ok {
		return name, false, false
	}
	name.Local = local
	s.attrs = s.attrs[:0]
	for {
		i = s.space(i)
		if i >= len(doc) {
			return name, false, false
		}
		switch doc[i] {
		case '/':
			if i+1 < len(doc) && doc[i+1] == '>' {
				s.pos = i + 2
				return name, true, true
			}
			return name, false, false
		case '>':
			s.pos = i + 1
			return name, false, true
		}
		var attr string
		if attr, i, ok = s.name(i); !ok {
			return name, false, false
		}
		if i = s.space(i); i >= len(doc) || doc[i] != '=' {
			return name, false, false
		}
		if i = s.space(i + 1); i >= len(doc) || doc[i] != '"' && doc[i] != '\'' {
			return name, false, false
		}
		quote := doc[i]
		stop := &valueStop[0]
		if quote == '\'' {
			stop = &valueStop[1]
		}
		start := i + 1
		for i = start; ; i++ {
			for i < len(doc) && !stop[doc[i]] {
				i++
			}
			if i >= len(doc) {
				return name, false, false
			}
			if doc[i] == quote {
				break
			}
			if doc[i] != '\n' {
				return name, false, false
			}
			s.line++
		}
		s.attrs = append(s.attrs, xml.Attr{Name: xml.Name{Local: attr}, Value: doc[start:i]})
		i++
	}
}

// endTag reads </name> at pos.
func (s *scanner) endTag() (name xml.Name, ok bool) {
	local, i, ok := s.name(s.pos + 2)
	if !ok {
		return name, false
	}
	if i = s.space(i); i >= len(s.doc) || s.doc[i] != '>' {
		return name, false
	}
	s.pos = i + 1
	return xml.Name{Local: local}, true
}

// comment skips <!-- ... --> at pos; anything else starting with <! is left
// to parseSlow. As in encoding/xml, the first "--" must close the comment.
func (s *scanner) comment() bool {
	if !strings.HasPrefix(s.doc[s.pos:], "<!--") {
		return false
	}
	body := s.pos + 4
	n := strings.Index(s.doc[body:], "--")
	if n < 0 || body+n+2 >= len(s.doc) || s.doc[body+n+2] != '>' {
		return false
	}
	end := body + n + 3
	s.line += strings.Count(s.doc[s.pos:end], "\n")
	s.pos = end
	return true
}

// procInst skips a processing instruction such as <?xml version="1.0"?> at
// pos, letting encoding/xml judge it (version, encoding) on its own.
func (s *scanner) procInst() bool {
	n := strings.Index(s.doc[s.pos:], "?>")
	if n < 0 {
		return false
	}
	pi := s.doc[s.pos : s.pos+n+2]
	d := xml.NewDecoder(strings.NewReader(pi))
	if tok, err := d.RawToken(); err != nil || d.InputOffset() != int64(len(pi)) {
		return false
	} else if _, isPI := tok.(xml.ProcInst); !isPI {
		return false
	}
	s.line += strings.Count(pi, "\n")
	s.pos += len(pi)
	return true
}
