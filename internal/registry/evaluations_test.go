package registry_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// TestPolicyEvaluationCompareAndSwap: evaluation state is changed by
// compare-and-swap, so concurrent evaluators lose no change; it is found
// beside its tracked pull request by TrackedForCheck, which lists what the
// check schedule says is due, and forgotten on request.
func TestPolicyEvaluationCompareAndSwap(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	r := newRegistry(t)
	const repo, branch = "https://github.com/dotnet/runtime", "release/10.0"
	_, ok, err := r.PolicyEvaluation(ctx, repo, branch, "sub-a")
	require.NoError(t, err)
	assert.False(t, ok)

	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := r.UpdatePolicyEvaluation(ctx, repo, branch, "sub-a", func(e *registry.PolicyEvaluation, _ bool) error {
				e.Number, e.MergeAttempts = 7, e.MergeAttempts+1
				return nil
			})
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	got, ok, err := r.PolicyEvaluation(ctx, repo, branch, "sub-a")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, 8, got.MergeAttempts, "no concurrent change lost")
	assert.Equal(t, registry.PolicyEvaluation{Repository: repo, Branch: branch, Key: "sub-a", Number: 7, MergeAttempts: 8}, got)

	same, err := r.UpdatePolicyEvaluation(ctx, repo, branch, "sub-a", func(*registry.PolicyEvaluation, bool) error { return registry.ErrUnchanged })
	require.NoError(t, err)
	assert.Equal(t, 8, same.MergeAttempts)

	pr := maestro.PullRequest{Repository: repo, BaseBranch: branch, HeadBranch: "darc-release/10.0-1", Number: 7}
	_, err = r.Track(ctx, repo, branch, "sub-a", maestro.TrackedPullRequest{PullRequest: pr}, "")
	require.NoError(t, err)
	other := maestro.PullRequest{Repository: repo, BaseBranch: "main", HeadBranch: "darc-main-2", Number: 8}
	v8, err := r.Track(ctx, repo, "main", registry.BatchedKey, maestro.TrackedPullRequest{PullRequest: other}, "")
	require.NoError(t, err)

	due, tracked, err := r.TrackedForCheck(ctx, at, false)
	require.NoError(t, err)
	require.Len(t, due, 2, "never checked: due")
	require.Len(t, tracked, 2)
	byNumber := map[int]registry.TrackedEntry{}
	for _, e := range due {
		byNumber[e.Record.PullRequest.Number] = e
	}
	assert.Equal(t, "sub-a", byNumber[7].Key)
	assert.Equal(t, branch, byNumber[7].Branch)
	assert.Equal(t, 8, byNumber[7].Evaluation.MergeAttempts, "its evaluation state comes along")
	assert.Equal(t, registry.BatchedKey, byNumber[8].Key)
	assert.Equal(t, v8, byNumber[8].Version, "the version Untrack needs")
	assert.Zero(t, byNumber[8].Evaluation, "none evaluated yet")

	// #7 is checked again in five minutes; #8 ended; a stale entry of a
	// pull request no longer tracked goes.
	require.NoError(t, r.ScheduleChecks(ctx, registry.CheckSchedule{
		byNumber[7].ID:           {Number: 7, LastCheck: at, NextCheck: at.Add(5 * time.Minute)},
		"flow/tracked/gone.json": {Number: 1, LastCheck: at.Add(-time.Hour), NextCheck: at.Add(time.Hour)},
	}, []string{byNumber[8].ID}, tracked))
	require.NoError(t, r.ScheduleChecks(ctx, registry.CheckSchedule{
		byNumber[7].ID: {Number: 7, LastCheck: at.Add(-time.Minute), NextCheck: at},
	}, nil, tracked))
	due, _, err = r.TrackedForCheck(ctx, at.Add(5*time.Minute-time.Second), false)
	require.NoError(t, err)
	require.Len(t, due, 1, "#7 is not due yet (an older check's write did not move it back)")
	assert.Equal(t, 8, due[0].Record.PullRequest.Number)
	due, _, err = r.TrackedForCheck(ctx, at.Add(5*time.Minute), false)
	require.NoError(t, err)
	assert.Len(t, due, 2)
	assert.Equal(t, at.Add(5*time.Minute), byNumberOf(due)[7].Scheduled.NextCheck)
	due, _, err = r.TrackedForCheck(ctx, at, true)
	require.NoError(t, err)
	assert.Len(t, due, 2, "all, due or not")
	// A new pull request tracked under #7's key is not held by #7's entry.
	_, v7, err := r.TrackedPullRequest(ctx, repo, branch, "sub-a")
	require.NoError(t, err)
	pr.Number = 9
	_, err = r.Track(ctx, repo, branch, "sub-a", maestro.TrackedPullRequest{PullRequest: pr}, v7)
	require.NoError(t, err)
	due, _, err = r.TrackedForCheck(ctx, at.Add(5*time.Minute), false)
	require.NoError(t, err)
	assert.Zero(t, byNumberOf(due)[9].Scheduled, "#7's entry is not #9's")

	require.NoError(t, r.DeletePolicyEvaluation(ctx, repo, branch, "sub-a"))
	require.NoError(t, r.DeletePolicyEvaluation(ctx, repo, branch, "sub-a"), "gone already is success")
	_, ok, err = r.PolicyEvaluation(ctx, repo, branch, "sub-a")
	require.NoError(t, err)
	assert.False(t, ok)
}

func byNumberOf(entries []registry.TrackedEntry) map[int]registry.TrackedEntry {
	out := map[int]registry.TrackedEntry{}
	for _, e := range entries {
		out[e.Record.PullRequest.Number] = e
	}
	return out
}
