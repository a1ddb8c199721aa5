package config_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/config"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// populate fills reg through the registry API the way the CLI commands do,
// with every field a configuration file carries.
func populate(t *testing.T, reg *registry.Registry) {
	t.Helper()
	ctx := context.Background()
	net10, err := reg.AddChannel(ctx, ".NET 10", "product")
	require.NoError(t, err)
	eng, err := reg.AddChannel(ctx, ".NET Eng - Latest", "")
	require.NoError(t, err)
	_, err = reg.AddChannel(ctx, "aaa lower-case first", "test")
	require.NoError(t, err)
	for _, dc := range []maestro.DefaultChannel{
		{Repository: "https://github.com/dotnet/runtime", Branch: "refs/heads/main", ChannelID: net10.ID, Enabled: true},
		{Repository: "https://github.com/dotnet/arcade", Branch: "main", ChannelID: eng.ID, Enabled: true},
		{Repository: "https://dnceng.visualstudio.com/internal/_git/dotnet-runtime", Branch: `-regex:^internal/release/10\.0\.\d+xx$`, ChannelID: net10.ID},
	} {
		_, err := reg.AddDefaultChannel(ctx, dc)
		require.NoError(t, err)
	}
	for _, s := range []maestro.Subscription{
		{
			ChannelID: eng.ID, SourceRepository: "https://github.com/dotnet/arcade", TargetRepository: "https://github.com/dotnet/runtime",
			TargetBranch: "main", Enabled: true,
			Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryWeek, MergePolicies: []maestro.MergePolicy{
				{Name: maestro.PolicyAllChecksSuccessful, Properties: map[string]any{"ignoreChecks": []any{"license/cla"}, "minutes": 1.5, "count": 3.0}},
				{Name: maestro.PolicyNoRequestedChanges},
			}},
			ExcludedAssets: []string{"Microsoft.DotNet.XHarness.*", "Foo"},
		},
		{
			ChannelID: net10.ID, SourceRepository: "https://github.com/dotnet/runtime", TargetRepository: "https://github.com/dotnet/aspnetcore",
			TargetBranch: "refs/heads/main", Enabled: true, Policy: maestro.SubscriptionPolicy{Batchable: true, UpdateFrequency: maestro.FrequencyEveryBuild},
			PullRequestFailureNotificationTags: "@dotnet/aspnet-build", Speculative: true,
		},
		{
			ChannelID: net10.ID, SourceRepository: "https://github.com/dotnet/runtime", TargetRepository: "https://github.com/dotnet/dotnet",
			TargetBranch: "main", Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyNone},
			SourceDirectory: "runtime", TargetDirectory: "src/runtime", LastAppliedBuildID: 42,
		},
		{
			// Left to the registry's defaults (updateFrequency everyDay).
			ChannelID: net10.ID, SourceRepository: "https://github.com/dotnet/runtime", TargetRepository: "https://github.com/dotnet/dotnet",
			TargetBranch: "main", Enabled: true, SourceDirectory: "runtime", TargetDirectory: "src/runtime-2",
		},
	} {
		_, err := reg.AddSubscription(ctx, s)
		require.NoError(t, err)
	}
	for _, p := range []maestro.RepositoryBranchPolicy{
		{Repository: "https://github.com/dotnet/aspnetcore", Branch: "main", AutoMerge: true, MergeMethod: maestro.MergeMethodNative, MergePolicies: []maestro.MergePolicy{{Name: maestro.PolicyStandard}},
			MaxOpenPullRequests: 2, MaxNewPullRequestsPerHour: 5},
		{Repository: "https://github.com/dotnet/dotnet", Branch: "release/10.0", MergePolicies: []maestro.MergePolicy{}},
	} {
		require.NoError(t, reg.SetRepositoryPolicy(ctx, p))
	}
	pipeline := maestro.UpdatePipeline{Organization: "https://dev.azure.com/dnceng", Project: "internal", PipelineID: 42}
	for _, m := range []maestro.Mirror{
		{SourceRepository: "https://github.com/dotnet/runtime", TargetRepository: "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime", Pipeline: pipeline,
			Branches: []maestro.MirrorBranch{{Pattern: "main", Mode: maestro.MirrorFastForward}, {Pattern: `release/\d+\.\d+`, Mode: maestro.MirrorInternalMerge}}},
		{SourceRepository: "https://github.com/dotnet/arcade", TargetRepository: "https://dev.azure.com/dnceng/internal/_git/arcade-mirror", Pipeline: pipeline,
			Branches: []maestro.MirrorBranch{{Pattern: ".*", Mode: maestro.MirrorFastForward}}},
	} {
		require.NoError(t, reg.AddMirror(ctx, m))
	}
}

