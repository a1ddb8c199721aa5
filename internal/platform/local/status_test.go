package local_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/platform/local"
	"github.com/maestroplusplus/maestro/internal/policy"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// TestStatusOfALocalPullRequest: the local platform reports the head
// branch's commit, the checks recorded on the pull request (`maestro pr
// set-check`), no reviews, and base..head's commits oldest first with their
// authors; the policies judge a failed check and a person's commit.
func TestStatusOfALocalPullRequest(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	reg := registry.New(mem.New())
	bot := git.Runner{Author: git.Identity{Name: "bot", Email: "bot@example.com"}}
	p := local.New(reg, bot)
	work := filepath.Join(t.TempDir(), "work")
	require.NoError(t, bot.Clone(ctx, f.Repo, work, "main"))
	require.NoError(t, bot.CheckoutNew(ctx, work, "darc-main-1"))
	require.NoError(t, os.WriteFile(filepath.Join(work, "eng.txt"), []byte("update\n"), 0o644))
	_, err := bot.CommitAll(ctx, work, "Update dependencies")
	require.NoError(t, err)
	first, err := bot.RevParse(ctx, work, "HEAD")
	require.NoError(t, err)
	person := git.Runner{Author: git.Identity{Name: "Ada", Email: "ada@example.com"}}
	require.NoError(t, os.WriteFile(filepath.Join(work, "eng.txt"), []byte("by hand\n"), 0o644))
	_, err = person.CommitAll(ctx, work, "fix by hand")
	require.NoError(t, err)
	head, err := bot.RevParse(ctx, work, "HEAD")
	require.NoError(t, err)
	require.NoError(t, bot.Push(ctx, work, "origin", "HEAD", "darc-main-1", ""))
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: f.Repo, Title: "t", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	_, err = reg.SetPullRequestCheck(ctx, f.Repo, pr.Number, maestro.Check{Name: "make test", State: maestro.CheckFailure})
	require.NoError(t, err)

	st, err := p.Status(ctx, pr)
	require.NoError(t, err)
	assert.Equal(t, platform.Status{State: maestro.PullRequestOpen, HeadCommit: head,
		Checks:  []platform.Check{{Name: "make test", State: platform.CheckFailure}},
		Reviews: []platform.Review{},
		Commits: []platform.Commit{{SHA: first, AuthorName: "bot", AuthorEmail: "bot@example.com"}, {SHA: head, AuthorName: "Ada", AuthorEmail: "ada@example.com"}},
	}, st)

	res := policy.Evaluate([]maestro.MergePolicy{{Name: maestro.PolicyAllChecksSuccessful}, {Name: maestro.PolicyNoExtraCommits}},
		policy.PullRequestState{Host: st, BotEmails: []string{"bot@example.com"}})
	assert.Equal(t, policy.Failure, res.Policies[0].Outcome)
	assert.Contains(t, res.Policies[0].Message, "- make test")
	assert.Equal(t, policy.Failure, res.Policies[1].Outcome)
	assert.True(t, res.Policies[1].Decisive)
	assert.Contains(t, res.Policies[1].Message, "by Ada <ada@example.com>")
}

