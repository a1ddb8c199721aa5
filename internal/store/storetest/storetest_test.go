package storetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
	"github.com/maestroplusplus/maestro/internal/store/storetest"
)

// brokenEnv names the broken store a child process runs the suite against.
const brokenEnv = "STORETEST_BROKEN"

// brokenStores each break one rule of the contract; the suite must notice.
var brokenStores = []struct {
	name    string
	wrap    func(store.Store) store.Store
	failing string // a property that must fail
}{
	{"unsorted-list", func(s store.Store) store.Store { return unsortedList{s} }, "ListSortedByBytes"},
	{"shallow-list", func(s store.Store) store.Store { return shallowList{s} }, "NestedKeys"},
	{"racy-create-only", func(s store.Store) store.Store { return racyCreateOnly{s} }, "ConcurrentCreateOnly"},
	{"ignores-if-match", func(s store.Store) store.Store { return ignoresIfMatch{s} }, "ConcurrentIfMatchIncrement"},
	{"delete-ignores-if-match", func(s store.Store) store.Store { return deleteIgnoresIfMatch{s} }, "DeleteIfMatch"},
	{"shared-lease", func(s store.Store) store.Store { return sharedLease{s} }, "LeaseExclusive"},
	{"writes-break-leases", func(s store.Store) store.Store { return writesBreakLeases{s} }, "LeasedKeyRefusesWrites"},
	{"break-does-nothing", func(s store.Store) store.Store { return breakDoesNothing{s} }, "BreakLease"},
	{"append-ignores-length", func(s store.Store) store.Store { return appendIgnoresLength{s} }, "AppendLengthCondition"},
	{"racy-append", func(s store.Store) store.Store { return racyAppend{s} }, "ConcurrentAppend"},
	{"append-recreates", func(s store.Store) store.Store { return appendRecreates{s} }, "AppendAfterDelete"},
	{"lease-never-expires", func(s store.Store) store.Store { return leaseNeverExpires{s} }, "LeaseExpiry"},
}

// TestSuiteCatchesBrokenStores runs the suite against each broken store in a
// child process and checks that it fails on the property the store breaks.
func TestSuiteCatchesBrokenStores(t *testing.T) {
	if name := os.Getenv(brokenEnv); name != "" {
		for _, b := range brokenStores {
			if b.name == name {
				clock := storetest.NewClock()
				storetest.Run(t, func(*testing.T) store.Store { return b.wrap(mem.New(mem.WithClock(clock.Now))) }, storetest.WithClock(clock))
			}
		}
		return
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, b := range brokenStores {
		t.Run(b.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestSuiteCatchesBrokenStores$", "-test.v")
			cmd.Env = append(os.Environ(), brokenEnv+"="+b.name)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("the suite passed a store that breaks %s (err %v):\n%s", b.failing, err, out)
			}
			if want := "--- FAIL: TestSuiteCatchesBrokenStores/" + b.failing + " "; !strings.Contains(string(out), want) {
				t.Fatalf("output lacks %q:\n%s", want, out)
			}
		})
	}
}

func TestSuiteOnMem(t *testing.T) {
	clock := storetest.NewClock()
	storetest.Run(t, func(*testing.T) store.Store { return mem.New(mem.WithClock(clock.Now)) }, storetest.WithClock(clock))
}

type unsortedList struct{ store.Store }

func (s unsortedList) List(ctx context.Context, prefix string) ([]string, error) {
	keys, err := s.Store.List(ctx, prefix)
	slices.Reverse(keys)
	return keys, err
}

type shallowList struct{ store.Store }

func (s shallowList) List(ctx context.Context, prefix string) ([]string, error) {
	keys, err := s.Store.List(ctx, prefix)
	return slices.DeleteFunc(keys, func(k string) bool { return strings.Count(k, "/") > 1 }), err
}

type racyCreateOnly struct{ store.Store }

func (s racyCreateOnly) Put(ctx context.Context, key string, data []byte, cond store.Condition) (string, error) {
	if cond.CreateOnly {
		if _, _, err := s.Get(ctx, key); err == nil {
			return "", store.ErrPrecondition
		}
		time.Sleep(time.Millisecond) // check, then act
		cond.CreateOnly = false
	}
	return s.Store.Put(ctx, key, data, cond)
}

type ignoresIfMatch struct{ store.Store }

func (s ignoresIfMatch) Put(ctx context.Context, key string, data []byte, cond store.Condition) (string, error) {
	cond.IfMatch = ""
	return s.Store.Put(ctx, key, data, cond)
}

type deleteIgnoresIfMatch struct{ store.Store }

func (s deleteIgnoresIfMatch) Delete(ctx context.Context, key, _ string) error {
	return s.Store.Delete(ctx, key, "")
}

type sharedLease struct{ store.Store }

func (s sharedLease) AcquireLease(ctx context.Context, key string, d time.Duration) (string, error) {
	id, err := s.Store.AcquireLease(ctx, key, d)
	if errors.Is(err, store.ErrLeased) {
		return "another-id", nil
	}
	return id, err
}

// writesBreakLeases overwrites a leased key by breaking its lease first, as
// the local store once let a Delete end the holder's lease.
type writesBreakLeases struct{ store.Store }

func (s writesBreakLeases) Put(ctx context.Context, key string, data []byte, cond store.Condition) (string, error) {
	if err := s.Store.BreakLease(ctx, key); err != nil {
		return "", err
	}
	return s.Store.Put(ctx, key, data, cond)
}

type breakDoesNothing struct{ store.Store }

func (breakDoesNothing) BreakLease(context.Context, string) error { return nil }

// leaseNeverExpires renews a key's lease on every write attempt, so the
// lease outlives its duration.
type leaseNeverExpires struct{ store.Store }

func (s leaseNeverExpires) AcquireLease(ctx context.Context, key string, d time.Duration) (string, error) {
	id, err := s.Store.AcquireLease(ctx, key, d)
	if err == nil {
		leaseIDs.Store(key, id)
	}
	return id, err
}

func (s leaseNeverExpires) Put(ctx context.Context, key string, data []byte, cond store.Condition) (string, error) {
	if id, ok := leaseIDs.Load(key); ok {
		_ = s.Store.RenewLease(ctx, key, id.(string))
	}
	return s.Store.Put(ctx, key, data, cond)
}

var leaseIDs sync.Map

// appendIgnoresLength appends at the object's end, whatever length its
// caller saw.
type appendIgnoresLength struct{ store.Store }

func (s appendIgnoresLength) Append(ctx context.Context, key string, data []byte, _ int64) error {
	cur, _, err := s.Get(ctx, key)
	if err != nil && !errors.Is(err, store.ErrNotExist) {
		return err
	}
	return s.Store.Append(ctx, key, data, int64(len(cur)))
}

// appendRecreates brings a deleted object back instead of failing.
type appendRecreates struct{ store.Store }

func (s appendRecreates) Append(ctx context.Context, key string, data []byte, at int64) error {
	err := s.Store.Append(ctx, key, data, at)
	if errors.Is(err, store.ErrNotExist) {
		return s.Store.Append(ctx, key, data, 0)
	}
	return err
}

// racyAppend checks the length, then appends at the end it finds then.
type racyAppend struct{ store.Store }

func (s racyAppend) Append(ctx context.Context, key string, data []byte, at int64) error {
	cur, _, err := s.Get(ctx, key)
	if err != nil && !errors.Is(err, store.ErrNotExist) {
		return err
	}
	if int64(len(cur)) != at {
		return store.ErrPrecondition
	}
	time.Sleep(time.Millisecond)
	return appendIgnoresLength(s).Append(ctx, key, data, at)
}
