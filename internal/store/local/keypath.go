package local

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/maestroplusplus/maestro/internal/store"
)

// The mapping from keys to paths under data/, as the package comment
// describes it. Encoded names contain only lower-case ASCII, digits and
// "-_.+,=!%@", never "." or ".." and never a separator.

const (
	dirSuffix = "@"
	maxName   = 255
	hexDigits = "0123456789abcdef"
)

// windowsDevices are the names Windows reserves with any extension.
var windowsDevices = map[string]bool{
	"con": true, "prn": true, "aux": true, "nul": true,
	"com0": true, "com1": true, "com2": true, "com3": true, "com4": true,
	"com5": true, "com6": true, "com7": true, "com8": true, "com9": true,
	"lpt0": true, "lpt1": true, "lpt2": true, "lpt3": true, "lpt4": true,
	"lpt5": true, "lpt6": true, "lpt7": true, "lpt8": true, "lpt9": true,
}

func isPlain(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.+,=", c) >= 0
}

func escapeByte(b *strings.Builder, c byte) {
	b.WriteByte('%')
	b.WriteByte(hexDigits[c>>4])
	b.WriteByte(hexDigits[c&0xf])
}

// encodeSegment returns the file name of one key segment.
func encodeSegment(seg string) string {
	var b strings.Builder
	b.Grow(len(seg) + 8)
	base, _, _ := strings.Cut(seg, ".")
	device := windowsDevices[base]
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch {
		case i == 0 && device:
			escapeByte(&b, c)
		case i == len(seg)-1 && c == '.':
			escapeByte(&b, c)
		case 'A' <= c && c <= 'Z':
			b.WriteByte('!')
			b.WriteByte(c + 'a' - 'A')
		case isPlain(c):
			b.WriteByte(c)
		default:
			escapeByte(&b, c)
		}
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// decodeSegment reverses encodeSegment. It reports false for any name that
// encodeSegment would not have produced, so stray files are never listed.
func decodeSegment(name string) (string, bool) {
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '!':
			if i+1 >= len(name) || name[i+1] < 'a' || name[i+1] > 'z' {
				return "", false
			}
			b.WriteByte(name[i+1] - 'a' + 'A')
			i++
		case c == '%':
			if i+2 >= len(name) {
				return "", false
			}
			hi, ok1 := unhex(name[i+1])
			lo, ok2 := unhex(name[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			b.WriteByte(hi<<4 | lo)
			i += 2
		case isPlain(c):
			b.WriteByte(c)
		default:
			return "", false
		}
	}
	seg := b.String()
	if seg == "" || encodeSegment(seg) != name {
		return "", false
	}
	return seg, true
}

// relPath returns the path of key's object relative to data/, using the
// OS separator.
func relPath(key string) (string, error) {
	if err := store.ValidateKey(key); err != nil {
		return "", err
	}
	segs := strings.Split(key, "/")
	names := make([]string, len(segs))
	for i, seg := range segs {
		name := encodeSegment(seg)
		if i < len(segs)-1 {
			name += dirSuffix
		}
		if len(name) > maxName {
			return "", fmt.Errorf("%w: %.60q...: segment %d encodes to %d bytes, the local store allows %d",
				store.ErrInvalidKey, key, i+1, len(name), maxName)
		}
		names[i] = name
	}
	return filepath.Join(names...), nil
}
