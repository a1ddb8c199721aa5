package registry_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

func TestShippingRanges(t *testing.T) {
	as := func(flags string) []maestro.Asset {
		out := make([]maestro.Asset, len(flags))
		for i, f := range flags {
			out[i].NonShipping = f == 'n'
		}
		return out
	}
	for _, tc := range []struct {
		flags string
		want  [][2]int
	}{
		{"", [][2]int{}},
		{"nnn", [][2]int{}},
		{"sss", [][2]int{{0, 2}}},
		{"snssn", [][2]int{{0, 0}, {2, 3}}},
		{"nsnsnss", [][2]int{{1, 1}, {3, 3}, {5, 6}}},
	} {
		t.Run(tc.flags, func(t *testing.T) {
			assert.Equal(t, tc.want, registry.ShippingRanges(as(tc.flags)))
		})
	}
}

// TestPromoteOnceWithoutAzureDevOps: sixteen concurrent promotions of one
// speculative build without Azure DevOps ids (whose publish claim would
// otherwise make a new build of the same content) record one mainline
// build, and a later one returns it; a build depending on an unpromoted
// speculative build is refused before any write, and once that one is
// promoted, depends on its promotion.
func TestPromoteOnceWithoutAzureDevOps(t *testing.T) {
	ctx := context.Background()
	const repo = "https://github.com/dotnet/arcade"
	r := newRegistry(t)
	ch := defaultChannel(t, r, repo, "product")
	publish := func(n int, deps ...int) maestro.Build {
		b, pr := prBuild(repo, n, fmt.Sprintf("https://github.com/dotnet/arcade/pull/%d", n))
		b.AzureDevOpsAccount, b.AzureDevOpsProject, b.AzureDevOpsBuildID = "", "", 0
		b.Assets[1].NonShipping = true
		for _, d := range deps {
			b.Dependencies = append(b.Dependencies, maestro.BuildDependency{BuildID: d, IsProduct: true})
		}
		res, err := r.PublishSpeculative(ctx, b, registry.SpeculativeOptions{PullRequest: pr})
		require.NoError(t, err)
		spec, err := r.Speculative(ctx)
		require.NoError(t, err)
		got, err := spec.Build(ctx, res.Build.ID)
		require.NoError(t, err)
		require.Equal(t, &maestro.Promotable{Shipping: [][2]int{{0, 0}}}, got.Promotable)
		return got
	}
	first := publish(1)
	second := publish(2, first.ID)

	before := snapshot(t, r.Store())
	_, err := r.Promote(ctx, second, registry.PromoteOptions{Branch: "main"})
	assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err), "%v", err)
	assert.ErrorContains(t, err, fmt.Sprintf("depends on speculative build %d, which is not promoted", first.ID))
	_, err = r.Promote(ctx, first, registry.PromoteOptions{Branch: "main", Channels: []int{ch.ID + 1}})
	assert.Equal(t, maestro.KindNotFound, maestro.KindOf(err), "%v", err)
	assert.Equal(t, before, snapshot(t, r.Store()), "nothing written")

	ids := make([]int, 16)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := r.Promote(ctx, first, registry.PromoteOptions{Branch: "main"})
			assert.NoError(t, err)
			ids[i] = res.Build.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		assert.Equal(t, ids[0], id, "one mainline build")
	}
	again, err := r.Promote(ctx, first, registry.PromoteOptions{Branch: "main"})
	require.NoError(t, err)
	assert.True(t, again.Existing)
	assert.Equal(t, ids[0], again.Build.ID)
	m, err := r.Build(ctx, ids[0])
	require.NoError(t, err)
	assert.Equal(t, first.ID, m.PromotedFrom)
	assert.False(t, m.Assets[0].NonShipping)
	assert.True(t, m.Assets[1].NonShipping)
	assert.Equal(t, []maestro.Channel{ch}, m.Channels)
	got, err := r.PromotedBuild(ctx, first.ID)
	require.NoError(t, err)
	assert.Equal(t, ids[0], got)
	builds, err := r.Builds(ctx, registry.BuildFilter{Repository: repo})
	require.NoError(t, err)
	assert.Len(t, builds, 1)

	res, err := r.Promote(ctx, second, registry.PromoteOptions{Branch: "main"})
	require.NoError(t, err)
	assert.Equal(t, []maestro.BuildDependency{{BuildID: ids[0], IsProduct: true}}, res.Build.Dependencies)

	// The mainline build of the merged commit published after the
	// promotion (main's CI) does not make a rerun fail: it returns the
	// promoted build, which a promote killed before its flow needs.
	mainline := first
	mainline.ID, mainline.Speculative, mainline.PullRequest, mainline.Promotable, mainline.Channels = 0, false, nil, nil, nil
	mainline.Branch = "main"
	for i := range mainline.Assets {
		mainline.Assets[i].ID = 0
	}
	official, err := r.PublishBuild(ctx, mainline, registry.PublishOptions{})
	require.NoError(t, err)
	require.NotEqual(t, ids[0], official.Build.ID, "a second mainline build of the commit, published")
	rerun, err := r.Promote(ctx, first, registry.PromoteOptions{Branch: "main"})
	require.NoError(t, err, "a rerun after the mainline build was published")
	assert.True(t, rerun.Existing)
	assert.Equal(t, ids[0], rerun.Build.ID)
	// A speculative build of the same commit never promoted is refused.
	third := publish(3)
	third.Commit = first.Commit
	_, err = r.Promote(ctx, third, registry.PromoteOptions{Branch: "main"})
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err), "%v", err)
}

