package registry

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// TestIDListRandomOps drives one id list through spills, page rewrites,
// splits and emptied pages in random order, against a plain set, reading it
// whole and page by page after every batch.
func TestIDListRandomOps(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	r := New(st)
	const prefix = "index/builds/by-channel/1/"
	rng := rand.New(rand.NewPCG(3, 4))
	in := map[int]bool{}
	for batch := range 4 {
		for range 1500 {
			// Mostly new ids, sometimes an old one, sometimes a removal.
			id := 1 + rng.IntN(3000)
			if in[id] && rng.IntN(3) == 0 {
				require.NoError(t, r.listRemove(ctx, prefix, id))
				delete(in, id)
			} else {
				require.NoError(t, r.listAdd(ctx, prefix, id))
				in[id] = true
			}
		}
		var want []int
		for id := range in {
			want = append(want, id)
		}
		slices.Sort(want)
		slices.Reverse(want)
		all, pages, err := r.listAll(ctx, prefix)
		require.NoError(t, err)
		assert.Equal(t, want, all, "batch %d", batch)
		assert.NotEmpty(t, pages, "batch %d: the list never spilled", batch)
		var paged []int
		before := 0
		for {
			ids, err := r.listIDs(ctx, prefix, before, 97)
			require.NoError(t, err)
			if len(ids) == 0 {
				break
			}
			paged = append(paged, ids...)
			before = ids[len(ids)-1]
		}
		assert.Equal(t, want, paged, "batch %d", batch)
		// Every page key in the store is one the head names: replaced pages
		// were deleted.
		keys, err := st.List(ctx, prefix+"pages/")
		require.NoError(t, err)
		assert.ElementsMatch(t, pages, keys, "batch %d", batch)
	}
}
