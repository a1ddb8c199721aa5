package github

import (
	"context"
	"fmt"

	gh "github.com/google/go-github/v60/github"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
)

// Status implements platform.Platform: the pull request's state (StateOf),
// whether auto-merge is on (auto_merge set), its head commit, the check runs and commit statuses on it, its reviews and its commits
// (https://docs.github.com/rest/checks/runs#list-check-runs-for-a-git-reference,
// https://docs.github.com/rest/commits/statuses#get-the-combined-status-for-a-specific-reference,
// https://docs.github.com/rest/pulls/reviews#list-reviews-for-a-pull-request,
// https://docs.github.com/rest/pulls/pulls#list-commits-on-a-pull-request).
func (p *Platform) Status(ctx context.Context, pr maestro.PullRequest) (platform.Status, error) {
	owner, name, err := p.ownerRepo(pr.Repository)
	if err != nil {
		return platform.Status{}, err
	}
	cur, _, err := p.client.PullRequests.Get(ctx, owner, name, pr.Number)
	if err != nil {
		return platform.Status{}, wrap(fmt.Sprintf("pull request %s#%d", pr.Repository, pr.Number), err)
	}
	head, state := cur.GetHead().GetSHA(), StateOf(cur)
	if state != maestro.PullRequestOpen {
		return platform.Status{State: state, HeadCommit: head, Checks: []platform.Check{}, Reviews: []platform.Review{}, Commits: []platform.Commit{}}, nil
	}
	var runs []*gh.CheckRun
	for page := 1; page != 0; {
		res, resp, err := p.client.Checks.ListCheckRunsForRef(ctx, owner, name, head, &gh.ListCheckRunsOptions{ListOptions: gh.ListOptions{PerPage: 100, Page: page}})
		if err != nil {
			return platform.Status{}, wrap("check runs of "+cur.GetHTMLURL(), err)
		}
		runs, page = append(runs, res.CheckRuns...), resp.NextPage
	}
	var statuses []*gh.RepoStatus
	for page := 1; page != 0; {
		res, resp, err := p.client.Repositories.GetCombinedStatus(ctx, owner, name, head, &gh.ListOptions{PerPage: 100, Page: page})
		if err != nil {
			return platform.Status{}, wrap("statuses of "+cur.GetHTMLURL(), err)
		}
		statuses, page = append(statuses, res.Statuses...), resp.NextPage
	}
	var reviews []*gh.PullRequestReview
	for page := 1; page != 0; {
		res, resp, err := p.client.PullRequests.ListReviews(ctx, owner, name, pr.Number, &gh.ListOptions{PerPage: 100, Page: page})
		if err != nil {
			return platform.Status{}, wrap("reviews of "+cur.GetHTMLURL(), err)
		}
		reviews, page = append(reviews, res...), resp.NextPage
	}
	var commits []*gh.RepositoryCommit
	for page := 1; page != 0; {
		res, resp, err := p.client.PullRequests.ListCommits(ctx, owner, name, pr.Number, &gh.ListOptions{PerPage: 100, Page: page})
		if err != nil {
			return platform.Status{}, wrap("commits of "+cur.GetHTMLURL(), err)
		}
		commits, page = append(commits, res...), resp.NextPage
	}
	s := StatusOf(head, runs, statuses, reviews, commits)
	s.State, s.AutoMerge = state, cur.AutoMerge != nil
	return s, nil
}

// StatusOf turns what GitHub answers about an open pull request into a
// platform.Status (State open; Status sets AutoMerge): check runs
// (completed with success, neutral or skipped is success, any other
// conclusion a failure, not completed pending), the combined status's
// latest status per context (error and failure are failures), submitted
// reviews in order (a pending review, not yet submitted, is left out) and
// the commits with their authors.
func StatusOf(head string, runs []*gh.CheckRun, statuses []*gh.RepoStatus, reviews []*gh.PullRequestReview, commits []*gh.RepositoryCommit) platform.Status {
	s := platform.Status{State: maestro.PullRequestOpen, HeadCommit: head, Checks: ChecksOf(runs, statuses), Reviews: []platform.Review{}, Commits: []platform.Commit{}}
	for _, r := range reviews {
		var state platform.ReviewState
		switch r.GetState() {
		case "APPROVED":
			state = platform.ReviewApproved
		case "CHANGES_REQUESTED":
			state = platform.ReviewChangesRequested
		case "COMMENTED":
			state = platform.ReviewCommented
		case "DISMISSED":
			state = platform.ReviewDismissed
		default:
			continue
		}
		s.Reviews = append(s.Reviews, platform.Review{Reviewer: r.GetUser().GetLogin(), State: state, URL: r.GetHTMLURL()})
	}
	for _, c := range commits {
		s.Commits = append(s.Commits, platform.Commit{SHA: c.GetSHA(), AuthorName: c.GetCommit().GetAuthor().GetName(),
			AuthorEmail: c.GetCommit().GetAuthor().GetEmail(), AuthorLogin: c.GetAuthor().GetLogin()})
	}
	return s
}

// ChecksOf turns check runs and commit statuses into checks.
func ChecksOf(runs []*gh.CheckRun, statuses []*gh.RepoStatus) []platform.Check {
	checks := []platform.Check{}
	for _, r := range runs {
		state := platform.CheckPending
		if r.GetStatus() == "completed" {
			switch r.GetConclusion() {
			case "success", "neutral", "skipped":
				state = platform.CheckSuccess
			default:
				state = platform.CheckFailure
			}
		}
		checks = append(checks, platform.Check{Name: r.GetName(), State: state, URL: r.GetHTMLURL()})
	}
	for _, st := range statuses {
		state := platform.CheckPending
		switch st.GetState() {
		case "success":
			state = platform.CheckSuccess
		case "failure", "error":
			state = platform.CheckFailure
		}
		checks = append(checks, platform.Check{Name: st.GetContext(), State: state, URL: st.GetTargetURL()})
	}
	return checks
}
