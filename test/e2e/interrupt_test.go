package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/test/proctest"
)

// TestInterruptStopsGit: Ctrl-C (SIGINT) while a command clones from a
// git host that never answers ends maestro within seconds with exit code
// 130, and leaves no git process behind. git runs in a process group of
// its own, which a terminal's Ctrl-C does not reach: before maestro
// cancelled its work on the signal, git and its transport helper went on
// waiting on the host after maestro had died.
func TestInterruptStopsGit(t *testing.T) {
	hang := proctest.Silent(t)
	host := strings.TrimPrefix(hang.URL, "http://") + "/"

	e := newLocal(t)
	e.environ = append(e.environ, "GITHUB_TOKEN=ghp_0123456789abcdef0123456789abcdef0123", "MAESTRO_GITHUB_URL="+hang.URL, "MAESTRO_ALLOW_HTTP_LOOPBACK=true")
	e.ok("channel", "add", "--name", "dev")
	e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", "dev")
	e.ok("subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
		"--target-repo", hang.URL+"/dotnet/target", "--target-branch", "main", "--update-frequency", "everyDay")
	m := writeFile(t, t.TempDir(), "m.xml", manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main", commit: sha(1), azdoBuildID: 1,
		packages: []string{"Microsoft.DotNet.Arcade.Sdk@10.0.0-beta.1"}}.xml())
	e.ok("publish", "--manifest", m)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := e.command(ctx, "flow", "explain", "--build", "1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool { return len(proctest.Running(t, host)) > 0 }, 20*time.Second, 20*time.Millisecond,
		"git clones from the silent host")
	start := time.Now()
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err := cmd.Wait()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "%v: %s", err, stderr.String())
	assert.Equal(t, 130, exit.ExitCode(), stderr.String())
	assert.Less(t, time.Since(start), 8*time.Second, "maestro ends soon after Ctrl-C")
	require.Eventually(t, func() bool { return len(proctest.Running(t, host)) == 0 }, 3*time.Second, 20*time.Millisecond,
		"no git process left on the silent host: %v", proctest.Running(t, host))
	assert.NotContains(t, stderr.String(), "ghp_0123456789abcdef", "no token in what maestro printed")
}
