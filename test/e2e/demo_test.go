package e2e_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDemoOnDefaultStore runs the README's first command with no --store: it
// must use the default local store (under XDG_DATA_HOME) and be safe to rerun.
func TestDemoOnDefaultStore(t *testing.T) {
	data := t.TempDir()
	run := func() (string, string) {
		cmd := exec.Command(maestroBin, "demo")
		cmd.Env = append(cleanEnviron(), "XDG_DATA_HOME="+data)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		require.NoError(t, cmd.Run(), errOut.String())
		return out.String(), errOut.String()
	}
	out, _ := run()
	for _, want := range []string{
		`Created channel "Contoso Dev"`,
		"Created default channel 1: builds of https://github.com/contoso/widgets@main",
		"Recorded build:",
		"channels:            Contoso Dev",
		"assets:              7",
		"https://github.com/contoso/gadgets@main",
		"trigger — update frequency everyBuild",
		"https://github.com/contoso/toolkit@main",
		"schedule — update frequency everyWeek",
	} {
		assert.Contains(t, out, want)
	}
	_, err := os.Stat(filepath.Join(data, "maestro", "store"))
	require.NoError(t, err, "the demo wrote to the default local store")

	again, errOut := run()
	assert.NotContains(t, again, "Created", "the second run creates nothing")
	assert.Contains(t, errOut, "build 1 was recorded before")
	assert.Equal(t, 1, strings.Count(again, "trigger — "))
}
