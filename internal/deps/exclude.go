package deps

// Excluded reports whether an asset name matches one of the exclusion
// patterns (case-insensitive, `*` matches any run of characters) the way
// Options.ExcludeAssets does. A pattern that cannot be compiled matches nothing.
func Excluded(patterns []string, name string) bool {
	res, err := compilePatterns(patterns)
	return err == nil && matchesAny(res, name)
}
