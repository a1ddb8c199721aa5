package registry

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// The assets document of a large build is most of what a publish writes, and
// encoding/json spends more time on it than the write itself takes on a local
// disk. assetTails encodes every asset but its id (which needs the build id)
// while publish is still claiming one, in chunks side by side; withIDs then
// assembles the document, its chunks side by side too. The output is what
// encoding/json would decode into the same []maestro.Asset
// (TestAssetsJSONMatchesEncodingJSON, FuzzAssetsJSON).

// tailsChunk is the number of assets encoded as one piece of work.
const tailsChunk = 4096

// assetTails is the encoding of every asset from its name on, in chunks of
// tailsChunk assets: asset j of a chunk is buf[ends[j-1]:ends[j]].
type assetTails struct {
	chunks []tailChunk
	// sum digests the chunks' digests: what the document holds besides the ids.
	sum [sha256.Size]byte
}

type tailChunk struct {
	buf  []byte
	ends []int
	sum  [sha256.Size]byte
}

func encodeAssetTails(as []maestro.Asset) assetTails {
	t := assetTails{chunks: make([]tailChunk, (len(as)+tailsChunk-1)/tailsChunk)}
	var wg sync.WaitGroup
	for c := range t.chunks {
		wg.Go(func() {
			t.chunks[c] = encodeTailChunk(as[c*tailsChunk : min(len(as), (c+1)*tailsChunk)])
		})
	}
	wg.Wait()
	h := sha256.New()
	for _, c := range t.chunks {
		h.Write(c.sum[:])
	}
	h.Sum(t.sum[:0])
	return t
}

func encodeTailChunk(as []maestro.Asset) tailChunk {
	size := 0
	for _, a := range as {
		size += len(a.Name) + len(a.Version) + len(`,"name":"","version":"","nonShipping":false,"locations":[]}`)
		for _, l := range a.Locations {
			size += len(l.Type) + len(l.Location) + len(`,{"type":"","location":""}`)
		}
	}
	c := tailChunk{buf: make([]byte, 0, size+size/16), ends: make([]int, len(as))}
	for i, a := range as {
		c.buf = append(c.buf, `,"name":`...)
		c.buf = appendJSONString(c.buf, a.Name)
		c.buf = append(c.buf, `,"version":`...)
		c.buf = appendJSONString(c.buf, a.Version)
		c.buf = append(c.buf, `,"nonShipping":`...)
		c.buf = strconv.AppendBool(c.buf, a.NonShipping)
		c.buf = append(c.buf, `,"locations":`...)
		if a.Locations == nil {
			c.buf = append(c.buf, "null"...)
		} else {
			c.buf = append(c.buf, '[')
			for j, l := range a.Locations {
				if j > 0 {
					c.buf = append(c.buf, ',')
				}
				c.buf = append(c.buf, `{"type":`...)
				c.buf = appendJSONString(c.buf, string(l.Type))
				c.buf = append(c.buf, `,"location":`...)
				c.buf = appendJSONString(c.buf, l.Location)
				c.buf = append(c.buf, '}')
			}
			c.buf = append(c.buf, ']')
		}
		c.buf = append(c.buf, '}')
		c.ends[i] = len(c.buf)
	}
	h := sha256.New()
	var n [8]byte
	for _, end := range c.ends {
		binary.LittleEndian.PutUint64(n[:], uint64(end))
		h.Write(n[:])
	}
	h.Write(c.buf)
	h.Sum(c.sum[:0])
	return c
}

// withIDs returns the assets document: asset i gets id firstID+i.
func (t assetTails) withIDs(firstID int) []byte {
	// Where each chunk's part of the document starts: "[", then per asset a
	// comma but before the first, `{"id":`, the id and the tail; then "]".
	starts := make([]int, len(t.chunks)+1)
	starts[0] = 1
	id := firstID
	for c, ch := range t.chunks {
		n := len(ch.buf) + len(ch.ends)*(len(`,{"id":`))
		for range ch.ends {
			n += decimalLen(id)
			id++
		}
		if c == 0 && len(ch.ends) > 0 {
			n-- // no comma before the first asset
		}
		starts[c+1] = starts[c] + n
	}
	out := make([]byte, starts[len(t.chunks)]+1)
	out[0], out[len(out)-1] = '[', ']'
	var wg sync.WaitGroup
	for c, ch := range t.chunks {
		wg.Go(func() {
			part := out[starts[c]:starts[c]:starts[c+1]]
			first := firstID + c*tailsChunk
			prev := 0
			for i, end := range ch.ends {
				if c > 0 || i > 0 {
					part = append(part, ',')
				}
				part = append(part, `{"id":`...)
				part = strconv.AppendInt(part, int64(first+i), 10)
				part = append(part, ch.buf[prev:end]...)
				prev = end
			}
			if len(part) != starts[c+1]-starts[c] {
				panic("registry: withIDs sized a chunk of the assets document wrong") // a bug here, not bad input
			}
		})
	}
	wg.Wait()
	return out
}

// decimalLen is the number of digits of n ≥ 0.
func decimalLen(n int) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}

const hexDigits = "0123456789abcdef"

// plainPrefix is the length of the longest prefix of s that a JSON string
// holds as it is: printable ASCII but quote and backslash. It looks at eight
// bytes at a time (a byte is special if it is below 0x20, is '"' or '\\', or
// has its top bit set), then at the rest one by one.
func plainPrefix(s string) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	hasZero := func(v uint64) uint64 { return (v - ones) & ^v & highs }
	i := 0
	for ; i+8 <= len(s); i += 8 {
		v := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		if (v-0x20*ones)&^v&highs|hasZero(v^'"'*ones)|hasZero(v^'\\'*ones)|v&highs != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			break
		}
	}
	return i
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD as
// encoding/json does.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := plainPrefix(s); i < len(s); {
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
