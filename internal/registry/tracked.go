package registry

import (
	"context"
	"errors"
	"fmt"
	"net/url"

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

// TrackedPullRequest returns the pull request the flow keeps open for key
// (a subscription id or BatchedKey) in a target branch, or nil.
func (r *Registry) TrackedPullRequest(ctx context.Context, repo, branch, key string) (*maestro.TrackedPullRequest, error) {
	var t maestro.TrackedPullRequest
	_, err := getJSON(ctx, r.st, trackedKey(repo, branch, key), &t)
	if errors.Is(err, store.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tracked pull request of %s@%s: %w", repo, branch, err)
	}
	return &t, nil
}

// Track records the pull request the flow keeps open for key.
func (r *Registry) Track(ctx context.Context, repo, branch, key string, t maestro.TrackedPullRequest) error {
	return putJSON(ctx, r.st, trackedKey(repo, branch, key), t, store.Condition{})
}

// Untrack forgets the pull request kept for key.
func (r *Registry) Untrack(ctx context.Context, repo, branch, key string) error {
	err := r.st.Delete(ctx, trackedKey(repo, branch, key), "")
	if err != nil && !errors.Is(err, store.ErrNotExist) {
		return err
	}
	return nil
}
