package azdo

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
)

// resourceLocation is one REST resource location: what OPTIONS {org}/_apis
// advertises (azuredevops.ApiResourceLocation) and the handlers that serve
// its route template.
type resourceLocation struct {
	id              uuid.UUID
	area            string
	resource        string
	template        string
	resourceVersion int
	minVersion      string
	maxVersion      string
	releasedVersion string
	handlers        map[string]handler // by HTTP method

	segments []segment
}

// segment is one "/"-separated part of a route template.
type segment struct {
	literal  string // matched case-insensitively, as the service's routing does
	param    string // route value name; empty for a literal
	wildcard bool   // {*name}: the rest of the path
}

// areaIDs are the resource areas GET {org}/_apis/ResourceAreas lists; the
// client looks an area up by ID to find the base URL of its client.
var areaIDs = map[string]uuid.UUID{
	"core":   uuid.MustParse("79134c72-4a58-4b42-976c-04e7115f32bf"),
	"git":    uuid.MustParse("4e080c62-fa21-4fbc-8fef-2a10a2b38049"),
	"build":  uuid.MustParse("965220d5-5bb9-42cf-8d67-9b146df2a5a4"),
	"policy": uuid.MustParse("fb13a388-40dd-4a04-b530-013a739c72ef"),
}

// The location IDs below are the ones the azure-devops-go-api v7 client
// sends (locationId in each package's client.go); the route templates are
// those the service advertises for them.
var (
	locResourceAreas   = uuid.MustParse("e81700f7-3be2-46de-8624-2eb35882fcaa")
	locConnectionData  = uuid.MustParse("00d9565f-ed9c-4a06-9a50-00e7896ccab4")
	locProjects        = uuid.MustParse("603fe2ac-9723-48b9-88ad-09305aa6c6e1")
	locRepositories    = uuid.MustParse("225f7195-f9c7-4d14-ab28-a83f7ff77e1f")
	locRefs            = uuid.MustParse("2d874a60-a811-4f62-9c9f-963a6ea0a55b")
	locPushes          = uuid.MustParse("ea98d07b-3c87-4971-8ede-a613694ffb55")
	locPullRequests    = uuid.MustParse("9946fd70-0d40-406e-b686-b4744cbbcc37")
	locPullRequestByID = uuid.MustParse("01a46dea-7d46-4d40-bc84-319e7c260d99")
	locPRStatuses      = uuid.MustParse("b5f6bb4f-8d1e-4d79-8d11-4c9172c99c35")
	locPRThreads       = uuid.MustParse("ab6e2e5d-a0b7-4153-b64a-a4efe0d49449")
	locPRComments      = uuid.MustParse("965a3ec7-5ed8-455a-bdcb-835a5ea7fe7b")
	locPRCommits       = uuid.MustParse("52823034-34a8-4576-922c-8d8b77e9e4c4")
	locPRReviewers     = uuid.MustParse("4b6702c7-aa35-4b89-9c96-b9abf6d3e540")
	locPRLabels        = uuid.MustParse("f22387e3-984e-4c52-9c6d-fbb8f14c812d")
	locBuilds          = uuid.MustParse("0cd358e1-9217-4d94-8269-1c1ee6f93dcf")
	locDefinitions     = uuid.MustParse("dbeaf647-6167-421a-bda9-c9327b25e2e6")
	locArtifacts       = uuid.MustParse("1db06c96-014e-44e1-ac91-90b2d4b3e984")
	locPipelines       = uuid.MustParse("28e1305e-2afe-47bf-abaf-cbb0e6a91988")
	locRuns            = uuid.MustParse("7859261e-d2e9-4a68-b820-a5d84cc5bb3d")
	locEvaluations     = uuid.MustParse("c23ddff5-229c-4d04-a80b-0fdce9f360c8")
	locEvaluation      = uuid.MustParse("46aecb7a-5d2c-4647-897b-0209505a9fe4")
)

