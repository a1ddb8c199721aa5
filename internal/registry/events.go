package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/jsonscan"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Accepted events: a webhook delivery that `maestro serve` accepted is kept
// in the store until a worker has processed it, so a crash loses none and a
// delivery sent twice (to any replica) is processed once. See eventbatch.go
// for intake (group commit) and why every crash and race leaves a
// consistent state.
//
//   - index/events/log/{created, 20-digit nanoseconds}-{uuid} is a segment
//     of a process's intake log (eventlog.go): its batches, one record
//     each, a batch being the deliveries one process accepted within a
//     millisecond or so (eventbatch.go), appended in one append, the commit
//     point of "accepted" for each of them. It says "these events may still
//     need a worker" and is deleted once every one of them is settled.
//     (index/events/batches/ holds batch documents of the layout before the
//     log, processed the same way.)
//   - events/{source}/{delivery}.json is the event's record: what was
//     delivered and its processing state. The first worker to take a
//     batch's entry creates it, create-only, naming the batch; that create
//     is the claim of the delivery id on every replica: an entry of another
//     batch finds it and is dropped as a copy. Workers claim, release and
//     finish it under its ETag.
//   - index/events/queued/{received}-{source}-{delivery} is the queue marker
//     of the layout before batches (an empty marker beside a record written
//     at intake). No version writes it any more; the markers a store still
//     holds after an upgrade are listed and processed as before, and a
//     marker without its event (the intake died between its two writes) is
//     an orphan, deleted once older than eventOrphanAge.

const (
	eventPrefix       = "events/"
	eventQueuedPrefix = "index/events/queued/"
	// eventOrphanAge is how old a marker without its event must be before a
	// worker deletes it: long enough for an intake between its two writes.
	eventOrphanAge = 10 * time.Minute
)

// Event states.
const (
	EventQueued = "queued" // accepted, not processed yet (maybe claimed)
	EventDone   = "done"   // processed; Result says how
)

// Event is one accepted webhook delivery and its processing state.
type Event struct {
	Source     string          `json:"source"`   // "github"
	Delivery   string          `json:"delivery"` // the sender's delivery id (X-GitHub-Delivery)
	Type       string          `json:"type"`     // the event type (X-GitHub-Event)
	ReceivedAt time.Time       `json:"receivedAt"`
	Payload    json.RawMessage `json:"payload"`
	// OrderKey, when set, names what the event acts on (the repository it
	// concerns): the server processes the events of one key one at a time,
	// in the order they were received.
	OrderKey string `json:"orderKey,omitempty"`
	// Batch is the batch the record was created from (the first of the
	// delivery's batch entries a worker took); "" for an event accepted
	// before batches, with its own queue marker.
	Batch string `json:"batch,omitempty"`
	State string `json:"state"`
	// Claim is the worker processing the event, until when; a claim whose
	// time has passed belongs to a worker that died or stalled, and another
	// worker takes the event over.
	Claim    *EventClaim `json:"claim,omitempty"`
	Attempts int         `json:"attempts"`
	// Failures counts the attempts released as failed (see ReleaseEvent).
	Failures    int       `json:"failures,omitempty"`
	NextAttempt time.Time `json:"nextAttempt,omitzero"`
	LastError   string    `json:"lastError,omitempty"`
	ProcessedAt time.Time `json:"processedAt,omitzero"`
	Result      string    `json:"result,omitempty"`
}

// EventClaim is a worker's hold on an event.
type EventClaim struct {
	Owner string    `json:"owner"`
	Until time.Time `json:"until"`
}

// QueuedEvent is an entry of the queue: an event that may need a worker.
type QueuedEvent struct {
	// ID names the entry.
	ID         EntryID
	Source     string
	Delivery   string
	ReceivedAt time.Time
	// Batch is the batch's key; "" for a queue marker.
	Batch string
	// OrderKey is the event's, as the batch holds it, one copy per key
	// (unique.Make), so that keys compare by address ("" for a queue
	// marker: read the event).
	OrderKey string
}

// QueuedRef refers to a queue entry: a batch entry as the registry holds
// it while it is queued, which never changes (a queue marker's is made
// by the listing). It is a pointer, where a QueuedEvent is a copy of 112
// bytes with six pointer fields. The dispatcher keeps its view of the
// queue as references: under a burst that lasts, the backlog is long,
// and every collection marks what the view holds.
type QueuedRef struct{ q *QueuedEvent }

