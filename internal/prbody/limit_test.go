package prbody_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/prbody"
)

const fullList = "https://github.com/dotnet/runtime/compare/main...darc-main-1"

func bytesLimit(n int) prbody.Limit { return prbody.Limit{Max: n, Unit: prbody.Bytes} }
func charsLimit(n int) prbody.Limit { return prbody.Limit{Max: n, Unit: prbody.Characters} }

// manyChanges is a section of n updated dependencies.
func manyChanges(id string, n int) prbody.Section {
	var changes []deps.Change
	for i := range n {
		changes = append(changes, deps.Change{Name: fmt.Sprintf("Microsoft.Extensions.Package%05d", i), FromVersion: "9.0.0", ToVersion: "10.0.0-preview.1",
			FromSha: "6003ee189f456c92a18b097f226d4927309def27", ToSha: "7b731032220c21a3ed0021c72757b1f3122579b2", ToURI: "https://github.com/dotnet/runtime"})
		changes[i].FromVersion = fmt.Sprintf("9.0.%d", i) // one group per change: two lines each
	}
	return prbody.Section{SubscriptionID: id, Build: arcadeBuild, Changes: changes}
}

func TestLimitLen(t *testing.T) {
	tests := []struct {
		name  string
		s     string
		bytes int
		chars int
	}{
		{"ascii", "abc", 3, 3},
		{"two-byte", "é", 2, 1},
		{"astral (two UTF-16 units, one character)", "😀", 4, 1},
		{"invalid byte counts as one character", "a\xffb", 3, 3},
		{"CRLF is two characters", "a\r\nb", 4, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.bytes, bytesLimit(1).Len(tt.s))
			assert.Equal(t, tt.chars, charsLimit(1).Len(tt.s))
		})
	}
	assert.True(t, prbody.Limit{}.Fits(strings.Repeat("x", 1<<20)), "the zero Limit has no limit")
}

func TestTruncate(t *testing.T) {
	note := "\n\n... The description was too long; the full list of updates is at " + fullList + "\n"
	tests := []struct {
		name  string
		body  string
		limit prbody.Limit
		want  string
	}{
		{"fits", "short\n", charsLimit(100), "short\n"},
		{"exactly the limit in characters", strings.Repeat("é", 65536), charsLimit(65536), strings.Repeat("é", 65536)},
		{"one character over: cut after the last whole line", strings.Repeat("é", 60) + "\n" + strings.Repeat("x", 65536), charsLimit(65536),
			strings.Repeat("é", 60) + "\n" + note},
		{"bytes count two for é", "ab\n" + strings.Repeat("é", 100) + "\n" + strings.Repeat("x", 200), bytesLimit(3 + 101 + len(note)), "ab\n" + note},
		{"characters count one for é", "ab\n" + strings.Repeat("é", 100) + "\n" + strings.Repeat("x", 200), charsLimit(3 + 101 + len(note)),
			"ab\n" + strings.Repeat("é", 100) + "\n" + note},
		{"the note of an earlier cut goes when the body fits", "a\nb\n" + note, charsLimit(10), "a\nb\n"},
		{"no note fits: a hard cut within the limit", "abc\ndef\n", bytesLimit(5), "abc\nd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := prbody.Truncate(tt.body, tt.limit, fullList)
			assert.Equal(t, tt.want, got)
			assert.True(t, tt.limit.Fits(got))
		})
	}
}

