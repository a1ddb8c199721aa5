package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/service"
	"github.com/maestroplusplus/maestro/internal/store"
)

// The scheduler: of the replicas started with the scheduler on, the one
// that holds the store lease on schedulerLeaseKey runs the schedules —
// every TickInterval, what `maestro flow tick` runs: the flow that is due
// (service.Tick) and the merge policy checks that are due
// (service.CheckPullRequests). Nothing else elects it: the store's own lease
// (a blob lease on Azure; a lease file under the directory's lock on the
// local store) is the only consensus.
//
// Timing, with P the lease period (Config.Scheduler.LeasePeriod):
//   - the lease is taken for P - leaseMargin and renewed every third of
//     that; a follower tries to take it every acquireEvery;
//   - a leader that dies stops renewing: its lease expires at most
//     P - leaseMargin after its last renewal, and a follower takes it within
//     acquireEvery (plus a request) after that — within P of the death;
//   - a leader that cannot renew (the store does not answer) stops
//     scheduling one second before its lease could expire, measured from
//     when it sent its last successful renewal, so two leaders never
//     schedule at once while the clocks run at the same rate; one told the
//     lease is lost (ErrLeaseLost) stops at once;
//   - a leader that stops (SIGTERM) finishes its tick and releases the
//     lease, so a follower takes over within acquireEvery.
//
// A tick that a deposed leader is still finishing cannot repeat the new
// leader's work: each due subscription is claimed only while its flow state
// keeps the version the tick read (see service.Tick and docs/registry.md),
// and merge policy checks act under each pull request's lock.
const (
	schedulerLeaseKey = "server/locks/scheduler"
	leaseMargin       = 3 * time.Second
	acquireEvery      = time.Second
	// stopBefore is how long before its lease could expire a leader that
	// cannot renew stops scheduling.
	stopBefore = time.Second
)

// Scheduler roles /healthz reports.
const (
	roleOff      = "off"      // the scheduler is not enabled on this replica
	roleFollower = "follower" // enabled; another replica (or nobody yet) holds the lease
	roleLeader   = "leader"   // this replica runs the schedules
)

// leaseDuration is the store lease a leader holds for a lease period p.
func leaseDuration(p time.Duration) time.Duration { return p - leaseMargin }

// role says what this replica's scheduler does now.
func (s *Server) role() string {
	switch {
	case !s.cfg.Scheduler.Enabled:
		return roleOff
	case s.leading.Load():
		return roleLeader
	}
	return roleFollower
}

// runScheduler takes part in the election until stop is closed: it tries to
// take the lease every acquireEvery and, while it holds it, runs the
// schedules. When stop is closed it finishes the tick in progress (work
// bounds it) and releases a lease it holds.
func (s *Server) runScheduler(work context.Context, stop <-chan struct{}) {
	d := leaseDuration(s.cfg.Scheduler.LeasePeriod)
	st := s.reg.Store()
	for {
		sent := time.Now()
		id, err := st.AcquireLease(work, schedulerLeaseKey, d)
		switch {
		case err == nil:
			if stopped := s.lead(work, stop, id, sent); stopped {
				return
			}
		case errors.Is(err, store.ErrLeased):
		default:
			s.log.Warn("scheduler: could not ask for the lease; trying again", "lease", schedulerLeaseKey, "error", err)
		}
		select {
		case <-stop:
			return
		case <-time.After(acquireEvery):
		}
	}
}

