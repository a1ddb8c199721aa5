//go:build unix

package local

import (
	"os/exec"
	"syscall"
)

// killGroup makes cmd run in a process group of its own and stops the whole
// group when its context ends, so a check command's children stop with it.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
