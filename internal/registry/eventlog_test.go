package registry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// segments lists the intake log's segments in st.
func segments(t *testing.T, st store.Store) []string {
	t.Helper()
	keys, err := st.List(t.Context(), logPrefix)
	require.NoError(t, err)
	return keys
}

// processAll takes every queued entry of reg once: claims it and finishes
// it, or settles it (done, or a copy); it returns the deliveries it
// finished.
func processAll(t *testing.T, reg *registry.Registry, now time.Time) []string {
	t.Helper()
	q, err := reg.QueuedEvents(t.Context())
	require.NoError(t, err)
	var finished []string
	for _, e := range q {
		ev, etag, ok, err := reg.ClaimEvent(t.Context(), e, "w", now, time.Minute)
		require.NoError(t, err)
		if !ok {
			continue
		}
		require.NoError(t, reg.FinishEvent(t.Context(), e, ev, etag, now, "done"))
		finished = append(finished, e.Delivery)
	}
	return finished
}

// TestLogSegmentEnds: past 4 MiB a writer marks its record the segment's
// last and appends the next batch to a new segment; another process lists
// every entry of both, and deletes each segment once all its records are
// settled.
func TestLogSegmentEnds(t *testing.T) {
	st := mem.New()
	writer := registry.New(st)
	pad := strings.Repeat("x", 1<<20)
	var ids []string
	for i := range 6 {
		id := fmt.Sprintf("d-%d", i)
		ids = append(ids, id)
		ev := statusEvent(id)
		ev.Payload = []byte(`{"sha":"abc","pad":"` + pad + `"}`)
		ok, err := writer.AcceptEvent(t.Context(), ev)
		require.NoError(t, err)
		require.True(t, ok)
	}
	segs := segments(t, st)
	require.Len(t, segs, 2, "four 1 MiB records reach the end of the first segment")
	first, _, err := st.Get(t.Context(), segs[0])
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(first), 4<<20)
	assert.Less(t, len(first), 5<<20)

	other := registry.New(st)
	assert.ElementsMatch(t, ids, processAll(t, other, time.Now()))
	assert.Empty(t, segments(t, st), "each segment deleted once its records are settled")
}

// TestWriterStartsANewSegment: a writer whose segment was deleted (all of
// it settled) or is no longer as long as it knows (a torn append) appends
// its next batch to a new segment, and the batch is accepted.
func TestWriterStartsANewSegment(t *testing.T) {
	st := mem.New()
	writer, worker := registry.New(st), registry.New(st)
	ok, err := writer.AcceptEvent(t.Context(), statusEvent("d-1"))
	require.NoError(t, err)
	require.True(t, ok)
	seg1 := segments(t, st)
	require.Len(t, seg1, 1)
	assert.Equal(t, []string{"d-1"}, processAll(t, worker, time.Now()))
	assert.Empty(t, segments(t, st), "settled and deleted")

	ok, err = writer.AcceptEvent(t.Context(), statusEvent("d-2"))
	require.NoError(t, err)
	require.True(t, ok, "accepted into a new segment")
	seg2 := segments(t, st)
	require.Len(t, seg2, 1)
	assert.NotEqual(t, seg1, seg2, "a deleted segment is never written again")

	// A torn append (a crash of another writer's machine, or a test)
	// leaves the segment longer than the writer knows.
	data, _, err := st.Get(t.Context(), seg2[0])
	require.NoError(t, err)
	require.NoError(t, st.Append(t.Context(), seg2[0], []byte("mlr1\x00\x00\x00\x40"), int64(len(data))))
	ok, err = writer.AcceptEvent(t.Context(), statusEvent("d-3"))
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, segments(t, st), 2, "d-3 in a new segment")
	assert.ElementsMatch(t, []string{"d-2", "d-3"}, processAll(t, worker, time.Now()), "the torn tail is not read")
	assert.Empty(t, segments(t, st), "both deleted: the torn tail was never accepted")
}

