package registry_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store"
)

// snapshot is every key of a store with the digest of its bytes.
func snapshot(t *testing.T, st store.Store) map[string][32]byte {
	t.Helper()
	ctx := context.Background()
	keys, err := st.List(ctx, "")
	require.NoError(t, err)
	out := map[string][32]byte{}
	for _, k := range keys {
		data, _, err := st.Get(ctx, k)
		require.NoError(t, err)
		out[k] = sha256.Sum256(data)
	}
	return out
}

func prBuild(repo string, azdoID int, pr string) (maestro.Build, *maestro.BuildPullRequest) {
	b := sampleBuild(repo, azdoID, "A", "B")
	b.Branch = "refs/pull/12/merge"
	return b, &maestro.BuildPullRequest{URL: pr, HeadCommit: fmt.Sprintf("%040x", azdoID+1000), TargetBranch: "main"}
}

func TestPublishSpeculativeRecordsApart(t *testing.T) {
	ctx := context.Background()
	const repo = "https://github.com/dotnet/arcade"
	r := newRegistry(t)
	ch, err := r.AddChannel(ctx, ".NET 10", "product")
	require.NoError(t, err)
	eng, err := r.AddChannel(ctx, ".NET Eng", "")
	require.NoError(t, err)
	_, err = r.AddDefaultChannel(ctx, maestro.DefaultChannel{Repository: repo, Branch: "main", ChannelID: ch.ID, Enabled: true})
	require.NoError(t, err)
	official, err := r.PublishBuild(ctx, sampleBuild(repo, 1, "A", "B"), registry.PublishOptions{})
	require.NoError(t, err)
	channelsBefore, err := r.Channels(ctx)
	require.NoError(t, err)

	b, pr := prBuild(repo, 2, "https://github.com/dotnet/arcade/pull/12")
	res, err := r.PublishSpeculative(ctx, b, registry.SpeculativeOptions{PullRequest: pr, Channels: []int{eng.ID}})
	require.NoError(t, err)
	got := res.Build
	assert.Equal(t, registry.SpeculativeIDBase, got.ID, "speculative ids have a range of their own")
	assert.True(t, got.Speculative)
	require.NotNil(t, got.PullRequest)
	assert.Equal(t, *pr, *got.PullRequest)
	for _, a := range got.Assets {
		assert.True(t, a.NonShipping, a.Name)
	}
	assert.Equal(t, []maestro.Channel{
		{ID: registry.SpeculativeTwinID(ch.ID), Name: ".NET 10 (speculative)", Classification: "product"},
		{ID: registry.SpeculativeTwinID(eng.ID), Name: ".NET Eng (speculative)", Classification: "dev"},
	}, got.Channels, "the twins of the target branch's default channel and of --channel, never the channels")

	// Read back from the speculative registry, as `build show` does.
	spec, err := r.Speculative(ctx)
	require.NoError(t, err)
	back, err := spec.Build(ctx, got.ID)
	require.NoError(t, err)
	assert.Equal(t, got.PullRequest, back.PullRequest)
	assert.True(t, back.Speculative)
	assert.True(t, back.Assets[0].NonShipping)
	latestSpec, err := spec.LatestBuild(ctx, repo, registry.SpeculativeTwinID(ch.ID))
	require.NoError(t, err)
	assert.Equal(t, got.ID, latestSpec.ID)

	// Nothing of the registry itself sees it.
	_, err = r.Build(ctx, got.ID)
	assert.Equal(t, maestro.KindNotFound, maestro.KindOf(err))
	latest, err := r.LatestBuild(ctx, repo, ch.ID)
	require.NoError(t, err)
	assert.Equal(t, official.Build.ID, latest.ID)
	latest, err = r.LatestBuild(ctx, repo, 0)
	require.NoError(t, err)
	assert.Equal(t, official.Build.ID, latest.ID)
	all, err := r.Builds(ctx, registry.BuildFilter{})
	require.NoError(t, err)
	require.Len(t, all, 1)
	channelsAfter, err := r.Channels(ctx)
	require.NoError(t, err)
	assert.Equal(t, channelsBefore, channelsAfter)
	found, err := r.FindAssets(ctx, "A", b.Assets[0].Version, 10)
	require.NoError(t, err)
	assert.Empty(t, found, "a speculative asset answers no asset question of the registry")

	// The next official build takes the next official id.
	next, err := r.PublishBuild(ctx, sampleBuild(repo, 3, "A"), registry.PublishOptions{})
	require.NoError(t, err)
	assert.Equal(t, official.Build.ID+1, next.Build.ID)

	// A rerun of the same speculative publish is the same build.
	again, err := r.PublishSpeculative(ctx, b, registry.SpeculativeOptions{PullRequest: pr, Channels: []int{eng.ID}})
	require.NoError(t, err)
	assert.True(t, again.Existing)
	assert.Equal(t, got.ID, again.Build.ID)
}

