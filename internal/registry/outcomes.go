package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Flow history: every outcome is one document under its build, and an empty
// index object under its subscription, so "what happened to build N" and
// "what happened to subscription S" are each one prefix listing.
func outcomeKey(o maestro.FlowOutcome) string {
	return fmt.Sprintf("flow/outcomes/%s/%s/%020d.json", idKey(o.BuildID), o.SubscriptionID, o.Time.UnixNano())
}

func outcomeIndexKey(o maestro.FlowOutcome) string {
	return fmt.Sprintf("index/outcomes/subscription/%s/%s/%020d", o.SubscriptionID, idKey(o.BuildID), o.Time.UnixNano())
}

// RecordOutcome adds one record to the flow history. A zero Time is now.
func (r *Registry) RecordOutcome(ctx context.Context, o maestro.FlowOutcome) (maestro.FlowOutcome, error) {
	if err := validSubscriptionID(o.SubscriptionID); err != nil {
		return o, err
	}
	if o.Time.IsZero() {
		o.Time = r.now().UTC()
	}
	if err := putJSON(ctx, r.st, outcomeKey(o), o, store.Condition{CreateOnly: true}); err != nil {
		return o, fmt.Errorf("record flow outcome of subscription %s, build %d: %w", o.SubscriptionID, o.BuildID, err)
	}
	if _, err := r.st.Put(ctx, outcomeIndexKey(o), nil, store.Condition{}); err != nil {
		return o, fmt.Errorf("index flow outcome of subscription %s: %w", o.SubscriptionID, err)
	}
	return o, nil
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
			build, nano := parts[len(parts)-2], parts[len(parts)-1]
			keys = append(keys, "flow/outcomes/"+build+"/"+f.SubscriptionID+"/"+nano+".json")
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
