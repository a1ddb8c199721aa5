// Package semver compares NuGet/SemVer 2.0 version strings such as
// "10.0.100-rc.2.25502.107", the way the .NET SDK versions in global.json are
// ordered: by numeric release parts, then a release sorts after its
// prereleases, then prerelease labels part by part. Build metadata is ignored.
package semver

import (
	"strconv"
	"strings"
)

// Version is a parsed version.
type Version struct {
	release []uint64
	pre     []string
}

// Parse parses a version with two to four numeric release parts.
func Parse(s string) (Version, bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '+'); i >= 0 {
		s = s[:i]
	}
	var v Version
	rel, pre, hasPre := strings.Cut(s, "-")
	parts := strings.Split(rel, ".")
	if len(parts) < 2 || len(parts) > 4 {
		return Version{}, false
	}
	for _, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return Version{}, false
		}
		v.release = append(v.release, n)
	}
	for len(v.release) < 4 {
		v.release = append(v.release, 0)
	}
	if hasPre {
		if pre == "" {
			return Version{}, false
		}
		v.pre = strings.Split(pre, ".")
		for _, p := range v.pre {
			if p == "" {
				return Version{}, false
			}
		}
	}
	return v, true
}

// Compare returns -1, 0 or 1 as a is older than, equal to or newer than b.
func Compare(a, b Version) int {
	for i := range a.release {
		if a.release[i] != b.release[i] {
			if a.release[i] < b.release[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a.pre) == 0 && len(b.pre) == 0:
		return 0
	case len(a.pre) == 0:
		return 1
	case len(b.pre) == 0:
		return -1
	}
	for i := 0; i < len(a.pre) && i < len(b.pre); i++ {
		if c := comparePart(a.pre[i], b.pre[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(a.pre) < len(b.pre):
		return -1
	case len(a.pre) > len(b.pre):
		return 1
	}
	return 0
}

func comparePart(a, b string) int {
	na, errA := strconv.ParseUint(a, 10, 64)
	nb, errB := strconv.ParseUint(b, 10, 64)
	switch {
	case errA == nil && errB == nil:
		switch {
		case na < nb:
			return -1
		case na > nb:
			return 1
		}
		return 0
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

// Newer reports whether version a is newer than b. When either does not
// parse, it reports whether they differ.
func Newer(a, b string) bool {
	va, okA := Parse(a)
	vb, okB := Parse(b)
	if !okA || !okB {
		return a != b
	}
	return Compare(va, vb) > 0
}
