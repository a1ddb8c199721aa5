package platform

import "github.com/maestroplusplus/maestro/internal/maestro"

// Status is what a host reports about a pull request for the merge policies
// (package policy) to judge: its state, its head commit, the checks on that
// commit, the reviews and the commits on its branch. A platform fills it
// from one read of the host per evaluation. For a pull request that is not
// open only State (and HeadCommit, where the host still gives it) is set:
// there is nothing left to judge, and the head branch may be gone.
type Status struct {
	// State is open, merged or closed, read in the same read as the rest.
	State maestro.PullRequestState `json:"state"`
	// AutoMerge reports whether the host will merge the pull request itself
	// once its own requirements are met (GitHub auto-merge, Azure DevOps
	// auto-complete; see AutoMerger). The local platform has none.
	AutoMerge bool `json:"autoMerge"`
	// HeadCommit is the commit the checks, reviews and commits belong to.
	HeadCommit string `json:"headCommit"`
	// Checks are GitHub check runs and commit statuses (the latest per
	// context), Azure DevOps pull request statuses (the latest per
	// genre/name) and branch-policy evaluations, or the local platform's
	// recorded checks. Policies that do not apply (Azure DevOps
	// "notApplicable") are left out.
	Checks []Check `json:"checks"`
	// Reviews are the reviews given, oldest first: GitHub reviews, Azure
	// DevOps reviewer votes (which have no order; one per reviewer).
	Reviews []Review `json:"reviews"`
	// Commits are the pull request's commits.
	Commits []Commit `json:"commits"`
}

// ReviewState is what a review says, in the hosts' common terms.
type ReviewState string

// Review states. GitHub's APPROVED, CHANGES_REQUESTED, COMMENTED and
// DISMISSED map one to one; Azure DevOps votes map 10 and 5 to approved, 0
// to commented, -5 (waiting for the author) and -10 (rejected) to changes
// requested.
const (
	ReviewApproved         ReviewState = "approved"
	ReviewChangesRequested ReviewState = "changesRequested"
	ReviewCommented        ReviewState = "commented"
	ReviewDismissed        ReviewState = "dismissed"
)

// Review is one review of a pull request.
type Review struct {
	// Reviewer identifies the person (a login, or an Azure DevOps unique
	// name); reviews by one reviewer share it.
	Reviewer string      `json:"reviewer"`
	State    ReviewState `json:"state"`
	// URL links the review or the pull request, when the host gives one.
	URL string `json:"url,omitempty"`
}

// Commit is one commit on a pull request's branch.
type Commit struct {
	SHA         string `json:"sha"`
	AuthorName  string `json:"authorName"`
	AuthorEmail string `json:"authorEmail"`
	// AuthorLogin is the host account the author's email belongs to
	// (GitHub), when the host knows it.
	AuthorLogin string `json:"authorLogin,omitempty"`
}
