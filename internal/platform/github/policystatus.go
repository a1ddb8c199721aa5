package github

import (
	"context"
	"fmt"
	"slices"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/prbody"
)

// With a person's token (no AsApp), merge policies are reported as commit
// statuses on the head commit
// (https://docs.github.com/rest/commits/statuses#create-a-commit-status):
// one context per policy, platform.PolicyCheckPrefix + policy, so that
// platform.IsPolicyCheck knows them and they never count as CI. The state is
// the policy's (pending, success or failure); the description is the first
// line of its message, cut to maxStatusDescription; there is no target URL.
// A policy no longer evaluated gets success with the description
// statusSkipped: a skipped check run counts as passing on GitHub, and a
// policy nobody evaluates should neither block a merge (pending) nor mark
// the pull request red (failure).
//
// Statuses are append-only and GitHub shows the latest of each context (the
// combined status lists exactly those), so a status is posted only when its
// state or description differs from that latest one: the same results
// reported again write nothing, which also keeps a context far below
// GitHub's 1,000 statuses per commit and context.

// maxStatusDescription is the longest commit status description GitHub
// takes, in characters: a longer one gets 422 "description is too long
// (maximum is 140 characters)" (the REST description states no maxLength).
const maxStatusDescription = 140

// statusSkipped is the description of the status of a policy no longer
// evaluated; its state is success. PolicyResults reads a success with this
// description back as platform.CheckSkipped.
const statusSkipped = "Skipped: no longer evaluated for this pull request."

// statusWant is what a policy's commit status should show.
type statusWant struct{ state, description string }

func wantStatus(r platform.PolicyResult) statusWant {
	var state string
	switch r.State {
	case platform.CheckSkipped:
		return statusWant{state: "success", description: statusSkipped}
	case platform.CheckPending:
		state = "pending"
	case platform.CheckSuccess:
		state = "success"
	case platform.CheckFailure:
		state = "failure"
	}
	msg := r.Message
	if strings.TrimSpace(msg) == "" {
		msg = r.Name + ": " + string(r.State)
	}
	line, _ := platform.SplitMessage(msg)
	return statusWant{state: state, description: prbody.Cut(line, prbody.Limit{Max: maxStatusDescription, Unit: prbody.Characters}, "…")}
}

// policyStatuses lists the latest status of each of our policy contexts on
// head, by policy name.
func (p *Platform) policyStatuses(ctx context.Context, owner, name, head string) (map[string]*gh.RepoStatus, error) {
	latest := map[string]*gh.RepoStatus{}
	opts := &gh.ListOptions{PerPage: 100}
	for {
		combined, resp, err := p.client.Repositories.GetCombinedStatus(ctx, owner, name, head, opts)
		if err != nil {
			return nil, wrap(fmt.Sprintf("commit statuses of %s/%s at %s", owner, name, head), err)
		}
		for _, st := range combined.Statuses {
			if policy, ok := strings.CutPrefix(st.GetContext(), platform.PolicyCheckPrefix); ok {
				latest[policy] = st
			}
		}
		if resp.NextPage == 0 {
			return latest, nil
		}
		opts.Page = resp.NextPage
	}
}

// reportStatuses is ReportPolicies with a person's token: results as commit
// statuses on head, and the policies reported before and missing from
// results as skipped, in name order.
func (p *Platform) reportStatuses(ctx context.Context, pr maestro.PullRequest, owner, name, head string, results []platform.PolicyResult) error {
	latest, err := p.policyStatuses(ctx, owner, name, head)
	if err != nil {
		return err
	}
	evaluated := map[string]bool{}
	for _, r := range results {
		evaluated[r.Name] = true
		if err := p.showStatus(ctx, owner, name, head, latest[r.Name], r); err != nil {
			return fmt.Errorf("report policy %s on %s: %w", r.Name, pr.URL, err)
		}
	}
	var missing []string
	for policy := range latest {
		if !evaluated[policy] {
			missing = append(missing, policy)
		}
	}
	slices.Sort(missing)
	for _, policy := range missing {
		skipped := platform.PolicyResult{Name: policy, State: platform.CheckSkipped, Message: noLongerEvaluated(policy)}
		if err := p.showStatus(ctx, owner, name, head, latest[policy], skipped); err != nil {
			return fmt.Errorf("report policy %s skipped on %s: %w", policy, pr.URL, err)
		}
	}
	return nil
}

// showStatus posts a status that shows r on head unless cur, the latest
// status of r's context (nil: none), shows it already.
func (p *Platform) showStatus(ctx context.Context, owner, name, head string, cur *gh.RepoStatus, r platform.PolicyResult) error {
	w := wantStatus(r)
	if cur != nil && cur.GetState() == w.state && cur.GetDescription() == w.description {
		return nil
	}
	_, _, err := p.client.Repositories.CreateStatus(ctx, owner, name, head, &gh.RepoStatus{
		State: gh.String(w.state), Description: gh.String(w.description), Context: gh.String(platform.PolicyCheckPrefix + r.Name)})
	if err != nil {
		return wrap("create commit status", err)
	}
	return nil
}

// statusResults is PolicyResults with a person's token: the latest status
// of each of our contexts on head, its description as the message (error
// is a failure; success with statusSkipped is skipped), sorted by name.
func (p *Platform) statusResults(ctx context.Context, owner, name, head string) ([]platform.PolicyResult, error) {
	latest, err := p.policyStatuses(ctx, owner, name, head)
	if err != nil {
		return nil, err
	}
	var out []platform.PolicyResult
	for policy, st := range latest {
		state := platform.CheckFailure
		switch st.GetState() {
		case "pending":
			state = platform.CheckPending
		case "success":
			state = platform.CheckSuccess
			if st.GetDescription() == statusSkipped {
				state = platform.CheckSkipped
			}
		}
		out = append(out, platform.PolicyResult{Name: policy, State: state, Message: st.GetDescription()})
	}
	slices.SortFunc(out, func(a, b platform.PolicyResult) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
