package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/store"
)

// Accepted events: a webhook delivery that `maestro serve` accepted is kept
// in the store until a worker has processed it, so a crash loses none and a
// delivery sent twice (to any replica) is processed once.
//
//   - events/{source}/{delivery}.json is the event: what was delivered and
//     its processing state. It is written create-only, and that write is the
//     commit point of "accepted"; a second delivery of the same id finds it
//     and changes nothing. Workers claim, release and finish it under its
//     ETag.
//   - index/events/queued/{received, 20-digit nanoseconds}-{source}-{delivery}
//     is an empty marker that says "this event may still need a worker",
//     written before the event (so an accepted event always has one) and
//     deleted after it is finished. A marker without its event (the intake
//     died between the two writes, or lost the create race to a replica
//     whose own marker names it) is an orphan: it costs a worker one read
//     and is deleted once it is older than eventOrphanAge.

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
	State    string `json:"state"`
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

// QueuedEvent is a marker of an event that may need a worker.
type QueuedEvent struct {
	Marker     string // the marker's key
	Source     string
	Delivery   string
	ReceivedAt time.Time
}

var (
	eventIDPattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,99}$`)
	eventSourcePattern = regexp.MustCompile(`^[a-z0-9]{1,20}$`)
)

// ValidateEventID checks a source or delivery id: letters, digits and
// dashes, at most 100, as GitHub's delivery GUIDs are.
func ValidateEventID(id string) error {
	if !eventIDPattern.MatchString(id) {
		return fmt.Errorf("%q: use 1 to 100 letters, digits and dashes", id)
	}
	return nil
}

func eventKey(source, delivery string) string {
	return eventPrefix + source + "/" + delivery + ".json"
}

// AcceptEvent records ev (Source, Delivery, Type, Payload; ReceivedAt
// defaults to now) as queued. It returns false, and writes nothing, when an
// event with the same source and delivery id was accepted before, by any
// process.
func (r *Registry) AcceptEvent(ctx context.Context, ev Event) (bool, error) {
	_, ok, err := r.AcceptEventMarker(ctx, ev)
	return ok, err
}

// AcceptEventMarker is AcceptEvent, and also returns the queue marker it
// wrote for an accepted event, as QueuedEvents will list it.
func (r *Registry) AcceptEventMarker(ctx context.Context, ev Event) (QueuedEvent, bool, error) {
	if !eventSourcePattern.MatchString(ev.Source) {
		return QueuedEvent{}, false, invalid("event source", fmt.Errorf("%q: use 1 to 20 lower-case letters and digits", ev.Source), "")
	}
	if err := ValidateEventID(ev.Delivery); err != nil {
		return QueuedEvent{}, false, invalid("event delivery id", err, "")
	}
	if ev.Type == "" || !json.Valid(ev.Payload) {
		return QueuedEvent{}, false, invalid("event "+ev.Delivery, errors.New("needs a type and a JSON payload"), "")
	}
	key := eventKey(ev.Source, ev.Delivery)
	if _, _, err := r.st.Get(ctx, key); err == nil {
		return QueuedEvent{}, false, nil
	} else if !errors.Is(err, store.ErrNotExist) {
		return QueuedEvent{}, false, fmt.Errorf("event %s: %w", ev.Delivery, err)
	}
	if ev.ReceivedAt.IsZero() {
		ev.ReceivedAt = r.now().UTC()
	}
	ev.State, ev.Claim, ev.Attempts = EventQueued, nil, 0
	marker := fmt.Sprintf("%s%020d-%s-%s", eventQueuedPrefix, ev.ReceivedAt.UnixNano(), ev.Source, ev.Delivery)
	if _, err := r.st.Put(ctx, marker, nil, store.Condition{}); err != nil {
		return QueuedEvent{}, false, fmt.Errorf("queue event %s: %w", ev.Delivery, err)
	}
	err := putJSON(ctx, r.st, key, ev, store.Condition{CreateOnly: true})
	if errors.Is(err, store.ErrPrecondition) {
		return QueuedEvent{}, false, nil // another replica accepted it meanwhile; its marker names it too
	}
	if err != nil {
		return QueuedEvent{}, false, fmt.Errorf("record event %s: %w", ev.Delivery, err)
	}
	return QueuedEvent{Marker: marker, Source: ev.Source, Delivery: ev.Delivery, ReceivedAt: time.Unix(0, ev.ReceivedAt.UnixNano()).UTC()}, true, nil
}

// QueuedEvents lists the markers of events that may need a worker, oldest
// first.
func (r *Registry) QueuedEvents(ctx context.Context) ([]QueuedEvent, error) {
	keys, err := r.st.List(ctx, eventQueuedPrefix)
	if err != nil {
		return nil, fmt.Errorf("queued events: %w", err)
	}
	out := make([]QueuedEvent, 0, len(keys))
	for _, k := range keys {
		name := strings.TrimPrefix(k, eventQueuedPrefix)
		nanos, rest, ok1 := strings.Cut(name, "-")
		source, delivery, ok2 := strings.Cut(rest, "-")
		n, err := strconv.ParseInt(nanos, 10, 64)
		if !ok1 || !ok2 || err != nil {
			continue // not a marker this version writes
		}
		out = append(out, QueuedEvent{Marker: k, Source: source, Delivery: delivery, ReceivedAt: time.Unix(0, n).UTC()})
	}
	return out, nil
}

// Event reads an accepted event and its ETag.
func (r *Registry) Event(ctx context.Context, source, delivery string) (Event, string, error) {
	var ev Event
	etag, err := getJSON(ctx, r.st, eventKey(source, delivery), &ev)
	return ev, etag, err
}

// ClaimEvent takes the event a marker names for owner until now+ttl. It
// returns ok false when there is nothing to do now: the event is done (its
// marker is deleted), claimed by a live claim, waiting for its next attempt,
// or missing (an orphan marker, deleted once old). The returned ETag is the
// claim's, for FinishEvent and ReleaseEvent.
func (r *Registry) ClaimEvent(ctx context.Context, q QueuedEvent, owner string, now time.Time, ttl time.Duration) (ev Event, etag string, ok bool, err error) {
	ev, etag, err = r.Event(ctx, q.Source, q.Delivery)
	switch {
	case errors.Is(err, store.ErrNotExist):
		if now.Sub(q.ReceivedAt) > eventOrphanAge {
			err = r.deleteMarker(ctx, q.Marker)
		} else {
			err = nil
		}
		return ev, "", false, err
	case err != nil:
		return ev, "", false, fmt.Errorf("event %s: %w", q.Delivery, err)
	case ev.State == EventDone:
		return ev, "", false, r.deleteMarker(ctx, q.Marker)
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

// FinishEvent marks a claimed event done with result and deletes the marker
// q. It fails with store.ErrPrecondition when the claim was lost (it lapsed
// and another worker took the event over): that worker records the result.
func (r *Registry) FinishEvent(ctx context.Context, q QueuedEvent, ev Event, etag string, now time.Time, result string) error {
	ev.State, ev.Claim, ev.Result, ev.ProcessedAt, ev.NextAttempt = EventDone, nil, result, now.UTC(), time.Time{}
	if _, err := r.putEvent(ctx, ev, etag); err != nil {
		return err
	}
	return r.deleteMarker(ctx, q.Marker)
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

func (r *Registry) putEvent(ctx context.Context, ev Event, etag string) (string, error) {
	data, err := json.Marshal(ev)
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
