package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unique"
)

// Group commit of webhook intake.
//
// A delivery is accepted when it is durable in the store, and intake
// answers only then. Writing each delivery alone costs an fsync'd write
// (a blob write on Azure) per delivery; instead the deliveries a process
// accepts at about the same time share one: the first opens a batch, the
// deliveries arriving within batchWindow of it join (until batchMaxEvents
// or batchMaxBytes close it early), then one append of a record to the
// process's intake log (eventlog.go) records them all, and every waiting
// AcceptEvent returns after it — all accepted, or, when the append fails,
// all failed (the server answers 503 and the senders redeliver). The window is the price: up to
// a millisecond more per delivery on a quiet server. (Writing a delivery
// at once when no other write was in flight, and gathering only
// meanwhile, made batches of one or two under load on the 2-core machine:
// the writes finished before the next deliveries had the CPU to arrive.)
//
// A process writes one batch at a time: a batch whose window has passed
// while the previous batch is still being written stays open, and gathers,
// until that write ends. So under load a batch holds what arrived during
// one write, and the number of writes per second adapts to the store's
// latency instead of the writes queueing on it. (With every batch written
// as its window closed, 5,000 deliveries/s on the 2-core machine's disk
// made a thousand concurrent creates a second in one folder, each slower
// for the others: p99 1.8 s with no worker running; one write at a time,
// 93-155 ms; docs/performance.md.)
//
// De-duplication by delivery id is done when a worker takes an entry, not
// at intake: the first claim of a batch entry creates the event's record
// (events/{source}/{delivery}.json) create-only, naming its batch, and an
// entry of any other batch that finds a record is a copy, settled without
// being processed. Intake only spares the sender a second write when it
// can tell cheaply that the delivery was accepted before (its record
// exists, or a batch this process wrote or listed holds it: answer 200).
//
// Why concurrent replicas and a crash at any point leave a consistent
// state, and each accepted delivery is processed, and recorded done,
// exactly once:
//   - Crash before or during the batch write: nothing was answered 202 and
//     the store holds no batch, the whole batch, or a torn record that no
//     reader takes (eventlog.go); the senders redeliver what was not
//     answered.
//   - Batch written, none processed (the process died right after): the
//     batch is listed by every replica (QueuedEvents) and its entries are
//     processed as any others.
//   - Batch partly processed: an entry whose record is done is settled; one
//     with a claimed record waits for the claim to lapse and is taken over
//     (the claim, renewal and finish are ETag-conditional, as before); one
//     without a record is claimed fresh by creating it. No entry is lost
//     (a batch's segment is deleted only after all its records are
//     settled, eventlog.go) and none is recorded done twice (the record is
//     created once, finished under its ETag).
//   - Two replicas processing one batch: both list it; of two claims of an
//     entry one create succeeds, the other finds the record (claimed) and
//     passes. Each replica settles entries in its own memory, each after
//     reading a final state in the store (done, or a record of another
//     batch — neither ever changes back), so whichever replica settles the
//     last entry of a segment first deletes it, and the other's delete
//     finds nothing.
//   - One delivery in two batches (redelivered, or sent to two replicas,
//     before either copy was processed): whichever entry is taken first
//     creates the record naming its batch; the other finds it, names
//     another batch: a copy, settled unprocessed. Per-repository order
//     holds: both entries have the delivery's order key, so the later one
//     waits behind the earlier one.
//   - An event whose processing only reads (FinishUnclaimedEvent) is
//     recorded done in the record's create, without a claim: with no
//     effects there is nothing for a claim to protect. A crash before the
//     create leaves the entry unrecorded, decided again; of two workers
//     one create wins and the other finds the record (done, a copy, or a
//     claim of a worker that decided on effects), as a claim would.
//   - Crash after all entries are settled, before the segment is deleted:
//     the next listing reads it again; its entries' records are done (or
//     copies), each is settled again, and the segment is deleted.
//   - Batch documents (index/events/batches/, written create-only by the
//     version before the intake log) are listed beside the log, and each
//     is deleted once its entries are settled.
//   - Events accepted before batches (a record and a queue marker each)
//     are listed with the batches and processed as before: an upgrade
//     loses no queued event. A replica of the older version on the same
//     store does not list batches (the newer replicas process them); a
//     delivery it records finds no record and writes its own, which makes
//     any batch entry of it a copy.
//
// What a redelivery answers: 200 ("accepted before") when its record
// exists or this process knows the batch that holds it, the same on every
// replica once it has listed that batch; otherwise 202 — it is written
// again, and the copy is dropped when a worker reaches it. Either way the
// same delivery twice is processed once.

