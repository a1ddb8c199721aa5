// Package storetest is the conformance suite for store.Store. Every backend's
// test calls Run with a constructor that returns a fresh, empty store; each
// property of the contract in package store is one subtest, so a failure names
// the rule that broke.
//
// To add a backend, give it a test file like
//
//	func TestSuite(t *testing.T) {
//		clock := storetest.NewClock()
//		storetest.Run(t, func(t *testing.T) store.Store {
//			return mybackend.New(t.TempDir(), mybackend.WithClock(clock.Now))
//		}, storetest.WithClock(clock))
//	}
//
// (without WithClock the lease-expiry property waits for real time to pass).
//
// To add a property, add a function to the tests table: it gets a fresh store
// and must not depend on timing other than what the contract promises.
package storetest

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestroplusplus/maestro/internal/store"
)

// Goroutines is how many goroutines the concurrency properties race.
const Goroutines = 32

// LargeObjectSize is the size of the object the large-object property
// round-trips.
const LargeObjectSize = 8 << 20

// Run runs every property of the store.Store contract against stores made by
// newStore. newStore is called once per property and must return an empty
// store that no other property uses; it registers its own cleanup on t.
//
// Lease expiry needs time to pass. A backend whose clock can be injected
// (local, mem) reads it from a Clock passed WithClock, and the suite moves
// that clock; without one the suite waits for real (Azure, where the server
// keeps time: one minimum lease, about 16 seconds).
func Run(t *testing.T, newStore func(t *testing.T) store.Store, opts ...Option) {
	t.Helper()
	var cfg config
	for _, opt := range opts {
		opt(&cfg)
	}
	env := &env{advance: realWait}
	if cfg.clock != nil {
		env.advance = func(_ *testing.T, d time.Duration) { cfg.clock.Advance(d) }
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newStore(t))
		})
	}
	for _, tc := range appendTests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newStore(t))
		})
	}
	for _, tc := range timedTests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newStore(t), env)
		})
	}
}

var tests = []struct {
	name string
	run  func(t *testing.T, s store.Store)
}{
	{"GetMissing", testGetMissing},
	{"PutGet", testPutGet},
	{"ETagStable", testETagStable},
	{"Overwrite", testOverwrite},
	{"EmptyObject", testEmptyObject},
	{"PutCopiesData", testPutCopiesData},
	{"Delete", testDelete},
	{"NestedKeys", testNestedKeys},
	{"KeyCharacters", testKeyCharacters},
	{"ListSortedByBytes", testListSorted},
	{"ListPrefix", testListPrefix},
	{"CreateOnly", testCreateOnly},
	{"IfMatch", testIfMatch},
	{"IfMatchMissing", testIfMatchMissing},
	{"DeleteIfMatch", testDeleteIfMatch},
	{"InvalidKeys", testInvalidKeys},
	{"ConcurrentCreateOnly", testConcurrentCreateOnly},
	{"ConcurrentIfMatchIncrement", testConcurrentIncrement},
	{"LeaseExclusive", testLeaseExclusive},
	{"LeaseCreatesEmptyObject", testLeaseCreatesEmptyObject},
	{"LeaseKeepsData", testLeaseKeepsData},
	{"LeaseWrongID", testLeaseWrongID},
	{"LeaseNotHeld", testLeaseNotHeld},
	{"LeaseDuration", testLeaseDuration},
	{"LeasedKeyRefusesWrites", testLeasedWrites},
	{"BreakLease", testBreakLease},
	{"LargeObject", testLargeObject},
}

func mustPut(t *testing.T, s store.Store, key string, data []byte) string {
	t.Helper()
	etag, err := s.Put(t.Context(), key, data, store.Condition{})
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	if etag == "" {
		t.Fatalf("Put(%q) returned an empty ETag", key)
	}
	return etag
}

func mustGet(t *testing.T, s store.Store, key string) ([]byte, string) {
	t.Helper()
	data, etag, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return data, etag
}

