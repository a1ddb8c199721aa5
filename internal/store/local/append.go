package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/maestroplusplus/maestro/internal/store"
)

// Append implements store.Store. Unlike Put it writes the object's own
// file, not a temporary one renamed over it: under the key's lock it checks
// the length, appends with one write and flushes the data (fdatasync)
// before it returns. Creating the object also flushes its folder (and the
// parent of each folder it created), so the new name survives a crash of
// the machine too. A reader (Get takes no
// lock) may see an append in part while it is written; so may everyone
// after a crash during one, which is why the contract has callers frame
// what they append. The ETag stays the hash of the content.
func (s *Store) Append(_ context.Context, key string, data []byte, at int64) error {
	if len(data) == 0 || at < 0 {
		return fmt.Errorf("append to %s at %d: %d bytes: need data and a length of 0 or more", key, at, len(data))
	}
	path, err := s.dataPath(key)
	if err != nil {
		return err
	}
	unlock, err := s.lock(key)
	if err != nil {
		return fmt.Errorf("append to %s: %w", key, err)
	}
	defer unlock()
	leaseFile, err := s.notLeased(key)
	if err != nil {
		return fmt.Errorf("append to %s: %w", key, err)
	}
	f, changed, err := openAppend(path, at)
	if err != nil {
		return fmt.Errorf("append to %s: %w", key, err)
	}
	if err := s.appendTo(f, data, at); err != nil {
		return fmt.Errorf("append to %s: %w", key, err)
	}
	if !s.noSync {
		for _, dir := range changed {
			if err := syncDir(dir); err != nil {
				return fmt.Errorf("append to %s: flush folder %s: %w", key, dir, err)
			}
		}
	}
	// An expired lease ends with the object it guarded, as on Put.
	if err := s.dropLease(leaseFile); err != nil {
		return fmt.Errorf("append to %s: drop its expired lease: %w", key, err)
	}
	return nil
}

// openAppend opens the object at path for appending at at: it creates it
// when at is 0 and there is none, with the folders it needs, and returns
// the folders whose entries it changed (to flush: the object's own, and
// the parent of each folder it created). The caller holds the key's lock.
func openAppend(path string, at int64) (*os.File, []string, error) {
	if at == 0 {
		dir := filepath.Dir(path)
		changed := []string{dir}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrNotExist) {
			for d := dir; ; d = filepath.Dir(d) {
				if _, serr := os.Stat(d); serr == nil || filepath.Dir(d) == d {
					break
				}
				changed = append(changed, filepath.Dir(d))
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, nil, err
			}
			f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o644)
		}
		if err == nil {
			return f, changed, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("at %d: %w", at, store.ErrNotExist)
	}
	return f, nil, err
}

// appendTo writes data at the end of f, which must be at bytes long, and
// flushes it; it closes f.
func (s *Store) appendTo(f *os.File, data []byte, at int64) error {
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() != at {
		return fmt.Errorf("the object is %d bytes long, not %d: %w", fi.Size(), at, store.ErrPrecondition)
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if s.noSync {
		return nil
	}
	return datasync(f)
}
