// Package jsonedit parses JSON into a tree of values that record their byte
// spans, so a caller can replace one value or insert one member by splicing
// and leave every other byte — indentation, key order, comments — untouched.
//
// It accepts what the .NET SDK accepts in global.json and dotnet-tools.json:
// standard JSON plus // and /* */ comments and trailing commas. Anything else
// is a *SyntaxError with the line and column.
package jsonedit

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is the type of a JSON value.
type Kind uint8

// Value kinds.
const (
	Object Kind = iota + 1
	Array
	String
	Number
	Bool
	Null
)

// Member is one "key": value pair of an object.
type Member struct {
	Key      string
	KeyStart int // offset of the key's opening quote
	KeyEnd   int // offset just after the key's closing quote
	Value    *Value
}

// Value is one JSON value spanning Src[Start:End].
type Value struct {
	Kind       Kind
	Start, End int
	Str        string // decoded string; literal text for numbers and booleans
	Members    []Member
	Items      []*Value
}

// Get returns the member value with exactly this key, or nil.
func (v *Value) Get(key string) *Value {
	if v == nil || v.Kind != Object {
		return nil
	}
	for i := range v.Members {
		if v.Members[i].Key == key {
			return v.Members[i].Value
		}
	}
	return nil
}

// GetFold returns the first member whose key equals key case-insensitively.
func (v *Value) GetFold(key string) *Member {
	if v == nil || v.Kind != Object {
		return nil
	}
	for i := range v.Members {
		if strings.EqualFold(v.Members[i].Key, key) {
			return &v.Members[i]
		}
	}
	return nil
}

