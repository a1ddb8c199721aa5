package azdo_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/test/azdo"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/core"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/location"
)

// clientLocationIDs reads the location IDs a client package sends for the
// methods the product uses, from the client's own source in the module cache.
func clientLocationIDs(t *testing.T, pkg string, methods ...string) map[string]string {
	t.Helper()
	dir := moduleDir(t)
	src, err := os.ReadFile(filepath.Join(dir, pkg, "client.go"))
	if err != nil {
		t.Fatalf("read client source: %v", err)
	}
	ids := map[string]string{}
	for _, m := range methods {
		re := regexp.MustCompile(`(?s)func \(client \*ClientImpl\) ` + m + `\(.*?locationId, _ := uuid\.Parse\("([0-9a-f-]+)"\)`)
		match := re.FindSubmatch(src)
		if match == nil {
			t.Fatalf("%s.%s: no locationId in the client's source", pkg, m)
		}
		ids[pkg+"."+m] = string(match[1])
	}
	return ids
}

func moduleDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skipf("go env GOMODCACHE: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "github.com", "microsoft", "azure-devops-go-api", "azuredevops", "v7@v7.1.0")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("client source not in the module cache: %v", err)
	}
	return dir
}

func TestLocationsCoverTheClient(t *testing.T) {
	t.Parallel()
	s := azdo.NewServer(t, azdo.WithPAT(testPAT))
	want := map[string]string{}
	for pkg, methods := range map[string][]string{
		"git":       {"GetRefs", "UpdateRefs", "CreatePush", "GetPullRequests", "GetPullRequest", "CreatePullRequest", "UpdatePullRequest", "GetPullRequestById", "CreatePullRequestStatus", "GetPullRequestStatuses", "CreateThread", "GetThreads", "GetRepository", "GetPullRequestCommits"},
		"build":     {"QueueBuild", "GetBuild", "GetDefinition"},
		"pipelines": {"RunPipeline", "GetRun", "GetPipeline"},
		"policy":    {"GetPolicyEvaluations", "GetPolicyEvaluation"},
		"core":      {"GetProjects", "GetProject"},
		"location":  {"GetResourceAreas", "GetConnectionData"},
	} {
		for k, v := range clientLocationIDs(t, pkg, methods...) {
			want[k] = v
		}
	}
	req, _ := http.NewRequest(http.MethodOptions, s.OrganizationURL()+"/_apis", nil)
	req.Header.Set("Authorization", azuredevops.CreateBasicAuthHeaderValue("", testPAT))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("OPTIONS: %v", err)
	}
	defer resp.Body.Close()
	var locations struct {
		Count int                               `json:"count"`
		Value []azuredevops.ApiResourceLocation `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&locations); err != nil {
		t.Fatalf("decode locations: %v", err)
	}
	if locations.Count != len(locations.Value) {
		t.Errorf("count = %d for %d locations", locations.Count, len(locations.Value))
	}
	served := map[string]azuredevops.ApiResourceLocation{}
	for _, l := range locations.Value {
		if l.Id == nil || l.Area == nil || l.ResourceName == nil || l.RouteTemplate == nil || l.ResourceVersion == nil ||
			l.MinVersion == nil || l.MaxVersion == nil || l.ReleasedVersion == nil {
			t.Errorf("location %+v lacks a field", l)
			continue
		}
		served[l.Id.String()] = l
	}
	var names []string
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, ok := served[want[name]]; !ok {
			t.Errorf("%s: location %s is not advertised", name, want[name])
		}
	}
	// A single area.
	req, _ = http.NewRequest(http.MethodOptions, s.OrganizationURL()+"/_apis/git", nil)
	req.Header.Set("Authorization", azuredevops.CreateBasicAuthHeaderValue("", testPAT))
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("OPTIONS git: %v", err)
	}
	data, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if !strings.Contains(string(data), `"area":"git"`) || strings.Contains(string(data), `"area":"build"`) {
		t.Errorf("OPTIONS _apis/git = %s", data)
	}
}

func TestResourceAreasProjectsAndConnectionData(t *testing.T) {
	t.Parallel()
	s := azdo.NewServer(t, azdo.WithOrganization("DncEng"), azdo.WithPAT(testPAT))
	p := s.AddProject("internal")
	ctx := context.Background()
	conn := azuredevops.NewPatConnection(s.OrganizationURL(), testPAT)
	loc := location.NewClient(ctx, conn)
	areas, err := loc.GetResourceAreas(ctx, location.GetResourceAreasArgs{})
	if err != nil {
		t.Fatalf("GetResourceAreas: %v", err)
	}
	found := map[string]string{}
	for _, a := range *areas {
		found[*a.Name] = *a.LocationUrl
	}
	for _, area := range []string{"git", "build", "core", "policy"} {
		if found[area] != s.OrganizationURL()+"/" {
			t.Errorf("area %s at %q, want %q", area, found[area], s.OrganizationURL()+"/")
		}
	}
	cd, err := loc.GetConnectionData(ctx, location.GetConnectionDataArgs{})
	if err != nil {
		t.Fatalf("GetConnectionData: %v", err)
	}
	if cd.AuthenticatedUser == nil || cd.AuthenticatedUser.Id == nil || *cd.AuthenticatedUser.ProviderDisplayName == "" {
		t.Errorf("connection data = %+v", cd)
	}

	// The organization name is matched case-insensitively: the client
	// lower-cases the URL it is given.
	cc, err := core.NewClient(ctx, conn)
	if err != nil {
		t.Fatalf("core.NewClient: %v", err)
	}
	projects, err := cc.GetProjects(ctx, core.GetProjectsArgs{})
	if err != nil {
		t.Fatalf("GetProjects: %v", err)
	}
	if len(projects.Value) != 1 || *projects.Value[0].Name != "internal" || *projects.Value[0].Id != p.ID {
		t.Errorf("projects = %+v", projects.Value)
	}
	got, err := cc.GetProject(ctx, core.GetProjectArgs{ProjectId: ptr("INTERNAL")})
	if err != nil || *got.Id != p.ID {
		t.Errorf("GetProject = %+v, %v", got, err)
	}
	_, err = cc.GetProject(ctx, core.GetProjectArgs{ProjectId: ptr("public")})
	wantError(t, err, http.StatusNotFound, "ProjectDoesNotExistException")
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	s := azdo.NewServer(t, azdo.WithPAT(testPAT), azdo.WithJobToken("job-token"))
	s.AddProject("dnceng")
	ctx := context.Background()
	tests := []struct {
		name string
		auth string
		ok   bool
	}{
		{name: "PAT as Basic password", auth: azuredevops.CreateBasicAuthHeaderValue("", testPAT), ok: true},
		{name: "PAT with a user name", auth: azuredevops.CreateBasicAuthHeaderValue("someone", testPAT), ok: true},
		{name: "job token as Bearer", auth: "Bearer job-token", ok: true},
		{name: "job token as Basic password", auth: azuredevops.CreateBasicAuthHeaderValue("", "job-token"), ok: true},
		{name: "PAT as Bearer", auth: "Bearer " + testPAT},
		{name: "wrong PAT", auth: azuredevops.CreateBasicAuthHeaderValue("", "wrong")},
		{name: "no credentials", auth: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := &azuredevops.Connection{AuthorizationString: tt.auth, BaseUrl: s.OrganizationURL(), SuppressFedAuthRedirect: true}
			before := len(s.UnauthorizedRequests())
			_, err := git.NewClient(ctx, conn)
			if tt.ok {
				if err != nil {
					t.Fatalf("git.NewClient: %v", err)
				}
				return
			}
			w := wantError(t, err, http.StatusUnauthorized, "UnauthorizedRequestException")
			if !strings.Contains(w.Error(), "TF400813") {
				t.Errorf("message = %q", w.Error())
			}
			if len(s.UnauthorizedRequests()) != before+1 {
				t.Errorf("the 401 was not recorded")
			}
		})
	}
	t.Run("job token identity", func(t *testing.T) {
		conn := &azuredevops.Connection{AuthorizationString: "Bearer job-token", BaseUrl: s.OrganizationURL(), SuppressFedAuthRedirect: true}
		bc, err := build.NewClient(ctx, conn)
		if err != nil {
			t.Fatalf("build.NewClient: %v", err)
		}
		_, err = bc.GetBuild(ctx, build.GetBuildArgs{Project: ptr("dnceng"), BuildId: ptr(1)})
		wantError(t, err, http.StatusNotFound, "BuildNotFoundException")
		last := s.Requests()[len(s.Requests())-1]
		if last.Identity == nil || !strings.HasPrefix(last.Identity.DisplayName, "Project Collection Build Service") {
			t.Errorf("job token acted as %+v", last.Identity)
		}
	})
}

// TestRequestRules drives requests the Go client never sends, to check the
// service's rules on api-version, routes and methods.
func TestRequestRules(t *testing.T) {
	t.Parallel()
	s := azdo.NewServer(t, azdo.WithPAT(testPAT))
	p := s.AddProject("dnceng")
	s.AddRepository(p, "runtime")
	base := s.OrganizationURL() + "/dnceng/_apis/"
	tests := []struct {
		name    string
		method  string
		url     string
		accept  string
		body    string
		status  int
		typeKey string
	}{
		{name: "version in the query", method: http.MethodGet, url: base + "git/repositories/runtime?api-version=7.1", status: http.StatusOK},
		{name: "no version on a read", method: http.MethodGet, url: base + "git/repositories/runtime", status: http.StatusOK},
		{name: "no version on a write", method: http.MethodPost, url: base + "git/repositories/runtime/refs", body: "[]", status: http.StatusBadRequest, typeKey: "VssVersionNotSpecifiedException"},
		{name: "version out of range", method: http.MethodGet, url: base + "git/repositories/runtime", accept: "application/json;api-version=9.0", status: http.StatusBadRequest, typeKey: "VssVersionOutOfRangeException"},
		{name: "unparseable version", method: http.MethodGet, url: base + "git/repositories/runtime", accept: "application/json;api-version=latest", status: http.StatusBadRequest, typeKey: "VssVersionNotParseableException"},
		{name: "preview resource without -preview", method: http.MethodGet, url: base + "policy/evaluations?artifactId=x", accept: "application/json;api-version=7.1", status: http.StatusBadRequest, typeKey: "VssInvalidPreviewVersionException"},
		{name: "unsupported method", method: http.MethodDelete, url: base + "git/repositories/runtime/refs", accept: "application/json;api-version=7.1", status: http.StatusMethodNotAllowed, typeKey: "HttpException"},
		{name: "unknown route", method: http.MethodGet, url: base + "wit/workitems/1", accept: "application/json;api-version=7.1", status: http.StatusNotFound, typeKey: "HttpException"},
		{name: "other organization", method: http.MethodGet, url: s.URL() + "/other/_apis/projects", status: http.StatusNotFound, typeKey: "HttpException"},
		{name: "malformed JSON", method: http.MethodPost, url: base + "git/repositories/runtime/refs", accept: "application/json;api-version=7.1", body: "[{", status: http.StatusBadRequest, typeKey: "ArgumentNullException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			req.Header.Set("Authorization", azuredevops.CreateBasicAuthHeaderValue("", testPAT))
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", tt.method, tt.url, err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.typeKey == "" {
				return
			}
			var w azuredevops.WrappedError
			if err := json.NewDecoder(resp.Body).Decode(&w); err != nil {
				t.Fatalf("decode error body: %v", err)
			}
			if deref(w.TypeKey) != tt.typeKey || deref(w.ExceptionId) != "1" || w.Message == nil || w.TypeName == nil || deref(w.EventId) != 3000 {
				t.Errorf("error body = %+v, want typeKey %s", w, tt.typeKey)
			}
		})
	}
}
