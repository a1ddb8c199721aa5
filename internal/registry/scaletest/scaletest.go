// Package scaletest defines the registry the scale benchmarks share: 100,000
// builds of 500 repositories (a tenth of them in one repository) in 25
// channels, and 5,000 subscriptions, and writes it through the registry's own
// API (PublishBuild, AddSubscription) in parallel.
package scaletest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// The data set.
const (
	Builds        = 100_000
	Repos         = 500
	Channels      = 25
	Subscriptions = 5_000
)

// Repo is the URL of repository k (0 ≤ k < Repos).
func Repo(k int) string { return fmt.Sprintf("https://github.com/scale/repo%03d", k) }

// RepoOf is the repository index of build i: every tenth build is of
// repository 0, the others spread over the remaining 499.
func RepoOf(i int) int {
	if i%10 == 0 {
		return 0
	}
	return 1 + i%(Repos-1)
}

// ChannelOf is the channel id repository k publishes to (its default channel).
func ChannelOf(k int) int { return k%Channels + 1 }

// Build is the i-th build of the data set: one package named after its
// repository, of version 1.0.i, at commit i.
func Build(i int) maestro.Build {
	k := RepoOf(i)
	return maestro.Build{Repository: Repo(k), Branch: "main", Commit: Commit(i),
		Assets: []maestro.Asset{{Name: AssetName(k), Version: Version(i)}}}
}

// Commit is the commit of build i.
func Commit(i int) string { return fmt.Sprintf("%040x", i) }

// AssetName is the package repository k produces.
func AssetName(k int) string { return fmt.Sprintf("Scale.Repo%03d.Package", k) }

// Version is the version build i gives its package.
func Version(i int) string { return fmt.Sprintf("1.0.%d", i) }

// Seed writes the channels, default channels, the first builds builds and
// subs subscriptions of the data set into r with workers in parallel.
func Seed(ctx context.Context, r *registry.Registry, builds, subs, workers int) error {
	for c := range Channels {
		ch, err := r.AddChannel(ctx, fmt.Sprintf("channel %d", c), "")
		if err != nil {
			return err
		}
		for k := c; k < Repos; k += Channels {
			if _, err := r.AddDefaultChannel(ctx, maestro.DefaultChannel{Repository: Repo(k), Branch: "main", ChannelID: ch.ID, Enabled: true}); err != nil {
				return err
			}
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= builds+subs {
					return
				}
				if i >= builds {
					s := i - builds
					_, err := r.AddSubscription(ctx, maestro.Subscription{
						ChannelID: s%Channels + 1, SourceRepository: Repo(s%Channels + Channels*(s/Channels%20)),
						TargetRepository: fmt.Sprintf("https://github.com/scale/target%04d", s), TargetBranch: "main", Enabled: true,
						Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild},
					})
					if err != nil {
						errs <- err
						return
					}
					continue
				}
				if _, err := r.PublishBuild(ctx, Build(i), registry.PublishOptions{}); err != nil {
					errs <- fmt.Errorf("publish build %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
