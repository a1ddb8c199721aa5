package service

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/flow"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/mirror"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// Health gathers what flow.Health judges — every subscription with its
// history, flow state and its source's newest assets; every tracked pull
// request with its checks; every target branch's dependencies — and, with
// lim.MirrorAge, what mirror.Health judges (each mirrored branch's history back to
// its last settled run, mirror.Settled), and
// returns the problems. It reads everything (unlike tick) and clones every target.
func (s *Service) Health(ctx context.Context, now time.Time, lim flow.HealthLimits) ([]flow.Problem, error) {
	subs, err := s.Registry.Subscriptions(ctx, registry.SubscriptionFilter{})
	if err != nil {
		return nil, err
	}
	var shs []flow.SubscriptionHealth
	type target struct{ repo, branch, dir string }
	var targets []target
	for _, sub := range subs {
		sh := flow.SubscriptionHealth{Subscription: sub}
		if sh.Outcomes, err = s.Registry.Outcomes(ctx, registry.OutcomeFilter{SubscriptionID: sub.ID}); err != nil {
			return nil, err
		}
		st, _, err := s.Registry.FlowState(ctx, sub.ID)
		if err != nil {
			return nil, err
		}
		if p := st.Pending; p != nil {
			sh.PendingSince, sh.PendingReason, sh.PendingBuild = p.Since, p.Reason, p.BuildID
		}
		b, err := s.Registry.LatestBuild(ctx, sub.SourceRepository, sub.ChannelID)
		if err != nil && maestro.KindOf(err) != maestro.KindNotFound {
			return nil, err
		}
		for _, a := range b.Assets {
			sh.Assets = append(sh.Assets, a.Name)
		}
		shs = append(shs, sh)
		t := target{sub.TargetRepository, sub.TargetBranch, sub.TargetDirectory}
		if sub.Enabled && !slices.ContainsFunc(targets, func(o target) bool {
			return repourl.Equal(o.repo, t.repo) && o.branch == t.branch && o.dir == t.dir
		}) {
			targets = append(targets, t)
		}
	}
	tracked, err := s.Registry.TrackedPullRequests(ctx)
	if err != nil {
		return nil, err
	}
	var prs []flow.PullRequestHealth
	var problems []flow.Problem
	for _, t := range tracked {
		ph := flow.PullRequestHealth{Tracked: t}
		p, err := s.Platform(t.PullRequest.Repository)
		if err == nil {
			var cur maestro.PullRequest
			if cur, err = p.PullRequest(ctx, t.PullRequest.Repository, t.PullRequest.Number); err == nil {
				if cur.State != maestro.PullRequestOpen {
					continue // merged or closed: the next update stops tracking it
				}
				if cur.CreatedAt.IsZero() {
					cur.CreatedAt = t.PullRequest.CreatedAt
				}
				ph.Tracked.PullRequest = cur
				var checks []platform.Check
				if checks, err = p.Checks(ctx, cur); err == nil {
					for _, c := range checks {
						if c.State == platform.CheckFailure {
							ph.Failing = append(ph.Failing, c.Name)
						}
					}
				}
			}
		}
		if err != nil {
			if err := cutShort(ctx, "health: read pull request "+t.PullRequest.URL, err); err != nil {
				return nil, err
			}
			problems = append(problems, unreadable(t.PullRequest.Repository, t.PullRequest.BaseBranch, fmt.Sprintf("pull request %s", t.PullRequest.URL), err))
			continue
		}
		prs = append(prs, ph)
	}
	var ths []flow.TargetHealth
	for _, t := range targets {
		listing, err := s.targetDependencies(ctx, maestro.Subscription{TargetRepository: t.repo, TargetBranch: t.branch, TargetDirectory: t.dir})
		if err != nil {
			if err := cutShort(ctx, fmt.Sprintf("health: read the dependencies of %s (%s)", t.repo, t.branch), err); err != nil {
				return nil, err
			}
			problems = append(problems, unreadable(t.repo, t.branch, "the dependencies", err))
			continue
		}
		ths = append(ths, flow.TargetHealth{Repository: t.repo, Branch: t.branch, Directory: t.dir, Listing: listing})
	}
	problems = append(flow.Health(now, lim, shs, prs, ths), problems...)
	if lim.MirrorAge > 0 {
		mirrors, err := s.Registry.Mirrors(ctx)
		if err != nil {
			return nil, err
		}
		var history []maestro.MirrorOutcome
		for _, m := range mirrors {
			h, err := s.Registry.RecentMirrorOutcomes(ctx, m.SourceRepository, func(o maestro.MirrorOutcome) bool { return mirror.Settled(m, o) })
			if err != nil {
				return nil, err
			}
			history = append(history, h...)
		}
		problems = append(problems, mirror.Health(now, lim.MirrorAge, mirrors, history)...)
	}
	return problems, nil
}

// ProblemUnreadable: health could not read something it checks.
const ProblemUnreadable = "unreadable"

func unreadable(repo, branch, what string, err error) flow.Problem {
	return flow.Problem{Kind: ProblemUnreadable, Repository: repo, Branch: branch,
		Message: fmt.Sprintf("could not read %s: %s", what, strings.ReplaceAll(err.Error(), "\n", " ")),
		Action:  "check the host's credentials and that the repository and branch exist"}
}
