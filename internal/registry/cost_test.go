package registry_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// TestReadsDoNotGrowWithTheRegistry counts the store reads (GETs and LISTs)
// of every question on a small registry and on one with many more builds
// (enough that the id lists spill into pages), and asserts they are equal
// and that none is a listing.
func TestReadsDoNotGrowWithTheRegistry(t *testing.T) {
	questions := []struct {
		name string
		ask  func(ctx context.Context, r *registry.Registry) error
	}{
		{"newest builds", func(ctx context.Context, r *registry.Registry) error {
			bs, err := r.Builds(ctx, registry.BuildFilter{Limit: 10})
			return want(len(bs) == 10, err, "10 builds, got %d", len(bs))
		}},
		{"builds in a channel", func(ctx context.Context, r *registry.Registry) error {
			bs, err := r.Builds(ctx, registry.BuildFilter{ChannelID: 1, Limit: 10})
			return want(len(bs) == 10, err, "10 builds, got %d", len(bs))
		}},
		{"builds of a repository", func(ctx context.Context, r *registry.Registry) error {
			bs, err := r.Builds(ctx, registry.BuildFilter{Repository: costRepo(0), Limit: 10})
			return want(len(bs) == 10, err, "10 builds, got %d", len(bs))
		}},
		{"latest in a channel", func(ctx context.Context, r *registry.Registry) error {
			_, err := r.LatestBuild(ctx, costRepo(0), 1)
			return err
		}},
		{"latest in any channel", func(ctx context.Context, r *registry.Registry) error {
			_, err := r.LatestBuild(ctx, costRepo(1), 0) // the big repository
			return err
		}},
		{"asset by name and version (oldest build)", func(ctx context.Context, r *registry.Registry) error {
			ms, err := r.FindAssets(ctx, "Cost.Repo0", "1.0.0", 0)
			return want(len(ms) == 1, err, "1 match, got %d", len(ms))
		}},
		{"build of name@version", func(ctx context.Context, r *registry.Registry) error {
			_, err := r.FindDependencyBuild(ctx, "Cost.Repo1", "1.0.1", "", "")
			return err
		}},
		{"build of name@version at its commit", func(ctx context.Context, r *registry.Registry) error {
			_, err := r.FindDependencyBuild(ctx, "Cost.Repo1", "1.0.1", costRepo(1), fmt.Sprintf("%040x", 1))
			return err
		}},
	}
	reads := func(builds int) []int64 {
		ctx := context.Background()
		r, st := newFaultRegistry(t)
		_, err := r.AddChannel(ctx, "c", "")
		require.NoError(t, err)
		for i := range builds {
			b := maestro.Build{Repository: costRepo(i), Branch: "main", Commit: fmt.Sprintf("%040x", i),
				Assets: []maestro.Asset{{Name: fmt.Sprintf("Cost.Repo%d", i%4), Version: fmt.Sprintf("1.0.%d", i)}}}
			_, err := r.PublishBuild(ctx, b, registry.PublishOptions{Channels: []int{1}})
			require.NoError(t, err)
		}
		var out []int64
		for _, q := range questions {
			before, lists := st.gets.Load()+st.list.Load(), st.list.Load()
			require.NoError(t, q.ask(ctx, r), q.name)
			out = append(out, st.gets.Load()+st.list.Load()-before)
			// Only GETs of known keys: a listing's cost on a local directory
			// grows with the entries beside the prefix.
			assert.Equal(t, lists, st.list.Load(), "%s lists a prefix", q.name)
		}
		return out
	}
	small, large := reads(200), reads(2500)
	for i, q := range questions {
		assert.Equal(t, small[i], large[i], "%s: %d reads with 200 builds, %d with 2,500", q.name, small[i], large[i])
		t.Logf("%s: %d reads", q.name, large[i])
	}
}

// costRepo puts three builds of four in one repository (its lists spill into
// pages on the larger registry), the rest in three others.
func costRepo(i int) string {
	if i%4 != 0 {
		return "https://github.com/cost/repo0"
	}
	return fmt.Sprintf("https://github.com/cost/repo%d", 1+i/4%3)
}

func want(ok bool, err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf(format, args...)
	}
	return nil
}