func wantData(t *testing.T, s store.Store, key string, want []byte) {
	t.Helper()
	got, _ := mustGet(t, s, key)
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %q, want %q", key, abbrev(got), abbrev(want))
	}
}

func wantMissing(t *testing.T, s store.Store, key string) {
	t.Helper()
	if _, _, err := s.Get(t.Context(), key); !errors.Is(err, store.ErrNotExist) {
		t.Fatalf("Get(%q) error = %v, want ErrNotExist", key, err)
	}
}

func wantList(t *testing.T, s store.Store, prefix string, want []string) {
	t.Helper()
	got, err := s.List(t.Context(), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Fatalf("List(%q) =\n  %q\nwant\n  %q", prefix, got, want)
	}
}

func abbrev(b []byte) string {
	if len(b) > 64 {
		return fmt.Sprintf("%s... (%d bytes)", b[:64], len(b))
	}
	return string(b)
}

func testGetMissing(t *testing.T, s store.Store) {
	wantMissing(t, s, "missing")
	wantMissing(t, s, "missing/nested/key.json")
}

func testPutGet(t *testing.T, s store.Store) {
	etag := mustPut(t, s, "builds/1.json", []byte(`{"id":1}`))
	data, got := mustGet(t, s, "builds/1.json")
	if string(data) != `{"id":1}` {
		t.Fatalf("Get = %q, want %q", data, `{"id":1}`)
	}
	if got != etag {
		t.Fatalf("Get ETag = %q, Put returned %q", got, etag)
	}
}

