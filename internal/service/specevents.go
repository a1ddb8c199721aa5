package service

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// SpeculativeEnded is what SpeculativeParentEnded did.
type SpeculativeEnded struct {
	// Due counts the open speculative pull requests below the pull
	// request (or that were it) made due.
	Due int
	// Advanced are the documents of the attempts made at once, as they
	// stand after them (state, what each waits for).
	Advanced []maestro.SpeculativePullRequest
	// Outcomes are the flow outcomes of those attempts.
	Outcomes []maestro.FlowOutcome
	// Failed are the attempts that failed; each document keeps its own
	// next attempt, which `flow tick` makes.
	Failed []error
}

// SpeculativeParentEnded is an event's answer to "pull request url merged
// or closed" (a GitHub pull_request closed webhook, an Azure DevOps
// git.pullrequest.updated or .merged service hook of a completed or
// abandoned pull request): every open speculative pull request below it
// (or that is it) is made due now (SpeculativeDue), and then each of them
// that is due is advanced at once, as `flow tick` would — children of a
// closed parent are closed, children of a merged parent move to its
// mainline build (or wait for it) — without waiting for the poll.
//
// Making them due is the commit point: it is written in each document (the
// flow service's pending work) before any attempt, so a process that dies
// after it leaves them due for the next `flow tick` of any process. The
// attempts are advance's, claimed under each document's ETag, so a tick or
// another event running at the same time works on each document once. An
// error is a failure to mark them due (the store): the caller retries the
// event; a failed attempt is in Failed and its document retries on its own.
func (s *Service) SpeculativeParentEnded(ctx context.Context, url string, now time.Time) (SpeculativeEnded, error) {
	var res SpeculativeEnded
	n, err := s.SpeculativeDue(ctx, url, now)
	res.Due = n
	if err != nil || n == 0 {
		return res, err
	}
	all, err := s.Registry.SpeculativePullRequests(ctx)
	if err != nil {
		return res, err
	}
	for _, sp := range all {
		below := slices.ContainsFunc(sp.Chain, func(u string) bool { return sameURL(u, url) })
		if sp.Ended() || sp.NextAttempt.After(now) || !below && !(sp.PullRequestURL != "" && sameURL(sp.PullRequestURL, url)) {
			continue
		}
		o, err := s.advance(ctx, sp, now)
		if o.SubscriptionID != "" {
			res.Outcomes = append(res.Outcomes, o)
		}
		if err != nil {
			res.Failed = append(res.Failed, fmt.Errorf("speculative pull request of subscription %s for %s: %w", sp.SubscriptionID, sp.Parent, err))
		}
		after, err := s.Registry.UpdateSpeculativePullRequest(ctx, sp.SubscriptionID, sp.Key, func(*maestro.SpeculativePullRequest, bool) error { return registry.ErrUnchanged })
		if err != nil {
			res.Failed = append(res.Failed, err)
			continue
		}
		res.Advanced = append(res.Advanced, after)
	}
	return res, nil
}
