package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// countingStore counts the documents read.
type countingStore struct {
	store.Store
	gets atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, key string) ([]byte, string, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, key)
}

// TestDueReadsAQueuedEventOnce: while the oldest event of a repository is
// at a worker, a dispatch pass skips the later events of that repository
// without reading them again — a burst of deliveries for one repository
// cost a read per event and pass before (the webhook intake benchmark
// spent half its CPU there).
func TestDueReadsAQueuedEventOnce(t *testing.T) {
	ctx := t.Context()
	st := &countingStore{Store: mem.New()}
	reg := registry.New(st)
	_, _, err := reg.Init(ctx)
	require.NoError(t, err)
	s := newServerOn(t, reg)
	base := time.Now().Add(-time.Minute)
	const n = 30
	for i := range n {
		ok, err := reg.AcceptEvent(ctx, registry.Event{Source: "github", Delivery: fmt.Sprintf("d-%02d", i), Type: "push", Payload: []byte(`{}`),
			OrderKey: orderKey("https://github.com/dotnet/runtime"), ReceivedAt: base.Add(time.Duration(i) * time.Millisecond)})
		require.NoError(t, err)
		require.True(t, ok)
	}
	other, err := reg.AcceptEvent(ctx, registry.Event{Source: "github", Delivery: "other", Type: "push", Payload: []byte(`{}`),
		OrderKey: orderKey("https://github.com/dotnet/sdk"), ReceivedAt: base.Add(time.Second)})
	require.NoError(t, err)
	require.True(t, other)
	queued, err := reg.QueuedRefs(ctx)
	require.NoError(t, err)
	require.Len(t, queued, n+1)

	var picked []string
	pass := func() int64 {
		before := st.gets.Load()
		s.due(ctx, queued, nil, func(q registry.QueuedEvent, _ bool) bool {
			picked = append(picked, q.Delivery)
			return true
		})
		return st.gets.Load() - before
	}
	assert.Equal(t, int64(2), pass(), "the first pass reads only the oldest event of each repository: the batches hold the others' keys")
	assert.Equal(t, []string{"d-00", "other"}, picked, "the oldest of each repository")
	assert.Equal(t, int64(0), pass(), "while both are at workers, nothing is read again")
	assert.Equal(t, []string{"d-00", "other"}, picked)

	s.seq.done(queued[n].ID(), false) // the sdk event's worker gave it back unfinished
	assert.Equal(t, int64(1), pass(), "only the event given back is read again")
	assert.Equal(t, []string{"d-00", "other", "other"}, picked)
}

// TestPruneGone: the view loses exactly the markers reported gone, wherever
// they are, keeps the others in order, and forgets what it pruned.
func TestPruneGone(t *testing.T) {
	view := func(names ...string) []registry.QueuedRef {
		out := make([]registry.QueuedRef, len(names))
		for i, n := range names {
			out[i] = registry.NewQueuedRef(registry.QueuedEvent{ID: registry.EntryID{Key: n, Index: -1}})
		}
		return out
	}
	markers := func(qs []registry.QueuedRef) []string {
		out := []string{}
		for _, q := range qs {
			out = append(out, q.ID().String())
		}
		return out
	}
	for _, c := range []struct {
		gone []string
		want []string
	}{
		{nil, []string{"a", "b", "c", "d", "e", "f"}},
		{[]string{"a"}, []string{"b", "c", "d", "e", "f"}},
		{[]string{"a", "b"}, []string{"c", "d", "e", "f"}},
		{[]string{"b", "d"}, []string{"a", "c", "e", "f"}},
		{[]string{"f"}, []string{"a", "b", "c", "d", "e"}},
		{[]string{"c", "x"}, []string{"a", "b", "d", "e", "f"}}, // x: not in the view
		{[]string{"a", "b", "c", "d", "e", "f"}, []string{}},
	} {
		t.Run(fmt.Sprint(c.gone), func(t *testing.T) {
			seq := newSequencer()
			for _, g := range c.gone {
				seq.done(registry.EntryID{Key: g, Index: -1}, true)
			}
			got, _ := seq.pruneGone(view("a", "b", "c", "d", "e", "f"))
			assert.Equal(t, c.want, markers(got))
			again, moved := seq.pruneGone(got)
			assert.Equal(t, c.want, markers(again), "pruned once")
			assert.Zero(t, moved)
		})
	}
}