func testETagStable(t *testing.T, s store.Store) {
	etag := mustPut(t, s, "k", []byte("v"))
	for i := range 3 {
		if _, got := mustGet(t, s, "k"); got != etag {
			t.Fatalf("Get #%d ETag = %q, want the unchanged %q", i, got, etag)
		}
	}
	if _, err := s.List(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	if _, got := mustGet(t, s, "k"); got != etag {
		t.Fatalf("ETag after List = %q, want %q", got, etag)
	}
}

func testOverwrite(t *testing.T, s store.Store) {
	e1 := mustPut(t, s, "k", []byte("one"))
	e2 := mustPut(t, s, "k", []byte("two"))
	if e1 == e2 {
		t.Fatalf("ETag %q did not change when the content changed", e1)
	}
	data, etag := mustGet(t, s, "k")
	if string(data) != "two" || etag != e2 {
		t.Fatalf("Get = %q %q, want %q %q", data, etag, "two", e2)
	}
}

func testEmptyObject(t *testing.T, s store.Store) {
	mustPut(t, s, "empty", nil)
	data, _ := mustGet(t, s, "empty")
	if len(data) != 0 {
		t.Fatalf("Get(empty) = %q, want no bytes", data)
	}
	wantList(t, s, "", []string{"empty"})
}

func testPutCopiesData(t *testing.T, s store.Store) {
	buf := []byte("original")
	mustPut(t, s, "k", buf)
	copy(buf, "CHANGED!")
	got, _ := mustGet(t, s, "k")
	copy(got, "scribble")
	wantData(t, s, "k", []byte("original"))
}

func testDelete(t *testing.T, s store.Store) {
	mustPut(t, s, "a/b", []byte("x"))
	mustPut(t, s, "a/c", []byte("y"))
	if err := s.Delete(t.Context(), "a/b", ""); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantMissing(t, s, "a/b")
	wantList(t, s, "", []string{"a/c"})
	if err := s.Delete(t.Context(), "a/b", ""); !errors.Is(err, store.ErrNotExist) {
		t.Fatalf("second Delete error = %v, want ErrNotExist", err)
	}
	if err := s.Delete(t.Context(), "never/written", ""); !errors.Is(err, store.ErrNotExist) {
		t.Fatalf("Delete of a missing key error = %v, want ErrNotExist", err)
	}
	mustPut(t, s, "a/b", []byte("again"))
	wantData(t, s, "a/b", []byte("again"))
}

func testNestedKeys(t *testing.T, s store.Store) {
	keys := []string{"a", "a/b", "a/b/c", "a/b/c/d", "b/c"}
	for _, k := range keys {
		mustPut(t, s, k, []byte("data of "+k))
	}
	for _, k := range keys {
		wantData(t, s, k, []byte("data of "+k))
	}
	wantList(t, s, "", keys)
	if err := s.Delete(t.Context(), "a/b", ""); err != nil {
		t.Fatalf("Delete(a/b): %v", err)
	}
	wantMissing(t, s, "a/b")
	wantData(t, s, "a/b/c", []byte("data of a/b/c"))
	wantList(t, s, "a", []string{"a", "a/b/c", "a/b/c/d"})
}

// keyCharacters are valid keys whose characters a file system or URL may
// treat specially; each must round-trip and list as itself.
var keyCharacters = []string{
	"Microsoft.NETCore.App.Ref/10.0.0-preview.1.25080.5",
	"microsoft.netcore.app.ref/10.0.0-preview.1.25080.5",
	"Case", "case", "CASE",
	"with space/and  two",
	"percent%2Fslash", "percent%25", "100%",
	"plus+build.metadata", "equals=sign", "comma,semicolon;",
	"question?mark", "hash#tag", "amp&ersand", "quote'and\"double",
	"colon:star*pipe|lt<gt>",
	"CON", "con.json", "nul/aux", "COM1.txt", "lpt9",
	"trailing.", "trailing ", "trailing./x",
	"ünïcödé/日本語/😀",
	".hidden", "..double", "...", "-dash", "~tilde", "!bang", "@at", "$dollar",
	"a@/b", "a@", "x.lock", "x.lease", ".tmp-1",
}

func testKeyCharacters(t *testing.T, s store.Store) {
	for _, k := range keyCharacters {
		mustPut(t, s, k, []byte(k))
	}
	for _, k := range keyCharacters {
		wantData(t, s, k, []byte(k))
	}
	want := slices.Clone(keyCharacters)
	slices.Sort(want)
	wantList(t, s, "", want)
	for _, k := range keyCharacters {
		if err := s.Delete(t.Context(), k, ""); err != nil {
			t.Fatalf("Delete(%q): %v", k, err)
		}
	}
	wantList(t, s, "", nil)
}

func testListSorted(t *testing.T, s store.Store) {
	// Byte order, not the order of a directory walk: '-' < '.' < '/' < '0'
	// < 'A' < '_' < 'a', and a key sorts before its own children.
	want := []string{
		"a", "a-b", "a.b", "a/b", "a/b/c", "a/b0", "a0", "aB", "a_", "aa",
		"b/1", "b/10", "b/2", "b/20/x", "b/3",
	}
	shuffled := slices.Clone(want)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, k := range shuffled {
		mustPut(t, s, k, []byte(k))
	}
	wantList(t, s, "", want)
}

func testListPrefix(t *testing.T, s store.Store) {
	for _, k := range []string{
		"builds/1", "builds/10/assets", "builds/12", "builds/2", "builds2", "channels/1", "x",
	} {
		mustPut(t, s, k, []byte(k))
	}
	cases := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"builds/1", "builds/10/assets", "builds/12", "builds/2", "builds2", "channels/1", "x"}},
		{"builds/", []string{"builds/1", "builds/10/assets", "builds/12", "builds/2"}},
		{"builds", []string{"builds/1", "builds/10/assets", "builds/12", "builds/2", "builds2"}},
		{"builds/1", []string{"builds/1", "builds/10/assets", "builds/12"}},
		{"builds/10/", []string{"builds/10/assets"}},
		{"builds/10/assets", []string{"builds/10/assets"}},
		{"builds/10/assets/", nil},
		{"chan", []string{"channels/1"}},
		{"nothing", nil},
		{"y", nil},
	}
	for _, c := range cases {
		t.Run(strconv.Quote(c.prefix), func(t *testing.T) {
			wantList(t, s, c.prefix, c.want)
		})
	}
}

