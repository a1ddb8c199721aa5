package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Flow history: every outcome is one document under its build, and an empty
// index object under its subscription, so "what happened to build N" and
// "what happened to subscription S" are each one prefix listing.
//
// An outcome's name is its time in nanoseconds and a sequence number
// (`01795608000000000000-000`): two outcomes of one subscription and
// build at the same instant (two processes, or a coarse clock) take the next
// free number, because the index entry that reserves it is written
// create-only. Names without
// the sequence number, written before it existed, are read the same way.
func outcomeName(o maestro.FlowOutcome, seq int) string {
	return fmt.Sprintf("%020d-%03d", o.Time.UnixNano(), seq)
}

func outcomeKey(o maestro.FlowOutcome, name string) string {
	return fmt.Sprintf("flow/outcomes/%s/%s/%s.json", idKey(o.BuildID), o.SubscriptionID, name)
}

func outcomeIndexKey(o maestro.FlowOutcome, name string) string {
	return fmt.Sprintf("index/outcomes/subscription/%s/%s/%s", o.SubscriptionID, idKey(o.BuildID), name)
}

// maxOutcomesPerInstant bounds the search for a free name.
const maxOutcomesPerInstant = 1000

// RecordOutcome adds one record to the flow history. A zero Time is now.
//
// The name is reserved first: the empty index entry under the subscription
// is written create-only (two writers at one instant take different
// sequence numbers there), then the document under that name, which is the
// commit point. A writer that dies between the two leaves an index entry
// without a document, which readers skip; no outcome is ever findable by
// build and not by subscription. A document without its entry (written by an
// earlier version, which wrote the document first) is reported by `registry
// check` as a missing entry and indexed by `registry repair`.
func (r *Registry) RecordOutcome(ctx context.Context, o maestro.FlowOutcome) (maestro.FlowOutcome, error) {
	if err := validSubscriptionID(o.SubscriptionID); err != nil {
		return o, err
	}
	if o.Time.IsZero() {
		o.Time = r.now().UTC()
	}
	for seq := 0; seq < maxOutcomesPerInstant; seq++ {
		name := outcomeName(o, seq)
		_, err := r.st.Put(ctx, outcomeIndexKey(o, name), nil, store.Condition{CreateOnly: true})
		if errors.Is(err, store.ErrPrecondition) {
			continue // taken
		}
		if err != nil {
			return o, fmt.Errorf("record flow outcome of subscription %s, build %d: reserve %s: %w", o.SubscriptionID, o.BuildID, outcomeIndexKey(o, name), err)
		}
		err = putJSON(ctx, r.st, outcomeKey(o, name), o, store.Condition{CreateOnly: true})
		if errors.Is(err, store.ErrPrecondition) {
			continue // a document an earlier version left unindexed: now it is indexed
		}
		if err != nil {
			return o, fmt.Errorf("record flow outcome of subscription %s, build %d: %w", o.SubscriptionID, o.BuildID, err)
		}
		return o, nil
	}
	return o, fmt.Errorf("record flow outcome of subscription %s, build %d: all %d names at %s are taken (index/outcomes/subscription/%s/%s/); the clock that dates outcomes is probably stuck: check the host's clock or the service's injected one, then trigger the flow again", o.SubscriptionID, o.BuildID, maxOutcomesPerInstant, o.Time.Format(time.RFC3339Nano), o.SubscriptionID, idKey(o.BuildID))
}

// OutcomeFilter selects flow history; zero fields match everything.
type OutcomeFilter struct {
	SubscriptionID string
	BuildID        int
}

// Outcomes returns the flow history that matches f, oldest first.
func (r *Registry) Outcomes(ctx context.Context, f OutcomeFilter) ([]maestro.FlowOutcome, error) {
	var keys []string
	switch {
	case f.BuildID != 0:
		prefix := "flow/outcomes/" + idKey(f.BuildID) + "/"
		if f.SubscriptionID != "" {
			prefix += f.SubscriptionID + "/"
		}
		ks, err := r.st.List(ctx, prefix)
		if err != nil {
			return nil, fmt.Errorf("flow history: %w", err)
		}
		keys = ks
	case f.SubscriptionID != "":
		if err := validSubscriptionID(f.SubscriptionID); err != nil {
			return nil, err
		}
		idx, err := r.st.List(ctx, "index/outcomes/subscription/"+f.SubscriptionID+"/")
		if err != nil {
			return nil, fmt.Errorf("flow history: %w", err)
		}
		for _, k := range idx {
			parts := strings.Split(k, "/")
			build, name := parts[len(parts)-2], parts[len(parts)-1]
			keys = append(keys, "flow/outcomes/"+build+"/"+f.SubscriptionID+"/"+name+".json")
		}
	default:
		ks, err := r.st.List(ctx, "flow/outcomes/")
		if err != nil {
			return nil, fmt.Errorf("flow history: %w", err)
		}
		keys = ks
	}
	found, err := parallelMap(ctx, keys, func(ctx context.Context, k string) (*maestro.FlowOutcome, error) {
		var o maestro.FlowOutcome
		if _, err := getJSON(ctx, r.st, k, &o); err != nil {
			if errors.Is(err, store.ErrNotExist) {
				return nil, nil
			}
			return nil, err
		}
		return &o, nil
	})
	if err != nil {
		return nil, err
	}
	out := []maestro.FlowOutcome{}
	for _, o := range found {
		if o != nil {
			out = append(out, *o)
		}
	}
	slices.SortStableFunc(out, func(a, b maestro.FlowOutcome) int { return a.Time.Compare(b.Time) })
	return out, nil
}