func TestExportApplyExportRoundTrip(t *testing.T) {
	src := localRegistry(t)
	populate(t, src)
	first := export(t, src)

	dst := localRegistry(t)
	p := apply(t, dst, first, config.Options{})
	add, change, del := p.Counts()
	assert.Equal(t, [3]int{3 + 3 + 4 + 2 + 2, 0, 0}, [3]int{add, change, del})
	second := export(t, dst)
	assert.Equal(t, first, second, "export → apply to an empty registry → export changed the bytes")

	again, err := plan(t, src, first, config.Options{Prune: true})
	require.NoError(t, err)
	assert.True(t, again.Empty(), "the registry's own export plans changes:\n%s", diff(t, again))
}

func TestExportGolden(t *testing.T) {
	reg := localRegistry(t)
	populate(t, reg)
	got := export(t, reg)
	golden := filepath.Join("testdata", "export.golden.yaml")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test -run TestExportGolden -update to create it")
	assert.Equal(t, string(want), got)
}

func TestExportEmpty(t *testing.T) {
	got := export(t, localRegistry(t))
	assert.Equal(t, "{}\n", got)
	f, err := config.Parse("empty.yaml", []byte(got))
	require.NoError(t, err)
	assert.Empty(t, f.Channels)
}

func TestApplyTwicePlansNothing(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "example.yaml"))
	require.NoError(t, err)
	reg := localRegistry(t)
	apply(t, reg, string(data), config.Options{Prune: true})

	ctx := context.Background()
	st, err := config.Load(ctx, reg)
	require.NoError(t, err)
	require.Len(t, st.Subscriptions, 3)
	pinned, err := reg.Subscription(ctx, "5b0b0bd6-69f6-4a3a-b5d2-1f0b0fb7a001")
	require.NoError(t, err, "a subscription listed with an id keeps it")
	assert.True(t, pinned.Policy.Batchable)
	assert.Equal(t, maestro.FrequencyEveryBuild, pinned.Policy.UpdateFrequency)
	dcs, err := reg.DefaultChannels(ctx)
	require.NoError(t, err)
	require.Len(t, dcs, 2)
	assert.False(t, dcs[1].Enabled)

	for _, prune := range []bool{false, true} {
		again, err := plan(t, reg, string(data), config.Options{Prune: prune})
		require.NoError(t, err)
		assert.True(t, again.Empty(), "second plan (prune %v):\n%s", prune, diff(t, again))
		assert.Equal(t, "No changes: the registry matches maestro.yaml.\n", diff(t, again))
	}
}

func TestApplyChangesKeepRuntimeState(t *testing.T) {
	reg := localRegistry(t)
	populate(t, reg)
	ctx := context.Background()
	subs, err := reg.Subscriptions(ctx, registry.SubscriptionFilter{TargetRepository: "https://github.com/dotnet/dotnet"})
	require.NoError(t, err)
	var withBuild maestro.Subscription
	for _, s := range subs {
		if s.LastAppliedBuildID == 42 {
			withBuild = s
		}
	}
	require.NotEmpty(t, withBuild.ID)

	apply(t, reg, `
channels:
  - name: .NET 10
    classification: product
subscriptions:
  - channel: .NET 10
    sourceRepository: https://github.com/dotnet/runtime
    targetRepository: https://github.com/dotnet/dotnet
    targetBranch: main
    sourceDirectory: runtime
    targetDirectory: src/runtime
    updateFrequency: everyDay
    excludedAssets: [A]
`, config.Options{})
	got, err := reg.Subscription(ctx, withBuild.ID)
	require.NoError(t, err)
	assert.Equal(t, 42, got.LastAppliedBuildID, "apply must not reset flow state")
	assert.Equal(t, maestro.FrequencyEveryDay, got.Policy.UpdateFrequency)
	assert.True(t, got.Enabled, "enabled defaults to true")
	assert.Equal(t, []string{"A"}, got.ExcludedAssets)
}

