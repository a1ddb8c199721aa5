package registry_test

import (
	"context"
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