const (
	eventBatchPrefix = "index/events/batches/"
	// batchWindow is how long a batch gathers deliveries before its write.
	batchWindow = time.Millisecond
	// batchMaxEvents and batchMaxBytes (of payloads) close a batch early.
	batchMaxEvents = 256
	batchMaxBytes  = 4 << 20
	// batchWriteTimeout bounds one batch write; its senders are answered
	// 503 after it and redeliver.
	batchWriteTimeout = 30 * time.Second
	// batchCacheBytes bounds the payloads of queued batches a process
	// keeps in memory (a worker's claim reads a batch again past it).
	batchCacheBytes = 64 << 20
	// recordKeepBytes bounds the buffer intake keeps for the next batch's
	// record: a batch past it (one large payload) gets a buffer of its own.
	recordKeepBytes = 2 * batchMaxBytes
)

// batchDoc is a batch document.
type batchDoc struct {
	Events []batchEvent `json:"events"`
}

// batchEvent is one delivery in a batch.
type batchEvent struct {
	Source     string          `json:"source"`
	Delivery   string          `json:"delivery"`
	Type       string          `json:"type"`
	ReceivedAt time.Time       `json:"receivedAt"`
	OrderKey   string          `json:"orderKey,omitempty"`
	Payload    json.RawMessage `json:"payload"`
}

// eventID names a delivery: its source and delivery id.
type eventID struct{ source, delivery string }

// eventIntake gathers the deliveries of a batch.
type eventIntake struct {
	mu     sync.Mutex
	open   *pendingBatch // gathering; nil when none
	window time.Duration // batchWindow; tests set a longer one
	// pending are the deliveries of the batches gathered or being
	// written, until the batch is written (and its deliveries known to
	// holds: announce) or failed.
	pending map[eventID]*pendingBatch
	// writing holds a token while a batch is written: one at a time.
	writing chan struct{}
	// segment is the log segment this process appends to ("" before its
	// first batch, or after its last record or a failed append), and
	// length how long it is; both used only by the token's holder.
	segment string
	length  int64
	// record is the buffer the last record was encoded in, reused for the
	// next one, by the token's holder only: allocating a record for every
	// batch (up to 4 MiB) was a quarter of the bytes intake allocated.
	// Dropped after a failed append: a request cut short may still read
	// it (net/http may read a body after RoundTrip returned an error).
	record []byte
}

// pendingBatch is a batch being gathered or written.
type pendingBatch struct {
	events []batchEvent
	bytes  int
	full   chan struct{} // closed when the batch reached a limit
	done   chan struct{} // closed once written or failed
	key    string
	err    error
	known  *knownBatch // once written
}

