package retry_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/local"
	"github.com/maestroplusplus/maestro/internal/store/mem"
	"github.com/maestroplusplus/maestro/internal/store/retry"
	"github.com/maestroplusplus/maestro/internal/store/storetest"
)

func TestSuiteOverMem(t *testing.T) {
	clock := storetest.NewClock()
	storetest.Run(t, func(*testing.T) store.Store { return retry.New(mem.New(mem.WithClock(clock.Now))) }, storetest.WithClock(clock))
}

func TestSuiteOverLocal(t *testing.T) {
	clock := storetest.NewClock()
	storetest.Run(t, func(t *testing.T) store.Store {
		st, err := local.Open(t.TempDir(), local.WithClock(clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		return retry.New(st)
	}, storetest.WithClock(clock))
}

// faulty fails the next n calls of every method with err, then passes them
// to a real in-memory store. With lost set, a failing call is first carried
// out, as when a request took effect and its answer was lost.
type faulty struct {
	store.Store
	mu    sync.Mutex
	n     int
	err   error
	lost  bool
	calls int
}

func (f *faulty) fail(call func() error) error {
	f.mu.Lock()
	f.calls++
	failing := f.n > 0
	if failing {
		f.n--
	}
	f.mu.Unlock()
	if !failing {
		return call()
	}
	if f.lost {
		_ = call()
	}
	return f.err
}

func (f *faulty) Get(ctx context.Context, key string) (data []byte, etag string, err error) {
	err = f.fail(func() (e error) { data, etag, e = f.Store.Get(ctx, key); return e })
	return data, etag, err
}

func (f *faulty) Put(ctx context.Context, key string, data []byte, cond store.Condition) (etag string, err error) {
	err = f.fail(func() (e error) { etag, e = f.Store.Put(ctx, key, data, cond); return e })
	return etag, err
}

func (f *faulty) Delete(ctx context.Context, key, ifMatch string) error {
	return f.fail(func() error { return f.Store.Delete(ctx, key, ifMatch) })
}

func (f *faulty) Append(ctx context.Context, key string, data []byte, at int64) error {
	return f.fail(func() error { return f.Store.Append(ctx, key, data, at) })
}

func (f *faulty) ReleaseLease(ctx context.Context, key, id string) error {
	return f.fail(func() error { return f.Store.ReleaseLease(ctx, key, id) })
}

// sleeps records the waits instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

type throttled struct{ after time.Duration }

func (e throttled) Error() string {
	return fmt.Sprintf("429 Too Many Requests, retry after %s", e.after)
}
func (e throttled) RetryAfter() time.Duration { return e.after }
func (e throttled) Unwrap() error             { return store.ErrUnavailable }

func TestWhichErrorsRetry(t *testing.T) {
	cases := []struct {
		name  string
		err   error
		retry bool
	}{
		{"unavailable", store.ErrUnavailable, true},
		{"wrapped unavailable", fmt.Errorf("get k from http://x: %w: dial tcp: connection refused", store.ErrUnavailable), true},
		{"throttled", throttled{time.Second}, true},
		{"not exist", fmt.Errorf("get k: %w", store.ErrNotExist), false},
		{"precondition", store.ErrPrecondition, false},
		{"leased", store.ErrLeased, false},
		{"lease lost", store.ErrLeaseLost, false},
		{"invalid key", store.ErrInvalidKey, false},
		{"cancelled", fmt.Errorf("%w: %w", store.ErrUnavailable, context.Canceled), false},
		{"deadline", fmt.Errorf("%w: %w", store.ErrUnavailable, context.DeadlineExceeded), false},
		{"other", errors.New("disk full"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := retry.Transient(c.err); got != c.retry {
				t.Fatalf("Transient(%v) = %v, want %v", c.err, got, c.retry)
			}
			base := &faulty{Store: mem.New(), n: 1, err: c.err}
			var sl sleeps
			s := retry.New(base, retry.WithSleep(sl.sleep))
			_, _, err := s.Get(t.Context(), "k")
			wantCalls := 1
			if c.retry {
				wantCalls = 2
				if !errors.Is(err, store.ErrNotExist) {
					t.Fatalf("after one transient failure Get error = %v, want the store's ErrNotExist", err)
				}
			} else if !errors.Is(err, c.err) {
				t.Fatalf("Get error = %v, want %v unchanged", err, c.err)
			}
			if base.calls != wantCalls || len(sl.d) != wantCalls-1 {
				t.Fatalf("%d calls and %d waits, want %d calls", base.calls, len(sl.d), wantCalls)
			}
		})
	}
}

func TestBackoffAndGiveUp(t *testing.T) {
	base := &faulty{Store: mem.New(), n: 100, err: fmt.Errorf("dial: %w", store.ErrUnavailable)}
	var sl sleeps
	s := retry.New(base, retry.WithSleep(sl.sleep))
	_, err := s.Put(t.Context(), "k", []byte("v"), store.Condition{})
	if !errors.Is(err, store.ErrUnavailable) || maestro.KindOf(err) != maestro.KindUnavailable {
		t.Fatalf("Put error = %v (kind %v), want ErrUnavailable of KindUnavailable", err, maestro.KindOf(err))
	}
	want := []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}
	if base.calls != retry.DefaultAttempts || !slices.Equal(sl.d, want) {
		t.Fatalf("%d calls, waits %v; want %d calls, waits %v", base.calls, sl.d, retry.DefaultAttempts, want)
	}
	sl.d = nil
	base.calls = 0
	s = retry.New(base, retry.WithSleep(sl.sleep), retry.WithAttempts(10), retry.WithBackoff(time.Second, 3*time.Second))
	_, _ = s.Put(t.Context(), "k", []byte("v"), store.Condition{})
	want = []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second}
	if base.calls != 10 || !slices.Equal(sl.d, want) {
		t.Fatalf("%d calls, waits %v; want 10 calls, waits %v", base.calls, sl.d, want)
	}
}

