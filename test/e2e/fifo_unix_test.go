//go:build unix

package e2e_test

import "syscall"

// mkfifo makes a named pipe, which blocks a reader that opens it blindly.
func mkfifo(path string) error { return syscall.Mkfifo(path, 0o644) }
