package azrepos_test

import (
	"testing"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/platform/azrepos"
	"github.com/maestroplusplus/maestro/internal/platform/platformtest"
	"github.com/maestroplusplus/maestro/test/azdo"
)

func TestConformance(t *testing.T) {
	platformtest.Run(t, func(t *testing.T) platformtest.Fixture {
		srv := azdo.NewServer(t, azdo.WithPAT("pat"))
		project := srv.AddProject("internal")
		repo := srv.AddRepository(project, "dotnet-runtime")
		repo.Commit("main", map[string][]byte{"README.md": []byte("hello\n")}, "initial")
		p := azrepos.New(srv.OrganizationURL(), azuredevops.NewPatConnection(srv.OrganizationURL(), "pat"), "pat",
			git.Identity{Name: "maestro-bot", Email: "maestro-bot@example.com"})
		if !azrepos.Handles(srv.OrganizationURL(), repo.WebURL()) {
			t.Fatalf("Handles(%s, %s) = false", srv.OrganizationURL(), repo.WebURL())
		}
		return platformtest.Fixture{Platform: p, Repo: repo.WebURL()}
	})
}
