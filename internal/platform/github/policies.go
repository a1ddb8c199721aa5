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

var _ platform.PolicyReporter = (*Platform)(nil)

// Merge policies are reported as production Maestro reports them: one check
// run per policy on the head commit, named platform.PolicyCheckPrefix +
// policy, created once and changed only when its state or message changes
// (https://docs.github.com/rest/checks/runs#create-a-check-run, #update-a-check-run).
// Only a GitHub App may write check runs (a personal access token gets 403
// "You must authenticate via a GitHub App."), so a platform made without
// AsApp reports commit statuses instead, with the same contract
// (policystatus.go).

// maxCheckOutput is the longest output summary or title GitHub takes, in
// characters (https://docs.github.com/rest/checks/runs#create-a-check-run:
// "output.summary ... Maximum length: 65535 characters").
const maxCheckOutput = 65535

// maxCheckTitle keeps a check run's output title to one short line.
const maxCheckTitle = 200

// runWant is what a policy's check run should show.
type runWant struct {
	status, conclusion, title, summary string
}

func want(r platform.PolicyResult) runWant {
	w := runWant{status: "completed", summary: r.Message}
	switch r.State {
	case platform.CheckPending:
		w.status = "in_progress"
	case platform.CheckSuccess:
		w.conclusion = "success"
	case platform.CheckFailure:
		w.conclusion = "failure"
	case platform.CheckSkipped:
		w.conclusion = "skipped"
	}
	if strings.TrimSpace(w.summary) == "" {
		w.summary = r.Name + ": " + string(r.State)
	}
	w.summary = prbody.Cut(w.summary, prbody.Limit{Max: maxCheckOutput, Unit: prbody.Characters}, "\n…")
	w.title, _, _ = strings.Cut(w.summary, "\n")
	w.title = prbody.Cut(w.title, prbody.Limit{Max: maxCheckTitle, Unit: prbody.Characters}, "…")
	return w
}

func have(run *gh.CheckRun) runWant {
	return runWant{status: run.GetStatus(), conclusion: run.GetConclusion(),
		title: run.GetOutput().GetTitle(), summary: run.GetOutput().GetSummary()}
}

// policyRuns lists the check runs on head that report our policies, by
// policy name (the latest run of each name: GitHub's default filter).
func (p *Platform) policyRuns(ctx context.Context, owner, name, head string) (map[string]*gh.CheckRun, error) {
	runs := map[string]*gh.CheckRun{}
	opts := &gh.ListCheckRunsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		page, resp, err := p.client.Checks.ListCheckRunsForRef(ctx, owner, name, head, opts)
		if err != nil {
			return nil, wrap(fmt.Sprintf("check runs of %s/%s at %s", owner, name, head), err)
		}
		for _, r := range page.CheckRuns {
			if policy, ok := strings.CutPrefix(r.GetName(), platform.PolicyCheckPrefix); ok {
				if _, seen := runs[policy]; !seen {
					runs[policy] = r
				}
			}
		}
		if resp.NextPage == 0 {
			return runs, nil
		}
		opts.Page = resp.NextPage
	}
}

// noLongerEvaluated is the message of a policy reported before and missing
// from the results now.
func noLongerEvaluated(policy string) string {
	return policy + " is no longer evaluated for this pull request."
}

