package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/store/local"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// gitHubFlow is a flow service over the GitHub double, with one everyBuild
// subscription into dotnet/runtime; the service and the double share a clock
// that the test moves.
type gitHubFlow struct {
	ctx   context.Context
	clock *githubdouble.Clock
	srv   *githubdouble.Server
	repo  *githubdouble.Repo
	reg   *registry.Registry
	svc   *service.Service
	sub   maestro.Subscription
	ch    maestro.Channel
}

func newGitHubFlow(t *testing.T) *gitHubFlow {
	return newGitHubFlowWith(t, githubdouble.RepoSpec{})
}

// newGitHubFlowWith is newGitHubFlow with the target's merge settings
// taken from spec.
func newGitHubFlowWith(t *testing.T, spec githubdouble.RepoSpec) *gitHubFlow {
	f := &gitHubFlow{ctx: context.Background(), clock: githubdouble.NewClock(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))}
	f.srv = githubdouble.NewServer(t, githubdouble.WithClock(f.clock.Now))
	spec.Owner, spec.Name = "dotnet", "runtime"
	spec.Files = map[string]string{
		"eng/Version.Details.xml": "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Dependencies>\n  <ToolsetDependencies>\n" +
			"    <Dependency Name=\"Microsoft.DotNet.Arcade.Sdk\" Version=\"9.0.0-beta.1\">\n      <Uri>https://github.com/dotnet/arcade</Uri>\n" +
			"      <Sha>0000000000000000000000000000000000000001</Sha>\n    </Dependency>\n  </ToolsetDependencies>\n</Dependencies>\n",
		"global.json": "{\n  \"msbuild-sdks\": {\n    \"Microsoft.DotNet.Arcade.Sdk\": \"9.0.0-beta.1\"\n  }\n}\n",
	}
	f.repo = f.srv.AddRepo(spec)
	f.reg = registry.New(must(local.Open(t.TempDir())), registry.WithClock(f.clock.Now))
	environ := map[string]string{"GITHUB_TOKEN": githubdouble.DefaultToken, wire.EnvGitHubURL: f.srv.URL(), wire.EnvAllowHTTPLoopback: "true"}
	f.svc = wire.Env{Getenv: func(k string) string { return environ[k] }, Now: f.clock.Now}.Service(f.reg)
	var err error
	f.ch, err = f.reg.AddChannel(f.ctx, "dev", "")
	require.NoError(t, err)
	f.sub, err = f.reg.AddSubscription(f.ctx, maestro.Subscription{ChannelID: f.ch.ID, Enabled: true, SourceRepository: "https://github.com/dotnet/arcade",
		TargetRepository: f.srv.URL() + "/dotnet/runtime", TargetBranch: "main", Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild}})
	require.NoError(t, err)
	return f
}

// publish records Arcade build n and flows it; it returns the outcome.
func (f *gitHubFlow) publish(t *testing.T, n int) maestro.FlowOutcome {
	res, err := f.reg.PublishBuild(f.ctx, maestro.Build{Repository: "https://github.com/dotnet/arcade", Branch: "main", Commit: sha(n),
		AzureDevOpsBuildNumber: "2026." + sha(n)[:4],
		Assets:                 []maestro.Asset{{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "10.0.0-beta." + sha(n)[39:]}}}, registry.PublishOptions{Channels: []int{f.ch.ID}})
	require.NoError(t, err)
	triggered := f.svc.FlowBuild(f.ctx, res.Build, []int{f.ch.ID})
	require.Len(t, triggered, 1)
	return triggered[0].Outcome
}

// tick advances the shared clock by d and ticks.
func (f *gitHubFlow) tick(t *testing.T, d time.Duration) []maestro.FlowOutcome {
	f.clock.Advance(d)
	outcomes, err := f.svc.Tick(f.ctx, f.clock.Now())
	require.NoError(t, err)
	return outcomes
}

func (f *gitHubFlow) pending(t *testing.T) *registry.PendingWork {
	st, _, err := f.reg.FlowState(f.ctx, f.sub.ID)
	require.NoError(t, err)
	return st.Pending
}

