package storetest

import (
	"bytes"
	crand "crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/maestroplusplus/maestro/internal/store"
)

var appendTests = []struct {
	name string
	run  func(t *testing.T, s store.Store)
}{
	{"AppendCreatesAndGrows", testAppendGrows},
	{"AppendLengthCondition", testAppendLengthCondition},
	{"AppendAfterDelete", testAppendAfterDelete},
	{"AppendChangesETag", testAppendChangesETag},
	{"ConcurrentAppend", testConcurrentAppend},
	{"LeasedKeyRefusesAppends", testLeasedAppends},
	{"LargeAppend", testLargeAppend},
	{"AppendKeepsNoData", testAppendKeepsNoData},
}

func mustAppend(t *testing.T, s store.Store, key string, data []byte, at int64) {
	t.Helper()
	if err := s.Append(t.Context(), key, data, at); err != nil {
		t.Fatalf("Append(%q, %d bytes, at %d): %v", key, len(data), at, err)
	}
}

func wantAppendError(t *testing.T, s store.Store, key string, data []byte, at int64, want error) {
	t.Helper()
	if err := s.Append(t.Context(), key, data, at); !errors.Is(err, want) {
		t.Fatalf("Append(%q, %q, at %d) error = %v, want %v", key, abbrev(data), at, err, want)
	}
}

func testAppendGrows(t *testing.T, s store.Store) {
	mustAppend(t, s, "logs/a", []byte("first,"), 0)
	wantData(t, s, "logs/a", []byte("first,"))
	mustAppend(t, s, "logs/a", []byte("second,"), 6)
	mustAppend(t, s, "logs/a", []byte("third"), 13)
	wantData(t, s, "logs/a", []byte("first,second,third"))
	wantList(t, s, "logs/", []string{"logs/a"})
}

func testAppendLengthCondition(t *testing.T, s store.Store) {
	mustAppend(t, s, "log", []byte("0123456789"), 0)
	for _, at := range []int64{0, 9, 11, 100} {
		wantAppendError(t, s, "log", []byte("x"), at, store.ErrPrecondition)
	}
	wantData(t, s, "log", []byte("0123456789"))
	// A missing key is created only at 0.
	wantAppendError(t, s, "missing", []byte("x"), 5, store.ErrNotExist)
	wantMissing(t, s, "missing")
	// No data, or a negative length, is refused and changes nothing.
	for _, tc := range []struct {
		key  string
		data []byte
		at   int64
	}{{"log", nil, 10}, {"log", []byte("x"), -1}, {"empty", nil, 0}} {
		if err := s.Append(t.Context(), tc.key, tc.data, tc.at); err == nil {
			t.Fatalf("Append(%q, %d bytes, at %d) succeeded", tc.key, len(tc.data), tc.at)
		}
	}
	wantData(t, s, "log", []byte("0123456789"))
	wantMissing(t, s, "empty")
	for _, key := range []string{"", "a//b", "../x"} {
		wantAppendError(t, s, key, []byte("x"), 0, store.ErrInvalidKey)
	}
}

// testAppendAfterDelete: a writer whose object was deleted meanwhile gets
// ErrNotExist, and does not bring the object back.
func testAppendAfterDelete(t *testing.T, s store.Store) {
	mustAppend(t, s, "log", []byte("record"), 0)
	if err := s.Delete(t.Context(), "log", ""); err != nil {
		t.Fatal(err)
	}
	wantAppendError(t, s, "log", []byte("late"), 6, store.ErrNotExist)
	wantMissing(t, s, "log")
	// At 0 it is a new object.
	mustAppend(t, s, "log", []byte("again"), 0)
	wantData(t, s, "log", []byte("again"))
}

// testAppendChangesETag: an if-match delete based on a read before an
// append fails, so a reader that saw every record so far can delete the
// object without losing one appended since.
func testAppendChangesETag(t *testing.T, s store.Store) {
	mustAppend(t, s, "log", []byte("one"), 0)
	_, before := mustGet(t, s, "log")
	mustAppend(t, s, "log", []byte("two"), 3)
	data, after := mustGet(t, s, "log")
	if after == before {
		t.Fatalf("ETag %s did not change with an append", after)
	}
	if err := s.Delete(t.Context(), "log", before); !errors.Is(err, store.ErrPrecondition) {
		t.Fatalf("Delete with the ETag from before the append: %v, want ErrPrecondition", err)
	}
	wantData(t, s, "log", data)
	if err := s.Delete(t.Context(), "log", after); err != nil {
		t.Fatalf("Delete with the current ETag: %v", err)
	}
	wantMissing(t, s, "log")
}

