package server

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"unique"

	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Per-repository ordering. Every event names what it acts on in its
// OrderKey (the repository, see orderKey). Of the events of one key, a
// replica hands a worker only the oldest one that is due, and only when no
// event of the key is being processed — by its own workers (sequencer) or
// by any replica (a live claim in the event). So two events of one
// repository never run at once, and they start in the order they were
// received, while events of different repositories run in parallel, up to
// the number of workers.
//
// An event waiting for a later attempt (a retry after a failure, a busy
// pull request, a legacy action's delay) does not hold back the later
// events of its repository: they go ahead, and it runs after them. Arrival
// is the event's receivedAt in its batch (the time in the queue marker's
// name for the layout before batches), by which QueuedEvents sorts the
// queue across batches and replicas: two deliveries whose intakes overlap
// (each arrived before the other's batch was written) have no order
// between them.

// orderKey is the order key of events about a repository URL.
func orderKey(repo string) string {
	return strings.ToLower(repourl.Normalize(repo))
}

// sequencer tracks the events this replica's workers hold.
type sequencer struct {
	mu       sync.Mutex
	inflight map[registry.EntryID]string // entry → order key ("" none)
	busy     map[string]bool             // order keys with an event at a worker
	// keys remembers the order key of the queue markers (the layout
	// before batches) due has read, by marker: a key is set when the event is accepted
	// and never changes, so a later pass need not read an event again to
	// learn that an older event of its key holds it back. Only the
	// dispatcher uses it (due, keepKeys), from one goroutine.
	keys map[registry.EntryID]string
	// gone are the entries workers settled (their event finished) that
	// the dispatcher's view of the queue may still hold: it drops them
	// (dispatch.go).
	gone map[registry.EntryID]bool
}

func newSequencer() *sequencer {
	return &sequencer{inflight: map[registry.EntryID]string{}, busy: map[string]bool{}, keys: map[registry.EntryID]string{}, gone: map[registry.EntryID]bool{}}
}

// holding returns the entries workers hold, with their keys: a copy, which
// can only be stale by holding an event a worker has given back since (a
// later pass sees it), since only the dispatcher takes.
func (q *sequencer) holding() map[registry.EntryID]string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return maps.Clone(q.inflight)
}

// keepKeys forgets the order keys of the markers not in queued, a fresh
// listing of the queue. Only the dispatcher calls it, as due.
func (q *sequencer) keepKeys(queued []registry.QueuedRef) {
	keys := make(map[registry.EntryID]string, len(q.keys))
	if len(q.keys) > 0 {
		for _, e := range queued {
			if key, ok := q.keys[e.ID()]; ok {
				keys[e.ID()] = key
			}
		}
	}
	q.keys = keys
}

// take marks the event of entry id, with key, as handed to a worker;
// false when a worker holds it or another event of key.
func (q *sequencer) take(id registry.EntryID, key string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.inflight[id]; ok || key != "" && q.busy[key] {
		return false
	}
	q.inflight[id] = key
	if key != "" {
		q.busy[key] = true
	}
	return true
}

// done releases what take marked; gone says that the worker settled the
// entry (the event is finished).
func (q *sequencer) done(id registry.EntryID, gone bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if gone {
		q.gone[id] = true
	}
	if key, ok := q.inflight[id]; ok {
		delete(q.inflight, id)
		delete(q.busy, key)
	}
}

// canonical returns the one copy of key that the keys share, so that due
// compares the keys of neighbouring events by address, not byte by byte.
func canonical(key string) string {
	return unique.Make(key).Value()
}

// forgetGone is called before a listing of the queue: a marker deleted
// before it began is not in it.
func (q *sequencer) forgetGone() {
	q.mu.Lock()
	defer q.mu.Unlock()
	clear(q.gone)
}

// pruneGone returns queued less the markers reported gone, in place, and
// how many of its first entries moved (the rest is queued's end as it
// was). The finished events are the oldest of their keys, near the front
// of a long queue: it looks up markers only until it met every gone one,
// and moves the events it keeps before them, not the long rest after.
func (q *sequencer) pruneGone(queued []registry.QueuedRef) ([]registry.QueuedRef, int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.gone) == 0 {
		return queued, 0
	}
	left, i := len(q.gone), 0
	var kept []int // the places before i of the events kept
	for ; i < len(queued) && left > 0; i++ {
		if q.gone[queued[i].ID()] {
			left--
		} else {
			kept = append(kept, i)
		}
	}
	// Move the kept ones, in order, to just before i.
	start := i - len(kept)
	for k := len(kept) - 1; k >= 0; k-- {
		queued[start+k] = queued[kept[k]]
	}
	clear(queued[:start]) // no longer in the view: let them go
	// Out of the view, they need no pruning again: the next listing begins
	// after their markers were deleted.
	clear(q.gone)
	return queued[start:], len(kept)
}

