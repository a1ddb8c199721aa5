package speculative_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/speculative"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// product records a product in a channel: repository i ("/src/r{i}") at
// commit sha(i), its latest build depending on the latest builds of deps[i];
// every repository has a build command unless noCommand names it.
func product(t testing.TB, st store.Store, deps [][]int, noCommand map[int]bool) (*registry.Registry, maestro.Channel) {
	t.Helper()
	ctx := context.Background()
	reg := registry.New(st)
	ch, err := reg.AddChannel(ctx, "prod", "")
	require.NoError(t, err)
	ids := make([]int, len(deps))
	for i, ds := range deps {
		repo := fmt.Sprintf("/src/r%d", i)
		_, err := reg.AddDefaultChannel(ctx, maestro.DefaultChannel{Repository: repo, Branch: "main", ChannelID: ch.ID, Enabled: true})
		require.NoError(t, err)
		b := maestro.Build{Repository: repo, Branch: "main", Commit: fmt.Sprintf("%040x", i+1),
			Assets: []maestro.Asset{{Name: fmt.Sprintf("R%d.Pkg", i), Version: "1.0.0"}}}
		for _, d := range ds {
			b.Dependencies = append(b.Dependencies, maestro.BuildDependency{BuildID: ids[d], IsProduct: true})
		}
		res, err := reg.PublishBuild(ctx, b, registry.PublishOptions{})
		require.NoError(t, err)
		ids[i] = res.Build.ID
		if !noCommand[i] {
			require.NoError(t, reg.SetRepositoryPolicy(ctx, maestro.RepositoryBranchPolicy{Repository: repo, Branch: "main", BuildCommand: "sh build.sh", MergePolicies: []maestro.MergePolicy{}}))
		}
	}
	return reg, ch
}

func TestMakePlan(t *testing.T) {
	ctx := context.Background()
	// 0 ← 1, 2 ← 3 (a diamond), 4 depends on 3, 5 on nothing, 6 on 5.
	deps := [][]int{{}, {0}, {0}, {1, 2}, {3}, {}, {5}}
	reg, ch := product(t, mem.New(), deps, nil)
	p, err := speculative.MakePlan(ctx, reg, ch, []speculative.Inject{{Repository: "/src/r1", Commit: fmt.Sprintf("%040x", 99)}})
	require.NoError(t, err)
	var got []string
	for _, n := range p.Nodes {
		got = append(got, fmt.Sprintf("%s L%d %v", n.Repository, n.Level, n.Upstream))
	}
	assert.Equal(t, []string{"/src/r1 L0 []", "/src/r3 L1 [/src/r1]", "/src/r4 L2 [/src/r3]"}, got,
		"downstream of r1 only; r3's other upstream (r2) is not rebuilt")
	assert.True(t, p.Nodes[0].Injected)
	assert.Equal(t, fmt.Sprintf("%040x", 99), p.Nodes[0].Commit)
	assert.Equal(t, fmt.Sprintf("%040x", 4), p.Nodes[1].Commit, "its latest build's commit")

	p, err = speculative.MakePlan(ctx, reg, ch, []speculative.Inject{{Repository: "/src/r0", Commit: fmt.Sprintf("%040x", 98)}})
	require.NoError(t, err)
	got = nil
	for _, n := range p.Nodes {
		got = append(got, fmt.Sprintf("%s L%d %v", n.Repository, n.Level, n.Upstream))
	}
	assert.Equal(t, []string{"/src/r0 L0 []", "/src/r1 L1 [/src/r0]", "/src/r2 L1 [/src/r0]", "/src/r3 L2 [/src/r1 /src/r2]", "/src/r4 L3 [/src/r3]"}, got)

	_, err = speculative.MakePlan(ctx, reg, ch, []speculative.Inject{{Repository: "/src/elsewhere", Commit: fmt.Sprintf("%040x", 1)}})
	assert.Equal(t, maestro.KindNotFound, maestro.KindOf(err))

	reg, ch = product(t, mem.New(), deps, map[int]bool{4: true})
	_, err = speculative.MakePlan(ctx, reg, ch, []speculative.Inject{{Repository: "/src/r0", Commit: fmt.Sprintf("%040x", 1)}})
	require.Error(t, err)
	assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
	assert.Contains(t, err.Error(), "no build command for /src/r4@main")
}

func TestParseInject(t *testing.T) {
	in, err := speculative.ParseInject("https://github.com/dotnet/runtime@" + fmt.Sprintf("%040X", 5))
	require.NoError(t, err)
	assert.Equal(t, speculative.Inject{Repository: "https://github.com/dotnet/runtime", Commit: fmt.Sprintf("%040x", 5)}, in)
	for _, bad := range []string{"", "@", "/src/r@", "@" + fmt.Sprintf("%040x", 5), "/src/r@main", "not a url@" + fmt.Sprintf("%040x", 5)} {
		_, err := speculative.ParseInject(bad)
		assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err), bad)
	}
}
