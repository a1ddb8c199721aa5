package azdo

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
)

// Build artifacts (area build, resource artifacts,
// {project}/_apis/build/builds/{buildId}/artifacts): a build's artifacts are
// file containers that its jobs upload (the PublishBuildArtifacts task, or
// ##vso[artifact.upload artifactname=NAME]), which is how Arcade publishes
// its asset manifests (artifact AssetManifests). GET without artifactName
// lists them (GetArtifacts); with artifactName it answers one (GetArtifact),
// or, asked for application/zip (GetArtifactContentZip) or with
// $format=zip (the artifact's resource.downloadUrl), the container as a zip
// whose entries are {name}/{path}. An unknown build is 404
// BuildNotFoundException, an unknown artifact 404 ArtifactNotFoundException.

// artifactRecord is one container artifact of a build.
type artifactRecord struct {
	id          int
	name        string
	containerID int
	job         uuid.UUID
	files       map[string][]byte // path inside the artifact → contents
}

// AddBuild records a build of a pipeline at a commit of a branch, as a CI
// trigger would have queued it, and returns its ID. It is not started: move
// it on with SetBuildStatus.
func (s *Server) AddBuild(pl *Pipeline, branch, commit string) int {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !strings.HasPrefix(branch, "refs/") {
		branch = "refs/heads/" + branch
	}
	return s.newBuild(pl, Identity{ID: stableID("identity", "ci"), DisplayName: "Microsoft.VisualStudio.Services.TFS", UniqueName: "00000002-0000-8888-8000-000000000000@2c895908-04e0-4952-89fd-54b0046d6288"}, branch, commit).id
}

// AddArtifact uploads files (path inside the artifact → contents) as the
// container artifact name of a build, as `##vso[artifact.upload
// containerfolder=NAME;artifactname=NAME]` does. Uploading to an artifact
// that exists adds the files to it, as a second job's upload does.
func (s *Server) AddArtifact(buildID int, name string, files map[string][]byte) {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.findBuild(buildID)
	if b == nil {
		s.tb.Fatalf("azdo: AddArtifact: no build %d", buildID)
	}
	var a *artifactRecord
	for _, x := range b.artifacts {
		if strings.EqualFold(x.name, name) {
			a = x
		}
	}
	if a == nil {
		s.nextArtifactID++
		a = &artifactRecord{id: s.nextArtifactID, name: name, containerID: 1000 + s.nextArtifactID,
			job: stableID("job", strconv.Itoa(buildID), name), files: map[string][]byte{}}
		b.artifacts = append(b.artifacts, a)
	}
	for p, data := range files {
		a.files[strings.TrimPrefix(p, "/")] = data
	}
}

func (s *Server) findBuild(id int) *buildRecord {
	for _, b := range s.builds {
		if b.id == id {
			return b
		}
	}
	return nil
}

// zipBody is a response written as application/zip rather than JSON.
type zipBody []byte

func handleGetArtifacts(c *call) (int, any, error) {
	p, err := c.project()
	if err != nil {
		return 0, nil, err
	}
	id := c.values["buildId"]
	var b *buildRecord
	for _, x := range c.s.builds {
		if strconv.Itoa(x.id) == id && x.pipeline.Project == p {
			b = x
		}
	}
	if b == nil {
		return 0, nil, newError(http.StatusNotFound, "BuildNotFoundException", "The requested build %s could not be found.", id)
	}
	name, named := c.query["artifactName"]
	if !named {
		out := make([]build.BuildArtifact, 0, len(b.artifacts))
		for _, a := range b.artifacts {
			out = append(out, a.model(c.s, b))
		}
		return http.StatusOK, list(out), nil
	}
	var a *artifactRecord
	for _, x := range b.artifacts {
		if len(name) > 0 && strings.EqualFold(x.name, name[0]) {
			a = x
		}
	}
	if a == nil {
		return 0, nil, newError(http.StatusNotFound, "ArtifactNotFoundException", "Artifact %s was not found for build %s.", strings.Join(name, ","), id)
	}
	if c.query.Get("$format") == "zip" || acceptsZip(c.r) {
		data, err := a.zip()
		return http.StatusOK, zipBody(data), err
	}
	return http.StatusOK, a.model(c.s, b), nil
}

