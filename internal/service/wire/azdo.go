package wire

import (
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// AzureDevOps connects to an organization (or Azure DevOps Server
// collection) that Hosts recognises, with MAESTRO_AZDO_TOKEN (a personal
// access token) or else the job's SYSTEM_ACCESSTOKEN: what the publish
// trigger of `maestro serve` reads builds and their artifacts with.
func (e Env) AzureDevOps(organization string) (*azuredevops.Connection, error) {
	hosts, err := ParseHosts(e.Getenv)
	if err != nil {
		return nil, err
	}
	org, err := hosts.Organization(organization)
	if err != nil {
		return nil, err
	}
	token, bearer := e.azdoToken()
	if token == "" {
		return nil, maestro.Errorf(maestro.KindInvalid, "Azure DevOps organization %s: set MAESTRO_AZDO_TOKEN to a token that may read builds (Build: Read) to publish their artifacts", org)
	}
	return azdo.Connection(org, token, bearer), nil
}
