package registry

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/maestroplusplus/maestro/internal/store"
)

// The intake log: where a process writes its batches.
//
// Each process appends its batches, one record each, to a log segment of
// its own, index/events/log/{created, 20-digit nanoseconds}-{uuid}, with
// the store's Append: on the local store one write and one fdatasync into
// a file that exists already, instead of a new file created, fsync'd and
// renamed for each batch (ext4 without a journal makes every create pay for
// the inodes freed in the last minutes, docs/performance.md). A batch's key
// is its record's place, {segment}@{offset}, and everything eventbatch.go
// says of a batch holds of a record: its entries, the event records that
// name it, its settling.
//
// A record is a frame: 4 bytes of magic, a flags byte (recordLast: the
// segment's last record), the payload's length (4 bytes, big-endian), the
// CRC-32C of the flags, the length and the payload, then the payload, a
// batch document. A reader takes the frames from the start and stops at
// the first one that is incomplete or fails its check: the contract lets
// a reader see an append in part, while it is written or, after a crash
// during it, for good.
//
// Why concurrent replicas and a crash at any point leave a consistent
// state (in addition to eventbatch.go's reasons):
//   - One writer per segment: only the process that made a segment's key
//     appends to it, one append at a time (the intake writes one batch at
//     a time), each at the length it knows. It answers a batch's senders
//     only after the append returned, so the record is durable first.
//   - A failed append (a crash, a store error, a torn write) leaves the
//     segment's length where no further append of its writer matches; the
//     writer never appends to that segment again and writes the batch to a
//     new one (when the store said no: deleted, or another length) or
//     fails it (the senders are answered 503 and redeliver). A torn tail
//     was never answered 202, and readers never read past it.
//   - Deleting a segment: a process that settled every record it knows of
//     a segment (and does not append to it itself: its next batch would
//     need a new segment) reads the segment, and deletes it only if the
//     read shows no complete record it does not know, and only under that
//     read's ETag:
//     a record appended since changes the ETag, so the delete fails and the
//     record is listed. A writer whose segment was deleted gets ErrNotExist
//     from its next append (the length condition), which changed nothing,
//     and writes that batch to a new segment; a segment is never recreated.
//   - A crash between creating a segment and its first record, or a writer
//     that dies with a torn first record, leaves a segment without a
//     complete record: it is deleted the same way once eventOrphanAge old.
//   - Two replicas list the same segment and take its entries as they take
//     any batch's: one create of each event's record wins.