// lead runs the schedules while the lease id (taken at sent) is held. It
// returns true when stop was closed (the lease released), false when the
// lease was lost or may have expired.
func (s *Server) lead(work context.Context, stop <-chan struct{}, id string, sent time.Time) bool {
	d := leaseDuration(s.cfg.Scheduler.LeasePeriod)
	st := s.reg.Store()
	leading, depose := context.WithCancel(work)
	defer depose()
	s.leading.Store(true)
	s.metrics.leader.Set(1)
	s.log.Info("scheduler: this replica leads: it runs the schedules", "lease", schedulerLeaseKey,
		"leasePeriod", s.cfg.Scheduler.LeasePeriod, "tickInterval", s.cfg.Scheduler.TickInterval)
	var ticking sync.WaitGroup
	stopTicks := make(chan struct{})
	ticking.Go(func() { s.tickLoop(leading, stopTicks) })
	// end stops scheduling: at once (the tick in progress is cancelled)
	// when the lease is lost, after the tick in progress when stopping.
	end := func(lost bool) {
		s.leading.Store(false)
		s.metrics.leader.Set(0)
		if lost {
			depose()
		}
		close(stopTicks)
		ticking.Wait()
	}

	renew := time.NewTimer(d / 3)
	defer renew.Stop()
	expires := time.NewTimer(time.Until(sent.Add(d - stopBefore)))
	defer expires.Stop()
	for {
		select {
		case <-stop:
			end(false)
			if err := st.ReleaseLease(context.WithoutCancel(work), schedulerLeaseKey, id); err != nil {
				s.log.Warn("scheduler: release the lease; another replica takes over when it expires", "lease", schedulerLeaseKey, "error", err)
			} else {
				s.log.Info("scheduler: released the lease", "lease", schedulerLeaseKey)
			}
			return true
		case <-expires.C:
			s.log.Warn("scheduler: could not renew the lease before it might expire; this replica stops scheduling", "lease", schedulerLeaseKey)
			end(true)
			return false
		case <-renew.C:
		}
		ctx, cancel := context.WithDeadline(work, sent.Add(d-stopBefore))
		attempt := time.Now()
		err := st.RenewLease(ctx, schedulerLeaseKey, id)
		cancel()
		switch {
		case err == nil:
			sent = attempt
			expires.Reset(time.Until(sent.Add(d - stopBefore)))
			renew.Reset(d / 3)
		case errors.Is(err, store.ErrLeaseLost):
			s.log.Warn("scheduler: lost the lease (it expired and another replica took it, or an operator broke it); this replica stops scheduling", "lease", schedulerLeaseKey)
			end(true)
			return false
		default:
			s.log.Warn("scheduler: renew the lease; trying again", "lease", schedulerLeaseKey, "error", err)
			renew.Reset(acquireEvery)
		}
	}
}

// tickLoop runs a tick at once and then every TickInterval, until stop is
// closed (after the tick in progress) or ctx ends (the lease was lost: the
// tick in progress is cancelled).
func (s *Server) tickLoop(ctx context.Context, stop <-chan struct{}) {
	t := time.NewTicker(s.cfg.Scheduler.TickInterval)
	defer t.Stop()
	for {
		s.tick(ctx)
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tick runs what `maestro flow tick` runs, as of now: the flow that is due,
// then the merge policy checks that are due.
func (s *Server) tick(ctx context.Context) {
	// A tick is bounded as an event's work is (Config.EventTimeout): the
	// clients of GitHub and Azure DevOps have no timeout of their own, and
	// a tick that never ended would stop the schedules of every replica
	// while this one kept renewing the lease. What a tick cut short did not
	// attempt is still due at the next.
	ctx, cancel := context.WithTimeout(ctx, s.cfg.EventTimeout)
	defer cancel()
	start := time.Now()
	now := s.now()
	outcomes, terr := s.svc.Tick(ctx, now)
	spec, serr := s.svc.TickSpeculative(ctx, now)
	outcomes, terr = append(outcomes, spec...), errors.Join(terr, serr)
	checks, cerr := s.svc.CheckPullRequests(ctx, now, service.CheckRequest{})
	s.countFlow(outcomes...)
	s.countChecks(checks)
	result := "ok"
	if err := errors.Join(terr, cerr); err != nil {
		result = "error"
		if maestro.KindOf(err) == maestro.KindUnavailable || ctx.Err() != nil {
			result = "unavailable"
		}
		s.log.Warn("scheduler: tick", "outcomes", len(outcomes), "checked", len(checks), "error", err)
	}
	s.metrics.ticks.WithLabelValues(result).Inc()
	s.log.Info("scheduler: tick", "at", now.UTC().Format(time.RFC3339), "outcomes", len(outcomes), "checked", len(checks),
		"took", time.Since(start).Round(time.Millisecond))
	for _, o := range outcomes {
		s.log.Info("scheduler: flow", "subscription", o.SubscriptionID, "build", o.BuildID, "result", o.Result, "message", o.Message)
	}
}
