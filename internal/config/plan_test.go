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
	"github.com/maestroplusplus/maestro/internal/maestro"
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

// TestPruneKeepsChannelsWithBuilds: a plan that prunes reports every channel
// that holds builds and is not listed, unless DeleteChannelsWithBuilds.
func TestPruneKeepsChannelsWithBuilds(t *testing.T) {
	st := &config.State{
		Channels:           []maestro.Channel{{ID: 1, Name: "a", Classification: "dev"}, {ID: 2, Name: "b", Classification: "dev"}, {ID: 3, Name: "c", Classification: "dev"}},
		ChannelsWithBuilds: map[int]bool{1: true, 3: true},
	}
	f, err := config.Parse("c.yaml", []byte("channels:\n  - name: a\n"))
	require.NoError(t, err)
	_, err = config.NewPlan(f, st, config.Options{Prune: true})
	var ps config.Problems
	require.ErrorAs(t, err, &ps)
	require.Len(t, ps, 1)
	require.Equal(t, `c.yaml: channels: channel "c" (id 3) holds builds and is not listed, so --prune would delete it; list it under channels, or pass --delete-channels-with-builds`, ps[0].String())
	p, err := config.NewPlan(f, st, config.Options{Prune: true, DeleteChannelsWithBuilds: true})
	require.NoError(t, err)
	_, _, del := p.Counts()
	require.Equal(t, 2, del)
	p, err = config.NewPlan(f, st, config.Options{})
	require.NoError(t, err, "without pruning nothing is deleted, nothing refused")
	require.Equal(t, 2, p.Unlisted)
}

// TestPlanMergeMethod: a registry policy without a merge method (written
// before the field existed) is squash, so a file that leaves mergeMethod out
// plans nothing for it, and one that names native plans the change.
func TestPlanMergeMethod(t *testing.T) {
	st := &config.State{RepositoryPolicies: []maestro.RepositoryBranchPolicy{
		{Repository: "https://github.com/dotnet/sdk", Branch: "main", AutoMerge: true, MergePolicies: []maestro.MergePolicy{}},
	}}
	for text, want := range map[string]string{
		"":                          "No changes: the registry matches maestro.yaml.\n",
		"    mergeMethod: squash\n": "No changes: the registry matches maestro.yaml.\n",
		"    mergeMethod: native\n": "~ repository policy https://github.com/dotnet/sdk@main: mergeMethod: squash → native\nPlan: 0 to add, 1 to change, 0 to delete.\n",
	} {
		f, err := config.Parse("maestro.yaml", []byte("repositoryPolicies:\n  - repository: https://github.com/dotnet/sdk\n    branch: main\n"+text))
		require.NoError(t, err)
		p, err := config.NewPlan(f, st, config.Options{Prune: true})
		require.NoError(t, err)
		require.Equal(t, want, diff(t, p), "mergeMethod line %q", text)
	}
}