// testConcurrentAppend races appenders that each read the object's length
// and append one record there, again on ErrPrecondition: the object must
// end up holding every record exactly once, none cut or mixed with another,
// each where the length its append succeeded at says.
func testConcurrentAppend(t *testing.T, s store.Store) {
	const perGoroutine = 4
	ctx := t.Context()
	record := func(g, i int) []byte { return fmt.Appendf(nil, "[goroutine %02d record %d]", g, i) }
	var (
		wg     sync.WaitGroup
		errs   = make(chan error, Goroutines)
		mu     sync.Mutex
		placed = map[int64][]byte{} // where each append succeeded
		twice  []string             // places two appends succeeded at
	)
	for g := range Goroutines {
		wg.Go(func() {
			for i := range perGoroutine {
				for {
					data, _, err := s.Get(ctx, "log")
					if err != nil && !errors.Is(err, store.ErrNotExist) {
						errs <- err
						return
					}
					runtime.Gosched()
					err = s.Append(ctx, "log", record(g, i), int64(len(data)))
					if err == nil {
						mu.Lock()
						if prev, ok := placed[int64(len(data))]; ok {
							twice = append(twice, fmt.Sprintf("%s and %s at %d", prev, record(g, i), len(data)))
						}
						placed[int64(len(data))] = record(g, i)
						mu.Unlock()
						break
					}
					if !errors.Is(err, store.ErrPrecondition) {
						errs <- fmt.Errorf("goroutine %d: %w", g, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Append failed with something other than ErrPrecondition: %v", err)
	}
	if len(twice) > 0 {
		t.Errorf("two appends at one length both succeeded: %q", twice)
	}
	got, _ := mustGet(t, s, "log")
	seen := map[string]int{}
	for rest := got; len(rest) > 0; {
		end := bytes.IndexByte(rest, ']')
		if rest[0] != '[' || end < 0 {
			t.Fatalf("the object is not whole records: %q", abbrev(rest))
		}
		seen[string(rest[:end+1])]++
		rest = rest[end+1:]
	}
	for g := range Goroutines {
		for i := range perGoroutine {
			if n := seen[string(record(g, i))]; n != 1 {
				t.Errorf("record %s is in the object %d times, want once", record(g, i), n)
			}
		}
	}
	if want := Goroutines * perGoroutine; len(seen) != want {
		t.Errorf("the object holds %d distinct records, want %d", len(seen), want)
	}
	for at, rec := range placed {
		if end := at + int64(len(rec)); end > int64(len(got)) || !bytes.Equal(got[at:end], rec) {
			t.Errorf("the append of %s succeeded at %d, but the object does not hold it there", rec, at)
		}
	}
}

func testLeasedAppends(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustAppend(t, s, "log", []byte("record"), 0)
	id, err := s.AcquireLease(ctx, "log", store.MinLeaseDuration)
	if err != nil {
		t.Fatal(err)
	}
	wantAppendError(t, s, "log", []byte("more"), 6, store.ErrLeased)
	wantData(t, s, "log", []byte("record"))
	if err := s.ReleaseLease(ctx, "log", id); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, "log", []byte("more"), 6)
	wantData(t, s, "log", []byte("recordmore"))
}

// testLargeAppend appends more than Azure takes in one block.
func testLargeAppend(t *testing.T, s store.Store) {
	big := make([]byte, LargeObjectSize+1)
	_, _ = crand.Read(big)
	mustAppend(t, s, "large/log", []byte("head"), 0)
	mustAppend(t, s, "large/log", big, 4)
	mustAppend(t, s, "large/log", []byte("tail"), int64(4+len(big)))
	got, _ := mustGet(t, s, "large/log")
	want := append(append([]byte("head"), big...), "tail"...)
	if !bytes.Equal(got, want) {
		t.Fatalf("Get returned %d bytes that differ from the %d appended", len(got), len(want))
	}
}

// testAppendKeepsNoData: once Append returned, the caller may overwrite
// its buffer (intake reuses one for every record): the object keeps what
// was appended, on creation and on growth.
func testAppendKeepsNoData(t *testing.T, s store.Store) {
	buf := []byte("first,")
	mustAppend(t, s, "log", buf, 0)
	copy(buf, "XXXXXX")
	wantData(t, s, "log", []byte("first,"))
	buf = append(buf[:0], "second"...)
	mustAppend(t, s, "log", buf, 6)
	copy(buf, "YYYYYY")
	wantData(t, s, "log", []byte("first,second"))
}
