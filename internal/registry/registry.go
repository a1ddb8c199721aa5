// Package registry is the Build Asset Registry (BAR): builds, assets,
// channels, default channels, subscriptions, repository merge policies and
// flow history, kept as JSON documents in a store.Store. docs/registry.md
// describes the blob layout. Every write is optimistic (ETags), so many
// processes may share one store.
package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Registry is the Build Asset Registry on a store.
type Registry struct {
	st    store.Store
	now   func() time.Time
	newID func() string
	hosts maestro.HostChecker // nil: hosts are not checked
	// assets caches content-addressed assets documents (assetscache.go).
	assets *assetsCache
	// format is the format marker's version once CheckFormat read it (0
	// before), shared by copies of the Registry. A marker's version only
	// ever rises, so a remembered version is never newer than the store's.
	format *atomic.Int32
	// intake gathers accepted events into batches, and batches is what
	// the process knows of the queued ones (eventbatch.go); shared by
	// copies of the Registry.
	intake  *eventIntake
	batches *eventBatches
	// firstID is the first build id of this registry (0: 1); the
	// speculative registry's is SpeculativeIDBase (speculative.go).
	firstID int
}

// Option configures a Registry.
type Option func(*Registry)

// WithClock sets the clock used for dates the registry assigns.
func WithClock(now func() time.Time) Option { return func(r *Registry) { r.now = now } }

// WithIDGenerator sets how subscription ids are made (a random UUID by default).
func WithIDGenerator(newID func() string) Option { return func(r *Registry) { r.newID = newID } }

// WithHostChecker makes adds and updates of subscriptions refuse a target
// repository, or a changed update pipeline organization, that no configured
// git host serves (see maestro.HostChecker). Without it hosts are not checked.
func WithHostChecker(h maestro.HostChecker) Option { return func(r *Registry) { r.hosts = h } }

// New returns a Registry on st.
func New(st store.Store, opts ...Option) *Registry {
	r := &Registry{st: st, now: time.Now, newID: uuid.NewString, assets: &assetsCache{}, format: new(atomic.Int32),
		intake: &eventIntake{window: batchWindow, writing: make(chan struct{}, 1)}, batches: newEventBatches()}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Store returns the store the registry lives in.
func (r *Registry) Store() store.Store { return r.st }

// errUnchanged, returned by an update function, skips the write.
var errUnchanged = errors.New("unchanged")

// maxAttempts bounds optimistic-concurrency retries on one document.
const maxAttempts = 400

// getJSON reads key into v and returns its ETag.
func getJSON(ctx context.Context, st store.Store, key string, v any) (string, error) {
	data, etag, err := st.Get(ctx, key)
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return "", fmt.Errorf("decode %s: %w", key, err)
	}
	return etag, nil
}

// putJSON writes v to key under cond.
func putJSON(ctx context.Context, st store.Store, key string, v any, cond store.Condition) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	_, err = st.Put(ctx, key, data, cond)
	return err
}

// update runs a read-modify-write of the JSON document at key with optimistic
// concurrency: fn changes v (exists says whether the document was there) and
// the write only lands if nobody wrote in between; otherwise it starts over.
// fn returning errUnchanged ends without writing; any other error is returned.
func update[T any](ctx context.Context, st store.Store, key string, fn func(v *T, exists bool) error) (T, error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		var v T
		etag, err := getJSON(ctx, st, key, &v)
		exists := err == nil
		if err != nil && !errors.Is(err, store.ErrNotExist) {
			return v, err
		}
		if err := fn(&v, exists); err != nil {
			if errors.Is(err, errUnchanged) {
				return v, nil
			}
			return v, err
		}
		cond := store.Condition{IfMatch: etag}
		if !exists {
			cond = store.Condition{CreateOnly: true}
		}
		err = putJSON(ctx, st, key, v, cond)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, store.ErrPrecondition) {
			return v, err
		}
		if err := backoff(ctx, attempt); err != nil {
			return v, err
		}
	}
	var zero T
	return zero, maestro.Errorf(maestro.KindConflict, "update %s: gave up after %d concurrent changes; try again", key, maxAttempts)
}

// backoff sleeps a jittered, growing delay before retry attempt+1.
func backoff(ctx context.Context, attempt int) error {
	limit := time.Millisecond << min(attempt, 6)
	d := time.Duration(rand.Int64N(int64(limit)) + 1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