// acceptsZip says whether the request asks for application/zip.
func acceptsZip(r *http.Request) bool {
	for _, accept := range r.Header.Values("Accept") {
		for _, mediaRange := range strings.Split(accept, ",") {
			mt, _, _ := strings.Cut(mediaRange, ";")
			if strings.EqualFold(strings.TrimSpace(mt), "application/zip") {
				return true
			}
		}
	}
	return false
}

// zip is the container as the service zips it: entries {name}/{path}, in
// path order.
func (a *artifactRecord) zip() ([]byte, error) {
	paths := make([]string, 0, len(a.files))
	for p := range a.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range paths {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: a.name + "/" + p, Method: zip.Deflate, Modified: time.Unix(0, 0).UTC()})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(a.files[p]); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (a *artifactRecord) size() int {
	n := 0
	for _, d := range a.files {
		n += len(d)
	}
	return n
}

// model is the artifact as the service shows it: a Container resource whose
// data names the file container and folder, and whose downloadUrl is this
// route with $format=zip.
func (a *artifactRecord) model(s *Server, b *buildRecord) build.BuildArtifact {
	base := s.http.URL + "/" + s.org + "/" + b.pipeline.Project.ID.String() + "/_apis/build/builds/" + strconv.Itoa(b.id) + "/artifacts?artifactName=" + url.QueryEscape(a.name) + "&api-version=7.1"
	return build.BuildArtifact{
		Id:     ptr(a.id),
		Name:   ptr(a.name),
		Source: ptr(a.job.String()),
		Resource: &build.ArtifactResource{
			Type:        ptr("Container"),
			Data:        ptr(fmt.Sprintf("#/%d/%s", a.containerID, a.name)),
			Properties:  &map[string]string{"localpath": a.name, "artifactsize": strconv.Itoa(a.size())},
			Url:         ptr(base),
			DownloadUrl: ptr(base + "&%24format=zip"),
		},
	}
}

// ServiceHookEvent is the payload a service hook subscription delivers for
// a build that completed: eventType build.complete (resourceVersion 2.0:
// the resource is the build as GetBuild shows it) or
// ms.vss-pipelines.run-state-changed-event (resourceVersion 5.1-preview.1:
// the run, its pipeline and ids), with a new event id and the organization
// and project in resourceContainers.
func (s *Server) ServiceHookEvent(eventType string, buildID int) []byte {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.findBuild(buildID)
	if b == nil {
		s.tb.Fatalf("azdo: ServiceHookEvent: no build %d", buildID)
	}
	base := s.http.URL + "/" + s.org + "/"
	proj := b.pipeline.Project
	containers := map[string]any{
		"collection": map[string]string{"id": stableID("collection", s.org).String(), "baseUrl": base},
		"account":    map[string]string{"id": stableID("account", s.org).String(), "baseUrl": base},
		"project":    map[string]string{"id": proj.ID.String(), "baseUrl": base},
	}
	var resource any
	var version, text string
	switch eventType {
	case "build.complete":
		resource, version = b.model(s), "2.0"
		text = fmt.Sprintf("Build %s %s", b.number, b.result)
	case "ms.vss-pipelines.run-state-changed-event":
		run := b.runModel(s)
		resource = map[string]any{"run": run, "pipeline": run.Pipeline, "runId": b.id, "runUrl": run.Url,
			"pipelineId": b.pipeline.ID, "pipelineUrl": b.pipeline.pipelineURL()}
		version = "5.1-preview.1"
		text = fmt.Sprintf("Run %s %s", b.number, b.status)
	default:
		s.tb.Fatalf("azdo: ServiceHookEvent: event type %q is not a build event", eventType)
	}
	msg := map[string]string{"text": text, "html": text, "markdown": text}
	ev := map[string]any{
		"subscriptionId":     stableID("subscription", eventType).String(),
		"notificationId":     1,
		"id":                 uuid.NewString(),
		"eventType":          eventType,
		"publisherId":        map[bool]string{true: "tfs", false: "pipelines"}[eventType == "build.complete"],
		"message":            msg,
		"detailedMessage":    msg,
		"resource":           resource,
		"resourceVersion":    version,
		"resourceContainers": containers,
		"createdDate":        s.now().Format(time.RFC3339Nano),
	}
	data, err := json.Marshal(ev)
	if err != nil {
		s.tb.Fatalf("azdo: ServiceHookEvent: %v", err)
	}
	return data
}
