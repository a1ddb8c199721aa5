// Package local is a store.Store in a directory: the embedded default store.
// Several processes may share one directory; conditional writes and leases
// hold across them.
//
// Layout under the root directory:
//
//	data/    the objects, one file per key
//	tmp/     objects being written; renamed into data/ when complete
//	locks/   256 lock files; a key's writers hold the one its hash picks
//	leases/  one JSON file per leased key, named by the key's SHA-256
//
// A key's file is its segments, each encoded to a name that means the same on
// every common file system: a-z, 0-9 and "-_.+,=" stay; an upper-case letter
// becomes "!" and the letter in lower case (as in the Go module cache), so
// keys that differ only in case stay apart on macOS and Windows; any other
// byte, a trailing "." and the first letter of a Windows device name (con,
// nul, com1, ...) become "%" and two lower-case hex digits. Folders carry the
// suffix "@", which no encoded name has, so keys "a" and "a/b" coexist as the
// files data/a and data/a@/b. No key reaches outside data/. A segment whose
// name would pass 255 bytes is refused with store.ErrInvalidKey. List shows
// only files under data/ whose names decode, so temporary, lock and lease
// files never appear.
//
// Writes go to a temporary file that is synced and then renamed over the
// object, so readers see the old or the new object, never part of one.
// Appends (append.go) are the exception: they write the object's own file
// and flush its data, and a reader may see the last one in part, as the
// contract allows. Puts,
// Deletes and lease operations on a key check and change it while holding
// the key's lock: a sync.Mutex within the process and an advisory file lock
// (flock, LockFileEx on Windows) across processes. Gets and Lists take no lock.
//
// A key with a live lease refuses Put and Delete (store.ErrLeased), checked
// under the key's lock after the write's condition; a write after the lease
// expired removes the stale lease file.
//
// An ETag is the quoted hex of the first 16 bytes of the SHA-256 of the
// object's content: it changes whenever the content does and survives
// restarts and copies of the directory. Two writes of identical bytes share
// an ETag, which is safe for optimistic concurrency: an IfMatch write that
// succeeds replaces exactly the bytes its caller read.
package local

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/maestroplusplus/maestro/internal/store"
)

var _ store.Store = (*Store)(nil)

const (
	dataDir  = "data"
	tmpDir   = "tmp"
	locksDir = "locks"
	leaseDir = "leases"

	lockStripes = 256
	// staleTemp is the age at which Open removes leftovers of crashed writers.
	staleTemp = time.Hour
)

// Store is a directory-backed store.Store. Use Open to make one.
type Store struct {
	root   string
	now    func() time.Time
	noSync bool
	locks  [lockStripes]stripe
}

type stripe struct {
	mu   sync.Mutex
	file *flock.Flock
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes the Store read the time for lease expiry from now instead
// of time.Now. Every process sharing a directory should agree on the time.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// WithoutSync skips the fsync before each rename. Writes get faster, and a
// crash of the machine (not of the process) may leave objects empty or cut
// short; use it only for data that can be rebuilt, such as benchmark data sets.
func WithoutSync() Option {
	return func(s *Store) { s.noSync = true }
}

// Open returns a Store rooted at dir, creating the directory and its layout
// if needed, and removes temporary files that crashed writers left behind.
func Open(dir string, opts ...Option) (*Store, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open local store %s: %w", dir, err)
	}
	s := &Store{root: root, now: time.Now}
	for _, opt := range opts {
		opt(s)
	}
	for _, sub := range []string{dataDir, tmpDir, locksDir, leaseDir} {
		if err := os.MkdirAll(filepath.Join(root, sub), 0o755); err != nil {
			return nil, fmt.Errorf("open local store %s: %w", root, err)
		}
	}
	for i := range s.locks {
		s.locks[i].file = flock.New(filepath.Join(root, locksDir, fmt.Sprintf("%02x.lock", i)))
	}
	s.removeStaleTemps()
	return s, nil
}

