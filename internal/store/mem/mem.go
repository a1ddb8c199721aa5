// Package mem is an in-memory store.Store for fast tests. It implements the
// whole contract, conditions and leases included, within one process.
package mem

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/maestroplusplus/maestro/internal/store"
)

var _ store.Store = (*Store)(nil)

type object struct {
	data []byte
	etag string
}

type lease struct {
	id      string
	d       time.Duration
	expires time.Time
}

// Store keeps objects in a map guarded by a mutex.
type Store struct {
	mu      sync.Mutex
	objects map[string]object
	leases  map[string]lease
	seq     uint64
	now     func() time.Time
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes the Store read the time for lease expiry from now instead
// of time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// New returns an empty Store.
func New(opts ...Option) *Store {
	s := &Store{objects: map[string]object{}, leases: map[string]lease{}, now: time.Now}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// leased reports whether key has a live lease; the caller holds mu.
func (s *Store) leased(key string) bool {
	l, ok := s.leases[key]
	return ok && s.now().Before(l.expires)
}

func (s *Store) nextETag() string {
	s.seq++
	return fmt.Sprintf("\"%x\"", s.seq)
}

// Get implements store.Store.
func (s *Store) Get(_ context.Context, key string) ([]byte, string, error) {
	if err := store.ValidateKey(key); err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[key]
	if !ok {
		return nil, "", fmt.Errorf("get %s: %w", key, store.ErrNotExist)
	}
	return append([]byte(nil), o.data...), o.etag, nil
}

// Put implements store.Store.
func (s *Store) Put(_ context.Context, key string, data []byte, cond store.Condition) (string, error) {
	if err := store.ValidateKey(key); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, exists := s.objects[key]
	if cond.CreateOnly && exists {
		return "", fmt.Errorf("put %s: exists: %w", key, store.ErrPrecondition)
	}
	if cond.IfMatch != "" && (!exists || o.etag != cond.IfMatch) {
		return "", fmt.Errorf("put %s: etag mismatch: %w", key, store.ErrPrecondition)
	}
	if s.leased(key) {
		return "", fmt.Errorf("put %s: %w", key, store.ErrLeased)
	}
	etag := s.nextETag()
	s.objects[key] = object{data: append([]byte(nil), data...), etag: etag}
	delete(s.leases, key) // an expired lease ends with the object it guarded
	return etag, nil
}

// Append implements store.Store.
func (s *Store) Append(_ context.Context, key string, data []byte, at int64) error {
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	if len(data) == 0 || at < 0 {
		return fmt.Errorf("append to %s at %d: %d bytes: need data and a length of 0 or more", key, at, len(data))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, exists := s.objects[key]
	switch {
	case !exists && at > 0:
		return fmt.Errorf("append to %s at %d: %w", key, at, store.ErrNotExist)
	case int64(len(o.data)) != at:
		return fmt.Errorf("append to %s: the object is %d bytes long, not %d: %w", key, len(o.data), at, store.ErrPrecondition)
	case s.leased(key):
		return fmt.Errorf("append to %s: %w", key, store.ErrLeased)
	}
	// In place: no caller holds o.data (Get and Put copy).
	s.objects[key] = object{data: append(o.data, data...), etag: s.nextETag()}
	delete(s.leases, key) // an expired lease ends with the object it guarded
	return nil
}

// Delete implements store.Store.
func (s *Store) Delete(_ context.Context, key, ifMatch string) error {
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, exists := s.objects[key]
	if !exists {
		return fmt.Errorf("delete %s: %w", key, store.ErrNotExist)
	}
	if ifMatch != "" && o.etag != ifMatch {
		return fmt.Errorf("delete %s: etag mismatch: %w", key, store.ErrPrecondition)
	}
	if s.leased(key) {
		return fmt.Errorf("delete %s: %w", key, store.ErrLeased)
	}
	delete(s.objects, key)
	delete(s.leases, key)
	return nil
}

// List implements store.Store.
func (s *Store) List(_ context.Context, prefix string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k := range s.objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// AcquireLease implements store.Store.
func (s *Store) AcquireLease(_ context.Context, key string, d time.Duration) (string, error) {
	if err := store.ValidateKey(key); err != nil {
		return "", err
	}
	if err := store.ValidateLeaseDuration(d); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.leased(key) {
		return "", fmt.Errorf("lease %s: %w", key, store.ErrLeased)
	}
	if _, ok := s.objects[key]; !ok {
		s.objects[key] = object{etag: s.nextETag()}
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	s.leases[key] = lease{id: id, d: d, expires: now.Add(d)}
	return id, nil
}

func (s *Store) liveLease(key, id string) (lease, error) {
	l, ok := s.leases[key]
	if !ok || l.id != id || !s.now().Before(l.expires) {
		return lease{}, fmt.Errorf("lease %s: %w", key, store.ErrLeaseLost)
	}
	return l, nil
}

// RenewLease implements store.Store.
func (s *Store) RenewLease(_ context.Context, key, leaseID string) error {
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.liveLease(key, leaseID)
	if err != nil {
		return err
	}
	l.expires = s.now().Add(l.d)
	s.leases[key] = l
	return nil
}

// ReleaseLease implements store.Store.
func (s *Store) ReleaseLease(_ context.Context, key, leaseID string) error {
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.liveLease(key, leaseID); err != nil {
		return err
	}
	delete(s.leases, key)
	return nil
}

// BreakLease implements store.Store.
func (s *Store) BreakLease(_ context.Context, key string) error {
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.leases, key)
	return nil
}
