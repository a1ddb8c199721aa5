// Package jsonscan checks JSON documents in one pass, and finds the raw
// values of a few object members on the way, for webhook intake: a
// delivery's payload is validated (its bytes go into a batch document as
// they are) and routed by two or three of its fields, and decoding the
// whole payload with encoding/json to read them cost more than the rest of
// intake.
//
// Valid accepts exactly what encoding/json.Valid accepts (the fuzz test
// holds the two to the same answer). Lookup validates the same way and
// returns the raw bytes of the values at the member paths it is given;
// the caller decodes those few bytes with encoding/json. It says whether
// encoding/json, decoding the whole document into a struct with those
// members, would read the same values: it would not when a member on a
// path is spelt another way that encoding/json still matches (another case,
// an escape), when a member on a path occurs twice, or when a value on a
// path's way is not an object. A caller then decodes the document the slow
// way; senders such as GitHub never send such documents.
package jsonscan

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"
)

// maxDepth is encoding/json's limit on nesting.
const maxDepth = 10000

// maxPaths bounds the paths of one Lookup.
const maxPaths = 64

// Valid reports whether data is one JSON value with only white space
// around it, as encoding/json.Valid does.
func Valid(data []byte) bool {
	s := scanner{data: data, plain: true}
	return s.document(0)
}

// Checked is a document that Check or Lookup found Valid: the proof
// travels with the bytes, so that a later step that needs valid JSON (a
// batch document that embeds the payload as it is) does not scan them
// again. Only this package makes one.
type Checked struct{ data []byte }

// Bytes returns the document.
func (c Checked) Bytes() []byte { return c.data }

// Check returns data as a Checked document when it is Valid.
func Check(data []byte) (Checked, bool) {
	if !Valid(data) {
		return Checked{}, false
	}
	return Checked{data: data}, true
}

// Lookup validates data as Valid does and returns, for each path (member
// names from the top-level object down), the raw bytes of the value there,
// nil when there is none, and data as a Checked document; valid is false,
// and the rest empty, when data is not Valid. plain is false when
// encoding/json might read other values at the paths (see the package
// comment); the values are then not to be used. At most 64 paths, each of
// at least one name.
func Lookup(data []byte, paths ...[]string) (values [][]byte, plain bool, doc Checked, valid bool) {
	if len(paths) > maxPaths {
		panic("jsonscan: more than 64 paths")
	}
	s := scanner{data: data, paths: paths, values: make([][]byte, len(paths)), plain: true}
	var all uint64
	for p := range paths {
		if len(paths[p]) == 0 {
			panic("jsonscan: an empty path")
		}
		all |= 1 << p
	}
	if !s.document(all) {
		return nil, false, Checked{}, false
	}
	return s.values, s.plain, Checked{data: data}, true
}

type scanner struct {
	data   []byte
	i      int
	depth  int
	paths  [][]string
	values [][]byte
	plain  bool
}

// special marks the bytes that end a run of plain string content.
var special = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

func (s *scanner) document(sel uint64) bool {
	s.space()
	if !s.value(sel, 0) {
		return false
	}
	s.space()
	return s.i == len(s.data)
}

