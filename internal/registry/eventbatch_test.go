package registry_test

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

const logPrefix = "index/events/log/"

// gatedStore holds every batch write (an append to the intake log) until
// gate is closed, and fails it with fail when set.
type gatedStore struct {
	store.Store
	gate    chan struct{}
	mu      sync.Mutex
	started int // batch writes begun
	fail    error
}

func (g *gatedStore) Append(ctx context.Context, key string, data []byte, at int64) error {
	if strings.HasPrefix(key, logPrefix) {
		g.mu.Lock()
		g.started++
		fail := g.fail
		g.mu.Unlock()
		<-g.gate
		if fail != nil {
			return fail
		}
	}
	return g.Store.Append(ctx, key, data, at)
}

func (g *gatedStore) begun() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.started
}

// acceptAll accepts the deliveries at once, each in its goroutine, and
// returns their results once all are answered.
func acceptAll(t *testing.T, reg *registry.Registry, ids []string) ([]bool, []error) {
	t.Helper()
	oks, errs := make([]bool, len(ids)), make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { oks[i], errs[i] = reg.AcceptEvent(context.Background(), statusEvent(id)) })
	}
	wg.Wait()
	return oks, errs
}

// batched writes the first delivery's batch alone (held at the gate), then
// accepts the others, which share the next batch: it gathers until the
// first batch is written, however long its window.
func batched(t *testing.T, reg *registry.Registry, g *gatedStore, ids []string) ([]bool, []error) {
	t.Helper()
	reg.SetBatchWindowForTest(time.Millisecond)
	first := make(chan error, 1)
	go func() {
		_, err := reg.AcceptEvent(context.Background(), statusEvent(ids[0]))
		first <- err
	}()
	require.Eventually(t, func() bool { return g.begun() == 1 }, 5*time.Second, time.Millisecond)
	done := make(chan struct{})
	var oks []bool
	var errs []error
	go func() { oks, errs = acceptAll(t, reg, ids[1:]); close(done) }()
	require.Eventually(t, func() bool { return reg.PendingForTest() == len(ids) }, 5*time.Second, time.Millisecond, "the others gathered")
	time.Sleep(20 * time.Millisecond) // twenty windows
	assert.Equal(t, 1, g.begun(), "one batch written at a time: the others' waits for the first")
	close(g.gate)
	<-done
	return append([]bool{true}, oks...), append([]error{<-first}, errs...)
}

// listBatches lists the queued batches in st, oldest first.
func listBatches(t *testing.T, st store.Store) []string {
	t.Helper()
	batches, err := registry.StoredBatches(t.Context(), st)
	require.NoError(t, err)
	keys := slices.Collect(maps.Keys(batches))
	slices.SortFunc(keys, func(a, b string) int {
		sa, oa, _ := strings.Cut(a, "@")
		sb, ob, _ := strings.Cut(b, "@")
		if c := strings.Compare(sa, sb); c != 0 {
			return c
		}
		return cmp.Compare(len(oa), len(ob))*10 + strings.Compare(oa, ob)
	})
	return keys
}

// TestAcceptEventGroupCommit: deliveries accepted while a batch is written
// share the next batch document, written after it; each accept returns
// once its batch is written, and QueuedEvents lists every delivery once,
// with its payload.
func TestAcceptEventGroupCommit(t *testing.T) {
	g := &gatedStore{Store: mem.New(), gate: make(chan struct{})}
	reg := registry.New(g)
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = fmt.Sprintf("d-%02d", i)
	}
	oks, errs := batched(t, reg, g, ids)
	for i := range ids {
		require.NoError(t, errs[i], ids[i])
		assert.True(t, oks[i], ids[i])
	}
	assert.Len(t, listBatches(t, g), 2, "one batch for the first, one for the 19 others")

	// Another process, which knows none of the batches, lists them.
	other := registry.New(g)
	q, err := other.QueuedEvents(t.Context())
	require.NoError(t, err)
	got := map[string]int{}
	for _, e := range q {
		got[e.Delivery]++
		assert.NotEmpty(t, e.Batch)
	}
	for _, id := range ids {
		assert.Equal(t, 1, got[id], id)
		ev, err := other.AcceptedEvent(t.Context(), "github", id)
		require.NoError(t, err)
		assert.Equal(t, registry.EventQueued, ev.State)
		assert.JSONEq(t, `{"sha":"abc"}`, string(ev.Payload))
	}
	ok, err := reg.AcceptEvent(t.Context(), statusEvent("d-05"))
	require.NoError(t, err)
	assert.False(t, ok, "a delivery in a batch this process wrote is accepted before")
	ok, err = other.AcceptEvent(t.Context(), statusEvent("d-06"))
	require.NoError(t, err)
	assert.False(t, ok, "and in a batch this process listed")
	assert.Len(t, listBatches(t, g), 2, "nothing written")
}

