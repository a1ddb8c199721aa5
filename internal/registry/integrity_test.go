package registry_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// faultStore is a real store that fails writes whose key matches fail: it
// stands for a publish killed before its commit.
type faultStore struct {
	store.Store
	fail atomic.Pointer[func(key string) bool]
	gets atomic.Int64
	list atomic.Int64
}

var errInjected = errors.New("injected failure")

func (s *faultStore) Put(ctx context.Context, key string, data []byte, cond store.Condition) (string, error) {
	if f := s.fail.Load(); f != nil && (*f)(key) {
		return "", errInjected
	}
	return s.Store.Put(ctx, key, data, cond)
}

func (s *faultStore) Get(ctx context.Context, key string) ([]byte, string, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, key)
}

func (s *faultStore) List(ctx context.Context, prefix string) ([]string, error) {
	s.list.Add(1)
	return s.Store.List(ctx, prefix)
}

func (s *faultStore) failOn(f func(key string) bool) { s.fail.Store(&f) }

func newFaultRegistry(t *testing.T) (*registry.Registry, *faultStore) {
	t.Helper()
	st := &faultStore{Store: mem.New()}
	return registry.New(st), st
}

func noAzDO(repo string, n int, assets ...string) maestro.Build {
	b := sampleBuild(repo, n, assets...)
	b.AzureDevOpsAccount, b.AzureDevOpsProject, b.AzureDevOpsBuildID = "", "", 0
	return b
}

func mustClean(t *testing.T, r *registry.Registry) {
	t.Helper()
	rep, err := r.Check(context.Background())
	require.NoError(t, err)
	assert.True(t, rep.Clean(), "check: %+v", rep.Problems)
}

func TestInterruptedPublishesNeverHideABuild(t *testing.T) {
	ctx := context.Background()
	r, st := newFaultRegistry(t)
	ch, err := r.AddChannel(ctx, "c", "")
	require.NoError(t, err)
	const repo = "https://github.com/dotnet/arcade"
	first, err := r.PublishBuild(ctx, noAzDO(repo, 1, "A"), registry.PublishOptions{Channels: []int{ch.ID}})
	require.NoError(t, err)

	// 40 publishes of other commits die before build.json: more than any
	// fixed-depth index would keep.
	st.failOn(func(k string) bool { return strings.HasPrefix(k, "builds/") && strings.HasSuffix(k, "/build.json") })
	for i := 2; i <= 41; i++ {
		_, err := r.PublishBuild(ctx, noAzDO(repo, i, "A"), registry.PublishOptions{Channels: []int{ch.ID}})
		require.ErrorIs(t, err, errInjected)
	}
	st.failOn(func(string) bool { return false })

	for _, c := range []int{ch.ID, 0} {
		latest, err := r.LatestBuild(ctx, repo, c)
		require.NoError(t, err)
		assert.Equal(t, first.Build.ID, latest.ID)
	}
	for _, f := range []registry.BuildFilter{{}, {Repository: repo}, {ChannelID: ch.ID}, {Repository: repo, ChannelID: ch.ID}} {
		bs, err := r.Builds(ctx, f)
		require.NoError(t, err)
		require.Len(t, bs, 1, "%+v", f)
		assert.Equal(t, first.Build.ID, bs[0].ID)
	}
	ms, err := r.FindAssets(ctx, "a", "1.0.0-1", 0)
	require.NoError(t, err)
	require.Len(t, ms, 1)

	rep, err := r.Check(ctx)
	require.NoError(t, err)
	unfinished := 0
	for _, p := range rep.Problems {
		if p.Kind == registry.ProblemUnfinished {
			unfinished++
		}
	}
	assert.Equal(t, 40, unfinished, "%+v", rep.Problems)

	// Young unfinished builds are left alone; with no minimum age they go.
	rep, err = r.Repair(ctx, registry.RepairOptions{MinAge: time.Hour})
	require.NoError(t, err)
	rep, err = r.Check(ctx)
	require.NoError(t, err)
	assert.False(t, rep.Clean())
	dry, err := r.Repair(ctx, registry.RepairOptions{DryRun: true})
	require.NoError(t, err)
	assert.NotEmpty(t, dry.Problems)
	after, err := r.Check(ctx)
	require.NoError(t, err)
	assert.Len(t, after.Problems, len(rep.Problems), "dry run wrote")
	_, err = r.Repair(ctx, registry.RepairOptions{})
	require.NoError(t, err)
	mustClean(t, r)
	again, err := r.Repair(ctx, registry.RepairOptions{})
	require.NoError(t, err)
	assert.Empty(t, again.Problems, "repair is idempotent")

	latest, err := r.LatestBuild(ctx, repo, ch.ID)
	require.NoError(t, err)
	assert.Equal(t, first.Build.ID, latest.ID)
	// A rerun of a collected publish records it under a new id.
	res, err := r.PublishBuild(ctx, noAzDO(repo, 41, "A"), registry.PublishOptions{Channels: []int{ch.ID}})
	require.NoError(t, err)
	latest, err = r.LatestBuild(ctx, repo, ch.ID)
	require.NoError(t, err)
	assert.Equal(t, res.Build.ID, latest.ID)
	mustClean(t, r)
}

