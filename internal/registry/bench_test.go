package registry_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/maestroplusplus/maestro/internal/flow"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/registry/scaletest"
	"github.com/maestroplusplus/maestro/internal/store/local"
	"github.com/maestroplusplus/maestro/internal/store/storeurl"
	"github.com/maestroplusplus/maestro/test/azurite"
)

// The questions at scale run on the 100,000-build data set of scaletest on
// the local store, and on 10,000 builds of it on Azurite (600,000 blobs would
// not fit a benchmark run; TestReadsDoNotGrowWithTheRegistry shows the reads
// per question do not depend on the registry's size, so the Azurite figures
// are the same requests at Azurite's latency). The builds are written with
// SeedBuildsDirect (TestDirectSeedMatchesPublish), the configuration and
// subscriptions through the API.

// scaleVersion names the layout of the cached local data set; bump it when
// the registry's layout changes.
const scaleVersion = "v4"

// openScale returns a local-store registry holding the data set, cached in
// the temporary directory between runs.
func openScale(b *testing.B) *registry.Registry {
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
	seed(b, r, scaletest.Builds, scaletest.Subscriptions)
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return r
}

func seed(b *testing.B, r *registry.Registry, builds, subs int) {
	ctx := context.Background()
	if err := scaletest.Seed(ctx, r, 0, subs, 8); err != nil {
		b.Fatal(err)
	}
	all := make([]maestro.Build, builds)
	for i := range all {
		all[i] = scaletest.Build(i)
	}
	if err := registry.SeedBuildsDirect(ctx, r, all); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkQuestions answers every question of docs/registry.md's cost table.
func BenchmarkQuestions(b *testing.B) {
	b.Run("local", func(b *testing.B) {
		benchQuestions(b, openScale(b), scaletest.Builds)
	})
	b.Run("azurite", func(b *testing.B) {
		const builds = 10_000
		srv := azurite.Start(b)
		env := map[string]string{"AZURE_STORAGE_CONNECTION_STRING": srv.ConnectionString()}
		st, err := storeurl.Create(context.Background(), "azblob://scale", func(k string) string { return env[k] })
		if err != nil {
			b.Fatal(err)
		}
		r := registry.New(st)
		seed(b, r, builds, 0)
		benchQuestions(b, r, builds)
	})
}

func benchQuestions(b *testing.B, r *registry.Registry, builds int) {
	ctx := context.Background()
	big := scaletest.Repo(0)
	b.Run("newest 50 builds", func(b *testing.B) {
		for range b.N {
			bs, err := r.Builds(ctx, registry.BuildFilter{Limit: 50})
			if err != nil || len(bs) != 50 {
				b.Fatalf("%d builds, %v", len(bs), err)
			}
		}
	})
	b.Run("builds in a channel, page of 50", func(b *testing.B) {
		for i := range b.N {
			bs, err := r.Builds(ctx, registry.BuildFilter{ChannelID: i%scaletest.Channels + 1, Limit: 50})
			if err != nil || len(bs) != 50 {
				b.Fatalf("%d builds, %v", len(bs), err)
			}
		}
	})
	b.Run("latest of the big repository in any channel", func(b *testing.B) {
		for range b.N {
			got, err := r.LatestBuild(ctx, big, 0)
			if err != nil || got.Repository != big {
				b.Fatalf("%v %v", got.Repository, err)
			}
		}
	})
	b.Run("latest of a repository in its channel", func(b *testing.B) {
		for i := range b.N {
			k := i % scaletest.Repos
			got, err := r.LatestBuild(ctx, scaletest.Repo(k), scaletest.ChannelOf(k))
			if err != nil || got.Repository != scaletest.Repo(k) {
				b.Fatalf("%v %v", got.Repository, err)
			}
		}
	})
	b.Run("asset by name and version", func(b *testing.B) {
		for i := range b.N {
			n := (i * 7919) % builds // old and new builds alike
			ms, err := r.FindAssets(ctx, scaletest.AssetName(scaletest.RepoOf(n)), scaletest.Version(n), 0)
			if err != nil || len(ms) != 1 {
				b.Fatalf("%d matches, %v", len(ms), err)
			}
		}
	})
	b.Run("300 dependencies of a Version.Details.xml", func(b *testing.B) {
		// What publish --version-details does (internal/cli/publish): one
		// Finder, 16 lookups in flight; a third name no commit, so the lookup
		// falls back from the commit to the name and version.
		for range b.N {
			f := registry.NewFinder(r)
			var wg sync.WaitGroup
			sem := make(chan struct{}, 16)
			errs := make(chan error, 300)
			for d := range 300 {
				n := (d * 331) % builds
				repo, commit := scaletest.Repo(scaletest.RepoOf(n)), scaletest.Commit(n)
				if d%3 == 0 {
					commit = fmt.Sprintf("%040x", builds+d) // not a build's commit
				}
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer func() { <-sem; wg.Done() }()
					got, err := f.FindDependencyBuild(ctx, scaletest.AssetName(scaletest.RepoOf(n)), scaletest.Version(n), repo, commit)
					if err == nil && got.Commit != scaletest.Commit(n) {
						err = fmt.Errorf("dependency %d found build of commit %s", d, got.Commit)
					}
					if err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSubscriptionsOnChannelFromRepo(b *testing.B) {
	r := openScale(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		c := i % scaletest.Channels
		subs, err := r.Subscriptions(ctx, registry.SubscriptionFilter{ChannelID: c + 1, SourceRepository: scaletest.Repo(c)})
		if err != nil {
			b.Fatal(err)
		}
		if len(subs) != 10 {
			b.Fatalf("%d subscriptions on channel %d from %s, want 10", len(subs), c+1, scaletest.Repo(c))
		}
	}
}

// BenchmarkFlowDecision is the flow's work when a build joins a channel: read
// the channel's 200 subscriptions (of 5,000) and decide for each.
func BenchmarkFlowDecision(b *testing.B) {
	r := openScale(b)
	ctx := context.Background()
	build, err := r.LatestBuild(ctx, scaletest.Repo(0), 1)
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
