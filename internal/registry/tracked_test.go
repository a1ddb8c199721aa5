package registry_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/store/mem"
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
	assert.ErrorContains(t, err, "the tracked pull request record flow/tracked/", "names the record")
	assert.ErrorContains(t, err, "the flow service retries the update, or run it again with `maestro subscription trigger`", "says what to do")

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
	r := registry.New(mem.New()) // the wall clock: the waits below pass
	const repo, branch = "https://github.com/dotnet/runtime", "main"
	_, lock, err := r.LockTracked(ctx, repo, branch, registry.BatchedKey, time.Second)
	require.NoError(t, err)
	_, _, err = r.LockTracked(ctx, repo, branch, registry.BatchedKey, 50*time.Millisecond)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err), "held: %v", err)
	_, other, err := r.LockTracked(ctx, repo, branch, "other-subscription", 0)
	require.NoError(t, err, "another key is another lock")
	other.Unlock()

	got := make(chan error, 1)
	go func() {
		_, lock2, err := r.LockTracked(ctx, repo, branch, registry.BatchedKey, 10*time.Second)
		if err == nil {
			lock2.Unlock()
		}
		got <- err
	}()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-got:
		t.Fatalf("the waiter got the lock while it was held: %v", err)
	default:
	}
	lock.Unlock()
	require.NoError(t, <-got)
}

// TestLockTrackedWaitsByTheRegistryClock: the wait is measured with the
// registry's clock, not the wall clock (a clock that moves ten minutes per
// reading ends an hour's wait at once), and a waiter whose context ends says
// which lease it waited for.
func TestLockTrackedWaitsByTheRegistryClock(t *testing.T) {
	const repo, branch = "https://github.com/dotnet/runtime", "main"
	var minutes atomic.Int64
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	r := registry.New(mem.New(), registry.WithClock(func() time.Time {
		return start.Add(time.Duration(minutes.Add(10)) * time.Minute)
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, lock, err := r.LockTracked(ctx, repo, branch, registry.BatchedKey, time.Hour)
	require.NoError(t, err)
	defer lock.Unlock()

	began := time.Now()
	_, _, err = r.LockTracked(ctx, repo, branch, registry.BatchedKey, time.Hour)
	require.Error(t, err)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err), "%v", err)
	assert.Less(t, time.Since(began), 10*time.Second, "an hour of the registry's clock passed at once")
	assert.Contains(t, err.Error(), "flow/locks/tracked/")
	assert.Contains(t, err.Error(), "retries this update later")

	// A frozen clock waits until the context ends; the error names the lease.
	frozen := registry.New(mem.New(), registry.WithClock(func() time.Time { return start }))
	_, held, err := frozen.LockTracked(ctx, repo, branch, registry.BatchedKey, time.Minute)
	require.NoError(t, err)
	defer held.Unlock()
	short, stop := context.WithTimeout(ctx, 100*time.Millisecond)
	defer stop()
	_, _, err = frozen.LockTracked(short, repo, branch, registry.BatchedKey, time.Minute)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "stopped waiting for the lease flow/locks/tracked/")
}

// TestTrackedLockHeld: Held renews the lease; once another update took the
// lease (this one expired or was broken), Held is a conflict.
func TestTrackedLockHeld(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	r := registry.New(st)
	const repo, branch = "https://github.com/dotnet/runtime", "main"
	_, lock, err := r.LockTracked(ctx, repo, branch, registry.BatchedKey, time.Second)
	require.NoError(t, err)
	defer lock.Unlock()
	require.NoError(t, lock.Held(ctx))
	require.NoError(t, st.BreakLease(ctx, "flow/locks/tracked/"+repourl.Key(repo)+"/"+branch+"/"+registry.BatchedKey))
	_, other, err := r.LockTracked(ctx, repo, branch, registry.BatchedKey, time.Second)
	require.NoError(t, err, "the broken lease is free")
	defer other.Unlock()
	err = lock.Held(ctx)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err), "%v", err)
	assert.Contains(t, err.Error(), "lost the lease")
}