// TestTruncateClosesTheCutSection: a body cut inside a section keeps the
// section's end marker, so the next update replaces the cut section with
// its full text (and cuts again) instead of appending its section after the
// cut, where the next cut would drop it.
func TestTruncateClosesTheCutSection(t *testing.T) {
	limit := charsLimit(4000)
	body := prbody.Merge("", manyChanges("sub-1", 200))
	require.False(t, limit.Fits(body))
	cut := prbody.Truncate(body, limit, fullList)
	assert.True(t, limit.Fits(cut))
	assert.True(t, strings.HasSuffix(cut, "[marker]: <> (End:sub-1)\n\n\n... The description was too long; the full list of updates is at "+fullList+"\n"), cut[len(cut)-300:])
	kept := strings.TrimSuffix(cut[:strings.LastIndex(cut, "[marker]: <> (End:sub-1)")], "\n")
	assert.True(t, strings.HasPrefix(body, kept), "the kept text is the body's beginning, in whole lines")

	// The next update of sub-1 rewrites its section in place: one section,
	// the newer build's, one note.
	next := manyChanges("sub-1", 150)
	next.Build.ID = 99
	again := prbody.Truncate(prbody.Merge(cut, next), limit, fullList)
	assert.True(t, limit.Fits(again))
	assert.Equal(t, 1, strings.Count(again, "(Begin:sub-1)"))
	assert.Equal(t, 1, strings.Count(again, "(End:sub-1)"))
	assert.Equal(t, 1, strings.Count(again, "The description was too long"))
	assert.Contains(t, again, "(BAR build 99)")
	assert.NotContains(t, again, "(BAR build 12)")

	// A later update small enough to fit leaves no note behind.
	small := prbody.Truncate(prbody.Merge(again, manyChanges("sub-1", 3)), limit, fullList)
	assert.NotContains(t, small, "The description was too long")
	assert.Equal(t, prbody.Merge("", manyChanges("sub-1", 3)), small)
}

// TestTruncateLongSectionID: a section whose (hand-edited) id is as long as
// half the limit, over tens of thousands of one-character lines, is cut in
// a few rounds, not one round per line (which would take minutes).
func TestTruncateLongSectionID(t *testing.T) {
	id := strings.Repeat("a", 30000)
	body := "[marker]: <> (Begin:" + id + ")\n" + strings.Repeat("\n", 100000) + "[marker]: <> (End:" + id + ")\n"
	limit := charsLimit(65536)
	start := time.Now()
	got := prbody.Truncate(body, limit, fullList)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.True(t, limit.Fits(got))
	assert.True(t, balanced(strings.TrimSuffix(got, "\n\n... The description was too long; the full list of updates is at "+fullList+"\n")))
}

// TestCutHalvesNoEscape: in a single overlong line the cut moves back over
// anything it would halve.
func TestCutHalvesNoEscape(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		limit prbody.Limit
		want  string
	}{
		{"multi-byte character", "ab€cd", bytesLimit(4), "ab"},
		{"markdown escape", `ab\*cd`, bytesLimit(3), "ab"},
		{"escaped backslash is whole", `ab\\*cd`, bytesLimit(4), `ab\\`},
		{"HTML character reference", "abc&amp;def", bytesLimit(6), "abc"},
		{"numeric character reference", "abc&#233;def", charsLimit(8), "abc"},
		{"complete character reference", "abc&amp;def", bytesLimit(8), "abc&amp;"},
		{"ampersand that is no reference", "AT&T rocks", bytesLimit(4), "AT&T"},
		{"percent-escape", "x%2Fy", bytesLimit(3), "x"},
		{"combining mark", "ae\u0301b", charsLimit(2), "a"},
		{"zero width joiner", "a👨\u200d👩b", charsLimit(3), "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := prbody.Cut(tt.text, tt.limit, "")
			assert.Equal(t, tt.want, got)
		})
	}
	assert.Equal(t, "line one\n[cut]", prbody.Cut("line one\nline two", bytesLimit(15), "[cut]"), "whole lines first")
	assert.Equal(t, "fits", prbody.Cut("fits", bytesLimit(4), "[cut]"))
}

func TestCompareURLs(t *testing.T) {
	assert.Equal(t, "https://github.com/dotnet/runtime/compare/main...darc-main-1",
		prbody.GitHubCompareURL("https://github.com/dotnet/runtime.git", "main", "darc-main-1"))
	assert.Equal(t, "https://ghe.contoso.com/dotnet/runtime/compare/release/9.0...darc-release/9.0-1",
		prbody.GitHubCompareURL("https://ghe.contoso.com/dotnet/runtime", "release/9.0", "darc-release/9.0-1"))
	assert.Equal(t, "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime/branchCompare?baseVersion=GBrelease%2F9.0&targetVersion=GBdarc-release%2F9.0-1",
		prbody.AzureReposCompareURL("https://dev.azure.com/dnceng/internal/_git/dotnet-runtime", "release/9.0", "darc-release/9.0-1"))
}

