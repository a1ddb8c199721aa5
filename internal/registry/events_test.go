package registry_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/jsonscan"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
	"github.com/maestroplusplus/maestro/internal/store/storetest"
)

func statusEvent(id string) registry.Event {
	return registry.Event{Source: "github", Delivery: id, Type: "status", Payload: []byte(`{"sha":"abc"}`)}
}

// TestAcceptEventOnce: concurrent accepts of one delivery in one process
// accept it once; the others wait for its batch and answer "accepted
// before".
func TestAcceptEventOnce(t *testing.T) {
	reg := newRegistry(t)
	ctx := t.Context()
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for range 16 {
		wg.Go(func() {
			ok, err := reg.AcceptEvent(ctx, statusEvent("d-1"))
			assert.NoError(t, err)
			if ok {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, accepted)
	ev, err := reg.AcceptedEvent(ctx, "github", "d-1")
	require.NoError(t, err)
	assert.Equal(t, registry.EventQueued, ev.State)
	assert.JSONEq(t, `{"sha":"abc"}`, string(ev.Payload))
	q, err := reg.QueuedEvents(ctx)
	require.NoError(t, err)
	require.Len(t, q, 1)
	assert.Equal(t, "d-1", q[0].Delivery)
	ok, err := reg.AcceptEvent(ctx, statusEvent("d-1"))
	require.NoError(t, err)
	assert.False(t, ok, "accepted before")
}

// TestAcceptEventMarker: the marker an accept returns is the one
// QueuedEvents lists for it; a delivery accepted before returns none.
func TestAcceptEventMarker(t *testing.T) {
	reg := newRegistry(t)
	ctx := t.Context()
	m, ok, err := reg.AcceptEventMarker(ctx, statusEvent("d-2"))
	require.NoError(t, err)
	require.True(t, ok)
	q, err := reg.QueuedEvents(ctx)
	require.NoError(t, err)
	assert.Equal(t, []registry.QueuedEvent{m}, q)
	m, ok, err = reg.AcceptEventMarker(ctx, statusEvent("d-2"))
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Zero(t, m)
}

func TestAcceptEventRefusesBadInput(t *testing.T) {
	reg := newRegistry(t)
	for name, ev := range map[string]registry.Event{
		"delivery with a slash": {Source: "github", Delivery: "a/b", Type: "status", Payload: []byte(`{}`)},
		"empty delivery":        {Source: "github", Type: "status", Payload: []byte(`{}`)},
		"source with a dash":    {Source: "git-hub", Delivery: "d", Type: "status", Payload: []byte(`{}`)},
		"no type":               {Source: "github", Delivery: "d", Payload: []byte(`{}`)},
		"payload not JSON":      {Source: "github", Delivery: "d", Type: "status", Payload: []byte(`{`)},
	} {
		t.Run(name, func(t *testing.T) {
			ok, err := reg.AcceptEvent(t.Context(), ev)
			assert.False(t, ok)
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err), "%v", err)
			keys, _ := reg.Store().List(t.Context(), "index/events/")
			assert.Empty(t, keys, "nothing written")
		})
	}
}

// TestAcceptCheckedEvent: a payload its caller checked is recorded as it
// is, in place of whatever ev.Payload held; a Checked that vouches for
// nothing is refused like a payload that is not JSON, before any write.
func TestAcceptCheckedEvent(t *testing.T) {
	reg := newRegistry(t)
	ctx := t.Context()
	payload, ok := jsonscan.Check([]byte(`{"sha":"checked"}`))
	require.True(t, ok)
	ev := statusEvent("d-3")
	ev.Payload = []byte(`{`)
	ok, err := reg.AcceptCheckedEvent(ctx, ev, payload)
	require.NoError(t, err)
	require.True(t, ok)
	got, err := reg.AcceptedEvent(ctx, "github", "d-3")
	require.NoError(t, err)
	assert.JSONEq(t, `{"sha":"checked"}`, string(got.Payload))

	ok, err = reg.AcceptCheckedEvent(ctx, statusEvent("d-4"), jsonscan.Checked{})
	assert.False(t, ok)
	assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err), "%v", err)
	_, err = reg.AcceptedEvent(ctx, "github", "d-4")
	assert.ErrorIs(t, err, store.ErrNotExist, "nothing written")
}

