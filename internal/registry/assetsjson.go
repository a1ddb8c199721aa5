package registry

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"unicode/utf8"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// The assets document of a large build is most of what a publish writes, and
// encoding/json spends more time on it than the write itself takes on a local
// disk. assetTails encodes every asset but its id (which needs the build id)
// while publish is still claiming one; withIDs then assembles the document.
// The output is what encoding/json would decode into the same []maestro.Asset
// (TestAssetsJSONMatchesEncodingJSON, FuzzAssetsJSON).

// assetTails is the encoding of every asset from its name on, one after the
// other: asset i is tails[ends[i-1]:ends[i]].
type assetTails struct {
	buf  []byte
	ends []int
	sum  [sha256.Size]byte // of ends and buf: what the document holds besides the ids
}

func encodeAssetTails(as []maestro.Asset) assetTails {
	t := assetTails{buf: make([]byte, 0, len(as)*128), ends: make([]int, len(as))}
	for i, a := range as {
		t.buf = append(t.buf, `,"name":`...)
		t.buf = appendJSONString(t.buf, a.Name)
		t.buf = append(t.buf, `,"version":`...)
		t.buf = appendJSONString(t.buf, a.Version)
		t.buf = append(t.buf, `,"nonShipping":`...)
		t.buf = strconv.AppendBool(t.buf, a.NonShipping)
		t.buf = append(t.buf, `,"locations":`...)
		if a.Locations == nil {
			t.buf = append(t.buf, "null"...)
		} else {
			t.buf = append(t.buf, '[')
			for j, l := range a.Locations {
				if j > 0 {
					t.buf = append(t.buf, ',')
				}
				t.buf = append(t.buf, `{"type":`...)
				t.buf = appendJSONString(t.buf, string(l.Type))
				t.buf = append(t.buf, `,"location":`...)
				t.buf = appendJSONString(t.buf, l.Location)
				t.buf = append(t.buf, '}')
			}
			t.buf = append(t.buf, ']')
		}
		t.buf = append(t.buf, '}')
		t.ends[i] = len(t.buf)
	}
	h := sha256.New()
	var n [8]byte
	for _, end := range t.ends {
		binary.LittleEndian.PutUint64(n[:], uint64(end))
		h.Write(n[:])
	}
	h.Write(t.buf)
	h.Sum(t.sum[:0])
	return t
}

// withIDs returns the assets document: asset i gets id firstID+i.
func (t assetTails) withIDs(firstID int) []byte {
	out := make([]byte, 0, len(t.buf)+len(t.ends)*24+2)
	out = append(out, '[')
	start := 0
	for i, end := range t.ends {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"id":`...)
		out = strconv.AppendInt(out, int64(firstID+i), 10)
		out = append(out, t.buf[start:end]...)
		start = end
	}
	return append(out, ']')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD as
// encoding/json does.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
