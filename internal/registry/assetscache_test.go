package registry_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// TestAssetsDocumentReadOnce: a build's assets document (content-addressed,
// never rewritten) is read from the store once; later reads of the build
// take it from memory, as deep copies a caller may change freely.
func TestAssetsDocumentReadOnce(t *testing.T) {
	ctx := t.Context()
	r, st := newFaultRegistry(t)
	ch, err := r.AddChannel(ctx, "c", "")
	require.NoError(t, err)
	const repo = "https://github.com/dotnet/arcade"
	b := sampleBuild(repo, 1, "A", "B")
	b.Assets[0].Locations = []maestro.AssetLocation{{Type: maestro.LocationNuGetFeed, Location: "https://feed.example.com/index.json"}}
	pub, err := r.PublishBuild(ctx, b, registry.PublishOptions{Channels: []int{ch.ID}})
	require.NoError(t, err)
	r2 := registry.New(st) // a new process: nothing cached

	reads := func(fn func() maestro.Build) (maestro.Build, int64) {
		before := st.gets.Load()
		got := fn()
		return got, st.gets.Load() - before
	}
	latest := func() maestro.Build {
		got, err := r2.LatestBuild(ctx, repo, ch.ID)
		require.NoError(t, err)
		return got
	}
	first, n1 := reads(latest)
	require.Len(t, first.Assets, 2)
	second, n2 := reads(latest)
	assert.Equal(t, n1-1, n2, "the second read skips the assets document")
	assert.Equal(t, first, second)

	second.Assets[0].Name = "changed"
	second.Assets[0].Locations[0].Location = "changed"
	third, _ := reads(latest)
	assert.Equal(t, first, third, "a caller's change does not reach the cache")
	shown, n3 := reads(func() maestro.Build {
		got, err := r2.Build(ctx, pub.Build.ID)
		require.NoError(t, err)
		return got
	})
	assert.Equal(t, first.Assets, shown.Assets)
	fresh, n4 := reads(func() maestro.Build {
		got, err := registry.New(st).Build(ctx, pub.Build.ID)
		require.NoError(t, err)
		return got
	})
	assert.Equal(t, shown, fresh)
	assert.Equal(t, n4-1, n3, "build show takes the cached document too")
}