// TestClaimEvent: one claim at a time; a lapsed claim is taken over and the
// first worker's finish is refused; a finished event is not claimed again
// and its marker is gone.
func TestClaimEvent(t *testing.T) {
	reg := newRegistry(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	_, err := reg.AcceptEvent(ctx, statusEvent("d-2"))
	require.NoError(t, err)
	q, err := reg.QueuedEvents(ctx)
	require.NoError(t, err)
	require.Len(t, q, 1)

	ev1, etag1, ok, err := reg.ClaimEvent(ctx, q[0], "w1", now, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	_, _, ok, err = reg.ClaimEvent(ctx, q[0], "w2", now.Add(30*time.Second), time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "w1's claim is live")

	ev2, etag2, ok, err := reg.ClaimEvent(ctx, q[0], "w2", now.Add(2*time.Minute), time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "w1's claim lapsed")
	assert.Equal(t, 2, ev2.Attempts)
	err = reg.FinishEvent(ctx, q[0], ev1, etag1, now.Add(2*time.Minute), "by w1")
	assert.True(t, errors.Is(err, store.ErrPrecondition), "w1 lost its claim: %v", err)
	require.NoError(t, reg.FinishEvent(ctx, q[0], ev2, etag2, now.Add(2*time.Minute), "by w2"))

	ev, _, err := reg.Event(ctx, "github", "d-2")
	require.NoError(t, err)
	assert.Equal(t, registry.EventDone, ev.State)
	assert.Equal(t, "by w2", ev.Result)
	q2, err := reg.QueuedEvents(ctx)
	require.NoError(t, err)
	assert.Empty(t, q2)
	_, _, ok, err = reg.ClaimEvent(ctx, q[0], "w3", now.Add(time.Hour), time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "done")
}

// TestReleaseEvent: a released event waits for its next attempt.
func TestReleaseEvent(t *testing.T) {
	reg := newRegistry(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	_, err := reg.AcceptEvent(ctx, statusEvent("d-3"))
	require.NoError(t, err)
	q, _ := reg.QueuedEvents(ctx)
	ev, etag, ok, err := reg.ClaimEvent(ctx, q[0], "w1", now, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, reg.ReleaseEvent(ctx, ev, etag, now.Add(time.Minute), errors.New("host down"), true))
	_, _, ok, _ = reg.ClaimEvent(ctx, q[0], "w2", now.Add(30*time.Second), time.Minute)
	assert.False(t, ok, "not due yet")
	ev, etag, ok, err = reg.ClaimEvent(ctx, q[0], "w2", now.Add(61*time.Second), time.Minute)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "host down", ev.LastError)
	assert.Equal(t, 1, ev.Failures)
	require.NoError(t, reg.ReleaseEvent(ctx, ev, etag, now.Add(2*time.Minute), errors.New("busy"), false))
	ev, _, err = reg.Event(ctx, "github", "d-3")
	require.NoError(t, err)
	assert.Equal(t, 1, ev.Failures, "waiting is no failure")
	assert.Equal(t, 2, ev.Attempts)
}

// TestOrphanEventMarker: a marker whose event was never written (the
// intake died between its two writes) is left alone while young and
// deleted once old.
func TestOrphanEventMarker(t *testing.T) {
	st := mem.New()
	reg := registry.New(st)
	ctx := t.Context()
	received := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	marker := fmt.Sprintf("index/events/queued/%020d-github-d-4", received.UnixNano())
	_, err := st.Put(ctx, marker, nil, store.Condition{})
	require.NoError(t, err)
	q, err := reg.QueuedEvents(ctx)
	require.NoError(t, err)
	require.Len(t, q, 1)
	assert.Equal(t, "d-4", q[0].Delivery)
	_, _, ok, err := reg.ClaimEvent(ctx, q[0], "w", received.Add(time.Minute), time.Minute)
	require.NoError(t, err)
	assert.False(t, ok)
	_, _, err = st.Get(ctx, marker)
	assert.NoError(t, err, "young orphan kept")
	_, _, ok, err = reg.ClaimEvent(ctx, q[0], "w", received.Add(11*time.Minute), time.Minute)
	require.NoError(t, err)
	assert.False(t, ok)
	_, _, err = st.Get(ctx, marker)
	assert.ErrorIs(t, err, store.ErrNotExist, "old orphan deleted")
}

// TestRenewEvent: a renewed claim stays live past its first term, and the
// renewing worker finishes with the renewal's ETag.
func TestRenewEvent(t *testing.T) {
	reg := newRegistry(t)
	ctx := t.Context()
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	_, err := reg.AcceptEvent(ctx, statusEvent("d-5"))
	require.NoError(t, err)
	q, _ := reg.QueuedEvents(ctx)
	ev, etag, ok, err := reg.ClaimEvent(ctx, q[0], "w1", now, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	etag, err = reg.RenewEvent(ctx, ev, etag, now.Add(50*time.Second+time.Minute))
	require.NoError(t, err)
	_, _, ok, err = reg.ClaimEvent(ctx, q[0], "w2", now.Add(90*time.Second), time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "the renewed claim is live")
	require.NoError(t, reg.FinishEvent(ctx, q[0], ev, etag, now.Add(100*time.Second), "by w1"))
	_, err = reg.RenewEvent(ctx, ev, etag, now.Add(time.Hour))
	assert.ErrorIs(t, err, store.ErrPrecondition, "finished: nothing to renew")
}

// TestFinishUnclaimedEvent: an event whose processing only read is
// recorded done in one write, without a claim, and its batch settled; of
// two replicas doing so for one delivery (in two batches) one records it,
// and the other's entry is a copy; an event claimed meanwhile is not
// recorded, and its claim's attempt goes on.
func TestFinishUnclaimedEvent(t *testing.T) {
	st := storetest.CountWrites(mem.New())
	a, b := registry.New(st), registry.New(st)
	ctx := t.Context()
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	for _, reg := range []*registry.Registry{a, b} {
		for _, id := range []string{"d-1", "d-2"} {
			ok, err := reg.AcceptEvent(ctx, statusEvent(id))
			require.NoError(t, err)
			require.True(t, ok)
		}
	}
	qa, err := a.QueuedEvents(ctx)
	require.NoError(t, err)
	qb, err := b.QueuedEvents(ctx)
	require.NoError(t, err)
	// entry is the entry of delivery in queued that is not in batch
	// notIn, and its event.
	entry := func(reg *registry.Registry, queued []registry.QueuedEvent, delivery, notIn string) (registry.QueuedEvent, registry.Event) {
		for _, q := range queued {
			if q.Delivery == delivery && q.Batch != notIn {
				ev, err := reg.QueuedEntry(ctx, q)
				require.NoError(t, err)
				return q, ev
			}
		}
		t.Fatalf("no entry of %s outside %q", delivery, notIn)
		return registry.QueuedEvent{}, registry.Event{}
	}

	q1a, ev1a := entry(a, qa, "d-1", "")
	ok, err := a.FinishUnclaimedEvent(ctx, q1a, ev1a, now, "no tracked pull request concerned")
	require.NoError(t, err)
	require.True(t, ok)
	done, _, err := a.Event(ctx, "github", "d-1")
	require.NoError(t, err)
	assert.Equal(t, registry.EventDone, done.State)
	assert.Nil(t, done.Claim)
	assert.Equal(t, 1, done.Attempts)
	assert.Equal(t, q1a.Batch, done.Batch)
	assert.Equal(t, "no tracked pull request concerned", done.Result)
	assert.Equal(t, 1, st.Count("events/github/d-1.json"), "one write: no claim, no finish")
	assert.Contains(t, listBatches(t, st), q1a.Batch, "its record stays in the log while another record of its segment (d-2) is open")

	// b's copy of d-1 (its other batch) is not recorded again: a copy.
	q1b, ev1b := entry(b, qb, "d-1", q1a.Batch)
	ok, err = b.FinishUnclaimedEvent(ctx, q1b, ev1b, now, "by b")
	require.NoError(t, err)
	assert.False(t, ok, "the record exists")
	copyEv, _, ok, err := b.ClaimEvent(ctx, q1b, "wb", now, time.Minute)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.True(t, q1b.Gone(copyEv), "a copy, settled")
	assert.Equal(t, 1, st.Count("events/github/d-1.json"))

	// d-2: b claims it (its processing has effects); a's unclaimed finish
	// finds the claim and writes nothing.
	q2b, _ := entry(b, qb, "d-2", "")
	claimed, etag, ok, err := b.ClaimEvent(ctx, q2b, "wb", now, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	q2a, ev2a := entry(a, qa, "d-2", q2b.Batch)
	require.NotEqual(t, q2b.Batch, q2a.Batch, "a's entry is of a's batch")
	ok, err = a.FinishUnclaimedEvent(ctx, q2a, ev2a, now, "by a")
	require.NoError(t, err)
	assert.False(t, ok, "claimed by b")
	require.NoError(t, b.FinishEvent(ctx, q2b, claimed, etag, now, "by b"))
	rec, _, err := a.Event(ctx, "github", "d-2")
	require.NoError(t, err)
	assert.Equal(t, "by b", rec.Result)

	// Mismatched entry and event are refused before any write.
	_, err = a.FinishUnclaimedEvent(ctx, q1a, ev2a, now, "x")
	assert.ErrorContains(t, err, "QueuedEntry")
}