func TestRerunFinishesItsInterruptedPublish(t *testing.T) {
	for _, azdo := range []bool{true, false} {
		t.Run(fmt.Sprint("azdo=", azdo), func(t *testing.T) {
			ctx := context.Background()
			b := sampleBuild("https://github.com/dotnet/runtime", 5, "P", "Q")
			if !azdo {
				b = noAzDO(b.Repository, 5, "P", "Q")
			}
			// Die at every write in turn; the rerun finishes the same id.
			for n := 1; ; n++ {
				r, st := newFaultRegistry(t)
				var writes atomic.Int64
				st.failOn(func(string) bool { return writes.Add(1) == int64(n) })
				res, err := r.PublishBuild(ctx, b, registry.PublishOptions{})
				st.failOn(func(string) bool { return false })
				if err == nil {
					break // n is past the last write
				}
				require.ErrorIs(t, err, errInjected)
				var claimed int
				if rep, err := r.Check(ctx); assert.NoError(t, err) {
					for _, p := range rep.Problems {
						if p.Kind == registry.ProblemUnfinished {
							claimed = p.BuildID
						}
					}
				}
				res, err = r.PublishBuild(ctx, b, registry.PublishOptions{})
				require.NoError(t, err, "rerun after failing write %d", n)
				if claimed != 0 {
					assert.Equal(t, claimed, res.Build.ID, "rerun after failing write %d takes the interrupted id", n)
				}
				mustClean(t, r)
				bs, err := r.Builds(ctx, registry.BuildFilter{})
				require.NoError(t, err)
				assert.Len(t, bs, 1)
				if n > 60 {
					t.Fatal("publish never finished")
				}
			}
		})
	}
}

func TestConcurrentJobsOfOneAzDOBuild(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	const jobs = 8
	var wg sync.WaitGroup
	errs := make([]error, jobs)
	results := make([]registry.PublishResult, jobs)
	for i := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = r.PublishBuild(ctx, sampleBuild("https://github.com/dotnet/sdk", 77, fmt.Sprint("Job", i, ".A"), fmt.Sprint("Job", i, ".B")), registry.PublishOptions{})
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "two jobs recorded the build")
			winner = i
			continue
		}
		assert.Equal(t, maestro.KindConflict, maestro.KindOf(err))
		assert.ErrorContains(t, err, "publish every job's manifest in one step")
	}
	require.NotEqual(t, -1, winner)
	b, err := r.Build(ctx, results[winner].Build.ID)
	require.NoError(t, err)
	var names []string
	for _, a := range b.Assets {
		names = append(names, a.Name)
	}
	assert.Equal(t, []string{fmt.Sprint("Job", winner, ".A"), fmt.Sprint("Job", winner, ".B")}, names)

	// A later job with a subset of the record's assets is the same build; one
	// with assets the record lacks is refused, naming them.
	sub, err := r.PublishBuild(ctx, sampleBuild("https://github.com/dotnet/sdk", 77, fmt.Sprint("Job", winner, ".A")), registry.PublishOptions{})
	require.NoError(t, err)
	assert.True(t, sub.Existing)
	_, err = r.PublishBuild(ctx, sampleBuild("https://github.com/dotnet/sdk", 77, fmt.Sprint("Job", winner, ".A"), "Late.C"), registry.PublishOptions{})
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err))
	assert.ErrorContains(t, err, "without Late.C 1.0.0-77")
	bs, err := r.Builds(ctx, registry.BuildFilter{})
	require.NoError(t, err)
	assert.Len(t, bs, 1)
	_, err = r.Repair(ctx, registry.RepairOptions{})
	require.NoError(t, err)
	mustClean(t, r)
}

