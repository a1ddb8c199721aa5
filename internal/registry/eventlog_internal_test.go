package registry

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// frames returns a segment of records with payloads, the last one marked.
func frames(payloads ...string) []byte {
	var seg []byte
	for i, p := range payloads {
		frame := append(make([]byte, recordHeader), p...)
		frameRecord(frame, i == len(payloads)-1)
		seg = append(seg, frame...)
	}
	return seg
}

func TestReadRecords(t *testing.T) {
	seg := frames(`{"events":[]}`, `second`, `third, the last`)
	second := int64(recordHeader + len(`{"events":[]}`))
	third := second + int64(recordHeader+len(`second`))
	flip := func(at int64) []byte {
		b := bytes.Clone(seg)
		b[at] ^= 1
		return b
	}
	for _, tc := range []struct {
		name    string
		data    []byte
		from    int64
		offsets []int64
		end     int64
	}{
		{"whole", seg, 0, []int64{0, second, third}, int64(len(seg))},
		{"from the second", seg, second, []int64{second, third}, int64(len(seg))},
		{"last cut short", seg[:len(seg)-1], 0, []int64{0, second}, third},
		{"header cut short", seg[:third+5], 0, []int64{0, second}, third},
		{"a payload byte changed", flip(second + recordHeader), 0, []int64{0}, second},
		{"the length changed", flip(second + 8), 0, []int64{0}, second},
		{"the magic changed", flip(second), 0, []int64{0}, second},
		{"an unknown flag", flip(second + 4), 0, []int64{0}, second},
		{"the checksum changed", flip(third + 12), 0, []int64{0, second}, third},
		{"zeros after a crash", append(bytes.Clone(seg[:third]), make([]byte, 40)...), 0, []int64{0, second}, third},
		{"empty", nil, 0, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			records, end := readRecords(tc.data, tc.from)
			var offsets []int64
			for _, r := range records {
				offsets = append(offsets, r.offset)
			}
			assert.Equal(t, tc.offsets, offsets)
			assert.Equal(t, tc.end, end)
		})
	}
	records, _ := readRecords(seg, 0)
	require.Len(t, records, 3)
	assert.Equal(t, []bool{false, false, true}, []bool{records[0].last, records[1].last, records[2].last})
	assert.Equal(t, "second", string(records[1].payload))
}

// FuzzReadRecords: any bytes read as records from any offset give records
// that follow each other from there, each the frame its payload and flag
// make, and an end no further than the data.
func FuzzReadRecords(f *testing.F) {
	f.Add(frames(`{"events":[]}`, `x`), int64(0))
	f.Add(frames(`a`, `bb`, `ccc`)[:30], int64(14))
	f.Add([]byte("mlr1\x00\x00\x00\x00\x01"), int64(0))
	f.Fuzz(func(t *testing.T, data []byte, from int64) {
		records, end := readRecords(data, from)
		if len(records) == 0 {
			if end != from {
				t.Fatalf("no record, end %d, want from %d", end, from)
			}
			return
		}
		at := from
		for _, r := range records {
			if r.offset != at {
				t.Fatalf("record at %d, want %d", r.offset, at)
			}
			frame := append(make([]byte, recordHeader), r.payload...)
			frameRecord(frame, r.last)
			if !bytes.Equal(frame, data[at:at+int64(len(frame))]) {
				t.Fatalf("record at %d is not the frame of its payload", at)
			}
			at += int64(len(frame))
		}
		if end != at || end > int64(len(data)) {
			t.Fatalf("end %d, records end at %d, data %d bytes", end, at, len(data))
		}
	})
}

// appendOne appends a batch of one delivery with payload as the intake
// does, and makes it known as the intake does before answering; it
// returns the batch.
func appendOne(t *testing.T, r *Registry, id string, payload []byte) (*knownBatch, int64) {
	t.Helper()
	events := []batchEvent{{Source: "github", Delivery: id, Type: "status", ReceivedAt: time.Now().UTC(), Payload: payload}}
	frame, err := encodeBatch(nil, recordHeader, events)
	require.NoError(t, err)
	key, end, _, err := r.appendBatch(t.Context(), frame)
	require.NoError(t, err)
	kb := newKnownBatch(key, events, r.batches.current())
	r.batches.announce(key, kb)
	return kb, end
}

// learn is the intake learning its batch after answering.
func learn(r *Registry, kb *knownBatch, end int64, last bool) {
	key := kb.entries[0].Batch
	r.batches.insert(key, kb)
	segment, offset, _ := splitRecordKey(key)
	r.batches.addRecord(segment, offset, end, last, true, kb.gen)
}

// TestSettleSegmentWhileTheWriterLearnsARecord replays a worker settling
// the last record it knows of its process's segment while the writer
// appends the segment's last record (answered 202; from then on the
// process no longer appends to the segment) and learns it, between the
// worker's two steps: the segment must stay.
func TestSettleSegmentWhileTheWriterLearnsARecord(t *testing.T) {
	st := mem.New()
	r := New(st)
	kb0, end0 := appendOne(t, r, "d-0", []byte(`{}`))
	learn(r, kb0, end0, false)
	segment, _, _ := splitRecordKey(kb0.entries[0].Batch)
	require.True(t, r.batches.settle(kb0.entries[0]))
	require.True(t, r.batches.settleRecord(segment, 0), "the worker saw every record settled")
	kb1, end1 := appendOne(t, r, "d-1", []byte(`"`+strings.Repeat("x", segmentMaxBytes)+`"`))
	learn(r, kb1, end1, true)
	require.Empty(t, r.intake.segment, "d-1 ended the segment")
	require.NoError(t, r.settleSegment(t.Context(), segment))
	_, _, err := st.Get(t.Context(), segment)
	require.NoError(t, err, "the segment holds d-1, answered 202 and not settled")
}

// TestSettleABatchOfManyEntries: a batch of more entries than a word of
// its bitmap holds is forgotten when its last open entry is settled, in
// any word, and not before; an entry settled twice counts once.
func TestSettleABatchOfManyEntries(t *testing.T) {
	const n = 130 // three words
	events := make([]batchEvent, n)
	for i := range events {
		events[i] = batchEvent{Source: "github", Delivery: fmt.Sprintf("d-%03d", i), Type: "status", ReceivedAt: time.Now().UTC()}
	}
	c := newEventBatches()
	const key = "index/events/batches/many"
	for _, last := range []int{0, 100, n - 1} {
		c.add(key, events, 1)
		kb := c.batches[key]
		for i := range n {
			if i != last {
				require.False(t, c.settle(kb.entries[i]), "entry %d of %d, %d open", i, n, last)
				require.False(t, c.settle(kb.entries[i]), "entry %d again", i)
			}
		}
		require.True(t, c.holds("github", events[last].Delivery))
		require.True(t, c.settle(kb.entries[last]), "the last open entry, %d", last)
		require.NotContains(t, c.batches, key)
		require.False(t, c.holds("github", events[last].Delivery))
	}
}
