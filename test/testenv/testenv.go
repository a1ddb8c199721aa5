// Package testenv finds what tests share: the repository root and the shared
// data beside it (../shared: fixtures and specifications). A missing shared
// folder skips the test, except under CI (CI=true), where it fails it.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the directory holding go.mod, found by walking up from
// the test's working directory.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	root, err := Root()
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

// Root is RepoRoot for code that may not fail the test itself, such as an
// HTTP handler of a test double: it returns the error instead.
func Root() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("getwd: %w", err)
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
		dir = parent
	}
}

// Shared returns ../shared/<elem...> beside the repository root.
func Shared(tb testing.TB, elem ...string) string {
	tb.Helper()
	dir := filepath.Join(append([]string{RepoRoot(tb), "..", "shared"}, elem...)...)
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("shared data %s is missing (CI=true requires it): %v", dir, err)
		}
		tb.Skipf("shared data %s is missing", dir)
	}
	return dir
}

// Golden compares got with the golden file at path, first rewriting the file
// with got when update is set (the test's -update flag).
func Golden(tb testing.TB, path, got string, update bool) {
	tb.Helper()
	if update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read golden file: %v (go test -update writes it)", err)
	}
	if string(want) != got {
		tb.Errorf("output differs from %s (go test -update rewrites it after review)\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// DependencyFiles reads the real dependency files of
// ../shared/fixtures/dependency-files/<name> (kept flat there) and returns
// them by their paths in a repository: eng/Version.Details.xml,
// eng/Versions.props, eng/Version.Details.props and global.json, as far as
// the fixture has them.
func DependencyFiles(tb testing.TB, name string) map[string]string {
	tb.Helper()
	src := filepath.Join(Shared(tb, "fixtures", "dependency-files"), name)
	files := map[string]string{}
	for from, to := range map[string]string{"Version.Details.xml": "eng/Version.Details.xml", "Versions.props": "eng/Versions.props",
		"Version.Details.props": "eng/Version.Details.props", "global.json": "global.json"} {
		data, err := os.ReadFile(filepath.Join(src, from))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			tb.Fatal(err)
		}
		files[to] = string(data)
	}
	if len(files) == 0 {
		tb.Fatalf("%s holds no dependency files", src)
	}
	return files
}