// acceptInBatch adds e to the batch being gathered, writes the batch when
// this call opened it, and returns once the batch is written.
func (r *Registry) acceptInBatch(ctx context.Context, e batchEvent) (QueuedEvent, bool, error) {
	in := r.intake
	id := eventID{e.Source, e.Delivery}
	for {
		in.mu.Lock()
		if p, ok := in.pending[id]; ok {
			// The same delivery again while a batch holding it is gathered
			// or written: it is accepted before when that write succeeds.
			in.mu.Unlock()
			select {
			case <-p.done:
			case <-ctx.Done():
				return QueuedEvent{}, false, fmt.Errorf("record event %s: %w", e.Delivery, ctx.Err())
			}
			if p.err == nil {
				return QueuedEvent{}, false, nil
			}
			continue // that write failed: try this one
		}
		if r.batches.holds(e.Source, e.Delivery) {
			// Written since AcceptEventMarker looked (a batch is known
			// before it leaves pending).
			in.mu.Unlock()
			return QueuedEvent{}, false, nil
		}
		b, leader := in.open, false
		if b == nil {
			b, leader = &pendingBatch{full: make(chan struct{}), done: make(chan struct{})}, true
			in.open = b
		}
		i := len(b.events)
		b.events = append(b.events, e)
		b.bytes += len(e.Payload)
		if in.pending == nil {
			in.pending = map[eventID]*pendingBatch{}
		}
		in.pending[id] = b
		if len(b.events) >= batchMaxEvents || b.bytes >= batchMaxBytes {
			in.open = nil
			close(b.full)
		}
		in.mu.Unlock()
		if leader {
			r.writeBatch(ctx, b)
		}
		select {
		case <-b.done:
		case <-ctx.Done():
			return QueuedEvent{}, false, fmt.Errorf("record event %s: %w", e.Delivery, ctx.Err())
		}
		if b.err != nil {
			return QueuedEvent{}, false, fmt.Errorf("record event %s: %w", e.Delivery, b.err)
		}
		return b.known.entries[i], true, nil
	}
}

// writeBatch closes b after the window, or when it is full, once no other
// batch of this process is being written, and writes it.
func (r *Registry) writeBatch(ctx context.Context, b *pendingBatch) {
	in := r.intake
	t := time.NewTimer(in.window)
	select {
	case <-b.full:
	case <-t.C:
	}
	t.Stop()
	in.writing <- struct{}{} // the previous batch written; b gathers meanwhile
	defer func() { <-in.writing }()
	in.mu.Lock()
	if in.open == b {
		in.open = nil
	}
	in.mu.Unlock()

	kb, end, last, err := r.recordBatch(ctx, b)
	b.err = err
	in.mu.Lock()
	for _, e := range b.events {
		delete(in.pending, eventID{e.Source, e.Delivery})
	}
	in.mu.Unlock()
	close(b.done)
	if err != nil {
		return
	}
	// Learnt only once its senders are answered: learning it takes the
	// lock a listing holds, and the answers must not wait for that
	// (announce made the deliveries known already). The next batch's
	// append waits: this process learns its records in the order it
	// appends them, so a record it does not know yet is always after the
	// ones it knows, where settleSegment's read looks.
	r.batches.insert(b.key, kb)
	segment, offset, _ := splitRecordKey(b.key)
	r.batches.addRecord(segment, offset, end, last, true, kb.gen)
}

// recordBatch appends b to the intake log and makes its deliveries known
// to this process (holds), and returns the batch as this process knows it
// and where its record ends, and whether it ends its segment.
func (r *Registry) recordBatch(ctx context.Context, b *pendingBatch) (*knownBatch, int64, bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), batchWriteTimeout)
	defer cancel()
	frame, err := encodeBatch(r.intake.record, recordHeader, b.events)
	if err != nil {
		return nil, 0, false, err
	}
	key, end, last, err := r.appendBatch(ctx, frame)
	r.intake.record = nil
	if err != nil {
		return nil, 0, false, err
	}
	if cap(frame) <= recordKeepBytes {
		r.intake.record = frame
	}
	kb := newKnownBatch(key, b.events, r.batches.current())
	r.batches.announce(key, kb)
	b.key, b.known = key, kb
	return kb, end, last, nil
}

