package local_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/platform/local"
	"github.com/maestroplusplus/maestro/internal/platform/platformtest"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

func TestConformance(t *testing.T) {
	platformtest.Run(t, func(t *testing.T) platformtest.Fixture {
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
	})
}
