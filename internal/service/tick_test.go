package service_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/local"
)

// counting records the keys a tick reads and lists.
type counting struct {
	store.Store
	mu    sync.Mutex
	gets  []string
	lists []string
}

func (c *counting) Get(ctx context.Context, key string) ([]byte, string, error) {
	c.mu.Lock()
	c.gets = append(c.gets, key)
	c.mu.Unlock()
	return c.Store.Get(ctx, key)
}

func (c *counting) List(ctx context.Context, prefix string) ([]string, error) {
	c.mu.Lock()
	c.lists = append(c.lists, prefix)
	c.mu.Unlock()
	return c.Store.List(ctx, prefix)
}

func (c *counting) reset() {
	c.mu.Lock()
	c.gets, c.lists = nil, nil
	c.mu.Unlock()
}

var now = time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)

// fleet is a registry with subs everyDay subscriptions (each from its own
// source repository, none with a build), outcomes outcomes each, flow state
// for every one, and the first due of them due at now.
func fleet(tb testing.TB, st store.Store, subs, due, outcomes int) (*service.Service, []string) {
	ctx := context.Background()
	reg := registry.New(st, registry.WithClock(func() time.Time { return now }))
	ch, err := reg.AddChannel(ctx, "dev", "")
	require.NoError(tb, err)
	ids := make([]string, subs)
	for i := range subs {
		s, err := reg.AddSubscription(ctx, maestro.Subscription{ChannelID: ch.ID, Enabled: true,
			SourceRepository: fmt.Sprintf("https://github.com/dotnet/source%d", i), TargetRepository: "https://github.com/dotnet/target",
			TargetBranch: "main", Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryDay}})
		require.NoError(tb, err)
		ids[i] = s.ID
		for j := range outcomes {
			_, err := reg.RecordOutcome(ctx, maestro.FlowOutcome{SubscriptionID: s.ID, BuildID: j + 1, Time: now.Add(-time.Duration(j+1) * time.Hour), Result: maestro.ResultNoUpdate})
			require.NoError(tb, err)
		}
	}
	makeDue(tb, reg, ids, due)
	return wire.Env{Getenv: func(string) string { return "" }, Now: func() time.Time { return now }}.Service(reg), ids
}

// makeDue gives every subscription flow state, the first due of them due
// at now and the rest tomorrow.
func makeDue(tb testing.TB, reg *registry.Registry, ids []string, due int) {
	for i, id := range ids {
		_, err := reg.UpdateFlowState(context.Background(), id, func(s *registry.FlowState, _ bool) error {
			s.LastRun, s.NextDue = now.Add(-25*time.Hour), now.Add(-time.Hour)
			if i >= due {
				s.LastRun, s.NextDue = now.Add(-time.Hour), now.Add(23*time.Hour)
			}
			return nil
		})
		require.NoError(tb, err)
	}
}

// TestTickReadsWhatIsDue: a tick reads the flow state and subscription of
// what is due and no outcome history; its reads do not grow with the number
// of subscriptions or outcomes.
func TestTickReadsWhatIsDue(t *testing.T) {
	reads := func(subs, outcomes int) (gets, lists int) {
		c := &counting{Store: must(local.Open(t.TempDir()))}
		svc, ids := fleet(t, c, subs, 3, outcomes)
		_, err := svc.Tick(context.Background(), now) // the first tick adopts: lists once
		require.NoError(t, err)
		makeDue(t, svc.Registry, ids, 3)
		c.reset()
		_, err = svc.Tick(context.Background(), now)
		require.NoError(t, err)
		for _, k := range append(append([]string{}, c.gets...), c.lists...) {
			assert.False(t, strings.Contains(k, "outcomes"), "tick read the flow history: %s", k)
		}
		// The due ones ran (nothing newer to flow) and are due tomorrow.
		for _, id := range ids[:3] {
			st, _, err := svc.Registry.FlowState(context.Background(), id)
			require.NoError(t, err)
			assert.Equal(t, time.Date(2026, 11, 26, 13, 0, 0, 0, time.UTC), st.NextDue)
		}
		return len(c.gets), len(c.lists)
	}
	g1, l1 := reads(10, 2)
	g2, l2 := reads(40, 10)
	assert.Equal(t, g1, g2, "gets grow with the registry")
	assert.Equal(t, l1, l2, "lists grow with the registry")
	assert.LessOrEqual(t, g1, 1+3*6, "the adoption marker and a few reads per due subscription")
	assert.Equal(t, 1, l1, "one listing: the due index")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// BenchmarkTick: flow tick with 5,000 everyDay subscriptions, 50 of them
// due (nothing newer to flow, so the figure is the tick's own cost: three
// key listings, three reads and one flow-state write per due subscription),
// with 10 and with 1,000 outcomes for each due subscription, on the local
// store as maestro opens it (fsync on every write) and without fsync.
func BenchmarkTick(b *testing.B) {
	for _, outcomes := range []int{10, 1000} {
		dir := b.TempDir()
		setup, ids := fleet(b, must(local.Open(dir, local.WithoutSync())), 5000, 0, 0)
		ctx := context.Background()
		for _, id := range ids[:50] {
			for j := range outcomes {
				_, err := setup.Registry.RecordOutcome(ctx, maestro.FlowOutcome{SubscriptionID: id, BuildID: j + 1, Time: now.Add(-time.Duration(j+1) * time.Minute), Result: maestro.ResultNoUpdate})
				require.NoError(b, err)
			}
		}
		for _, sync := range []bool{true, false} {
			b.Run(fmt.Sprintf("subs=5000/due=50/outcomes=%d/fsync=%v", outcomes, sync), func(b *testing.B) {
				var opts []local.Option
				if !sync {
					opts = append(opts, local.WithoutSync())
				}
				svc := wire.Env{Getenv: func(string) string { return "" }, Now: func() time.Time { return now }}.
					Service(registry.New(must(local.Open(dir, opts...)), registry.WithClock(func() time.Time { return now })))
				for b.Loop() {
					b.StopTimer()
					makeDue(b, svc.Registry, ids[:50], 50)
					b.StartTimer()
					if _, err := svc.Tick(ctx, now); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestTickAdoptsSubscriptionsWithoutFlowState: subscriptions from before
// flow state existed get theirs at the first tick (scheduled ones run at
// once); new subscriptions get theirs when added.
func TestTickAdoptsSubscriptionsWithoutFlowState(t *testing.T) {
	ctx := context.Background()
	st := must(local.Open(t.TempDir()))
	svc, ids := fleet(t, st, 3, 0, 0)
	for _, id := range ids {
		_, ok, err := svc.Registry.FlowState(ctx, id)
		require.NoError(t, err)
		require.True(t, ok, "added with its flow state")
		require.NoError(t, st.Delete(ctx, "flow/state/"+id+".json", ""), "as before flow state existed")
	}
	_, err := svc.Tick(ctx, now)
	require.NoError(t, err)
	for _, id := range ids {
		s, ok, err := svc.Registry.FlowState(ctx, id)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, time.Date(2026, 11, 26, 13, 0, 0, 0, time.UTC), s.NextDue, "never ran: looked at by the first tick, then the calendar")
	}
	c := &counting{Store: st}
	svc.Registry = registry.New(c, registry.WithClock(func() time.Time { return now }))
	_, err = svc.Tick(ctx, now)
	require.NoError(t, err)
	assert.Equal(t, []string{"index/flow/due/"}, c.lists, "adopted once: later ticks list only the due index")
}
