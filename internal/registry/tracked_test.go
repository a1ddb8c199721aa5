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

// TestTrackCompareAndSwap: a tracked pull request is written only over the
// version the writer read; a stale writer gets a conflict and changes nothing.
func TestTrackCompareAndSwap(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	const repo, branch = "https://github.com/dotnet/runtime", "main"
	one := maestro.TrackedPullRequest{PullRequest: maestro.PullRequest{Number: 1}, Updates: []maestro.SubscriptionUpdate{{SubscriptionID: "a", BuildID: 1}}}
	two := maestro.TrackedPullRequest{PullRequest: maestro.PullRequest{Number: 2}}

	got, v0, err := r.TrackedPullRequest(ctx, repo, branch, registry.BatchedKey)
	require.NoError(t, err)
	require.Nil(t, got)
	assert.Empty(t, v0)
	v1, err := r.Track(ctx, repo, branch, registry.BatchedKey, one, "")
	require.NoError(t, err)
	_, err = r.Track(ctx, repo, branch, registry.BatchedKey, two, "")
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err), "a second writer that saw no record: %v", err)

	next := one
	next.Updates = append(next.Updates, maestro.SubscriptionUpdate{SubscriptionID: "b", BuildID: 2})
	v2, err := r.Track(ctx, repo, branch, registry.BatchedKey, next, v1)
	require.NoError(t, err)
	_, err = r.Track(ctx, repo, branch, registry.BatchedKey, two, v1)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err), "a writer that read the older version: %v", err)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(r.Untrack(ctx, repo, branch, registry.BatchedKey, v1)))

	got, v, err := r.TrackedPullRequest(ctx, repo, branch, registry.BatchedKey)
	require.NoError(t, err)
	assert.Equal(t, &next, got, "both subscriptions' parts kept")
	assert.Equal(t, v2, v)
	require.NoError(t, r.Untrack(ctx, repo, branch, registry.BatchedKey, v2))
	require.NoError(t, r.Untrack(ctx, repo, branch, registry.BatchedKey, v2), "gone already")
}

// TestLockTracked: one holder at a time; a waiter gets the lock when it is
// released, and gives up with a conflict after its wait.
func TestLockTracked(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	const repo, branch = "https://github.com/dotnet/runtime", "main"
	_, unlock, err := r.LockTracked(ctx, repo, branch, registry.BatchedKey, time.Second)
	require.NoError(t, err)
	_, _, err = r.LockTracked(ctx, repo, branch, registry.BatchedKey, 50*time.Millisecond)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err), "held: %v", err)
	_, other, err := r.LockTracked(ctx, repo, branch, "other-subscription", 0)
	require.NoError(t, err, "another key is another lock")
	other()

	got := make(chan error, 1)
	go func() {
		_, unlock2, err := r.LockTracked(ctx, repo, branch, registry.BatchedKey, 10*time.Second)
		if err == nil {
			unlock2()
		}
		got <- err
	}()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-got:
		t.Fatalf("the waiter got the lock while it was held: %v", err)
	default:
	}
	unlock()
	require.NoError(t, <-got)
}