// NewQueuedRef is a reference to a copy of q.
func NewQueuedRef(q QueuedEvent) QueuedRef { return QueuedRef{&q} }

// Event is the entry.
func (r QueuedRef) Event() QueuedEvent { return *r.q }

// ID is the entry's name.
func (r QueuedRef) ID() EntryID { return r.q.ID }

// OrderKey is the entry's order key (see QueuedEvent).
func (r QueuedRef) OrderKey() string { return r.q.OrderKey }

// InBatch reports whether the entry is a batch's, not a queue marker.
func (r QueuedRef) InBatch() bool { return r.q.Batch != "" }

// EntryID names a queue entry: a batch's key and the entry's place in it,
// or the queue marker's key of an event accepted before batches (Index
// -1). It is a value, not a string built for each entry: a backlog of
// 100,000 deliveries held as many strings (about 90 bytes each) for as
// long as they were queued, which each collection marked.
type EntryID struct {
	Key   string
	Index int
}

// String is the entry's name: {batch}#{n}, or the queue marker's key.
func (id EntryID) String() string {
	if id.Index < 0 {
		return id.Key
	}
	return id.Key + "#" + strconv.Itoa(id.Index)
}

// Gone reports whether ev, the event ClaimEvent returned for q without a
// claim, says that q needs no worker any more: its event is done, or q is
// a copy of a delivery whose record another batch's entry created (the
// delivery was accepted twice; it is processed once, from that entry).
func (q QueuedEvent) Gone(ev Event) bool {
	return ev.State == EventDone || q.Batch != "" && ev.Delivery != "" && ev.Batch != q.Batch
}

// ValidateEventID checks a source or delivery id: letters, digits and
// dashes, at most 100, as GitHub's delivery GUIDs are, not beginning with
// a dash. (A loop, not a regular expression: intake checks every
// delivery's id, and the expression cost 4 µs a delivery.)
func ValidateEventID(id string) error {
	ok := id != "" && len(id) <= 100 && id[0] != '-'
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-'
	}
	if !ok {
		return fmt.Errorf("%q: use 1 to 100 letters, digits and dashes", id)
	}
	return nil
}

// validEventSource reports whether source is 1 to 20 lower-case letters
// and digits.
func validEventSource(source string) bool {
	ok := source != "" && len(source) <= 20
	for i := 0; ok && i < len(source); i++ {
		c := source[i]
		ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
	}
	return ok
}

func eventKey(source, delivery string) string {
	return eventPrefix + source + "/" + delivery + ".json"
}

// AcceptEvent records ev (Source, Delivery, Type, Payload; ReceivedAt
// defaults to now) as queued, and returns once it is durable in the store
// (eventbatch.go). It returns false, and adds nothing, when the delivery
// is known to have been accepted before: its record exists (it was
// processed, or is being processed), or it is in a batch this process
// wrote or listed. A delivery accepted before that is still queued in a
// batch this process has not seen yet is accepted again: the copy is
// dropped, unprocessed, when a worker reaches it.
func (r *Registry) AcceptEvent(ctx context.Context, ev Event) (bool, error) {
	_, ok, err := r.AcceptEventMarker(ctx, ev)
	return ok, err
}

// AcceptCheckedEvent is AcceptEvent for a payload its caller validated
// already (while reading the fields it routes by): payload is recorded as
// ev's, and not scanned again.
func (r *Registry) AcceptCheckedEvent(ctx context.Context, ev Event, payload jsonscan.Checked) (bool, error) {
	ev.Payload = payload.Bytes()
	_, ok, err := r.acceptEvent(ctx, ev, ev.Payload != nil)
	return ok, err
}

// AcceptEventMarker is AcceptEvent, and also returns the queue entry of an
// accepted event, as QueuedEvents will list it.
func (r *Registry) AcceptEventMarker(ctx context.Context, ev Event) (QueuedEvent, bool, error) {
	return r.acceptEvent(ctx, ev, false)
}

