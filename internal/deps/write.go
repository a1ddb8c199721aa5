package deps

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strconv"
)

// readFile returns a regular file's bytes, or nil when it does not exist.
func readFile(p string) ([]byte, error) {
	b, _, err := readRegular(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// writeAll writes every change under dir, each file through a temporary file
// and a rename. When any write fails, the files already written are put back
// as they were, so the tree ends up either fully updated or unchanged. Every
// path is checked to stay inside dir before the first write, and the writes
// go through an os.Root of dir, so no symbolic link can carry one outside.
func writeAll(dir string, changes []FileChange) error {
	for _, c := range changes {
		if err := insideTree(dir, c.Path); err != nil {
			return err
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("write %s: %w", dir, err)
	}
	defer root.Close()
	var done []FileChange
	for _, c := range changes {
		if err := writeOne(root, c); err != nil {
			if rerr := rollback(root, done); rerr != nil {
				return fmt.Errorf("%w (and restoring the files already written failed: %v)", err, rerr)
			}
			return err
		}
		done = append(done, c)
	}
	for _, c := range changes {
		if c.Deleted {
			removeEmptyParents(root, path.Dir(c.Path))
		}
	}
	return nil
}

func writeOne(root *os.Root, c FileChange) error {
	p := filepath.FromSlash(c.Path)
	if c.Deleted {
		if err := root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete %s: %w", filepath.Join(root.Name(), p), err)
		}
		return nil
	}
	mode := c.Mode
	if mode == 0 {
		mode = 0o644
	}
	return atomicWrite(root, p, c.New, mode)
}

// atomicWrite replaces p (relative to root) by data through a temporary file
// beside it and a rename.
func atomicWrite(root *os.Root, p string, data []byte, mode fs.FileMode) error {
	full := filepath.Join(root.Name(), p)
	if err := root.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", full, err)
	}
	var (
		tmp  *os.File
		name string
		err  error
	)
	for range 100 {
		name = filepath.Join(filepath.Dir(p), ".maestro-"+strconv.FormatUint(rand.Uint64(), 36))
		tmp, err = root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", full, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = root.Chmod(name, mode)
	}
	if werr == nil {
		werr = root.Rename(name, p)
	}
	if werr != nil {
		_ = root.Remove(name)
		return fmt.Errorf("write %s: %w", full, werr)
	}
	return nil
}

// rollback restores the files of the applied changes, newest first.
func rollback(root *os.Root, done []FileChange) error {
	var errs []error
	for i := len(done) - 1; i >= 0; i-- {
		c := done[i]
		p := filepath.FromSlash(c.Path)
		if c.Created {
			if err := root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			removeEmptyParents(root, path.Dir(c.Path))
			continue
		}
		mode := c.Mode
		if mode == 0 {
			mode = 0o644
		}
		if err := atomicWrite(root, p, c.Old, mode); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeEmptyParents removes the folder rel (slash-separated, relative to
// root) and its parents while they are empty, never root itself.
func removeEmptyParents(root *os.Root, rel string) {
	for ; rel != "." && rel != "/" && rel != ""; rel = path.Dir(rel) {
		if err := root.Remove(filepath.FromSlash(rel)); err != nil {
			return
		}
	}
}
