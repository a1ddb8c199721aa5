package manifest

import "strings"

// unsafeName says why an asset name or version could escape the folder it is
// uploaded to, or returns "" when it cannot. A ".." inside a segment, as in
// Foo..Bar, is harmless.
func unsafeName(s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return "contains a NUL character"
	case strings.IndexByte(s, '\\') >= 0:
		return `contains a backslash (use "/" between folders)`
	case strings.HasPrefix(s, "/"):
		return "is an absolute path"
	}
	for seg := range strings.SplitSeq(s, "/") {
		if seg == ".." {
			return `has a ".." path segment`
		}
		if len(seg) >= 2 && seg[1] == ':' && isASCIILetter(seg[0]) {
			return "has a drive letter (" + seg[:2] + ")"
		}
	}
	return ""
}

func isASCIILetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
