package legacy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
)

// maxDeliveries is how many push deliveries a watch state remembers, so
// that one delivered again (a retry after a crash) is taken once: far more
// than the pushes to one branch during a retry's wait.
const maxDeliveries = 500

// zeroCommit is the before (or after) of a push that created (or deleted) a
// branch.
const zeroCommit = "0000000000000000000000000000000000000000"

// Delivered is a push as a webhook delivers it: the push, the delivery's
// id and the branch's commit before and after it.
type Delivered struct {
	ID     string // the delivery id (X-GitHub-Delivery)
	Push   Push
	Before string
	After  string
}

// TakePush matches a delivered push of the watcher's repository and branch
// and adds the actions it triggers to the pending actions, in one write of
// the watch state, as Poll takes commits; QueueDue then queues those that
// are due. A delivery the state lists was taken before: nothing changes
// (taken false). The state remembers the last maxDeliveries ids.
//
// A push whose before is the last processed commit (or a branch never
// watched) moves the last processed commit to its after, so that a `legacy
// watch` of the same branch on the same store does not take the commits
// again; a push whose after is the last processed commit was taken by a
// watch already and triggers nothing. Any other push (a feed is ahead or
// behind, or a delivery was lost) is matched on its own commits and leaves
// the last processed commit alone.
func (w *Watcher) TakePush(ctx context.Context, d Delivered) (taken bool, triggers []Trigger, err error) {
	if d.ID == "" {
		return false, nil, errors.New("take a push: no delivery id")
	}
	for range maxCAS {
		st, etag, err := w.State(ctx)
		if err != nil {
			return false, nil, err
		}
		if st == nil {
			st = &WatchState{Repository: w.GitHubRepo, Branch: w.Branch}
		}
		if slices.Contains(st.Deliveries, d.ID) {
			return false, nil, nil
		}
		triggers = nil
		switch {
		case d.After != "" && d.After != zeroCommit && st.LastCommit == d.After:
			// A watch took these commits.
		case st.LastCommit == "" || st.LastCommit == d.Before:
			triggers = w.File.Match(d.Push)
			if d.After != zeroCommit {
				st.LastCommit = d.After
			}
		default:
			triggers = w.File.Match(d.Push)
		}
		st.addPending(triggers, w.Now())
		st.Deliveries = append(st.Deliveries, d.ID)
		if len(st.Deliveries) > maxDeliveries {
			st.Deliveries = st.Deliveries[len(st.Deliveries)-maxDeliveries:]
		}
		err = w.put(ctx, st, etag)
		if errors.Is(err, store.ErrPrecondition) {
			continue // another push or watcher wrote the state; read again
		}
		if err != nil {
			return false, nil, fmt.Errorf("write the watch state: %w", err)
		}
		return true, triggers, nil
	}
	return false, nil, maestro.Errorf(maestro.KindConflict, "the watch state %s kept changing under %d attempts; deliver the push again", StateKey(w.GitHubRepo, w.Branch), maxCAS)
}

// addPending adds triggered actions to the pending ones, coalescing each
// with a pending action of the same subscription handler that no attempt
// has sent.
func (st *WatchState) addPending(triggers []Trigger, now time.Time) {
	for _, t := range triggers {
		merged := false
		for i := range st.Pending {
			p := &st.Pending[i]
			// Not into an action an attempt has sent (a claim, even
			// released): the build it may have queued, which a retry
			// takes, names only the earlier commits.
			if p.Claim == nil && p.Trigger.Key() == t.Key() {
				p.Trigger = p.Trigger.Merge(t)
				merged = true
				break
			}
		}
		if !merged {
			st.Pending = append(st.Pending, PendingAction{Trigger: t, Due: now.Add(t.Delay)})
		}
	}
}

// QueueDue queues the pending actions of the watcher's branch that are due
// and that nobody is queueing, as Poll does after taking commits. The
// report's Queued, Errors and Waiting say what it did, and NextDue when
// the first action left is due, or, for one another attempt is queueing,
// when its claim lapses (zero when none is left): so that a caller that
// comes back then takes over an action whose queuer died.
func (w *Watcher) QueueDue(ctx context.Context) (PollReport, error) {
	var rep PollReport
	if err := w.queueDue(ctx, &rep); err != nil {
		return rep, err
	}
	st, _, err := w.State(ctx)
	if err != nil || st == nil {
		return rep, err
	}
	for _, p := range st.Pending {
		due := p.Due
		if p.Claim != nil && p.Claim.Until.After(due) {
			// Another attempt is queueing it; should it have died, the
			// action is taken over when its claim lapses.
			due = p.Claim.Until
		}
		if rep.NextDue.IsZero() || due.Before(rep.NextDue) {
			rep.NextDue = due
		}
	}
	return rep, nil
}