// newLocations builds the resource locations the double serves.
func newLocations() []*resourceLocation {
	ls := []*resourceLocation{
		{id: locResourceAreas, area: "Location", resource: "ResourceAreas", template: "_apis/{resource}/{areaId}", resourceVersion: 1, minVersion: "3.2", maxVersion: "7.2", releasedVersion: "0.0",
			handlers: map[string]handler{http.MethodGet: handleResourceAreas}},
		{id: locConnectionData, area: "Location", resource: "ConnectionData", template: "_apis/{resource}", resourceVersion: 1, minVersion: "1.0", maxVersion: "7.2", releasedVersion: "0.0",
			handlers: map[string]handler{http.MethodGet: handleConnectionData}},
		{id: locProjects, area: "core", resource: "projects", template: "_apis/{resource}/{*projectId}", resourceVersion: 4, minVersion: "1.0", maxVersion: "7.2", releasedVersion: "7.1",
			handlers: map[string]handler{http.MethodGet: handleProjects}},
		{id: locRepositories, area: "git", resource: "repositories", template: "{project}/_apis/{area}/{resource}/{repositoryId}", resourceVersion: 1, minVersion: "1.0", maxVersion: "7.2", releasedVersion: "7.1",
			handlers: map[string]handler{http.MethodGet: handleRepositories}},
		{id: locRefs, area: "git", resource: "refs", template: "{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{*filter}", resourceVersion: 1, minVersion: "1.0", maxVersion: "7.2", releasedVersion: "7.1",
			handlers: map[string]handler{http.MethodGet: handleGetRefs, http.MethodPost: handleUpdateRefs}},
		{id: locPushes, area: "git", resource: "pushes", template: "{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{pushId}", resourceVersion: 2, minVersion: "2.0", maxVersion: "7.2", releasedVersion: "7.1",
			handlers: map[string]handler{http.MethodPost: handleCreatePush}},
		{id: locPullRequests, area: "git", resource: "pullRequests", template: "{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{pullRequestId}", resourceVersion: 1, minVersion: "1.0", maxVersion: "7.2", releasedVersion: "7.1",
			handlers: map[string]handler{http.MethodGet: handleGetPullRequests, http.MethodPost: handleCreatePullRequest, http.MethodPatch: handleUpdatePullRequest}},
		{id: locPullRequestByID, area: "git", resource: "pullRequests", template: "{project}/_apis/{area}/{resource}/{pullRequestId}", resourceVersion: 1, minVersion: "3.0", maxVersion: "7.2", releasedVersion: "7.1",
			handlers: map[string]handler{http.MethodGet: handleGetPullRequestByID}},
		{id: locPRStatuses, area: "git", resource: "pullRequestStatuses", template: "{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/statuses/{statusId}", resourceVersion: 1, minVersion: "4.0", maxVersion: "7.2", releasedVersion: "7.1",
			handlers: map[string]handler{http.MethodGet: handleGetPRStatuses, http.MethodPost: handleCreatePRStatus, http.MethodDelete: handleDeletePRStatus}},
		{id: locPRThreads, area: "git", resource: "pullRequestThreads", template: "{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/threads/{threadId}", resourceVersion: 1, minVersion: "3.0", maxVersion: "7.2", releasedVersion: "7.1",
			handlers: map[string]handler{http.MethodGet: handleGetThreads, http.MethodPost: handleCreateThread}},
		{id: locPRComments, area: "git", resource: "pullRequestThreadComments", template: "{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/threads/{threadId}/comments/{commentId}", resourceVersion: 1, minVersion: "3.0", maxVersion: "7.2", releasedVersion: "7.1",
			handlers: map[string]handler{http.MethodGet: handleGetComments, http.MethodPatch: handleUpdateComment}},
		{id: locPRCommits, area: "git", resource: "pullRequestCommits", template: "{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/commits", resourceVersion: 1, minVersion: "1.0", maxVersion: "7.2", releasedVersion: "7.1",
			handlers: map[string]handler{http.MethodGet: handleGetPRCommits}},
		{id: locPRReviewers, area: "git", resource: "pullRequestReviewers", template: "{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/reviewers/{reviewerId}", resourceVersion: 1, minVersion: "1.0", maxVersion: "7.2", releasedVersion: "7.1",
			handlers: map[string]handler{http.MethodPut: handleCreatePRReviewer}},
		{id: locPRLabels, area: "git", resource: "pullRequestLabels", template: "{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/labels/{labelIdOrName}", resourceVersion: 1, minVersion: "5.0", maxVersion: "7.2", releasedVersion: "7.1",
			handlers: map[string]handler{http.MethodGet: handleGetPRLabels, http.MethodPost: handleCreatePRLabel, http.MethodDelete: handleDeletePRLabel}},
		{id: locBuilds, area: "build", resource: "Builds", template: "{project}/_apis/build/{resource}/{buildId}", resourceVersion: 7, minVersion: "1.0", maxVersion: "7.2", releasedVersion: "7.1",
			handlers: map[string]handler{http.MethodGet: handleGetBuild, http.MethodPost: handleQueueBuild}},
		{id: locDefinitions, area: "build", resource: "Definitions", template: "{project}/_apis/build/{resource}/{definitionId}", resourceVersion: 7, minVersion: "1.0", maxVersion: "7.2", releasedVersion: "7.1",
			handlers: map[string]handler{http.MethodGet: handleGetDefinition}},
		{id: locArtifacts, area: "build", resource: "artifacts", template: "{project}/_apis/build/builds/{buildId}/{resource}", resourceVersion: 5, minVersion: "2.0", maxVersion: "7.2", releasedVersion: "7.1",
			handlers: map[string]handler{http.MethodGet: handleGetArtifacts}},
		{id: locPipelines, area: "pipelines", resource: "pipelines", template: "{project}/_apis/{resource}/{pipelineId}", resourceVersion: 1, minVersion: "5.1", maxVersion: "7.2", releasedVersion: "7.1",
			handlers: map[string]handler{http.MethodGet: handleGetPipeline}},
		{id: locRuns, area: "pipelines", resource: "runs", template: "{project}/_apis/pipelines/{pipelineId}/{resource}/{runId}", resourceVersion: 1, minVersion: "5.1", maxVersion: "7.2", releasedVersion: "7.1",
			handlers: map[string]handler{http.MethodGet: handleGetRun, http.MethodPost: handleRunPipeline}},
		{id: locEvaluations, area: "policy", resource: "evaluations", template: "{project}/_apis/{area}/{resource}", resourceVersion: 1, minVersion: "4.0", maxVersion: "7.2", releasedVersion: "0.0",
			handlers: map[string]handler{http.MethodGet: handleGetEvaluations}},
		{id: locEvaluation, area: "policy", resource: "evaluations", template: "{project}/_apis/{area}/{resource}/{evaluationId}", resourceVersion: 1, minVersion: "4.0", maxVersion: "7.2", releasedVersion: "0.0",
			handlers: map[string]handler{http.MethodGet: handleGetEvaluation}},
	}
	for _, l := range ls {
		l.segments = parseTemplate(l.template, l.area, l.resource)
	}
	return ls
}