// encodeBatch encodes a batch document after reserve zero bytes (room for
// a record's header), in buf when it is large enough (its contents are
// overwritten): what json.Marshal(batchDoc{events}) means, but with
// the payloads, valid JSON already, copied as they are (not scanned and
// compacted again), and each event's other members written without
// reflection (json.Marshal of them was 7 µs a delivery).
func encodeBatch(buf []byte, reserve int, events []batchEvent) ([]byte, error) {
	// One allocation: the payloads, and about 300 bytes of each event's
	// other members (a buffer grown from nothing was a quarter of the
	// bytes intake allocated).
	size := reserve + 16
	for _, e := range events {
		size += len(e.Payload) + 300
	}
	if cap(buf) < size {
		buf = make([]byte, 0, size)
	}
	buf = buf[:reserve]
	clear(buf)
	buf = append(buf, `{"events":[`...)
	for i, e := range events {
		if i > 0 {
			buf = append(buf, ',')
		}
		if y := e.ReceivedAt.Year(); y < 0 || y > 9999 {
			return nil, fmt.Errorf("encode event %s: receivedAt %v is outside the years 0 to 9999", e.Delivery, e.ReceivedAt)
		}
		buf = append(buf, `{"source":`...)
		buf = appendJSONString(buf, e.Source)
		buf = append(buf, `,"delivery":`...)
		buf = appendJSONString(buf, e.Delivery)
		buf = append(buf, `,"type":`...)
		buf = appendJSONString(buf, e.Type)
		buf = append(buf, `,"receivedAt":"`...)
		buf = e.ReceivedAt.AppendFormat(buf, time.RFC3339Nano)
		buf = append(buf, '"')
		if e.OrderKey != "" {
			buf = append(buf, `,"orderKey":`...)
			buf = appendJSONString(buf, e.OrderKey)
		}
		buf = append(buf, `,"payload":`...)
		if e.Payload == nil {
			buf = append(buf, "null"...)
		}
		buf = append(buf, e.Payload...)
		buf = append(buf, '}')
	}
	return append(buf, `]}`...), nil
}

// readBatch reads a batch: a log record, or a batch document of the
// layout before the log.
func (r *Registry) readBatch(ctx context.Context, key string) ([]batchEvent, error) {
	if segment, offset, ok := splitRecordKey(key); ok {
		return r.readLogBatch(ctx, segment, offset)
	}
	var d batchDoc
	if _, err := getJSON(ctx, r.st, key, &d); err != nil {
		return nil, fmt.Errorf("event batch %s: %w", key, err)
	}
	return d.Events, nil
}

// decodeBatch decodes the batch document of the batch at key.
func decodeBatch(data []byte, key string) ([]batchEvent, error) {
	var d batchDoc
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("event batch %s: %w", key, err)
	}
	return d.Events, nil
}

// batchEntry is the event of batch entry q, queued.
func (r *Registry) batchEntry(ctx context.Context, q QueuedEvent) (Event, error) {
	e, ok := r.batches.event(q)
	if !ok {
		events, err := r.readBatch(ctx, q.Batch)
		if err != nil {
			return Event{}, err
		}
		if q.ID.Index < 0 || q.ID.Index >= len(events) {
			return Event{}, fmt.Errorf("event batch %s holds %d events, not event %d: the queue entry is not of this batch", q.Batch, len(events), q.ID.Index)
		}
		r.batches.keepPayloads(q.Batch, events)
		e = events[q.ID.Index]
	}
	if e.Source != q.Source || e.Delivery != q.Delivery {
		return Event{}, fmt.Errorf("event batch %s: event %d is %s/%s, not %s/%s", q.Batch, q.ID.Index, e.Source, e.Delivery, q.Source, q.Delivery)
	}
	return Event{Source: e.Source, Delivery: e.Delivery, Type: e.Type, ReceivedAt: e.ReceivedAt, Payload: e.Payload,
		OrderKey: e.OrderKey, Batch: q.Batch, State: EventQueued}, nil
}

// eventBatches is what a process knows of the queued batches: the ones it
// wrote or listed, until they are settled or no longer listed. Batch
// documents are written once and never changed, so what it holds of one
// never goes stale; payloads are kept up to batchCacheBytes.
type eventBatches struct {
	mu      sync.Mutex
	gen     atomic.Uint64 // listings begun
	listed  atomic.Int64  // the entries the last listing returned
	batches map[string]*knownBatch
	// holding maps a delivery to its batch's key. Intake reads it for
	// every delivery (holds), under holdMu, not c.mu: a listing holds c.mu
	// for a while, and a delivery's answer must not wait for it. It is
	// written under c.mu (then holdMu), and also (announce) by intake
	// before it answers. (A sync.Map keyed by "source/delivery" cost a
	// string and a node for each queued delivery, and the string again for
	// each look: garbage, and objects for every collection to mark.)
	holdMu   sync.RWMutex
	holding  map[eventID]string
	bytes    int      // payload bytes held
	fifo     []string // batches holding payloads, oldest first
	segments map[string]*knownSegment
	// appending is the segment this process's intake appends to ("" when
	// none). This process does not delete it: under a moderate load each
	// batch is settled before the next arrives, and deleting the segment
	// each time would make every batch create a segment and flush its
	// folder. Another replica may delete it; the writer then starts a new
	// one.
	appending string
	// read is the segment a worker read last, and its data (readLogBatch).
	read struct {
		mu      sync.Mutex
		segment string
		data    []byte
	}
}

