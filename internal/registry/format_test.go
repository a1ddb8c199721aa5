package registry_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// formatOneStore is a store with a registry of format version 1, as the
// maestro before format 2 made it.
func formatOneStore(t *testing.T) store.Store {
	t.Helper()
	st := mem.New()
	_, err := st.Put(context.Background(), "meta/format.json", []byte(`{"format":"maestro-bar","version":1,"created":"2026-12-01T00:00:00Z"}`), store.Condition{CreateOnly: true})
	require.NoError(t, err)
	return st
}

// assetsDocumentOf returns the assets document build id's record names.
func assetsDocumentOf(t *testing.T, st store.Store, id int) []byte {
	t.Helper()
	ctx := context.Background()
	keys, err := st.List(ctx, "builds/")
	require.NoError(t, err)
	var rec struct {
		AssetsDocument string `json:"assetsDocument"`
	}
	for _, k := range keys {
		if strings.HasSuffix(k, "/build.json") {
			data, _, err := st.Get(ctx, k)
			require.NoError(t, err)
			var r struct {
				ID             int    `json:"id"`
				AssetsDocument string `json:"assetsDocument"`
			}
			require.NoError(t, json.Unmarshal(data, &r))
			if r.ID == id {
				rec.AssetsDocument = r.AssetsDocument
			}
		}
	}
	require.NotEmpty(t, rec.AssetsDocument, "build %d", id)
	data, _, err := st.Get(ctx, rec.AssetsDocument)
	require.NoError(t, err)
	return data
}

func formatBuild(azdoID int) maestro.Build {
	loc := []maestro.AssetLocation{{Type: maestro.LocationContainer, Location: "https://dev.azure.com/dnceng/internal/_apis/build/builds/1/artifacts"}}
	return maestro.Build{
		Repository: "https://github.com/dotnet/format", Branch: "main", Commit: strings.Repeat("a", 40),
		AzureDevOpsAccount: "dnceng", AzureDevOpsProject: "internal", AzureDevOpsBuildID: azdoID,
		Assets: []maestro.Asset{
			{Name: "Format.A", Version: "1.0.0", Locations: loc},
			{Name: "Format.B", Version: "1.0.0", NonShipping: true, Locations: loc},
			{Name: "Format.C", Version: "2.0.0"},
		},
	}
}

// TestPublishWritesTheRegistrysFormat: a registry of version 1 gets the
// assets document a maestro of version 1 reads, whether this maestro read
// the marker before (CheckFormat) or reads it in the publish; `registry
// init`'s Upgrade raises it to 2, after which a publish writes format 2;
// builds of both formats read back the same.
func TestPublishWritesTheRegistrysFormat(t *testing.T) {
	ctx := context.Background()
	for _, checked := range []bool{false, true} {
		st := formatOneStore(t)
		reg := registry.New(st)
		if checked {
			f, err := reg.CheckFormat(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, f.Version)
		}
		old, err := reg.PublishBuild(ctx, formatBuild(1), registry.PublishOptions{})
		require.NoError(t, err)
		doc := assetsDocumentOf(t, st, old.Build.ID)
		require.Equal(t, byte('['), doc[0], "format 1 in a registry of version 1: %s", doc)
		var v1 []maestro.Asset
		require.NoError(t, json.Unmarshal(doc, &v1), "what a maestro of version 1 decodes")

		// Another process raises the marker; this one goes on with what it read.
		from, err := registry.New(st).Upgrade(ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, from)
		if checked {
			b, err := reg.PublishBuild(ctx, formatBuild(2), registry.PublishOptions{})
			require.NoError(t, err)
			assert.Equal(t, byte('['), assetsDocumentOf(t, st, b.Build.ID)[0], "a process that read version 1 writes format 1")
		}

		fresh := registry.New(st)
		f, err := fresh.CheckFormat(ctx)
		require.NoError(t, err)
		assert.Equal(t, registry.FormatVersion, f.Version)
		b, err := fresh.PublishBuild(ctx, formatBuild(3), registry.PublishOptions{})
		require.NoError(t, err)
		assert.Equal(t, byte('{'), assetsDocumentOf(t, st, b.Build.ID)[0], "format 2 once the registry is version 2")

		gotOld, err := fresh.Build(ctx, old.Build.ID)
		require.NoError(t, err)
		gotNew, err := fresh.Build(ctx, b.Build.ID)
		require.NoError(t, err)
		assert.Equal(t, v1, gotOld.Assets)
		require.Len(t, gotNew.Assets, 3)
		for i := range gotNew.Assets {
			want := gotOld.Assets[i]
			want.ID = b.Build.ID*1_000_000 + i + 1
			assert.Equal(t, want, gotNew.Assets[i])
		}
		// A rerun of a recorded build compares against either format.
		again, err := fresh.PublishBuild(ctx, formatBuild(1), registry.PublishOptions{})
		require.NoError(t, err)
		assert.True(t, again.Existing)
		more := formatBuild(3)
		more.Assets = append(more.Assets, maestro.Asset{Name: "Format.D", Version: "2.0.0"})
		_, err = fresh.PublishBuild(ctx, more, registry.PublishOptions{})
		assert.Equal(t, maestro.KindConflict, maestro.KindOf(err), "a later job's extra asset is refused against a format 2 record: %v", err)
		found, err := fresh.FindAssets(ctx, "format.b", "1.0.0", 10)
		require.NoError(t, err)
		require.Len(t, found, map[bool]int{false: 2, true: 3}[checked], "asset find reads both formats")
		for _, m := range found {
			assert.True(t, m.Asset.NonShipping)
			assert.Equal(t, m.Build.ID*1_000_000+2, m.Asset.ID)
		}
		rep, err := fresh.Check(ctx)
		require.NoError(t, err)
		assert.Empty(t, rep.Problems, "check reads both formats")
	}
}

// slowMarker is a store whose reads of the format marker take a while, so
// that concurrent upgrades all read before any writes.
type slowMarker struct{ store.Store }

func (s slowMarker) Get(ctx context.Context, key string) ([]byte, string, error) {
	if key == "meta/format.json" {
		time.Sleep(20 * time.Millisecond)
	}
	return s.Store.Get(ctx, key)
}

// TestUpgradeRacesAgree: concurrent upgrades raise the marker once; every
// one ends with version 2; a registry of version 2 and a store without a
// marker are left alone.
func TestUpgradeRacesAgree(t *testing.T) {
	ctx := context.Background()
	st := slowMarker{formatOneStore(t)}
	var wg sync.WaitGroup
	froms := make([]int, 16)
	for i := range froms {
		wg.Go(func() {
			from, err := registry.New(st).Upgrade(ctx)
			assert.NoError(t, err)
			froms[i] = from
		})
	}
	wg.Wait()
	raised := 0
	for _, f := range froms {
		if f == 1 {
			raised++
		} else {
			assert.Equal(t, registry.FormatVersion, f)
		}
	}
	assert.Equal(t, 1, raised, "exactly one upgrade raised the marker")
	f, err := registry.New(st).CheckFormat(ctx)
	require.NoError(t, err)
	assert.Equal(t, registry.FormatVersion, f.Version)
	assert.Equal(t, "2026-12-01T00:00:00Z", f.Created.UTC().Format("2006-01-02T15:04:05Z"), "the marker keeps its creation time")

	_, err = registry.New(mem.New()).Upgrade(ctx)
	assert.ErrorIs(t, err, registry.ErrNoRegistry)
}