func testCreateOnly(t *testing.T, s store.Store) {
	ctx := t.Context()
	etag, err := s.Put(ctx, "k", []byte("first"), store.Condition{CreateOnly: true})
	if err != nil {
		t.Fatalf("create-only Put on a missing key: %v", err)
	}
	if _, err := s.Put(ctx, "k", []byte("second"), store.Condition{CreateOnly: true}); !errors.Is(err, store.ErrPrecondition) {
		t.Fatalf("create-only Put on an existing key error = %v, want ErrPrecondition", err)
	}
	data, got := mustGet(t, s, "k")
	if string(data) != "first" || got != etag {
		t.Fatalf("after the refused Put: Get = %q %q, want %q %q", data, got, "first", etag)
	}
	if err := s.Delete(ctx, "k", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "k", []byte("third"), store.Condition{CreateOnly: true}); err != nil {
		t.Fatalf("create-only Put after Delete: %v", err)
	}
	wantData(t, s, "k", []byte("third"))
}

func testIfMatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	e1 := mustPut(t, s, "k", []byte("v1"))
	e2, err := s.Put(ctx, "k", []byte("v2"), store.Condition{IfMatch: e1})
	if err != nil {
		t.Fatalf("Put with the current ETag: %v", err)
	}
	if _, err := s.Put(ctx, "k", []byte("v3"), store.Condition{IfMatch: e1}); !errors.Is(err, store.ErrPrecondition) {
		t.Fatalf("Put with a stale ETag error = %v, want ErrPrecondition", err)
	}
	if _, err := s.Put(ctx, "k", []byte("v3"), store.Condition{IfMatch: `"not-an-etag"`}); !errors.Is(err, store.ErrPrecondition) {
		t.Fatalf("Put with a made-up ETag error = %v, want ErrPrecondition", err)
	}
	data, got := mustGet(t, s, "k")
	if string(data) != "v2" || got != e2 {
		t.Fatalf("after the refused Puts: Get = %q %q, want %q %q", data, got, "v2", e2)
	}
	if _, err := s.Put(ctx, "k", []byte("v3"), store.Condition{IfMatch: e2}); err != nil {
		t.Fatalf("Put with the ETag of the second write: %v", err)
	}
	wantData(t, s, "k", []byte("v3"))
}

func testIfMatchMissing(t *testing.T, s store.Store) {
	ctx := t.Context()
	etag := mustPut(t, s, "k", []byte("v1"))
	if err := s.Delete(ctx, "k", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "k", []byte("v2"), store.Condition{IfMatch: etag}); !errors.Is(err, store.ErrPrecondition) {
		t.Fatalf("if-match Put on a deleted key error = %v, want ErrPrecondition", err)
	}
	if _, err := s.Put(ctx, "never/written", []byte("v"), store.Condition{IfMatch: etag}); !errors.Is(err, store.ErrPrecondition) {
		t.Fatalf("if-match Put on a missing key error = %v, want ErrPrecondition", err)
	}
	wantMissing(t, s, "k")
	wantMissing(t, s, "never/written")
}

func testDeleteIfMatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	e1 := mustPut(t, s, "k", []byte("v1"))
	e2 := mustPut(t, s, "k", []byte("v2"))
	if err := s.Delete(ctx, "k", e1); !errors.Is(err, store.ErrPrecondition) {
		t.Fatalf("Delete with a stale ETag error = %v, want ErrPrecondition", err)
	}
	wantData(t, s, "k", []byte("v2"))
	if err := s.Delete(ctx, "k", e2); err != nil {
		t.Fatalf("Delete with the current ETag: %v", err)
	}
	wantMissing(t, s, "k")
	if err := s.Delete(ctx, "k", e2); !errors.Is(err, store.ErrNotExist) {
		t.Fatalf("if-match Delete of a missing key error = %v, want ErrNotExist", err)
	}
}