// acceptEvent is AcceptEventMarker; checked says that ev.Payload is known
// to be valid JSON.
func (r *Registry) acceptEvent(ctx context.Context, ev Event, checked bool) (QueuedEvent, bool, error) {
	if !validEventSource(ev.Source) {
		return QueuedEvent{}, false, invalid("event source", fmt.Errorf("%q: use 1 to 20 lower-case letters and digits", ev.Source), "")
	}
	if err := ValidateEventID(ev.Delivery); err != nil {
		return QueuedEvent{}, false, invalid("event delivery id", err, "")
	}
	if ev.Type == "" || !checked && !jsonscan.Valid(ev.Payload) {
		return QueuedEvent{}, false, invalid("event "+ev.Delivery, errors.New("needs a type and a JSON payload"), "")
	}
	if r.batches.holds(ev.Source, ev.Delivery) {
		return QueuedEvent{}, false, nil
	}
	if _, _, err := r.st.Get(ctx, eventKey(ev.Source, ev.Delivery)); err == nil {
		return QueuedEvent{}, false, nil
	} else if !errors.Is(err, store.ErrNotExist) {
		return QueuedEvent{}, false, fmt.Errorf("event %s: %w", ev.Delivery, err)
	}
	if ev.ReceivedAt.IsZero() {
		ev.ReceivedAt = r.now()
	}
	return r.acceptInBatch(ctx, batchEvent{Source: ev.Source, Delivery: ev.Delivery, Type: ev.Type,
		ReceivedAt: time.Unix(0, ev.ReceivedAt.UnixNano()).UTC(), OrderKey: ev.OrderKey, Payload: ev.Payload})
}

// QueuedEvents lists the queue's entries that may need a worker, oldest
// first: the entries of the batches in the store that this process has not
// settled (see ClaimEvent), and the queue markers of the layout before
// batches. A batch is read once; the process keeps what it holds while it
// is queued.
func (r *Registry) QueuedEvents(ctx context.Context) ([]QueuedEvent, error) {
	refs, err := r.QueuedRefs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]QueuedEvent, len(refs))
	for i, q := range refs {
		out[i] = q.Event()
	}
	return out, nil
}

// QueuedRefs is QueuedEvents as references to the entries the registry
// holds: a pointer each, not a copy of each entry (see QueuedRef).
func (r *Registry) QueuedRefs(ctx context.Context) ([]QueuedRef, error) {
	gen := r.batches.begin()
	keys, err := r.st.List(ctx, eventQueuedPrefix)
	if err != nil {
		return nil, fmt.Errorf("queued events: %w", err)
	}
	// Room for as many entries as the last listing found, and some: a
	// listing of a long backlog grew its list from the markers' count,
	// copying it a dozen times (13 % of the bytes a burst allocated).
	listed := int(r.batches.listed.Load())
	out := make([]QueuedRef, 0, max(len(keys), listed+listed/8))
	for _, k := range keys {
		name := strings.TrimPrefix(k, eventQueuedPrefix)
		nanos, rest, ok1 := strings.Cut(name, "-")
		source, delivery, ok2 := strings.Cut(rest, "-")
		n, err := strconv.ParseInt(nanos, 10, 64)
		if !ok1 || !ok2 || err != nil {
			continue // not a marker this version knows
		}
		out = append(out, NewQueuedRef(QueuedEvent{ID: EntryID{Key: k, Index: -1}, Source: source, Delivery: delivery, ReceivedAt: time.Unix(0, n).UTC()}))
	}
	segments, err := r.st.List(ctx, eventLogPrefix)
	if err != nil {
		return nil, fmt.Errorf("queued events: %w", err)
	}
	now := r.now()
	for _, k := range segments {
		if out, err = r.listSegment(ctx, out, k, gen, now); err != nil {
			return nil, fmt.Errorf("queued events: %w", err)
		}
	}
	batches, err := r.st.List(ctx, eventBatchPrefix)
	if err != nil {
		return nil, fmt.Errorf("queued events: %w", err)
	}
	for _, k := range batches {
		var known bool
		if out, known = r.batches.appendOpen(out, k); known {
			continue
		}
		events, err := r.readBatch(ctx, k)
		if errors.Is(err, store.ErrNotExist) {
			continue // settled and deleted since the listing
		}
		if err != nil {
			return nil, fmt.Errorf("queued events: %w", err)
		}
		r.batches.add(k, events, gen)
		out, _ = r.batches.appendOpen(out, k)
	}
	r.batches.prune(batches, segments, gen)
	// Of one time, entries stay in the listing's order: a segment's
	// records by offset and a batch's entries by place, the order of
	// their appends (their names in text order put "@1000" before "@999",
	// and "#10" before "#9"); segments by name, the writer's clock, and
	// two segments begun in one tick of it by their uuids.
	oldestFirst := func(a, b QueuedRef) int { return a.q.ReceivedAt.Compare(b.q.ReceivedAt) }
	// Mostly in order already (segments are named by the clock, records
	// follow each other): a look is cheaper than a sort.
	if !slices.IsSortedFunc(out, oldestFirst) {
		slices.SortStableFunc(out, oldestFirst)
	}
	r.batches.listed.Store(int64(len(out)))
	return out, nil
}

