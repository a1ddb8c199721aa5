package azdo_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/maestroplusplus/maestro/test/azdo"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
)

// officialBuild adds a completed build of a pipeline with an AssetManifests
// artifact of two files and returns its ID.
func officialBuild(t *testing.T, e *env) (*azdo.Pipeline, int) {
	t.Helper()
	pl := e.s.AddYAMLPipeline(e.project, azdo.YAMLPipeline{Name: "runtime-official", Repository: e.repo, Path: "/eng/pipelines/update.yml"})
	id := e.s.AddBuild(pl, "main", e.repo.Head("main"))
	e.s.AddArtifact(id, "AssetManifests", map[string][]byte{"Windows_NT-x64.xml": []byte("<Build/>\n")})
	e.s.AddArtifact(id, "AssetManifests", map[string][]byte{"Linux-x64.xml": []byte("<Build Name=\"x\"/>\n")})
	e.s.AddArtifact(id, "PackageArtifacts", map[string][]byte{"a.nupkg": []byte("PK")})
	e.s.SetBuildStatus(id, build.BuildStatusValues.Completed, build.BuildResultValues.Succeeded)
	return pl, id
}

func readZip(t *testing.T, data []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = string(b)
	}
	return out
}

func TestArtifacts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, id := officialBuild(t, e)

	arts, err := e.build.GetArtifacts(e.ctx, build.GetArtifactsArgs{Project: ptr("dnceng"), BuildId: ptr(id)})
	if err != nil {
		t.Fatalf("GetArtifacts: %v", err)
	}
	if len(*arts) != 2 || deref((*arts)[0].Name) != "AssetManifests" || deref((*arts)[1].Name) != "PackageArtifacts" {
		t.Fatalf("artifacts = %+v, want AssetManifests and PackageArtifacts", *arts)
	}
	res := (*arts)[0].Resource
	if deref(res.Type) != "Container" || deref(res.Data) == "" {
		t.Errorf("resource = %+v, want a Container with data", res)
	}
	wantDownload := e.s.OrganizationURL() + "/" + e.project.ID.String() + "/_apis/build/builds/" + strconv.Itoa(id) + "/artifacts?artifactName=AssetManifests&api-version=7.1&%24format=zip"
	if deref(res.DownloadUrl) != wantDownload {
		t.Errorf("downloadUrl = %q, want %q", deref(res.DownloadUrl), wantDownload)
	}

	one, err := e.build.GetArtifact(e.ctx, build.GetArtifactArgs{Project: ptr("dnceng"), BuildId: ptr(id), ArtifactName: ptr("assetmanifests")})
	if err != nil {
		t.Fatalf("GetArtifact: %v", err)
	}
	if deref(one.Id) != deref((*arts)[0].Id) {
		t.Errorf("GetArtifact = %+v, want the listed one", one)
	}

	want := map[string]string{"AssetManifests/Linux-x64.xml": "<Build Name=\"x\"/>\n", "AssetManifests/Windows_NT-x64.xml": "<Build/>\n"}
	rc, err := e.build.GetArtifactContentZip(e.ctx, build.GetArtifactContentZipArgs{Project: ptr("dnceng"), BuildId: ptr(id), ArtifactName: ptr("AssetManifests")})
	if err != nil {
		t.Fatalf("GetArtifactContentZip: %v", err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	if got := readZip(t, data); !equalMaps(got, want) {
		t.Errorf("zip = %v, want %v", got, want)
	}

	// The downloadUrl, fetched as a person's script would, with the PAT.
	req, _ := http.NewRequest(http.MethodGet, wantDownload, nil)
	req.SetBasicAuth("", testPAT)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("downloadUrl: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if got := readZip(t, data); !equalMaps(got, want) {
		t.Errorf("downloadUrl zip = %v, want %v", got, want)
	}
	// Without the token: 401, as every route.
	resp, err = http.Get(wantDownload)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous download: %d, want 401", resp.StatusCode)
	}
}

func TestArtifactsErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, id := officialBuild(t, e)
	_, err := e.build.GetArtifacts(e.ctx, build.GetArtifactsArgs{Project: ptr("dnceng"), BuildId: ptr(id + 100)})
	wantError(t, err, http.StatusNotFound, "BuildNotFoundException")
	_, err = e.build.GetArtifact(e.ctx, build.GetArtifactArgs{Project: ptr("dnceng"), BuildId: ptr(id), ArtifactName: ptr("drop")})
	wantError(t, err, http.StatusNotFound, "ArtifactNotFoundException")
	_, err = e.build.GetArtifactContentZip(e.ctx, build.GetArtifactContentZipArgs{Project: ptr("dnceng"), BuildId: ptr(id), ArtifactName: ptr("drop")})
	wantError(t, err, http.StatusNotFound, "ArtifactNotFoundException")
	_, err = e.build.GetArtifacts(e.ctx, build.GetArtifactsArgs{Project: ptr("nope"), BuildId: ptr(id)})
	wantError(t, err, http.StatusNotFound, "ProjectDoesNotExistWithNameException")
	// A build without artifacts lists none.
	other := e.s.AddBuild(e.s.AddYAMLPipeline(e.project, azdo.YAMLPipeline{Name: "other", Repository: e.repo, Path: "/eng/pipelines/update.yml"}), "main", e.repo.Head("main"))
	arts, err := e.build.GetArtifacts(e.ctx, build.GetArtifactsArgs{Project: ptr("dnceng"), BuildId: ptr(other)})
	if err != nil || len(*arts) != 0 {
		t.Errorf("GetArtifacts of a build without artifacts = %v, %v", arts, err)
	}
}

// TestServiceHookEvent: the payloads carry the event type, a fresh id, the
// build as GetBuild shows it (build.complete) or the run
// (run-state-changed), and the organization in resourceContainers.
func TestServiceHookEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pl, id := officialBuild(t, e)
	var bc struct {
		ID                 string
		EventType          string
		Resource           build.Build
		ResourceContainers map[string]struct{ ID, BaseURL string }
	}
	data := e.s.ServiceHookEvent("build.complete", id)
	if err := json.Unmarshal(data, &bc); err != nil {
		t.Fatal(err)
	}
	if bc.EventType != "build.complete" || bc.ID == "" || deref(bc.Resource.Id) != id || deref(bc.Resource.Result) != build.BuildResultValues.Succeeded ||
		deref(bc.Resource.Definition.Id) != pl.ID || bc.ResourceContainers["account"].BaseURL != e.s.OrganizationURL()+"/" {
		t.Errorf("build.complete = %s", data)
	}
	var rs struct {
		ID       string
		Resource struct {
			Run        struct{ ID, State, Result any }
			RunID      int
			PipelineID int
		}
	}
	data2 := e.s.ServiceHookEvent("ms.vss-pipelines.run-state-changed-event", id)
	if err := json.Unmarshal(data2, &rs); err != nil {
		t.Fatal(err)
	}
	if rs.ID == bc.ID || rs.Resource.RunID != id || rs.Resource.PipelineID != pl.ID || rs.Resource.Run.Result != "succeeded" || rs.Resource.Run.State != "completed" {
		t.Errorf("run-state-changed = %s", data2)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