const (
	eventLogPrefix = "index/events/log/"
	// segmentMaxBytes is the length past which a writer ends its segment
	// (the record that passes it is marked last) and starts a new one.
	segmentMaxBytes = 4 << 20

	recordMagic  = "mlr1"
	recordHeader = 13 // magic, flags, length, CRC
	recordLast   = 1  // flags: the segment's last record
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// frameRecord fills in the header of frame, whose first recordHeader bytes
// are reserved for it and the rest is the payload.
func frameRecord(frame []byte, last bool) {
	copy(frame, recordMagic)
	frame[4] = 0
	if last {
		frame[4] = recordLast
	}
	binary.BigEndian.PutUint32(frame[5:9], uint32(len(frame)-recordHeader))
	crc := crc32.Update(0, castagnoli, frame[4:9])
	binary.BigEndian.PutUint32(frame[9:13], crc32.Update(crc, castagnoli, frame[recordHeader:]))
}

// logRecord is one record of a segment.
type logRecord struct {
	offset  int64
	last    bool
	payload []byte
}

// readRecords returns the complete records of a segment's data from the
// offset from (a record's start), and where the readable part ends: at the
// first frame that is incomplete or fails its check, or at the end of data.
func readRecords(data []byte, from int64) ([]logRecord, int64) {
	var out []logRecord
	at := from
	for {
		rec, ok := readRecord(data, at)
		if !ok {
			return out, at
		}
		out = append(out, rec)
		at += recordHeader + int64(len(rec.payload))
	}
}

// readRecord returns the record at offset at of a segment's data; false
// when the frame there is incomplete or fails its check.
func readRecord(data []byte, at int64) (logRecord, bool) {
	if at < 0 || at > int64(len(data)) {
		return logRecord{}, false
	}
	rest := data[at:]
	if len(rest) < recordHeader || string(rest[:4]) != recordMagic || rest[4]&^recordLast != 0 {
		return logRecord{}, false
	}
	n := int64(binary.BigEndian.Uint32(rest[5:9]))
	if n > int64(len(rest)-recordHeader) {
		return logRecord{}, false
	}
	crc := crc32.Update(0, castagnoli, rest[4:9])
	if crc32.Update(crc, castagnoli, rest[recordHeader:recordHeader+n]) != binary.BigEndian.Uint32(rest[9:13]) {
		return logRecord{}, false
	}
	return logRecord{offset: at, last: rest[4] == recordLast, payload: rest[recordHeader : recordHeader+n]}, true
}

// recordKey is the batch key of the record at offset in segment.
func recordKey(segment string, offset int64) string {
	return segment + "@" + strconv.FormatInt(offset, 10)
}

// splitRecordKey is recordKey's inverse; false for a key of a batch
// document.
func splitRecordKey(key string) (segment string, offset int64, ok bool) {
	if !strings.HasPrefix(key, eventLogPrefix) {
		return "", 0, false
	}
	segment, off, found := strings.Cut(key, "@")
	n, err := strconv.ParseInt(off, 10, 64)
	return segment, n, found && err == nil && n >= 0
}

// segmentCreated is the time in a segment's key (its writer's clock).
func segmentCreated(segment string) (time.Time, bool) {
	nanos, _, ok := strings.Cut(strings.TrimPrefix(segment, eventLogPrefix), "-")
	n, err := strconv.ParseInt(nanos, 10, 64)
	return time.Unix(0, n), ok && err == nil
}

// appendBatch appends a record holding the batch document in frame (after
// recordHeader reserved bytes) to this process's segment, and returns the
// record's key and whether it ended the segment. The caller holds the
// intake's writing token: one append at a time.
func (r *Registry) appendBatch(ctx context.Context, frame []byte) (string, int64, bool, error) {
	in := r.intake
	for attempt := 0; ; attempt++ {
		if in.segment == "" {
			in.segment = fmt.Sprintf("%s%020d-%s", eventLogPrefix, r.now().UnixNano(), uuid.NewString())
			in.length = 0
			r.batches.setAppending(in.segment)
		}
		segment, at := in.segment, in.length
		last := at+int64(len(frame)) >= segmentMaxBytes
		frameRecord(frame, last)
		err := r.st.Append(ctx, segment, frame, at)
		if err == nil {
			in.length += int64(len(frame))
			if last {
				in.segment = ""
				r.batches.setAppending("")
			}
			return recordKey(segment, at), in.length, last, nil
		}
		// Never append to this segment again: its length may no longer be
		// what this process knows. An append that failed may have taken
		// effect all the same: the segment is read as another process's
		// from now on, so a record there is listed.
		in.segment = ""
		r.batches.disown(segment)
		if attempt == 0 && (errors.Is(err, store.ErrNotExist) || errors.Is(err, store.ErrPrecondition)) {
			continue // deleted once settled (or not as long as known): a new segment
		}
		return "", 0, false, fmt.Errorf("event log %s: %w", segment, err)
	}
}

// logBatch is a record of a segment and the batch it holds.
type logBatch struct {
	key    string
	record logRecord
	events []batchEvent
}

// readSegment reads the records of segment from offset from and decodes
// their batches, with the ETag of the read and where its readable part
// ends.
func (r *Registry) readSegment(ctx context.Context, segment string, from int64) ([]logBatch, int64, string, error) {
	data, etag, err := r.st.Get(ctx, segment)
	if err != nil {
		return nil, 0, "", fmt.Errorf("event log %s: %w", segment, err)
	}
	records, end := readRecords(data, from)
	batches := make([]logBatch, len(records))
	for i, rec := range records {
		key := recordKey(segment, rec.offset)
		events, err := decodeBatch(rec.payload, key)
		if err != nil {
			return nil, 0, "", err
		}
		batches[i] = logBatch{key: key, record: rec, events: events}
	}
	return batches, end, etag, nil
}

// readLogBatch reads the batch of the record at offset of segment.
//
// The segment's data is kept for the next read (one segment at a time):
// workers take the oldest events first, so under a backlog longer than
// the payloads a process keeps (batchCacheBytes) they read the records of
// one segment one after the other, and read the whole segment (up to
// 4 MiB) for each. A record never changes once complete (a segment only
// grows, and is never created again under its name), so the kept data
// answers for every record complete in it.
func (r *Registry) readLogBatch(ctx context.Context, segment string, offset int64) ([]batchEvent, error) {
	key := recordKey(segment, offset)
	if data := r.batches.keptSegment(segment); data != nil {
		if rec, ok := readRecord(data, offset); ok {
			return decodeBatch(rec.payload, key)
		}
	}
	data, _, err := r.st.Get(ctx, segment)
	if err != nil {
		return nil, fmt.Errorf("event log %s: %w", segment, err)
	}
	rec, ok := readRecord(data, offset)
	if !ok {
		return nil, fmt.Errorf("event log %s: no complete record at %d", segment, offset)
	}
	r.batches.keepSegment(segment, data)
	return decodeBatch(rec.payload, key)
}

// listSegment adds to out the open entries of segment's records, reading
// the records this process does not know yet, and deletes the segment when
// every record in it is settled here (or, once eventOrphanAge old, it holds
// none).
func (r *Registry) listSegment(ctx context.Context, out []QueuedRef, segment string, gen uint64, now time.Time) ([]QueuedRef, error) {
	from, complete := r.batches.segmentKnown(segment)
	if complete {
		// Known whole; settled here and not deleted yet (a delete that
		// failed), settleSegment deletes it.
		if err := r.settleSegment(ctx, segment); err != nil {
			return nil, err
		}
	}
	if !complete {
		records, end, etag, err := r.readSegment(ctx, segment, from)
		if errors.Is(err, store.ErrNotExist) {
			return out, nil // settled and deleted since the listing
		}
		if err != nil {
			return nil, err
		}
		for _, b := range records {
			r.batches.add(b.key, b.events, gen)
			r.batches.addRecord(segment, b.record.offset, b.record.offset+recordHeader+int64(len(b.record.payload)), b.record.last, false, gen)
		}
		if _, deletable := r.batches.segmentDeletable(segment); len(records) == 0 && deletable {
			created, ok := segmentCreated(segment)
			if end > 0 || ok && now.Sub(created) > eventOrphanAge {
				if err := r.deleteSegment(ctx, segment, etag); err != nil {
					return nil, err
				}
				return out, nil
			}
		}
	}
	return r.batches.appendOpenRecords(out, segment), nil
}

// settleSegment deletes segment if every record this process knows of it
// is settled here and a read shows no other complete record (see the
// comment at the top), unless this process still appends to it. Which
// records are known and that they are settled is one look: a record
// learnt in between (the writer of this process learns its own after
// answering) is either settled too or not yet known, and then after the
// end the read starts at.
func (r *Registry) settleSegment(ctx context.Context, segment string) error {
	from, deletable := r.batches.segmentDeletable(segment)
	if !deletable {
		return nil
	}
	records, _, etag, err := r.readSegment(ctx, segment, from)
	if errors.Is(err, store.ErrNotExist) {
		return nil
	}
	if err != nil || len(records) > 0 {
		return err // records this process has not listed yet: not now
	}
	return r.deleteSegment(ctx, segment, etag)
}

// deleteSegment deletes segment under the ETag of a read that showed every
// complete record settled, and forgets it.
func (r *Registry) deleteSegment(ctx context.Context, segment, etag string) error {
	err := r.st.Delete(ctx, segment, etag)
	switch {
	case errors.Is(err, store.ErrPrecondition):
		return nil // appended since: the next listing reads the new records
	case err != nil && !errors.Is(err, store.ErrNotExist):
		return fmt.Errorf("event log %s: %w", segment, err)
	}
	r.batches.forgetSegment(segment)
	return nil
}

// StoredBatches reads the queued batches in st, documents and log records,
// and returns the deliveries each holds, by batch key. It reads the store
// alone, not what a process knows: for tests and operators, not for a hot
// path.
func StoredBatches(ctx context.Context, st store.Store) (map[string][]string, error) {
	r := New(st)
	out := map[string][]string{}
	add := func(key string, events []batchEvent) {
		for _, e := range events {
			out[key] = append(out[key], e.Delivery)
		}
	}
	segments, err := st.List(ctx, eventLogPrefix)
	if err != nil {
		return nil, err
	}
	for _, segment := range segments {
		records, _, _, err := r.readSegment(ctx, segment, 0)
		if errors.Is(err, store.ErrNotExist) {
			continue // settled and deleted since the listing
		}
		if err != nil {
			return nil, err
		}
		for _, b := range records {
			add(b.key, b.events)
		}
	}
	docs, err := st.List(ctx, eventBatchPrefix)
	if err != nil {
		return nil, err
	}
	for _, key := range docs {
		events, err := r.readBatch(ctx, key)
		if errors.Is(err, store.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		add(key, events)
	}
	return out, nil
}