// invalidKeys fail store.ValidateKey.
var invalidKeys = []string{
	"", "/", "/a", "a/", "a//b", ".", "..", "./a", "a/.", "a/../b", "../escape",
	`a\b`, "a\x00b", "a\nb", "a\tb", "a\x7fb", strings.Repeat("k", 1025),
}

func testInvalidKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustPut(t, s, "a", []byte("x"))
	lease, err := s.AcquireLease(ctx, "lock", store.MinLeaseDuration)
	if err != nil {
		t.Fatal(err)
	}
	ops := []struct {
		name string
		call func(key string) error
	}{
		{"Get", func(k string) error { _, _, err := s.Get(ctx, k); return err }},
		{"Put", func(k string) error { _, err := s.Put(ctx, k, []byte("x"), store.Condition{}); return err }},
		{"PutCreateOnly", func(k string) error {
			_, err := s.Put(ctx, k, []byte("x"), store.Condition{CreateOnly: true})
			return err
		}},
		{"Delete", func(k string) error { return s.Delete(ctx, k, "") }},
		{"AcquireLease", func(k string) error { _, err := s.AcquireLease(ctx, k, store.MinLeaseDuration); return err }},
		{"RenewLease", func(k string) error { return s.RenewLease(ctx, k, lease) }},
		{"ReleaseLease", func(k string) error { return s.ReleaseLease(ctx, k, lease) }},
		{"BreakLease", func(k string) error { return s.BreakLease(ctx, k) }},
	}
	for _, op := range ops {
		for _, k := range invalidKeys {
			if err := op.call(k); !errors.Is(err, store.ErrInvalidKey) {
				t.Errorf("%s(%.40q) error = %v, want ErrInvalidKey", op.name, k, err)
			}
		}
	}
	wantList(t, s, "", []string{"a", "lock"})
	if err := s.ReleaseLease(ctx, "lock", lease); err != nil {
		t.Fatalf("the lease on lock did not survive calls with invalid keys: %v", err)
	}
}

