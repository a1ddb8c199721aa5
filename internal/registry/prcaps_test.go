package registry_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store/local"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// TestReservePullRequestCaps: the open cap counts tracked pull requests and
// fresh reservations of other keys (not the key's own), the hourly cap the
// reservations of the last hour, and says when it frees; no caps reserve
// nothing.
func TestReservePullRequestCaps(t *testing.T) {
	ctx := context.Background()
	const repo, branch = "https://github.com/dotnet/runtime", "release/10.0"
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	capOf := func(err error) *registry.CapError {
		var c *registry.CapError
		if errors.As(err, &c) {
			return c
		}
		return nil
	}

	t.Run("open", func(t *testing.T) {
		r := registry.New(mem.New())
		pol := maestro.RepositoryBranchPolicy{Repository: repo, Branch: branch, MaxOpenPullRequests: 2}
		_, err := r.Track(ctx, repo, branch, "sub-a", maestro.TrackedPullRequest{PullRequest: maestro.PullRequest{Number: 1}}, "")
		require.NoError(t, err)
		require.NoError(t, r.ReservePullRequest(ctx, pol, repo, branch, "sub-b", t0))
		err = r.ReservePullRequest(ctx, pol, repo, branch, "sub-c", t0.Add(time.Minute))
		require.NotNil(t, capOf(err), "sub-a tracked and sub-b reserved: %v", err)
		assert.EqualError(t, err, "https://github.com/dotnet/runtime@release/10.0 has 2 open dependency-update pull requests, its cap (maxOpenPullRequests is 2); the update waits until one merges or closes")
		assert.True(t, capOf(err).Until.IsZero())
		require.NoError(t, r.ReservePullRequest(ctx, pol, repo, branch, "sub-b", t0.Add(time.Minute)), "a key's own slot is no other pull request")
		// sub-b never tracked its pull request (it died): its slot stops
		// counting as open after the hold.
		require.NoError(t, r.ReservePullRequest(ctx, pol, repo, branch, "sub-c", t0.Add(20*time.Minute)))
	})

	t.Run("per hour", func(t *testing.T) {
		r := registry.New(mem.New())
		pol := maestro.RepositoryBranchPolicy{Repository: repo, Branch: branch, MaxNewPullRequestsPerHour: 2}
		require.NoError(t, r.ReservePullRequest(ctx, pol, repo, branch, "a", t0))
		require.NoError(t, r.ReservePullRequest(ctx, pol, repo, branch, "b", t0.Add(10*time.Minute)))
		err := r.ReservePullRequest(ctx, pol, repo, branch, "c", t0.Add(30*time.Minute))
		require.NotNil(t, capOf(err), "%v", err)
		assert.Equal(t, t0.Add(time.Hour), capOf(err).Until, "when a's slot leaves the hour")
		assert.EqualError(t, err, "https://github.com/dotnet/runtime@release/10.0 reached its cap of 2 new pull requests per hour (maxNewPullRequestsPerHour); the update waits until 2026-05-01T13:00:00Z")
		require.NoError(t, r.ReservePullRequest(ctx, pol, repo, branch, "c", t0.Add(time.Hour+time.Second)))
		err = r.ReservePullRequest(ctx, pol, repo, branch, "d", t0.Add(time.Hour+2*time.Second))
		assert.Equal(t, t0.Add(70*time.Minute), capOf(err).Until)
	})

	t.Run("no caps", func(t *testing.T) {
		r := registry.New(mem.New())
		for i := range 10 {
			require.NoError(t, r.ReservePullRequest(ctx, maestro.RepositoryBranchPolicy{}, repo, branch, fmt.Sprint(i), t0))
		}
		one := maestro.RepositoryBranchPolicy{MaxNewPullRequestsPerHour: 1}
		require.NoError(t, r.ReservePullRequest(ctx, one, repo, branch, "x", t0), "uncapped reservations took no slot")
	})

	t.Run("other branches are apart", func(t *testing.T) {
		r := registry.New(mem.New())
		one := maestro.RepositoryBranchPolicy{MaxNewPullRequestsPerHour: 1, MaxOpenPullRequests: 1}
		require.NoError(t, r.ReservePullRequest(ctx, one, repo, "main", "a", t0))
		require.NoError(t, r.ReservePullRequest(ctx, one, repo, branch, "a", t0))
		require.NoError(t, r.ReservePullRequest(ctx, one, "https://github.com/dotnet/sdk", "main", "a", t0))
	})

	t.Run("invalid caps", func(t *testing.T) {
		r := registry.New(mem.New())
		err := r.SetRepositoryPolicy(ctx, maestro.RepositoryBranchPolicy{Repository: repo, Branch: branch, MaxOpenPullRequests: -1, MergePolicies: []maestro.MergePolicy{}})
		assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
		_, err = r.RepositoryPolicy(ctx, repo, branch)
		assert.Equal(t, maestro.KindNotFound, maestro.KindOf(err), "nothing written")
	})
}

// TestReservePullRequestConcurrently: many updates reserving at once on one
// store, through separate registries as separate processes would, get
// exactly as many slots as the caps allow.
func TestReservePullRequestConcurrently(t *testing.T) {
	ctx := context.Background()
	const repo, branch = "https://github.com/dotnet/runtime", "main"
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name string
		pol  maestro.RepositoryBranchPolicy
		want int
	}{
		{"open", maestro.RepositoryBranchPolicy{MaxOpenPullRequests: 3}, 3},
		{"per hour", maestro.RepositoryBranchPolicy{MaxNewPullRequestsPerHour: 4}, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, err := local.Open(t.TempDir())
			require.NoError(t, err)
			var wg sync.WaitGroup
			var mu sync.Mutex
			got := 0
			for i := range 12 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := registry.New(st)
					err := r.ReservePullRequest(ctx, tt.pol, repo, branch, fmt.Sprintf("sub-%d", i), t0)
					var c *registry.CapError
					if !errors.As(err, &c) {
						assert.NoError(t, err)
					}
					if err == nil {
						mu.Lock()
						got++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			assert.Equal(t, tt.want, got)
		})
	}
}
