package service_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/platform/local"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service"
	"github.com/maestroplusplus/maestro/internal/store/mem"
	"github.com/maestroplusplus/maestro/internal/updater"
	"github.com/maestroplusplus/maestro/test/testenv"
)

// TestALostPushRaceIsRetried: another update (another Maestro++ process,
// the same bot) pushes to the pull request branch after this update cloned
// it and before it pushed. The leased push loses; the attempt is recorded as
// rescheduled, the pull request says why, and the build stays as pending
// work with reason "race". The next tick starts from the branch's new head
// and the update lands on top of the other push.
func TestALostPushRaceIsRetried(t *testing.T) {
	ctx := context.Background()
	bot := git.Runner{Author: git.Identity{Name: "dotnet-maestro[bot]", Email: "bot@maestro.local"}}
	clock := now
	reg := registry.New(mem.New(), registry.WithClock(func() time.Time { return clock }))
	plat := local.New(reg, bot)
	root := t.TempDir()
	target := filepath.Join(root, "target.git")
	require.NoError(t, bot.Init(ctx, target, true))
	seed := filepath.Join(root, "seed")
	require.NoError(t, exec.Command("cp", "-r", filepath.Join(testenv.Shared(t, "fixtures", "maestro-updates", "cases"), "sourcelink-0074a21d83", "before"), seed).Run())
	require.NoError(t, bot.Init(ctx, seed, false))
	_, err := bot.CommitAll(ctx, seed, "initial")
	require.NoError(t, err)
	require.NoError(t, bot.Push(ctx, seed, target, "HEAD", "main", ""))

	const arcade = "https://github.com/dotnet/arcade"
	ch, err := reg.AddChannel(ctx, "dev", "")
	require.NoError(t, err)
	sub, err := reg.AddSubscription(ctx, maestro.Subscription{ChannelID: ch.ID, SourceRepository: arcade,
		TargetRepository: target, TargetBranch: "main", Enabled: true,
		Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild}})
	require.NoError(t, err)
	ids := 0
	svc := &service.Service{Registry: reg, Now: func() time.Time { return clock },
		Platform: func(string) (platform.Platform, error) { return plat, nil },
		Updater: &updater.Updater{Registry: reg, BotEmail: bot.Author.Email,
			Platform: func(string) (platform.Platform, error) { return plat, nil },
			Now:      func() time.Time { return clock },
			NewID:    func() string { ids++; return fmt.Sprint(ids) }}}
	publish := func(n int, version string) maestro.Build {
		res, err := reg.PublishBuild(ctx, maestro.Build{Repository: arcade, Branch: "main", Commit: fmt.Sprintf("%040d", n),
			AzureDevOpsBuildNumber: fmt.Sprintf("2019091%d.1", n),
			Assets:                 []maestro.Asset{{Name: "Microsoft.DotNet.Arcade.Sdk", Version: version}}}, registry.PublishOptions{})
		require.NoError(t, err)
		_, err = reg.AddBuildToChannel(ctx, res.Build.ID, ch.ID)
		require.NoError(t, err)
		return res.Build
	}
	show := func(rev, path string) string {
		data, err := bot.Show(ctx, target, rev, path)
		require.NoError(t, err)
		return string(data)
	}

	b1 := publish(1, "1.0.0-beta.19463.3")
	o, err := svc.Trigger(ctx, service.TriggerRequest{SubscriptionID: sub.ID, BuildID: b1.ID})
	require.NoError(t, err)
	require.Equal(t, maestro.ResultUpdated, o.Result, o.Message)

	// The other process's commit is ready; a post-commit hook pushes it at
	// the moment this update has committed and not yet pushed.
	race := filepath.Join(root, "other")
	require.NoError(t, bot.Clone(ctx, target, race, "darc-main-1"))
	require.NoError(t, os.WriteFile(filepath.Join(race, "other.txt"), []byte("other\n"), 0o644))
	_, err = bot.CommitAll(ctx, race, "Another update")
	require.NoError(t, err)
	theirs, err := bot.RevParse(ctx, race, "HEAD")
	require.NoError(t, err)
	hooks := filepath.Join(root, "hooks")
	require.NoError(t, os.MkdirAll(hooks, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(hooks, "post-commit"), []byte("#!/bin/sh\n"+
		"[ -n \"$MAESTRO_TEST_RACE\" ] || exit 0\n"+
		"cd \"$MAESTRO_TEST_RACE\" && exec git -c core.hooksPath=/dev/null push --quiet origin HEAD:refs/heads/darc-main-1\n"), 0o755))
	config := filepath.Join(root, "gitconfig")
	require.NoError(t, os.WriteFile(config, []byte("[core]\n\thooksPath = "+hooks+"\n"), 0o644))
	t.Setenv("GIT_CONFIG_GLOBAL", config)
	t.Setenv("MAESTRO_TEST_RACE", race)

	b2 := publish(2, "1.0.0-beta.19464.1")
	o, err = svc.Trigger(ctx, service.TriggerRequest{SubscriptionID: sub.ID, BuildID: b2.ID})
	require.NoError(t, err)
	assert.Equal(t, maestro.ResultRescheduled, o.Result, o.Message)
	assert.Contains(t, o.Message, "moved while Maestro++ prepared this dependency update")
	assert.NotEmpty(t, o.PullRequestURL)
	head, err := bot.RevParse(ctx, target, "darc-main-1")
	require.NoError(t, err)
	assert.Equal(t, theirs, head, "the other push stays")
	pr, err := reg.PullRequest(ctx, target, 1)
	require.NoError(t, err)
	assert.Contains(t, pr.Body, "moved while Maestro++ prepared this dependency update", "the pull request says why")
	st, _, err := reg.FlowState(ctx, sub.ID)
	require.NoError(t, err)
	require.NotNil(t, st.Pending, "the lost race is kept as pending work")
	assert.Equal(t, b2.ID, st.Pending.BuildID)
	assert.Equal(t, "race", st.Pending.Reason)
	assert.Equal(t, 1, st.Pending.Attempts)
	require.True(t, st.Pending.NextAttempt.After(clock), "with backoff")

	// The race is over; the next tick after the backoff lands the update.
	t.Setenv("MAESTRO_TEST_RACE", "")
	clock = st.Pending.NextAttempt
	outcomes, err := svc.Tick(ctx, clock)
	require.NoError(t, err)
	require.Len(t, outcomes, 1)
	assert.Equal(t, maestro.ResultUpdated, outcomes[0].Result, outcomes[0].Message)
	assert.Equal(t, b2.ID, outcomes[0].BuildID)
	assert.Contains(t, show("darc-main-1", "global.json"), "1.0.0-beta.19464.1", "the update landed")
	assert.Equal(t, "other\n", show("darc-main-1", "other.txt"), "on top of the other push")
	parent, err := bot.RevParse(ctx, target, "darc-main-1^")
	require.NoError(t, err)
	assert.Equal(t, theirs, parent, "the retry started from the branch's new head")
	st, _, err = reg.FlowState(ctx, sub.ID)
	require.NoError(t, err)
	assert.Nil(t, st.Pending, "the work is done")
	tracked, _, err := reg.TrackedPullRequest(ctx, target, "main", sub.ID)
	require.NoError(t, err)
	require.NotNil(t, tracked)
	require.Len(t, tracked.Updates, 1)
	assert.Equal(t, b2.ID, tracked.Updates[0].BuildID)
	history, err := reg.Outcomes(ctx, registry.OutcomeFilter{SubscriptionID: sub.ID, BuildID: b2.ID})
	require.NoError(t, err)
	require.Len(t, history, 2)
	assert.Equal(t, []maestro.FlowResult{maestro.ResultRescheduled, maestro.ResultUpdated}, []maestro.FlowResult{history[0].Result, history[1].Result})
}
