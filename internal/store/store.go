// Package store defines the object store that the Build Asset Registry lives in:
// keyed blobs with ETags, conditional writes and appends, prefix listing and
// leases. Backends live in sub-packages (local, azure, mem); storetest is the
// conformance suite every backend passes; storeurl opens a backend from a URL.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// Errors a Store returns. Callers test for them with errors.Is.
var (
	// ErrNotExist: the key has no object.
	ErrNotExist = errors.New("object does not exist")
	// ErrPrecondition: a create-only Put found an object, or an IfMatch ETag no
	// longer matches the stored object (or the object is gone).
	ErrPrecondition = errors.New("precondition failed")
	// ErrLeased: the key has a live lease: AcquireLease cannot take it, and
	// Put and Delete cannot change it.
	ErrLeased = errors.New("lease held by another holder")
	// ErrLeaseLost: the lease id is not (or no longer) the live lease on the key.
	ErrLeaseLost = errors.New("lease lost")
	// ErrInvalidKey: the key is not a valid object key (see ValidateKey).
	ErrInvalidKey = errors.New("invalid key")
	// ErrUnavailable: the store could not be reached (connection refused,
	// timeout, DNS) or answered with a server error or throttling (429,
	// 5xx). It is transient: package retry retries it. It is a
	// maestro.KindUnavailable error, so the command line exits 5.
	ErrUnavailable error = &maestro.Error{Kind: maestro.KindUnavailable, Msg: "store unavailable"}
)

// RetryAfter is implemented by errors of a store that was told how long to
// wait before trying again (an HTTP Retry-After header).
type RetryAfter interface {
	RetryAfter() time.Duration
}

// Base returns the backend under any wrappers: a wrapper (like retry.Store)
// has an Unwrap() Store method.
func Base(s Store) Store {
	for {
		w, ok := s.(interface{ Unwrap() Store })
		if !ok {
			return s
		}
		s = w.Unwrap()
	}
}

// Condition restricts a Put. The zero Condition writes unconditionally.
type Condition struct {
	// IfMatch, when set, writes only if the stored object's ETag equals it.
	IfMatch string
	// CreateOnly writes only if no object exists at the key.
	CreateOnly bool
}

// Lease durations a Store accepts: Azure Blob leases last 15 to 60 seconds.
const (
	MinLeaseDuration = 15 * time.Second
	MaxLeaseDuration = 60 * time.Second
)

// Store is a flat namespace of objects addressed by slash-separated keys.
//
// Contract:
//   - Get returns the object's bytes and ETag, or ErrNotExist.
//   - Put stores data and returns the new ETag. With Condition.CreateOnly it
//     fails with ErrPrecondition if the key exists; with Condition.IfMatch it
//     fails with ErrPrecondition unless the stored ETag equals IfMatch. The
//     check and the write are atomic, across goroutines and across processes.
//     A reader sees either the old or the new object, never a mix.
//   - Delete removes the object; with a non-empty ifMatch only if its ETag
//     matches (ErrPrecondition otherwise). Deleting a missing key returns
//     ErrNotExist.
//   - List returns every key that starts with prefix, at any depth, sorted
//     in byte order.
//   - AcquireLease takes an exclusive lease on key for d (between
//     MinLeaseDuration and MaxLeaseDuration), creating an empty object there if
//     none exists, and returns the lease id. A live lease held by someone else
//     gives ErrLeased. RenewLease extends the lease by its duration and
//     ReleaseLease ends it; both give ErrLeaseLost for a lease id that is not the
//     live lease. BreakLease ends whatever lease the key has at once, without
//     its id (an operator's way to free a lock whose holder is gone); on a key
//     without a lease, or without an object, it does nothing and returns nil.
//   - A leased key is a lock, not a document: while its lease is live, Put
//     and Delete on it fail with ErrLeased and change nothing — whoever holds
//     the lease included, since neither takes a lease id (Azure refuses a
//     write without the id the same way). Keep data under other keys. A
//     condition that fails (CreateOnly on the existing object, a stale
//     IfMatch) is reported as ErrPrecondition before the lease is considered.
//   - A lease ends when it expires (d after it was taken or last renewed, by
//     the store's clock), is released or is broken. Then anyone may acquire
//     the key, Put and Delete succeed again, and once another lease was taken
//     the old id gets ErrLeaseLost. Whether the holder of an expired or broken
//     lease that nobody took since may still renew or release it is not part
//     of the contract (Azure lets it; local and mem answer ErrLeaseLost):
//     renew well before expiry.
//   - Append adds data (not empty) at the end of the object at key, on
//     condition that the object is at bytes long; at 0 on a missing key
//     creates it. The condition makes a second writer, a retry of an append
//     that took effect, and an append to an object deleted meanwhile fail
//     instead of writing twice or into nothing: a missing key with at > 0
//     gives ErrNotExist, an object of another length ErrPrecondition, a
//     live lease ErrLeased. An append changes the ETag, and once Append
//     returns, data is durable. A reader sees the appends in order, but it
//     may see the last one in part: while it is written (the local store),
//     or for good when it failed or its writer or the machine crashed
//     during it (then the object's length matches no append its writer
//     meant to make next). Callers frame what they append and check each
//     frame when they read. Appending to an object that Put wrote is not
//     part of the contract (Azure refuses it: an append blob is a blob type
//     of its own), and neither is an append at 0 that races a Delete of its
//     key (Azure may report ErrNotExist: it creates and appends in two
//     requests). Once Append returned nil, the store keeps no reference to
//     data: the caller may reuse it. After an error it may still be
//     read for a while (a request cut short), so reuse it only after nil.
//   - Every key passes ValidateKey, else ErrInvalidKey.
//   - Any method of a remote backend may fail with ErrUnavailable when the
//     store cannot be reached or cannot answer now; backends do not retry
//     (wrap them in package retry, as storeurl.Open does). Errors never
//     carry a credential (see package redact).
type Store interface {
	Get(ctx context.Context, key string) (data []byte, etag string, err error)
	Put(ctx context.Context, key string, data []byte, cond Condition) (etag string, err error)
	Delete(ctx context.Context, key string, ifMatch string) error
	Append(ctx context.Context, key string, data []byte, at int64) error
	List(ctx context.Context, prefix string) ([]string, error)
	AcquireLease(ctx context.Context, key string, d time.Duration) (leaseID string, err error)
	RenewLease(ctx context.Context, key, leaseID string) error
	ReleaseLease(ctx context.Context, key, leaseID string) error
	BreakLease(ctx context.Context, key string) error
}

// ValidateKey reports whether key is a valid object key: non-empty, at most
// 1024 bytes, slash-separated segments that are neither empty, "." nor "..",
// and no backslash, NUL or other control character.
func ValidateKey(key string) error {
	if key == "" || len(key) > 1024 {
		return fmt.Errorf("%w: %q: length must be 1 to 1024 bytes", ErrInvalidKey, key)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return fmt.Errorf("%w: %q: control character or backslash", ErrInvalidKey, key)
		}
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w: %q: empty, \".\" or \"..\" segment", ErrInvalidKey, key)
		}
	}
	return nil
}

// ValidateLeaseDuration checks d against the lease limits.
func ValidateLeaseDuration(d time.Duration) error {
	if d < MinLeaseDuration || d > MaxLeaseDuration {
		return fmt.Errorf("lease duration %s: must be between %s and %s", d, MinLeaseDuration, MaxLeaseDuration)
	}
	return nil
}
