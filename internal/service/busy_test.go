package service_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/store/local"
)

// localTarget is a bare repository whose main branch pins Arcade 9.0.0-beta.1.
func localTarget(t *testing.T) string {
	ctx := context.Background()
	g := git.Runner{Author: git.Identity{Name: "Dev", Email: "dev@example.com"}}
	root := t.TempDir()
	seed, bare := filepath.Join(root, "seed"), filepath.Join(root, "target.git")
	require.NoError(t, g.Init(ctx, bare, true))
	require.NoError(t, g.Init(ctx, seed, false))
	require.NoError(t, os.MkdirAll(filepath.Join(seed, "eng"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(seed, "eng", "Version.Details.xml"), []byte("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Dependencies>\n  <ToolsetDependencies>\n"+
		"    <Dependency Name=\"Microsoft.DotNet.Arcade.Sdk\" Version=\"9.0.0-beta.1\">\n      <Uri>https://github.com/dotnet/arcade</Uri>\n"+
		"      <Sha>0000000000000000000000000000000000000001</Sha>\n    </Dependency>\n  </ToolsetDependencies>\n</Dependencies>\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(seed, "global.json"), []byte("{\n  \"msbuild-sdks\": {\n    \"Microsoft.DotNet.Arcade.Sdk\": \"9.0.0-beta.1\"\n  }\n}\n"), 0o644))
	_, err := g.CommitAll(ctx, seed, "initial")
	require.NoError(t, err)
	require.NoError(t, g.Push(ctx, seed, bare, "HEAD", "main", ""))
	return bare
}

// TestBusySubscriptionKeepsTheBuild: a flow that meets another attempt's
// live claim does not race it: the build becomes pending work (a newer build
// replaces it) and a rescheduled outcome; once the claim lapses (its holder
// died), the tick flows the newest build.
func TestBusySubscriptionKeepsTheBuild(t *testing.T) {
	ctx := context.Background()
	clock := time.Now().UTC()
	reg := registry.New(must(local.Open(t.TempDir())), registry.WithClock(func() time.Time { return clock }))
	svc := wire.Env{Getenv: func(string) string { return "" }, Now: func() time.Time { return clock }}.Service(reg)
	ch, err := reg.AddChannel(ctx, "dev", "")
	require.NoError(t, err)
	target := localTarget(t)
	sub, err := reg.AddSubscription(ctx, maestro.Subscription{ChannelID: ch.ID, Enabled: true, SourceRepository: "https://github.com/dotnet/arcade",
		TargetRepository: target, TargetBranch: "main", Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild}})
	require.NoError(t, err)
	publish := func(n int) maestro.Build {
		res, err := reg.PublishBuild(ctx, maestro.Build{Repository: "https://github.com/dotnet/arcade", Branch: "main", Commit: sha(n),
			AzureDevOpsAccount: "dnceng", AzureDevOpsProject: "internal", AzureDevOpsBuildID: n, AzureDevOpsBuildNumber: "2026." + sha(n)[:4],
			Assets: []maestro.Asset{{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "10.0.0-beta." + sha(n)[39:]}}}, registry.PublishOptions{Channels: []int{ch.ID}})
		require.NoError(t, err)
		return res.Build
	}
	b1, b2 := publish(1), publish(2)

	// Another process holds the claim (and then dies).
	_, err = reg.UpdateFlowState(ctx, sub.ID, func(s *registry.FlowState, _ bool) error {
		s.Claim = &registry.Claim{Owner: "other", Until: clock.Add(time.Minute)}
		return nil
	})
	require.NoError(t, err)
	for _, b := range []maestro.Build{b1, b2} {
		triggered := svc.FlowBuild(ctx, b, []int{ch.ID})
		require.Len(t, triggered, 1)
		require.NoError(t, triggered[0].Err)
		assert.Equal(t, maestro.ResultRescheduled, triggered[0].Outcome.Result)
		assert.Contains(t, triggered[0].Outcome.Message, "another flow of this subscription is in progress")
	}
	st, _, err := reg.FlowState(ctx, sub.ID)
	require.NoError(t, err)
	require.NotNil(t, st.Pending)
	assert.Equal(t, b2.ID, st.Pending.BuildID, "the newer build replaced the older")
	assert.Equal(t, "busy", st.Pending.Reason)

	outcomes, err := svc.Tick(ctx, clock)
	require.NoError(t, err)
	assert.Empty(t, outcomes, "the claim is live: the tick leaves it alone")

	clock = clock.Add(2 * time.Minute) // the claim lapsed
	outcomes, err = svc.Tick(ctx, clock)
	require.NoError(t, err)
	require.Len(t, outcomes, 1)
	assert.Equal(t, maestro.ResultUpdated, outcomes[0].Result, outcomes[0].Message)
	assert.Equal(t, b2.ID, outcomes[0].BuildID)
	prs, err := reg.PullRequests(ctx, target)
	require.NoError(t, err)
	require.Len(t, prs, 1)
	out, err := exec.Command("git", "-C", target, "show", prs[0].HeadBranch+":global.json").Output()
	require.NoError(t, err)
	assert.Contains(t, string(out), "10.0.0-beta.2")
	st, _, err = reg.FlowState(ctx, sub.ID)
	require.NoError(t, err)
	assert.Nil(t, st.Pending)
	assert.Nil(t, st.Claim)
}

func sha(n int) string {
	const hex = "0123456789abcdef"
	b := []byte("0000000000000000000000000000000000000000")
	b[39] = hex[n%16]
	return string(b)
}
