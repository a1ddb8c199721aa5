package deps

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// readFile returns a file's bytes, or nil when it does not exist.
func readFile(p string) ([]byte, error) {
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	return b, nil
}

// writeAll writes every change under dir, each file through a temporary file
// and a rename. When any write fails, the files already written are put back
// as they were, so the tree ends up either fully updated or unchanged.
func writeAll(dir string, changes []FileChange) error {
	var done []FileChange
	for _, c := range changes {
		if err := writeOne(dir, c); err != nil {
			if rerr := rollback(dir, done); rerr != nil {
				return fmt.Errorf("%w (and restoring the files already written failed: %v)", err, rerr)
			}
			return err
		}
		done = append(done, c)
	}
	for _, c := range changes {
		if c.Deleted {
			removeEmptyParents(dir, filepath.Dir(filepath.Join(dir, filepath.FromSlash(c.Path))))
		}
	}
	return nil
}

func writeOne(dir string, c FileChange) error {
	p := filepath.Join(dir, filepath.FromSlash(c.Path))
	if c.Deleted {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete %s: %w", p, err)
		}
		return nil
	}
	mode := c.Mode
	if mode == 0 {
		mode = 0o644
	}
	return atomicWrite(p, c.New, mode)
}

func atomicWrite(p string, data []byte, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".maestro-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	name := tmp.Name()
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(name, mode)
	}
	if werr == nil {
		werr = os.Rename(name, p)
	}
	if werr != nil {
		_ = os.Remove(name)
		return fmt.Errorf("write %s: %w", p, werr)
	}
	return nil
}

// rollback restores the files of the applied changes, newest first.
func rollback(dir string, done []FileChange) error {
	var errs []error
	for i := len(done) - 1; i >= 0; i-- {
		c := done[i]
		p := filepath.Join(dir, filepath.FromSlash(c.Path))
		if c.Created {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			removeEmptyParents(dir, filepath.Dir(p))
			continue
		}
		mode := c.Mode
		if mode == 0 {
			mode = 0o644
		}
		if err := atomicWrite(p, c.Old, mode); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeEmptyParents removes p and its parents up to (not including) dir
// while they are empty directories.
func removeEmptyParents(dir, p string) {
	root := filepath.Clean(dir)
	for p = filepath.Clean(p); p != root && len(p) > len(root); p = filepath.Dir(p) {
		if err := os.Remove(p); err != nil {
			return
		}
	}
}
