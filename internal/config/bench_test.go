package config_test

import (
	"fmt"
	"testing"

	"github.com/maestroplusplus/maestro/internal/config"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// largeState is a registry at production scale: 200 channels, 2,000 default
// channels, 5,000 subscriptions and 500 repository policies.
func largeState() *config.State {
	st := &config.State{}
	for i := range 200 {
		st.Channels = append(st.Channels, maestro.Channel{ID: i + 1, Name: fmt.Sprintf(".NET %d", i), Classification: "product"})
	}
	for i := range 2000 {
		st.DefaultChannels = append(st.DefaultChannels, maestro.DefaultChannel{
			ID: i + 1, Repository: fmt.Sprintf("https://github.com/dotnet/repo%d", i%1000), Branch: fmt.Sprintf("release/%d", i/1000),
			ChannelID: i%200 + 1, Enabled: true,
		})
	}
	for i := range 5000 {
		st.Subscriptions = append(st.Subscriptions, maestro.Subscription{
			ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), ChannelID: i%200 + 1,
			SourceRepository: fmt.Sprintf("https://github.com/dotnet/repo%d", i%1000),
			TargetRepository: fmt.Sprintf("https://github.com/dotnet/repo%d", (i+1)%1000),
			TargetBranch:     fmt.Sprintf("release/%d", i/1000), Enabled: true,
			Policy:         maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryDay, MergePolicies: []maestro.MergePolicy{{Name: maestro.PolicyStandard}}},
			ExcludedAssets: []string{"Microsoft.*"},
		})
	}
	for i := range 500 {
		st.RepositoryPolicies = append(st.RepositoryPolicies, maestro.RepositoryBranchPolicy{
			Repository: fmt.Sprintf("https://github.com/dotnet/repo%d", i), Branch: "main", AutoMerge: true,
			MergePolicies: []maestro.MergePolicy{{Name: maestro.PolicyStandard}},
		})
	}
	return st
}

func benchmarkPlan(b *testing.B, withIDs bool) {
	st := largeState()
	f, err := config.Export(st)
	if err != nil {
		b.Fatal(err)
	}
	if !withIDs {
		for i := range f.Subscriptions {
			f.Subscriptions[i].ID = ""
		}
	}
	data, err := f.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		parsed, err := config.Parse("large.yaml", data)
		if err != nil {
			b.Fatal(err)
		}
		p, err := config.NewPlan(parsed, st, config.Options{Prune: true})
		if err != nil {
			b.Fatal(err)
		}
		if !p.Empty() {
			b.Fatalf("plan of the registry's own export has %d actions", len(p.Actions))
		}
	}
}

// BenchmarkPlanLarge parses and plans a 5,000-subscription file that matches
// the registry, subscriptions identified by id.
func BenchmarkPlanLarge(b *testing.B) { benchmarkPlan(b, true) }

// BenchmarkPlanLargeWithoutIDs is the same with subscriptions matched by
// channel, source, target, branch and directories.
func BenchmarkPlanLargeWithoutIDs(b *testing.B) { benchmarkPlan(b, false) }

// BenchmarkExportLarge exports and marshals the same registry.
func BenchmarkExportLarge(b *testing.B) {
	st := largeState()
	b.ReportAllocs()
	for b.Loop() {
		f, err := config.Export(st)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}
