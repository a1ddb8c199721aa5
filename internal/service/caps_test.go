package service_test

import (
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// cappedFlow is gitHubFlow with a second subscription from Arcade on
// another channel (its own pull request into the same branch) and caps on
// the target branch.
func cappedFlow(t *testing.T, maxOpen, perHour int) (*gitHubFlow, maestro.Subscription, maestro.Channel) {
	f := newGitHubFlow(t)
	require.NoError(t, f.reg.SetRepositoryPolicy(f.ctx, maestro.RepositoryBranchPolicy{Repository: f.sub.TargetRepository, Branch: "main",
		MergePolicies: []maestro.MergePolicy{}, MaxOpenPullRequests: maxOpen, MaxNewPullRequestsPerHour: perHour}))
	ch2, err := f.reg.AddChannel(f.ctx, "dev2", "")
	require.NoError(t, err)
	sub2, err := f.reg.AddSubscription(f.ctx, maestro.Subscription{ChannelID: ch2.ID, Enabled: true, SourceRepository: "https://github.com/dotnet/arcade",
		TargetRepository: f.sub.TargetRepository, TargetBranch: "main", Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild}})
	require.NoError(t, err)
	return f, sub2, ch2
}

// publishTo records Arcade build n in channel ch and flows it.
func (f *gitHubFlow) publishTo(t *testing.T, ch maestro.Channel, n int) maestro.FlowOutcome {
	res, err := f.reg.PublishBuild(f.ctx, maestro.Build{Repository: "https://github.com/dotnet/arcade", Branch: "main", Commit: sha(n),
		AzureDevOpsBuildNumber: "2026." + sha(n)[:4],
		Assets:                 []maestro.Asset{{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "10.0.0-beta." + sha(n)[39:]}}}, registry.PublishOptions{Channels: []int{ch.ID}})
	require.NoError(t, err)
	triggered := f.svc.FlowBuild(f.ctx, res.Build, []int{ch.ID})
	require.Len(t, triggered, 1)
	return triggered[0].Outcome
}

func (f *gitHubFlow) pendingOf(t *testing.T, id string) *registry.PendingWork {
	st, _, err := f.reg.FlowState(f.ctx, id)
	require.NoError(t, err)
	return st.Pending
}

// TestOpenPullRequestCap: with maxOpenPullRequests 1, a second
// subscription's update that would open a second pull request waits as
// pending work with reason "cap", polled every five minutes without
// counting attempts; an update of the open pull request is never capped.
func TestOpenPullRequestCap(t *testing.T) {
	f, sub2, ch2 := cappedFlow(t, 1, 0)
	o := f.publish(t, 1)
	require.Equal(t, maestro.ResultUpdated, o.Result, o.Message)

	o = f.publishTo(t, ch2, 2)
	require.Equal(t, maestro.ResultRescheduled, o.Result, o.Message)
	assert.Contains(t, o.Message, "has 1 open dependency-update pull requests, its cap (maxOpenPullRequests is 1)")
	p := f.pendingOf(t, sub2.ID)
	require.NotNil(t, p)
	assert.Equal(t, "cap", p.Reason)
	assert.Equal(t, 0, p.Attempts, "a cap is no failed attempt")
	assert.Equal(t, f.clock.Now().Add(5*time.Minute), p.NextAttempt)
	assert.Len(t, f.repo.PullRequests(), 1, "no second pull request")

	for range 6 { // more polls than MaxAttempts: the update is never dropped
		outcomes := f.tick(t, 5*time.Minute)
		require.Len(t, outcomes, 1)
		assert.Equal(t, maestro.ResultRescheduled, outcomes[0].Result)
	}
	assert.Equal(t, "cap", f.pendingOf(t, sub2.ID).Reason)

	o = f.publish(t, 3)
	assert.Equal(t, maestro.ResultUpdated, o.Result, "the open pull request is updated: %s", o.Message)
	assert.Len(t, f.repo.PullRequests(), 1)
}

// TestNewPullRequestsPerHourCap: with maxNewPullRequestsPerHour 1, a pull
// request opened (and merged) this hour holds the next new one back until
// the hour since it has passed, to the second; then the update opens its
// pull request.
func TestNewPullRequestsPerHourCap(t *testing.T) {
	f, sub2, ch2 := cappedFlow(t, 0, 1)
	start := f.clock.Now()
	require.Equal(t, maestro.ResultUpdated, f.publish(t, 1).Result)
	client := f.srv.Client(githubdouble.DefaultToken)
	_, _, err := client.PullRequests.Merge(f.ctx, "dotnet", "runtime", 1, "merge", &gh.PullRequestOptions{MergeMethod: "squash"})
	require.NoError(t, err)

	f.clock.Advance(10 * time.Minute)
	o := f.publishTo(t, ch2, 2)
	require.Equal(t, maestro.ResultRescheduled, o.Result, o.Message)
	assert.Contains(t, o.Message, "reached its cap of 1 new pull requests per hour (maxNewPullRequestsPerHour)")
	p := f.pendingOf(t, sub2.ID)
	require.NotNil(t, p)
	assert.Equal(t, "cap", p.Reason)
	assert.Equal(t, start.Add(time.Hour), p.NextAttempt, "when the hour since the first pull request ends")

	assert.Empty(t, f.tick(t, 49*time.Minute), "not due before")
	outcomes := f.tick(t, time.Minute)
	require.Len(t, outcomes, 1)
	assert.Equal(t, maestro.ResultUpdated, outcomes[0].Result, outcomes[0].Message)
	assert.Nil(t, f.pendingOf(t, sub2.ID))
	assert.Len(t, f.repo.PullRequests(), 2)
}
