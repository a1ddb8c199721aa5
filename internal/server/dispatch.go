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
// During a burst of deliveries it hands out, and lists, less often, to
// leave the cores to intake (burst.go).
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
		view     queueView
		listed   time.Time     // when the last listing started
		gap      time.Duration // the least time between two listings
		relist   = true
		look     = true           // something changed: a pass may find work
		deferred <-chan time.Time // a listing put off by relistInterval
		meter    burstMeter       // intake's rate (burst.go)
		burst    bool             // intake is in a burst
		pace     <-chan time.Time // during a burst: the next hand-out allowed
		handed   time.Time        // during a burst: when the last event went to a worker
	)
	for {
		if b := meter.observe(time.Now(), s.acceptedHere.Load()); b != burst {
			burst = b
			s.burstChanged(burst)
		}
		if burst && pace == nil {
			pace = time.After(burstHandout)
		}
		if relist && deferred == nil {
			least := gap
			if burst {
				least = max(gap, burstRelist)
			}
			if wait := least - time.Since(listed); wait > 0 {
				deferred = time.After(wait)
			} else {
				relist, listed, look = false, time.Now(), true
				// Markers finished from here on may be in the listing:
				// the view drops them as they are reported.
				s.seq.forgetGone()
				fresh, err := s.reg.QueuedRefs(ctx)
				gap = max(relistInterval, 10*time.Since(listed))
				if err != nil {
					s.log.Warn("list queued events; trying again", "error", err)
				} else {
					view.reset(fresh)
					s.seq.keepKeys(fresh)
				}
			}
		}
		view.prune(s.seq)
		s.metrics.queueDepth.Set(float64(len(view.queued)))
		stopped := false
		// During a burst a pass runs only once the next hand-out is allowed
		// (pace wakes the loop then): a pass before it would read the
		// queue's first events for nothing.
		if look && (!burst || time.Since(handed) >= burstHandout) {
			look = false
			s.due(ctx, view.queued, view.runEnds, func(q registry.QueuedEvent, unrecorded bool) bool {
				if burst && time.Since(handed) < burstHandout {
					s.seq.done(q.ID, false) // not handed out: the next pass looks again
					return false
				}
				select {
				case jobs <- job{q, unrecorded}:
					handed = time.Now()
					return true
				case <-stop:
					s.seq.done(q.ID, false)
					stopped = true
					return false
				}
			})
		}
		if stopped {
			return
		}
		select {
		case <-stop:
			return
		case <-s.kick:
			// During a burst a delivery alone changes nothing for a pass
			// until the queue is listed again.
			relist, look = true, look || !burst
		case <-tick.C:
			relist, look = true, true
		case <-deferred:
			deferred = nil
		case <-pace:
			pace, look = nil, true
		case <-s.settled:
			look = true
		}
	}
}

// burstChanged reports that intake entered a burst (burst) or left it.
func (s *Server) burstChanged(burst bool) {
	if burst {
		s.metrics.intakeBurst.Set(1)
		s.log.Info("intake burst: processing slowed to give intake the cores", "deliveriesPerSecond", burstRate, "handout", burstHandout)
		return
	}
	s.metrics.intakeBurst.Set(0)
	s.log.Info("intake burst over: processing at full speed")
}

// job is a queued event handed to a worker; unrecorded says that the
// dispatcher found no record of it (a batch entry no worker took yet).
type job struct {
	registry.QueuedEvent
	unrecorded bool
}

// wake tells the dispatcher that an event was accepted here, and counts
// it for the burst meter.
func (s *Server) wake() {
	s.acceptedHere.Add(1)
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