// AcceptedEvent is the event of a delivery accepted before: its record,
// or, while no worker has taken it yet, the event as its queued batch
// holds it (state queued). It fails with store.ErrNotExist for a delivery
// never accepted. It lists the queue: for tests and operators, not for a
// hot path.
func (r *Registry) AcceptedEvent(ctx context.Context, source, delivery string) (Event, error) {
	ev, _, err := r.Event(ctx, source, delivery)
	if !errors.Is(err, store.ErrNotExist) {
		return ev, err
	}
	queued, err := r.QueuedEvents(ctx)
	if err != nil {
		return Event{}, err
	}
	for _, q := range queued {
		if q.Batch != "" && q.Source == source && q.Delivery == delivery {
			return r.batchEntry(ctx, q)
		}
	}
	// Taken by a worker since the record was read: read it again.
	ev, _, err = r.Event(ctx, source, delivery)
	return ev, err
}

// Event reads an accepted event and its ETag.
func (r *Registry) Event(ctx context.Context, source, delivery string) (Event, string, error) {
	var ev Event
	etag, err := getJSON(ctx, r.st, eventKey(source, delivery), &ev)
	return ev, etag, err
}

// ClaimEvent takes the event of the queue entry q for owner until
// now+ttl. It returns ok false when there is nothing to do now: the event
// is done or q is a copy of a delivery another entry recorded (q.Gone says
// so; q is settled: a marker is deleted, and a batch is deleted once all
// its entries are settled here), the event is claimed by a live claim or
// waiting for its next attempt, or missing (an orphan marker, deleted once
// old). The returned ETag is the claim's, for FinishEvent and
// ReleaseEvent.
//
// The first claim of a batch's entry creates the event's record,
// create-only, from the batch; of two workers (on any replicas) that try
// at once, one creates it and the other finds it. An entry whose delivery
// already has a record from another batch (or from before batches) is a
// copy and is settled without a claim.
func (r *Registry) ClaimEvent(ctx context.Context, q QueuedEvent, owner string, now time.Time, ttl time.Duration) (ev Event, etag string, ok bool, err error) {
	ev, etag, err = r.Event(ctx, q.Source, q.Delivery)
	switch {
	case errors.Is(err, store.ErrNotExist) && q.Batch != "":
		return r.claimFromBatch(ctx, q, owner, now, ttl)
	case errors.Is(err, store.ErrNotExist):
		if now.Sub(q.ReceivedAt) > eventOrphanAge {
			err = r.deleteMarker(ctx, q.ID.Key)
		} else {
			err = nil
		}
		return ev, "", false, err
	case err != nil:
		return ev, "", false, fmt.Errorf("event %s: %w", q.Delivery, err)
	case q.Gone(ev):
		return ev, "", false, r.settle(ctx, q)
	case ev.Claim != nil && ev.Claim.Until.After(now), ev.NextAttempt.After(now):
		return ev, "", false, nil
	}
	ev.Claim = &EventClaim{Owner: owner, Until: now.Add(ttl).UTC()}
	ev.Attempts++
	etag, err = r.putEvent(ctx, ev, etag)
	if errors.Is(err, store.ErrPrecondition) {
		return ev, "", false, nil // another worker claimed it first
	}
	return ev, etag, err == nil, err
}

