package registry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Flow state: one small document per subscription, flow/state/{id}.json,
// holds what the flow needs to decide about the subscription without its
// outcome history — the last attempt, the scheduled calendar, the pending
// work and who is working on it now. Every change is a compare-and-swap
// (ETag) of that one document.
//
// The due index, index/flow/due/{unix seconds, 12 digits}-{id}-{version}
// (empty objects), lets `flow tick` find due subscriptions from one key
// listing. The document is the truth and the index a hint. A write that
// changes the document's due time raises its version, and (1) creates the
// index entry of its new due time and version, (2) writes the document with
// compare-and-swap — the commit point — and (3) deletes the entry of the
// version it replaced; a write that keeps the due time (a claim, a result
// that leaves the schedule) is step 2 alone. Versions make every entry name
// unique to one due-time change, so step 3 never deletes an entry that a
// later write needs. A crash, or a lost
// compare-and-swap, between the steps leaves an extra entry, never a missing
// one; tick reads the document of every entry that has come due and drops
// the entries that do not match it (DropStaleDueEntry).

func flowStateKey(id string) string { return "flow/state/" + id + ".json" }

const dueIndexPrefix = "index/flow/due/"

func dueKey(id string, due time.Time, version int) string {
	return fmt.Sprintf("%s%012d-%s-%d", dueIndexPrefix, due.Unix(), id, version)
}

// FlowState is the flow's record of one subscription.
type FlowState struct {
	SubscriptionID string `json:"subscriptionId"`
	// Version counts the changes of the document's due time.
	Version int `json:"version"`
	// LastAppliedBuildID is the newest build known applied (the
	// subscription's own field is authoritative; this copy is for readers
	// of the state alone).
	LastAppliedBuildID int                `json:"lastAppliedBuildId,omitempty"`
	LastAttempt        time.Time          `json:"lastAttempt,omitzero"`
	LastBuildID        int                `json:"lastBuildId,omitempty"`
	LastResult         maestro.FlowResult `json:"lastResult,omitempty"`
	// LastRun is when a scheduled subscription last ran (or found nothing
	// newer); NextDue the calendar slot after it. Zero for everyBuild and none.
	LastRun time.Time `json:"lastRun,omitzero"`
	NextDue time.Time `json:"nextDue,omitzero"`
	// Pending is the update that could not be done yet, if any.
	Pending *PendingWork `json:"pending,omitempty"`
	// Claim marks an attempt in progress; it lapses at Until.
	Claim *Claim `json:"claim,omitempty"`
}

// PendingWork is an update kept for later: checks pending on the open pull
// request, a host that answered 429 or 5xx or timed out, or an attempt that
// met another one in progress.
type PendingWork struct {
	BuildID int `json:"buildId"`
	// Reason is "checks", "host", "rate-limit" (the host refused the
	// request for a rate limit), "race" (another update of the pull
	// request won a race: the branch moved, the record changed, the lock was
	// held too long), "busy", or "cap" (the target branch's repository
	// policy caps open or new pull requests; registry.CapError).
	Reason  string `json:"reason"`
	Message string `json:"message"`
	// Attempts counts the attempts at this build that count against the
	// retry limit (a rate limit does not).
	Attempts int `json:"attempts"`
	// RateLimited counts the attempts in a row that the host refused for a
	// rate limit (zero after any other result); it grows the wait when the
	// host names none.
	RateLimited int       `json:"rateLimited,omitempty"`
	Since       time.Time `json:"since"`
	NextAttempt time.Time `json:"nextAttempt"`
}

// Claim is a time-limited right to work on a subscription.
type Claim struct {
	Owner string    `json:"owner"`
	Until time.Time `json:"until"`
}

// Due is when the subscription next needs the flow: the earlier of the
// pending work's next attempt and the next calendar slot; zero for never.
func (s FlowState) Due() time.Time {
	due := s.NextDue
	if s.Pending != nil && (due.IsZero() || s.Pending.NextAttempt.Before(due)) {
		due = s.Pending.NextAttempt
	}
	return due
}

// FlowState returns the flow state of a subscription; ok is false (and the
// state empty but for its id) when none was recorded yet.
func (r *Registry) FlowState(ctx context.Context, id string) (FlowState, bool, error) {
	if err := validSubscriptionID(id); err != nil {
		return FlowState{}, false, err
	}
	s := FlowState{SubscriptionID: id}
	_, err := getJSON(ctx, r.st, flowStateKey(id), &s)
	if errors.Is(err, store.ErrNotExist) {
		return FlowState{SubscriptionID: id}, false, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("flow state of subscription %s: %w", id, err)
	}
	return s, true, nil
}

// ErrUnchanged, returned by an UpdateFlowState function, skips the write.
var ErrUnchanged = errUnchanged