// markerRE finds begin markers (a line of their own, as Merge reads them)
// and end markers.
var markerRE = regexp.MustCompile(`\[marker\]: <> \((Begin):([^)]+)\)\n|\[marker\]: <> \((End):([^)]+)\)`)

// balanced reports whether every begin marker of text is followed by its
// end marker before the next begin marker.
func balanced(text string) bool {
	open := ""
	for _, m := range markerRE.FindAllStringSubmatch(text, -1) {
		switch {
		case m[1] == "Begin" && open != "":
			return false
		case m[1] == "Begin":
			open = m[2]
		case m[4] == open:
			open = ""
		}
	}
	return open == ""
}

// FuzzTruncate: whatever the body and the limit, the result fits; a body
// that fits comes back as it is; a cut keeps the body's beginning, valid
// UTF-8 stays valid, the sections stay balanced, and the note links the
// full list.
func FuzzTruncate(f *testing.F) {
	for _, name := range []string{"body-one.md", "body-two-rewritten.md"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		f.Add(string(data), uint16(300), true)
		f.Add(string(data), uint16(120), false)
	}
	f.Add(prbody.Merge("", manyChanges("s", 30)), uint16(2000), true)
	f.Add("a&amp;b\\*c%2Fé\u0301👨\u200d👩\n", uint16(7), true)
	f.Add("x\n\n... The description was too long; the full list of updates is at u\n", uint16(5), false)
	f.Fuzz(func(t *testing.T, body string, max uint16, chars bool) {
		l := bytesLimit(int(max))
		if chars {
			l = charsLimit(int(max))
		}
		if max == 0 {
			return // the zero Limit means no limit
		}
		got := prbody.Truncate(body, l, fullList)
		if !l.Fits(got) {
			t.Fatalf("%d units over the limit of %d", l.Len(got), l.Max)
		}
		if utf8.ValidString(body) && !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8: %q", got)
		}
		if strings.Contains(body, "The description was too long") {
			return // an earlier note, removed first: the checks below compare with body
		}
		if l.Fits(body) {
			if got != body {
				t.Fatalf("a body that fits changed: %q", got)
			}
			return
		}
		kept, noted := strings.CutSuffix(got, "\n\n... The description was too long; the full list of updates is at "+fullList+"\n")
		if !noted {
			if !strings.HasPrefix(body, got) {
				t.Fatalf("a cut without the note is not the body's beginning: %q", got)
			}
			return
		}
		if balanced(body) && !balanced(kept) {
			t.Fatalf("unbalanced sections: %q", kept)
		}
		if i := strings.LastIndex(kept, "[marker]: <> (End:"); i >= 0 && !strings.HasPrefix(body, kept) {
			kept = kept[:i] // the end marker of a cut section
		}
		if !strings.HasPrefix(body, kept) {
			t.Fatalf("the kept text is not the body's beginning: %q", kept)
		}
	})
}

// FuzzCut: the result fits, begins like the text, and a cut inside a line
// leaves no half escape at its end.
func FuzzCut(f *testing.F) {
	f.Add("a&amp;b\\*c%2Fé\u0301👨\u200d👩", uint16(7), true)
	f.Add("line one\nline two", uint16(12), false)
	f.Fuzz(func(t *testing.T, text string, max uint16, chars bool) {
		if max == 0 {
			return
		}
		l := bytesLimit(int(max))
		if chars {
			l = charsLimit(int(max))
		}
		got := prbody.Cut(text, l, "")
		if !l.Fits(got) || !strings.HasPrefix(text, got) {
			t.Fatalf("Cut(%q, %d) = %q", text, max, got)
		}
		if got == text || strings.HasSuffix(got, "\n") {
			return
		}
		rest := text[len(got):]
		if !utf8.ValidString(text) {
			return
		}
		if !utf8.RuneStart(rest[0]) {
			t.Fatalf("a character cut in half: %q | %q", got, rest)
		}
		if n := len(got) - len(strings.TrimRight(got, `\`)); n%2 == 1 {
			t.Fatalf("a backslash escape cut in half: %q | %q", got, rest)
		}
		if r, _ := utf8.DecodeRuneInString(rest); r == '\u0301' || r == '\u200d' {
			t.Fatalf("a combining sequence cut in half: %q | %q", got, rest)
		}
	})
}