func TestPublishSpeculativeRefusesBeforeWriting(t *testing.T) {
	ctx := context.Background()
	const repo = "https://github.com/dotnet/arcade"
	r := newRegistry(t)
	ch, err := r.AddChannel(ctx, ".NET 10", "")
	require.NoError(t, err)
	_, err = r.AddDefaultChannel(ctx, maestro.DefaultChannel{Repository: repo, Branch: "main", ChannelID: ch.ID, Enabled: true})
	require.NoError(t, err)
	before := snapshot(t, r.Store())

	mainline := sampleBuild(repo, 5, "A")
	feature := sampleBuild(repo, 6, "A")
	feature.Branch = "feature/x"
	b, pr := prBuild(repo, 7, "https://github.com/dotnet/arcade/pull/12")
	for _, tc := range []struct {
		name string
		b    maestro.Build
		opts registry.SpeculativeOptions
		want string
	}{
		{"mainline without a pull request", mainline, registry.SpeculativeOptions{}, "mainline branch (default channel .NET 10)"},
		{"not a pull request URL", b, registry.SpeculativeOptions{PullRequest: &maestro.BuildPullRequest{URL: "https://github.com/dotnet/arcade/issues/12", HeadCommit: pr.HeadCommit}}, "--pull-request"},
		{"a pull request of another repository", b, registry.SpeculativeOptions{PullRequest: &maestro.BuildPullRequest{URL: "https://github.com/dotnet/runtime/pull/12", HeadCommit: pr.HeadCommit}}, "is a pull request of https://github.com/dotnet/runtime"},
		{"a bad head", b, registry.SpeculativeOptions{PullRequest: &maestro.BuildPullRequest{URL: pr.URL, HeadCommit: "main"}}, "--pull-request-head"},
		{"a channel that does not exist", feature, registry.SpeculativeOptions{Channels: []int{99}}, "channel 99 does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.PublishSpeculative(ctx, tc.b, tc.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, before, snapshot(t, r.Store()), "nothing is written")
		})
	}

	// A non-mainline branch without a pull request is speculative of its own accord.
	res, err := r.PublishSpeculative(ctx, feature, registry.SpeculativeOptions{Channels: []int{ch.ID}})
	require.NoError(t, err)
	assert.Nil(t, res.Build.PullRequest)
	assert.Equal(t, []maestro.Channel{{ID: registry.SpeculativeTwinID(ch.ID), Name: ".NET 10 (speculative)", Classification: "dev"}}, res.Build.Channels)
}

// TestSpeculativeTwinsCreatedOnce: 16 publishers of different builds into
// the same twins at once create each twin once.
func TestSpeculativeTwinsCreatedOnce(t *testing.T) {
	ctx := context.Background()
	const repo = "https://github.com/dotnet/arcade"
	r := newRegistry(t)
	var ids []int
	for i := range 3 {
		ch, err := r.AddChannel(ctx, fmt.Sprintf("c%d", i), "")
		require.NoError(t, err)
		ids = append(ids, ch.ID)
	}
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, pr := prBuild(repo, 100+i, fmt.Sprintf("https://github.com/dotnet/arcade/pull/%d", 100+i))
			pr.TargetBranch = ""
			_, errs[i] = r.PublishSpeculative(ctx, b, registry.SpeculativeOptions{PullRequest: pr, Channels: ids[i%2 : i%2+2]})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	spec, err := r.Speculative(ctx)
	require.NoError(t, err)
	twins, err := spec.Channels(ctx)
	require.NoError(t, err)
	require.Len(t, twins, 3, "one twin per channel")
	for i, tw := range twins {
		assert.Equal(t, registry.SpeculativeTwinID(ids[i]), tw.ID)
		assert.Equal(t, fmt.Sprintf("c%d (speculative)", i), tw.Name)
	}
	bs, err := spec.Builds(ctx, registry.BuildFilter{ChannelID: registry.SpeculativeTwinID(ids[1])})
	require.NoError(t, err)
	assert.Len(t, bs, 16, "every build is in the twin both halves share")
	bs, err = spec.Builds(ctx, registry.BuildFilter{})
	require.NoError(t, err)
	assert.Len(t, bs, 16)
}

func TestRepositoryPolicyBuildCommands(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	ok := maestro.RepositoryBranchPolicy{Repository: "/src/runtime", Branch: "main", BuildCommand: "./build.sh --ci", TestCommand: "./test.sh", MergePolicies: []maestro.MergePolicy{}}
	require.NoError(t, r.SetRepositoryPolicy(ctx, ok))
	got, err := r.RepositoryPolicy(ctx, "/src/runtime", "main")
	require.NoError(t, err)
	assert.Equal(t, "./build.sh --ci", got.BuildCommand)
	assert.Equal(t, "./test.sh", got.TestCommand)
	for _, tc := range []struct {
		name string
		p    maestro.RepositoryBranchPolicy
		want string
	}{
		{"remote repository", maestro.RepositoryBranchPolicy{Repository: "https://github.com/dotnet/runtime", Branch: "main", BuildCommand: "./build.sh"}, "runs only for local repositories"},
		{"two lines", maestro.RepositoryBranchPolicy{Repository: "/src/runtime", Branch: "main", BuildCommand: "./build.sh\nrm -rf /"}, "must be one line"},
		{"blank", maestro.RepositoryBranchPolicy{Repository: "/src/runtime", Branch: "main", BuildCommand: "  "}, "must be one line"},
		{"test without build", maestro.RepositoryBranchPolicy{Repository: "/src/runtime", Branch: "main", TestCommand: "./test.sh"}, "a test command without a build command"},
		{"too long", maestro.RepositoryBranchPolicy{Repository: "/src/runtime", Branch: "main", BuildCommand: strings.Repeat("x", 4097)}, "at most 4096"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.MergePolicies = []maestro.MergePolicy{}
			err := r.SetRepositoryPolicy(ctx, tc.p)
			require.Error(t, err)
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	got, err = r.RepositoryPolicy(ctx, "/src/runtime", "main")
	require.NoError(t, err)
	assert.Equal(t, "./build.sh --ci", got.BuildCommand, "a refused policy changes nothing")
}