func testConcurrentCreateOnly(t *testing.T, s store.Store) {
	ctx := t.Context()
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		winners = make(chan int, Goroutines)
		errs    = make(chan error, Goroutines)
	)
	for i := range Goroutines {
		wg.Go(func() {
			<-start
			_, err := s.Put(ctx, "claim", []byte(strconv.Itoa(i)), store.Condition{CreateOnly: true})
			switch {
			case err == nil:
				winners <- i
			case !errors.Is(err, store.ErrPrecondition):
				errs <- fmt.Errorf("goroutine %d: %w", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	close(winners)
	close(errs)
	for err := range errs {
		t.Errorf("create-only Put failed with something other than ErrPrecondition: %v", err)
	}
	var won []int
	for i := range winners {
		won = append(won, i)
	}
	if len(won) != 1 {
		t.Fatalf("%d goroutines won the create-only race (%v), want exactly 1", len(won), won)
	}
	wantData(t, s, "claim", []byte(strconv.Itoa(won[0])))
}

// Increment adds one to the decimal counter at key with a read-modify-write
// guarded by IfMatch, retrying on ErrPrecondition. A missing key counts as 0
// and is created with CreateOnly. It yields the processor between read and
// write, so that concurrent callers interleave even on a fast store. It
// returns the number of attempts.
func Increment(ctx context.Context, s store.Store, key string) (int, error) {
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return attempt, err
		}
		data, etag, err := s.Get(ctx, key)
		n := 0
		switch {
		case errors.Is(err, store.ErrNotExist):
		case err != nil:
			return attempt, err
		default:
			if n, err = strconv.Atoi(string(data)); err != nil {
				return attempt, fmt.Errorf("counter %s holds %q: %w", key, data, err)
			}
		}
		runtime.Gosched()
		cond := store.Condition{IfMatch: etag, CreateOnly: etag == ""}
		_, err = s.Put(ctx, key, []byte(strconv.Itoa(n+1)), cond)
		if errors.Is(err, store.ErrPrecondition) {
			continue
		}
		return attempt, err
	}
}

func testConcurrentIncrement(t *testing.T, s store.Store) {
	ctx := t.Context()
	var (
		wg       sync.WaitGroup
		start    = make(chan struct{})
		mu       sync.Mutex
		attempts int
	)
	for range Goroutines {
		wg.Go(func() {
			<-start
			n, err := Increment(ctx, s, "counter")
			if err != nil {
				t.Errorf("increment: %v", err)
			}
			mu.Lock()
			attempts += n
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	wantData(t, s, "counter", []byte(strconv.Itoa(Goroutines)))
	t.Logf("%d increments took %d attempts", Goroutines, attempts)
}

func testLeaseExclusive(t *testing.T, s store.Store) {
	ctx := t.Context()
	id1, err := s.AcquireLease(ctx, "leader", store.MinLeaseDuration)
	if err != nil {
		t.Fatalf("AcquireLease: %v", err)
	}
	if id1 == "" {
		t.Fatal("AcquireLease returned an empty lease id")
	}
	if _, err := s.AcquireLease(ctx, "leader", store.MaxLeaseDuration); !errors.Is(err, store.ErrLeased) {
		t.Fatalf("second AcquireLease while held error = %v, want ErrLeased", err)
	}
	if err := s.RenewLease(ctx, "leader", id1); err != nil {
		t.Fatalf("RenewLease by the holder: %v", err)
	}
	if _, err := s.AcquireLease(ctx, "leader", store.MinLeaseDuration); !errors.Is(err, store.ErrLeased) {
		t.Fatalf("AcquireLease after renewal error = %v, want ErrLeased", err)
	}
	if err := s.ReleaseLease(ctx, "leader", id1); err != nil {
		t.Fatalf("ReleaseLease by the holder: %v", err)
	}
	id2, err := s.AcquireLease(ctx, "leader", store.MinLeaseDuration)
	if err != nil {
		t.Fatalf("AcquireLease after release: %v", err)
	}
	if id2 == id1 {
		t.Fatalf("the new holder got the old lease id %q", id1)
	}
	if err := s.RenewLease(ctx, "leader", id1); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("RenewLease with the released id error = %v, want ErrLeaseLost", err)
	}
	if err := s.ReleaseLease(ctx, "leader", id1); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("ReleaseLease with the released id error = %v, want ErrLeaseLost", err)
	}
	if err := s.ReleaseLease(ctx, "leader", id2); err != nil {
		t.Fatalf("ReleaseLease by the new holder: %v", err)
	}
}

func testLeaseCreatesEmptyObject(t *testing.T, s store.Store) {
	id, err := s.AcquireLease(t.Context(), "locks/scheduler", store.MinLeaseDuration)
	if err != nil {
		t.Fatalf("AcquireLease on a missing key: %v", err)
	}
	data, _ := mustGet(t, s, "locks/scheduler")
	if len(data) != 0 {
		t.Fatalf("AcquireLease created %q, want an empty object", data)
	}
	wantList(t, s, "", []string{"locks/scheduler"})
	if err := s.ReleaseLease(t.Context(), "locks/scheduler", id); err != nil {
		t.Fatal(err)
	}
	wantList(t, s, "", []string{"locks/scheduler"})
}

func testLeaseKeepsData(t *testing.T, s store.Store) {
	etag := mustPut(t, s, "k", []byte("payload"))
	id, err := s.AcquireLease(t.Context(), "k", store.MinLeaseDuration)
	if err != nil {
		t.Fatal(err)
	}
	wantData(t, s, "k", []byte("payload"))
	if err := s.ReleaseLease(t.Context(), "k", id); err != nil {
		t.Fatal(err)
	}
	data, got := mustGet(t, s, "k")
	if string(data) != "payload" || got != etag {
		t.Fatalf("after a lease: Get = %q %q, want %q %q", data, got, "payload", etag)
	}
}

func testLeaseWrongID(t *testing.T, s store.Store) {
	ctx := t.Context()
	held, err := s.AcquireLease(ctx, "a", store.MinLeaseDuration)
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.AcquireLease(ctx, "b", store.MinLeaseDuration)
	if err != nil {
		t.Fatal(err)
	}
	for _, wrong := range []string{other, "not-a-lease-id", "00000000-0000-0000-0000-000000000000", ""} {
		if err := s.RenewLease(ctx, "a", wrong); !errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("RenewLease(a, %q) error = %v, want ErrLeaseLost", wrong, err)
		}
		if err := s.ReleaseLease(ctx, "a", wrong); !errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("ReleaseLease(a, %q) error = %v, want ErrLeaseLost", wrong, err)
		}
	}
	if _, err := s.AcquireLease(ctx, "a", store.MinLeaseDuration); !errors.Is(err, store.ErrLeased) {
		t.Fatalf("wrong ids released the lease: AcquireLease error = %v, want ErrLeased", err)
	}
	for key, id := range map[string]string{"a": held, "b": other} {
		if err := s.ReleaseLease(ctx, key, id); err != nil {
			t.Fatalf("ReleaseLease(%s): %v", key, err)
		}
	}
}

func testLeaseNotHeld(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustPut(t, s, "plain", []byte("x"))
	id, err := s.AcquireLease(ctx, "leased", store.MinLeaseDuration)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"plain", "missing"} {
		if err := s.RenewLease(ctx, key, id); !errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("RenewLease(%s) without a lease error = %v, want ErrLeaseLost", key, err)
		}
		if err := s.ReleaseLease(ctx, key, id); !errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("ReleaseLease(%s) without a lease error = %v, want ErrLeaseLost", key, err)
		}
	}
	if err := s.ReleaseLease(ctx, "leased", id); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseLease(ctx, "leased", id); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("second ReleaseLease error = %v, want ErrLeaseLost", err)
	}
}

