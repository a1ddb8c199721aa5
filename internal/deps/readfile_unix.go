//go:build unix

package deps

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"syscall"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// readRegular reads a regular file with one open, fstat, read and close.
// The open does not block (O_NONBLOCK, which regular files ignore), so a FIFO
// or a device in place of a dependency file is refused by the fstat instead
// of hanging the update.
// It calls the system directly because os.Open also registers every file
// with the runtime's network poller (four fcntl calls and an epoll_ctl
// that fails for a regular file), which more than doubles the system calls
// of reading the many small files an update looks at.
func readRegular(p string) ([]byte, fs.FileMode, error) {
	var fd int
	err := retryEINTR(func() (err error) {
		fd, err = syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
		return err
	})
	if err != nil {
		err = &fs.PathError{Op: "open", Path: p, Err: err}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, err
		}
		return nil, 0, fmt.Errorf("read %s: %w", p, err)
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := retryEINTR(func() error { return syscall.Fstat(fd, &st) }); err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", p, &fs.PathError{Op: "stat", Path: p, Err: err})
	}
	if uint32(st.Mode)&syscall.S_IFMT != syscall.S_IFREG {
		return nil, 0, maestro.Errorf(maestro.KindInvalid, "%s is not a regular file", p)
	}
	src := make([]byte, st.Size)
	for off := 0; off < len(src); {
		var n int
		err := retryEINTR(func() (err error) {
			n, err = syscall.Read(fd, src[off:])
			return err
		})
		if err != nil {
			return nil, 0, fmt.Errorf("read %s: %w", p, &fs.PathError{Op: "read", Path: p, Err: err})
		}
		if n == 0 {
			return nil, 0, fmt.Errorf("read %s: %w", p, io.ErrUnexpectedEOF)
		}
		off += n
	}
	return src, fs.FileMode(uint32(st.Mode) & uint32(fs.ModePerm)), nil
}

// retryEINTR calls f until it returns an error other than EINTR, which the
// runtime's preemption signals can cause on slow file systems.
func retryEINTR(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}
