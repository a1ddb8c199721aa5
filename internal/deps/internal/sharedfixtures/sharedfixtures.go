// Package sharedfixtures reads the shared test data (../shared/fixtures
// beside the repository root) for the dependency-file tests: folders through
// test/testenv (skipped outside CI when missing, failed under CI=true), and
// file contents for seeding fuzz corpora.
package sharedfixtures

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/test/testenv"
)

// Dir returns ../shared/fixtures/<sub> relative to the repository root.
func Dir(tb testing.TB, sub string) string {
	tb.Helper()
	return testenv.Shared(tb, "fixtures", sub)
}

// Files returns the contents of every file under ../shared/fixtures/<sub>
// whose name ends with one of the suffixes, without duplicates, for seeding
// fuzz corpora. It returns nothing when the fixtures are missing.
func Files(tb testing.TB, sub string, suffixes ...string) [][]byte {
	tb.Helper()
	dir := filepath.Join(testenv.RepoRoot(tb), "..", "shared", "fixtures", sub)
	var out [][]byte
	seen := map[string]bool{}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		for _, s := range suffixes {
			if strings.HasSuffix(p, s) {
				if b, err := os.ReadFile(p); err == nil && !seen[string(b)] {
					seen[string(b)] = true
					out = append(out, b)
				}
				break
			}
		}
		return nil
	})
	return out
}
