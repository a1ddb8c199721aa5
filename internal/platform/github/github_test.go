package github_test

import (
	"testing"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/platform/github"
	"github.com/maestroplusplus/maestro/internal/platform/platformtest"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

func TestConformance(t *testing.T) {
	platformtest.Run(t, func(t *testing.T) platformtest.Fixture {
		srv := githubdouble.NewServer(t)
		srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"README.md": "hello\n"}})
		p := github.New(srv.Client(githubdouble.DefaultToken), srv.URL(), githubdouble.DefaultToken,
			git.Identity{Name: "maestro-bot", Email: "maestro-bot@users.noreply.github.com"})
		return platformtest.Fixture{Platform: p, Repo: srv.URL() + "/dotnet/runtime"}
	})
}