// knownSegment is what a process knows of a log segment (eventlog.go):
// its records from the start up to end.
type knownSegment struct {
	end     int64
	records map[int64]bool // offset → settled here
	last    bool           // its last record is known: it grows no more
	mine    bool           // this process appends to it, so it knows every record (until an append fails: disown)
	gen     uint64         // the listing it was learnt in or after
}

// knownBatch is a batch a process knows. Its entries are made once and
// never change: listings hand out references to them (QueuedRef), read
// without a lock. Its events are kept with their payloads, up to
// batchCacheBytes, and then dropped: a backlog is mostly batches waiting
// for a worker, and what each holds for as long stays small.
type knownBatch struct {
	entries  []QueuedEvent
	events   []batchEvent // nil once the payloads are dropped
	payloads int          // payload bytes held; 0: dropped
	open     []uint64     // bit i set: entry i not settled here
	gen      uint64       // the listing it was learnt in or after
}

// isOpen reports whether entry i is not settled here.
func (kb *knownBatch) isOpen(i int) bool {
	return i >= 0 && i < len(kb.entries) && kb.open[i/64]&(1<<(i%64)) != 0
}

// appendOpen appends references to the entries not settled here to dst.
func (kb *knownBatch) appendOpen(dst []QueuedRef) []QueuedRef {
	for i := range kb.entries {
		if kb.isOpen(i) {
			dst = append(dst, QueuedRef{&kb.entries[i]})
		}
	}
	return dst
}

func newEventBatches() *eventBatches {
	return &eventBatches{batches: map[string]*knownBatch{}, segments: map[string]*knownSegment{}, holding: map[eventID]string{}}
}

// begin starts a listing and returns its generation.
func (c *eventBatches) begin() uint64 {
	return c.gen.Add(1)
}

// current is the generation of the latest listing.
func (c *eventBatches) current() uint64 {
	return c.gen.Load()
}

// holds reports whether a known batch holds the delivery.
func (c *eventBatches) holds(source, delivery string) bool {
	c.holdMu.RLock()
	defer c.holdMu.RUnlock()
	_, ok := c.holding[eventID{source, delivery}]
	return ok
}

// appendOpen appends to dst the entries of a known batch not settled
// here; false, and dst as it is, when the batch is not known.
func (c *eventBatches) appendOpen(dst []QueuedRef, key string) ([]QueuedRef, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kb, ok := c.batches[key]
	if !ok {
		return dst, false
	}
	return kb.appendOpen(dst), true
}

// add learns the batch at key (none of its entries settled) in generation
// gen, unless known already.
func (c *eventBatches) add(key string, events []batchEvent, gen uint64) {
	c.insert(key, newKnownBatch(key, events, gen))
}

// newKnownBatch is the batch at key, none of its entries settled, learnt
// in generation gen. It is made without c.mu: its allocations are not
// made while others wait for the lock.
func newKnownBatch(key string, events []batchEvent, gen uint64) *knownBatch {
	kb := &knownBatch{entries: make([]QueuedEvent, len(events)), events: events, open: make([]uint64, (len(events)+63)/64), gen: gen}
	for i, e := range events {
		// One copy per key, so that keys compare by address.
		kb.entries[i] = QueuedEvent{ID: EntryID{Key: key, Index: i}, Source: e.Source, Delivery: e.Delivery, ReceivedAt: e.ReceivedAt,
			Batch: key, OrderKey: unique.Make(e.OrderKey).Value()}
		kb.open[i/64] |= 1 << (i % 64)
	}
	return kb
}

