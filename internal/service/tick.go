package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/maestroplusplus/maestro/internal/flow"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/updater"
)

// claimFor is how long an attempt holds its subscription: others that come
// meanwhile leave their build as pending work instead of racing it. A
// claimer that dies is replaced once the claim lapses.
const claimFor = 15 * time.Minute

// tickConcurrency bounds the subscriptions one tick works on at once: their
// store writes and host requests overlap; different subscriptions never
// share state, and updates of one pull request serialize in the updater.
const tickConcurrency = 16

// errBusy: another attempt holds the subscription's claim.
var errBusy = errors.New("another flow of this subscription is in progress")

// errDueTaken: the due time a tick read was handled by another tick (or a
// publish) before this one could claim the subscription.
var errDueTaken = errors.New("the due time was handled meanwhile")

// anyVersion: an attempt not bound to one due time (a publish, a trigger).
const anyVersion = -1

type attemptKind int

const (
	// attemptFlow flows the way the subscription asks (queue or apply).
	attemptFlow attemptKind = iota
	// attemptApply applies here (what an update pipeline runs).
	attemptApply
	// attemptScheduled is a tick's run at a calendar slot (flows like attemptFlow).
	attemptScheduled
)

// flowOne makes one attempt at flowing build buildID through sub at now,
// under the subscription's claim, and records the result in its flow state:
// an update that cannot be done now (checks pending, a host's transient
// failure, a claim held by another attempt) becomes pending work with its
// reason and next attempt; a newer build supersedes older pending work.
//
// Consistency: the claim, the attempt's outcome record and the state update
// are separate writes. A crash after the claim leaves the claim, which lapses
// after claimFor; pending work it held stays in the state and runs at the
// next tick after that. A crash after the outcome record leaves the state
// one attempt behind the history: the next tick repeats the attempt, which
// the updater's rules for open pull requests make harmless (it updates the
// same pull request, or finds nothing to change).
func (s *Service) flowOne(ctx context.Context, sub maestro.Subscription, buildID int, now time.Time, kind attemptKind) (maestro.FlowOutcome, error) {
	return s.flowDue(ctx, sub, buildID, now, kind, anyVersion)
}

// flowDue is flowOne for a tick that read the flow state at version: the
// claim is written only while the state still has that version (every
// change of the due time raises it), so of ticks that read one due time —
// two replicas, or a deposed leader finishing its tick after the new one ran
// — one attempts it and the others find it handled and attempt nothing (a
// zero outcome).
func (s *Service) flowDue(ctx context.Context, sub maestro.Subscription, buildID int, now time.Time, kind attemptKind, version int) (maestro.FlowOutcome, error) {
	owner := uuid.NewString()
	var prior registry.FlowState
	_, err := s.Registry.UpdateFlowState(ctx, sub.ID, func(st *registry.FlowState, _ bool) error {
		if version != anyVersion && st.Version != version {
			return errDueTaken
		}
		if st.Claim != nil && st.Claim.Until.After(s.Now()) {
			return errBusy
		}
		prior = *st
		st.Claim = &registry.Claim{Owner: owner, Until: s.Now().Add(claimFor)}
		return nil
	})
	if errors.Is(err, errDueTaken) {
		return maestro.FlowOutcome{}, nil
	}
	if errors.Is(err, errBusy) && version != anyVersion {
		// Another tick won the claim of this due time (as tickEntries skips a
		// claim it sees): it does the work, and pending work stays.
		return maestro.FlowOutcome{}, nil
	}
	if errors.Is(err, errBusy) {
		return s.busy(ctx, sub, buildID, now)
	}
	if err != nil {
		return maestro.FlowOutcome{}, err
	}

	attempts, limited := 1, 0
	if prior.Pending != nil && prior.Pending.BuildID == buildID {
		attempts, limited = prior.Pending.Attempts+1, prior.Pending.RateLimited
	}
	upd := *s.Updater
	upd.Now = func() time.Time { return now }
	var retryAt time.Time
	reason := "host"
	rateLimited := false
	upd.Retry = func(err error) (string, bool) {
		var capErr *registry.CapError
		if errors.As(err, &capErr) {
			// A cap of the repository policy is no failure either: the
			// update waits, without counting an attempt, until the hourly
			// cap frees a slot, or polls for an open pull request to close.
			reason, attempts = "cap", attempts-1
			retryAt = now.Add(capPoll)
			if capErr.Until.After(now) {
				retryAt = capErr.Until
			}
			return fmt.Sprintf("%v; next attempt at %s", err, retryAt.UTC().Format(time.RFC3339)), true
		}
		if after, ok := RateLimited(err, now); ok {
			// A rate limit is no failure of the update: it waits as long as
			// the host asks (bounded, see rateDelay) and does not count
			// against MaxAttempts, so it never drops the update.
			rateLimited, reason = true, "rate-limit"
			attempts, limited = attempts-1, limited+1
			retryAt = now.Add(rateDelay(after, limited))
			return fmt.Sprintf("%v — rate limited by the host (%d in a row; not counted as an attempt); next attempt at %s", err, limited, retryAt.UTC().Format(time.RFC3339)), true
		}
		after, ok := Retryable(err, now)
		if errors.Is(err, updater.ErrRace) {
			// Another update of the pull request won: the next attempt
			// starts from the branch's new head and the record's new version.
			after, ok, reason = 0, true, "race"
		}
		if !ok || attempts >= MaxAttempts {
			return "", false
		}
		retryAt = now.Add(max(retryDelay(attempts), after))
		return fmt.Sprintf("%v — attempt %d of %d; next attempt at %s", err, attempts, MaxAttempts, retryAt.UTC().Format(time.RFC3339)), true
	}
	var o maestro.FlowOutcome
	if kind == attemptApply {
		o, err = upd.Apply(ctx, sub.ID, buildID)
	} else {
		o, err = upd.Flow(ctx, sub.ID, buildID)
	}

	_, serr := s.Registry.UpdateFlowState(ctx, sub.ID, func(st *registry.FlowState, _ bool) error {
		if st.Claim != nil && st.Claim.Owner == owner {
			st.Claim = nil
		}
		if o.SubscriptionID == "" {
			return nil // nothing was attempted (bad input); only the claim ends
		}
		st.LastAttempt, st.LastBuildID, st.LastResult = now, buildID, o.Result
		st.LastAppliedBuildID = max(st.LastAppliedBuildID, sub.LastAppliedBuildID)
		if o.Result == maestro.ResultNoUpdate {
			st.LastAppliedBuildID = max(st.LastAppliedBuildID, buildID)
		}
		newer := st.Pending != nil && st.Pending.BuildID > buildID
		switch {
		case newer:
			// A newer build arrived meanwhile: it supersedes this one and stays pending.
		case o.Result == maestro.ResultRescheduled:
			p := registry.PendingWork{BuildID: buildID, Reason: "checks", Message: o.Message, Attempts: attempts, Since: now, NextAttempt: now.Add(checksPoll)}
			if !retryAt.IsZero() {
				p.Reason, p.NextAttempt = reason, retryAt
			}
			if rateLimited {
				p.RateLimited = limited
			}
			if st.Pending != nil && st.Pending.BuildID == buildID {
				p.Since = st.Pending.Since
			}
			st.Pending = &p
		default:
			st.Pending = nil
		}
		schedule(st, sub, now, kind == attemptScheduled || completed(o.Result))
		return nil
	})
	return o, errors.Join(err, serr)
}