func TestApplyPrune(t *testing.T) {
	ctx := context.Background()
	reg := localRegistry(t)
	populate(t, reg)
	keep := `
channels:
  - name: .NET 10
    classification: product
defaultChannels:
  - repository: https://github.com/dotnet/runtime
    branch: main
    channel: .NET 10
`
	p := apply(t, reg, keep, config.Options{})
	assert.True(t, p.Empty())
	assert.Equal(t, 3+3+4+2+2-2, p.Unlisted)
	st, err := config.Load(ctx, reg)
	require.NoError(t, err)
	assert.Len(t, st.Channels, 3, "without prune nothing is deleted")
	assert.Len(t, st.Subscriptions, 4)

	p = apply(t, reg, keep, config.Options{Prune: true})
	_, _, del := p.Counts()
	assert.Equal(t, 12, del)
	st, err = config.Load(ctx, reg)
	require.NoError(t, err)
	require.Len(t, st.Channels, 1)
	assert.Equal(t, ".NET 10", st.Channels[0].Name)
	require.Len(t, st.DefaultChannels, 1)
	assert.Equal(t, "main", st.DefaultChannels[0].Branch)
	assert.Empty(t, st.Subscriptions)
	assert.Empty(t, st.RepositoryPolicies)
	assert.Empty(t, st.Mirrors)

	_, err = reg.ChannelByName(ctx, ".NET Eng - Latest")
	assert.Equal(t, maestro.KindNotFound, maestro.KindOf(err))
}

// failingRegistry is the real registry, except that one kind of write fails
// until healed.
type failingRegistry struct {
	*registry.Registry
	broken bool
}

var errOutage = errors.New("store unavailable")

func (r *failingRegistry) AddSubscription(ctx context.Context, s maestro.Subscription) (maestro.Subscription, error) {
	if r.broken {
		return s, maestro.Errorf(maestro.KindUnavailable, "write subscription: %w", errOutage)
	}
	return r.Registry.AddSubscription(ctx, s)
}

func TestApplyStopsAtFirstErrorAndResumes(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "example.yaml"))
	require.NoError(t, err)
	reg := &failingRegistry{Registry: localRegistry(t), broken: true}
	p, err := plan(t, reg, string(data), config.Options{})
	require.NoError(t, err)
	done, err := p.Apply(context.Background(), reg)
	require.Error(t, err)
	assert.ErrorIs(t, err, errOutage)
	assert.Equal(t, maestro.KindUnavailable, maestro.KindOf(err))
	assert.Len(t, done, 5, "channels, default channels and the repository policy were written")
	assert.EqualError(t, err, `add subscription (new) ".NET Eng - Latest" https://github.com/dotnet/arcade → https://github.com/dotnet/runtime@main: write subscription: store unavailable (5 of 8 changes were made before this one; fix the cause and apply again)`)

	reg.broken = false
	p, err = plan(t, reg, string(data), config.Options{})
	require.NoError(t, err)
	add, change, del := p.Counts()
	assert.Equal(t, [3]int{3, 0, 0}, [3]int{add, change, del}, "only the subscriptions are left:\n%s", diff(t, p))
	done, err = p.Apply(context.Background(), reg)
	require.NoError(t, err)
	require.Len(t, done, 3)
	assert.Equal(t, "00000000-0000-4000-8000-000000000001", done[0].ID, "Apply reports the id the registry gave")
	assert.Equal(t, "5b0b0bd6-69f6-4a3a-b5d2-1f0b0fb7a001", done[1].ID)
}
