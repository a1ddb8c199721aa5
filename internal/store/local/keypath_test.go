package local

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/internal/store"
)

func TestSegmentRoundTrip(t *testing.T) {
	cases := []struct{ seg, name string }{
		{"plain-name_1.0+x,y=z", "plain-name_1.0+x,y=z"},
		{"Microsoft", "!microsoft"},
		{"a b", "a%20b"},
		{"%", "%25"},
		{"!", "%21"},
		{"@", "%40"},
		{"x.", "x%2e"},
		{"...", "..%2e"},
		{"con", "%63on"},
		{"com7.log", "%63om7.log"},
		{"CON", "!c!o!n"},
		{"conx", "conx"},
		{"ü", "%c3%bc"},
		{"\xff", "%ff"},
	}
	for _, c := range cases {
		t.Run(c.seg, func(t *testing.T) {
			if got := encodeSegment(c.seg); got != c.name {
				t.Fatalf("encodeSegment(%q) = %q, want %q", c.seg, got, c.name)
			}
			if got, ok := decodeSegment(c.name); !ok || got != c.seg {
				t.Fatalf("decodeSegment(%q) = %q, %v, want %q", c.name, got, ok, c.seg)
			}
		})
	}
}

func TestDecodeRejectsForeignNames(t *testing.T) {
	for _, name := range []string{"", "A", "a%2", "a%2G", "a%2E", "%61", "!", "!A", "a!", "x@", "a b", "con", "x.", "日本"} {
		if seg, ok := decodeSegment(name); ok {
			t.Errorf("decodeSegment(%q) = %q, true; want false", name, seg)
		}
	}
}

// FuzzRelPath checks that every valid key maps to a path inside data/ made of
// names that are safe on every file system, that distinct keys never share a
// path even when case is ignored, and that the names decode back to the key.
func FuzzRelPath(f *testing.F) {
	for _, seed := range []string{
		"builds/12.json", "Microsoft.NETCore.App.Ref/10.0.0-preview.1.25080.5", "a/b/c",
		"con/nul.txt", "trailing./x", "ünïcödé/日本語/😀", "100%", "a@/b", "CASE", "case",
		"channels/.NET 10/default", "assets/Microsoft.DotNet.Arcade.Sdk/9.0.0-beta.24408.2",
	} {
		f.Add(seed, strings.ToUpper(seed))
	}
	f.Fuzz(func(t *testing.T, key, other string) {
		rel, err := relPath(key)
		if store.ValidateKey(key) != nil {
			if !errors.Is(err, store.ErrInvalidKey) {
				t.Fatalf("relPath(%q) of an invalid key error = %v", key, err)
			}
			return
		}
		if errors.Is(err, store.ErrInvalidKey) && strings.Contains(err.Error(), "encodes to") {
			return
		}
		if err != nil {
			t.Fatalf("relPath(%q): %v", key, err)
		}
		if !filepath.IsLocal(rel) {
			t.Fatalf("relPath(%q) = %q leaves data/", key, rel)
		}
		if strings.ToLower(rel) != rel {
			t.Fatalf("relPath(%q) = %q has upper case; it would clash on case-insensitive file systems", key, rel)
		}
		names := strings.Split(filepath.ToSlash(rel), "/")
		segs := strings.Split(key, "/")
		if len(names) != len(segs) {
			t.Fatalf("relPath(%q) = %q has %d names for %d segments", key, rel, len(names), len(segs))
		}
		for i, name := range names {
			if i < len(names)-1 {
				name = strings.TrimSuffix(name, dirSuffix)
			}
			for _, c := range []byte(name) {
				if !isPlain(c) && c != '!' && c != '%' {
					t.Fatalf("relPath(%q) = %q uses byte %q", key, rel, c)
				}
			}
			if seg, ok := decodeSegment(name); !ok || seg != segs[i] {
				t.Fatalf("name %q of relPath(%q) decodes to %q, %v; want %q", name, key, seg, ok, segs[i])
			}
		}
		if otherRel, err := relPath(other); err == nil && other != key && strings.EqualFold(otherRel, rel) {
			t.Fatalf("keys %q and %q both map to %q", key, other, rel)
		}
	})
}
