// Package engcommon computes the replacement of a repository's eng/common
// folder by an Arcade checkout's: Arcade owns eng/common, and when a
// repository takes a new Microsoft.DotNet.Arcade.Sdk it takes the matching
// eng/common wholesale — new and changed files, and deletions of files Arcade
// no longer has.
package engcommon

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// Dir is the folder Arcade owns in every repository that uses it.
const Dir = "eng/common"

// Change is one file to create, replace or delete.
type Change struct {
	Path string // slash-separated, relative to the repository root
	Old  []byte // nil when the file is new
	New  []byte // nil when the file goes away
	Mode fs.FileMode
}

// Sync returns the changes that make repoDir/eng/common identical to
// arcadeDir/eng/common: same files, same bytes, same executable bits. It
// changes nothing on disk.
func Sync(repoDir, arcadeDir string) ([]Change, error) {
	srcRoot := filepath.Join(arcadeDir, filepath.FromSlash(Dir))
	info, err := os.Stat(srcRoot)
	if err != nil || !info.IsDir() {
		return nil, maestro.Errorf(maestro.KindInvalid, "Arcade checkout %s has no %s folder; pass the root of an Arcade clone", arcadeDir, Dir)
	}
	src, err := list(srcRoot)
	if err != nil {
		return nil, err
	}
	dst, err := list(filepath.Join(repoDir, filepath.FromSlash(Dir)))
	if err != nil {
		return nil, err
	}
	var out []Change
	for rel, s := range src {
		d, ok := dst[rel]
		if ok && bytes.Equal(d.data, s.data) && d.mode&0o111 == s.mode&0o111 {
			continue
		}
		c := Change{Path: path.Join(Dir, rel), New: s.data, Mode: s.mode}
		if ok {
			c.Old = d.data
		}
		out = append(out, c)
	}
	for rel, d := range dst {
		if _, ok := src[rel]; !ok {
			out = append(out, Change{Path: path.Join(Dir, rel), Old: d.data, Mode: d.mode})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

type file struct {
	data []byte
	mode fs.FileMode
}

// list reads every regular file under root, keyed by slash-separated path.
// A missing root is an empty folder.
func list(root string) (map[string]file, error) {
	out := map[string]file{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = file{data: data, mode: info.Mode().Perm()}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", root, err)
	}
	return out, nil
}
