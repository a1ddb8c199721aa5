package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/flow"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/store/local"
)

// TestWhatIfAndOrphans: two batchable subscriptions share one pull request;
// deleting either would orphan it while the other keeps updating it. A
// what-if of a subscription that applied the newest build already skips it
// as the flow would, and one whose target branch is missing says so without
// failing.
func TestWhatIfAndOrphans(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	reg := registry.New(must(local.Open(t.TempDir())), registry.WithClock(func() time.Time { return clock }))
	svc := wire.Env{Getenv: func(string) string { return "" }, Now: func() time.Time { return clock }}.Service(reg)
	target := localTarget(t)
	var subs []maestro.Subscription
	for i, name := range []string{"dev", "dev2"} {
		ch, err := reg.AddChannel(ctx, name, "")
		require.NoError(t, err)
		s, err := reg.AddSubscription(ctx, maestro.Subscription{ChannelID: ch.ID, Enabled: true, SourceRepository: "https://github.com/dotnet/arcade",
			TargetRepository: target, TargetBranch: "main", Policy: maestro.SubscriptionPolicy{Batchable: true, UpdateFrequency: maestro.FrequencyEveryBuild}})
		require.NoError(t, err)
		subs = append(subs, s)
		res, err := reg.PublishBuild(ctx, maestro.Build{Repository: "https://github.com/dotnet/arcade", Branch: "main", Commit: sha(i + 1),
			AzureDevOpsBuildNumber: "2026.1", Assets: []maestro.Asset{{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "10.0.0-beta." + sha(i + 1)[39:]}}},
			registry.PublishOptions{Channels: []int{ch.ID}})
		require.NoError(t, err)
		o, err := svc.Trigger(ctx, service.TriggerRequest{SubscriptionID: s.ID, BuildID: res.Build.ID})
		require.NoError(t, err)
		require.Equal(t, maestro.ResultUpdated, o.Result, o.Message)
	}
	prs, err := reg.PullRequests(ctx, target)
	require.NoError(t, err)
	require.Len(t, prs, 1, "one batched pull request")
	for i, s := range subs {
		orphans, err := svc.Orphans(ctx, s)
		require.NoError(t, err)
		require.Len(t, orphans, 1)
		assert.Equal(t, prs[0].Number, orphans[0].PullRequest.Number)
		assert.Equal(t, i+1, orphans[0].BuildID)
		assert.Equal(t, []string{subs[1-i].ID}, orphans[0].OtherSubscriptions)
	}

	applied := subs[0]
	applied.LastAppliedBuildID = 1
	w, err := svc.WhatIf(ctx, applied)
	require.NoError(t, err)
	assert.Equal(t, flow.ActionSkip, w.Action)
	assert.Equal(t, "build 1 (as new or newer) was applied already", w.Reason)
	assert.Empty(t, w.Changes)

	gone := subs[0]
	gone.TargetBranch = "release/none"
	w, err = svc.WhatIf(ctx, gone)
	require.NoError(t, err)
	assert.Contains(t, w.TargetError, "clone "+target+" at release/none")
	assert.Empty(t, w.Changes)
}
