package e2e_test

import (
	"bufio"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// freshHome points HOME, XDG_CACHE_HOME and TMPDIR of e's processes at new
// empty directories and returns them.
func freshHome(t *testing.T, e *env) (home, cache, tmp string) {
	root := t.TempDir()
	home, cache, tmp = filepath.Join(root, "home"), filepath.Join(root, "cache"), filepath.Join(root, "tmp")
	for _, d := range []string{home, cache, tmp} {
		require.NoError(t, os.Mkdir(d, 0o700))
	}
	e.environ = append(e.environ, "HOME="+home, "XDG_CACHE_HOME="+cache, "TMPDIR="+tmp)
	return home, cache, tmp
}

// created lists what is under the directories, relative to their parent.
func created(t *testing.T, dirs ...string) []string {
	var out []string
	for _, d := range dirs {
		require.NoError(t, filepath.WalkDir(d, func(path string, _ fs.DirEntry, err error) error {
			if err == nil && path != d {
				rel, _ := filepath.Rel(filepath.Dir(d), path)
				out = append(out, rel)
			}
			return err
		}))
	}
	return out
}

// initLine is a line of GODEBUG=inittrace=1:
// "init github.com/x/y @1.2 ms, 0.011 ms clock, 1234 bytes, 5 allocs".
var initLine = regexp.MustCompile(`^init (\S+) @\S+ ms, (\S+) ms clock, (\d+) bytes, (\d+) allocs`)

// TestGraphvizCostsNothingUntilUsed: a maestro command that draws no SVG
// neither compiles Graphviz's WebAssembly nor writes a compilation cache
// anywhere (upstream go-graphviz did both in its package init: 40-80 ms
// per command, a shared $TMPDIR/go-graphviz). Its go-graphviz and wazero
// package inits allocate next to nothing (the compile allocated tens of
// MB). The first `graph … --format svg` writes the cache, in a directory
// of the user's own (0700), still nothing in $TMPDIR.
func TestGraphvizCostsNothingUntilUsed(t *testing.T) {
	e := newLocal(t)
	home, cache, tmp := freshHome(t, e)

	cmd := exec.Command(maestroBin, "--version")
	cmd.Env = append(cleanEnviron(), append(e.environ, "GODEBUG=inittrace=1")...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Empty(t, created(t, home, cache, tmp), "maestro --version wrote nothing")

	var seen []string
	var clock float64
	var allocated int
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		m := initLine.FindStringSubmatch(sc.Text())
		if m == nil || !(strings.HasPrefix(m[1], "github.com/goccy/go-graphviz") || strings.HasPrefix(m[1], "github.com/tetratelabs/wazero")) {
			continue
		}
		seen = append(seen, m[1])
		ms, err := strconv.ParseFloat(m[2], 64)
		require.NoError(t, err)
		bytes, err := strconv.Atoi(m[3])
		require.NoError(t, err)
		clock += ms
		allocated += bytes
	}
	assert.Contains(t, seen, "github.com/goccy/go-graphviz/cgraph", "the binary links go-graphviz: %s", out)
	assert.Less(t, allocated, 1<<20, "go-graphviz and wazero inits allocate %d bytes", allocated)
	t.Logf("go-graphviz and wazero inits: %d packages, %.3f ms clock, %d bytes", len(seen), clock, allocated)

	e.ok("graph", "flow", "--format", "svg")
	assert.Empty(t, created(t, tmp), "nothing in TMPDIR")
	fi, err := os.Stat(filepath.Join(cache, "maestro", "go-graphviz"))
	require.NoError(t, err, "the compilation cache is in XDG_CACHE_HOME")
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	assert.NotEmpty(t, created(t, filepath.Join(cache, "maestro", "go-graphviz")), "compiled code is cached")
	assert.Empty(t, created(t, home), "XDG_CACHE_HOME, not HOME/.cache")
}
