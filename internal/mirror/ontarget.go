package mirror

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/maestroplusplus/maestro/internal/git"
)

// The ref OnTarget fetches the target branch into.
const checkRef = "refs/mirror/check"

// OnTarget reports whether commit is on branch of target: the branch
// exists and commit is its head or one of the head's ancestors. It asks
// the target itself, as a run does (m.Git's credentials): the branch's
// commits and trees, not its file contents, are fetched into a scratch
// bare repository (see git.Runner.FetchBranchCommits) and the commit
// looked up there. A branch that does not exist holds no commit; any other
// failure to read the target is an error, and then OnTarget does not know.
func (m Mirror) OnTarget(ctx context.Context, target, branch, commit string) (bool, error) {
	if err := CheckBranch(branch); err != nil {
		return false, err
	}
	g := m.Git
	head, err := g.RemoteHead(ctx, "", target, branch)
	if errors.Is(err, git.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read branch %s of %s: %w", branch, target, err)
	}
	if head == commit {
		return true, nil
	}
	scratch, err := os.MkdirTemp(m.TempDir, "maestro-mirror-check-")
	if err != nil {
		return false, fmt.Errorf("mirror: scratch repository: %w", err)
	}
	defer os.RemoveAll(scratch)
	repo := filepath.Join(scratch, "repo.git")
	if err := g.Init(ctx, repo, true); err != nil {
		return false, fmt.Errorf("mirror: scratch repository: %w", err)
	}
	if err := g.FetchBranchCommits(ctx, repo, target, branch, checkRef); err != nil {
		return false, fmt.Errorf("fetch the commits of branch %s of %s: %w", branch, target, err)
	}
	has, err := g.HasCommit(ctx, repo, commit)
	if err != nil || !has {
		return false, err
	}
	on, err := g.IsAncestor(ctx, repo, commit, checkRef)
	if err != nil {
		return false, fmt.Errorf("is %s on branch %s of %s: %w", short(commit), branch, target, err)
	}
	return on, nil
}
