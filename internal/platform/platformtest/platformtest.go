// Package platformtest is the conformance suite every platform.Platform
// passes: push a branch with the platform's git credentials, open a pull
// request, find, read, update and comment on it, read its checks and its
// status (state, head commit, commits and authors), refuse to merge a head
// the policies did not judge, squash-merge the judged head as one commit
// with the message given, delete its branch, and report it merged.
package platformtest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
)

// Fixture is a platform with a repository whose main branch holds README.md.
type Fixture struct {
	Platform platform.Platform
	Repo     string
}

// Run runs the suite; newFixture makes a fresh repository per call.
func Run(t *testing.T, newFixture func(t *testing.T) Fixture) {
	t.Run("pull request lifecycle", func(t *testing.T) {
		ctx := context.Background()
		f := newFixture(t)
		p := f.Platform
		g := p.Git()
		url, err := p.CloneURL(f.Repo)
		require.NoError(t, err)

		work := filepath.Join(t.TempDir(), "work")
		require.NoError(t, g.Clone(ctx, url, work, "main"))
		require.NoError(t, g.CheckoutNew(ctx, work, "darc-main-suite"))
		require.NoError(t, os.WriteFile(filepath.Join(work, "eng.txt"), []byte("updated\n"), 0o644))
		_, err = g.CommitAll(ctx, work, "Update dependencies")
		require.NoError(t, err)
		require.NoError(t, g.Push(ctx, work, "origin", "HEAD", "darc-main-suite", ""))

		none, err := p.OpenPullRequest(ctx, f.Repo, "darc-main-suite", "main")
		require.NoError(t, err)
		assert.Nil(t, none)

		pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: f.Repo, Title: "[main] Update dependencies from dotnet/arcade",
			Body: "body", HeadBranch: "darc-main-suite", BaseBranch: "main"})
		require.NoError(t, err)
		assert.Positive(t, pr.Number)
		assert.NotEmpty(t, pr.URL)
		assert.Equal(t, maestro.PullRequestOpen, pr.State)
		_, err = p.CreatePullRequest(ctx, maestro.PullRequest{Repository: f.Repo, Title: "again", HeadBranch: "darc-main-suite", BaseBranch: "main"})
		assert.Error(t, err, "a second open pull request from the same branch")

		open, err := p.OpenPullRequest(ctx, f.Repo, "darc-main-suite", "main")
		require.NoError(t, err)
		require.NotNil(t, open)
		assert.Equal(t, pr.Number, open.Number)

		pr.Title, pr.Body = "[main] Update dependencies from 2 repositories", "new body"
		require.NoError(t, p.UpdatePullRequest(ctx, pr))
		got, err := p.PullRequest(ctx, f.Repo, pr.Number)
		require.NoError(t, err)
		assert.Equal(t, "[main] Update dependencies from 2 repositories", got.Title)
		assert.Contains(t, got.Body, "new body")
		assert.Equal(t, "darc-main-suite", got.HeadBranch)
		assert.Equal(t, "main", got.BaseBranch)

		require.NoError(t, p.Comment(ctx, got, "a comment"))
		_, err = p.Checks(ctx, got)
		require.NoError(t, err)

		head, err := g.RevParse(ctx, work, "HEAD")
		require.NoError(t, err)
		st, err := p.Status(ctx, got)
		require.NoError(t, err)
		assert.Equal(t, head, st.HeadCommit, "the head commit")
		require.Len(t, st.Commits, 1, "the pull request's one commit")
		assert.Equal(t, head, st.Commits[0].SHA)
		assert.Equal(t, g.Author.Email, st.Commits[0].AuthorEmail, "the commit's author")
		assert.NotNil(t, st.Checks)
		assert.Empty(t, st.Reviews)

		assert.Equal(t, maestro.PullRequestOpen, st.State)
		assert.False(t, st.AutoMerge, "nothing asked the host to merge")

		// A commit lands on the branch after the policies judged head: the
		// merge of the judged head is refused and nothing changes.
		base, err := g.RemoteHead(ctx, work, "origin", "main")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(work, "more.txt"), []byte("pushed after the judgement\n"), 0o644))
		_, err = g.CommitAll(ctx, work, "A later commit")
		require.NoError(t, err)
		require.NoError(t, g.Push(ctx, work, "origin", "HEAD", "darc-main-suite", ""))
		later, err := g.RevParse(ctx, work, "HEAD")
		require.NoError(t, err)
		const message = "[main] Update dependencies from dotnet/arcade\n\nFrom build 20261205.1 of dotnet/arcade."
		err = p.Merge(ctx, got, platform.MergeOptions{Head: head, Message: message})
		require.ErrorIs(t, err, platform.ErrMergeRefused, "a stale head")
		assert.Equal(t, maestro.KindConflict, maestro.KindOf(err))
		still, err := p.PullRequest(ctx, f.Repo, pr.Number)
		require.NoError(t, err)
		assert.Equal(t, maestro.PullRequestOpen, still.State, "the refused pull request stays open")
		now, err := g.RemoteHead(ctx, work, "origin", "main")
		require.NoError(t, err)
		assert.Equal(t, base, now, "nothing merged")
		now, err = g.RemoteHead(ctx, work, "origin", "darc-main-suite")
		require.NoError(t, err)
		assert.Equal(t, later, now, "the head branch stays")
		err = p.Merge(ctx, got, platform.MergeOptions{Message: message})
		assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err), "the judged head is required: %v", err)

		// The new head judged, the merge squashes it into one commit on main.
		st, err = p.Status(ctx, got)
		require.NoError(t, err)
		require.Equal(t, later, st.HeadCommit)
		require.NoError(t, p.Merge(ctx, got, platform.MergeOptions{Head: st.HeadCommit, Message: message}))
		merged, err := p.PullRequest(ctx, f.Repo, pr.Number)
		require.NoError(t, err)
		assert.Equal(t, maestro.PullRequestMerged, merged.State)
		check := filepath.Join(t.TempDir(), "check")
		require.NoError(t, g.Clone(ctx, url, check, "main"))
		data, err := os.ReadFile(filepath.Join(check, "eng.txt"))
		require.NoError(t, err)
		assert.Equal(t, "updated\n", string(data), "the merge reached main")
		_, err = os.Stat(filepath.Join(check, "more.txt"))
		require.NoError(t, err, "the judged head's changes, all of them")
		onMain, err := g.Commits(ctx, check, base, "HEAD")
		require.NoError(t, err)
		require.Len(t, onMain, 1, "one squash commit on main")
		parent, err := g.RevParse(ctx, check, "HEAD^")
		require.NoError(t, err)
		assert.Equal(t, base, parent, "a squash commit, on main's old head")
		_, err = g.RevParse(ctx, check, "HEAD^2")
		assert.ErrorIs(t, err, git.ErrNotFound, "not a merge commit")
		assert.Equal(t, message, commitMessage(t, check, "HEAD"))
		_, err = g.RemoteHead(ctx, check, "origin", "darc-main-suite")
		assert.True(t, errors.Is(err, git.ErrNotFound), "the head branch is deleted: %v", err)

		st, err = p.Status(ctx, got)
		require.NoError(t, err, "the status of a merged pull request whose branch is gone")
		assert.Equal(t, maestro.PullRequestMerged, st.State)
		assert.Empty(t, st.Checks)
		assert.Empty(t, st.Commits)
		err = p.Merge(ctx, got, platform.MergeOptions{Head: later, Message: message})
		assert.ErrorIs(t, err, platform.ErrMergeRefused, "a merged pull request does not merge again")

		require.NoError(t, p.DeleteBranch(ctx, f.Repo, "darc-main-suite"), "a branch deleted already is success")

		_, err = p.PullRequest(ctx, f.Repo, 99999)
		assert.True(t, errors.Is(err, platform.ErrNotFound), "unknown pull request: %v", err)
		_, err = p.Status(ctx, maestro.PullRequest{Repository: f.Repo, Number: 99999})
		assert.True(t, errors.Is(err, platform.ErrNotFound), "status of an unknown pull request: %v", err)
	})
}

// commitMessage is the message of commit rev in the repository at dir,
// without its trailing newline.
func commitMessage(t *testing.T, dir, rev string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", dir, "log", "-1", "--format=%B", "--end-of-options", rev).Output()
	require.NoError(t, err)
	return strings.TrimRight(string(out), "\n")
}