// UpdateFlowState changes a subscription's flow state with compare-and-swap:
// fn sees the current state (exists false: none yet) and changes it; if
// another writer got there first, fn runs again on the newer state. The due
// index follows the document (see the layout note above).
func (r *Registry) UpdateFlowState(ctx context.Context, id string, fn func(s *FlowState, exists bool) error) (FlowState, error) {
	if err := validSubscriptionID(id); err != nil {
		return FlowState{}, err
	}
	key := flowStateKey(id)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		var cur FlowState
		etag, err := getJSON(ctx, r.st, key, &cur)
		exists := err == nil
		if err != nil && !errors.Is(err, store.ErrNotExist) {
			return cur, fmt.Errorf("flow state of subscription %s: %w", id, err)
		}
		cur.SubscriptionID = id
		oldDue := cur.Due()
		next := cur
		if cur.Pending != nil {
			p := *cur.Pending
			next.Pending = &p
		}
		if cur.Claim != nil {
			c := *cur.Claim
			next.Claim = &c
		}
		if err := fn(&next, exists); err != nil {
			if errors.Is(err, errUnchanged) {
				return cur, nil
			}
			return cur, err
		}
		next.SubscriptionID = id
		newDue := next.Due()
		moved := oldDue.IsZero() != newDue.IsZero() || (!newDue.IsZero() && oldDue.Unix() != newDue.Unix())
		next.Version = cur.Version
		if moved {
			next.Version++
		}
		// 1. The new version's index entry, before the document names it.
		if moved && !newDue.IsZero() {
			if _, err := r.st.Put(ctx, dueKey(id, newDue, next.Version), nil, store.Condition{}); err != nil {
				return cur, fmt.Errorf("index flow state of subscription %s: %w", id, err)
			}
		}
		// 2. The document: the commit point.
		cond := store.Condition{IfMatch: etag}
		if !exists {
			cond = store.Condition{CreateOnly: true}
		}
		err = putJSON(ctx, r.st, key, next, cond)
		if errors.Is(err, store.ErrPrecondition) {
			// Someone else wrote first; an entry we created is at worst stale.
			if err := backoff(ctx, attempt); err != nil {
				return cur, err
			}
			continue
		}
		if err != nil {
			return cur, fmt.Errorf("write flow state of subscription %s: %w", id, err)
		}
		// 3. The replaced version's entry.
		if moved && !oldDue.IsZero() {
			if err := r.st.Delete(ctx, dueKey(id, oldDue, cur.Version), ""); err != nil && !errors.Is(err, store.ErrNotExist) {
				return next, fmt.Errorf("unindex flow state of subscription %s: %w", id, err)
			}
		}
		return next, nil
	}
	return FlowState{}, maestro.Errorf(maestro.KindConflict, "flow state of subscription %s: gave up after %d concurrent changes; try again", id, maxAttempts)
}

// DueAtOnce is the next-due time of a scheduled subscription that has to be
// looked at by the next tick, whatever its clock says.
var DueAtOnce = time.Unix(1, 0).UTC()

// adoptedKey marks that every subscription has its flow state: new ones get
// it from AddSubscription, those from before flow state existed from the
// first tick (AdoptSubscriptions).
const adoptedKey = "flow/state-adopted.json"

// scheduled reports whether f runs on the calendar.
func scheduled(f maestro.UpdateFrequency) bool {
	return f != "" && f != maestro.FrequencyEveryBuild && f != maestro.FrequencyNone
}

// initFlowState gives a new subscription its flow state — before the
// subscription's own document, so that no subscription is without one; a
// state whose subscription never got written is deleted by the tick that
// finds it due, or stays as an inert document.
func (r *Registry) initFlowState(ctx context.Context, s maestro.Subscription) error {
	_, err := r.UpdateFlowState(ctx, s.ID, func(st *FlowState, exists bool) error {
		if exists {
			return errUnchanged
		}
		if s.Enabled && scheduled(s.Policy.UpdateFrequency) {
			st.NextDue = DueAtOnce
		}
		return nil
	})
	return err
}

// rescheduleFlowState makes a subscription whose frequency or enabled flag
// changed due at once, so that the next tick re-reads it and sets its
// calendar (a subscription without flow state needs nothing: tick adopts it).
// A crash before this write leaves the old calendar until the next change
// or run; running `maestro subscription update` again heals it.
func (r *Registry) rescheduleFlowState(ctx context.Context, id string) error {
	_, err := r.UpdateFlowState(ctx, id, func(s *FlowState, exists bool) error {
		if !exists {
			return errUnchanged
		}
		s.NextDue = DueAtOnce
		return nil
	})
	return err
}