// claimFromBatch creates the record of a batch entry's event with owner's
// claim: the first claim of the delivery.
func (r *Registry) claimFromBatch(ctx context.Context, q QueuedEvent, owner string, now time.Time, ttl time.Duration) (Event, string, bool, error) {
	ev, err := r.batchEntry(ctx, q)
	if errors.Is(err, store.ErrNotExist) {
		// The batch is gone, so all its entries were settled, and its
		// record exists by now: the next pass reads it.
		return Event{}, "", false, nil
	}
	if err != nil {
		return Event{}, "", false, err
	}
	ev.Claim = &EventClaim{Owner: owner, Until: now.Add(ttl).UTC()}
	ev.Attempts = 1
	data, err := encodeEvent(ev)
	if err != nil {
		return Event{}, "", false, fmt.Errorf("encode event %s: %w", ev.Delivery, err)
	}
	etag, err := r.st.Put(ctx, eventKey(ev.Source, ev.Delivery), data, store.Condition{CreateOnly: true})
	if errors.Is(err, store.ErrPrecondition) {
		return Event{}, "", false, nil // another worker, or another batch's entry, recorded it first
	}
	if err != nil {
		return Event{}, "", false, fmt.Errorf("event %s: %w", ev.Delivery, err)
	}
	return ev, etag, true, nil
}

// QueuedEntry is the event of batch entry q, queued, as its batch holds
// it (no store read while this process keeps the batch's payloads). It
// fails with store.ErrNotExist when the batch is gone (all its entries were
// settled) or q is a queue marker of the layout before batches.
func (r *Registry) QueuedEntry(ctx context.Context, q QueuedEvent) (Event, error) {
	if q.Batch == "" {
		return Event{}, fmt.Errorf("event %s: a queue marker, not a batch entry: %w", q.Delivery, store.ErrNotExist)
	}
	return r.batchEntry(ctx, q)
}

// FinishUnclaimedEvent records ev, the event of batch entry q
// (QueuedEntry), done with result in one create-only write of its record,
// without a claim, and settles q; it returns false, having written
// nothing, when the record exists already (a claim, a copy of the
// delivery in another batch, a retry waiting): the caller claims q
// instead (ClaimEvent), which reads the record and says what to do.
//
// It is for an event whose processing changed nothing outside its record
// — it only read (a status for a commit no tracked pull request is at) —
// so there is nothing a claim would protect: the claim is what makes an
// attempt with effects exclusive, and lets a crash in the middle be taken
// over. Without effects, this create is the one commit point:
//   - Crash before it: no record, the entry is still queued, and the next
//     attempt decides again.
//   - Two workers (two replicas, or two batch entries of one delivery)
//     at once: both only read; one create succeeds, and the other finds
//     the record, as a claim does. The delivery is recorded done once.
//   - A worker that decided on effects meanwhile claimed the event (its
//     create won): this create fails and the claim's attempt goes on.
//
// A done record is written once and never replaced, so processing an
// event without effects costs one write, not a claim's and a finish's
// two (each a create on the local store; the finish also frees the
// claim's file, which ext4 without a journal makes every later create
// in the folder pay for, docs/performance.md).
func (r *Registry) FinishUnclaimedEvent(ctx context.Context, q QueuedEvent, ev Event, now time.Time, result string) (bool, error) {
	if q.Batch == "" || ev.Batch != q.Batch || ev.Source != q.Source || ev.Delivery != q.Delivery {
		return false, fmt.Errorf("event %s: finish without a claim needs the event of batch entry %s (QueuedEntry)", q.Delivery, q.ID)
	}
	ev.State, ev.Claim, ev.Attempts, ev.Result, ev.ProcessedAt = EventDone, nil, 1, result, now.UTC()
	data, err := encodeEvent(ev)
	if err != nil {
		return false, fmt.Errorf("encode event %s: %w", ev.Delivery, err)
	}
	if _, err := r.st.Put(ctx, eventKey(ev.Source, ev.Delivery), data, store.Condition{CreateOnly: true}); errors.Is(err, store.ErrPrecondition) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("event %s: %w", ev.Delivery, err)
	}
	return true, r.settle(ctx, q)
}