// Exists reports whether dir holds a local store (its data folder), without
// creating anything.
func Exists(dir string) (bool, error) {
	fi, err := os.Stat(filepath.Join(dir, dataDir))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return fi.IsDir(), nil
}

// Dir returns the store's root directory.
func (s *Store) Dir() string { return s.root }

func (s *Store) removeStaleTemps() {
	dir := filepath.Join(s.root, tmpDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleTemp {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// lock takes key's lock within and across processes and returns its release.
func (s *Store) lock(key string) (func(), error) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	st := &s.locks[h.Sum32()%lockStripes]
	st.mu.Lock()
	if err := st.file.Lock(); err != nil {
		st.mu.Unlock()
		return nil, fmt.Errorf("lock %s: %w", st.file.Path(), err)
	}
	return func() {
		_ = st.file.Unlock()
		st.mu.Unlock()
	}, nil
}

func (s *Store) dataPath(key string) (string, error) {
	rel, err := relPath(key)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.root, dataDir, rel), nil
}

func (s *Store) leasePath(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(s.root, leaseDir, hex.EncodeToString(sum[:])+".json")
}

func etagOf(data []byte) string {
	sum := sha256.Sum256(data)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// read returns the object at path and its ETag, or store.ErrNotExist.
func read(path string) ([]byte, string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", store.ErrNotExist
	}
	if err != nil {
		return nil, "", err
	}
	return data, etagOf(data), nil
}

// Get implements store.Store.
func (s *Store) Get(_ context.Context, key string) ([]byte, string, error) {
	path, err := s.dataPath(key)
	if err != nil {
		return nil, "", err
	}
	data, etag, err := read(path)
	if err != nil {
		return nil, "", fmt.Errorf("get %s: %w", key, err)
	}
	return data, etag, nil
}

// writeTemp writes data to a synced temporary file and returns its path.
func (s *Store) writeTemp(data []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Join(s.root, tmpDir), "put-*")
	if err != nil {
		return "", err
	}
	_, werr := f.Write(data)
	if werr == nil && !s.noSync {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(f.Name())
		return "", werr
	}
	return f.Name(), nil
}