// DeleteFlowState removes a subscription's flow state and its index entry.
func (r *Registry) DeleteFlowState(ctx context.Context, id string) error {
	s, ok, err := r.FlowState(ctx, id)
	if err != nil || !ok {
		return err
	}
	if err := r.st.Delete(ctx, flowStateKey(id), ""); err != nil && !errors.Is(err, store.ErrNotExist) {
		return err
	}
	if due := s.Due(); !due.IsZero() {
		if err := r.st.Delete(ctx, dueKey(id, due, s.Version), ""); err != nil && !errors.Is(err, store.ErrNotExist) {
			return err
		}
	}
	return nil
}

// DueEntry is one entry of the due index.
type DueEntry struct {
	SubscriptionID string
	Due            time.Time
	Version        int
}

// Matches reports whether the entry is the one s needs: its version and due time.
func (e DueEntry) Matches(s FlowState) bool {
	due := s.Due()
	return !due.IsZero() && e.Version == s.Version && e.Due.Unix() == due.Unix()
}

// DueSubscriptions lists the due index entries whose time is at or before
// now, oldest first (one key listing; no document is read).
func (r *Registry) DueSubscriptions(ctx context.Context, now time.Time) ([]DueEntry, error) {
	keys, err := r.st.List(ctx, dueIndexPrefix)
	if err != nil {
		return nil, fmt.Errorf("due index: %w", err)
	}
	var out []DueEntry
	for _, k := range keys {
		e, ok := parseDueKey(k)
		if !ok {
			continue
		}
		if e.Due.After(now) {
			break // keys sort by time
		}
		out = append(out, e)
	}
	return out, nil
}

func parseDueKey(k string) (DueEntry, bool) {
	rest, ok := strings.CutPrefix(k, dueIndexPrefix)
	if !ok || len(rest) < 14 || rest[12] != '-' {
		return DueEntry{}, false
	}
	sec, err := strconv.ParseInt(rest[:12], 10, 64)
	if err != nil {
		return DueEntry{}, false
	}
	idv := rest[13:]
	i := strings.LastIndexByte(idv, '-')
	if i <= 0 {
		return DueEntry{}, false
	}
	v, err := strconv.Atoi(idv[i+1:])
	if err != nil {
		return DueEntry{}, false
	}
	return DueEntry{SubscriptionID: idv[:i], Due: time.Unix(sec, 0).UTC(), Version: v}, true
}

// DropStaleDueEntry deletes an index entry that no longer matches its
// document, and makes sure the document's own due time has its entry (a
// writer that crashed before step 3 left the old one; see the layout note).
func (r *Registry) DropStaleDueEntry(ctx context.Context, e DueEntry, s FlowState) error {
	if e.Matches(s) {
		return nil
	}
	if due := s.Due(); !due.IsZero() {
		if _, err := r.st.Put(ctx, dueKey(e.SubscriptionID, due, s.Version), nil, store.Condition{}); err != nil {
			return err
		}
	}
	if err := r.st.Delete(ctx, dueKey(e.SubscriptionID, e.Due, e.Version), ""); err != nil && !errors.Is(err, store.ErrNotExist) {
		return err
	}
	return nil
}

// SubscriptionsWithoutFlowState lists the ids of subscriptions that have no
// flow state (those from before flow state existed), from two key listings —
// or none, without listing, once MarkAdopted has recorded that every
// subscription has one.
func (r *Registry) SubscriptionsWithoutFlowState(ctx context.Context) ([]string, error) {
	if _, _, err := r.st.Get(ctx, adoptedKey); err == nil {
		return nil, nil
	} else if !errors.Is(err, store.ErrNotExist) {
		return nil, fmt.Errorf("flow state marker: %w", err)
	}
	subs, err := r.st.List(ctx, "subscriptions/")
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	states, err := r.st.List(ctx, "flow/state/")
	if err != nil {
		return nil, fmt.Errorf("list flow state: %w", err)
	}
	have := make(map[string]bool, len(states))
	for _, k := range states {
		have[strings.TrimSuffix(strings.TrimPrefix(k, "flow/state/"), ".json")] = true
	}
	var out []string
	for _, k := range subs {
		id := strings.TrimSuffix(strings.TrimPrefix(k, "subscriptions/"), ".json")
		if !have[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

// MarkAdopted records that every subscription has its flow state (after
// the subscriptions SubscriptionsWithoutFlowState listed got theirs). A crash
// before it only means the next tick lists again.
func (r *Registry) MarkAdopted(ctx context.Context) error {
	if _, err := r.st.Put(ctx, adoptedKey, []byte("{}"), store.Condition{}); err != nil {
		return fmt.Errorf("flow state marker: %w", err)
	}
	return nil
}