// ReportPolicies implements platform.PolicyReporter. As a GitHub App
// (AsApp): a check run per policy on head, created once and patched only
// when what it shows changes; our runs for policies no longer evaluated are
// completed as skipped. With a person's token: a commit status per policy
// on head, posted only when its state or description differs from the
// latest one of its context (see reportStatuses).
func (p *Platform) ReportPolicies(ctx context.Context, pr maestro.PullRequest, head string, results []platform.PolicyResult) error {
	if err := platform.ValidatePolicyResults(results); err != nil {
		return err
	}
	owner, name, err := p.ownerRepo(pr.Repository)
	if err != nil {
		return err
	}
	if !p.app {
		return p.reportStatuses(ctx, pr, owner, name, head, results)
	}
	runs, err := p.policyRuns(ctx, owner, name, head)
	if err != nil {
		return err
	}
	evaluated := map[string]bool{}
	for _, r := range results {
		evaluated[r.Name] = true
		if err := p.showRun(ctx, owner, name, head, runs[r.Name], r); err != nil {
			return fmt.Errorf("report policy %s on %s: %w", r.Name, pr.URL, err)
		}
	}
	for policy, run := range runs {
		if evaluated[policy] {
			continue
		}
		if run.GetConclusion() == "skipped" {
			continue
		}
		skipped := platform.PolicyResult{Name: policy, State: platform.CheckSkipped, Message: noLongerEvaluated(policy)}
		if err := p.showRun(ctx, owner, name, head, run, skipped); err != nil {
			return fmt.Errorf("report policy %s skipped on %s: %w", policy, pr.URL, err)
		}
	}
	return nil
}

// showRun makes run (nil: none yet) show r.
func (p *Platform) showRun(ctx context.Context, owner, name, head string, run *gh.CheckRun, r platform.PolicyResult) error {
	w := want(r)
	if run != nil && have(run) == w {
		return nil
	}
	output := &gh.CheckRunOutput{Title: gh.String(w.title), Summary: gh.String(w.summary)}
	var conclusion *string
	if w.conclusion != "" {
		conclusion = gh.String(w.conclusion)
	}
	if run == nil {
		_, _, err := p.client.Checks.CreateCheckRun(ctx, owner, name, gh.CreateCheckRunOptions{
			Name: platform.PolicyCheckPrefix + r.Name, HeadSHA: head, Status: gh.String(w.status), Conclusion: conclusion, Output: output})
		if err != nil {
			return wrap("create check run", err)
		}
		return nil
	}
	_, _, err := p.client.Checks.UpdateCheckRun(ctx, owner, name, run.GetID(), gh.UpdateCheckRunOptions{
		Name: run.GetName(), Status: gh.String(w.status), Conclusion: conclusion, Output: output})
	if err != nil {
		return wrap("update check run", err)
	}
	return nil
}

// PolicyResults implements platform.PolicyReporter: our check runs on head
// as a GitHub App, our commit statuses (the latest of each context)
// otherwise.
func (p *Platform) PolicyResults(ctx context.Context, pr maestro.PullRequest, head string) ([]platform.PolicyResult, error) {
	owner, name, err := p.ownerRepo(pr.Repository)
	if err != nil {
		return nil, err
	}
	if !p.app {
		return p.statusResults(ctx, owner, name, head)
	}
	runs, err := p.policyRuns(ctx, owner, name, head)
	if err != nil {
		return nil, err
	}
	var out []platform.PolicyResult
	for policy, run := range runs {
		state := platform.CheckPending
		if run.GetStatus() == "completed" {
			switch run.GetConclusion() {
			case "success":
				state = platform.CheckSuccess
			case "skipped":
				state = platform.CheckSkipped
			default:
				state = platform.CheckFailure
			}
		}
		out = append(out, platform.PolicyResult{Name: policy, State: state, Message: run.GetOutput().GetSummary()})
	}
	slices.SortFunc(out, func(a, b platform.PolicyResult) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Notify implements platform.PolicyReporter: an issue comment that starts
// with platform.NotificationMarker(head), posted unless one is there. Two
// calls for one pull request at once could both post; the flow's checks
// call it under the pull request's lock.
func (p *Platform) Notify(ctx context.Context, pr maestro.PullRequest, head, body string) (bool, error) {
	owner, name, err := p.ownerRepo(pr.Repository)
	if err != nil {
		return false, err
	}
	marker := platform.NotificationMarker(head)
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		comments, resp, err := p.client.Issues.ListComments(ctx, owner, name, pr.Number, opts)
		if err != nil {
			return false, wrap("comments of "+pr.URL, err)
		}
		for _, c := range comments {
			if strings.HasPrefix(c.GetBody(), marker) {
				return false, nil
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if err := p.Comment(ctx, pr, marker+"\n"+body); err != nil {
		return false, err
	}
	return true, nil
}
