package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/maestroplusplus/maestro/internal/store"
)

// Option configures Run.
type Option func(*config)

type config struct {
	clock *Clock
}

// WithClock tells the suite that the stores read the time from c, so the
// lease-expiry property advances c instead of waiting.
func WithClock(c *Clock) Option {
	return func(cfg *config) { cfg.clock = c }
}

// Clock is a manual clock for backends that take an injected time source.
// It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock that starts at a fixed moment.
func NewClock() *Clock {
	return &Clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is what the timed properties need besides the store.
type env struct {
	// advance lets d pass on the store's clock.
	advance func(t *testing.T, d time.Duration)
}

func realWait(t *testing.T, d time.Duration) {
	select {
	case <-time.After(d):
	case <-t.Context().Done():
		t.Fatal(t.Context().Err())
	}
}

var timedTests = []struct {
	name string
	run  func(t *testing.T, s store.Store, e *env)
}{
	{"LeaseExpiry", testLeaseExpiry},
}

// wantLeased checks that Put (plain, create-only and if-match) and Delete
// (plain and if-match) on key fail with ErrLeased and leave data and etag.
func wantLeased(t *testing.T, s store.Store, key string, data []byte, etag string) {
	t.Helper()
	ctx := t.Context()
	for _, cond := range []store.Condition{{}, {IfMatch: etag}} {
		if _, err := s.Put(ctx, key, []byte("overwrite"), cond); !errors.Is(err, store.ErrLeased) {
			t.Fatalf("Put(%q, %+v) on a leased key error = %v, want ErrLeased", key, cond, err)
		}
	}
	// A condition that fails anyway reports ErrPrecondition, as on Azure.
	for _, cond := range []store.Condition{{CreateOnly: true}, {IfMatch: `"stale"`}} {
		if _, err := s.Put(ctx, key, []byte("overwrite"), cond); !errors.Is(err, store.ErrPrecondition) {
			t.Fatalf("Put(%q, %+v) on a leased key error = %v, want ErrPrecondition", key, cond, err)
		}
	}
	for _, ifMatch := range []string{"", etag} {
		if err := s.Delete(ctx, key, ifMatch); !errors.Is(err, store.ErrLeased) {
			t.Fatalf("Delete(%q, %q) of a leased key error = %v, want ErrLeased", key, ifMatch, err)
		}
	}
	if err := s.Delete(ctx, key, `"stale"`); !errors.Is(err, store.ErrPrecondition) {
		t.Fatalf("Delete(%q, stale ETag) of a leased key error = %v, want ErrPrecondition", key, err)
	}
	got, gotETag := mustGet(t, s, key)
	if string(got) != string(data) || gotETag != etag {
		t.Fatalf("after the refused writes: Get(%q) = %q %q, want %q %q", key, got, gotETag, data, etag)
	}
}

func testLeasedWrites(t *testing.T, s store.Store) {
	ctx := t.Context()
	etag := mustPut(t, s, "guarded", []byte("payload"))
	id, err := s.AcquireLease(ctx, "guarded", store.MinLeaseDuration)
	if err != nil {
		t.Fatal(err)
	}
	wantLeased(t, s, "guarded", []byte("payload"), etag)
	// A lease made on a missing key guards the empty object it created.
	lockID, err := s.AcquireLease(ctx, "locks/new", store.MinLeaseDuration)
	if err != nil {
		t.Fatal(err)
	}
	_, lockETag := mustGet(t, s, "locks/new")
	wantLeased(t, s, "locks/new", nil, lockETag)
	// The refused writes did not end the lease.
	if err := s.RenewLease(ctx, "guarded", id); err != nil {
		t.Fatalf("RenewLease after the refused writes: %v", err)
	}
	// Other keys are not affected.
	mustPut(t, s, "guarded/child", []byte("x"))
	mustPut(t, s, "guarded2", []byte("x"))
	if err := s.ReleaseLease(ctx, "guarded", id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "guarded", []byte("new"), store.Condition{IfMatch: etag}); err != nil {
		t.Fatalf("Put after ReleaseLease: %v", err)
	}
	if err := s.ReleaseLease(ctx, "locks/new", lockID); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "locks/new", ""); err != nil {
		t.Fatalf("Delete after ReleaseLease: %v", err)
	}
	wantList(t, s, "", []string{"guarded", "guarded/child", "guarded2"})
}

