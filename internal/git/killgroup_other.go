//go:build !unix

package git

import "os/exec"

// killGroup: without process groups, git itself is killed (exec's default)
// and WaitDelay bounds the wait for its children's pipes.
func killGroup(*exec.Cmd) {}
