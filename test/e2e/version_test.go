package e2e_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/test/testenv"
)

// TestVersionFromTheTaskBuild builds maestro with the link flag that
// scripts/build-vsix.sh gives the binaries it packs, and checks that
// `maestro --version` prints the version the script passes (the task's).
func TestVersionFromTheTaskBuild(t *testing.T) {
	root := testenv.RepoRoot(t)
	script, err := os.ReadFile(filepath.Join(root, "scripts", "build-vsix.sh"))
	require.NoError(t, err)
	m := regexp.MustCompile(`-X (\S+)=\$version`).FindSubmatch(script)
	require.NotNil(t, m, "scripts/build-vsix.sh sets no version at link time")
	bin := filepath.Join(t.TempDir(), "maestro")
	build := exec.Command("go", "build", "-ldflags", "-X "+string(m[1])+"=9.8.7", "-o", bin, "./cmd/maestro")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	out, err = exec.Command(bin, "--version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "maestro version 9.8.7\n", string(out))

	out, err = exec.Command(maestroBin, "--version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.True(t, strings.HasPrefix(string(out), "maestro version dev"), "a plain build says dev: %s", out)
}