// apiLocation is the location as OPTIONS reports it.
func (l *resourceLocation) apiLocation() azuredevops.ApiResourceLocation {
	id := l.id
	return azuredevops.ApiResourceLocation{
		Id:              &id,
		Area:            ptr(l.area),
		ResourceName:    ptr(l.resource),
		RouteTemplate:   ptr(l.template),
		ResourceVersion: ptr(l.resourceVersion),
		MinVersion:      ptr(l.minVersion),
		MaxVersion:      ptr(l.maxVersion),
		ReleasedVersion: ptr(l.releasedVersion),
	}
}

// parseTemplate splits a route template into segments, substituting {area}
// and {resource} as the client's GenerateUrl does.
func parseTemplate(template, area, resource string) []segment {
	var segs []segment
	for _, part := range strings.Split(template, "/") {
		if part == "" {
			continue
		}
		switch {
		case part == "{area}":
			segs = append(segs, segment{literal: area})
		case part == "{resource}":
			segs = append(segs, segment{literal: resource})
		case strings.HasPrefix(part, "{*") && strings.HasSuffix(part, "}"):
			segs = append(segs, segment{param: part[2 : len(part)-1], wildcard: true})
		case strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}"):
			segs = append(segs, segment{param: part[1 : len(part)-1]})
		default:
			segs = append(segs, segment{literal: part})
		}
	}
	return segs
}

