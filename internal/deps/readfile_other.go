//go:build !unix

package deps

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// readRegular reads a regular file with one stat, open, stat and read; the
// first stat refuses what is not a regular file before an open could block.
func readRegular(p string) ([]byte, fs.FileMode, error) {
	if info, err := os.Stat(p); err == nil && !info.Mode().IsRegular() {
		return nil, 0, maestro.Errorf(maestro.KindInvalid, "%s is not a regular file", p)
	}
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, err
		}
		return nil, 0, fmt.Errorf("read %s: %w", p, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", p, err)
	}
	if !info.Mode().IsRegular() {
		return nil, 0, maestro.Errorf(maestro.KindInvalid, "%s is not a regular file", p)
	}
	src := make([]byte, info.Size())
	if _, err := io.ReadFull(f, src); err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", p, err)
	}
	return src, info.Mode().Perm(), nil
}
