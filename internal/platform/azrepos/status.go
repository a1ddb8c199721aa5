package azrepos

import (
	"context"
	"fmt"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/policy"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
)

// Status implements platform.Platform: the pull request's state (completed
// is merged, abandoned closed), whether auto-complete is set
// (autoCompleteSetBy), its last merge source commit (its head), its statuses and branch-policy evaluations (ChecksOf),
// its reviewers' votes (read from the pull request itself) and its commits.
func (p *Platform) Status(ctx context.Context, pr maestro.PullRequest) (platform.Status, error) {
	project, name, err := p.split(pr.Repository)
	if err != nil {
		return platform.Status{}, err
	}
	c, err := p.client(ctx)
	if err != nil {
		return platform.Status{}, err
	}
	full, err := c.GetPullRequest(ctx, git.GetPullRequestArgs{Project: &project, RepositoryId: &name, PullRequestId: &pr.Number})
	if err != nil {
		return platform.Status{}, p.wrap(fmt.Sprintf("pull request %s#%d", pr.Repository, pr.Number), err)
	}
	var head string
	if full.LastMergeSourceCommit != nil {
		head = deref(full.LastMergeSourceCommit.CommitId)
	}
	state := p.fromAzDO(pr.Repository, full).State
	if state != maestro.PullRequestOpen {
		return platform.Status{State: state, HeadCommit: head, Checks: []platform.Check{}, Reviews: []platform.Review{}, Commits: []platform.Commit{}}, nil
	}
	statuses, evals, err := p.checkSources(ctx, c, project, name, full)
	if err != nil {
		return platform.Status{}, err
	}
	// The client sends no $top or continuation token: the service answers
	// its first page of commits, enough for a dependency pull request.
	res, err := c.GetPullRequestCommits(ctx, git.GetPullRequestCommitsArgs{Project: &project, RepositoryId: &name, PullRequestId: &pr.Number})
	if err != nil {
		return platform.Status{}, p.wrap("commits of "+deref(full.Url), err)
	}
	var reviewers []git.IdentityRefWithVote
	if full.Reviewers != nil {
		reviewers = *full.Reviewers
	}
	st := StatusOf(p.projectURL(project), head, statuses, evals, reviewers, res.Value)
	st.AutoMerge = autoCompleteSet(full)
	return st, nil
}

// StatusOf turns what Azure DevOps answers about an active pull request
// into a platform.Status (State open; Status sets AutoMerge): checks
// as ChecksOf makes them (projectURL is the project's web address), one review per reviewer that voted (10 and 5
// approve, -5 waiting for the author and -10 rejected request changes; a
// group's vote is its members' votes rolled up, so groups are left out)
// and the commits with their authors.
func StatusOf(projectURL, head string, statuses []git.GitPullRequestStatus, evals []policy.PolicyEvaluationRecord, reviewers []git.IdentityRefWithVote, commits []git.GitCommitRef) platform.Status {
	s := platform.Status{State: maestro.PullRequestOpen, HeadCommit: head, Checks: ChecksOf(projectURL, statuses, evals), Reviews: []platform.Review{}, Commits: []platform.Commit{}}
	for _, r := range reviewers {
		if r.IsContainer != nil && *r.IsContainer || r.Vote == nil || *r.Vote == 0 {
			continue
		}
		state := platform.ReviewApproved
		if *r.Vote < 0 {
			state = platform.ReviewChangesRequested
		}
		who := deref(r.UniqueName)
		if who == "" {
			who = deref(r.DisplayName)
		}
		if who == "" {
			who = deref(r.Id)
		}
		s.Reviews = append(s.Reviews, platform.Review{Reviewer: who, State: state})
	}
	for _, c := range commits {
		pc := platform.Commit{SHA: deref(c.CommitId)}
		if c.Author != nil {
			pc.AuthorName, pc.AuthorEmail = deref(c.Author.Name), deref(c.Author.Email)
		}
		s.Commits = append(s.Commits, pc)
	}
	return s
}