func TestChannelMembershipConverges(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	ch, err := r.AddChannel(ctx, "c", "")
	require.NoError(t, err)
	var ids []int
	for i := range 4 {
		res, err := r.PublishBuild(ctx, sampleBuild("https://github.com/o/r", i+1, "A"), registry.PublishOptions{})
		require.NoError(t, err)
		ids = append(ids, res.Build.ID)
	}
	for round := range 5 {
		var wg sync.WaitGroup
		for i := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := ids[i%len(ids)]
				if (i/len(ids)+round)%2 == 0 {
					_, err := r.AddBuildToChannel(ctx, id, ch.ID)
					assert.NoError(t, err)
				} else if err := r.RemoveBuildFromChannel(ctx, id, ch.ID); err != nil {
					assert.Equal(t, maestro.KindNotFound, maestro.KindOf(err))
				}
			}()
		}
		wg.Wait()
		mustClean(t, r)
		in, err := r.Builds(ctx, registry.BuildFilter{ChannelID: ch.ID})
		require.NoError(t, err)
		latest, err := r.LatestBuild(ctx, "https://github.com/o/r", ch.ID)
		if len(in) == 0 {
			assert.Equal(t, maestro.KindNotFound, maestro.KindOf(err))
		} else {
			require.NoError(t, err)
			assert.Equal(t, in[0].ID, latest.ID)
		}
	}
}

func TestRepairBesidePublishes(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	ch, err := r.AddChannel(ctx, "c", "")
	require.NoError(t, err)
	stop := make(chan struct{})
	var repairs sync.WaitGroup
	repairs.Add(1)
	go func() {
		defer repairs.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, err := r.Repair(ctx, registry.RepairOptions{})
			assert.NoError(t, err)
		}
	}()
	var wg sync.WaitGroup
	ids := make([]int, 24)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := r.PublishBuild(ctx, noAzDO("https://github.com/o/r", i+1, "A"), registry.PublishOptions{Channels: []int{ch.ID}})
			require.NoError(t, err)
			ids[i] = res.Build.ID
		}()
	}
	wg.Wait()
	close(stop)
	repairs.Wait()
	// Every publish is recorded and indexed, whatever repair did meanwhile.
	_, err = r.Repair(ctx, registry.RepairOptions{})
	require.NoError(t, err)
	mustClean(t, r)
	in, err := r.Builds(ctx, registry.BuildFilter{ChannelID: ch.ID, Limit: 100})
	require.NoError(t, err)
	var got []int
	for _, b := range in {
		got = append(got, b.ID)
	}
	slices.Sort(got)
	slices.Sort(ids)
	assert.Equal(t, ids, got)
}

func TestCheckFindsCounterAndDanglingReferences(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	r := registry.New(st)
	ch, err := r.AddChannel(ctx, "c", "")
	require.NoError(t, err)
	_, err = r.PublishBuild(ctx, sampleBuild("https://github.com/o/r", 1, "A"), registry.PublishOptions{})
	require.NoError(t, err)
	mustClean(t, r)
	_, err = st.Put(ctx, "meta/counters/build.json", []byte(`{"next":1}`), store.Condition{})
	require.NoError(t, err)
	_, err = st.Put(ctx, "config/default-channels.json", []byte(fmt.Sprintf(`{"nextId":2,"defaultChannels":[{"id":1,"repository":"https://github.com/o/r","branch":"main","channelId":%d,"enabled":true}]}`, ch.ID+1)), store.Condition{})
	require.NoError(t, err)
	rep, err := r.Check(ctx)
	require.NoError(t, err)
	var kinds []string
	for _, p := range rep.Problems {
		kinds = append(kinds, p.Kind)
	}
	assert.ElementsMatch(t, []string{registry.ProblemCounter, registry.ProblemDangling}, kinds)
	_, err = r.Repair(ctx, registry.RepairOptions{})
	require.NoError(t, err)
	mustClean(t, r)
	res, err := r.PublishBuild(ctx, sampleBuild("https://github.com/o/r", 2, "A"), registry.PublishOptions{})
	require.NoError(t, err)
	assert.Equal(t, 2, res.Build.ID)
}

func TestBuildListPagesNewestFirst(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	ch, err := r.AddChannel(ctx, "c", "")
	require.NoError(t, err)
	var want []int
	for i := range 30 {
		res, err := r.PublishBuild(ctx, sampleBuild(fmt.Sprint("https://github.com/o/r", i%3), i+1, "A"), registry.PublishOptions{})
		require.NoError(t, err)
		if i%2 == 0 {
			_, err := r.AddBuildToChannel(ctx, res.Build.ID, ch.ID)
			require.NoError(t, err)
			want = append(want, res.Build.ID)
		}
	}
	slices.Reverse(want)
	var got []int
	before := 0
	for {
		bs, err := r.Builds(ctx, registry.BuildFilter{ChannelID: ch.ID, Limit: 4, Before: before})
		require.NoError(t, err)
		if len(bs) == 0 {
			break
		}
		for _, b := range bs {
			got = append(got, b.ID)
		}
		before = bs[len(bs)-1].ID
	}
	assert.Equal(t, want, got)
}
