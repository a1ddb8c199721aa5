package cmdutil_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{".NET 10", ".NET 10"},
		{"évolution — ok", "évolution — ok"},
		{"evil\x1b[31mred", `evil\x1b[31mred`},
		{"two\nlines", `two\nlines`},
		{"tab\there", `tab\there`},
		{"c1\u0085x\u009b", `c1\u0085x\u009b`},
		{"del\x7f", `del\x7f`},
		{"bad\xffutf8", `bad\xffutf8`},
	}
	for _, tt := range tests {
		if got := cmdutil.Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestRowEscapes: a row keeps its columns and lines whatever its cells hold.
func TestRowEscapes(t *testing.T) {
	var b bytes.Buffer
	cmdutil.Row(&b, 1, "a\tb\nc\x1b[2J", "x")
	if got, want := b.String(), "1\t"+`a\tb\nc\x1b[2J`+"\tx\n"; got != want {
		t.Fatalf("row = %q, want %q", got, want)
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "a\x1b", "\xff\xfe", "\u009b1m", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := cmdutil.Escape(s)
		for _, r := range out {
			if unicode.IsControl(r) {
				t.Fatalf("Escape(%q) = %q keeps a control character", s, out)
			}
		}
		if !strings.ContainsAny(s, "\\") && !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar }) && out != s {
			t.Fatalf("Escape(%q) = %q changed clean text", s, out)
		}
	})
}
