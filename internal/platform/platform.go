// Package platform defines the one interface the flow needs of a git host
// with pull requests. Implementations live in sub-packages: local (plain git
// repositories on disk, the embedded default), github and azdo.
package platform

import (
	"context"
	"errors"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// ErrNotFound is returned (wrapped) for a repository or pull request that
// does not exist.
var ErrNotFound = errors.New("not found")

// ErrMergeRefused is returned (wrapped, with the host's reason) by Merge on
// GitHub when the host refuses to merge the pull request as it stands: 405
// for branch protection (a required check failing, pending or missing,
// reviews missing, a head behind its base) or a conflict, 409 for a head
// that moved. The pull request is left open and unchanged; the merge may
// succeed once the reason is gone. Such errors are of kind
// maestro.KindConflict.
var ErrMergeRefused = errors.New("the host refused the merge")

// CheckState is the state of one check (a CI status, a check run, a policy).
type CheckState = maestro.CheckState

// Check states.
const (
	CheckPending = maestro.CheckPending
	CheckSuccess = maestro.CheckSuccess
	CheckFailure = maestro.CheckFailure
)

// Check is one status reported on a pull request's head commit.
type Check = maestro.Check

// Platform is a git host with pull requests.
//
// Contract:
//   - CloneURL returns what git clones from and pushes to for repo; Git
//     returns a runner that carries the host's credentials.
//   - OpenPullRequest returns the open pull request from head into base, or
//     nil when there is none.
//   - CreatePullRequest opens pr (Repository, Title, Body, HeadBranch,
//     BaseBranch) and returns it with Number, URL and State set.
//   - PullRequest returns the current state of one pull request, or an error
//     wrapping ErrNotFound.
//   - UpdatePullRequest replaces title and body.
//   - Checks lists the checks on the pull request's head commit.
//   - Comment adds a comment; Merge merges (on GitHub, a refusal wraps
//     ErrMergeRefused).
//   - DeleteBranch removes a branch; a branch that does not exist (deleted
//     already, by a person or by the host when the pull request closed) is
//     success, not an error.
type Platform interface {
	CloneURL(repo string) (string, error)
	Git() git.Runner
	OpenPullRequest(ctx context.Context, repo, head, base string) (*maestro.PullRequest, error)
	CreatePullRequest(ctx context.Context, pr maestro.PullRequest) (maestro.PullRequest, error)
	PullRequest(ctx context.Context, repo string, number int) (maestro.PullRequest, error)
	UpdatePullRequest(ctx context.Context, pr maestro.PullRequest) error
	Checks(ctx context.Context, pr maestro.PullRequest) ([]Check, error)
	Comment(ctx context.Context, pr maestro.PullRequest, body string) error
	Merge(ctx context.Context, pr maestro.PullRequest, message string) error
	DeleteBranch(ctx context.Context, repo, branch string) error
}
