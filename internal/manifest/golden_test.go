package manifest_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/manifest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// TestGolden loads every build under testdata/builds (one folder per build,
// one manifest per job), merges it and compares the build with
// testdata/golden/<build>.json.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "builds", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			ms, err := manifest.Load([]string{dir})
			require.NoError(t, err)
			b, err := manifest.Merge(ms)
			require.NoError(t, err)
			got, err := json.MarshalIndent(b, "", "  ")
			require.NoError(t, err)
			got = append(got, '\n')

			golden := filepath.Join("testdata", "golden", name+".json")
			if *update {
				require.NoError(t, os.WriteFile(golden, got, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test -run TestGolden -update to create it")
			if !bytes.Equal(want, got) {
				t.Errorf("%s differs from the merged build (run with -update to accept):\n%s", golden, got)
			}
		})
	}
}
