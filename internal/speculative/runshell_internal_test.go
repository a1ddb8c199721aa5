package speculative

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/test/proctest"
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
	require.Eventually(t, func() bool { return len(proctest.Running(t, ".25 ")) == 0 }, 2*time.Second, 20*time.Millisecond,
		"no child of the build command left: %v", proctest.Running(t, ".25 "))
}
