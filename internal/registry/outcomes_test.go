package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
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

// failing fails every Put under one prefix, as a writer that dies before
// that write would leave the store.
type failing struct {
	store.Store
	prefix string
}

func (f failing) Put(ctx context.Context, key string, data []byte, cond store.Condition) (string, error) {
	if strings.HasPrefix(key, f.prefix) {
		return "", errors.New("the writer died here")
	}
	return f.Store.Put(ctx, key, data, cond)
}

// TestAnInterruptedOutcomeIsSeenAlikeByBuildAndBySubscription: a writer
// that dies before either write of an outcome (the name's reservation under
// the subscription, the document under the build) leaves a history that
// reads the same by build and by subscription, and the next outcome at the
// same instant is recorded and found both ways.
func TestAnInterruptedOutcomeIsSeenAlikeByBuildAndBySubscription(t *testing.T) {
	for _, dies := range []string{"index/outcomes/", "flow/outcomes/"} {
		t.Run(dies, func(t *testing.T) {
			ctx := context.Background()
			st := mem.New()
			o := maestro.FlowOutcome{SubscriptionID: "s1", BuildID: 1, Time: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), Result: maestro.ResultUpdated}
			_, err := registry.New(failing{st, dies}).RecordOutcome(ctx, o)
			require.Error(t, err)
			r := registry.New(st)
			byBuild, err := r.Outcomes(ctx, registry.OutcomeFilter{BuildID: 1})
			require.NoError(t, err)
			bySub, err := r.Outcomes(ctx, registry.OutcomeFilter{SubscriptionID: "s1"})
			require.NoError(t, err)
			assert.Equal(t, byBuild, bySub)
			assert.Empty(t, byBuild)
			rep, err := r.Check(ctx)
			require.NoError(t, err)
			assert.True(t, rep.Clean(), "%+v", rep.Problems)

			_, err = r.RecordOutcome(ctx, o)
			require.NoError(t, err)
			byBuild, err = r.Outcomes(ctx, registry.OutcomeFilter{BuildID: 1})
			require.NoError(t, err)
			bySub, err = r.Outcomes(ctx, registry.OutcomeFilter{SubscriptionID: "s1"})
			require.NoError(t, err)
			assert.Equal(t, []maestro.FlowOutcome{o}, byBuild)
			assert.Equal(t, byBuild, bySub)
		})
	}
}

// TestCheckIndexesUnindexedOutcomes: an outcome document without its index
// entry (an earlier version wrote the document first and could die before
// the entry) is a missing entry that repair writes; the outcome is then
// found by subscription, and a second check is clean.
func TestCheckIndexesUnindexedOutcomes(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	r := registry.New(st)
	o := maestro.FlowOutcome{SubscriptionID: "s1", BuildID: 7, Time: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), Result: maestro.ResultFailure, Message: "boom"}
	_, err := registry.New(failing{st, "index/"}).RecordOutcome(ctx, o)
	require.Error(t, err)
	data, err := json.Marshal(o)
	require.NoError(t, err)
	_, err = st.Put(ctx, fmt.Sprintf("flow/outcomes/%s/s1/%020d-000.json", "000000000007", o.Time.UnixNano()), data, store.Condition{CreateOnly: true})
	require.NoError(t, err)

	rep, err := r.Check(ctx)
	require.NoError(t, err)
	require.Len(t, rep.Problems, 1)
	assert.Equal(t, registry.ProblemMissing, rep.Problems[0].Kind)
	assert.Contains(t, rep.Problems[0].Detail, "flow outcomes without their index entry")
	_, err = r.Repair(ctx, registry.RepairOptions{})
	require.NoError(t, err)
	bySub, err := r.Outcomes(ctx, registry.OutcomeFilter{SubscriptionID: "s1"})
	require.NoError(t, err)
	assert.Equal(t, []maestro.FlowOutcome{o}, bySub)
	rep, err = r.Check(ctx)
	require.NoError(t, err)
	assert.True(t, rep.Clean(), "%+v", rep.Problems)
}

// TestCheckReportsUnfinishedClaims: a tracked record without a pull request
// (an update died after claiming its branch) is reported; repair leaves it
// to the next update, which can see the branch.
func TestCheckReportsUnfinishedClaims(t *testing.T) {
	ctx := context.Background()
	r := registry.New(mem.New())
	const repo = "https://github.com/dotnet/runtime"
	_, err := r.Track(ctx, repo, "main", registry.BatchedKey, maestro.TrackedPullRequest{PullRequest: maestro.PullRequest{Repository: repo, HeadBranch: "darc-main-1", BaseBranch: "main"}}, "")
	require.NoError(t, err)
	_, err = r.Track(ctx, repo, "release/9.0", registry.BatchedKey, maestro.TrackedPullRequest{PullRequest: maestro.PullRequest{Repository: repo, Number: 4, HeadBranch: "darc-release-2", BaseBranch: "release/9.0"}}, "")
	require.NoError(t, err)
	rep, err := r.Check(ctx)
	require.NoError(t, err)
	require.Len(t, rep.Problems, 1)
	assert.Equal(t, registry.ProblemUnfinishedClaim, rep.Problems[0].Kind)
	assert.Contains(t, rep.Problems[0].Detail, "branch darc-main-1")
	rep, err = r.Repair(ctx, registry.RepairOptions{})
	require.NoError(t, err)
	require.Len(t, rep.Problems, 1)
	assert.NotEmpty(t, rep.Problems[0].Skipped)
}

// TestOutcomeNamesRunOut: a thousand outcomes of one subscription and build
// at one instant (a stuck clock) take every name; the next says so and what
// to do.
func TestOutcomeNamesRunOut(t *testing.T) {
	ctx := context.Background()
	r := registry.New(mem.New())
	o := maestro.FlowOutcome{SubscriptionID: "s1", BuildID: 1, Time: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), Result: maestro.ResultNoUpdate}
	for range 1000 {
		_, err := r.RecordOutcome(ctx, o)
		require.NoError(t, err)
	}
	_, err := r.RecordOutcome(ctx, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "all 1000 names at 2026-11-25T10:00:00Z are taken")
	assert.Contains(t, err.Error(), "check the host's clock")
}