// queueView is the dispatcher's view of the queue (dispatch.go): the
// entries of its last listing, oldest first, less the ones workers
// finished, and where each entry's run ends, so that a pass steps over
// the rest of a run whose key is blocked at once (due). A run is a
// sequence of batch entries of one order key (an entry without a key, or
// of the layout before batches, is a run of its own): a burst of
// deliveries about one repository makes one as long as the backlog, and
// a pass walked all of it (100,000 entries: 0.5 ms) to find nothing, a
// hundred times a second.
type queueView struct {
	queued []registry.QueuedRef
	// runEnds[i] is the number of entries after the end of the run
	// queued[i] is in. Counted from the end, it holds when entries before
	// the run's end are dropped and the view is sliced from the front.
	runEnds []int32
}

// reset makes queued, a new listing, the view.
func (v *queueView) reset(queued []registry.QueuedRef) {
	v.queued = queued
	v.runEnds = slices.Grow(v.runEnds[:0], len(queued))[:len(queued)]
	fillRunEnds(v.queued, v.runEnds, len(queued))
}

// prune drops the markers the workers reported gone (pruneGone).
func (v *queueView) prune(seq *sequencer) {
	pruned, moved := seq.pruneGone(v.queued)
	v.runEnds = v.runEnds[len(v.queued)-len(pruned):]
	v.queued = pruned
	fillRunEnds(v.queued, v.runEnds, moved)
}

// fillRunEnds sets runEnds[:to] from queued; runEnds[to:] is right.
func fillRunEnds(queued []registry.QueuedRef, runEnds []int32, to int) {
	n := len(queued)
	for k := to - 1; k >= 0; k-- {
		if k+1 < n && sameRun(queued[k], queued[k+1]) {
			runEnds[k] = runEnds[k+1]
		} else {
			runEnds[k] = int32(n - k - 1)
		}
	}
}

// sameRun reports whether a and b, neighbours in the queue, are batch
// entries of one order key.
func sameRun(a, b registry.QueuedRef) bool {
	return a.InBatch() && b.InBatch() && a.OrderKey() != "" && a.OrderKey() == b.OrderKey()
}

// due picks, from the queued markers (oldest first), the events to hand
// to workers now, in order: per order key the oldest one that is due, when
// no event of the key is processed anywhere; events without a key that are
// due; done events and orphan markers (a worker deletes the marker). It
// reads each event it looks at; yield is called with each pick, and
// whether the pick's event had no record (a batch entry no worker took),
// and returns false to stop. With runEnds (queueView's), it steps over
// the rest of a run whose key is blocked at once; nil steps one by one.
func (s *Server) due(ctx context.Context, queued []registry.QueuedRef, runEnds []int32, yield func(q registry.QueuedEvent, unrecorded bool) bool) {
	blocked := map[string]bool{} // keys with an older event processing or due
	// The keys of the queued events read before: a burst of deliveries for
	// one repository costs one read per event, not one per event and pass.
	// The dispatcher drops the markers no longer queued (keepKeys).
	known := s.seq.keys
	held := s.seq.holding()
	last := "" // the key found blocked last: a burst's events are neighbours
	for i := 0; i < len(queued); i++ {
		q := queued[i].Event()
		// A held event only blocks its key: one already blocked need not
		// be looked up (most of a long queue, in a burst for one repository),
		// nor need the rest of its run.
		// A batch entry carries its key (one copy per key, as canonical's).
		key, ok := q.OrderKey, true
		if q.Batch == "" {
			key, ok = known[q.ID]
		}
		if ok && key != "" && (key == last || blocked[key]) {
			last = key
			if runEnds != nil {
				i = len(queued) - int(runEnds[i]) - 1 // the run's last entry
			}
			continue
		}
		if key, ok := held[q.ID]; ok {
			if key != "" {
				blocked[key] = true
			}
			continue
		}
		ev, _, err := s.reg.Event(ctx, q.Source, q.Delivery)
		key = ev.OrderKey
		unrecorded := false
		if err == nil && q.Batch == "" {
			known[q.ID] = canonical(ev.OrderKey)
		}
		now := s.now()
		switch {
		case errors.Is(err, store.ErrNotExist) && q.Batch != "":
			key, unrecorded = q.OrderKey, true // a batch entry no worker took yet: due
		case errors.Is(err, store.ErrNotExist):
			key = "" // an orphan marker: a worker deletes it once old
		case err != nil:
			// Without the event its key is unknown: stop here rather than
			// let a later event of its repository pass it.
			s.log.Warn("read a queued event; trying again", "delivery", q.Delivery, "error", err)
			return
		case q.Gone(ev):
			key = "" // done, or a copy: a worker settles the entry
		case key != "" && blocked[key]:
			continue
		case ev.Claim != nil && ev.Claim.Until.After(now):
			if key != "" {
				blocked[key] = true // processed by another replica
			}
			continue
		case ev.NextAttempt.After(now):
			continue // waiting: the later events of its key go ahead
		}
		if key != "" {
			blocked[key] = true
		}
		if !s.seq.take(q.ID, key) {
			continue
		}
		if !yield(q, unrecorded) {
			return
		}
	}
}
