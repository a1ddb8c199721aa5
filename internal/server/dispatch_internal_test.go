package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/jsonscan"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
	"github.com/maestroplusplus/maestro/internal/store/storetest"
)

// listingStore counts the documents read and the listings of the queue
// (each lists the intake log, the batch documents and the queue markers of
// the layouts before).
type listingStore struct {
	countingStore
	lists atomic.Int64
}

func (c *listingStore) List(ctx context.Context, prefix string) ([]string, error) {
	if prefix == "index/events/log/" {
		c.lists.Add(1)
	}
	return c.Store.List(ctx, prefix)
}

// newServerOn is a server of the default configuration on reg, not
// running.
func newServerOn(tb testing.TB, reg *registry.Registry) *Server {
	tb.Helper()
	cfg, err := LoadConfig("", func(string) string { return "" }, Flags{Listen: "127.0.0.1:0"})
	require.NoError(tb, err)
	s, err := New(cfg, wire.Env{Getenv: func(string) string { return "" }, Now: time.Now}.Service(reg), slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(tb, err)
	return s
}

// runDispatching runs a server with workers on a registry on st.
func runDispatching(t *testing.T, st store.Store) (*Server, *registry.Registry) {
	t.Helper()
	reg := registry.New(st)
	_, _, err := reg.Init(t.Context())
	require.NoError(t, err)
	s := newServerOn(t, reg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return s, reg
}

// acceptOneRepo accepts n events of one repository that need no work,
// telling the dispatcher of each (as intake does) and waiting until it has
// taken the news, so that no two share a wake-up.
func acceptOneRepo(t *testing.T, s *Server, reg *registry.Registry, n int) {
	t.Helper()
	for i := range n {
		ok, err := reg.AcceptEvent(t.Context(), registry.Event{Source: "github", Delivery: fmt.Sprintf("d-%02d", i), Type: "meta", Payload: []byte(`{}`),
			OrderKey: orderKey("https://github.com/dotnet/runtime")})
		require.NoError(t, err)
		require.True(t, ok)
		s.wake()
		require.Eventually(t, func() bool { return len(s.kick) == 0 }, 5*time.Second, 100*time.Microsecond)
	}
}

// allDone waits until every event of acceptOneRepo is finished, reading
// st's store through no counter.
func allDone(t *testing.T, st *listingStore, n int) {
	t.Helper()
	reg := registry.New(st.Store)
	require.Eventually(t, func() bool {
		for i := range n {
			ev, _, err := reg.Event(t.Context(), "github", fmt.Sprintf("d-%02d", i))
			if err != nil || ev.State != registry.EventDone {
				return false
			}
		}
		return true
	}, 10*time.Second, 5*time.Millisecond)
}

// TestDispatchListsPerBurstNotPerEvent: the events of one repository run
// one after another, and after each the dispatcher looks for the next in
// its view of the queue, without listing the queue again; a burst of
// accepted events shares listings (at most one per relistInterval). Before,
// each accepted and each processed event cost a listing of the whole queue
// (the webhook intake benchmark spent a third of its CPU listing).
func TestDispatchListsPerBurstNotPerEvent(t *testing.T) {
	st := &listingStore{countingStore: countingStore{Store: mem.New()}}
	s, reg := runDispatching(t, st)
	const n = 20
	start := time.Now()
	before := st.lists.Load()
	acceptOneRepo(t, s, reg, n)
	allDone(t, st, n)
	elapsed := time.Since(start)
	lists := st.lists.Load() - before
	// One listing per relistInterval begun, one per poll, and the first.
	bound := int64(elapsed/relistInterval) + int64(elapsed/pollInterval) + 2
	assert.LessOrEqual(t, lists, bound, "%d events accepted and processed in %v", n, elapsed)
	t.Logf("%d listings for %d events in %v", lists, n, elapsed)
}

// TestDispatchViewDropsFinishedEvents: an event a worker finished leaves
// the dispatcher's view, so later passes do not read it again: every event
// is read about twice (by the dispatcher, by the worker's claim), not once
// per pass after it finished.
func TestDispatchViewDropsFinishedEvents(t *testing.T) {
	st := &listingStore{countingStore: countingStore{Store: mem.New()}}
	s, reg := runDispatching(t, st)
	const n = 20
	acceptOneRepo(t, s, reg, n)
	before := st.gets.Load()
	// The listing after the last acceptance has them all; from here on the
	// dispatcher works from its view.
	allDone(t, st, n)
	reads := st.gets.Load() - before
	assert.Less(t, reads, int64(4*n), "reads by the dispatcher and the workers for %d events", n)
	t.Logf("%d reads for %d events", reads, n)
}

// TestDueKnowsTheKeysIntakeAnnounced: the events accepted here come with
// their order keys in their batch, so the first pass over a burst of deliveries for one
// repository reads only the oldest (to see whether it is due), not each
// one to learn its repository (14 % of the intake benchmark's CPU).
func TestDueKnowsTheKeysIntakeAnnounced(t *testing.T) {
	st := &listingStore{countingStore: countingStore{Store: mem.New()}}
	reg := registry.New(st)
	_, _, err := reg.Init(t.Context())
	require.NoError(t, err)
	s := newServerOn(t, reg)
	const n = 30
	payload, ok := jsonscan.Check([]byte(`{}`))
	require.True(t, ok)
	for i := range n {
		w := httptest.NewRecorder()
		s.accept(w, httptest.NewRequest(http.MethodPost, "/webhooks/github", nil), registry.Event{Source: "github", Delivery: fmt.Sprintf("d-%02d", i),
			Type: "status", OrderKey: orderKey("https://github.com/dotnet/runtime")}, payload)
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	}
	queued, err := reg.QueuedRefs(t.Context())
	require.NoError(t, err)
	require.Len(t, queued, n)
	before := st.gets.Load()
	var picked []string
	s.due(t.Context(), queued, nil, func(q registry.QueuedEvent, _ bool) bool {
		picked = append(picked, q.Delivery)
		return true
	})
	assert.Equal(t, []string{"d-00"}, picked)
	assert.Equal(t, int64(1), st.gets.Load()-before, "only the oldest event is read")
}

// TestEventWithoutEffectsRecordedInOneWrite: a status that concerns no
// tracked pull request is recorded done in one write of its record, never
// claimed; a pull request's closing (it may move speculative pull
// requests) is claimed, then finished: two writes.
func TestEventWithoutEffectsRecordedInOneWrite(t *testing.T) {
	st := storetest.CountWrites(mem.New())
	s, reg := runDispatching(t, st)
	const repo = `"repository":{"html_url":"https://github.com/dotnet/runtime"}`
	for _, ev := range []registry.Event{
		{Delivery: "status-1", Type: "status", Payload: []byte(`{"sha":"0123456789abcdef0123456789abcdef01234567",` + repo + `}`)},
		{Delivery: "closed-1", Type: "pull_request", Payload: []byte(`{"action":"closed","pull_request":{"number":5,"html_url":"https://github.com/dotnet/runtime/pull/5"},` + repo + `}`)},
	} {
		ev.Source, ev.OrderKey = "github", orderKey("https://github.com/dotnet/runtime")
		ok, err := reg.AcceptEvent(t.Context(), ev)
		require.NoError(t, err)
		require.True(t, ok)
	}
	s.wake()
	for _, id := range []string{"status-1", "closed-1"} {
		require.Eventually(t, func() bool {
			ev, _, err := reg.Event(t.Context(), "github", id)
			return err == nil && ev.State == registry.EventDone
		}, 10*time.Second, 5*time.Millisecond)
		ev, _, err := reg.Event(t.Context(), "github", id)
		require.NoError(t, err)
		assert.Equal(t, "no tracked pull request concerned", ev.Result, id)
		assert.Equal(t, 1, ev.Attempts, id)
	}
	assert.Equal(t, 1, st.Count("events/github/status-1.json"), "recorded done at once, without a claim")
	assert.Equal(t, 2, st.Count("events/github/closed-1.json"), "claimed, then finished")
}