// TestMergeRefusedOnConflict: a head whose changes conflict with the base
// is refused (platform.ErrMergeRefused, a conflict), and the pull request
// stays open with the base unmoved; closed, the pull request reports its
// state and nothing to judge.
func TestMergeRefusedOnConflict(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	bot := git.Runner{Author: git.Identity{Name: "bot", Email: "bot@example.com"}}
	p := local.New(registry.New(mem.New()), bot)
	work := filepath.Join(t.TempDir(), "work")
	require.NoError(t, bot.Clone(ctx, f.Repo, work, "main"))
	require.NoError(t, bot.CheckoutNew(ctx, work, "darc-main-1"))
	require.NoError(t, os.WriteFile(filepath.Join(work, "README.md"), []byte("from the branch\n"), 0o644))
	_, err := bot.CommitAll(ctx, work, "Update dependencies")
	require.NoError(t, err)
	require.NoError(t, bot.Push(ctx, work, "origin", "HEAD", "darc-main-1", ""))
	head, err := bot.RevParse(ctx, work, "HEAD")
	require.NoError(t, err)
	other := filepath.Join(t.TempDir(), "other")
	require.NoError(t, bot.Clone(ctx, f.Repo, other, "main"))
	require.NoError(t, os.WriteFile(filepath.Join(other, "README.md"), []byte("on main meanwhile\n"), 0o644))
	_, err = bot.CommitAll(ctx, other, "a change on main")
	require.NoError(t, err)
	require.NoError(t, bot.Push(ctx, other, "origin", "HEAD", "main", ""))
	base, err := bot.RemoteHead(ctx, other, "origin", "main")
	require.NoError(t, err)
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: f.Repo, Title: "t", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)

	err = p.Merge(ctx, pr, platform.MergeOptions{Head: head, Message: "Update dependencies"})
	require.ErrorIs(t, err, platform.ErrMergeRefused)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err))
	assert.Contains(t, err.Error(), "its changes conflict with main")
	now, err := bot.RemoteHead(ctx, other, "origin", "main")
	require.NoError(t, err)
	assert.Equal(t, base, now, "nothing merged")
	st, err := p.Status(ctx, pr)
	require.NoError(t, err)
	assert.Equal(t, maestro.PullRequestOpen, st.State)

	require.NoError(t, p.Close(ctx, pr))
	st, err = p.Status(ctx, pr)
	require.NoError(t, err)
	assert.Equal(t, platform.Status{State: maestro.PullRequestClosed, HeadCommit: head, Checks: []platform.Check{}, Reviews: []platform.Review{}, Commits: []platform.Commit{}}, st)
}

// TestMergeThatDiedAfterItsPushIsFinished: a merge records its squash
// commit before pushing it; a process that died after the push and before
// marking the pull request merged leaves it open with the commit on the
// base: Status finds it there, marks the pull request merged and deletes
// the branch. A recorded commit that never reached the base (the merge died
// before its push) leaves the pull request open and mergeable.
func TestMergeThatDiedAfterItsPushIsFinished(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	reg := registry.New(mem.New())
	bot := git.Runner{Author: git.Identity{Name: "bot", Email: "bot@example.com"}}
	p := local.New(reg, bot)
	work := filepath.Join(t.TempDir(), "work")
	require.NoError(t, bot.Clone(ctx, f.Repo, work, "main"))
	require.NoError(t, bot.CheckoutNew(ctx, work, "darc-main-1"))
	require.NoError(t, os.WriteFile(filepath.Join(work, "eng.txt"), []byte("update\n"), 0o644))
	_, err := bot.CommitAll(ctx, work, "Update dependencies")
	require.NoError(t, err)
	require.NoError(t, bot.Push(ctx, work, "origin", "HEAD", "darc-main-1", ""))
	head, err := bot.RevParse(ctx, work, "HEAD")
	require.NoError(t, err)
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: f.Repo, Title: "t", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)

	// A merge that died before its push: its commit is nowhere.
	_, err = reg.UpdatePullRequest(ctx, f.Repo, pr.Number, func(r *maestro.PullRequest) error {
		r.MergeCommit = strings.Repeat("d", 40)
		return nil
	})
	require.NoError(t, err)
	st, err := p.Status(ctx, pr)
	require.NoError(t, err)
	assert.Equal(t, maestro.PullRequestOpen, st.State)
	require.NoError(t, p.Merge(ctx, pr, platform.MergeOptions{Head: head, Message: "Update dependencies (#1)"}))

	// The same merge, as if it died after the push: the record says open
	// and the branch is still there.
	rec, err := reg.UpdatePullRequest(ctx, f.Repo, pr.Number, func(r *maestro.PullRequest) error {
		r.State = maestro.PullRequestOpen
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, rec.MergeCommit)
	require.NoError(t, bot.Push(ctx, work, "origin", "HEAD", "darc-main-1", ""))
	st, err = p.Status(ctx, pr)
	require.NoError(t, err)
	assert.Equal(t, maestro.PullRequestMerged, st.State, "the merge found on main")
	got, err := p.PullRequest(ctx, f.Repo, pr.Number)
	require.NoError(t, err)
	assert.Equal(t, maestro.PullRequestMerged, got.State, "and recorded")
	_, err = bot.RemoteHead(ctx, work, "origin", "darc-main-1")
	assert.ErrorIs(t, err, git.ErrNotFound, "branch deleted")
}