func testLeaseDuration(t *testing.T, s store.Store) {
	for _, d := range []time.Duration{0, time.Second, store.MinLeaseDuration - time.Second, store.MaxLeaseDuration + time.Second, -time.Minute} {
		_, err := s.AcquireLease(t.Context(), "k", d)
		if err == nil {
			t.Fatalf("AcquireLease with duration %s succeeded, want an error", d)
		}
		if errors.Is(err, store.ErrLeased) {
			t.Fatalf("AcquireLease with duration %s error = %v, want a duration error", d, err)
		}
	}
	for _, d := range []time.Duration{store.MinLeaseDuration, store.MaxLeaseDuration} {
		id, err := s.AcquireLease(t.Context(), "k", d)
		if err != nil {
			t.Fatalf("AcquireLease with duration %s: %v", d, err)
		}
		if err := s.ReleaseLease(t.Context(), "k", id); err != nil {
			t.Fatal(err)
		}
	}
}

func testLargeObject(t *testing.T, s store.Store) {
	big := make([]byte, LargeObjectSize)
	_, _ = crand.Read(big) // incompressible, so no backend passes on a shortcut
	etag := mustPut(t, s, "large/blob.bin", big)
	got, gotETag := mustGet(t, s, "large/blob.bin")
	if !bytes.Equal(got, big) {
		t.Fatalf("Get returned %d bytes that differ from the %d put", len(got), len(big))
	}
	if gotETag != etag {
		t.Fatalf("Get ETag = %q, Put returned %q", gotETag, etag)
	}
	big[len(big)/2] ^= 0xff
	if _, err := s.Put(t.Context(), "large/blob.bin", big, store.Condition{IfMatch: etag}); err != nil {
		t.Fatalf("if-match Put of the changed large object: %v", err)
	}
	wantData(t, s, "large/blob.bin", big)
}