func (s *scanner) space() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value scans one value. sel are the paths whose first level names led
// here; each has more names, so the value must be an object.
func (s *scanner) value(sel uint64, level int) bool {
	if s.i >= len(s.data) {
		return false
	}
	c := s.data[s.i]
	if sel != 0 && c != '{' {
		s.plain = false // a path goes through a value that is not an object
	}
	switch {
	case c == '{':
		return s.object(sel, level)
	case c == '[':
		return s.array()
	case c == '"':
		_, ok := s.str()
		return ok
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	return false
}

func (s *scanner) literal(lit string) bool {
	if !bytes.HasPrefix(s.data[s.i:], []byte(lit)) {
		return false
	}
	s.i += len(lit)
	return true
}

func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.data) && '0' <= s.data[s.i] && s.data[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

func (s *scanner) number() bool {
	if s.data[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i >= len(s.data):
		return false
	case s.data[s.i] == '0':
		s.i++
	case '1' <= s.data[s.i] && s.data[s.i] <= '9':
		s.digits()
	default:
		return false
	}
	if s.i < len(s.data) && s.data[s.i] == '.' {
		s.i++
		if !s.digits() {
			return false
		}
	}
	if s.i < len(s.data) && (s.data[s.i] == 'e' || s.data[s.i] == 'E') {
		s.i++
		if s.i < len(s.data) && (s.data[s.i] == '+' || s.data[s.i] == '-') {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// Word-at-a-time tests of 8 bytes (SWAR): bytes of ones, and the high
// bits of a word's bytes.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plainWord reports whether none of the 8 bytes of w is special: below
// 0x20, a quote or a backslash. A byte below n sets its high bit in
// (w - n*ones) &^ w & highs (n ≤ 0x80); a byte equal to c is a zero byte
// of w ^ c*ones. Borrows can mark a byte after a special one too, never
// one before it, and a word with none is never marked.
func plainWord(w uint64) bool {
	below := (w - 0x20*ones) &^ w
	quote := w ^ '"'*ones
	backslash := w ^ '\\'*ones
	return (below|(quote-ones)&^quote|(backslash-ones)&^backslash)&highs == 0
}

// str scans a string and reports whether it holds an escape.
func (s *scanner) str() (escaped, ok bool) {
	s.i++ // the opening quote
	for {
		// Eight bytes at a time over plain content (most of a webhook
		// payload is URLs in strings), then byte by byte to the special
		// one.
		for s.i+8 <= len(s.data) && plainWord(binary.LittleEndian.Uint64(s.data[s.i:])) {
			s.i += 8
		}
		for s.i < len(s.data) && !special[s.data[s.i]] {
			s.i++
		}
		if s.i >= len(s.data) {
			return escaped, false
		}
		switch c := s.data[s.i]; {
		case c == '"':
			s.i++
			return escaped, true
		case c < 0x20:
			return escaped, false
		}
		// A backslash.
		escaped = true
		s.i++
		if s.i >= len(s.data) {
			return escaped, false
		}
		switch s.data[s.i] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			s.i++
		case 'u':
			if s.i+4 >= len(s.data) || !isHex(s.data[s.i+1]) || !isHex(s.data[s.i+2]) || !isHex(s.data[s.i+3]) || !isHex(s.data[s.i+4]) {
				return escaped, false
			}
			s.i += 5
		default:
			return escaped, false
		}
	}
}

func (s *scanner) enter() bool {
	s.depth++
	return s.depth <= maxDepth
}

func (s *scanner) array() bool {
	if !s.enter() {
		return false
	}
	s.i++
	s.space()
	if s.i < len(s.data) && s.data[s.i] == ']' {
		s.i++
		s.depth--
		return true
	}
	for {
		s.space()
		if !s.value(0, 0) {
			return false
		}
		s.space()
		if s.i >= len(s.data) {
			return false
		}
		switch s.data[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// object scans an object; sel are the paths whose names down to level
// led to it.
func (s *scanner) object(sel uint64, level int) bool {
	if !s.enter() {
		return false
	}
	s.i++
	s.space()
	if s.i < len(s.data) && s.data[s.i] == '}' {
		s.i++
		s.depth--
		return true
	}
	var seen uint64 // the paths whose name at level this object had
	for {
		s.space()
		if s.i >= len(s.data) || s.data[s.i] != '"' {
			return false
		}
		start := s.i
		escaped, ok := s.str()
		if !ok {
			return false
		}
		var sub uint64
		if sel != 0 {
			sub = s.match(sel, level, s.data[start+1:s.i-1], escaped)
			if sub&seen != 0 {
				s.plain = false // a member on a path twice
			}
			seen |= sub
		}
		s.space()
		if s.i >= len(s.data) || s.data[s.i] != ':' {
			return false
		}
		s.i++
		s.space()
		// The paths that end here take the value; the others go on down.
		var deeper uint64
		valueStart := s.i
		for p := range s.paths {
			if sub&(1<<p) != 0 && len(s.paths[p]) > level+1 {
				deeper |= 1 << p
			}
		}
		if !s.value(deeper, level+1) {
			return false
		}
		if ends := sub &^ deeper; ends != 0 {
			for p := range s.paths {
				if ends&(1<<p) != 0 {
					s.values[p] = s.data[valueStart:s.i]
				}
			}
		}
		s.space()
		if s.i >= len(s.data) {
			return false
		}
		switch s.data[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// match returns the paths of sel whose name at level is name. A name that
// encoding/json would match to a path's name but that is not spelt the
// same (another case; an escape, not decoded here) makes the lookup not
// plain.
func (s *scanner) match(sel uint64, level int, name []byte, escaped bool) uint64 {
	var sub uint64
	for p := range s.paths {
		if sel&(1<<p) == 0 {
			continue
		}
		want := s.paths[p][level]
		switch {
		case escaped:
			s.plain = false
		case string(name) == want:
			sub |= 1 << p
		case len(name) > 0 && len(want) > 0 && name[0]|want[0] < utf8.RuneSelf && name[0]|0x20 != want[0]|0x20:
			// Two ASCII first bytes that differ other than in case: no
			// folding matches them (most members, cheaper than EqualFold).
		case bytes.EqualFold(name, []byte(want)):
			s.plain = false
		}
	}
	return sub
}
