package registry_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

func newRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	return registry.New(mem.New(), registry.WithClock(func() time.Time {
		return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	}))
}

func sampleBuild(repo string, azdoID int, assets ...string) maestro.Build {
	b := maestro.Build{
		Repository: repo, Branch: "refs/heads/main", Commit: fmt.Sprintf("%040x", azdoID),
		AzureDevOpsAccount: "dnceng", AzureDevOpsProject: "internal", AzureDevOpsBuildID: azdoID,
		AzureDevOpsBuildNumber: fmt.Sprintf("20261125.%d", azdoID),
	}
	for _, a := range assets {
		b.Assets = append(b.Assets, maestro.Asset{Name: a, Version: "1.0.0-" + fmt.Sprint(azdoID)})
	}
	return b
}

func TestPublishAssignsDefaultChannelsAndIsIdempotent(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	ch, err := r.AddChannel(ctx, ".NET 10", "product")
	require.NoError(t, err)
	rel, err := r.AddChannel(ctx, ".NET 10 Release", "")
	require.NoError(t, err)
	_, err = r.AddDefaultChannel(ctx, maestro.DefaultChannel{Repository: "https://github.com/dotnet/arcade", Branch: "main", ChannelID: ch.ID, Enabled: true})
	require.NoError(t, err)
	_, err = r.AddDefaultChannel(ctx, maestro.DefaultChannel{Repository: "https://github.com/dotnet/arcade", Branch: "-regex:^release/.*", ChannelID: rel.ID, Enabled: true})
	require.NoError(t, err)

	res, err := r.PublishBuild(ctx, sampleBuild("https://github.com/dotnet/arcade.git", 7, "A", "B"), registry.PublishOptions{})
	require.NoError(t, err)
	assert.False(t, res.Existing)
	assert.Equal(t, []int{ch.ID}, res.NewChannels)
	assert.Equal(t, "main", res.Build.Branch)
	require.Len(t, res.Build.Assets, 2)
	assert.NotEqual(t, res.Build.Assets[0].ID, res.Build.Assets[1].ID)

	again, err := r.PublishBuild(ctx, sampleBuild("https://github.com/dotnet/arcade", 7, "A", "B"), registry.PublishOptions{})
	require.NoError(t, err)
	assert.True(t, again.Existing)
	assert.Equal(t, res.Build.ID, again.Build.ID)
	assert.Len(t, again.Build.Assets, 2)

	relBuild := sampleBuild("https://github.com/dotnet/arcade", 8, "A")
	relBuild.Branch = "release/10.0"
	res2, err := r.PublishBuild(ctx, relBuild, registry.PublishOptions{})
	require.NoError(t, err)
	assert.Equal(t, []int{rel.ID}, res2.NewChannels)

	latest, err := r.LatestBuild(ctx, "https://github.com/dotnet/arcade", ch.ID)
	require.NoError(t, err)
	assert.Equal(t, res.Build.ID, latest.ID)
	latest, err = r.LatestBuild(ctx, "https://github.com/dotnet/arcade", 0)
	require.NoError(t, err)
	assert.Equal(t, res2.Build.ID, latest.ID)
}

func TestPublishConcurrentDistinctIDs(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	ch, err := r.AddChannel(ctx, "c", "")
	require.NoError(t, err)
	const n = 50
	ids := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := r.PublishBuild(ctx, sampleBuild(fmt.Sprintf("https://github.com/o/r%d", i%5), 100+i, "P", fmt.Sprint("Q", i)), registry.PublishOptions{Channels: []int{ch.ID}})
			assert.NoError(t, err)
			ids[i] = res.Build.ID
		}()
	}
	wg.Wait()
	seen := map[int]bool{}
	for _, id := range ids {
		assert.False(t, seen[id], "duplicate id %d", id)
		seen[id] = true
	}
	inChannel, err := r.Builds(ctx, registry.BuildFilter{ChannelID: ch.ID, Limit: 100})
	require.NoError(t, err)
	assert.Len(t, inChannel, n)
	for i := range 5 {
		latest, err := r.LatestBuild(ctx, fmt.Sprintf("https://github.com/o/r%d", i), ch.ID)
		require.NoError(t, err)
		want := 0
		for j := i; j < n; j += 5 {
			want = max(want, ids[j])
		}
		assert.Equal(t, want, latest.ID)
	}
}

func TestDependentsAndFindAssets(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	up, err := r.PublishBuild(ctx, sampleBuild("https://github.com/dotnet/arcade", 1, "Microsoft.DotNet.Arcade.Sdk"), registry.PublishOptions{})
	require.NoError(t, err)
	down := sampleBuild("https://github.com/dotnet/runtime", 2, "Microsoft.NETCore.App.Ref")
	down.Dependencies = []maestro.BuildDependency{{BuildID: up.Build.ID, IsProduct: false}}
	dres, err := r.PublishBuild(ctx, down, registry.PublishOptions{})
	require.NoError(t, err)

	deps, err := r.Dependents(ctx, up.Build.ID)
	require.NoError(t, err)
	assert.Equal(t, []int{dres.Build.ID}, deps)

	ms, err := r.FindAssets(ctx, "microsoft.dotnet.arcade.sdk", "", 0)
	require.NoError(t, err)
	require.Len(t, ms, 1)
	assert.Equal(t, up.Build.ID, ms[0].Build.ID)

	found, err := r.FindDependencyBuild(ctx, "Microsoft.DotNet.Arcade.Sdk", "1.0.0-1", "https://github.com/dotnet/arcade", up.Build.Commit)
	require.NoError(t, err)
	assert.Equal(t, up.Build.ID, found.ID)
	_, err = r.FindDependencyBuild(ctx, "Microsoft.DotNet.Arcade.Sdk", "9.9.9", "", "")
	assert.Equal(t, maestro.KindNotFound, maestro.KindOf(err))
}

