package config_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/config"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/plan")

// TestPlanGolden applies testdata/plan/CASE/before.yaml to an empty registry,
// plans after.yaml against it with and without pruning, and compares the
// diffs with testdata/plan/CASE/plan.golden.
func TestPlanGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "plan", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			before, err := os.ReadFile(filepath.Join(dir, "before.yaml"))
			require.NoError(t, err)
			after, err := os.ReadFile(filepath.Join(dir, "after.yaml"))
			require.NoError(t, err)
			reg := memRegistry(t)
			apply(t, reg, string(before), config.Options{})

			var got strings.Builder
			for _, prune := range []bool{false, true} {
				got.WriteString(map[bool]string{false: "# apply after.yaml\n", true: "# apply --prune after.yaml\n"}[prune])
				p, err := plan(t, reg, string(after), config.Options{Prune: prune})
				require.NoError(t, err)
				got.WriteString(diff(t, p))
			}
			// Applying the pruning plan makes the registry match the file exactly.
			p, err := plan(t, reg, string(after), config.Options{Prune: true})
			require.NoError(t, err)
			_, err = p.Apply(context.Background(), reg)
			require.NoError(t, err)
			again, err := plan(t, reg, string(after), config.Options{Prune: true})
			require.NoError(t, err)
			require.True(t, again.Empty(), "second plan is not empty:\n%s", diff(t, again))

			golden := filepath.Join(dir, "plan.golden")
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got.String()), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test -run TestPlanGolden -update to create it")
			if got.String() != string(want) {
				t.Errorf("%s differs (run with -update to accept):\n%s", golden, got.String())
			}
		})
	}
}
