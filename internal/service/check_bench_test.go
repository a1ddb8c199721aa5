package service_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/policy"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/store/local"
)

// recorded is a host whose pull request states were read before: Status
// answers them from memory and counts the calls. Any other call panics (the
// embedded interface is nil): an evaluation of a cached state makes none.
type recorded struct {
	platform.Platform
	states map[int]platform.Status
	calls  atomic.Int64
}

func (r *recorded) Status(_ context.Context, pr maestro.PullRequest) (platform.Status, error) {
	r.calls.Add(1)
	return r.states[pr.Number], nil
}

const prTarget = "https://github.com/dotnet/runtime"

// trackedFleet is a registry with n subscriptions into dotnet/runtime, each
// with an open pull request whose head has a commit by a person, so
// NoExtraCommits fails decisively, and that result kept from an earlier
// evaluation.
func trackedFleet(tb testing.TB, dir string, n int, opts ...local.Option) (*service.Service, *recorded) {
	ctx := context.Background()
	reg := registry.New(must(local.Open(dir, opts...)), registry.WithClock(func() time.Time { return now }))
	host := &recorded{states: fleetStates(n)}
	ch, err := reg.AddChannel(ctx, "dev", "")
	require.NoError(tb, err)
	policies := []maestro.MergePolicy{{Name: maestro.PolicyNoExtraCommits}}
	for i := 1; i <= n; i++ {
		s, err := reg.AddSubscription(ctx, maestro.Subscription{ChannelID: ch.ID, Enabled: true,
			SourceRepository: fmt.Sprintf("https://github.com/dotnet/source%d", i), TargetRepository: prTarget, TargetBranch: "main",
			Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild, MergePolicies: policies}})
		require.NoError(tb, err)
		head := sha(i)
		pr := maestro.PullRequest{Repository: prTarget, Number: i, URL: fmt.Sprintf("%s/pull/%d", prTarget, i), HeadBranch: fmt.Sprintf("darc-main-%d", i),
			BaseBranch: "main", State: maestro.PullRequestOpen, CreatedAt: now.Add(-time.Hour)}
		_, err = reg.Track(ctx, prTarget, "main", s.ID, maestro.TrackedPullRequest{PullRequest: pr, HeadCommit: head,
			Updates: []maestro.SubscriptionUpdate{{SubscriptionID: s.ID, BuildID: i, SourceRepository: s.SourceRepository}}}, "")
		require.NoError(tb, err)
		_, err = reg.UpdatePolicyEvaluation(ctx, prTarget, "main", s.ID, func(e *registry.PolicyEvaluation, _ bool) error {
			*e = registry.PolicyEvaluation{Number: i, HeadCommit: head, FirstCheck: now.Add(-time.Hour), CacheKey: policy.CacheKey(policies, head),
				Policies: []maestro.PolicyResult{{Name: maestro.PolicyNoExtraCommits, State: maestro.CheckFailure, Message: "1 commit not by the bot"}},
				Merge:    registry.MergeWaiting}
			return nil
		})
		require.NoError(tb, err)
	}
	return checkService(reg, host), host
}

// checkService is the flow service on reg with host for every repository.
func checkService(reg *registry.Registry, host *recorded) *service.Service {
	svc := wire.Env{Getenv: func(string) string { return "" }, Now: func() time.Time { return now }}.Service(reg)
	svc.Platform = func(string) (platform.Platform, error) { return host, nil }
	return svc
}

// fleetStates are the host states trackedFleet records, for n pull requests.
func fleetStates(n int) map[int]platform.Status {
	states := map[int]platform.Status{}
	for i := 1; i <= n; i++ {
		states[i] = platform.Status{State: maestro.PullRequestOpen, HeadCommit: sha(i),
			Commits: []platform.Commit{{SHA: sha(i), AuthorName: "Octo Cat", AuthorEmail: "octocat@example.com"}}}
	}
	return states
}

// TestCachedEvaluationCallsTheHostOnce: evaluating pull requests whose
// decisive results are kept reads each one's state from the host once and
// calls nothing else; each is due again five minutes later, not before.
func TestCachedEvaluationCallsTheHostOnce(t *testing.T) {
	svc, host := trackedFleet(t, t.TempDir(), 20, local.WithoutSync())
	res, err := svc.CheckPullRequests(context.Background(), now, service.CheckRequest{})
	require.NoError(t, err)
	require.Len(t, res, 20)
	for _, r := range res {
		require.True(t, r.Cached, "#%d: %s", r.PullRequest.Number, r.Message)
		require.Equal(t, now.Add(5*time.Minute), r.NextCheck)
	}
	require.EqualValues(t, 20, host.calls.Load())
	res, err = svc.CheckPullRequests(context.Background(), now.Add(5*time.Minute-time.Second), service.CheckRequest{})
	require.NoError(t, err)
	require.Empty(t, res)
	require.EqualValues(t, 20, host.calls.Load())
}

// BenchmarkCheck1000CachedPullRequests: the decisions of one evaluation of
// 1,000 tracked pull requests whose states the host answers from memory
// (recorded) and whose decisive results are kept, on the local store as
// the binary opens it (fsync on every write) and without fsync. Goal: ≤ 200
// ms; host calls are reported per pull request.
func BenchmarkCheck1000CachedPullRequests(b *testing.B) {
	const n = 1000
	dir := b.TempDir()
	trackedFleet(b, dir, n, local.WithoutSync())
	at := now // every run is an hour after the one before: every pull request is due
	for _, sync := range []bool{true, false} {
		b.Run(fmt.Sprintf("fsync=%v", sync), func(b *testing.B) {
			var opts []local.Option
			if !sync {
				opts = append(opts, local.WithoutSync())
			}
			host := &recorded{states: fleetStates(n)}
			svc := checkService(registry.New(must(local.Open(dir, opts...)), registry.WithClock(func() time.Time { return now })), host)
			for b.Loop() {
				at = at.Add(time.Hour)
				res, err := svc.CheckPullRequests(context.Background(), at, service.CheckRequest{})
				if err != nil || len(res) != n || !res[0].Cached {
					b.Fatalf("%d results, error %v", len(res), err)
				}
			}
			b.ReportMetric(float64(host.calls.Load())/float64(b.N*n), "host-calls/pr")
		})
	}
}