// TestAnyBuild: AnyBuild reads an official id from the registry and a
// speculative id from the speculative registry, with the mainline build it
// was promoted to once there is one; an unknown id of either range is
// KindNotFound, and the speculative registry refuses the call.
func TestAnyBuild(t *testing.T) {
	ctx := context.Background()
	const repo = "https://github.com/dotnet/arcade"
	r := newRegistry(t)
	defaultChannel(t, r, repo, "product")
	official, err := r.PublishBuild(ctx, sampleBuild(repo, 1, "A"), registry.PublishOptions{})
	require.NoError(t, err)
	b, pr := prBuild(repo, 2, "https://github.com/dotnet/arcade/pull/12")
	res, err := r.PublishSpeculative(ctx, b, registry.SpeculativeOptions{PullRequest: pr})
	require.NoError(t, err)
	specID := res.Build.ID

	got, err := r.AnyBuild(ctx, official.Build.ID)
	require.NoError(t, err)
	assert.Equal(t, official.Build.Commit, got.Commit)
	assert.False(t, got.Speculative)
	got, err = r.AnyBuild(ctx, specID)
	require.NoError(t, err)
	assert.True(t, got.Speculative)
	assert.Equal(t, pr, got.PullRequest)
	assert.Len(t, got.Assets, 2, "with its assets")
	assert.Zero(t, got.PromotedTo, "not promoted yet")

	promoted, err := r.Promote(ctx, got, registry.PromoteOptions{Branch: "main"})
	require.NoError(t, err)
	got, err = r.AnyBuild(ctx, specID)
	require.NoError(t, err)
	assert.Equal(t, promoted.Build.ID, got.PromotedTo)
	got, err = r.AnyBuild(ctx, promoted.Build.ID)
	require.NoError(t, err)
	assert.Equal(t, specID, got.PromotedFrom)

	for _, id := range []int{promoted.Build.ID + 1, specID + 1} {
		_, err = r.AnyBuild(ctx, id)
		assert.Equal(t, maestro.KindNotFound, maestro.KindOf(err), "%d: %v", id, err)
	}
	spec, err := r.Speculative(ctx)
	require.NoError(t, err)
	_, err = spec.AnyBuild(ctx, specID)
	assert.ErrorContains(t, err, "call it on the registry")
}

// defaultChannel adds the channel ".NET 10" (of classification) and makes
// it the default channel of repo's main branch.
func defaultChannel(t *testing.T, r *registry.Registry, repo, classification string) maestro.Channel {
	t.Helper()
	ch, err := r.AddChannel(t.Context(), ".NET 10", classification)
	require.NoError(t, err)
	_, err = r.AddDefaultChannel(t.Context(), maestro.DefaultChannel{Repository: repo, Branch: "main", ChannelID: ch.ID, Enabled: true})
	require.NoError(t, err)
	return ch
}