// TestQueuedEventsOfOneTimeInAcceptOrder: entries received at one time
// (a clock that does not move: a coarse clock, or two deliveries within
// its tick) are listed in the order they were appended: records of a
// segment by offset, though "@1000" is before "@999" as text, and a
// batch's entries by place, though "#10" is before "#9".
func TestQueuedEventsOfOneTimeInAcceptOrder(t *testing.T) {
	at := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
	g := &gatedStore{Store: mem.New(), gate: make(chan struct{})}
	close(g.gate)
	reg := registry.New(g, registry.WithClock(func() time.Time { return at }))
	var ids []string
	for i := range 12 { // twelve records of about 200 bytes: offsets pass 1000
		ids = append(ids, fmt.Sprintf("one-%02d", i))
		ok, err := reg.AcceptEvent(t.Context(), statusEvent(ids[i]))
		require.NoError(t, err)
		require.True(t, ok)
	}
	g.gate, g.started = make(chan struct{}), 0 // every append answered: none reads them
	many := make([]string, 14)
	for i := range many {
		many[i] = fmt.Sprintf("many-%02d", i)
	}
	_, errs := batched(t, reg, g, many)
	for _, err := range errs {
		require.NoError(t, err)
	}

	for _, lister := range []*registry.Registry{reg, registry.New(g)} {
		q, err := lister.QueuedEvents(t.Context())
		require.NoError(t, err)
		require.Len(t, q, len(ids)+len(many))
		var got []string
		for _, e := range q[:len(ids)+1] {
			got = append(got, e.Delivery)
		}
		assert.Equal(t, append(slices.Clone(ids), many[0]), got, "one record after the other")
		gathered := q[len(ids)+1:]
		for i, e := range gathered {
			assert.Equal(t, registry.EntryID{Key: gathered[0].Batch, Index: i}, e.ID, "the gathered batch's entries by place")
		}
	}
}

// TestAcceptEventBatchFailsTogether: a batch write that fails fails every
// accept of the batch, and nothing is queued; the store answering again,
// the same deliveries are accepted.
func TestAcceptEventBatchFailsTogether(t *testing.T) {
	g := &gatedStore{Store: mem.New(), gate: make(chan struct{}), fail: store.ErrUnavailable}
	reg := registry.New(g)
	ids := []string{"d-1", "d-2", "d-3", "d-4", "d-5"}
	_, errs := batched(t, reg, g, ids)
	for i := range ids {
		assert.ErrorIs(t, errs[i], store.ErrUnavailable, ids[i])
	}
	assert.Empty(t, listBatches(t, g))
	q, err := reg.QueuedEvents(t.Context())
	require.NoError(t, err)
	assert.Empty(t, q)

	g.mu.Lock()
	g.fail = nil
	g.mu.Unlock()
	oks, errs := acceptAll(t, reg, ids)
	for i := range ids {
		require.NoError(t, errs[i])
		assert.True(t, oks[i], "redelivered after the failure: %s", ids[i])
	}
}