// install renames the temporary file tmp to path, creating parent folders
// when the rename finds them missing.
func install(tmp, path string) error {
	err := os.Rename(tmp, path)
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Put implements store.Store.
func (s *Store) Put(_ context.Context, key string, data []byte, cond store.Condition) (string, error) {
	path, err := s.dataPath(key)
	if err != nil {
		return "", err
	}
	tmp, err := s.writeTemp(data)
	if err != nil {
		return "", fmt.Errorf("put %s: %w", key, err)
	}
	installed := false
	defer func() {
		if !installed {
			_ = os.Remove(tmp)
		}
	}()
	unlock, err := s.lock(key)
	if err != nil {
		return "", fmt.Errorf("put %s: %w", key, err)
	}
	defer unlock()
	if err := checkCondition(path, cond); err != nil {
		return "", fmt.Errorf("put %s: %w", key, err)
	}
	leaseFile, err := s.notLeased(key)
	if err != nil {
		return "", fmt.Errorf("put %s: %w", key, err)
	}
	if err := install(tmp, path); err != nil {
		return "", fmt.Errorf("put %s: %w", key, err)
	}
	installed = true
	// An expired lease ends with the object it guarded.
	if err := s.dropLease(leaseFile); err != nil {
		return "", fmt.Errorf("put %s: drop its expired lease: %w", key, err)
	}
	return etagOf(data), nil
}

// checkCondition checks cond against the object at path; the caller holds
// the key's lock.
func checkCondition(path string, cond store.Condition) error {
	if cond.CreateOnly {
		_, err := os.Lstat(path)
		if err == nil {
			return fmt.Errorf("object exists: %w", store.ErrPrecondition)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if cond.IfMatch != "" {
		_, etag, err := read(path)
		if errors.Is(err, store.ErrNotExist) {
			return fmt.Errorf("if-match %s: object does not exist: %w", cond.IfMatch, store.ErrPrecondition)
		}
		if err != nil {
			return err
		}
		if etag != cond.IfMatch {
			return fmt.Errorf("if-match %s: object has ETag %s: %w", cond.IfMatch, etag, store.ErrPrecondition)
		}
	}
	return nil
}

// Delete implements store.Store.
func (s *Store) Delete(_ context.Context, key, ifMatch string) error {
	path, err := s.dataPath(key)
	if err != nil {
		return err
	}
	unlock, err := s.lock(key)
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	defer unlock()
	if ifMatch != "" {
		_, etag, err := read(path)
		if err != nil {
			return fmt.Errorf("delete %s: %w", key, err)
		}
		if etag != ifMatch {
			return fmt.Errorf("delete %s: if-match %s: object has ETag %s: %w", key, ifMatch, etag, store.ErrPrecondition)
		}
	}
	leaseFile, err := s.notLeased(key)
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if err := os.Remove(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, store.ErrNotExist)
	} else if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if err := s.dropLease(leaseFile); err != nil {
		return fmt.Errorf("delete %s: drop its lease: %w", key, err)
	}
	return nil
}

// List implements store.Store. It reads only the folders that can hold keys
// starting with prefix.
func (s *Store) List(_ context.Context, prefix string) ([]string, error) {
	var keys []string
	if err := walk(filepath.Join(s.root, dataDir), "", prefix, &keys); err != nil {
		return nil, fmt.Errorf("list %q: %w", prefix, err)
	}
	sort.Strings(keys)
	return keys, nil
}

// walk appends to keys the keys under dir, whose own key prefix is at
// ("" or ending in "/"), that start with prefix.
func walk(dir, at, prefix string, keys *[]string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			seg, ok := decodeSegment(strings.TrimSuffix(name, dirSuffix))
			if !ok || !strings.HasSuffix(name, dirSuffix) {
				continue
			}
			sub := at + seg + "/"
			if strings.HasPrefix(sub, prefix) || strings.HasPrefix(prefix, sub) {
				if err := walk(filepath.Join(dir, name), sub, prefix, keys); err != nil {
					return err
				}
			}
			continue
		}
		seg, ok := decodeSegment(name)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if key := at + seg; strings.HasPrefix(key, prefix) {
			*keys = append(*keys, key)
		}
	}
	return nil
}

// leaseState is the content of a lease file.
type leaseState struct {
	Key      string        `json:"key"`
	ID       string        `json:"id"`
	Duration time.Duration `json:"duration"`
	Expires  time.Time     `json:"expires"`
}

// readLease returns key's lease if one is live; the caller holds the lock.
func (s *Store) readLease(key string) (leaseState, bool, error) {
	l, _, err := s.readLeaseFile(key)
	live := err == nil && l.Key == key && s.now().Before(l.Expires)
	return l, live, err
}

// readLeaseFile reads key's lease file, and reports whether there is one;
// the caller holds the lock.
func (s *Store) readLeaseFile(key string) (leaseState, bool, error) {
	raw, err := os.ReadFile(s.leasePath(key))
	if errors.Is(err, fs.ErrNotExist) {
		return leaseState{}, false, nil
	}
	if err != nil {
		return leaseState{}, false, err
	}
	var l leaseState
	if err := json.Unmarshal(raw, &l); err != nil {
		return leaseState{}, true, fmt.Errorf("read lease file %s: %w", s.leasePath(key), err)
	}
	return l, true, nil
}

// notLeased returns store.ErrLeased if key has a live lease, and else the
// path of its expired lease file, "" when it has none; the caller holds
// the lock.
func (s *Store) notLeased(key string) (string, error) {
	l, found, err := s.readLeaseFile(key)
	if err != nil {
		return "", err
	}
	if l.Key == key && s.now().Before(l.Expires) {
		return "", store.ErrLeased
	}
	if !found {
		return "", nil
	}
	return s.leasePath(key), nil
}