// FinishEvent marks a claimed event done with result and settles its
// queue entry q (see ClaimEvent). It fails with store.ErrPrecondition when the claim was lost (it lapsed
// and another worker took the event over): that worker records the result.
func (r *Registry) FinishEvent(ctx context.Context, q QueuedEvent, ev Event, etag string, now time.Time, result string) error {
	ev.State, ev.Claim, ev.Result, ev.ProcessedAt, ev.NextAttempt = EventDone, nil, result, now.UTC(), time.Time{}
	if _, err := r.putEvent(ctx, ev, etag); err != nil {
		return err
	}
	return r.settle(ctx, q)
}

// settle records that queue entry q needs no worker any more: a queue
// marker is deleted; a batch is forgotten once each of its entries is
// settled in this process (each one's record was read done, or naming
// another batch, both final), and then a batch document is deleted, and a
// log segment once each of its records is (settleSegment).
func (r *Registry) settle(ctx context.Context, q QueuedEvent) error {
	if q.Batch == "" {
		return r.deleteMarker(ctx, q.ID.Key)
	}
	if !r.batches.settle(q) {
		return nil
	}
	if segment, offset, ok := splitRecordKey(q.Batch); ok {
		if !r.batches.settleRecord(segment, offset) {
			return nil
		}
		return r.settleSegment(ctx, segment)
	}
	if err := r.st.Delete(ctx, q.Batch, ""); err != nil && !errors.Is(err, store.ErrNotExist) {
		return fmt.Errorf("event batch %s: %w", q.Batch, err)
	}
	return nil
}

// RenewEvent extends a claim to until; it returns the claim's new ETag, or
// fails with store.ErrPrecondition when the claim was lost.
func (r *Registry) RenewEvent(ctx context.Context, ev Event, etag string, until time.Time) (string, error) {
	if ev.Claim == nil {
		return "", fmt.Errorf("event %s: renew a claim that was never taken", ev.Delivery)
	}
	ev.Claim.Until = until.UTC()
	return r.putEvent(ctx, ev, etag)
}

// ReleaseEvent gives a claimed event back after an attempt that did not
// finish it: it stays queued, with why as lastError, and is due again at
// next. A failed attempt (failed true) counts in Failures; one that only
// has to wait (the pull request was busy) does not.
func (r *Registry) ReleaseEvent(ctx context.Context, ev Event, etag string, next time.Time, why error, failed bool) error {
	ev.Claim, ev.NextAttempt, ev.LastError = nil, next.UTC(), why.Error()
	if failed {
		ev.Failures++
	}
	_, err := r.putEvent(ctx, ev, etag)
	return err
}

// encodeEvent encodes an event's record as json.Marshal does, but copies
// the payload — valid JSON, checked at intake — as it is instead of
// scanning it again (most of the cost of encoding a record).
func encodeEvent(ev Event) ([]byte, error) {
	payload := ev.Payload
	ev.Payload = nil
	head, err := json.Marshal(ev)
	if err != nil || len(payload) == 0 {
		return head, err
	}
	// The first "payload":null is the member's: a string value cannot hold
	// an unescaped quote, and the members before it are strings and a time.
	const hole = `"payload":null`
	at := bytes.Index(head, []byte(hole))
	if at < 0 {
		ev.Payload = payload
		return json.Marshal(ev)
	}
	out := make([]byte, 0, len(head)+len(payload))
	out = append(out, head[:at+len(hole)-len("null")]...)
	out = append(out, payload...)
	return append(out, head[at+len(hole):]...), nil
}

func (r *Registry) putEvent(ctx context.Context, ev Event, etag string) (string, error) {
	data, err := encodeEvent(ev)
	if err != nil {
		return "", fmt.Errorf("encode event %s: %w", ev.Delivery, err)
	}
	etag, err = r.st.Put(ctx, eventKey(ev.Source, ev.Delivery), data, store.Condition{IfMatch: etag})
	if err != nil {
		return "", fmt.Errorf("event %s: %w", ev.Delivery, err)
	}
	return etag, nil
}

func (r *Registry) deleteMarker(ctx context.Context, key string) error {
	if err := r.st.Delete(ctx, key, ""); err != nil && !errors.Is(err, store.ErrNotExist) {
		return fmt.Errorf("event marker %s: %w", key, err)
	}
	return nil
}
