package azdo

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/google/uuid"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/core"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/identity"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/location"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/webapi"
)

// serveLocations answers OPTIONS {org}/_apis[/{area}] with the resource
// locations, which the client caches and builds every URL from.
func (s *Server) serveLocations(w http.ResponseWriter, area string) {
	var out []azuredevops.ApiResourceLocation
	for _, l := range s.locations {
		if area == "" || strings.EqualFold(l.area, area) {
			out = append(out, l.apiLocation())
		}
	}
	data, err := json.Marshal(list(out))
	if err != nil {
		writeError(w, newError(http.StatusInternalServerError, "HttpException", "%v", err))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(data)
}

// handleResourceAreas serves GET {org}/_apis/ResourceAreas[/{areaId}]: the
// base URL of each area's client. Every area lives at the organization URL.
func handleResourceAreas(c *call) (int, any, error) {
	base := c.s.http.URL + "/" + c.s.org + "/"
	names := make([]string, 0, len(areaIDs))
	for name := range areaIDs {
		names = append(names, name)
	}
	sort.Strings(names)
	var areas []azuredevops.ResourceAreaInfo
	for _, name := range names {
		id := areaIDs[name]
		areas = append(areas, azuredevops.ResourceAreaInfo{Id: &id, Name: ptr(name), LocationUrl: ptr(base)})
	}
	if want := c.values["areaId"]; want != "" {
		for _, a := range areas {
			if strings.EqualFold(a.Id.String(), want) || strings.EqualFold(*a.Name, want) {
				return http.StatusOK, a, nil
			}
		}
		return 0, nil, newError(http.StatusNotFound, "HttpException", "The resource area %s was not found.", want)
	}
	return http.StatusOK, list(areas), nil
}

// handleConnectionData serves GET {org}/_apis/ConnectionData: who the
// credential authenticates as.
func handleConnectionData(c *call) (int, any, error) {
	id := c.who.Identity.ID
	user := location.ConnectionData{}
	identity := identityModel(c.who.Identity, id)
	user.AuthenticatedUser = identity
	user.AuthorizedUser = identity
	instance := stableID("instance", c.s.org)
	user.InstanceId = &instance
	user.DeploymentId = &instance
	user.DeploymentType = ptr(webapi.DeploymentFlagsValues.Hosted)
	return http.StatusOK, user, nil
}

// handleProjects serves GET {org}/_apis/projects[/{projectId}].
func handleProjects(c *call) (int, any, error) {
	if want := c.values["projectId"]; want != "" {
		p := c.s.findProject(want)
		if p == nil {
			return 0, nil, newError(http.StatusNotFound, "ProjectDoesNotExistException",
				"TF200016: The following project does not exist: %s. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.", want)
		}
		return http.StatusOK, p.model(), nil
	}
	var out []core.TeamProjectReference
	for _, p := range c.s.projects {
		out = append(out, *p.reference())
	}
	return http.StatusOK, list(out), nil
}

// reference is the project as other resources embed it.
func (p *Project) reference() *core.TeamProjectReference {
	id := p.ID
	return &core.TeamProjectReference{
		Id:         &id,
		Name:       ptr(p.Name),
		Url:        ptr(p.url()),
		State:      ptr(core.ProjectStateValues.WellFormed),
		Revision:   ptr(uint64(1)),
		Visibility: ptr(core.ProjectVisibilityValues.Private),
	}
}

func (p *Project) model() *core.TeamProject {
	ref := p.reference()
	return &core.TeamProject{
		Id:         ref.Id,
		Name:       ref.Name,
		Url:        ref.Url,
		State:      ref.State,
		Revision:   ref.Revision,
		Visibility: ref.Visibility,
		Links: map[string]any{
			"self": map[string]string{"href": p.url()},
			"web":  map[string]string{"href": p.s.http.URL + "/" + p.s.org + "/" + p.Name},
		},
	}
}

// identityModel is an identity as ConnectionData shows it.
func identityModel(who Identity, id uuid.UUID) *identity.Identity {
	return &identity.Identity{
		Id:                  &id,
		ProviderDisplayName: ptr(who.DisplayName),
		CustomDisplayName:   ptr(who.DisplayName),
		IsActive:            ptr(true),
		Properties:          map[string]any{"Account": map[string]string{"$type": "System.String", "$value": who.UniqueName}},
	}
}
