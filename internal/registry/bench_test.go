package registry_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/maestroplusplus/maestro/internal/flow"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store/local"
)

// The registry at real scale: 100,000 builds of 500 repositories in 25
// channels, and 5,000 subscriptions (200 per channel).
const (
	scaleBuilds   = 100_000
	scaleRepos    = 500
	scaleChannels = 25
	scaleSubs     = 5_000
	// scaleVersion names the layout of the cached data set; bump it when the
	// registry's layout changes.
	scaleVersion = "v1"
)

func scaleRepo(i int) string { return fmt.Sprintf("https://github.com/scale/repo%03d", i%scaleRepos) }

// scaleRegistry returns a local-store registry holding the data set. Building
// it takes minutes, so it is kept in the temporary directory between runs.
func scaleRegistry(b *testing.B) *registry.Registry {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "maestro-bench-registry-"+scaleVersion)
	done := filepath.Join(dir, "complete")
	if _, err := os.Stat(done); err == nil {
		st, err := local.Open(filepath.Join(dir, "store"))
		if err != nil {
			b.Fatal(err)
		}
		return registry.New(st)
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	st, err := local.Open(filepath.Join(dir, "store"), local.WithoutSync())
	if err != nil {
		b.Fatal(err)
	}
	r := registry.New(st)
	ctx := context.Background()
	for c := range scaleChannels {
		ch, err := r.AddChannel(ctx, fmt.Sprintf("channel %d", c), "")
		if err != nil {
			b.Fatal(err)
		}
		for repo := c; repo < scaleRepos; repo += scaleChannels {
			if _, err := r.AddDefaultChannel(ctx, maestro.DefaultChannel{Repository: scaleRepo(repo), Branch: "main", ChannelID: ch.ID, Enabled: true}); err != nil {
				b.Fatal(err)
			}
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= scaleBuilds+scaleSubs {
					return
				}
				if i >= scaleBuilds {
					s := i - scaleBuilds
					_, err := r.AddSubscription(ctx, maestro.Subscription{
						ChannelID: s%scaleChannels + 1, SourceRepository: scaleRepo(s%scaleChannels + scaleChannels*(s/scaleChannels%20)),
						TargetRepository: fmt.Sprintf("https://github.com/scale/target%04d", s), TargetBranch: "main", Enabled: true,
						Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild},
					})
					if err != nil {
						errs <- err
						return
					}
					continue
				}
				build := maestro.Build{Repository: scaleRepo(i), Branch: "main", Commit: fmt.Sprintf("%040x", i),
					Assets: []maestro.Asset{{Name: fmt.Sprintf("Scale.Repo%03d.Package", i%scaleRepos), Version: fmt.Sprintf("1.0.%d", i)}}}
				if _, err := r.PublishBuild(ctx, build, registry.PublishOptions{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return r
}

func BenchmarkLatestBuildInChannel(b *testing.B) {
	r := scaleRegistry(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		repo := i % scaleRepos
		got, err := r.LatestBuild(ctx, scaleRepo(repo), repo%scaleChannels+1)
		if err != nil {
			b.Fatal(err)
		}
		if got.Repository != scaleRepo(repo) {
			b.Fatalf("latest build of %s is of %s", scaleRepo(repo), got.Repository)
		}
	}
}

func BenchmarkSubscriptionsOnChannelFromRepo(b *testing.B) {
	r := scaleRegistry(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		c := i % scaleChannels
		subs, err := r.Subscriptions(ctx, registry.SubscriptionFilter{ChannelID: c + 1, SourceRepository: scaleRepo(c)})
		if err != nil {
			b.Fatal(err)
		}
		if len(subs) != 10 {
			b.Fatalf("%d subscriptions on channel %d from %s, want 10", len(subs), c+1, scaleRepo(c))
		}
	}
}

// BenchmarkFlowDecision is the flow's work when a build joins a channel: read
// the channel's 200 subscriptions (of 5,000) and decide for each.
func BenchmarkFlowDecision(b *testing.B) {
	r := scaleRegistry(b)
	ctx := context.Background()
	build, err := r.LatestBuild(ctx, scaleRepo(0), 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		subs, err := r.Subscriptions(ctx, registry.SubscriptionFilter{ChannelID: 1})
		if err != nil {
			b.Fatal(err)
		}
		decisions := flow.Decide(build, 1, subs)
		if len(decisions) != 200 {
			b.Fatalf("%d decisions, want 200", len(decisions))
		}
	}
}
