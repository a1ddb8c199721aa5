//go:build unix

package git

import (
	"os/exec"
	"syscall"
)

// killGroup makes cmd run in a process group of its own and kills the whole
// group when its context ends, so that git's children (git-remote-https,
// git-upload-pack) stop with it.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
