package storetest_test

import (
	"errors"
	"testing"

	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
	"github.com/maestroplusplus/maestro/internal/store/storetest"
)

// TestCountWrites: a write that changed a key counts once; a refused
// conditional write and a read do not count.
func TestCountWrites(t *testing.T) {
	w := storetest.CountWrites(mem.New())
	ctx := t.Context()
	if _, err := w.Put(ctx, "a", []byte("1"), store.Condition{CreateOnly: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Put(ctx, "a", []byte("2"), store.Condition{CreateOnly: true}); !errors.Is(err, store.ErrPrecondition) {
		t.Fatalf("second create: %v", err)
	}
	if _, _, err := w.Get(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Put(ctx, "a", []byte("3"), store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if got := w.Count("a"); got != 2 {
		t.Errorf("writes of a: %d, want 2", got)
	}
	if got := w.Count("b"); got != 0 {
		t.Errorf("writes of b: %d, want 0", got)
	}
}
