package registry

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// barrierStore holds every Get until n Gets are waiting, so reads made one
// after the other never finish.
type barrierStore struct {
	store.Store
	mu      sync.Mutex
	waiting int
	n       int
	open    chan struct{}
}

func (b *barrierStore) Get(ctx context.Context, key string) ([]byte, string, error) {
	b.mu.Lock()
	b.waiting++
	if b.waiting == b.n {
		close(b.open)
	}
	b.mu.Unlock()
	select {
	case <-b.open:
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
	return b.Store.Get(ctx, key)
}

func TestReadAheadReadsSideBySide(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st := mem.New()
	_, err := st.Put(ctx, "a", []byte("1"), store.Condition{})
	require.NoError(t, err)
	keys := []string{"a", "b", "c"}
	ra := withReadAhead(ctx, &barrierStore{Store: st, n: len(keys), open: make(chan struct{})}, keys...)
	for _, k := range keys[1:] {
		_, _, err := ra.Get(ctx, k)
		require.ErrorIs(t, err, store.ErrNotExist, k)
	}
	data, etag, err := ra.Get(ctx, "a")
	require.NoError(t, err, "the three early reads were not made side by side")
	require.Equal(t, "1", string(data))

	// Later reads of a key go to the store again: a retry sees new writes.
	etag2, err := st.Put(ctx, "a", []byte("2"), store.Condition{IfMatch: etag})
	require.NoError(t, err)
	data, got, err := ra.Get(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, "2", string(data))
	require.Equal(t, etag2, got)
	require.IsType(t, &barrierStore{}, store.Base(ra), "Base sees through the read-ahead")
}
