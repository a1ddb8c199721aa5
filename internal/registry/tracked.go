package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/store"
)

// BatchedKey is the tracking key that batchable subscriptions into one
// target branch share; other subscriptions track their pull request under
// their own id.
const BatchedKey = "batched"

func trackedKey(repo, branch, key string) string {
	return fmt.Sprintf("flow/tracked/%s/%s/%s.json", repourl.Key(repo), url.PathEscape(branch), key)
}

func trackedLockKey(repo, branch, key string) string {
	return fmt.Sprintf("flow/locks/tracked/%s/%s/%s", repourl.Key(repo), url.PathEscape(branch), key)
}

// TrackedPullRequest returns the pull request the flow keeps open for key
// (a subscription id or BatchedKey) in a target branch, or nil, and the
// record's version for Track and Untrack ("" when there is none).
func (r *Registry) TrackedPullRequest(ctx context.Context, repo, branch, key string) (*maestro.TrackedPullRequest, string, error) {
	var t maestro.TrackedPullRequest
	etag, err := getJSON(ctx, r.st, trackedKey(repo, branch, key), &t)
	if errors.Is(err, store.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("tracked pull request of %s@%s: %w", repo, branch, err)
	}
	return &t, etag, nil
}

// Track records the pull request the flow keeps open for key, if the record
// is still at version (the one TrackedPullRequest returned; "" means that
// there must be none), and returns the new version. A record that changed
// meanwhile is a maestro.KindConflict error: the caller read a stale record
// and must not overwrite what another writer recorded (a second pull
// request, or another subscription's part of a batched one).
func (r *Registry) Track(ctx context.Context, repo, branch, key string, t maestro.TrackedPullRequest, version string) (string, error) {
	data, err := json.Marshal(t)
	if err != nil {
		return "", fmt.Errorf("encode tracked pull request: %w", err)
	}
	cond := store.Condition{IfMatch: version, CreateOnly: version == ""}
	etag, err := r.st.Put(ctx, trackedKey(repo, branch, key), data, cond)
	if errors.Is(err, store.ErrPrecondition) {
		return "", changedMeanwhile(repo, branch, key, err)
	}
	if err != nil {
		return "", fmt.Errorf("track pull request of %s@%s: %w", repo, branch, err)
	}
	return etag, nil
}

// Untrack forgets the pull request kept for key if the record is still at
// version; a record that is gone already is success, one that changed
// meanwhile is a maestro.KindConflict error.
func (r *Registry) Untrack(ctx context.Context, repo, branch, key, version string) error {
	err := r.st.Delete(ctx, trackedKey(repo, branch, key), version)
	switch {
	case err == nil, errors.Is(err, store.ErrNotExist):
		return nil
	case errors.Is(err, store.ErrPrecondition):
		return changedMeanwhile(repo, branch, key, err)
	}
	return fmt.Errorf("untrack pull request of %s@%s: %w", repo, branch, err)
}

// changedMeanwhile is the conflict of a write over a tracked record that
// another update changed since it was read.
func changedMeanwhile(repo, branch, key string, err error) error {
	return &maestro.Error{Kind: maestro.KindConflict, Msg: fmt.Sprintf("the tracked pull request record %s changed while this update ran (another update of the pull request of %s@%s wrote it); the flow service retries the update, or run it again with `maestro subscription trigger`", trackedKey(repo, branch, key), repo, branch), Err: err}
}

// Lease timing of LockTracked: the lease lasts trackedLease and is renewed
// every trackedRenew, so a holder that dies frees the pull request within
// trackedLease.
const (
	trackedLease = 60 * time.Second
	trackedRenew = 20 * time.Second
)

// LockTracked serializes the updates of one tracked pull request (key in a
// target branch) across goroutines, processes and machines with a store
// lease: an update reads the record, edits the branch, pushes and writes the
// record while holding it. It waits up to wait, by the registry's clock, for
// a holder to finish (KindConflict after that). The returned context ends
// when the lease is lost (it could not be renewed), so work under it stops;
// TrackedLock.Held checks the lease just before a step that must not run
// without it, and Unlock releases it.
func (r *Registry) LockTracked(ctx context.Context, repo, branch, key string, wait time.Duration) (context.Context, *TrackedLock, error) {
	lockKey := trackedLockKey(repo, branch, key)
	deadline := r.now().Add(wait)
	var id string
	for attempt := 0; ; attempt++ {
		var err error
		id, err = r.st.AcquireLease(ctx, lockKey, trackedLease)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrLeased) {
			return nil, nil, fmt.Errorf("lock the tracked pull request of %s@%s (lease %s): %w", repo, branch, lockKey, err)
		}
		if r.now().After(deadline) {
			return nil, nil, maestro.Errorf(maestro.KindConflict, "another update of the pull request of %s@%s (%s) has held the lease %s for over %s; the flow service retries this update later (a holder that died frees the lease within %s), or run it again with `maestro subscription trigger`", repo, branch, key, lockKey, wait, trackedLease)
		}
		if err := sleep(ctx, time.Duration(min(10+attempt*20, 250))*time.Millisecond); err != nil {
			return nil, nil, fmt.Errorf("stopped waiting for the lease %s of the pull request of %s@%s, which another update holds: %w", lockKey, repo, branch, err)
		}
	}
	held, cancel := context.WithCancelCause(ctx)
	l := &TrackedLock{r: r, key: lockKey, id: id, what: fmt.Sprintf("%s@%s (%s)", repo, branch, key), done: make(chan struct{}), cancel: cancel, parent: ctx}
	go func() {
		tick := time.NewTicker(trackedRenew)
		defer tick.Stop()
		for {
			select {
			case <-l.done:
				return
			case <-tick.C:
				if err := l.Held(context.WithoutCancel(ctx)); err != nil {
					cancel(err)
					return
				}
			}
		}
	}()
	return held, l, nil
}

// TrackedLock is a held LockTracked lease.
type TrackedLock struct {
	r      *Registry
	key    string
	id     string
	what   string
	done   chan struct{}
	cancel context.CancelCauseFunc
	parent context.Context
}

// Held renews the lease now and reports a KindConflict error when it is not
// held any more (it expired and another update took it): the caller must not
// push or write what it prepared under the lock.
func (l *TrackedLock) Held(ctx context.Context) error {
	err := l.r.st.RenewLease(ctx, l.key, l.id)
	if errors.Is(err, store.ErrLeaseLost) {
		return &maestro.Error{Kind: maestro.KindConflict, Msg: fmt.Sprintf("lost the lease %s of the pull request of %s (this update paused for longer than %s and another may have taken it); the flow service retries the update", l.key, l.what, trackedLease), Err: err}
	}
	if err != nil {
		return fmt.Errorf("renew the lease %s of the pull request of %s: %w", l.key, l.what, err)
	}
	return nil
}

// Unlock releases the lease. A failed release only delays the next holder
// until the lease expires.
func (l *TrackedLock) Unlock() {
	close(l.done)
	l.cancel(nil)
	_ = l.r.st.ReleaseLease(context.WithoutCancel(l.parent), l.key, l.id)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
