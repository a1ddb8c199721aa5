//go:build unix

// Package procgroup stops a command started with exec.CommandContext
// together with the processes it started.
package procgroup

import (
	"os/exec"
	"syscall"
)

// Own makes cmd, made with exec.CommandContext, run in a process group of
// its own and kill the whole group when its context ends, so that its
// children (git's transport helpers, the commands a shell runs) stop with
// it. A terminal's Ctrl-C does not reach the group: the caller cancels the
// context on the signal (cli.WithInterrupt). Set cmd.WaitDelay too, for a
// child that left the group and holds cmd's pipes.
func Own(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