// announce makes kb's deliveries known to holds before kb is inserted.
// A listing of this process may learn, settle and forget kb before the
// writer inserts it; the writer then learns it again, and its entries are
// settled again (their records are done or copies) at no other cost.
func (c *eventBatches) announce(key string, kb *knownBatch) {
	c.holdMu.Lock()
	for _, q := range kb.entries {
		c.holding[eventID{q.Source, q.Delivery}] = key
	}
	c.holdMu.Unlock()
}

// insert learns kb, the batch at key, unless known already.
func (c *eventBatches) insert(key string, kb *knownBatch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.batches[key]; ok {
		return
	}
	c.announce(key, kb)
	c.batches[key] = kb
	c.hold(key, kb)
}

// hold accounts for kb's payloads, dropping the oldest batches' payloads
// past batchCacheBytes. Callers hold c.mu.
func (c *eventBatches) hold(key string, kb *knownBatch) {
	for _, e := range kb.events {
		kb.payloads += len(e.Payload)
	}
	c.bytes += kb.payloads
	if len(c.fifo) > 2*len(c.batches)+64 {
		// Forgotten batches leave their place behind: drop those places.
		c.fifo = slices.DeleteFunc(c.fifo, func(k string) bool { ob, ok := c.batches[k]; return !ok || ob.payloads == 0 })
	}
	c.fifo = append(c.fifo, key)
	for c.bytes > batchCacheBytes && len(c.fifo) > 1 {
		old := c.fifo[0]
		c.fifo = c.fifo[1:]
		if ob, ok := c.batches[old]; ok && ob.payloads > 0 {
			c.bytes -= ob.payloads
			ob.payloads, ob.events = 0, nil
		}
	}
}

// keepPayloads keeps the events of a known batch read again.
func (c *eventBatches) keepPayloads(key string, events []batchEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if kb, ok := c.batches[key]; ok && kb.payloads == 0 && len(kb.entries) == len(events) {
		kb.events = events
		c.hold(key, kb)
	}
}

// event is the entry q of a known batch with its payload.
func (c *eventBatches) event(q QueuedEvent) (batchEvent, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kb, ok := c.batches[q.Batch]
	if !ok || kb.payloads == 0 || q.ID.Index < 0 || q.ID.Index >= len(kb.events) {
		return batchEvent{}, false
	}
	return kb.events[q.ID.Index], true
}

// settle marks entry q settled; true when it was the last open entry of
// its batch, which is forgotten: the caller deletes it.
func (c *eventBatches) settle(q QueuedEvent) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	kb, ok := c.batches[q.Batch]
	if !ok || !kb.isOpen(q.ID.Index) {
		return false
	}
	kb.open[q.ID.Index/64] &^= 1 << (q.ID.Index % 64)
	if slices.ContainsFunc(kb.open, func(w uint64) bool { return w != 0 }) {
		return false
	}
	c.forget(q.Batch, kb)
	return true
}

// forget drops a batch. Callers hold c.mu.
func (c *eventBatches) forget(key string, kb *knownBatch) {
	delete(c.batches, key)
	c.bytes -= kb.payloads
	c.holdMu.Lock()
	for _, q := range kb.entries {
		if id := (eventID{q.Source, q.Delivery}); c.holding[id] == key {
			delete(c.holding, id)
		}
	}
	c.holdMu.Unlock()
	// Its place in fifo goes when it comes up (it is no longer known).
}

