package service_test

import (
	"context"
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
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// pausing stops the first Get of key until release is closed, after
// closing reached: a tick that has read what is due and stalls there.
type pausing struct {
	store.Store
	key     string
	once    sync.Once
	reached chan struct{}
	release chan struct{}
}

func (p *pausing) Get(ctx context.Context, key string) ([]byte, string, error) {
	data, etag, err := p.Store.Get(ctx, key)
	if key == p.key {
		p.once.Do(func() {
			close(p.reached)
			<-p.release
		})
	}
	return data, etag, err
}

// dueWithBuild is a registry on st with one everyDay subscription due at
// now and a build of its source in its channel, newer than the one it
// applied. Its target has no credentials, so every attempt at it is a
// failure outcome that leaves the build unapplied: an attempt that ran twice
// would show as two outcomes.
func dueWithBuild(t *testing.T, st store.Store) (*registry.Registry, maestro.Subscription) {
	ctx := context.Background()
	reg := registry.New(st, registry.WithClock(func() time.Time { return now }))
	ch, err := reg.AddChannel(ctx, "dev", "")
	require.NoError(t, err)
	sub, err := reg.AddSubscription(ctx, maestro.Subscription{ChannelID: ch.ID, Enabled: true,
		SourceRepository: "https://github.com/dotnet/arcade", TargetRepository: "https://github.com/dotnet/target",
		TargetBranch: "main", Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryDay}})
	require.NoError(t, err)
	_, err = reg.PublishBuild(ctx, maestro.Build{Repository: "https://github.com/dotnet/arcade", Branch: "main", Commit: sha(1),
		AzureDevOpsAccount: "dnceng", AzureDevOpsProject: "internal", AzureDevOpsBuildID: 1, AzureDevOpsBuildNumber: "2026.1",
		Assets: []maestro.Asset{{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "10.0.0-beta.1"}}}, registry.PublishOptions{Channels: []int{ch.ID}})
	require.NoError(t, err)
	makeDue(t, reg, []string{sub.ID}, 1)
	return reg, sub
}

func serviceOn(reg *registry.Registry) *service.Service {
	return wire.Env{Getenv: func(string) string { return "" }, Now: func() time.Time { return now }}.Service(reg)
}

func outcomesOf(t *testing.T, reg *registry.Registry, id string) []maestro.FlowOutcome {
	t.Helper()
	os, err := reg.Outcomes(context.Background(), registry.OutcomeFilter{SubscriptionID: id})
	require.NoError(t, err)
	return os
}

// TestStalledTickDoesNotRepeatTheDueTime: a tick that read a due
// subscription and stalled (a deposed scheduler, a replica paused past its
// lease) while another tick ran it, attempts nothing when it resumes: the
// due time was handled, and the state's version says so.
func TestStalledTickDoesNotRepeatTheDueTime(t *testing.T) {
	base := mem.New()
	reg, sub := dueWithBuild(t, base)
	p := &pausing{Store: base, key: "flow/state/" + sub.ID + ".json", reached: make(chan struct{}), release: make(chan struct{})}
	stalled := serviceOn(registry.New(p, registry.WithClock(func() time.Time { return now })))

	type result struct {
		outcomes []maestro.FlowOutcome
		err      error
	}
	done := make(chan result, 1)
	go func() {
		o, err := stalled.Tick(context.Background(), now)
		done <- result{o, err}
	}()
	<-p.reached

	outcomes, err := serviceOn(reg).Tick(context.Background(), now)
	require.NoError(t, err)
	require.Len(t, outcomes, 1, "the other tick ran the due subscription")
	assert.Equal(t, maestro.ResultFailure, outcomes[0].Result, outcomes[0].Message)

	close(p.release)
	r := <-done
	require.NoError(t, r.err)
	assert.Empty(t, r.outcomes, "the stalled tick attempted the due time again")
	assert.Len(t, outcomesOf(t, reg, sub.ID), 1, "one outcome for one due time")
}

// TestConcurrentTicksRunOneDueTimeOnce: eight ticks at once over one due
// subscription attempt it once; the others record nothing.
func TestConcurrentTicksRunOneDueTimeOnce(t *testing.T) {
	base := mem.New()
	reg, sub := dueWithBuild(t, base)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var all []maestro.FlowOutcome
	for range 8 {
		wg.Go(func() {
			o, err := serviceOn(registry.New(base, registry.WithClock(func() time.Time { return now }))).Tick(context.Background(), now)
			assert.NoError(t, err)
			mu.Lock()
			all = append(all, o...)
			mu.Unlock()
		})
	}
	wg.Wait()
	assert.Len(t, all, 1, "one attempt: %v", all)
	assert.Len(t, outcomesOf(t, reg, sub.ID), 1, "one outcome for one due time")
}
