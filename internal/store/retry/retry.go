// Package retry is a store.Store wrapper that retries transient failures
// with exponential back-off, so that no backend carries retry logic of its
// own (as restic's backend/retry).
//
// Only store.ErrUnavailable is transient: a connection refused, a timeout, a
// throttled (429) or failed (5xx) request. Every answer about the data —
// ErrNotExist, ErrPrecondition, ErrLeased, ErrLeaseLost, ErrInvalidKey — and
// a cancelled context are returned at once. When the error says how long to
// wait (store.RetryAfter, from a Retry-After header), the wrapper waits that
// long, up to MaxDelay, instead of its own back-off.
//
// A request whose answer was lost may have taken effect. The wrapper
// reconciles what a retry then sees: a create-only or if-match Put that
// finds ErrPrecondition after a transient failure reads the key, and if it
// holds exactly the bytes written, reports success with that ETag; so does
// an Append that finds ErrPrecondition and the object ending, at its
// length condition, with exactly the bytes appended; a retried
// Delete that finds ErrNotExist, and a retried ReleaseLease that finds
// ErrLeaseLost, report success (the key is gone, the lease is not held). A
// retried AcquireLease that finds ErrLeased returns it: the lost lease
// expires on its own.
package retry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/maestroplusplus/maestro/internal/store"
)

var _ store.Store = (*Store)(nil)

// Defaults: four attempts, waiting 200 ms, 400 ms and 800 ms between them.
const (
	DefaultAttempts  = 4
	DefaultBaseDelay = 200 * time.Millisecond
	DefaultMaxDelay  = 30 * time.Second
)

// Store retries the transient failures of the Store it wraps.
type Store struct {
	base      store.Store
	attempts  int
	baseDelay time.Duration
	maxDelay  time.Duration
	sleep     func(ctx context.Context, d time.Duration) error
}

// Option configures a Store.
type Option func(*Store)

// WithAttempts sets how many times an operation is tried in all (at least 1).
func WithAttempts(n int) Option { return func(s *Store) { s.attempts = max(n, 1) } }

// WithBackoff sets the first wait and the longest (also the cap on a
// Retry-After the store asks for).
func WithBackoff(base, maxDelay time.Duration) Option {
	return func(s *Store) { s.baseDelay, s.maxDelay = base, maxDelay }
}

// WithSleep replaces the wait between attempts; sleep must return early with
// ctx's error when ctx ends. Tests record the waits instead of sleeping.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(s *Store) { s.sleep = sleep }
}

// New wraps base.
func New(base store.Store, opts ...Option) *Store {
	s := &Store{base: base, attempts: DefaultAttempts, baseDelay: DefaultBaseDelay, maxDelay: DefaultMaxDelay, sleep: Sleep}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Unwrap returns the wrapped Store.
func (s *Store) Unwrap() store.Store { return s.base }

// Sleep waits d or until ctx ends, whichever comes first.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Transient reports whether err is worth another attempt.
func Transient(err error) bool {
	return err != nil && errors.Is(err, store.ErrUnavailable) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// delay is the wait before attempt n+1 (n counts from 1) after err.
func (s *Store) delay(n int, err error) time.Duration {
	var ra store.RetryAfter
	if errors.As(err, &ra) && ra.RetryAfter() > 0 {
		return min(ra.RetryAfter(), s.maxDelay)
	}
	d := s.baseDelay << (n - 1)
	if d <= 0 || d > s.maxDelay {
		return s.maxDelay
	}
	return d
}

// do runs op until it succeeds, fails for good or runs out of attempts; it
// reports whether an attempt failed transiently before the last one.
func (s *Store) do(ctx context.Context, op func() error) (retried bool, err error) {
	for n := 1; ; n++ {
		err = op()
		if !Transient(err) || ctx.Err() != nil {
			return retried, err
		}
		if n >= s.attempts {
			return retried, fmt.Errorf("%w (gave up after %d attempts)", err, n)
		}
		if serr := s.sleep(ctx, s.delay(n, err)); serr != nil {
			return retried, err
		}
		retried = true
	}
}

// Do runs op with the same policy as a Store made with opts, for work
// outside a Store's methods, such as opening one.
func Do(ctx context.Context, op func() error, opts ...Option) error {
	_, err := New(nil, opts...).do(ctx, op)
	return err
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) (data []byte, etag string, err error) {
	_, err = s.do(ctx, func() (e error) { data, etag, e = s.base.Get(ctx, key); return e })
	return data, etag, err
}

// Put implements store.Store.
func (s *Store) Put(ctx context.Context, key string, data []byte, cond store.Condition) (etag string, err error) {
	retried, err := s.do(ctx, func() (e error) { etag, e = s.base.Put(ctx, key, data, cond); return e })
	if retried && errors.Is(err, store.ErrPrecondition) {
		// The lost attempt may have written; then the key holds our bytes.
		if got, gotETag, gerr := s.Get(ctx, key); gerr == nil && bytes.Equal(got, data) {
			return gotETag, nil
		}
	}
	return etag, err
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, key, ifMatch string) error {
	retried, err := s.do(ctx, func() error { return s.base.Delete(ctx, key, ifMatch) })
	if retried && errors.Is(err, store.ErrNotExist) {
		return nil
	}
	return err
}

// Append implements store.Store.
func (s *Store) Append(ctx context.Context, key string, data []byte, at int64) error {
	retried, err := s.do(ctx, func() error { return s.base.Append(ctx, key, data, at) })
	if retried && errors.Is(err, store.ErrPrecondition) {
		// The lost attempt may have appended; then the object ends with
		// our bytes, right at at.
		if got, _, gerr := s.Get(ctx, key); gerr == nil && int64(len(got)) == at+int64(len(data)) && bytes.Equal(got[at:], data) {
			return nil
		}
	}
	return err
}

// List implements store.Store.
func (s *Store) List(ctx context.Context, prefix string) (keys []string, err error) {
	_, err = s.do(ctx, func() (e error) { keys, e = s.base.List(ctx, prefix); return e })
	return keys, err
}

// AcquireLease implements store.Store.
func (s *Store) AcquireLease(ctx context.Context, key string, d time.Duration) (id string, err error) {
	_, err = s.do(ctx, func() (e error) { id, e = s.base.AcquireLease(ctx, key, d); return e })
	return id, err
}

// RenewLease implements store.Store.
func (s *Store) RenewLease(ctx context.Context, key, leaseID string) error {
	_, err := s.do(ctx, func() error { return s.base.RenewLease(ctx, key, leaseID) })
	return err
}

// ReleaseLease implements store.Store.
func (s *Store) ReleaseLease(ctx context.Context, key, leaseID string) error {
	retried, err := s.do(ctx, func() error { return s.base.ReleaseLease(ctx, key, leaseID) })
	if retried && errors.Is(err, store.ErrLeaseLost) {
		return nil
	}
	return err
}

// BreakLease implements store.Store.
func (s *Store) BreakLease(ctx context.Context, key string) error {
	_, err := s.do(ctx, func() error { return s.base.BreakLease(ctx, key) })
	return err
}
