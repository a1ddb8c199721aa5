package local

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/registry"
)

var _ platform.PolicyReporter = (*Platform)(nil)

// ReportPolicies implements platform.PolicyReporter: the results go into
// the pull request's record (Policies, for head commit PolicyHead; `maestro
// pr show` prints them). The record is one document written with
// compare-and-swap, so a report lands whole or not at all, and reporting
// the same results again writes nothing. A report for a new head commit
// replaces the last one; on the same head, policies missing from results
// stay as skipped.
func (p *Platform) ReportPolicies(ctx context.Context, pr maestro.PullRequest, head string, results []platform.PolicyResult) error {
	if err := platform.ValidatePolicyResults(results); err != nil {
		return err
	}
	next := slices.Clone(results)
	slices.SortFunc(next, func(a, b platform.PolicyResult) int { return strings.Compare(a.Name, b.Name) })
	_, err := p.reg.UpdatePullRequest(ctx, pr.Repository, pr.Number, func(r *maestro.PullRequest) error {
		want := next
		if r.PolicyHead == head {
			for _, old := range r.Policies {
				if !slices.ContainsFunc(next, func(n platform.PolicyResult) bool { return n.Name == old.Name }) {
					old.State, old.Message = platform.CheckSkipped, old.Name+" is no longer evaluated for this pull request."
					want = append(want, old)
				}
			}
			slices.SortFunc(want, func(a, b platform.PolicyResult) int { return strings.Compare(a.Name, b.Name) })
			if slices.Equal(want, r.Policies) {
				return registry.ErrUnchanged
			}
		}
		r.Policies, r.PolicyHead = slices.Clip(want), head
		return nil
	})
	if err != nil {
		return fmt.Errorf("report policies on pull request #%d of %s: %w", pr.Number, pr.Repository, err)
	}
	return nil
}

// PolicyResults implements platform.PolicyReporter.
func (p *Platform) PolicyResults(ctx context.Context, pr maestro.PullRequest, head string) ([]platform.PolicyResult, error) {
	rec, err := p.PullRequest(ctx, pr.Repository, pr.Number)
	if err != nil {
		return nil, err
	}
	if rec.PolicyHead != head {
		return nil, nil
	}
	return rec.Policies, nil
}

// Notify implements platform.PolicyReporter: the comment is appended to the
// body (as Comment does) and the head recorded as NotifiedHead in the same
// compare-and-swap write, so two processes notifying at once post once.
func (p *Platform) Notify(ctx context.Context, pr maestro.PullRequest, head, body string) (bool, error) {
	posted := false
	_, err := p.reg.UpdatePullRequest(ctx, pr.Repository, pr.Number, func(r *maestro.PullRequest) error {
		posted = false
		if r.NotifiedHead == head {
			return registry.ErrUnchanged
		}
		r.Body += "\n\n---\n" + platform.NotificationMarker(head) + "\n" + body
		r.NotifiedHead, posted = head, true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("notify on pull request #%d of %s: %w", pr.Number, pr.Repository, err)
	}
	return posted, nil
}
