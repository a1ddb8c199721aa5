package registry_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// clockRegistry returns a registry on st whose clock the test moves.
func clockRegistry(st store.Store, now *time.Time) *registry.Registry {
	return registry.New(st, registry.WithClock(func() time.Time { return *now }))
}

func sub(channel int, target string) maestro.Subscription {
	return maestro.Subscription{ChannelID: channel, SourceRepository: "https://github.com/dotnet/arcade",
		TargetRepository: target, TargetBranch: "main", Enabled: true}
}

// TestSubscriptionKeyClaims walks the claim's life: concurrent adds, a
// crashed add (claim without document) within and after the grace period,
// a delete, and an update that moves a subscription to a taken key.
func TestSubscriptionKeyClaims(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	r := clockRegistry(st, &now)
	ch, err := r.AddChannel(ctx, "c", "")
	require.NoError(t, err)
	other, err := r.AddChannel(ctx, "d", "")
	require.NoError(t, err)

	// 32 goroutines, one key: one subscription.
	var wg sync.WaitGroup
	var mu sync.Mutex
	added := 0
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := r.AddSubscription(ctx, sub(ch.ID, "https://github.com/dotnet/a"))
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				added++
			} else {
				assert.Equal(t, maestro.KindConflict, maestro.KindOf(err), err)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, added)
	subs, err := r.Subscriptions(ctx, registry.SubscriptionFilter{})
	require.NoError(t, err)
	require.Len(t, subs, 1)

	// A crashed add: its claim exists, its document never came. Within the
	// grace period the key is taken; after it, the next add reclaims it.
	crashed := registry.New(st, registry.WithClock(func() time.Time { return now }), registry.WithIDGenerator(func() string { return "crashed" }))
	require.NoError(t, crashed.ClaimForTest(ctx, sub(ch.ID, "https://github.com/dotnet/b")))
	_, err = r.AddSubscription(ctx, sub(ch.ID, "https://github.com/dotnet/b"))
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err), "a fresh claim blocks: %v", err)
	now = now.Add(2 * time.Minute)
	b, err := r.AddSubscription(ctx, sub(ch.ID, "https://github.com/dotnet/b"))
	require.NoError(t, err, "a stale claim is taken over")

	// Deleted, the key is free at once.
	require.NoError(t, r.DeleteSubscription(ctx, b.ID))
	b, err = r.AddSubscription(ctx, sub(ch.ID, "https://github.com/dotnet/b"))
	require.NoError(t, err)

	// An update cannot move a subscription onto a taken key, and the key it
	// leaves is free afterwards.
	c, err := r.AddSubscription(ctx, sub(other.ID, "https://github.com/dotnet/b"))
	require.NoError(t, err)
	_, err = r.UpdateSubscription(ctx, c.ID, func(s *maestro.Subscription) error { s.ChannelID = ch.ID; return nil })
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err), "moving onto a taken key: %v", err)
	require.NoError(t, r.DeleteSubscription(ctx, b.ID))
	_, err = r.UpdateSubscription(ctx, c.ID, func(s *maestro.Subscription) error { s.ChannelID = ch.ID; return nil })
	require.NoError(t, err)
	_, err = r.AddSubscription(ctx, sub(other.ID, "https://github.com/dotnet/b"))
	require.NoError(t, err, "the key the update left is free")
	_, err = r.AddSubscription(ctx, sub(ch.ID, "https://github.com/dotnet/b"))
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err), "the key the update took is held: %v", err)
}

// TestChannelDeleteMark: a delete that died after marking its channel
// blocks adds to it with a message, until `channel delete` runs again.
func TestChannelDeleteMark(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	r := clockRegistry(st, &now)
	ch, err := r.AddChannel(ctx, "c", "")
	require.NoError(t, err)
	_, err = r.AddSubscription(ctx, sub(ch.ID, "https://github.com/dotnet/a"))
	require.NoError(t, err)
	err = r.DeleteChannel(ctx, ch.ID)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err), "in use: %v", err)
	_, err = r.AddDefaultChannel(ctx, maestro.DefaultChannel{Repository: "https://github.com/dotnet/a", Branch: "main", ChannelID: ch.ID, Enabled: true})
	require.NoError(t, err, "a refused delete takes its mark away")

	require.NoError(t, r.MarkChannelDeletingForTest(ctx, ch.ID))
	_, err = r.AddSubscription(ctx, sub(ch.ID, "https://github.com/dotnet/b"))
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err))
	assert.ErrorContains(t, err, "is being deleted")
	err = r.DeleteChannel(ctx, ch.ID)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err), "still in use: %v", err)
	_, err = r.AddSubscription(ctx, sub(ch.ID, "https://github.com/dotnet/b"))
	require.NoError(t, err, "running delete again settled the mark")
}

// TestUpdateIntoDeletingChannel: moving a subscription into a channel that a
// delete has marked is refused and leaves the subscription where it was.
func TestUpdateIntoDeletingChannel(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	r := clockRegistry(mem.New(), &now)
	a, err := r.AddChannel(ctx, "a", "")
	require.NoError(t, err)
	b, err := r.AddChannel(ctx, "b", "")
	require.NoError(t, err)
	s, err := r.AddSubscription(ctx, sub(a.ID, "https://github.com/dotnet/x"))
	require.NoError(t, err)
	require.NoError(t, r.MarkChannelDeletingForTest(ctx, b.ID))
	_, err = r.UpdateSubscription(ctx, s.ID, func(s *maestro.Subscription) error { s.ChannelID = b.ID; return nil })
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err), "%v", err)
	got, err := r.Subscription(ctx, s.ID)
	require.NoError(t, err)
	assert.Equal(t, a.ID, got.ChannelID)
	_, err = r.AddSubscription(ctx, sub(a.ID, "https://github.com/dotnet/x"))
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err), "the old key is still held: %v", err)
}
