package registry_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/registry/scaletest"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// TestDirectSeedMatchesPublish: the benchmarks' direct seed writes the same
// documents as publishing the same builds one after the other — byte for
// byte, except id-list pages, whose keys are random and whose contents are
// compared through the lists. (Both lay pages out with Registry.spill;
// TestIDListRandomOps covers lists that spill.)
func TestDirectSeedMatchesPublish(t *testing.T) {
	ctx := context.Background()
	clock := registry.WithClock(func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) })
	const n = 600
	published, direct := mem.New(), mem.New()
	rp, rd := registry.New(published, clock), registry.New(direct, clock)
	require.NoError(t, scaletest.Seed(ctx, rp, n, 0, 1))
	require.NoError(t, scaletest.Seed(ctx, rd, 0, 0, 1))
	var builds []maestro.Build
	for i := range n {
		builds = append(builds, scaletest.Build(i))
	}
	require.NoError(t, registry.SeedBuildsDirect(ctx, rd, builds))

	docs := func(st store.Store) (map[string]string, []string) {
		keys, err := st.List(ctx, "")
		require.NoError(t, err)
		out := map[string]string{}
		var heads []string
		for _, k := range keys {
			data, _, err := st.Get(ctx, k)
			require.NoError(t, err)
			switch {
			case strings.Contains(k, "/pages/"):
			case strings.HasSuffix(k, "/head.json"):
				heads = append(heads, k)
			default:
				out[k] = string(data)
			}
		}
		return out, heads
	}
	wantDocs, wantHeads := docs(published)
	gotDocs, gotHeads := docs(direct)
	assert.Equal(t, wantHeads, gotHeads)
	require.Equal(t, len(wantDocs), len(gotDocs))
	for k, v := range wantDocs {
		assert.Equal(t, v, gotDocs[k], k)
	}
	for _, h := range wantHeads {
		prefix := strings.TrimSuffix(h, "head.json")
		a, pa := listOf(t, published, prefix)
		b, pb := listOf(t, direct, prefix)
		assert.Equal(t, a, b, prefix)
		assert.Equal(t, pa, pb, prefix)
	}
}

// listOf reads an id list's head and pages: its ids and how many pages.
func listOf(t *testing.T, st store.Store, prefix string) ([]int, int) {
	ctx := context.Background()
	var h struct {
		IDs   []int `json:"ids"`
		Pages []struct {
			Key      string `json:"key"`
			Max, Min int
		} `json:"pages"`
	}
	data, _, err := st.Get(ctx, prefix+"head.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &h))
	ids := h.IDs
	for _, p := range h.Pages {
		var pd struct {
			IDs []int `json:"ids"`
		}
		data, _, err := st.Get(ctx, p.Key)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &pd))
		ids = append(ids, pd.IDs...)
	}
	return ids, len(h.Pages)
}
