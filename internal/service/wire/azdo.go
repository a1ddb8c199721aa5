package wire

import (
	"strings"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/service"
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
	return e.azdoConnection(org, token, bearer)
}

// AzureDevOpsAccount connects to the organization of an Azure DevOps
// account, as the registry records it with a build (azureDevOpsAccount,
// service.AccountOf of the job's collection URI): the Azure DevOps Server
// collection in MAESTRO_AZDO_SERVER_URLS whose account it is, else
// https://dev.azure.com/{account}. It returns the organization's URL with
// the connection (see AzureDevOps for the token).
func (e Env) AzureDevOpsAccount(account string) (*azuredevops.Connection, string, error) {
	hosts, err := ParseHosts(e.Getenv)
	if err != nil {
		return nil, "", err
	}
	account = strings.TrimSpace(account)
	if account == "" || strings.ContainsAny(account, "/?#@: ") {
		return nil, "", maestro.Errorf(maestro.KindInvalid, "Azure DevOps account %q: not an organization name", account)
	}
	org := "https://dev.azure.com/" + account
	for _, s := range hosts.AzureDevOpsServers {
		if strings.EqualFold(service.AccountOf(s.String()+"/"), account) {
			org = s.String()
			break
		}
	}
	conn, err := e.AzureDevOps(org)
	return conn, org, err
}
