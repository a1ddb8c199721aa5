//go:build !unix

// Package procgroup stops a command started with exec.CommandContext
// together with the processes it started.
package procgroup

import "os/exec"

// Own: without process groups, the command itself is killed when its
// context ends (exec's default), and cmd.WaitDelay bounds the wait for its
// children's pipes.
func Own(*exec.Cmd) {}
