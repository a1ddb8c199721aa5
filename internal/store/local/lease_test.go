package local_test

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/local"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestLeaseExpiry(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	dir := t.TempDir()
	// Two Stores on one directory stand for two replicas.
	a := open(t, dir, local.WithClock(clock.Now))
	b := open(t, dir, local.WithClock(clock.Now))
	ctx := t.Context()

	id, err := a.AcquireLease(ctx, "scheduler", 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(19 * time.Second)
	if _, err := b.AcquireLease(ctx, "scheduler", store.MinLeaseDuration); !errors.Is(err, store.ErrLeased) {
		t.Fatalf("AcquireLease 1s before expiry error = %v, want ErrLeased", err)
	}
	if err := a.RenewLease(ctx, "scheduler", id); err != nil {
		t.Fatalf("RenewLease before expiry: %v", err)
	}
	clock.Advance(19 * time.Second)
	if _, err := b.AcquireLease(ctx, "scheduler", store.MinLeaseDuration); !errors.Is(err, store.ErrLeased) {
		t.Fatalf("AcquireLease after renewal error = %v, want ErrLeased", err)
	}
	clock.Advance(time.Second)
	if err := a.RenewLease(ctx, "scheduler", id); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("RenewLease after expiry error = %v, want ErrLeaseLost", err)
	}
	idB, err := b.AcquireLease(ctx, "scheduler", store.MinLeaseDuration)
	if err != nil {
		t.Fatalf("AcquireLease after expiry: %v", err)
	}
	if err := a.ReleaseLease(ctx, "scheduler", id); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("ReleaseLease by the expired holder error = %v, want ErrLeaseLost", err)
	}
	if err := b.ReleaseLease(ctx, "scheduler", idB); err != nil {
		t.Fatal(err)
	}
}

// TestWriteDropsExpiredLease: a Put or Delete after a lease expired removes
// its lease file, so the expired id cannot be renewed over the new object.
func TestWriteDropsExpiredLease(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	s := open(t, t.TempDir(), local.WithClock(clock.Now))
	ctx := t.Context()
	for _, write := range []func() error{
		func() error { _, err := s.Put(ctx, "k", []byte("v"), store.Condition{}); return err },
		func() error { return s.Delete(ctx, "k", "") },
	} {
		id, err := s.AcquireLease(ctx, "k", store.MinLeaseDuration)
		if err != nil {
			t.Fatal(err)
		}
		if err := write(); !errors.Is(err, store.ErrLeased) {
			t.Fatalf("write of a leased key error = %v, want ErrLeased", err)
		}
		clock.Advance(store.MinLeaseDuration)
		if err := write(); err != nil {
			t.Fatalf("write after expiry: %v", err)
		}
		if err := s.RenewLease(ctx, "k", id); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("RenewLease after the write error = %v, want ErrLeaseLost", err)
		}
		entries, err := os.ReadDir(filepath.Join(s.Dir(), "leases"))
		if err != nil || len(entries) != 0 {
			t.Fatalf("lease files left after the write: %v %v", entries, err)
		}
	}
}