// TestMergePolicyListsStayValid: lists production accepts stay valid:
// Standard beside a policy it evaluates that production's Standard does not,
// and the new VersionDetailsProps.
func TestMergePolicyListsStayValid(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	ch, err := r.AddChannel(ctx, "c", "")
	require.NoError(t, err)
	base := maestro.Subscription{
		ChannelID: ch.ID, SourceRepository: "https://github.com/dotnet/arcade",
		TargetRepository: "https://github.com/dotnet/runtime", TargetBranch: "main", Enabled: true,
		Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild},
	}
	for i, ps := range [][]maestro.MergePolicy{
		{{Name: "Standard"}, {Name: "NoExtraCommits"}, {Name: "NoNewerUpdateMerged"}},
		{{Name: "Standard"}, {Name: "VersionDetailsProps"}},
		{{Name: "VersionDetailsProps"}, {Name: "AllChecksSuccessful", Properties: map[string]any{"ignoreChecks": []any{"WIP"}}}},
	} {
		good := base
		good.TargetBranch = fmt.Sprintf("valid-%d", i)
		good.Policy.MergePolicies = ps
		_, err := r.AddSubscription(ctx, good)
		assert.NoError(t, err, "%+v", ps)
	}

}

func TestSubscriptionRules(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	ch, err := r.AddChannel(ctx, "c", "")
	require.NoError(t, err)
	base := maestro.Subscription{
		ChannelID: ch.ID, SourceRepository: "https://github.com/dotnet/arcade",
		TargetRepository: "https://github.com/dotnet/runtime", TargetBranch: "main", Enabled: true,
		Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild},
	}
	s, err := r.AddSubscription(ctx, base)
	require.NoError(t, err)
	assert.NotEmpty(t, s.ID)

	_, err = r.AddSubscription(ctx, base)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err), "duplicate")

	bad := []struct {
		name   string
		mutate func(*maestro.Subscription)
		want   string
	}{
		{"frequency", func(s *maestro.Subscription) { s.Policy.UpdateFrequency = "hourly" }, "valid ones: none, everyBuild"},
		{"policy", func(s *maestro.Subscription) { s.Policy.MergePolicies = []maestro.MergePolicy{{Name: "Bogus"}} }, "valid ones: AllChecksSuccessful"},
		{"standard", func(s *maestro.Subscription) {
			s.Policy.MergePolicies = []maestro.MergePolicy{{Name: "Standard"}, {Name: "NoRequestedChanges"}}
		}, "Standard already contains NoRequestedChanges"},
		{"batchable", func(s *maestro.Subscription) {
			s.Policy.Batchable = true
			s.Policy.MergePolicies = []maestro.MergePolicy{{Name: "Standard"}}
		}, "batchable subscriptions take no merge policies"},
		{"channel", func(s *maestro.Subscription) { s.ChannelID = 99 }, "channel 99 does not exist"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			s.TargetBranch = "other-" + tt.name
			tt.mutate(&s)
			_, err := r.AddSubscription(ctx, s)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}

	_, err = r.UpdateSubscription(ctx, s.ID, func(s *maestro.Subscription) error { s.TargetBranch = "release"; return nil })
	assert.ErrorContains(t, err, "cannot change after creation")
	_, err = r.UpdateSubscription(ctx, s.ID, func(s *maestro.Subscription) error { s.Policy.Batchable = true; return nil })
	assert.ErrorContains(t, err, "batchable cannot change")

	ch2, err := r.AddChannel(ctx, "c2", "")
	require.NoError(t, err)
	_, err = r.UpdateSubscription(ctx, s.ID, func(s *maestro.Subscription) error { s.ChannelID = ch2.ID; return nil })
	require.NoError(t, err)
	on1, err := r.Subscriptions(ctx, registry.SubscriptionFilter{ChannelID: ch.ID, SourceRepository: "https://github.com/dotnet/arcade"})
	require.NoError(t, err)
	assert.Empty(t, on1)
	on2, err := r.Subscriptions(ctx, registry.SubscriptionFilter{ChannelID: ch2.ID, SourceRepository: "https://github.com/DOTNET/arcade.git"})
	require.NoError(t, err)
	require.Len(t, on2, 1)
	assert.Equal(t, s.ID, on2[0].ID)

	require.NoError(t, r.DeleteSubscription(ctx, s.ID))
	all, err := r.Subscriptions(ctx, registry.SubscriptionFilter{})
	require.NoError(t, err)
	assert.Empty(t, all)
}

func TestBadBuildWritesNothing(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	r := registry.New(st)
	b := sampleBuild("https://github.com/dotnet/arcade", 3, "A")
	b.Assets = append(b.Assets, maestro.Asset{Name: "a", Version: "2.0"})
	_, err := r.PublishBuild(ctx, b, registry.PublishOptions{})
	require.Error(t, err)
	assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
	keys, err := st.List(ctx, "")
	require.NoError(t, err)
	assert.Empty(t, keys)
}
