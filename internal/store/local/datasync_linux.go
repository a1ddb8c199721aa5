package local

import (
	"os"
	"syscall"
)

// datasync flushes f's data and the metadata needed to read it back
// (its length), not its times: fdatasync(2).
func datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}

// syncDir flushes the folder at dir, so the names it holds survive a
// crash of the machine.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
