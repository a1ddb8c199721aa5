package flow_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/flow"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

func TestHealthFindsEachProblemOnce(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	lim := flow.HealthLimits{Failures: 2, PullRequestAge: 7 * 24 * time.Hour, PendingAge: 24 * time.Hour, Unused: 2}
	sub := func(id, source, target string) maestro.Subscription {
		return maestro.Subscription{ID: id, Enabled: true, SourceRepository: source, TargetRepository: target, TargetBranch: "main"}
	}
	outcomes := func(rs ...maestro.FlowResult) []maestro.FlowOutcome {
		var os []maestro.FlowOutcome
		for _, r := range rs {
			os = append(os, maestro.FlowOutcome{Result: r, Message: "host said no"})
		}
		return os
	}
	subs := []flow.SubscriptionHealth{
		{Subscription: sub("failing", "https://github.com/o/a", "https://github.com/o/t"), Outcomes: outcomes("updated", "failure", "failure")},
		{Subscription: sub("recovered", "https://github.com/o/b", "https://github.com/o/t"), Outcomes: outcomes("failure", "updated", "failure")},
		{Subscription: sub("unused", "https://github.com/o/c", "https://github.com/o/t"), Outcomes: outcomes("no-update", "no-update")},
		{Subscription: sub("pending", "https://github.com/o/d", "https://github.com/o/t"), PendingSince: now.Add(-25 * time.Hour), PendingReason: "checks", PendingBuild: 9},
		{Subscription: sub("fresh-pending", "https://github.com/o/e", "https://github.com/o/t"), PendingSince: now.Add(-time.Hour), PendingReason: "checks"},
		{Subscription: sub("x1", "https://github.com/o/x1", "https://github.com/o/u"), Assets: []string{"Shared.Pkg", "X1.Pkg"}},
		{Subscription: sub("x2", "https://github.com/o/x2", "https://github.com/o/u"), Assets: []string{"shared.pkg", "Other.Pkg"}},
		{Subscription: maestro.Subscription{ID: "x3", SourceRepository: "https://github.com/o/x3", TargetRepository: "https://github.com/o/u", TargetBranch: "main", ExcludedAssets: []string{"Shared.*"}, Enabled: true}, Assets: []string{"Shared.Pkg"}},
		{Subscription: sub("ab", "https://github.com/o/cyc-a", "https://github.com/o/cyc-b")},
		{Subscription: sub("ba", "https://github.com/o/cyc-b", "https://github.com/O/cyc-a.git")},
		{Subscription: maestro.Subscription{ID: "disabled", SourceRepository: "https://github.com/o/cyc-b", TargetRepository: "https://github.com/o/a", TargetBranch: "main"}, Outcomes: outcomes("failure", "failure")},
	}
	prs := []flow.PullRequestHealth{
		{Tracked: maestro.TrackedPullRequest{PullRequest: maestro.PullRequest{Repository: "https://github.com/o/t", Number: 1, URL: "https://github.com/o/t/pull/1", BaseBranch: "main", CreatedAt: now.Add(-8 * 24 * time.Hour)}}},
		{Tracked: maestro.TrackedPullRequest{PullRequest: maestro.PullRequest{Repository: "https://github.com/o/u", Number: 2, URL: "https://github.com/o/u/pull/2", BaseBranch: "main", CreatedAt: now.Add(-time.Hour)}}, Failing: []string{"build"}},
	}
	targets := []flow.TargetHealth{{Repository: "https://github.com/o/t", Branch: "main", Listing: &deps.Listing{Dependencies: []deps.Dependency{
		{Name: "A.Pkg", URI: "https://github.com/o/a"},
		{Name: "M.Pkg", URI: "https://github.com/o/missing"},
		{Name: "M.Other", URI: "https://github.com/o/missing"},
		{Name: "Pinned.Pkg", URI: "https://github.com/o/pinned", Pinned: true},
		{Name: "Child.Pkg", URI: "https://github.com/o/child", CoherentParent: "A.Pkg"},
	}}}}
	got := flow.Health(now, lim, subs, prs, targets)
	kinds := map[string][]string{}
	for _, p := range got {
		assert.NotEmpty(t, p.Action, p.Kind)
		kinds[p.Kind] = append(kinds[p.Kind], p.Message)
	}
	for _, k := range []string{flow.ProblemFailing, flow.ProblemUnused, flow.ProblemPending, flow.ProblemStalePR, flow.ProblemFailedPR, flow.ProblemMissing, flow.ProblemConflicting, flow.ProblemCycle} {
		assert.Len(t, kinds[k], 1, "%s: %v", k, kinds[k])
	}
	assert.Len(t, got, 8)
	assert.Contains(t, kinds[flow.ProblemMissing][0], "https://github.com/o/missing")
	assert.Contains(t, kinds[flow.ProblemCycle][0], "cyc-a")
	assert.Contains(t, kinds[flow.ProblemFailing][0], "host said no")

	healthy := flow.Health(now, lim, subs[1:2], nil, nil)
	assert.Empty(t, healthy)
}