// TestDeliveryInTwoBatches: one delivery accepted by two replicas, each in
// its own batch, is processed once: the entry taken first creates the
// record; the other is a copy, settled without a claim, and both batches
// are deleted once settled.
func TestDeliveryInTwoBatches(t *testing.T) {
	st := mem.New()
	a, b := registry.New(st), registry.New(st)
	ctx := t.Context()
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	for _, reg := range []*registry.Registry{a, b} {
		ok, err := reg.AcceptEvent(ctx, statusEvent("d-1"))
		require.NoError(t, err)
		require.True(t, ok, "neither replica knows the other's batch")
	}
	require.Len(t, listBatches(t, st), 2)
	qa, err := a.QueuedEvents(ctx)
	require.NoError(t, err)
	require.Len(t, qa, 2, "the delivery twice, in two batches")
	qb, err := b.QueuedEvents(ctx)
	require.NoError(t, err)
	require.Len(t, qb, 2)

	// b takes the later entry first; a then takes the earlier one.
	ev, etag, ok, err := b.ClaimEvent(ctx, qb[1], "wb", now, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, qb[1].Batch, ev.Batch)
	copyEv, _, ok, err := a.ClaimEvent(ctx, qa[0], "wa", now, time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "a copy is not claimed")
	assert.True(t, qa[0].Gone(copyEv), "the copy is settled")
	require.NoError(t, b.FinishEvent(ctx, qb[1], ev, etag, now, "done by b"))

	// Each replica settles the entries it has not yet: a copy and a done event.
	for _, q := range []registry.QueuedEvent{qa[1]} {
		ev, _, ok, err := a.ClaimEvent(ctx, q, "wa", now, time.Minute)
		require.NoError(t, err)
		assert.False(t, ok)
		assert.True(t, q.Gone(ev))
	}
	ev, _, ok, err = b.ClaimEvent(ctx, qb[0], "wb", now, time.Minute)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.True(t, qb[0].Gone(ev))
	assert.Empty(t, listBatches(t, st), "both batches settled and deleted")
	done, _, err := a.Event(ctx, "github", "d-1")
	require.NoError(t, err)
	assert.Equal(t, registry.EventDone, done.State)
	assert.Equal(t, "done by b", done.Result)
	assert.Equal(t, 1, done.Attempts, "processed once")
	ok, err = b.AcceptEvent(ctx, statusEvent("d-1"))
	require.NoError(t, err)
	assert.False(t, ok, "accepted before: its record exists")
}

// TestBatchHalfProcessedWhenTheProcessDied: a process that took part of a
// batch and died (its registry and memory gone) leaves done, claimed and
// untouched entries; another process lists the batch, settles the done
// one, takes the claimed one over once its claim lapses, claims the
// untouched one, and deletes the batch after the last is finished. A batch
// whose entries were all settled but which was not deleted yet (a death
// between the last finish and the delete) is deleted by the next process
// that lists it.
func TestBatchHalfProcessedWhenTheProcessDied(t *testing.T) {
	g := &gatedStore{Store: mem.New(), gate: make(chan struct{})}
	ctx := t.Context()
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	first := registry.New(g)
	_, errs := batched(t, first, g, []string{"d-0", "d-1", "d-2", "d-3"})
	for _, err := range errs {
		require.NoError(t, err)
	}
	q, err := first.QueuedEvents(ctx)
	require.NoError(t, err)
	require.Len(t, q, 4)
	batch := q[1].Batch
	require.Equal(t, "d-0", q[0].Delivery)
	require.Equal(t, batch, q[3].Batch, "d-1, d-2, d-3 share a batch")
	// The first process finishes d-0 (its own batch, deleted) and the
	// batch's first entry, claims its second, and dies.
	for _, e := range q[:2] {
		ev, etag, ok, err := first.ClaimEvent(ctx, e, "w1", now, time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, first.FinishEvent(ctx, e, ev, etag, now, "by w1"))
	}
	_, _, ok, err := first.ClaimEvent(ctx, q[2], "w1", now, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, []string{q[0].Batch, batch}, listBatches(t, g), "the log segment stays while a record of it is open")
	segment, _, _ := strings.Cut(batch, "@")
	raw, _, err := g.Get(ctx, segment)
	require.NoError(t, err)

	second := registry.New(g)
	q2, err := second.QueuedEvents(ctx)
	require.NoError(t, err)
	require.Len(t, q2, 4, "the segment's entries, as the store holds them (d-0 done)")
	later := now.Add(2 * time.Minute) // the dead worker's claim lapsed
	var finished []string
	for _, e := range q2 {
		ev, etag, ok, err := second.ClaimEvent(ctx, e, "w2", later, time.Minute)
		require.NoError(t, err)
		if !ok {
			assert.True(t, e.Gone(ev), "%s: done already", e.Delivery)
			continue
		}
		require.NoError(t, second.FinishEvent(ctx, e, ev, etag, later, "by w2"))
		finished = append(finished, e.Delivery)
	}
	assert.Equal(t, []string{q[2].Delivery, q[3].Delivery}, finished)
	assert.Empty(t, listBatches(t, g))
	for id, want := range map[string]string{"d-0": "by w1", q[1].Delivery: "by w1", q[2].Delivery: "by w2", q[3].Delivery: "by w2"} {
		ev, _, err := second.Event(ctx, "github", id)
		require.NoError(t, err)
		assert.Equal(t, registry.EventDone, ev.State, id)
		assert.Equal(t, want, ev.Result, id)
	}

	// All settled, not deleted: write the segment back as it was.
	third := registry.New(g)
	_, err = g.Put(ctx, segment, raw, store.Condition{CreateOnly: true})
	require.NoError(t, err)
	q3, err := third.QueuedEvents(ctx)
	require.NoError(t, err)
	require.Len(t, q3, 4)
	for _, e := range q3 {
		ev, _, ok, err := third.ClaimEvent(ctx, e, "w3", later, time.Minute)
		require.NoError(t, err)
		assert.False(t, ok)
		assert.True(t, e.Gone(ev))
	}
	assert.Empty(t, listBatches(t, g), "deleted once its entries are settled again")
}