// dropLease removes the lease file notLeased found, if any; the caller
// holds the lock.
func (s *Store) dropLease(path string) error {
	if path == "" {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// writeLease records l atomically; the caller holds the lock.
func (s *Store) writeLease(l leaseState) error {
	raw, err := json.Marshal(l)
	if err != nil {
		return err
	}
	tmp, err := s.writeTemp(raw)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	return os.Rename(tmp, s.leasePath(l.Key))
}

func newLeaseID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // a version 4 UUID, the form Azure uses
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// AcquireLease implements store.Store.
func (s *Store) AcquireLease(_ context.Context, key string, d time.Duration) (string, error) {
	path, err := s.dataPath(key)
	if err != nil {
		return "", err
	}
	if err := store.ValidateLeaseDuration(d); err != nil {
		return "", fmt.Errorf("lease %s: %w", key, err)
	}
	unlock, err := s.lock(key)
	if err != nil {
		return "", fmt.Errorf("lease %s: %w", key, err)
	}
	defer unlock()
	if _, live, err := s.readLease(key); err != nil {
		return "", fmt.Errorf("lease %s: %w", key, err)
	} else if live {
		return "", fmt.Errorf("lease %s: %w", key, store.ErrLeased)
	}
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		tmp, err := s.writeTemp(nil)
		if err != nil {
			return "", fmt.Errorf("lease %s: create empty object: %w", key, err)
		}
		defer os.Remove(tmp)
		if err := install(tmp, path); err != nil {
			return "", fmt.Errorf("lease %s: create empty object: %w", key, err)
		}
	} else if err != nil {
		return "", fmt.Errorf("lease %s: %w", key, err)
	}
	l := leaseState{Key: key, ID: newLeaseID(), Duration: d, Expires: s.now().Add(d)}
	if err := s.writeLease(l); err != nil {
		return "", fmt.Errorf("lease %s: %w", key, err)
	}
	return l.ID, nil
}

// heldLease checks that id is key's live lease; the caller holds the lock.
func (s *Store) heldLease(key, id string) (leaseState, error) {
	l, live, err := s.readLease(key)
	if err != nil {
		return leaseState{}, err
	}
	if !live || id == "" || l.ID != id {
		return leaseState{}, store.ErrLeaseLost
	}
	return l, nil
}

// RenewLease implements store.Store.
func (s *Store) RenewLease(_ context.Context, key, leaseID string) error {
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	unlock, err := s.lock(key)
	if err != nil {
		return fmt.Errorf("renew lease %s: %w", key, err)
	}
	defer unlock()
	l, err := s.heldLease(key, leaseID)
	if err != nil {
		return fmt.Errorf("renew lease %s: %w", key, err)
	}
	l.Expires = s.now().Add(l.Duration)
	if err := s.writeLease(l); err != nil {
		return fmt.Errorf("renew lease %s: %w", key, err)
	}
	return nil
}

// ReleaseLease implements store.Store.
func (s *Store) ReleaseLease(_ context.Context, key, leaseID string) error {
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	unlock, err := s.lock(key)
	if err != nil {
		return fmt.Errorf("release lease %s: %w", key, err)
	}
	defer unlock()
	if _, err := s.heldLease(key, leaseID); err != nil {
		return fmt.Errorf("release lease %s: %w", key, err)
	}
	if err := os.Remove(s.leasePath(key)); err != nil {
		return fmt.Errorf("release lease %s: %w", key, err)
	}
	return nil
}

// BreakLease implements store.Store.
func (s *Store) BreakLease(_ context.Context, key string) error {
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	unlock, err := s.lock(key)
	if err != nil {
		return fmt.Errorf("break lease %s: %w", key, err)
	}
	defer unlock()
	if err := os.Remove(s.leasePath(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("break lease %s: %w", key, err)
	}
	return nil
}