// completed reports whether an outcome finished the work of a scheduled run.
func completed(r maestro.FlowResult) bool {
	return r == maestro.ResultUpdated || r == maestro.ResultNoUpdate || r == maestro.ResultConflict || r == maestro.ResultQueued
}

// schedule keeps the calendar fields of st in step with the subscription:
// ran marks a run at now; a subscription that is not scheduled (any more)
// has none.
func schedule(st *registry.FlowState, sub maestro.Subscription, now time.Time, ran bool) {
	if !sub.Enabled || !flow.Scheduled(sub.Policy.UpdateFrequency) {
		st.NextDue = time.Time{}
		return
	}
	if ran {
		st.LastRun = now
	}
	if st.LastRun.IsZero() {
		if st.NextDue.IsZero() {
			st.NextDue = registry.DueAtOnce // never run: due at the next tick
		}
		return
	}
	st.NextDue = flow.NextDue(sub.Policy.UpdateFrequency, st.LastRun)
}

// busy records that buildID met another attempt in progress: the build
// becomes (or supersedes) the pending work, due at once, and the history
// says so.
func (s *Service) busy(ctx context.Context, sub maestro.Subscription, buildID int, now time.Time) (maestro.FlowOutcome, error) {
	_, err := s.Registry.UpdateFlowState(ctx, sub.ID, func(st *registry.FlowState, _ bool) error {
		if st.Pending != nil && st.Pending.BuildID >= buildID {
			return registry.ErrUnchanged
		}
		st.Pending = &registry.PendingWork{BuildID: buildID, Reason: "busy", Message: errBusy.Error(), Attempts: 0, Since: now, NextAttempt: now}
		return nil
	})
	if err != nil {
		return maestro.FlowOutcome{}, err
	}
	o := maestro.FlowOutcome{SubscriptionID: sub.ID, BuildID: buildID, Time: now.UTC(), Result: maestro.ResultRescheduled,
		Message: errBusy.Error() + "; the build waits for the next `maestro flow tick`"}
	o, err = s.Registry.RecordOutcome(ctx, o)
	return o, err
}

