// Package foldhash hashes names case-insensitively without allocating, so
// the dependency files can index thousands of names (compared the way .NET's
// OrdinalIgnoreCase compares ASCII) without lower-casing copies of them.
package foldhash

const (
	offset = 14695981039346656037
	prime  = 1099511628211
)

// String hashes s with ASCII letters folded to lower case.
func String(s string) uint64 { return Add(offset, s, false) }

// Start is the hash of the empty string, to continue with Add.
const Start uint64 = offset

// Add continues hash h over s; with skipDotDash, '.' and '-' are left out
// (as they are from the property name of a dependency).
func Add(h uint64, s string, skipDotDash bool) uint64 {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if skipDotDash && (c == '.' || c == '-') {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h = (h ^ uint64(c)) * prime
	}
	return h
}

// EqualPropertyName reports whether name equals the dependency name without
// '.' and '-', followed by suffix, ignoring ASCII case.
func EqualPropertyName(name, dependency, suffix string) bool {
	i := 0
	for k := 0; k < len(dependency); k++ {
		c := dependency[k]
		if c == '.' || c == '-' {
			continue
		}
		if i >= len(name) || lower(name[i]) != lower(c) {
			return false
		}
		i++
	}
	if len(name)-i != len(suffix) {
		return false
	}
	for k := 0; k < len(suffix); k++ {
		if lower(name[i+k]) != lower(suffix[k]) {
			return false
		}
	}
	return true
}

// Equal reports whether a and b are equal ignoring ASCII case.
func Equal(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