// randomQueue is a queue of n entries whose neighbours often share an
// order key: batch entries of keys a, b and c or of none, and markers of
// the layout before batches.
func randomQueue(rng *rand.Rand, n int) []registry.QueuedRef {
	keys := []string{"", canonical("a"), canonical("b"), canonical("c")}
	queued := make([]registry.QueuedRef, n)
	key := keys[rng.IntN(len(keys))]
	for i := range queued {
		if rng.IntN(4) == 0 {
			key = keys[rng.IntN(len(keys))]
		}
		q := registry.QueuedEvent{ID: registry.EntryID{Key: "b", Index: i}, Source: "github", Delivery: fmt.Sprintf("d-%03d", i), Batch: "b", OrderKey: key}
		if rng.IntN(10) == 0 {
			q.ID, q.Batch, q.OrderKey = registry.EntryID{Key: fmt.Sprintf("m-%03d", i), Index: -1}, "", ""
		}
		queued[i] = registry.NewQueuedRef(q)
	}
	return queued
}

// TestRunEndsFollowThePrunedView: after any sequence of prunings, the
// view's run ends are what a fresh look at its entries finds.
func TestRunEndsFollowThePrunedView(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for c := range 2000 {
		seq := newSequencer()
		var v queueView
		v.reset(randomQueue(rng, 1+rng.IntN(40)))
		for round := 0; round < 4 && len(v.queued) > 0; round++ {
			for range rng.IntN(4) {
				// Mostly near the front, as finished events are.
				seq.done(v.queued[rng.IntN(min(len(v.queued), 1+rng.IntN(12)))].ID(), true)
			}
			v.prune(seq)
			var fresh queueView
			fresh.reset(slices.Clone(v.queued))
			require.True(t, slices.Equal(fresh.runEnds, v.runEnds), "case %d, round %d: %v, want %v", c, round, v.runEnds, fresh.runEnds)
		}
	}
}

// TestDueStepsOverBlockedRuns: a pass that steps over the runs of blocked
// keys picks what a pass that looks at every entry picks.
func TestDueStepsOverBlockedRuns(t *testing.T) {
	reg := registry.New(mem.New())
	s := newServerOn(t, reg)
	rng := rand.New(rand.NewPCG(3, 4))
	for c := range 500 {
		var v queueView
		v.reset(randomQueue(rng, 1+rng.IntN(60)))
		var held []registry.QueuedRef
		for range rng.IntN(4) {
			held = append(held, v.queued[rng.IntN(len(v.queued))])
		}
		pass := func(runEnds []int32) []string {
			s.seq = newSequencer()
			for _, h := range held {
				s.seq.take(h.ID(), h.OrderKey())
			}
			picked := []string{}
			s.due(t.Context(), v.queued, runEnds, func(q registry.QueuedEvent, _ bool) bool {
				picked = append(picked, q.ID.String())
				return true
			})
			return picked
		}
		require.Equal(t, pass(nil), pass(v.runEnds), "case %d", c)
	}
}

// BenchmarkDueBurstOfOneRepository is a dispatch pass over a backlog of
// 100,000 batch entries of one repository whose oldest event is at a
// worker: what each pass costs during a long burst for one repository (it
// finds nothing to hand out), looking at every entry and stepping over
// the run.
func BenchmarkDueBurstOfOneRepository(b *testing.B) {
	reg := registry.New(mem.New())
	s := newServerOn(b, reg)
	key := canonical(orderKey("https://github.com/dotnet/runtime"))
	queued := make([]registry.QueuedRef, 100_000)
	for i := range queued {
		batch := fmt.Sprintf("index/events/log/%020d-segment@%d", i/256, i/256*4096)
		queued[i] = registry.NewQueuedRef(registry.QueuedEvent{ID: registry.EntryID{Key: batch, Index: i % 256}, Source: "github", Delivery: fmt.Sprintf("d-%06d", i),
			Batch: batch, OrderKey: key, ReceivedAt: time.Unix(int64(i), 0)})
	}
	var v queueView
	v.reset(queued)
	require.True(b, s.seq.take(queued[0].ID(), key))
	for _, bc := range []struct {
		name    string
		runEnds []int32
	}{{"every entry", nil}, {"runs", v.runEnds}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				s.due(b.Context(), v.queued, bc.runEnds, func(q registry.QueuedEvent, _ bool) bool {
					b.Fatalf("handed out %s while its repository's oldest event is at a worker", q.Delivery)
					return false
				})
			}
		})
	}
}