// TestQueuedEventOfTheOldLayout: an event accepted by the version before
// batches (its record and a queue marker) is listed, claimed and finished
// as before, and its marker deleted: an upgrade loses no queued event. A
// redelivery of it is accepted before.
func TestQueuedEventOfTheOldLayout(t *testing.T) {
	st := mem.New()
	reg := registry.New(st)
	ctx := t.Context()
	received := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	marker := fmt.Sprintf("index/events/queued/%020d-github-old-1", received.UnixNano())
	_, err := st.Put(ctx, marker, nil, store.Condition{})
	require.NoError(t, err)
	_, err = st.Put(ctx, "events/github/old-1.json",
		[]byte(`{"source":"github","delivery":"old-1","type":"status","receivedAt":"2026-12-05T09:00:00Z","payload":{"sha":"abc"},"orderKey":"https://github.com/dotnet/runtime","state":"queued","attempts":0}`),
		store.Condition{CreateOnly: true})
	require.NoError(t, err)
	ok, err := reg.AcceptEvent(ctx, statusEvent("old-1"))
	require.NoError(t, err)
	assert.False(t, ok, "accepted before the upgrade")

	ok, err = reg.AcceptEvent(ctx, statusEvent("new-1"))
	require.NoError(t, err)
	require.True(t, ok)
	q, err := reg.QueuedEvents(ctx)
	require.NoError(t, err)
	require.Len(t, q, 2)
	assert.Equal(t, registry.EntryID{Key: marker, Index: -1}, q[0].ID, "oldest first")
	assert.Empty(t, q[0].Batch)
	ev, etag, ok, err := reg.ClaimEvent(ctx, q[0], "w", received.Add(time.Minute), time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "https://github.com/dotnet/runtime", ev.OrderKey)
	require.NoError(t, reg.FinishEvent(ctx, q[0], ev, etag, received.Add(time.Minute), "done"))
	_, _, err = st.Get(ctx, marker)
	assert.ErrorIs(t, err, store.ErrNotExist, "marker deleted")
	q, err = reg.QueuedEvents(ctx)
	require.NoError(t, err)
	require.Len(t, q, 1)
	assert.Equal(t, "new-1", q[0].Delivery)
}

// TestQueuedEntryOfAPlaceNotInTheBatch: an entry whose place is not in
// its batch (made by hand: the registry makes none) is an error, not a
// panic, whether the process keeps the batch or reads it.
func TestQueuedEntryOfAPlaceNotInTheBatch(t *testing.T) {
	st := mem.New()
	reg := registry.New(st)
	ok, err := reg.AcceptEvent(t.Context(), statusEvent("d-1"))
	require.NoError(t, err)
	require.True(t, ok)
	q, err := reg.QueuedEvents(t.Context())
	require.NoError(t, err)
	require.Len(t, q, 1)
	for _, index := range []int{-1, 1} {
		bad := q[0]
		bad.ID.Index = index
		for name, r := range map[string]*registry.Registry{"keeps it": reg, "reads it": registry.New(st)} {
			_, err := r.QueuedEntry(t.Context(), bad)
			assert.Error(t, err, "place %d, a process that %s", index, name)
		}
	}
}
