// Package local is the platform of plain git repositories on this machine,
// addressed by absolute path or file:// URL. A pull request is a branch in
// the target repository plus a record in the registry (`maestro pr list`),
// which also carries the pull request's checks (`maestro pr set-check`);
// merging it merges the branch into the base branch with git. Target
// repositories are best bare, like any shared remote: git refuses to update
// the branch a non-bare repository has checked out.
package local

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/registry"
)

var _ platform.Platform = (*Platform)(nil)

// Platform keeps pull requests in a registry.
type Platform struct {
	reg    *registry.Registry
	runner git.Runner
	now    func() time.Time
}

// Option configures a Platform.
type Option func(*Platform)

// WithClock sets the clock that check command runs are timed by.
func WithClock(now func() time.Time) Option { return func(p *Platform) { p.now = now } }

// New returns the local platform recording pull requests in reg; runner
// makes commits (merges) with its author.
func New(reg *registry.Registry, runner git.Runner, opts ...Option) *Platform {
	p := &Platform{reg: reg, runner: runner, now: time.Now}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Handles reports whether repo is a local repository: an absolute path or a
// file:// URL.
func Handles(repo string) bool {
	return strings.HasPrefix(repo, "file://") || filepath.IsAbs(repo)
}

// path returns the repository's directory.
func path(repo string) (string, error) {
	if strings.HasPrefix(repo, "file://") {
		u, err := url.Parse(repo)
		if err != nil {
			return "", fmt.Errorf("repository %q: %w", repo, err)
		}
		repo = u.Path
	}
	if !filepath.IsAbs(repo) {
		return "", fmt.Errorf("repository %q: the local platform needs an absolute path or a file:// URL", repo)
	}
	if _, err := os.Stat(repo); err != nil {
		return "", fmt.Errorf("repository %s: %w", repo, platform.ErrNotFound)
	}
	return repo, nil
}

// CloneURL implements platform.Platform.
func (p *Platform) CloneURL(repo string) (string, error) { return path(repo) }

// Git implements platform.Platform.
func (p *Platform) Git() git.Runner { return p.runner }

// OpenPullRequest implements platform.Platform.
func (p *Platform) OpenPullRequest(ctx context.Context, repo, head, base string) (*maestro.PullRequest, error) {
	prs, err := p.reg.PullRequests(ctx, repo)
	if err != nil {
		return nil, err
	}
	for _, pr := range prs {
		if pr.State == maestro.PullRequestOpen && pr.HeadBranch == head && pr.BaseBranch == base {
			return &pr, nil
		}
	}
	return nil, nil
}

// CreatePullRequest implements platform.Platform.
func (p *Platform) CreatePullRequest(ctx context.Context, pr maestro.PullRequest) (maestro.PullRequest, error) {
	dir, err := path(pr.Repository)
	if err != nil {
		return pr, err
	}
	if _, err := p.runner.RevParse(ctx, dir, "refs/heads/"+pr.HeadBranch); err != nil {
		return pr, fmt.Errorf("open pull request: branch %s is not in %s", pr.HeadBranch, dir)
	}
	if open, err := p.OpenPullRequest(ctx, pr.Repository, pr.HeadBranch, pr.BaseBranch); err != nil {
		return pr, err
	} else if open != nil {
		return pr, maestro.Errorf(maestro.KindConflict, "pull request #%d from %s into %s is open already", open.Number, pr.HeadBranch, pr.BaseBranch)
	}
	pr.State = maestro.PullRequestOpen
	pr, err = p.reg.CreatePullRequest(ctx, pr)
	if err != nil {
		return pr, err
	}
	return p.reg.UpdatePullRequest(ctx, pr.Repository, pr.Number, func(r *maestro.PullRequest) error {
		r.URL = fmt.Sprintf("file://%s#pull/%d", filepath.ToSlash(dir), r.Number)
		return nil
	})
}

// PullRequest implements platform.Platform.
func (p *Platform) PullRequest(ctx context.Context, repo string, number int) (maestro.PullRequest, error) {
	pr, err := p.reg.PullRequest(ctx, repo, number)
	if maestro.KindOf(err) == maestro.KindNotFound {
		return pr, fmt.Errorf("%w: %w", platform.ErrNotFound, err)
	}
	return pr, err
}

// UpdatePullRequest implements platform.Platform.
func (p *Platform) UpdatePullRequest(ctx context.Context, pr maestro.PullRequest) error {
	_, err := p.reg.UpdatePullRequest(ctx, pr.Repository, pr.Number, func(r *maestro.PullRequest) error {
		r.Title, r.Body = pr.Title, pr.Body
		return nil
	})
	return err
}

// Checks implements platform.Platform: the checks recorded on the pull
// request (`maestro pr set-check`), read afresh from the registry. Local
// repositories run no CI of their own; the checks belong to the pull
// request, not to its head commit, so a push does not reset them.
//
// The check command's run (RunChecks) is a check too, named
// maestro.CheckCommandName, while the commit it ran on is the head.
func (p *Platform) Checks(ctx context.Context, pr maestro.PullRequest) ([]platform.Check, error) {
	rec, err := p.PullRequest(ctx, pr.Repository, pr.Number)
	if err != nil {
		return nil, fmt.Errorf("checks of pull request #%d: %w", pr.Number, err)
	}
	checks := rec.Checks
	if run := rec.CheckRun; run != nil {
		dir, err := path(pr.Repository)
		if err != nil {
			return nil, err
		}
		head, err := p.runner.RevParse(ctx, dir, "refs/heads/"+rec.HeadBranch)
		if err != nil && !errors.Is(err, git.ErrNotFound) {
			return nil, fmt.Errorf("checks of pull request #%d: %w", pr.Number, err)
		}
		if head == run.Commit {
			checks = append(slices.Clone(checks), platform.Check{Name: maestro.CheckCommandName, State: run.State})
		}
	}
	return checks, nil
}

// Status implements platform.Platform: the pull request's state as
// recorded, no auto-merge (the local platform has none), the head branch's
// commit, the checks recorded on the pull request and the check command's
// run on the head commit (as Checks lists them), no reviews (local pull
// requests have none) and the commits of base..head with their authors.
func (p *Platform) Status(ctx context.Context, pr maestro.PullRequest) (platform.Status, error) {
	rec, err := p.PullRequest(ctx, pr.Repository, pr.Number)
	if err != nil {
		return platform.Status{}, fmt.Errorf("status of pull request #%d: %w", pr.Number, err)
	}
	dir, err := path(rec.Repository)
	if err != nil {
		return platform.Status{}, err
	}
	if rec.State == maestro.PullRequestOpen && rec.MergeCommit != "" {
		if rec, err = p.finishMerge(ctx, dir, rec); err != nil {
			return platform.Status{}, err
		}
	}
	head, err := p.runner.RevParse(ctx, dir, "refs/heads/"+rec.HeadBranch)
	if rec.State != maestro.PullRequestOpen {
		// Nothing left to judge; the head branch is gone after a merge.
		if err != nil {
			head = ""
		}
		return platform.Status{State: rec.State, HeadCommit: head, Checks: []platform.Check{}, Reviews: []platform.Review{}, Commits: []platform.Commit{}}, nil
	}
	if err != nil {
		return platform.Status{}, fmt.Errorf("status of pull request #%d: head branch %s: %w", pr.Number, rec.HeadBranch, err)
	}
	commits, err := p.runner.Commits(ctx, dir, "refs/heads/"+rec.BaseBranch, head)
	if err != nil {
		return platform.Status{}, fmt.Errorf("status of pull request #%d: commits: %w", pr.Number, err)
	}
	checks := append([]platform.Check{}, rec.Checks...)
	if run := rec.CheckRun; run != nil && run.Commit == head {
		checks = append(checks, platform.Check{Name: maestro.CheckCommandName, State: run.State})
	}
	s := platform.Status{State: maestro.PullRequestOpen, HeadCommit: head, Checks: checks, Reviews: []platform.Review{}, Commits: []platform.Commit{}}
	for _, c := range commits {
		s.Commits = append(s.Commits, platform.Commit{SHA: c.SHA, AuthorName: c.AuthorName, AuthorEmail: c.AuthorEmail})
	}
	return s, nil
}

// Comment implements platform.Platform: the comment is appended to the body
// under a rule, where `maestro pr show` prints it.
func (p *Platform) Comment(ctx context.Context, pr maestro.PullRequest, body string) error {
	_, err := p.reg.UpdatePullRequest(ctx, pr.Repository, pr.Number, func(r *maestro.PullRequest) error {
		r.Body += "\n\n---\n" + body
		return nil
	})
	return err
}

// Merge implements platform.Platform. In a scratch clone of the base
// branch, the changes of opts.Head — which must still be the head branch's
// commit in that clone — are squashed into one commit with opts.Message
// (git merge --squash), which is pushed to the base branch only if the base
// is still at the commit the clone read (a leased push). Then the pull
// request is marked merged and its head branch deleted.
//
// The squash commit is recorded on the pull request (MergeCommit) before
// the push, and the push is the commit point: if the process dies after
// it, the record still says open, and Status finds the recorded commit on
// the base branch and finishes the merge (marks it merged, deletes the
// branch). A merge that died before its push leaves a MergeCommit that is
// not on the base: the pull request is open, and the next Merge replaces
// it. (Merges of one pull request do not run at once: the flow service
// merges under the pull request's lease.)
func (p *Platform) Merge(ctx context.Context, pr maestro.PullRequest, opts platform.MergeOptions) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	dir, err := path(pr.Repository)
	if err != nil {
		return err
	}
	rec, err := p.PullRequest(ctx, pr.Repository, pr.Number)
	if err != nil {
		return fmt.Errorf("merge pull request #%d: %w", pr.Number, err)
	}
	op := fmt.Sprintf("merge pull request #%d of %s", rec.Number, rec.Repository)
	if rec.State != maestro.PullRequestOpen {
		return refused(op, fmt.Sprintf("the pull request is %s", rec.State), nil)
	}
	work, err := os.MkdirTemp("", "maestro-merge-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	clone := filepath.Join(work, "repo")
	if err := p.runner.Clone(ctx, dir, clone, rec.BaseBranch); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	head, err := p.runner.RevParse(ctx, clone, "refs/remotes/origin/"+rec.HeadBranch)
	switch {
	case errors.Is(err, git.ErrNotFound):
		return refused(op, fmt.Sprintf("its head branch %s is gone", rec.HeadBranch), err)
	case err != nil:
		return fmt.Errorf("%s: %w", op, err)
	case head != opts.Head:
		return refused(op, fmt.Sprintf("its head branch %s is at %s, not at %s, the commit the merge policies judged", rec.HeadBranch, head, opts.Head), nil)
	}
	base, err := p.runner.RevParse(ctx, clone, "HEAD")
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := p.runner.SquashMerge(ctx, clone, opts.Head, opts.Message); err != nil {
		if errors.Is(err, git.ErrConflict) {
			return refused(op, fmt.Sprintf("its changes conflict with %s", rec.BaseBranch), err)
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	squash, err := p.runner.RevParse(ctx, clone, "HEAD")
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if _, err := p.reg.UpdatePullRequest(ctx, rec.Repository, rec.Number, func(r *maestro.PullRequest) error {
		if r.State != maestro.PullRequestOpen {
			return refused(op, fmt.Sprintf("the pull request is %s", r.State), nil)
		}
		r.MergeCommit = squash
		return nil
	}); err != nil {
		return err
	}
	if err := p.runner.PushLeased(ctx, clone, "origin", "HEAD", rec.BaseBranch, base); err != nil {
		if errors.Is(err, git.ErrStale) {
			return refused(op, fmt.Sprintf("%s moved while the merge was made", rec.BaseBranch), err)
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	if _, err := p.reg.UpdatePullRequest(ctx, rec.Repository, rec.Number, func(r *maestro.PullRequest) error {
		r.State = maestro.PullRequestMerged
		return nil
	}); err != nil {
		return fmt.Errorf("%s: the change is on %s, but the pull request is not marked merged: %w", op, rec.BaseBranch, err)
	}
	if err := p.DeleteBranch(ctx, rec.Repository, rec.HeadBranch); err != nil {
		return fmt.Errorf("merged pull request #%d, but its head branch stays: %w", rec.Number, err)
	}
	return nil
}

// finishMerge completes the merge of rec if a process pushed its recorded
// MergeCommit to the base branch and died before marking the pull request
// merged; otherwise rec is returned as it is.
func (p *Platform) finishMerge(ctx context.Context, dir string, rec maestro.PullRequest) (maestro.PullRequest, error) {
	if _, err := p.runner.RevParse(ctx, dir, rec.MergeCommit); errors.Is(err, git.ErrNotFound) {
		return rec, nil // the merge died before its push
	}
	on, err := p.runner.IsAncestor(ctx, dir, rec.MergeCommit, "refs/heads/"+rec.BaseBranch)
	if err != nil {
		return rec, fmt.Errorf("pull request #%d: is its merge commit %.12s on %s: %w", rec.Number, rec.MergeCommit, rec.BaseBranch, err)
	}
	if !on {
		return rec, nil
	}
	rec, err = p.reg.UpdatePullRequest(ctx, rec.Repository, rec.Number, func(r *maestro.PullRequest) error {
		if r.MergeCommit == rec.MergeCommit {
			r.State = maestro.PullRequestMerged
		}
		return nil
	})
	if err != nil {
		return rec, fmt.Errorf("pull request #%d: mark the merge found on %s: %w", rec.Number, rec.BaseBranch, err)
	}
	if err := p.DeleteBranch(ctx, rec.Repository, rec.HeadBranch); err != nil {
		return rec, fmt.Errorf("merged pull request #%d, but its head branch stays: %w", rec.Number, err)
	}
	return rec, nil
}

// refused is a merge the local platform refuses: a maestro.KindConflict
// error wrapping platform.ErrMergeRefused (and err, when there is one).
func refused(op, reason string, err error) error {
	wrapped := platform.ErrMergeRefused
	if err != nil {
		wrapped = fmt.Errorf("%w: %w", platform.ErrMergeRefused, err)
	}
	return &maestro.Error{Kind: maestro.KindConflict, Msg: fmt.Sprintf("%s: refused: %s", op, reason), Err: wrapped}
}

// DeleteBranch implements platform.Platform; a branch that is gone, or goes
// while it is deleted, is success.
func (p *Platform) DeleteBranch(ctx context.Context, repo, branch string) error {
	dir, err := path(repo)
	if err != nil {
		return err
	}
	// The delete itself decides: a delete that fails on a branch that is
	// gone (before, or deleted by another process at the same time) is
	// success. One that failed on a branch still there (another delete held
	// the ref's lock) is tried again.
	for attempt := range deleteAttempts {
		if err = p.runner.DeleteBranch(ctx, dir, branch); err == nil {
			return nil
		}
		if _, rerr := p.runner.RevParse(ctx, dir, "refs/heads/"+branch); errors.Is(rerr, git.ErrNotFound) {
			return nil
		}
		if serr := sleep(ctx, time.Duration(attempt+1)*20*time.Millisecond); serr != nil {
			return serr
		}
	}
	return fmt.Errorf("delete branch %s of %s: %w; delete it by hand with `git -C %s branch -D %s`", branch, repo, err, dir, branch)
}

// deleteAttempts bounds how often DeleteBranch tries a branch that stays.
const deleteAttempts = 3

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

var _ platform.Closer = (*Platform)(nil)

// Close marks a pull request closed without merging it (platform.Closer).
func (p *Platform) Close(ctx context.Context, pr maestro.PullRequest) error {
	_, err := p.reg.UpdatePullRequest(ctx, pr.Repository, pr.Number, func(r *maestro.PullRequest) error {
		if r.State == maestro.PullRequestMerged {
			return maestro.Errorf(maestro.KindConflict, "close pull request #%d of %s: it merged", r.Number, r.Repository)
		}
		r.State = maestro.PullRequestClosed
		return nil
	})
	return err
}