func testBreakLease(t *testing.T, s store.Store) {
	ctx := t.Context()
	etag := mustPut(t, s, "k", []byte("v"))
	id, err := s.AcquireLease(ctx, "k", store.MaxLeaseDuration)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.BreakLease(ctx, "k"); err != nil {
		t.Fatalf("BreakLease of a live lease: %v", err)
	}
	// The key is free at once: writable, and another holder may take it.
	etag2, err := s.Put(ctx, "k", []byte("v2"), store.Condition{IfMatch: etag})
	if err != nil {
		t.Fatalf("Put after BreakLease: %v", err)
	}
	id2, err := s.AcquireLease(ctx, "k", store.MinLeaseDuration)
	if err != nil {
		t.Fatalf("AcquireLease after BreakLease: %v", err)
	}
	if err := s.RenewLease(ctx, "k", id); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("RenewLease with the broken id error = %v, want ErrLeaseLost", err)
	}
	wantLeased(t, s, "k", []byte("v2"), etag2)
	if err := s.BreakLease(ctx, "k"); err != nil {
		t.Fatalf("second BreakLease: %v", err)
	}
	if err := s.RenewLease(ctx, "k", id2); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("RenewLease of the second, broken lease error = %v, want ErrLeaseLost", err)
	}
	// Nothing to break: a key without a lease, a missing key.
	if err := s.BreakLease(ctx, "k"); err != nil {
		t.Fatalf("BreakLease of a broken lease: %v", err)
	}
	mustPut(t, s, "plain", []byte("x"))
	for _, key := range []string{"plain", "missing"} {
		if err := s.BreakLease(ctx, key); err != nil {
			t.Fatalf("BreakLease(%s) without a lease: %v", key, err)
		}
	}
	wantMissing(t, s, "missing")
	if err := s.Delete(ctx, "k", ""); err != nil {
		t.Fatalf("Delete after BreakLease: %v", err)
	}
}

func testLeaseExpiry(t *testing.T, s store.Store, e *env) {
	ctx := t.Context()
	etag := mustPut(t, s, "scheduler", []byte("state"))
	id, err := s.AcquireLease(ctx, "scheduler", store.MinLeaseDuration)
	if err != nil {
		t.Fatal(err)
	}
	e.advance(t, store.MinLeaseDuration-2*time.Second)
	if _, err := s.AcquireLease(ctx, "scheduler", store.MinLeaseDuration); !errors.Is(err, store.ErrLeased) {
		t.Fatalf("AcquireLease 2s before expiry error = %v, want ErrLeased", err)
	}
	wantLeased(t, s, "scheduler", []byte("state"), etag)
	e.advance(t, 3*time.Second)
	// Expired: writable again, and another holder may take it.
	etag2, err := s.Put(ctx, "scheduler", []byte("state2"), store.Condition{IfMatch: etag})
	if err != nil {
		t.Fatalf("Put after the lease expired: %v", err)
	}
	id2, err := s.AcquireLease(ctx, "scheduler", store.MinLeaseDuration)
	if err != nil {
		t.Fatalf("AcquireLease after expiry: %v", err)
	}
	if id2 == id {
		t.Fatalf("the new holder got the expired lease id %q", id)
	}
	if err := s.RenewLease(ctx, "scheduler", id); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("RenewLease by the expired holder error = %v, want ErrLeaseLost", err)
	}
	if err := s.ReleaseLease(ctx, "scheduler", id); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("ReleaseLease by the expired holder error = %v, want ErrLeaseLost", err)
	}
	wantLeased(t, s, "scheduler", []byte("state2"), etag2)
	if err := s.ReleaseLease(ctx, "scheduler", id2); err != nil {
		t.Fatal(err)
	}
}