// deleteHook runs before each delete of a log segment.
type deleteHook struct {
	store.Store
	before func()
}

func (d *deleteHook) Delete(ctx context.Context, key, ifMatch string) error {
	if strings.HasPrefix(key, logPrefix) && d.before != nil {
		before := d.before
		d.before = nil
		before()
	}
	return d.Store.Delete(ctx, key, ifMatch)
}

// TestSegmentDeleteLosesNoRecordAppendedMeanwhile: a worker that settled
// every record it read of a segment deletes it under that read's ETag; a
// record the writer appends between the read and the delete makes the
// delete fail, and the record is listed and processed.
func TestSegmentDeleteLosesNoRecordAppendedMeanwhile(t *testing.T) {
	hook := &deleteHook{Store: mem.New()}
	writer, worker := registry.New(hook), registry.New(hook)
	ok, err := writer.AcceptEvent(t.Context(), statusEvent("d-1"))
	require.NoError(t, err)
	require.True(t, ok)
	hook.before = func() {
		ok, err := writer.AcceptEvent(context.Background(), statusEvent("d-2"))
		require.NoError(t, err)
		require.True(t, ok)
	}
	assert.Equal(t, []string{"d-1"}, processAll(t, worker, time.Now()))
	require.Nil(t, hook.before, "the worker tried to delete the segment")
	batches, err := registry.StoredBatches(t.Context(), hook)
	require.NoError(t, err)
	var held []string
	for _, ids := range batches {
		held = append(held, ids...)
	}
	assert.ElementsMatch(t, []string{"d-1", "d-2"}, held, "the segment stays, d-2 in it")
	assert.Equal(t, []string{"d-2"}, processAll(t, worker, time.Now()))
	assert.Empty(t, segments(t, hook))
}

// TestSegmentWithoutRecords: a segment holding no complete record (its
// writer died creating it, or in its first append) is deleted once
// eventOrphanAge (10 minutes) old, not before: its writer may be
// appending.
func TestSegmentWithoutRecords(t *testing.T) {
	st := mem.New()
	created := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	key := fmt.Sprintf("%s%020d-dead", logPrefix, created.UnixNano())
	require.NoError(t, st.Append(t.Context(), key, []byte("mlr1\x00"), 0))
	for _, tc := range []struct {
		at   time.Time
		kept bool
	}{{created.Add(time.Minute), true}, {created.Add(11 * time.Minute), false}} {
		reg := registry.New(st, registry.WithClock(func() time.Time { return tc.at }))
		q, err := reg.QueuedEvents(t.Context())
		require.NoError(t, err)
		assert.Empty(t, q)
		if tc.kept {
			assert.Equal(t, []string{key}, segments(t, st), "young: kept")
		} else {
			assert.Empty(t, segments(t, st), "old: deleted")
		}
	}
}

// TestBatchDocumentOfThePreviousLayout: a batch document the version
// before the intake log wrote is listed, processed and deleted as before:
// an upgrade loses no queued event.
func TestBatchDocumentOfThePreviousLayout(t *testing.T) {
	st := mem.New()
	key := "index/events/batches/01796615169696801249-4c3d4e5f-0000-4000-8000-000000000001.json"
	doc := `{"events":[{"source":"github","delivery":"d-1","type":"status","receivedAt":"2026-12-06T09:00:00Z","payload":{"sha":"abc"}},` +
		`{"source":"github","delivery":"d-2","type":"status","receivedAt":"2026-12-06T09:00:00.1Z","orderKey":"https://github.com/a/b","payload":{"sha":"def"}}]}`
	_, err := st.Put(t.Context(), key, []byte(doc), store.Condition{CreateOnly: true})
	require.NoError(t, err)
	reg := registry.New(st)
	ev, err := reg.AcceptedEvent(t.Context(), "github", "d-2")
	require.NoError(t, err)
	assert.Equal(t, key, ev.Batch)
	assert.JSONEq(t, `{"sha":"def"}`, string(ev.Payload))
	assert.Equal(t, []string{"d-1", "d-2"}, processAll(t, reg, time.Now()))
	_, _, err = st.Get(t.Context(), key)
	assert.ErrorIs(t, err, store.ErrNotExist, "deleted once settled")
}

