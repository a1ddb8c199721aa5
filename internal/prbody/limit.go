package prbody

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/maestroplusplus/maestro/internal/repourl"
)

// Unit is how a host counts the length of a text.
type Unit int

const (
	// Bytes counts UTF-8 bytes. Azure Repos counts .NET string length
	// (UTF-16 code units), which is never more than the UTF-8 bytes, so a
	// text that fits in bytes fits there too.
	Bytes Unit = iota
	// Characters counts Unicode code points, as GitHub does ("body is too
	// long (maximum is 65536 characters)"; Ruby's String#length). An invalid
	// UTF-8 byte counts as one, as it becomes one U+FFFD when the text is
	// sent as JSON.
	Characters
)

// Limit is how a host bounds the text of a pull request or comment: at
// most Max units of Unit. FullList returns the page that lists everything a
// pull request branch changes, which a cut body links to. The zero Limit
// means no limit.
type Limit struct {
	Max      int
	Unit     Unit
	FullList func(repo, base, head string) string
}

// Len is the length of s in the limit's unit.
func (l Limit) Len(s string) int {
	if l.Unit == Characters {
		return utf8.RuneCountInString(s)
	}
	return len(s)
}

// Fits reports whether s is within the limit (always, for the zero Limit).
func (l Limit) Fits(s string) bool { return l.Max <= 0 || l.Len(s) <= l.Max }

// prefix returns the longest prefix of s, ending at a rune boundary, whose
// length is at most n units.
func (l Limit) prefix(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if l.Unit == Characters {
		i := 0
		for c := 0; i < len(s) && c < n; c++ {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
		return s[:i]
	}
	if n >= len(s) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// GitHubCompareURL is the GitHub page comparing head with base, on
// github.com or a GitHub Enterprise Server.
func GitHubCompareURL(repo, base, head string) string {
	return fmt.Sprintf("%s/compare/%s...%s", repourl.Normalize(repo), base, head)
}

// AzureReposCompareURL is the Azure Repos page comparing head with base.
func AzureReposCompareURL(repo, base, head string) string {
	return fmt.Sprintf("%s/branchCompare?baseVersion=GB%s&targetVersion=GB%s", strings.TrimSuffix(repo, "/"), url.QueryEscape(base), url.QueryEscape(head))
}

// truncatedNote is the line a cut body ends with (%s: the full list's URL);
// truncatedRE finds it again, so that a body cut before is measured, merged
// and cut again without the old note.
const truncatedNote = "\n\n... The description was too long; the full list of updates is at %s\n"

var truncatedRE = regexp.MustCompile(`\n\n\.\.\. The description was too long; the full list of updates is at [^\n]*\n`)

var beginRE = regexp.MustCompile(`\[marker\]: <> \(Begin:([^)]+)\)\n`)

// Truncate fits a pull request body into l: a body that fits is returned
// as it is (less the note of an earlier cut); a longer one is cut after its
// last whole line that fits and ends with a note linking fullListURL. When
// the cut falls inside a subscription's section, the section is closed with
// its end marker, so that the next update (Merge) replaces the cut section
// with its full text instead of appending a second one.
func Truncate(body string, l Limit, fullListURL string) string {
	body = truncatedRE.ReplaceAllString(body, "")
	if l.Fits(body) {
		return body
	}
	note := fmt.Sprintf(truncatedNote, fullListURL)
	return cut(body, l, func(kept string) string {
		if id, open := openSection(kept); open {
			return endMarker(id) + "\n" + note
		}
		return note
	})
}

// Cut fits text into l: text that fits is returned as it is; longer text is
// cut after its last whole line that fits (or, in a single overlong line,
// at a character that ends no escape sequence) and ends with note. When
// not even note fits, the text is cut without it.
func Cut(text string, l Limit, note string) string {
	if l.Fits(text) {
		return text
	}
	return cut(text, l, func(string) string { return note })
}

// cut shortens s, which does not fit l, to a prefix followed by tail(prefix),
// together within l. The tail depends on the prefix (a section's end
// marker), so each round cuts by what the last tail needs; the cut only
// moves back, by at least the overflow, so the rounds are few even for a
// long tail.
func cut(s string, l Limit, tail func(kept string) string) string {
	t, end := tail(""), len(s)
	for {
		budget := l.Max - l.Len(t)
		if budget < 0 {
			return s[:safeEnd(s, len(l.prefix(s, l.Max)))]
		}
		end = lineEnd(s, min(end, len(l.prefix(s, budget))))
		kept := s[:end]
		t = tail(kept)
		if l.Len(kept)+l.Len(t) <= l.Max {
			return kept + t
		}
	}
}

// lineEnd moves a cut of s at byte end back to just after the last newline
// before it; in a single overlong line, to safeEnd.
func lineEnd(s string, end int) int {
	if i := strings.LastIndexByte(s[:end], '\n'); i >= 0 {
		return i + 1
	}
	return safeEnd(s, end)
}

// escapeRE matches the escape sequences a cut must not halve: an HTML
// character reference (&amp; &#233; &#xE9;) and a URL percent-escape.
var escapeRE = regexp.MustCompile(`^(?:&#?[A-Za-z0-9]+;|%[0-9A-Fa-f]{2})`)

// maxEscape bounds how far before a cut an escape sequence can start (the
// longest HTML character reference has 33 bytes).
const maxEscape = 40

// safeEnd moves a cut of s at byte end (a rune boundary) back until it
// halves nothing: no Markdown backslash escape (an odd run of backslashes
// before the cut), no HTML character reference or percent-escape that
// starts before the cut and ends after it, and no character whose
// combining marks or zero width joiner follow the cut.
func safeEnd(s string, end int) int {
	for end > 0 && end < len(s) {
		moved := end
		if n := end - len(strings.TrimRight(s[:end], `\`)); n%2 == 1 {
			moved = end - 1
		}
		for i := max(0, end-maxEscape); i < end; i++ {
			if s[i] == '&' || s[i] == '%' {
				if m := escapeRE.FindString(s[i:]); i+len(m) > end {
					moved = min(moved, i)
					break
				}
			}
		}
		if next, _ := utf8.DecodeRuneInString(s[end:]); joins(next) {
			_, size := utf8.DecodeLastRuneInString(s[:end])
			moved = min(moved, end-size)
		}
		if prev, size := utf8.DecodeLastRuneInString(s[:end]); prev == '\u200d' {
			moved = min(moved, end-size)
		}
		if moved == end {
			return end
		}
		end = moved
	}
	return end
}

// joins reports whether r belongs to the character before it: a combining
// mark or a zero width joiner.
func joins(r rune) bool {
	return unicode.In(r, unicode.Mn, unicode.Me) || r == '\u200d'
}

// openSection reports whether text ends inside a section: the last begin
// marker has no end marker after it.
func openSection(text string) (id string, open bool) {
	all := beginRE.FindAllStringSubmatchIndex(text, -1)
	if len(all) == 0 {
		return "", false
	}
	last := all[len(all)-1]
	id = text[last[2]:last[3]]
	return id, !strings.Contains(text[last[1]:], endMarker(id))
}
