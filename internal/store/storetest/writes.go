package storetest

import (
	"context"
	"sync"

	"github.com/maestroplusplus/maestro/internal/store"
)

// Writes is a store that counts, per key, the writes that changed it (a
// refused conditional write does not count), for tests that hold code to
// a number of writes.
type Writes struct {
	store.Store
	mu     sync.Mutex
	writes map[string]int
}

// CountWrites wraps st.
func CountWrites(st store.Store) *Writes {
	return &Writes{Store: st, writes: map[string]int{}}
}

// Put implements store.Store.
func (w *Writes) Put(ctx context.Context, key string, data []byte, cond store.Condition) (string, error) {
	etag, err := w.Store.Put(ctx, key, data, cond)
	if err == nil {
		w.mu.Lock()
		w.writes[key]++
		w.mu.Unlock()
	}
	return etag, err
}

// Count is the number of writes that changed key.
func (w *Writes) Count(key string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes[key]
}