// match matches path parts (already unescaped) against the template. Route
// values the client did not supply are left out of the URL, so every
// parameter segment is optional; a match that consumes a value is preferred.
func (l *resourceLocation) match(parts []string) (map[string]string, bool) {
	values := map[string]string{}
	if matchSegments(l.segments, parts, values) {
		return values, true
	}
	return nil, false
}

func matchSegments(segs []segment, parts []string, values map[string]string) bool {
	if len(segs) == 0 {
		return len(parts) == 0
	}
	s := segs[0]
	switch {
	case s.param == "":
		return len(parts) > 0 && strings.EqualFold(parts[0], s.literal) && matchSegments(segs[1:], parts[1:], values)
	case s.wildcard:
		if len(segs) == 1 && len(parts) > 0 {
			values[s.param] = strings.Join(parts, "/")
			return true
		}
		return matchSegments(segs[1:], parts, values)
	default:
		if len(parts) > 0 && parts[0] != "" && !strings.EqualFold(parts[0], "_apis") {
			values[s.param] = parts[0]
			if matchSegments(segs[1:], parts[1:], values) {
				return true
			}
			delete(values, s.param)
		}
		return matchSegments(segs[1:], parts, values)
	}
}

// apiVersion is a parsed api-version such as "7.1-preview.2".
type apiVersion struct {
	major, minor    int
	preview         bool
	resourceVersion int // 0 when not given
}

var apiVersionPattern = regexp.MustCompile(`^(\d+)\.(\d+)(-preview(\.(\d+))?)?$`)

// parseAPIVersion parses an api-version value.
func parseAPIVersion(s string) (apiVersion, bool) {
	m := apiVersionPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return apiVersion{}, false
	}
	var v apiVersion
	var err error
	if v.major, err = strconv.Atoi(m[1]); err != nil {
		return apiVersion{}, false
	}
	if v.minor, err = strconv.Atoi(m[2]); err != nil {
		return apiVersion{}, false
	}
	v.preview = m[3] != ""
	if m[5] != "" {
		if v.resourceVersion, err = strconv.Atoi(m[5]); err != nil {
			return apiVersion{}, false
		}
	}
	return v, true
}

func (v apiVersion) less(o apiVersion) bool {
	if v.major != o.major {
		return v.major < o.major
	}
	return v.minor < o.minor
}

// requestAPIVersion returns the api-version of a request: from the Accept
// header (where the Go client puts it) or the api-version query parameter.
func requestAPIVersion(r *http.Request) string {
	for _, accept := range r.Header.Values("Accept") {
		for _, mediaRange := range strings.Split(accept, ",") {
			for _, param := range strings.Split(mediaRange, ";") {
				key, value, ok := strings.Cut(strings.TrimSpace(param), "=")
				if ok && strings.EqualFold(strings.TrimSpace(key), "api-version") {
					return strings.TrimSpace(value)
				}
			}
		}
	}
	return r.URL.Query().Get("api-version")
}

// checkAPIVersion applies the service's api-version rules to a request for
// location l: writes need a version; the version must parse, must not exceed
// the location's maximum, and must say -preview when the resource has not
// been released at that version.
func (l *resourceLocation) checkAPIVersion(method, raw string) *apiError {
	if raw == "" {
		if method == http.MethodGet || method == http.MethodHead {
			return nil
		}
		return newError(http.StatusBadRequest, "VssVersionNotSpecifiedException",
			`No api-version was supplied for the %s request. The version must be supplied either as part of the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter (e.g. "?api-version=1.0").`, method)
	}
	v, ok := parseAPIVersion(raw)
	if !ok {
		return newError(http.StatusBadRequest, "VssVersionNotParseableException", "The version string '%s' could not be parsed.", raw)
	}
	maxV, _ := parseAPIVersion(l.maxVersion)
	if maxV.less(v) {
		return newError(http.StatusBadRequest, "VssVersionOutOfRangeException",
			"The requested REST API version of %d.%d is out of range for this server. The latest REST API version this server supports is %s.", v.major, v.minor, l.maxVersion)
	}
	released, _ := parseAPIVersion(l.releasedVersion)
	if !v.preview && released.less(v) {
		return newError(http.StatusBadRequest, "VssInvalidPreviewVersionException",
			`The requested version "%d.%d" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests. For example: "%d.%d-preview"`, v.major, v.minor, v.major, v.minor)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
