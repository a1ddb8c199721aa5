//go:build !linux

package local

import (
	"os"
	"runtime"
)

// datasync flushes f; without fdatasync(2), as fsync does.
func datasync(f *os.File) error { return f.Sync() }

// syncDir flushes the folder at dir, so the names it holds survive a
// crash of the machine. Windows cannot flush a folder (its file systems
// journal names): nothing to do there.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