// Tick runs, as of now, the flow that is due: pending work whose next
// attempt has come, and scheduled subscriptions whose calendar slot has
// passed, each with the newest build of its source in its channel when that
// is newer than the one applied last. It reads the due index and the flow
// state of what is due — never outcome histories — so its cost follows what
// is due, not how many subscriptions or outcomes exist.
func (s *Service) Tick(ctx context.Context, now time.Time) ([]maestro.FlowOutcome, error) {
	if err := s.adopt(ctx, now); err != nil {
		return nil, err
	}
	entries, err := s.Registry.DueSubscriptions(ctx, now)
	if err != nil {
		return nil, err
	}
	// The entries of one subscription (a stale one may sit beside the live one) go together.
	var order []string
	groups := map[string][]registry.DueEntry{}
	for _, e := range entries {
		if _, ok := groups[e.SubscriptionID]; !ok {
			order = append(order, e.SubscriptionID)
		}
		groups[e.SubscriptionID] = append(groups[e.SubscriptionID], e)
	}
	type result struct {
		outcome maestro.FlowOutcome
		err     error
	}
	results := make([]result, len(order))
	var wg sync.WaitGroup
	sem := make(chan struct{}, tickConcurrency)
	for i, id := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			o, err := s.tickEntries(ctx, groups[id], now)
			if err != nil {
				err = fmt.Errorf("subscription %s: %w", id, err)
			}
			results[i] = result{o, err}
		}()
	}
	wg.Wait()
	outcomes := []maestro.FlowOutcome{}
	var errs []error
	for _, r := range results {
		if r.outcome.SubscriptionID != "" {
			outcomes = append(outcomes, r.outcome) // a failed attempt is its outcome
		} else if r.err != nil {
			errs = append(errs, r.err)
		}
	}
	return outcomes, errors.Join(errs...)
}

// tickEntries runs one subscription whose due index entries have come due:
// it drops entries that no longer match the flow state and runs the
// subscription if the state says it is due and nobody is working on it.
func (s *Service) tickEntries(ctx context.Context, entries []registry.DueEntry, now time.Time) (maestro.FlowOutcome, error) {
	st, ok, err := s.Registry.FlowState(ctx, entries[0].SubscriptionID)
	if err != nil {
		return maestro.FlowOutcome{}, err
	}
	live := false
	for _, e := range entries {
		if e.Matches(st) {
			live = true
			continue
		}
		if err := s.Registry.DropStaleDueEntry(ctx, e, st); err != nil {
			return maestro.FlowOutcome{}, err
		}
	}
	if !live && (!ok || st.Due().IsZero() || st.Due().After(now)) {
		return maestro.FlowOutcome{}, nil
	}
	if st.Claim != nil && st.Claim.Until.After(s.Now()) {
		return maestro.FlowOutcome{}, nil // in progress elsewhere; its pending work stays
	}
	return s.tickOne(ctx, st, now)
}

// adopt gives every subscription without flow state (those from before flow
// state existed; new ones get theirs when added) its state, scheduled ones
// due at once, and marks the registry adopted: later ticks read one marker.
func (s *Service) adopt(ctx context.Context, now time.Time) error {
	ids, err := s.Registry.SubscriptionsWithoutFlowState(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		sub, err := s.Registry.Subscription(ctx, id)
		if maestro.KindOf(err) == maestro.KindNotFound {
			continue
		}
		if err != nil {
			return err
		}
		if _, err := s.Registry.UpdateFlowState(ctx, id, func(st *registry.FlowState, exists bool) error {
			if exists {
				return registry.ErrUnchanged
			}
			st.LastAppliedBuildID = sub.LastAppliedBuildID
			schedule(st, sub, now, false)
			return nil
		}); err != nil {
			return err
		}
	}
	return s.Registry.MarkAdopted(ctx)
}

// tickOne runs one due subscription.
func (s *Service) tickOne(ctx context.Context, st registry.FlowState, now time.Time) (maestro.FlowOutcome, error) {
	sub, err := s.Registry.Subscription(ctx, st.SubscriptionID)
	if maestro.KindOf(err) == maestro.KindNotFound {
		return maestro.FlowOutcome{}, s.Registry.DeleteFlowState(ctx, st.SubscriptionID)
	}
	if err != nil {
		return maestro.FlowOutcome{}, err
	}
	scheduled := sub.Enabled && flow.Scheduled(sub.Policy.UpdateFrequency) && !st.NextDue.IsZero() && !st.NextDue.After(now)
	pending := st.Pending != nil && !st.Pending.NextAttempt.After(now)
	build := 0
	if sub.Enabled && (scheduled || pending) {
		if pending {
			build = st.Pending.BuildID
		}
		latest, err := s.Registry.LatestBuild(ctx, sub.SourceRepository, sub.ChannelID)
		if err != nil && maestro.KindOf(err) != maestro.KindNotFound {
			return maestro.FlowOutcome{}, err
		}
		build = max(build, latest.ID)
	}
	if build <= sub.LastAppliedBuildID {
		// Nothing newer to flow (or disabled): the pending work is stale and
		// the slot is spent.
		_, err := s.Registry.UpdateFlowState(ctx, sub.ID, func(cur *registry.FlowState, _ bool) error {
			if cur.Version != st.Version {
				return registry.ErrUnchanged // another tick handled this due time
			}
			if cur.Pending != nil && cur.Pending.BuildID <= sub.LastAppliedBuildID || !sub.Enabled {
				cur.Pending = nil
			}
			schedule(cur, sub, now, scheduled)
			return nil
		})
		return maestro.FlowOutcome{}, err
	}
	kind := attemptFlow
	if scheduled {
		kind = attemptScheduled
	}
	return s.flowDue(ctx, sub, build, now, kind, st.Version)
}
