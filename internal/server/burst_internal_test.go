package server

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

func TestBurstMeter(t *testing.T) {
	type look struct {
		at    time.Duration // since the first look
		count int64         // deliveries accepted so far
		burst bool          // what observe says
	}
	ms := time.Millisecond
	for _, tc := range []struct {
		name  string
		looks []look
	}{
		{"the first look measures nothing", []look{{0, 5000, false}}},
		{"the rate reached over a window", []look{{0, 0, false}, {100 * ms, 100, true}}},
		{"just under the rate", []look{{0, 0, false}, {100 * ms, 99, false}}},
		{"looks within a window keep the verdict", []look{{0, 0, false}, {50 * ms, 1000, false}, {99 * ms, 1000, false}, {100 * ms, 1000, true}, {150 * ms, 1000, true}}},
		{"a window under the rate ends the burst", []look{{0, 0, false}, {100 * ms, 100, true}, {200 * ms, 199, false}}},
		{"a window at the rate keeps it", []look{{0, 0, false}, {100 * ms, 100, true}, {200 * ms, 200, true}}},
		{"a long time without a look is its mean rate", []look{{0, 0, false}, {100 * ms, 100, true}, {2100 * ms, 1000, false}}},
		{"a long window at the rate", []look{{0, 0, false}, {3 * time.Second, 3000, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Unix(1_800_000_000, 0)
			var m burstMeter
			for i, l := range tc.looks {
				assert.Equal(t, l.burst, m.observe(start.Add(l.at), l.count), "look %d at %v, %d accepted", i, l.at, l.count)
			}
		})
	}
}

// TestBurstSlowsProcessing: while intake takes more than burstRate
// deliveries a second, workers get at most one event per burstHandout (the
// test's events concern as many repositories, so without the limit four
// workers would take them as fast as they come) and the queue is listed at
// most once per burstRelist; the metric says so; once the burst ends,
// processing goes back to full speed and every event is processed.
func TestBurstSlowsProcessing(t *testing.T) {
	st := &listingStore{countingStore: countingStore{Store: mem.New()}}
	s, reg := runDispatching(t, st)
	var (
		sent    atomic.Int64
		quit    = make(chan struct{})
		senders sync.WaitGroup
	)
	for g := range 8 {
		senders.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-quit:
					return
				default:
				}
				ok, err := reg.AcceptEvent(context.Background(), registry.Event{Source: "github", Delivery: fmt.Sprintf("b-%d-%d", g, i), Type: "meta",
					Payload: []byte(`{}`), OrderKey: orderKey(fmt.Sprintf("https://github.com/o/r-%d-%d", g, i))})
				if err != nil || !ok {
					t.Errorf("accept: %v, %v", ok, err)
					return
				}
				sent.Add(1)
				s.wake()
				time.Sleep(time.Millisecond) // a few thousand a second in all
			}
		})
	}
	stopped := sync.OnceFunc(func() {
		close(quit)
		senders.Wait()
	})
	defer stopped()
	processed := func() int {
		keys, err := st.Store.List(context.Background(), "events/github/")
		require.NoError(t, err)
		return len(keys)
	}

	require.Eventually(t, func() bool { return testutil.ToFloat64(s.metrics.intakeBurst) == 1 }, 5*time.Second, time.Millisecond,
		"%d deliveries accepted and no burst", sent.Load())
	p0, s0, l0, t0 := processed(), sent.Load(), st.lists.Load(), time.Now()
	time.Sleep(2500 * time.Millisecond)
	p1, s1, l1, elapsed := processed(), sent.Load(), st.lists.Load(), time.Since(t0)
	inBurst := testutil.ToFloat64(s.metrics.intakeBurst)
	stopped()
	bound := int(elapsed/burstHandout) + 1 + s.cfg.Workers // and the events workers held at t0
	lists := int64(elapsed/burstRelist) + 1
	t.Logf("during %v of burst: %d accepted, %d processed (at most %d), %d listings (at most %d)", elapsed.Round(time.Millisecond), s1-s0, p1-p0, bound, l1-l0, lists)
	require.Equal(t, 1.0, inBurst, "the burst ended while measured: %d deliveries in %v", s1-s0, elapsed)
	require.Greater(t, int(s1-s0), 4*bound, "intake too slow to tell a limit")
	assert.LessOrEqual(t, p1-p0, bound, "events processed during %v of burst (%d accepted)", elapsed, s1-s0)
	assert.Greater(t, p1-p0, 0, "no event processed during the burst")
	assert.LessOrEqual(t, l1-l0, lists, "listings of the queue during %v of burst", elapsed)

	require.Eventually(t, func() bool { return testutil.ToFloat64(s.metrics.intakeBurst) == 0 }, time.Second, time.Millisecond)
	total := int(sent.Load())
	require.Eventually(t, func() bool { return processed() == total }, 30*time.Second, 10*time.Millisecond,
		"after the burst, every event is processed: %d of %d", processed(), total)
}
