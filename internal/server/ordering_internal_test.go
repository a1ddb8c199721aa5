package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// countingStore counts the documents read.
type countingStore struct {
	store.Store
	gets atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, key string) ([]byte, string, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, key)
}

// TestDueReadsAQueuedEventOnce: while the oldest event of a repository is
// at a worker, a dispatch pass skips the later events of that repository
// without reading them again — a burst of deliveries for one repository
// cost a read per event and pass before (the webhook intake benchmark
// spent half its CPU there).
func TestDueReadsAQueuedEventOnce(t *testing.T) {
	ctx := t.Context()
	st := &countingStore{Store: mem.New()}
	reg := registry.New(st)
	_, _, err := reg.Init(ctx)
	require.NoError(t, err)
	cfg, err := LoadConfig("", func(string) string { return "" }, Flags{Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	s, err := New(cfg, wire.Env{Getenv: func(string) string { return "" }, Now: time.Now}.Service(reg), slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	base := time.Now().Add(-time.Minute)
	const n = 30
	for i := range n {
		ok, err := reg.AcceptEvent(ctx, registry.Event{Source: "github", Delivery: fmt.Sprintf("d-%02d", i), Type: "push", Payload: []byte(`{}`),
			OrderKey: orderKey("https://github.com/dotnet/runtime"), ReceivedAt: base.Add(time.Duration(i) * time.Millisecond)})
		require.NoError(t, err)
		require.True(t, ok)
	}
	other, err := reg.AcceptEvent(ctx, registry.Event{Source: "github", Delivery: "other", Type: "push", Payload: []byte(`{}`),
		OrderKey: orderKey("https://github.com/dotnet/sdk"), ReceivedAt: base.Add(time.Second)})
	require.NoError(t, err)
	require.True(t, other)
	queued, err := reg.QueuedEvents(ctx)
	require.NoError(t, err)
	require.Len(t, queued, n+1)

	var picked []string
	pass := func() int64 {
		before := st.gets.Load()
		s.due(ctx, queued, func(q registry.QueuedEvent, _ bool) bool {
			picked = append(picked, q.Delivery)
			return true
		})
		return st.gets.Load() - before
	}
	assert.Equal(t, int64(2), pass(), "the first pass reads only the oldest event of each repository: the batches hold the others' keys")
	assert.Equal(t, []string{"d-00", "other"}, picked, "the oldest of each repository")
	assert.Equal(t, int64(0), pass(), "while both are at workers, nothing is read again")
	assert.Equal(t, []string{"d-00", "other"}, picked)

	s.seq.done(queued[n].Marker, false) // the sdk event's worker gave it back unfinished
	assert.Equal(t, int64(1), pass(), "only the event given back is read again")
	assert.Equal(t, []string{"d-00", "other", "other"}, picked)
}

// TestPruneGone: the view loses exactly the markers reported gone, wherever
// they are, keeps the others in order, and forgets what it pruned.
func TestPruneGone(t *testing.T) {
	view := func(names ...string) []registry.QueuedEvent {
		out := make([]registry.QueuedEvent, len(names))
		for i, n := range names {
			out[i] = registry.QueuedEvent{Marker: n}
		}
		return out
	}
	markers := func(qs []registry.QueuedEvent) []string {
		out := []string{}
		for _, q := range qs {
			out = append(out, q.Marker)
		}
		return out
	}
	for _, c := range []struct {
		gone []string
		want []string
	}{
		{nil, []string{"a", "b", "c", "d", "e", "f"}},
		{[]string{"a"}, []string{"b", "c", "d", "e", "f"}},
		{[]string{"a", "b"}, []string{"c", "d", "e", "f"}},
		{[]string{"b", "d"}, []string{"a", "c", "e", "f"}},
		{[]string{"f"}, []string{"a", "b", "c", "d", "e"}},
		{[]string{"c", "x"}, []string{"a", "b", "d", "e", "f"}}, // x: not in the view
		{[]string{"a", "b", "c", "d", "e", "f"}, []string{}},
	} {
		t.Run(fmt.Sprint(c.gone), func(t *testing.T) {
			seq := newSequencer()
			for _, g := range c.gone {
				seq.done(g, true)
			}
			got := seq.pruneGone(view("a", "b", "c", "d", "e", "f"))
			assert.Equal(t, c.want, markers(got))
			assert.Equal(t, c.want, markers(seq.pruneGone(got)), "pruned once")
		})
	}
}
