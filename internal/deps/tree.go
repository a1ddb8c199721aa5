package deps

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/maestroplusplus/maestro/internal/deps/engcommon"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// A repository's files are read and written only inside the repository: a
// symbolic link (eng, eng/common or a single file) that resolves outside the
// tree is refused before anything is read or written, and the writes
// themselves go through an os.Root, which refuses to follow such a link even
// if one appears between the check and the write.

// insideTree returns an error unless rel under dir, with every symbolic link
// resolved, stays inside dir. A path that does not exist yet is judged by its
// deepest existing parent; a dangling link is refused.
func insideTree(dir, rel string) error {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("resolve repository %s: %w", dir, err)
	}
	p := filepath.Join(dir, filepath.FromSlash(rel))
	top := filepath.Clean(dir)
	for q := p; ; q = filepath.Dir(q) {
		real, err := filepath.EvalSymlinks(q)
		if err == nil {
			if !within(root, real) {
				return maestro.Errorf(maestro.KindInvalid, "%s: %s resolves to %s, outside the repository %s; a symbolic link must not leave the repository", rel, q, real, dir)
			}
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("resolve %s: %w", q, err)
		}
		if fi, lerr := os.Lstat(q); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return maestro.Errorf(maestro.KindInvalid, "%s: %s is a symbolic link to nothing; refused", rel, q)
		}
		if q == top || filepath.Dir(q) == q {
			return nil
		}
	}
}

// within reports whether p is root or below it.
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// checkTree refuses a repository whose eng or eng/common folder leaves it.
func checkTree(dir string) error {
	for _, rel := range []string{"eng", engcommon.Dir} {
		if err := insideTree(dir, rel); err != nil {
			return err
		}
	}
	return nil
}
