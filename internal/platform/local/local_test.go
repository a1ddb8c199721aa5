package local_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/platform/local"
	"github.com/maestroplusplus/maestro/internal/platform/platformtest"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

func TestConformance(t *testing.T) {
	platformtest.Run(t, newFixture)
}

func newFixture(t *testing.T) platformtest.Fixture {
	ctx := context.Background()
	g := git.Runner{Author: git.Identity{Name: "bot", Email: "bot@example.com"}}
	root := t.TempDir()
	bare := filepath.Join(root, "repo.git")
	require.NoError(t, g.Init(ctx, bare, true))
	seed := filepath.Join(root, "seed")
	require.NoError(t, g.Init(ctx, seed, false))
	require.NoError(t, os.WriteFile(filepath.Join(seed, "README.md"), []byte("hello\n"), 0o644))
	_, err := g.CommitAll(ctx, seed, "initial")
	require.NoError(t, err)
	require.NoError(t, g.Push(ctx, seed, bare, "HEAD", "main", ""))
	return platformtest.Fixture{Platform: local.New(registry.New(mem.New()), g), Repo: bare}
}

// TestDeleteBranchConcurrently: several processes deleting one branch at
// once all succeed (the one whose delete finds the branch gone under it too),
// and the branch is gone.
func TestDeleteBranchConcurrently(t *testing.T) {
	ctx := context.Background()
	g := git.Runner{Author: git.Identity{Name: "bot", Email: "bot@example.com"}}
	root := t.TempDir()
	bare := filepath.Join(root, "repo.git")
	require.NoError(t, g.Init(ctx, bare, true))
	seed := filepath.Join(root, "seed")
	require.NoError(t, g.Init(ctx, seed, false))
	require.NoError(t, os.WriteFile(filepath.Join(seed, "README.md"), []byte("hello\n"), 0o644))
	_, err := g.CommitAll(ctx, seed, "initial")
	require.NoError(t, err)
	const branches, deleters = 10, 6
	for i := range branches {
		require.NoError(t, g.Push(ctx, seed, bare, "HEAD", fmt.Sprintf("darc-main-%d", i), ""))
	}
	p := local.New(registry.New(mem.New()), g)
	for i := range branches {
		branch := fmt.Sprintf("darc-main-%d", i)
		errs := make(chan error, deleters)
		var start sync.WaitGroup
		start.Add(1)
		for range deleters {
			go func() {
				start.Wait()
				errs <- p.DeleteBranch(ctx, bare, branch)
			}()
		}
		start.Done()
		for range deleters {
			assert.NoError(t, <-errs, branch)
		}
		_, err := g.RevParse(ctx, bare, "refs/heads/"+branch)
		assert.ErrorIs(t, err, git.ErrNotFound, branch)
	}
}

// TestChecks: the checks are those recorded on the pull request now, not
// those of the copy the caller holds.
func TestChecks(t *testing.T) {
	ctx := context.Background()
	g := git.Runner{Author: git.Identity{Name: "bot", Email: "bot@example.com"}}
	root := t.TempDir()
	bare := filepath.Join(root, "repo.git")
	require.NoError(t, g.Init(ctx, bare, true))
	seed := filepath.Join(root, "seed")
	require.NoError(t, g.Init(ctx, seed, false))
	require.NoError(t, os.WriteFile(filepath.Join(seed, "README.md"), []byte("hello\n"), 0o644))
	_, err := g.CommitAll(ctx, seed, "initial")
	require.NoError(t, err)
	require.NoError(t, g.Push(ctx, seed, bare, "HEAD", "darc-main-1", ""))
	reg := registry.New(mem.New())
	p := local.New(reg, g)
	pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: bare, HeadBranch: "darc-main-1", BaseBranch: "main", Title: "t"})
	require.NoError(t, err)

	checks, err := p.Checks(ctx, pr)
	require.NoError(t, err)
	assert.Empty(t, checks, "no checks until one is set")
	_, err = reg.SetPullRequestCheck(ctx, bare, pr.Number, maestro.Check{Name: "build", State: maestro.CheckPending})
	require.NoError(t, err)
	checks, err = p.Checks(ctx, pr)
	require.NoError(t, err)
	assert.Equal(t, []platform.Check{{Name: "build", State: platform.CheckPending}}, checks)

	_, err = p.Checks(ctx, maestro.PullRequest{Repository: bare, Number: pr.Number + 1})
	assert.ErrorIs(t, err, platform.ErrNotFound)
}

func TestPolicyReporterConformance(t *testing.T) {
	platformtest.RunPolicyReporter(t, newFixture)
}

// TestNoNativeMerge: local repositories have no branch protection to
// honour, so the local platform merges directly and is no AutoMerger.
func TestNoNativeMerge(t *testing.T) {
	_, ok := newFixture(t).Platform.(platform.AutoMerger)
	assert.False(t, ok)
}
