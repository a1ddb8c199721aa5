package github_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/platform/github"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

func TestInstallationToken(t *testing.T) {
	ctx := context.Background()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	srv := githubdouble.NewServer(t)
	srv.AddApp("maestro-app", 42, &key.PublicKey, 7)
	srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"README.md": "x\n"}})
	base := srv.Client("")

	tok, err := github.InstallationToken(ctx, base, github.App{ID: 42, InstallationID: 7, Key: key}, time.Now())
	require.NoError(t, err)
	user, _, err := srv.Client(tok).Users.Get(ctx, "")
	require.NoError(t, err)
	assert.Equal(t, "maestro-app[bot]", user.GetLogin(), "the token acts as the app")

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, err = github.InstallationToken(ctx, base, github.App{ID: 42, InstallationID: 7, Key: other}, time.Now())
	assert.ErrorContains(t, err, "401", "a token signed with another key")
	_, err = github.InstallationToken(ctx, base, github.App{ID: 42, InstallationID: 8, Key: key}, time.Now())
	assert.ErrorContains(t, err, "404", "another installation")
}
