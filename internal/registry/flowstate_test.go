package registry_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/local"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// dueIDs lists the subscriptions the due index names at now.
func dueIDs(t *testing.T, r *registry.Registry, now time.Time) []string {
	t.Helper()
	entries, err := r.DueSubscriptions(context.Background(), now)
	require.NoError(t, err)
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.SubscriptionID)
	}
	return ids
}

func TestFlowStateDueIndex(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	st, ok, err := r.FlowState(ctx, "sub-a")
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, "sub-a", st.SubscriptionID)

	_, err = r.UpdateFlowState(ctx, "sub-a", func(s *registry.FlowState, exists bool) error {
		assert.False(t, exists)
		s.NextDue = t0.Add(time.Hour)
		return nil
	})
	require.NoError(t, err)
	_, err = r.UpdateFlowState(ctx, "sub-b", func(s *registry.FlowState, _ bool) error {
		s.Pending = &registry.PendingWork{BuildID: 7, Reason: "checks", NextAttempt: t0.Add(10 * time.Minute)}
		return nil
	})
	require.NoError(t, err)
	_, err = r.UpdateFlowState(ctx, "sub-c", func(s *registry.FlowState, _ bool) error { return nil })
	require.NoError(t, err)

	assert.Empty(t, dueIDs(t, r, t0))
	assert.Equal(t, []string{"sub-b"}, dueIDs(t, r, t0.Add(10*time.Minute)))
	assert.Equal(t, []string{"sub-b", "sub-a"}, dueIDs(t, r, t0.Add(2*time.Hour)), "oldest first; sub-c is never due")

	// Pending work earlier than the calendar slot makes the subscription due earlier.
	_, err = r.UpdateFlowState(ctx, "sub-a", func(s *registry.FlowState, _ bool) error {
		s.Pending = &registry.PendingWork{BuildID: 9, Reason: "host", NextAttempt: t0.Add(time.Minute)}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"sub-a"}, dueIDs(t, r, t0.Add(time.Minute)))
	// Clearing everything takes the subscription out of the index.
	after, err := r.UpdateFlowState(ctx, "sub-a", func(s *registry.FlowState, _ bool) error {
		s.Pending, s.NextDue = nil, time.Time{}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 3, after.Version)
	assert.Equal(t, []string{"sub-b"}, dueIDs(t, r, t0.Add(24*time.Hour)), "no entry of an older version remains")

	// ErrUnchanged writes nothing.
	same, err := r.UpdateFlowState(ctx, "sub-a", func(*registry.FlowState, bool) error { return registry.ErrUnchanged })
	require.NoError(t, err)
	assert.Equal(t, 3, same.Version)

	// A write that keeps the due time (a claim) keeps the version and the entry.
	before, _, err := r.FlowState(ctx, "sub-b")
	require.NoError(t, err)
	claimed, err := r.UpdateFlowState(ctx, "sub-b", func(s *registry.FlowState, _ bool) error {
		s.Claim = &registry.Claim{Owner: "me", Until: t0.Add(time.Minute)}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, before.Version, claimed.Version)
	entries, err := r.DueSubscriptions(ctx, t0.Add(24*time.Hour))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.True(t, entries[0].Matches(claimed))

	require.NoError(t, r.DeleteFlowState(ctx, "sub-b"))
	assert.Empty(t, dueIDs(t, r, t0.Add(24*time.Hour)))
	_, ok, err = r.FlowState(ctx, "sub-b")
	require.NoError(t, err)
	assert.False(t, ok)
}

// faulty fails the first operation that fail selects, as a crash at that
// point would: the write does not happen.
type faulty struct {
	store.Store
	mu   sync.Mutex
	fail func(op, key string) bool
}

var errCrash = errors.New("crash")

func (f *faulty) hit(op, key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil && f.fail(op, key) {
		f.fail = nil
		return true
	}
	return false
}

func (f *faulty) Put(ctx context.Context, key string, data []byte, cond store.Condition) (string, error) {
	if f.hit("put", key) {
		return "", errCrash
	}
	return f.Store.Put(ctx, key, data, cond)
}

func (f *faulty) Delete(ctx context.Context, key, ifMatch string) error {
	if f.hit("delete", key) {
		return errCrash
	}
	return f.Store.Delete(ctx, key, ifMatch)
}

// TestFlowStateCrashLeavesNoMissingEntry: a writer that stops after any step
// leaves at most an extra index entry, never a due document without one;
// tick's repair (DropStaleDueEntry) removes the extra entry.
func TestFlowStateCrashLeavesNoMissingEntry(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail func(op, key string) bool
	}{
		{"after the index entry", func(op, key string) bool { return op == "put" && strings.HasPrefix(key, "flow/state/") }},
		{"after the document", func(op, key string) bool { return op == "delete" && strings.HasPrefix(key, "index/flow/due/") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			f := &faulty{Store: mem.New()}
			r := registry.New(f)
			_, err := r.UpdateFlowState(ctx, "sub-a", func(s *registry.FlowState, _ bool) error { s.NextDue = t0; return nil })
			require.NoError(t, err)

			f.fail = tc.fail
			_, err = r.UpdateFlowState(ctx, "sub-a", func(s *registry.FlowState, _ bool) error { s.NextDue = t0.Add(time.Hour); return nil })
			require.ErrorIs(t, err, errCrash)

			st, _, err := r.FlowState(ctx, "sub-a")
			require.NoError(t, err)
			entries, err := r.DueSubscriptions(ctx, t0.Add(2*time.Hour))
			require.NoError(t, err)
			require.Len(t, entries, 2, "one extra entry")
			matching := 0
			for _, e := range entries {
				if e.Matches(st) {
					matching++
					continue
				}
				require.NoError(t, r.DropStaleDueEntry(ctx, e, st))
			}
			assert.Equal(t, 1, matching, "the document's due time has its entry")
			entries, err = r.DueSubscriptions(ctx, t0.Add(2*time.Hour))
			require.NoError(t, err)
			require.Len(t, entries, 1)
			assert.True(t, entries[0].Matches(st))
		})
	}
}

// TestFlowStateConcurrentWriters: writers in many goroutines on the local
// store lose no update, and the index ends with exactly the final
// document's entry.
func TestFlowStateConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	st, err := local.Open(t.TempDir())
	require.NoError(t, err)
	r := registry.New(st)
	const writers, each = 6, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := r.UpdateFlowState(ctx, "sub-a", func(s *registry.FlowState, _ bool) error {
					if s.Pending == nil {
						s.Pending = &registry.PendingWork{}
					}
					s.Pending.Attempts++
					s.Pending.NextAttempt = t0.Add(time.Duration(w*each+i) * time.Minute)
					return nil
				})
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	final, _, err := r.FlowState(ctx, "sub-a")
	require.NoError(t, err)
	assert.Equal(t, writers*each, final.Pending.Attempts)
	assert.Equal(t, writers*each, final.Version)
	entries, err := r.DueSubscriptions(ctx, t0.Add(24*time.Hour))
	require.NoError(t, err)
	var live int
	for _, e := range entries {
		if e.Matches(final) {
			live++
		} else {
			require.NoError(t, r.DropStaleDueEntry(ctx, e, final))
		}
	}
	assert.Equal(t, 1, live)
	entries, err = r.DueSubscriptions(ctx, t0.Add(24*time.Hour))
	require.NoError(t, err)
	assert.Len(t, entries, 1)
}
