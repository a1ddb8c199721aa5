package graph_test

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/graph"
)

// prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN): from then on the process
// (Linux 6.3 or later) cannot make memory executable, as on a hardened host.
const prSetMDWE, mdweRefuseExecGain = 65, 1

// TestLayoutSVGWithoutExecutableMemory: where wazero's compiler cannot map
// its code executable, the first layout falls back to wazero's interpreter
// and still draws the graph (upstream go-graphviz panicked at start-up).
// The test runs itself again as a child process that refuses executable
// memory before anything loads Graphviz.
func TestLayoutSVGWithoutExecutableMemory(t *testing.T) {
	if os.Getenv("GRAPH_TEST_NO_EXEC") == "1" {
		if _, _, e := syscall.RawSyscall6(syscall.SYS_PRCTL, prSetMDWE, mdweRefuseExecGain, 0, 0, 0, 0); e != 0 {
			t.Skipf("prctl(PR_SET_MDWE): %v (kernel older than 6.3?)", e)
		}
		mem, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		require.NoError(t, err)
		err = syscall.Mprotect(mem, syscall.PROT_READ|syscall.PROT_EXEC)
		require.True(t, errors.Is(err, syscall.EACCES), "executable memory is refused: %v", err)
		svg, err := graph.LayoutSVG([]byte("digraph { a -> b }"))
		require.NoError(t, err)
		assert.Contains(t, string(svg), "<title>a&#45;&gt;b</title>")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLayoutSVGWithoutExecutableMemory$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "GRAPH_TEST_NO_EXEC=1", "XDG_CACHE_HOME="+t.TempDir(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	if !assert.Contains(t, string(out), "--- PASS: TestLayoutSVGWithoutExecutableMemory") {
		t.Logf("%s", out)
	}
}
