package registry

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// appendBuffers is a store that notes the buffer of each append, and
// fails the appends while fail is set (after the data was read, as a
// request cut short may have).
type appendBuffers struct {
	store.Store
	fail    bool
	buffers []*byte
}

func (s *appendBuffers) Append(ctx context.Context, key string, data []byte, at int64) error {
	s.buffers = append(s.buffers, &data[:1][0])
	if s.fail {
		return errors.New("append cut short")
	}
	return s.Store.Append(ctx, key, data, at)
}

func acceptOne(t *testing.T, r *Registry, id string) error {
	t.Helper()
	_, err := r.AcceptEvent(t.Context(), Event{Source: "github", Delivery: id, Type: "status", Payload: []byte(`{"sha":"` + id + `"}`), ReceivedAt: time.Now().UTC()})
	return err
}

// TestIntakeReusesItsRecordBuffer: each batch's record is encoded in the
// buffer of the one before (a record per batch was a quarter of the bytes
// intake allocated), and each record reads back as written.
func TestIntakeReusesItsRecordBuffer(t *testing.T) {
	st := &appendBuffers{Store: mem.New()}
	r := New(st)
	for _, id := range []string{"d-1", "d-2", "d-3"} {
		require.NoError(t, acceptOne(t, r, id))
	}
	require.Len(t, st.buffers, 3)
	assert.Same(t, st.buffers[0], st.buffers[1])
	assert.Same(t, st.buffers[1], st.buffers[2])
	queued, err := r.QueuedEvents(t.Context())
	require.NoError(t, err)
	require.Len(t, queued, 3)
	for i, q := range queued {
		events, err := r.readBatch(t.Context(), q.Batch)
		require.NoError(t, err)
		require.Len(t, events, 1)
		assert.Equal(t, []string{"d-1", "d-2", "d-3"}[i], events[0].Delivery)
		assert.JSONEq(t, `{"sha":"`+events[0].Delivery+`"}`, string(events[0].Payload))
	}
}

// TestRecordBufferDroppedAfterAFailedAppend: the buffer of an append that
// failed is not used again (the store may still read it).
func TestRecordBufferDroppedAfterAFailedAppend(t *testing.T) {
	st := &appendBuffers{Store: mem.New()}
	r := New(st)
	require.NoError(t, acceptOne(t, r, "d-1"))
	st.fail = true
	require.Error(t, acceptOne(t, r, "d-2"))
	st.fail = false
	require.NoError(t, acceptOne(t, r, "d-3"))
	require.Len(t, st.buffers, 3)
	assert.Same(t, st.buffers[0], st.buffers[1], "reused until the append failed")
	assert.NotSame(t, st.buffers[1], st.buffers[2], "a new buffer after the failure")
}

// segmentReads counts the reads of intake log segments.
type segmentReads struct {
	store.Store
	reads int
}

func (s *segmentReads) Get(ctx context.Context, key string) ([]byte, string, error) {
	if strings.HasPrefix(key, eventLogPrefix) {
		s.reads++
	}
	return s.Store.Get(ctx, key)
}

// TestWorkerReadsASegmentOnce: when the payloads of a segment's batches
// are no longer kept (a backlog past batchCacheBytes), the workers taking
// its entries one after the other read the segment once, not once per
// batch (4 MiB each time); a record appended after that read is read from
// the store.
func TestWorkerReadsASegmentOnce(t *testing.T) {
	st := &segmentReads{Store: mem.New()}
	r := New(st)
	for _, id := range []string{"d-1", "d-2", "d-3"} {
		require.NoError(t, acceptOne(t, r, id))
	}
	dropPayloads := func() {
		r.batches.mu.Lock()
		defer r.batches.mu.Unlock()
		for _, kb := range r.batches.batches {
			for i := range kb.events {
				kb.events[i].Payload = nil
			}
			kb.payloads = 0
		}
	}
	dropPayloads()
	queued, err := r.QueuedEvents(t.Context())
	require.NoError(t, err)
	require.Len(t, queued, 3)
	segment, _, _ := splitRecordKey(queued[0].Batch)
	reads := st.reads
	entry := func(q QueuedEvent) {
		t.Helper()
		ev, err := r.QueuedEntry(t.Context(), q)
		require.NoError(t, err)
		assert.JSONEq(t, `{"sha":"`+q.Delivery+`"}`, string(ev.Payload))
	}
	for _, q := range queued[:2] {
		entry(q)
	}
	assert.Equal(t, 1, st.reads-reads, "one read of the segment for two batches")

	require.NoError(t, acceptOne(t, r, "d-4"))
	dropPayloads()
	queued, err = r.QueuedEvents(t.Context())
	require.NoError(t, err)
	require.Len(t, queued, 4)
	reads = st.reads
	entry(queued[2])
	assert.Equal(t, 0, st.reads-reads, "d-3 was in the data read")
	entry(queued[3])
	assert.Equal(t, 1, st.reads-reads, "d-4 was appended after it: read again")
	last, _, _ := splitRecordKey(queued[3].Batch)
	assert.Equal(t, segment, last, "all four in one segment")

	r.batches.forgetSegment(segment)
	assert.Nil(t, r.batches.keptSegment(segment), "a deleted segment's data is let go")
}

