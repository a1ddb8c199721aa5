package manifest

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// BlobVersion derives the version of a blob from its path the way production
// Maestro's VersionIdentifier does, so that BAR records the same version for
// the same blob. It walks the path's segments from the last to the first and
// returns the first version found, or "" when none is.
//
// Within a segment, split at '.', '-' and '_', a version starts with
// major.minor.patch (three whole numbers joined by '.'); it goes on only with a
// '-' followed by a pre-release label starting with alpha, beta, preview,
// prerelease, servicing, rtm, rc or hotfix (any case), and then with further
// numbers or "final". When a segment holds several versions, the one that
// starts last wins: Manifest-6.0.100.Msi.x64.6.0.0-rc.1.21380.2.symbols.nupkg
// gives 6.0.0-rc.1.21380.2. The numbers of major.minor.patch are written back
// as whole numbers (01 becomes 1); the rest is kept as written.
func BlobVersion(name string) string {
	rest := name
	for rest != "" {
		i := strings.LastIndexByte(rest, '/')
		seg := rest[i+1:]
		if i < 0 {
			rest = ""
		} else {
			rest = rest[:i]
		}
		if seg == "" {
			continue
		}
		if v, ok := segmentVersion(seg); ok {
			return v
		}
	}
	return ""
}

var knownTags = []string{"alpha", "beta", "preview", "prerelease", "servicing", "rtm", "rc", "hotfix"}

const finalSuffix = "final"

type versionNumber struct {
	n   int
	pos int
}

// segmentVersion follows VersionIdentifier.GetVersionForSingleSegment step by
// step, quirks included (numbers left on the stack after a version is found
// take part in the next search).
func segmentVersion(seg string) (string, bool) {
	var (
		stack             []versionNumber
		mmp               string
		haveMMP           bool
		mmpPos            int
		suffix            strings.Builder
		prevDelim         byte
		nextDelim         byte
		best              string
		bestPos           = -1
		cur               int
		recordCandidateAt = func(pos int, v string) {
			if pos > bestPos {
				best, bestPos = v, pos
			}
		}
	)
	for {
		prevDelim = nextDelim
		var part string
		j := strings.IndexAny(seg[cur:], ".-_")
		if j >= 0 {
			nextDelim = seg[cur+j]
			part = seg[cur : cur+j]
		} else {
			part = seg[cur:]
		}

		if !haveMMP {
			n, isNum := dotnetInt(part)
			switch {
			case isNum && (len(stack) == 0 || prevDelim == '.'):
				stack = append(stack, versionNumber{n, cur})
			case len(stack) > 0 && len(stack) < 3:
				stack = stack[:0]
			}
			if len(stack) >= 3 && (prevDelim != '.' || !isNum || j < 0) {
				k := len(stack)
				major, minor, patch := stack[k-3], stack[k-2], stack[k-1]
				stack = stack[:k-3]
				mmp = strconv.Itoa(major.n) + "." + strconv.Itoa(minor.n) + "." + strconv.Itoa(patch.n)
				mmpPos = major.pos
				haveMMP = true
			}
		}

		if haveMMP {
			switch {
			case suffix.Len() == 0 && (prevDelim != '-' || !hasKnownTag(part)):
				recordCandidateAt(mmpPos, mmp)
				haveMMP = false
			case suffix.Len() != 0 && !isDotnetInt(part) && part != finalSuffix:
				recordCandidateAt(mmpPos, mmp+suffix.String())
				haveMMP = false
				suffix.Reset()
			default:
				suffix.WriteByte(prevDelim)
				suffix.WriteString(part)
			}
		}

		if j < 0 {
			break
		}
		cur += j + 1
	}
	if haveMMP {
		recordCandidateAt(mmpPos, mmp+suffix.String())
	}
	return best, bestPos >= 0
}

func isDotnetInt(s string) bool {
	_, ok := dotnetInt(s)
	return ok
}

// dotnetInt parses s the way .NET's int.TryParse does with its default style:
// surrounding white space, an optional sign, ASCII digits, within int32.
func dotnetInt(s string) (int, bool) {
	s = strings.TrimFunc(s, func(r rune) bool { return r == ' ' || '\t' <= r && r <= '\r' })
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n > 1<<31 {
			return 0, false
		}
	}
	if neg {
		n = -n
	}
	if n > 1<<31-1 || n < -1<<31 {
		return 0, false
	}
	return n, true
}

// hasKnownTag reports whether s starts with a known pre-release label,
// comparing as .NET's OrdinalIgnoreCase does (rune by rune, upper-cased).
func hasKnownTag(s string) bool {
	for _, tag := range knownTags {
		if hasPrefixFold(s, tag) {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	for _, want := range prefix {
		if s == "" {
			return false
		}
		r, size := utf8.DecodeRuneInString(s)
		if unicode.ToUpper(r) != unicode.ToUpper(want) {
			return false
		}
		s = s[size:]
	}
	return true
}