// SyntaxError reports malformed JSON at a line and column (both from 1).
type SyntaxError struct {
	Line, Col int
	Msg       string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

// Parse parses src, which may start with a UTF-8 BOM.
func Parse(src []byte) (*Value, error) {
	p := &parser{src: src}
	if len(src) >= 3 && src[0] == 0xef && src[1] == 0xbb && src[2] == 0xbf {
		p.i = 3
	}
	if !utf8.Valid(src) {
		return nil, p.err(p.i, "invalid UTF-8")
	}
	if err := p.space(); err != nil {
		return nil, err
	}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if err := p.space(); err != nil {
		return nil, err
	}
	if p.i < len(src) {
		return nil, p.err(p.i, "unexpected %q after the top-level value", src[p.i])
	}
	return v, nil
}

// Line returns the 1-based line of offset in src.
func Line(src []byte, offset int) int {
	line := 1
	for _, c := range src[:min(offset, len(src))] {
		if c == '\n' {
			line++
		}
	}
	return line
}

// Quote renders s as a JSON string literal.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

const maxDepth = 512

type parser struct {
	src []byte
	i   int
}

func (p *parser) err(offset int, format string, args ...any) error {
	line, col := 1, 1
	for _, c := range p.src[:min(offset, len(p.src))] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return &SyntaxError{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// space skips whitespace and comments.
func (p *parser) space() error {
	for p.i < len(p.src) {
		switch c := p.src[p.i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			p.i++
		case c == '/' && p.i+1 < len(p.src) && p.src[p.i+1] == '/':
			for p.i < len(p.src) && p.src[p.i] != '\n' {
				p.i++
			}
		case c == '/' && p.i+1 < len(p.src) && p.src[p.i+1] == '*':
			end := strings.Index(string(p.src[p.i+2:]), "*/")
			if end < 0 {
				return p.err(p.i, "comment is not closed with */")
			}
			p.i += end + 4
		default:
			return nil
		}
	}
	return nil
}

func (p *parser) value(depth int) (*Value, error) {
	if depth > maxDepth {
		return nil, p.err(p.i, "nesting is too deep")
	}
	if p.i >= len(p.src) {
		return nil, p.err(p.i, "unexpected end of file, expected a value")
	}
	switch c := p.src[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		start := p.i
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &Value{Kind: String, Start: start, End: p.i, Str: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		for _, lit := range []struct {
			text string
			kind Kind
		}{{"true", Bool}, {"false", Bool}, {"null", Null}} {
			if strings.HasPrefix(string(p.src[p.i:min(p.i+len(lit.text), len(p.src))]), lit.text) {
				start := p.i
				p.i += len(lit.text)
				return &Value{Kind: lit.kind, Start: start, End: p.i, Str: lit.text}, nil
			}
		}
		return nil, p.err(p.i, "unexpected %q, expected a value", c)
	}
}

func (p *parser) object(depth int) (*Value, error) {
	v := &Value{Kind: Object, Start: p.i}
	p.i++
	for {
		if err := p.space(); err != nil {
			return nil, err
		}
		if p.i >= len(p.src) {
			return nil, p.err(v.Start, "object is not closed with }")
		}
		if p.src[p.i] == '}' {
			p.i++
			v.End = p.i
			return v, nil
		}
		if len(v.Members) > 0 {
			if p.src[p.i] != ',' {
				return nil, p.err(p.i, "expected , or } after an object member")
			}
			p.i++
			if err := p.space(); err != nil {
				return nil, err
			}
			if p.i < len(p.src) && p.src[p.i] == '}' {
				p.i++
				v.End = p.i
				return v, nil
			}
		}
		if p.i >= len(p.src) || p.src[p.i] != '"' {
			return nil, p.err(p.i, "expected a quoted member name")
		}
		keyStart := p.i
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		m := Member{Key: key, KeyStart: keyStart, KeyEnd: p.i}
		if err := p.space(); err != nil {
			return nil, err
		}
		if p.i >= len(p.src) || p.src[p.i] != ':' {
			return nil, p.err(p.i, "expected : after member name %q", key)
		}
		p.i++
		if err := p.space(); err != nil {
			return nil, err
		}
		if m.Value, err = p.value(depth + 1); err != nil {
			return nil, err
		}
		v.Members = append(v.Members, m)
	}
}

func (p *parser) array(depth int) (*Value, error) {
	v := &Value{Kind: Array, Start: p.i}
	p.i++
	for {
		if err := p.space(); err != nil {
			return nil, err
		}
		if p.i >= len(p.src) {
			return nil, p.err(v.Start, "array is not closed with ]")
		}
		if p.src[p.i] == ']' {
			p.i++
			v.End = p.i
			return v, nil
		}
		if len(v.Items) > 0 {
			if p.src[p.i] != ',' {
				return nil, p.err(p.i, "expected , or ] after an array item")
			}
			p.i++
			if err := p.space(); err != nil {
				return nil, err
			}
			if p.i < len(p.src) && p.src[p.i] == ']' {
				p.i++
				v.End = p.i
				return v, nil
			}
		}
		item, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v.Items = append(v.Items, item)
	}
}

func (p *parser) number() (*Value, error) {
	start := p.i
	k := p.i
	if p.src[k] == '-' {
		k++
	}
	digits := func() int {
		n := 0
		for k < len(p.src) && p.src[k] >= '0' && p.src[k] <= '9' {
			k++
			n++
		}
		return n
	}
	intStart := k
	if n := digits(); n == 0 || (n > 1 && p.src[intStart] == '0') {
		return nil, p.err(intStart, "malformed number")
	}
	if k < len(p.src) && p.src[k] == '.' {
		k++
		if digits() == 0 {
			return nil, p.err(k, "malformed number")
		}
	}
	if k < len(p.src) && (p.src[k] == 'e' || p.src[k] == 'E') {
		k++
		if k < len(p.src) && (p.src[k] == '+' || p.src[k] == '-') {
			k++
		}
		if digits() == 0 {
			return nil, p.err(k, "malformed number")
		}
	}
	p.i = k
	return &Value{Kind: Number, Start: start, End: k, Str: string(p.src[start:k])}, nil
}

func (p *parser) str() (string, error) {
	start := p.i
	p.i++
	var b []byte
	plain := true
	for p.i < len(p.src) {
		c := p.src[p.i]
		switch {
		case c == '"':
			p.i++
			if plain {
				return string(p.src[start+1 : p.i-1]), nil
			}
			return string(b), nil
		case c < 0x20:
			return "", p.err(p.i, "control character in a string")
		case c == '\\':
			if plain {
				b = append(b, p.src[start+1:p.i]...)
				plain = false
			}
			if p.i+1 >= len(p.src) {
				return "", p.err(p.i, "string is not closed")
			}
			e := p.src[p.i+1]
			p.i += 2
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", p.err(p.i, "malformed \\u escape")
				}
				if utf16.IsSurrogate(r) && p.i+1 < len(p.src) && p.src[p.i] == '\\' && p.src[p.i+1] == 'u' {
					save := p.i
					p.i += 2
					if r2, ok := p.hex4(); ok {
						r = utf16.DecodeRune(r, r2)
					} else {
						p.i = save
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				return "", p.err(p.i-2, "unknown escape \\%c", e)
			}
		default:
			if !plain {
				b = append(b, c)
			}
			p.i++
		}
	}
	return "", p.err(start, "string is not closed")
}

func (p *parser) hex4() (rune, bool) {
	if p.i+4 > len(p.src) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(p.src[p.i:p.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(v), true
}