// TestHoldsAllocatesNothing: intake's look for a delivery among the known
// batches (every delivery makes one) allocates nothing; a known one is
// found, and forgotten with its batch.
func TestHoldsAllocatesNothing(t *testing.T) {
	r := New(mem.New())
	const id = "72d3162e-cc78-11e3-81ab-4c9367dc0958" // as GitHub's X-GitHub-Delivery
	require.NoError(t, acceptOne(t, r, id))
	delivery := strings.Clone(id)
	require.True(t, r.batches.holds("github", delivery))
	assert.False(t, r.batches.holds("github", "d-2"))
	assert.Zero(t, testing.AllocsPerRun(100, func() { r.batches.holds("github", delivery) }))
	queued, err := r.QueuedEvents(t.Context())
	require.NoError(t, err)
	require.Len(t, queued, 1)
	r.batches.mu.Lock()
	r.batches.forget(queued[0].Batch, r.batches.batches[queued[0].Batch])
	r.batches.mu.Unlock()
	assert.False(t, r.batches.holds("github", delivery), "forgotten with its batch")
}

// TestKnownBatchesHoldLittlePerEntry: what a process keeps for each
// queued entry once its batch's payloads are dropped (a backlog past
// batchCacheBytes, as a burst that lasts makes) is the entry itself, its
// delivery's place in the index holds reads, and a share of its batch's
// bookkeeping: about 240 bytes. An entry used to keep, besides, a copy
// of its event, a name (a string) and a place in a map: 496 bytes on
// 1d381f0, for as long as the backlog lasted, each marked by every
// collection.
func TestKnownBatchesHoldLittlePerEntry(t *testing.T) {
	const batches, perBatch = 4000, 5 // a burst at 5,000/s writes batches of about five
	// One payload for every event, counted by each: the first batches
	// fill batchCacheBytes, and the others' payloads are dropped.
	payload := make([]byte, batchCacheBytes/16)
	// The names any layout keeps: the batches' keys, the deliveries' ids.
	keys := make([]string, batches)
	ids := make([]string, batches*perBatch)
	segment := fmt.Sprintf("%s%020d-%s", eventLogPrefix, time.Now().UnixNano(), "0b6f1f2e-1a8c-4cbb-9d3e-2f0d5b8f2c11")
	for b := range keys {
		keys[b] = recordKey(segment, int64(b)*50_000)
	}
	for i := range ids {
		ids[i] = fmt.Sprintf("5c8e7d2a-%08d-b3b5-6f1e4f0c9a1d", i)
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	c := newEventBatches()
	before := heap()
	for b, key := range keys {
		events := make([]batchEvent, perBatch)
		for i := range events {
			events[i] = batchEvent{Source: "github", Delivery: ids[b*perBatch+i], Type: "status", ReceivedAt: time.Now().UTC(),
				OrderKey: "https://github.com/dotnet/runtime", Payload: payload}
		}
		c.add(key, events, 1)
	}
	perEntry := float64(heap()-before) / (batches * perBatch)
	runtime.KeepAlive(c)
	runtime.KeepAlive(ids)
	t.Logf("%.0f bytes per queued entry", perEntry)
	assert.LessOrEqual(t, perEntry, 260.0)
}

// TestListingsReferToTheEntries: a listing hands out references to the
// entries the process holds, not copies: the dispatcher keeps a listing
// as its view of the queue, and a copy of each entry was 112 bytes and
// five pointers more for every queued delivery.
func TestListingsReferToTheEntries(t *testing.T) {
	r := New(mem.New())
	for _, id := range []string{"d-1", "d-2", "d-3"} {
		require.NoError(t, acceptOne(t, r, id))
	}
	first, err := r.QueuedRefs(t.Context())
	require.NoError(t, err)
	again, err := r.QueuedRefs(t.Context())
	require.NoError(t, err)
	require.Len(t, first, 3)
	require.Len(t, again, 3)
	for i := range first {
		assert.Same(t, first[i].q, again[i].q, "entry %d", i)
		assert.Equal(t, []string{"d-1", "d-2", "d-3"}[i], first[i].Event().Delivery)
	}
}