// TestSegmentKeptForARecordTheWorkerHasNotListed: a worker that settled
// every record it listed of a segment reads it before deleting it; a record
// appended since its listing keeps the segment, and is listed next.
func TestSegmentKeptForARecordTheWorkerHasNotListed(t *testing.T) {
	st := mem.New()
	writer, worker := registry.New(st), registry.New(st)
	now := time.Now()
	ok, err := writer.AcceptEvent(t.Context(), statusEvent("d-1"))
	require.NoError(t, err)
	require.True(t, ok)
	q, err := worker.QueuedEvents(t.Context())
	require.NoError(t, err)
	require.Len(t, q, 1)
	ok, err = writer.AcceptEvent(t.Context(), statusEvent("d-2"))
	require.NoError(t, err)
	require.True(t, ok)
	ev, etag, ok, err := worker.ClaimEvent(t.Context(), q[0], "w", now, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, worker.FinishEvent(t.Context(), q[0], ev, etag, now, "done"))
	require.Len(t, segments(t, st), 1, "kept: d-2 is in it")
	assert.Equal(t, []string{"d-2"}, processAll(t, worker, now))
	assert.Empty(t, segments(t, st))
}

// landsThenFails appends, then, while fail is set, says the append failed
// (an answer lost after it took effect).
type landsThenFails struct {
	store.Store
	fail bool
}

func (s *landsThenFails) Append(ctx context.Context, key string, data []byte, at int64) error {
	if err := s.Store.Append(ctx, key, data, at); err != nil || !s.fail {
		return err
	}
	return errors.New("append: connection reset (it took effect)")
}

// TestFailedAppendThatTookEffect: a batch whose append failed is answered
// as failed, but its record may be in the segment all the same; the
// process that wrote it lists it as any other's, processes it, and
// deletes the segment once all is settled.
func TestFailedAppendThatTookEffect(t *testing.T) {
	st := &landsThenFails{Store: mem.New()}
	created := time.Now()
	reg := registry.New(st, registry.WithClock(func() time.Time { return created }))
	ok, err := reg.AcceptEvent(t.Context(), statusEvent("d-1"))
	require.NoError(t, err)
	require.True(t, ok)
	st.fail = true
	_, err = reg.AcceptEvent(t.Context(), statusEvent("d-2"))
	require.Error(t, err, "answered 503: the sender redelivers")
	st.fail = false
	assert.ElementsMatch(t, []string{"d-1", "d-2"}, processAll(t, reg, time.Now()), "the record that took effect is listed")
	assert.Empty(t, segments(t, st))
}

// TestOwnSegmentKeptWhileAppending: a process does not delete the segment
// its intake appends to when it has settled every record in it, so the
// next batch needs no new segment; another replica that settled them all
// deletes it, and the writer starts a new one.
func TestOwnSegmentKeptWhileAppending(t *testing.T) {
	st := mem.New()
	reg := registry.New(st)
	for _, id := range []string{"d-1", "d-2"} {
		ok, err := reg.AcceptEvent(t.Context(), statusEvent(id))
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, []string{id}, processAll(t, reg, time.Now()))
	}
	segs := segments(t, st)
	require.Len(t, segs, 1, "both batches in one segment, kept")
	other := registry.New(st)
	assert.Empty(t, processAll(t, other, time.Now()), "done already")
	assert.Empty(t, segments(t, st), "deleted by the other replica")
	ok, err := reg.AcceptEvent(t.Context(), statusEvent("d-3"))
	require.NoError(t, err)
	require.True(t, ok)
	assert.NotEqual(t, segs, segments(t, st))
}