func TestRetryAfter(t *testing.T) {
	for _, c := range []struct{ after, want time.Duration }{
		{7 * time.Second, 7 * time.Second},
		{time.Hour, retry.DefaultMaxDelay},
	} {
		base := &faulty{Store: mem.New(), n: 1, err: throttled{c.after}}
		var sl sleeps
		s := retry.New(base, retry.WithSleep(sl.sleep))
		if _, err := s.Put(t.Context(), "k", []byte("v"), store.Condition{}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(sl.d, []time.Duration{c.want}) {
			t.Fatalf("Retry-After %s: waits %v, want [%s]", c.after, sl.d, c.want)
		}
	}
}

func TestCancelStopsWaiting(t *testing.T) {
	base := &faulty{Store: mem.New(), n: 100, err: store.ErrUnavailable}
	s := retry.New(base, retry.WithBackoff(time.Hour, time.Hour))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := s.Get(ctx, "k")
	if !errors.Is(err, store.ErrUnavailable) || time.Since(start) > 5*time.Second || base.calls != 1 {
		t.Fatalf("Get with a cancelled wait: %v after %s and %d calls", err, time.Since(start), base.calls)
	}
}

// TestLostAnswers: a write that took effect but whose answer was lost must
// not be reported as a conflict with itself.
func TestLostAnswers(t *testing.T) {
	ctx := t.Context()
	newStore := func() (*faulty, *retry.Store) {
		var sl sleeps
		f := &faulty{Store: mem.New(), err: store.ErrUnavailable, lost: true}
		return f, retry.New(f, retry.WithSleep(sl.sleep))
	}

	f, s := newStore()
	f.n = 1
	etag, err := s.Put(ctx, "k", []byte("mine"), store.Condition{CreateOnly: true})
	if err != nil {
		t.Fatalf("create-only Put whose first answer was lost: %v", err)
	}
	if _, got, _ := f.Store.Get(ctx, "k"); got != etag {
		t.Fatalf("Put returned ETag %q, the store has %q", etag, got)
	}
	f.n = 1
	if _, err := s.Put(ctx, "k", []byte("mine2"), store.Condition{IfMatch: etag}); err != nil {
		t.Fatalf("if-match Put whose first answer was lost: %v", err)
	}
	// Someone else's object is still a conflict.
	if _, err := s.Put(ctx, "k", []byte("theirs"), store.Condition{CreateOnly: true}); !errors.Is(err, store.ErrPrecondition) {
		t.Fatalf("create-only Put on another writer's object error = %v, want ErrPrecondition", err)
	}
	f.n = 1
	if err := s.Delete(ctx, "k", ""); err != nil {
		t.Fatalf("Delete whose first answer was lost: %v", err)
	}
	if err := s.Delete(ctx, "k", ""); !errors.Is(err, store.ErrNotExist) {
		t.Fatalf("Delete of a missing key error = %v, want ErrNotExist", err)
	}
	f.n = 1
	if err := s.Append(ctx, "log", []byte("first"), 0); err != nil {
		t.Fatalf("Append whose first answer was lost: %v", err)
	}
	f.n = 1
	if err := s.Append(ctx, "log", []byte("second"), 5); err != nil {
		t.Fatalf("second Append whose first answer was lost: %v", err)
	}
	if got, _, _ := f.Store.Get(ctx, "log"); string(got) != "firstsecond" {
		t.Fatalf("the log holds %q, want each append once", got)
	}
	// Another writer's append at that length is still a conflict, even
	// with the same bytes.
	f.n = 1
	f.lost = false
	if err := f.Store.Append(ctx, "log", []byte("third"), 11); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, "log", []byte("third"), 5); !errors.Is(err, store.ErrPrecondition) {
		t.Fatalf("Append at a length another writer passed: %v, want ErrPrecondition", err)
	}
	f.lost = true
	id, err := s.AcquireLease(ctx, "lock", store.MinLeaseDuration)
	if err != nil {
		t.Fatal(err)
	}
	f.n = 1
	if err := s.ReleaseLease(ctx, "lock", id); err != nil {
		t.Fatalf("ReleaseLease whose first answer was lost: %v", err)
	}
}

func TestUnwrap(t *testing.T) {
	base := mem.New()
	if got := store.Base(retry.New(retry.New(base))); got != base {
		t.Fatalf("store.Base = %T, want the mem store", got)
	}
}

func TestDo(t *testing.T) {
	var sl sleeps
	calls := 0
	err := retry.Do(t.Context(), func() error {
		calls++
		if calls < 3 {
			return store.ErrUnavailable
		}
		return store.ErrNotExist
	}, retry.WithSleep(sl.sleep))
	if !errors.Is(err, store.ErrNotExist) || calls != 3 || len(sl.d) != 2 {
		t.Fatalf("Do: %v after %d calls and %d waits, want ErrNotExist after 3 calls and 2 waits", err, calls, len(sl.d))
	}
}
