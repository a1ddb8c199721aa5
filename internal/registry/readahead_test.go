package registry

import (
	"context"
	"slices"
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
	ra := withReadAhead(ctx, &barrierStore{Store: st, n: len(keys), open: make(chan struct{})}, keys, nil)
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

// gateStore holds every Get of a key in held until open is closed, and
// records which keys were asked for.
type gateStore struct {
	store.Store
	held  map[string]bool
	open  chan struct{}
	mu    sync.Mutex
	asked []string
}

func (g *gateStore) Get(ctx context.Context, key string) ([]byte, string, error) {
	g.mu.Lock()
	g.asked = append(g.asked, key)
	g.mu.Unlock()
	if g.held[key] {
		<-g.open
	}
	return g.Store.Get(ctx, key)
}

func (g *gateStore) askedFor() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.asked)
}

// TestReadAheadLaterWaits: the later keys are read only once every first
// key's read is done, so a store that serves one request at a time answers
// the first questions first.
func TestReadAheadLaterWaits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st := mem.New()
	_, err := st.Put(ctx, "later1", []byte("x"), store.Condition{})
	require.NoError(t, err)
	g := &gateStore{Store: st, held: map[string]bool{"first1": true, "first2": true}, open: make(chan struct{})}
	ra := withReadAhead(ctx, g, []string{"first1", "first2"}, []string{"later1", "later2"})
	require.Eventually(t, func() bool { return len(g.askedFor()) == 2 }, time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	require.ElementsMatch(t, []string{"first1", "first2"}, g.askedFor(), "a later key was read while the first were")
	close(g.open)
	data, _, err := ra.Get(ctx, "later1")
	require.NoError(t, err)
	require.Equal(t, "x", string(data))
	_, _, err = ra.Get(ctx, "later2")
	require.ErrorIs(t, err, store.ErrNotExist)
	require.Len(t, g.askedFor(), 4, "each key was read once")
}
