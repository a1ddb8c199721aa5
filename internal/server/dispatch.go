package server

import (
	"context"
	"time"

	"github.com/maestroplusplus/maestro/internal/registry"
)

// relistInterval bounds how often an accepted event makes the dispatcher
// list the queue: the events accepted within it share one listing. A
// listing costs as much as the queue is long, so listing after every
// accepted event made a burst of deliveries cost more per delivery the
// longer the backlog grew. A listing that took longer than a tenth of it
// puts the next one off by ten times its own duration, so that listing a
// long backlog takes at most a tenth of the dispatcher's time.
const relistInterval = 50 * time.Millisecond

// dispatch hands queued events to the workers, oldest first, one at a time
// per repository (see due). It keeps a view of the queue: the markers of
// its last listing, less those its workers finished. It lists the queue
// again after an event is accepted here (at most every relistInterval: the
// deliveries of a burst share a listing) and every pollInterval (events
// other replicas accepted, events a dead replica left, retries that came
// due); after a worker is done with an event it looks at its view only.
//
// Why the view keeps the order of a repository's events: an event is
// handed out only by a pass over a listing made after its own intake, and
// any older event of its repository whose intake ended before that listing
// is in it, so due sees it first (and, when another replica holds it, its
// live claim). An older event missing from the listing was still being
// written when the listing ran: the two intakes overlapped, and events
// whose intakes overlap have no order between them (ordering.go). A
// marker a worker of another replica deleted after the listing costs a
// read (the event is done) and a worker's claim attempt, which deletes
// nothing twice.
func (s *Server) dispatch(ctx context.Context, stop <-chan struct{}, jobs chan<- job) {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var (
		queued   []registry.QueuedEvent
		listed   time.Time     // when the last listing started
		gap      time.Duration // the least time between two listings
		relist   = true
		deferred <-chan time.Time // a listing put off by relistInterval
	)
	for {
		if relist && deferred == nil {
			if wait := gap - time.Since(listed); wait > 0 {
				deferred = time.After(wait)
			} else {
				relist, listed = false, time.Now()
				// Markers finished from here on may be in the listing:
				// the view drops them as they are reported.
				s.seq.forgetGone()
				fresh, err := s.reg.QueuedEvents(ctx)
				gap = max(relistInterval, 10*time.Since(listed))
				if err != nil {
					s.log.Warn("list queued events; trying again", "error", err)
				} else {
					queued = fresh
					s.seq.keepKeys(fresh)
				}
			}
		}
		queued = s.seq.pruneGone(queued)
		s.metrics.queueDepth.Set(float64(len(queued)))
		stopped := false
		s.due(ctx, queued, func(q registry.QueuedEvent, unrecorded bool) bool {
			select {
			case jobs <- job{q, unrecorded}:
				return true
			case <-stop:
				s.seq.done(q.Marker, false)
				stopped = true
				return false
			}
		})
		if stopped {
			return
		}
		select {
		case <-stop:
			return
		case <-s.kick:
			relist = true
		case <-tick.C:
			relist = true
		case <-deferred:
			deferred = nil
		case <-s.settled:
		}
	}
}

// job is a queued event handed to a worker; unrecorded says that the
// dispatcher found no record of it (a batch entry no worker took yet).
type job struct {
	registry.QueuedEvent
	unrecorded bool
}

// wake tells the dispatcher that an event was accepted here.
func (s *Server) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// settle tells the dispatcher that a worker is done with an event.
func (s *Server) settle() {
	select {
	case s.settled <- struct{}{}:
	default:
	}
}
