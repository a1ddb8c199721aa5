package speculative

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBuildCommandStopsWithItsChildren: a build command cut short (its
// run's context ends) is stopped with the processes it started, not only
// the shell: here a background sleep and a foreground one.
func TestBuildCommandStopsWithItsChildren(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("build commands run by sh")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := runShell(ctx, t.TempDir(), "sleep 61.25 & sleep 62.25 ; wait", os.Environ())
	require.Error(t, err)
	assert.Less(t, time.Since(start), 3*time.Second, "ends with its context, not after its children's pipes' WaitDelay")
	require.Eventually(t, func() bool { return len(running(t, ".25 ")) == 0 }, 2*time.Second, 20*time.Millisecond,
		"no child of the build command left: %v", running(t, ".25 "))
}

// running lists the command lines of running processes that contain s.
func running(t *testing.T, s string) []string {
	t.Helper()
	files, err := filepath.Glob("/proc/[0-9]*/cmdline")
	require.NoError(t, err)
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		line := bytes.ReplaceAll(data, []byte{0}, []byte{' '})
		if bytes.Contains(line, []byte(s)) {
			out = append(out, string(line))
		}
	}
	return out
}
