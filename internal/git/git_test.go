package git_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
)

func TestCloneCommitPushAuthors(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	alice := git.Runner{Author: git.Identity{Name: "Alice", Email: "alice@example.com"}}
	bot := git.Runner{Author: git.Identity{Name: "bot", Email: "bot@example.com"}}

	origin := filepath.Join(root, "origin.git")
	require.NoError(t, alice.Init(ctx, origin, true))
	seed := filepath.Join(root, "seed")
	require.NoError(t, alice.Init(ctx, seed, false))
	require.NoError(t, os.WriteFile(filepath.Join(seed, "a.txt"), []byte("one\r\n"), 0o644))
	committed, err := alice.CommitAll(ctx, seed, "first")
	require.NoError(t, err)
	assert.True(t, committed)
	require.NoError(t, alice.Push(ctx, seed, origin, "HEAD", "main", ""))

	work := filepath.Join(root, "work")
	require.NoError(t, bot.Clone(ctx, origin, work, "main"))
	base, err := bot.RevParse(ctx, work, "HEAD")
	require.NoError(t, err)
	require.NoError(t, bot.CheckoutNew(ctx, work, "darc-main-1"))
	committed, err = bot.CommitAll(ctx, work, "nothing")
	require.NoError(t, err)
	assert.False(t, committed, "no change, no commit")
	require.NoError(t, os.WriteFile(filepath.Join(work, "a.txt"), []byte("two\r\n"), 0o644))
	_, err = bot.CommitAll(ctx, work, "Update dependencies")
	require.NoError(t, err)
	require.NoError(t, bot.Push(ctx, work, "origin", "HEAD", "darc-main-1", ""))

	head, err := bot.RemoteHead(ctx, work, "origin", "darc-main-1")
	require.NoError(t, err)
	local, err := bot.RevParse(ctx, work, "HEAD")
	require.NoError(t, err)
	assert.Equal(t, local, head)
	_, err = bot.RemoteHead(ctx, work, "origin", "nope")
	assert.True(t, errors.Is(err, git.ErrNotFound))

	authors, err := bot.Authors(ctx, work, base, head)
	require.NoError(t, err)
	assert.Equal(t, []string{"bot@example.com"}, authors)
	data, err := bot.Show(ctx, origin, "darc-main-1", "a.txt")
	require.NoError(t, err)
	assert.Equal(t, "two\r\n", string(data), "line endings kept")

	// A force push with a stale lease is refused.
	require.NoError(t, os.WriteFile(filepath.Join(work, "a.txt"), []byte("three\n"), 0o644))
	_, err = bot.CommitAll(ctx, work, "again")
	require.NoError(t, err)
	assert.Error(t, bot.Push(ctx, work, "origin", "HEAD", "darc-main-1", base), "lease on the wrong old head")
	assert.NoError(t, bot.Push(ctx, work, "origin", "HEAD", "darc-main-1", head))
}
