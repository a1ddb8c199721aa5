package manifest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// Load reads the manifests that patterns name. A pattern is a file, a folder
// (every *.xml under it, at any depth, as production's ManifestsPath) or a glob
// where ** matches any number of folders, e.g. artifacts/**/AssetManifest/*.xml.
// Files come in pattern order, sorted within a pattern, each once. A pattern
// that matches no file is an error of kind maestro.KindInvalid naming it.
func Load(patterns []string) ([]*Manifest, error) {
	if len(patterns) == 0 {
		return nil, maestro.Errorf(maestro.KindInvalid, "no manifest given: name manifest files, folders or globs such as artifacts/**/AssetManifest/*.xml")
	}
	var files []string
	seen := map[string]bool{}
	for _, pattern := range patterns {
		matches, err := expand(pattern)
		if err != nil {
			return nil, err
		}
		if len(matches) == 0 {
			return nil, maestro.Errorf(maestro.KindInvalid, "no manifest matches %q: check the path; ** matches any number of folders", pattern)
		}
		slices.Sort(matches)
		for _, f := range matches {
			if !seen[f] {
				seen[f] = true
				files = append(files, f)
			}
		}
	}
	ms := make([]*Manifest, 0, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read manifest %s: %w", f, err)
		}
		m, err := parseOwned(data, f)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// expand returns the files pattern names.
func expand(pattern string) ([]string, error) {
	if info, err := os.Stat(pattern); err == nil && info.IsDir() {
		var files []string
		err := filepath.WalkDir(pattern, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".xml") {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list manifests under %s: %w", pattern, err)
		}
		return files, nil
	}
	matches, err := doublestar.FilepathGlob(pattern, doublestar.WithFilesOnly(), doublestar.WithFailOnIOErrors())
	switch {
	case errors.Is(err, doublestar.ErrBadPattern):
		return nil, maestro.Errorf(maestro.KindInvalid, "manifest pattern %q is not a valid glob: check its brackets and braces", pattern)
	case err != nil:
		return nil, fmt.Errorf("expand manifest pattern %q: %w", pattern, err)
	}
	return matches, nil
}
