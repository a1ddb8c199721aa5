package git

import "context"

// AddWorktree checks commit out, detached, in a new worktree dir of the
// repository at repo (bare or not); RemoveWorktree removes it.
func (r Runner) AddWorktree(ctx context.Context, repo, dir, commit string) error {
	_, err := r.run(ctx, repo, "worktree", "add", "--detach", "--end-of-options", dir, commit)
	return err
}

// RemoveWorktree removes a worktree AddWorktree made, whatever it holds.
func (r Runner) RemoveWorktree(ctx context.Context, repo, dir string) error {
	_, err := r.run(ctx, repo, "worktree", "remove", "--force", "--end-of-options", dir)
	return err
}
