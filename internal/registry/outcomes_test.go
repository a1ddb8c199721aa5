package registry_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

func TestOutcomes(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	records := []maestro.FlowOutcome{
		{SubscriptionID: "s1", BuildID: 1, Time: t0, Result: maestro.ResultUpdated, PullRequestURL: "https://github.com/o/r/pull/1"},
		{SubscriptionID: "s2", BuildID: 1, Time: t0.Add(time.Minute), Result: maestro.ResultNoUpdate, Message: "nothing to change"},
		{SubscriptionID: "s1", BuildID: 2, Time: t0.Add(2 * time.Minute), Result: maestro.ResultRescheduled, Message: "policies pending"},
	}
	for _, o := range records {
		_, err := r.RecordOutcome(ctx, o)
		require.NoError(t, err)
	}
	byBuild, err := r.Outcomes(ctx, registry.OutcomeFilter{BuildID: 1})
	require.NoError(t, err)
	assert.Equal(t, records[:2], byBuild)
	bySub, err := r.Outcomes(ctx, registry.OutcomeFilter{SubscriptionID: "s1"})
	require.NoError(t, err)
	assert.Equal(t, []maestro.FlowOutcome{records[0], records[2]}, bySub)
	both, err := r.Outcomes(ctx, registry.OutcomeFilter{SubscriptionID: "s1", BuildID: 2})
	require.NoError(t, err)
	assert.Equal(t, records[2:], both)
	all, err := r.Outcomes(ctx, registry.OutcomeFilter{})
	require.NoError(t, err)
	assert.Equal(t, records, all)

	_, err = r.RecordOutcome(ctx, maestro.FlowOutcome{SubscriptionID: "../x", BuildID: 1})
	assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
}

// TestOutcomesAtOneInstant: outcomes of one subscription and build at the
// same instant, written at once, are all kept, in the order they took names.
func TestOutcomesAtOneInstant(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := r.RecordOutcome(ctx, maestro.FlowOutcome{SubscriptionID: "s1", BuildID: 1, Time: t0, Result: maestro.ResultFailure, Message: fmt.Sprint(i)})
			errs <- err
		}()
	}
	for range n {
		require.NoError(t, <-errs)
	}
	for _, f := range []registry.OutcomeFilter{{BuildID: 1}, {SubscriptionID: "s1"}} {
		got, err := r.Outcomes(ctx, f)
		require.NoError(t, err)
		seen := map[string]bool{}
		for _, o := range got {
			seen[o.Message] = true
		}
		assert.Len(t, seen, n, "filter %+v", f)
	}
}
