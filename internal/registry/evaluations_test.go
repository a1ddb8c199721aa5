package registry_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// TestPolicyEvaluationCompareAndSwap: evaluation state is changed by
// compare-and-swap, so concurrent evaluators lose no change; it is found
// beside its tracked pull request by TrackedEntries and forgotten on
// request.
func TestPolicyEvaluationCompareAndSwap(t *testing.T) {
	ctx := context.Background()
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

	entries, err := r.TrackedEntries(ctx)
	require.NoError(t, err)
	require.Len(t, entries, 2)
	byNumber := map[int]registry.TrackedEntry{}
	for _, e := range entries {
		byNumber[e.Record.PullRequest.Number] = e
	}
	assert.Equal(t, "sub-a", byNumber[7].Key)
	assert.Equal(t, branch, byNumber[7].Branch)
	assert.Equal(t, 8, byNumber[7].Evaluation.MergeAttempts, "its evaluation state comes along")
	assert.Equal(t, registry.BatchedKey, byNumber[8].Key)
	assert.Equal(t, v8, byNumber[8].Version, "the version Untrack needs")
	assert.Zero(t, byNumber[8].Evaluation, "none evaluated yet")

	require.NoError(t, r.DeletePolicyEvaluation(ctx, repo, branch, "sub-a"))
	require.NoError(t, r.DeletePolicyEvaluation(ctx, repo, branch, "sub-a"), "gone already is success")
	_, ok, err = r.PolicyEvaluation(ctx, repo, branch, "sub-a")
	require.NoError(t, err)
	assert.False(t, ok)
}