// TestSecondaryRateLimitWaitsAndNeverDropsTheUpdate: GitHub's secondary rate
// limit (403 with Retry-After) refuses more attempts in a row than
// MaxAttempts allows failures: each one is pending work with reason
// rate-limit, due exactly Retry-After later, counted apart from failures,
// never run before it is due; the update lands at the first attempt the
// host lets through, and no message carries the token.
func TestSecondaryRateLimitWaitsAndNeverDropsTheUpdate(t *testing.T) {
	f := newGitHubFlow(t)
	refusals := service.MaxAttempts + 2
	// go-github refuses requests itself while a secondary limit it saw
	// lasts on the wall clock, but every attempt builds its own client.
	retryAfter := 30 * time.Second
	f.srv.TripSecondaryRateLimit(refusals, retryAfter)
	start := f.clock.Now()

	o := f.publish(t, 1)
	require.Equal(t, maestro.ResultRescheduled, o.Result, o.Message)
	assert.Contains(t, o.Message, "secondary rate limit")
	p := f.pending(t)
	require.NotNil(t, p)
	assert.Equal(t, "rate-limit", p.Reason)
	assert.Equal(t, 0, p.Attempts, "a rate limit is no failed attempt")
	assert.Equal(t, 1, p.RateLimited)
	assert.Equal(t, start.Add(retryAfter), p.NextAttempt, "the host's Retry-After")

	for i := 2; i <= refusals; i++ {
		assert.Empty(t, f.tick(t, 0), "not due before Retry-After")
		outcomes := f.tick(t, retryAfter)
		require.Len(t, outcomes, 1)
		assert.Equal(t, maestro.ResultRescheduled, outcomes[0].Result, outcomes[0].Message)
		p = f.pending(t)
		require.NotNil(t, p, "refusal %d keeps the update", i)
		assert.Equal(t, i, p.RateLimited)
		assert.Equal(t, 0, p.Attempts)
		assert.Equal(t, f.clock.Now().Add(retryAfter), p.NextAttempt)
	}
	assert.Empty(t, f.repo.PullRequests())

	outcomes := f.tick(t, retryAfter)
	require.Len(t, outcomes, 1)
	assert.Equal(t, maestro.ResultUpdated, outcomes[0].Result, outcomes[0].Message)
	assert.Nil(t, f.pending(t))
	prs := f.repo.PullRequests()
	require.Len(t, prs, 1)
	got, ok := f.repo.File(prs[0].GetHead().GetRef(), "global.json")
	require.True(t, ok)
	assert.Contains(t, got, "10.0.0-beta.1")

	history, err := f.svc.History(f.ctx, registry.OutcomeFilter{SubscriptionID: f.sub.ID})
	require.NoError(t, err)
	require.Len(t, history, refusals+1)
	for _, h := range history {
		assert.NotContains(t, h.Message, githubdouble.DefaultToken)
	}
}

// TestPrimaryRateLimitWaitsForTheReset: a spent primary budget (403,
// x-ratelimit-remaining 0) keeps the update pending until the window's
// reset, however long the host's budget stays spent; a failure after it
// counts from zero.
func TestPrimaryRateLimitWaitsForTheReset(t *testing.T) {
	f := newGitHubFlow(t)
	const budget = 20
	f.srv.SetRateLimit(budget)
	client := f.srv.Client(githubdouble.DefaultToken)
	for range budget { // another job of the same bot spends the hour's budget
		_, _, err := client.Users.Get(f.ctx, "")
		require.NoError(t, err)
	}
	start := f.clock.Now()

	o := f.publish(t, 1)
	require.Equal(t, maestro.ResultRescheduled, o.Result, o.Message)
	assert.Contains(t, o.Message, "API rate limit exceeded")
	assert.Contains(t, o.Message, "rate limited by the host")
	p := f.pending(t)
	require.NotNil(t, p)
	assert.Equal(t, "rate-limit", p.Reason)
	assert.Equal(t, start.Add(time.Hour), p.NextAttempt, "the window's reset")

	assert.Empty(t, f.tick(t, 59*time.Minute), "not before the reset")
	outcomes := f.tick(t, time.Minute)
	require.Len(t, outcomes, 1)
	assert.Equal(t, maestro.ResultUpdated, outcomes[0].Result, outcomes[0].Message)
	assert.Len(t, f.repo.PullRequests(), 1)
	assert.Nil(t, f.pending(t))
	for _, r := range f.srv.Requests() {
		if !r.Git && r.Status == 403 {
			assert.True(t, strings.HasSuffix(r.Path, "/pulls"), "only the first request of the refused attempt was sent: %s %s", r.Method, r.Path)
		}
	}
}