// prune forgets the batch documents and log segments (with their
// records) a listing of generation gen did not list, unless learnt during
// it (written while the listing ran).
func (c *eventBatches) prune(docs, segments []string, gen uint64) {
	in := make(map[string]bool, len(docs)+len(segments))
	for _, k := range docs {
		in[k] = true
	}
	for _, k := range segments {
		in[k] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, ks := range c.segments {
		if !in[key] && ks.gen < gen {
			delete(c.segments, key)
		}
	}
	for key, kb := range c.batches {
		if kb.gen >= gen {
			continue
		}
		if segment, _, ok := splitRecordKey(key); ok {
			if _, known := c.segments[segment]; known {
				continue
			}
		} else if in[key] {
			continue
		}
		c.forget(key, kb)
	}
}

// addRecord learns the record at offset of segment, which ends at end,
// in generation gen; mine when this process wrote it.
func (c *eventBatches) addRecord(segment string, offset, end int64, last, mine bool, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ks, ok := c.segments[segment]
	if !ok {
		ks = &knownSegment{records: map[int64]bool{}, mine: mine, gen: gen}
		c.segments[segment] = ks
	}
	if _, ok := ks.records[offset]; !ok {
		ks.records[offset] = false
	}
	ks.end = max(ks.end, end)
	ks.last = ks.last || last
	ks.mine = ks.mine || mine
}

// segmentKnown is where the records this process knows of segment end,
// and whether it knows all there will be (it wrote them, or knows the
// last).
func (c *eventBatches) segmentKnown(segment string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ks, ok := c.segments[segment]
	if !ok {
		return 0, false
	}
	return ks.end, ks.mine || ks.last
}

// segmentDeletable is, in one look, where the records this process knows
// of segment end, and whether every one of them is settled here and the
// segment is not the one this process appends to.
func (c *eventBatches) segmentDeletable(segment string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ks, ok := c.segments[segment]
	if segment == c.appending {
		return 0, false
	}
	if !ok {
		return 0, true
	}
	for _, settled := range ks.records {
		if !settled {
			return ks.end, false
		}
	}
	return ks.end, true
}

// setAppending records the segment this process appends to ("" for none).
func (c *eventBatches) setAppending(segment string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.appending = segment
}

// disown records that this process no longer knows every record of
// segment (an append to it failed, and may have taken effect): listings
// read it again.
func (c *eventBatches) disown(segment string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ks, ok := c.segments[segment]; ok {
		ks.mine = false
	}
	if c.appending == segment {
		c.appending = ""
	}
}

// settleRecord marks the record at offset of segment settled; true when it was the last
// open record this process knows of its segment.
func (c *eventBatches) settleRecord(segment string, offset int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ks, ok := c.segments[segment]
	if !ok {
		return false
	}
	ks.records[offset] = true
	for _, settled := range ks.records {
		if !settled {
			return false
		}
	}
	return true
}

// appendOpenRecords appends to dst the open entries of segment's known
// records, in their order.
func (c *eventBatches) appendOpenRecords(dst []QueuedRef, segment string) []QueuedRef {
	c.mu.Lock()
	ks, ok := c.segments[segment]
	var offsets []int64
	if ok {
		for off, settled := range ks.records {
			if !settled {
				offsets = append(offsets, off)
			}
		}
	}
	c.mu.Unlock()
	slices.Sort(offsets)
	for _, off := range offsets {
		dst, _ = c.appendOpen(dst, recordKey(segment, off))
	}
	return dst
}

// keptSegment is the data of segment kept by keepSegment; nil when none.
func (c *eventBatches) keptSegment(segment string) []byte {
	c.read.mu.Lock()
	defer c.read.mu.Unlock()
	if c.read.segment != segment {
		return nil
	}
	return c.read.data
}

// keepSegment keeps the data of segment, read, in place of the segment
// kept before.
func (c *eventBatches) keepSegment(segment string, data []byte) {
	c.read.mu.Lock()
	defer c.read.mu.Unlock()
	c.read.segment, c.read.data = segment, data
}

// forgetSegment drops a deleted segment and its records.
func (c *eventBatches) forgetSegment(segment string) {
	c.read.mu.Lock()
	if c.read.segment == segment {
		c.read.segment, c.read.data = "", nil
	}
	c.read.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	ks, ok := c.segments[segment]
	if !ok {
		return
	}
	for off := range ks.records {
		key := recordKey(segment, off)
		if kb, ok := c.batches[key]; ok {
			c.forget(key, kb)
		}
	}
	delete(c.segments, segment)
}
