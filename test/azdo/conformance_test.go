package azdo_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/maestroplusplus/maestro/test/azdo"
	"github.com/maestroplusplus/maestro/test/testenv"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/core"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/pipelines"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/policy"
)

// openAPI is one of the service's OpenAPI 2.0 documents.
type openAPI struct {
	name        string
	paths       map[string]map[string]any
	definitions map[string]any
}

func loadSpecs(t *testing.T) []*openAPI {
	t.Helper()
	dir := testenv.Shared(t, "specs", "azure-devops-rest-7.1")
	var specs []*openAPI
	for _, name := range []string{"core", "git", "build", "pipelines", "policy"} {
		data, err := os.ReadFile(filepath.Join(dir, name+".json"))
		if err != nil {
			t.Fatalf("read spec: %v", err)
		}
		var doc struct {
			Paths       map[string]map[string]any `json:"paths"`
			Definitions map[string]any            `json:"definitions"`
		}
		if err := json.Unmarshal(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), &doc); err != nil {
			t.Fatalf("parse %s.json: %v", name, err)
		}
		specs = append(specs, &openAPI{name: name, paths: doc.Paths, definitions: doc.Definitions})
	}
	return specs
}

// operation finds the spec operation serving a request path (without the
// organization), preferring the path with the most literal segments.
func operation(specs []*openAPI, method, path string) (*openAPI, map[string]any, string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var best *openAPI
	var bestOp map[string]any
	bestPath, bestScore := "", -1
	for _, sp := range specs {
		for p, ops := range sp.paths {
			segs := strings.Split(strings.Trim(p, "/"), "/")[1:] // drop {organization}
			if len(segs) != len(parts) {
				continue
			}
			score := 0
			ok := true
			for i, s := range segs {
				if strings.HasPrefix(s, "{") {
					continue
				}
				if !strings.EqualFold(s, parts[i]) {
					ok = false
					break
				}
				score++
			}
			op, has := ops[strings.ToLower(method)].(map[string]any)
			if ok && has && score > bestScore {
				best, bestOp, bestPath, bestScore = sp, op, p, score
			}
		}
	}
	return best, bestOp, bestPath
}

// freeForm are definitions whose spec describes the .NET class, while the
// service writes them as plain JSON dictionaries ({"self":{"href":...}} for
// links, the settings object for JObject, a key-value bag for
// PropertiesCollection).
var freeForm = map[string]bool{"ReferenceLinks": true, "JObject": true, "PropertiesCollection": true}

// validator checks a JSON value against a spec schema strictly: every
// property must be declared, every value must have the declared type, enum
// and format.
type validator struct {
	spec   *openAPI
	errors []string
}

func (v *validator) fail(path, format string, args ...any) {
	v.errors = append(v.errors, path+": "+fmt.Sprintf(format, args...))
}

// resolve follows $ref and merges allOf into one schema with all properties.
func (v *validator) resolve(schema map[string]any) (map[string]any, string) {
	name := ""
	for {
		ref, ok := schema["$ref"].(string)
		if !ok {
			break
		}
		name = strings.TrimPrefix(ref, "#/definitions/")
		schema, _ = v.spec.definitions[name].(map[string]any)
		if schema == nil {
			v.fail("", "unresolved $ref %s", ref)
			return map[string]any{}, name
		}
	}
	allOf, ok := schema["allOf"].([]any)
	if !ok {
		return schema, name
	}
	merged := map[string]any{"type": "object"}
	props := map[string]any{}
	for _, part := range allOf {
		p, _ := v.resolve(part.(map[string]any))
		for k, s := range p["properties"].(map[string]any) {
			props[k] = s
		}
	}
	if own, ok := schema["properties"].(map[string]any); ok {
		for k, s := range own {
			props[k] = s
		}
	}
	merged["properties"] = props
	return merged, name
}

// subtype returns the schema of a derived definition (one whose allOf
// names the base) that declares every property of obj, when the base does
// not: the service writes the runtime type, such as a YamlProcess where the
// spec says BuildProcess.
func (v *validator) subtype(base string, schema map[string]any, obj map[string]any) map[string]any {
	declares := func(s map[string]any) bool {
		props, _ := s["properties"].(map[string]any)
		for k := range obj {
			if _, ok := props[k]; !ok {
				return false
			}
		}
		return true
	}
	if declares(schema) {
		return nil
	}
	names := make([]string, 0, len(v.spec.definitions))
	for n := range v.spec.definitions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		def, _ := v.spec.definitions[n].(map[string]any)
		allOf, _ := def["allOf"].([]any)
		for _, part := range allOf {
			if ref, _ := part.(map[string]any)["$ref"].(string); ref == "#/definitions/"+base {
				if sub, _ := v.resolve(def); declares(sub) {
					return sub
				}
			}
		}
	}
	return nil
}

func (v *validator) check(path string, value any, schema map[string]any) {
	schema, name := v.resolve(schema)
	if freeForm[name] {
		if _, ok := value.(map[string]any); !ok {
			v.fail(path, "%s must be an object, got %T", name, value)
		}
		return
	}
	if value == nil {
		return
	}
	if len(schema) == 1 && schema["type"] == "object" {
		return // a .NET object member: any JSON value
	}
	if obj, ok := value.(map[string]any); ok && name != "" {
		if sub := v.subtype(name, schema, obj); sub != nil {
			schema = sub
		}
	}
	if enum, ok := schema["enum"].([]any); ok {
		s, _ := value.(string)
		found := false
		for _, e := range enum {
			found = found || e == s
		}
		if !found {
			v.fail(path, "%v is not one of %v", value, enum)
		}
		return
	}
	typ, _ := schema["type"].(string)
	if typ == "" && schema["properties"] != nil {
		typ = "object"
	}
	switch typ {
	case "object":
		obj, ok := value.(map[string]any)
		if !ok {
			v.fail(path, "want an object, got %T", value)
			return
		}
		props, _ := schema["properties"].(map[string]any)
		extra, _ := schema["additionalProperties"].(map[string]any)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if s, ok := props[k].(map[string]any); ok {
				v.check(path+"."+k, obj[k], s)
			} else if extra != nil {
				v.check(path+"."+k, obj[k], extra)
			} else if len(props) > 0 {
				v.fail(path, "property %q is not in the spec", k)
			}
		}
	case "array":
		arr, ok := value.([]any)
		if !ok {
			v.fail(path, "want an array, got %T", value)
			return
		}
		items, _ := schema["items"].(map[string]any)
		for i, item := range arr {
			v.check(fmt.Sprintf("%s[%d]", path, i), item, items)
		}
	case "string":
		s, ok := value.(string)
		if !ok {
			if schema["format"] == "T" {
				return // a generic member (GitChange.item) carries an object
			}
			v.fail(path, "want a string, got %T", value)
			return
		}
		switch schema["format"] {
		case "date-time":
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				v.fail(path, "%q is not a date-time", s)
			}
		case "uuid":
			if _, err := uuid.Parse(s); err != nil {
				v.fail(path, "%q is not a uuid", s)
			}
		}
	case "integer":
		f, ok := value.(float64)
		if !ok || f != math.Trunc(f) {
			v.fail(path, "want an integer, got %v", value)
		}
	case "number":
		if _, ok := value.(float64); !ok {
			v.fail(path, "want a number, got %T", value)
		}
	case "boolean":
		if _, ok := value.(bool); !ok {
			v.fail(path, "want a boolean, got %T", value)
		}
	}
}

// notInSpec are the locations the client uses that the 7.1 documents do not
// describe: the location service's resource areas and connection data, and
// git routes called without a project.
func notInSpec(path string) bool {
	lower := strings.ToLower(path)
	return strings.HasSuffix(lower, "/_apis/resourceareas") || strings.HasSuffix(lower, "/_apis/connectiondata")
}

// TestResponsesMatchTheSpec drives every route through the client, then
// checks every response body the server wrote: successes against the
// operation's response schema in the OpenAPI documents, errors against the
// WrappedError shape.
func TestResponsesMatchTheSpec(t *testing.T) {
	t.Parallel()
	specs := loadSpecs(t)
	e := newEnv(t)
	exerciseEveryRoute(t, e)

	checked := map[string]int{}
	for _, r := range e.s.Requests() {
		if r.Method == http.MethodOptions || r.Response == nil {
			continue
		}
		path := "/" + strings.SplitN(strings.TrimPrefix(r.Path, "/"), "/", 2)[1]
		if bytes.HasPrefix(r.Response, []byte("PK\x03\x04")) && strings.HasSuffix(strings.ToLower(r.Path), "/artifacts") {
			checked["zip "+r.Method+" "+path]++ // an artifact's contents (GetArtifactContentZip, downloadUrl)
			continue
		}
		var body any
		if err := json.Unmarshal(r.Response, &body); err != nil {
			t.Errorf("%s %s: response is not JSON: %v", r.Method, r.Path, err)
			continue
		}
		if r.Status >= 400 {
			checkWrappedError(t, r, body)
			continue
		}
		if notInSpec(path) {
			continue
		}
		sp, op, specPath := operation(specs, r.Method, path)
		if op == nil {
			t.Errorf("%s %s: no operation in the spec", r.Method, path)
			continue
		}
		responses, _ := op["responses"].(map[string]any)
		resp, _ := responses["200"].(map[string]any)
		schema, _ := resp["schema"].(map[string]any)
		if schema == nil {
			t.Errorf("%s %s: the spec has no 200 response schema", r.Method, specPath)
			continue
		}
		v := &validator{spec: sp}
		resolved, _ := v.resolve(schema)
		if resolved["type"] == "array" && strings.Contains(r.RawQuery, "artifactName=") {
			// GetArtifact: the spec merges it into the list operation of the
			// same path; the service answers one BuildArtifact.
			schema, _ = resolved["items"].(map[string]any)
			resolved = schema
		}
		if resolved["type"] == "array" {
			obj, ok := body.(map[string]any)
			if !ok || obj["value"] == nil || obj["count"] != float64(len(obj["value"].([]any))) {
				t.Errorf("%s %s: a list must be written as {count, value}: %s", r.Method, path, r.Response)
				continue
			}
			body = obj["value"]
		}
		v.check("$", body, schema)
		for _, msg := range v.errors {
			t.Errorf("%s %s (%s %s): %s", r.Method, path, sp.name, specPath, msg)
		}
		checked[r.Method+" "+specPath]++
	}
	want := []string{
		"GET /{organization}/_apis/projects", "GET /{organization}/_apis/projects/{projectId}",
		"GET /{organization}/{project}/_apis/git/repositories/{repositoryId}",
		"GET /{organization}/{project}/_apis/git/repositories/{repositoryId}/refs",
		"POST /{organization}/{project}/_apis/git/repositories/{repositoryId}/refs",
		"POST /{organization}/{project}/_apis/git/repositories/{repositoryId}/pushes",
		"POST /{organization}/{project}/_apis/git/repositories/{repositoryId}/pullrequests",
		"GET /{organization}/{project}/_apis/git/repositories/{repositoryId}/pullrequests",
		"GET /{organization}/{project}/_apis/git/repositories/{repositoryId}/pullrequests/{pullRequestId}",
		"PATCH /{organization}/{project}/_apis/git/repositories/{repositoryId}/pullrequests/{pullRequestId}",
		"GET /{organization}/{project}/_apis/git/pullrequests/{pullRequestId}",
		"POST /{organization}/{project}/_apis/git/repositories/{repositoryId}/pullRequests/{pullRequestId}/statuses",
		"GET /{organization}/{project}/_apis/git/repositories/{repositoryId}/pullRequests/{pullRequestId}/statuses",
		"POST /{organization}/{project}/_apis/git/repositories/{repositoryId}/pullRequests/{pullRequestId}/threads",
		"GET /{organization}/{project}/_apis/git/repositories/{repositoryId}/pullRequests/{pullRequestId}/threads",
		"GET /{organization}/{project}/_apis/git/repositories/{repositoryId}/pullRequests/{pullRequestId}/commits",
		"POST /{organization}/{project}/_apis/git/repositories/{repositoryId}/pullRequests/{pullRequestId}/labels",
		"GET /{organization}/{project}/_apis/git/repositories/{repositoryId}/pullRequests/{pullRequestId}/labels",
		"GET /{organization}/{project}/_apis/git/repositories/{repositoryId}/pullRequests/{pullRequestId}/labels/{labelIdOrName}",
		"POST /{organization}/{project}/_apis/pipelines/{pipelineId}/runs",
		"GET /{organization}/{project}/_apis/pipelines/{pipelineId}/runs/{runId}",
		"GET /{organization}/{project}/_apis/pipelines/{pipelineId}",
		"POST /{organization}/{project}/_apis/build/builds",
		"GET /{organization}/{project}/_apis/build/builds/{buildId}",
		"GET /{organization}/{project}/_apis/build/definitions/{definitionId}",
		"GET /{organization}/{project}/_apis/build/builds/{buildId}/artifacts",
		"GET /{organization}/{project}/_apis/policy/evaluations",
		"GET /{organization}/{project}/_apis/policy/evaluations/{evaluationId}",
	}
	for _, op := range want {
		if checked[op] == 0 {
			t.Errorf("no response of %s was checked", op)
		}
	}
}

// checkWrappedError checks an error body's shape: exactly the members the
// service writes.
func checkWrappedError(t *testing.T, r azdo.Request, body any) {
	t.Helper()
	obj, ok := body.(map[string]any)
	if !ok {
		if _, isString := body.(string); isString && strings.HasSuffix(r.Path, "/statuses") {
			return // a missing status is answered with a bare JSON string
		}
		t.Errorf("%s %s: error body is %T", r.Method, r.Path, body)
		return
	}
	for _, k := range []string{"$id", "innerException", "message", "typeName", "typeKey", "errorCode", "eventId"} {
		if _, ok := obj[k]; !ok {
			t.Errorf("%s %s: error body lacks %q: %s", r.Method, r.Path, k, r.Response)
		}
	}
	for k := range obj {
		switch k {
		case "$id", "innerException", "message", "typeName", "typeKey", "errorCode", "eventId", "customProperties":
		default:
			t.Errorf("%s %s: error body has %q", r.Method, r.Path, k)
		}
	}
}

// exerciseEveryRoute calls each route the double serves, successes and
// failures.
func exerciseEveryRoute(t *testing.T, e *env) {
	t.Helper()
	ctx := e.ctx
	cc, err := core.NewClient(ctx, e.conn)
	if err != nil {
		t.Fatalf("core.NewClient: %v", err)
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err = cc.GetProjects(ctx, core.GetProjectsArgs{})
	must("GetProjects", err)
	_, err = cc.GetProject(ctx, core.GetProjectArgs{ProjectId: ptr("dnceng")})
	must("GetProject", err)
	_, err = e.git.GetRepository(ctx, git.GetRepositoryArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime")})
	must("GetRepository", err)
	_, err = e.git.GetRepository(ctx, git.GetRepositoryArgs{Project: ptr("dnceng"), RepositoryId: ptr("nope")})
	_, err = e.git.GetRefs(ctx, git.GetRefsArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), IncludeLinks: ptr(true)})
	must("GetRefs", err)
	_, err = e.git.UpdateRefs(ctx, git.UpdateRefsArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), RefUpdates: &[]git.GitRefUpdate{
		{Name: ptr("refs/heads/copy"), OldObjectId: ptr(strings.Repeat("0", 40)), NewObjectId: ptr(e.repo.Head("main"))}}})
	must("UpdateRefs", err)
	pr := openPR(t, e, "darc-main-1", "conformance\n")
	id := pr.PullRequestId
	_, err = e.git.GetPullRequests(ctx, git.GetPullRequestsArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), SearchCriteria: &git.GitPullRequestSearchCriteria{IncludeLinks: ptr(true)}})
	must("GetPullRequests", err)
	_, err = e.git.GetPullRequest(ctx, git.GetPullRequestArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id, IncludeCommits: ptr(true)})
	must("GetPullRequest", err)
	_, err = e.git.GetPullRequestById(ctx, git.GetPullRequestByIdArgs{Project: ptr("dnceng"), PullRequestId: id})
	must("GetPullRequestById", err)
	_, err = e.git.CreatePullRequestStatus(ctx, git.CreatePullRequestStatusArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id,
		Status: &git.GitPullRequestStatus{State: ptr(git.GitStatusStateValues.Pending), Context: &git.GitStatusContext{Name: ptr("maestro"), Genre: ptr("ci")}, IterationId: ptr(1)}})
	must("CreatePullRequestStatus", err)
	_, err = e.git.GetPullRequestStatuses(ctx, git.GetPullRequestStatusesArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id})
	must("GetPullRequestStatuses", err)
	_, err = e.git.CreateThread(ctx, git.CreateThreadArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id,
		CommentThread: &git.GitPullRequestCommentThread{Comments: &[]git.Comment{{Content: ptr("hello")}}, Status: ptr(git.CommentThreadStatusValues.Active),
			Properties: map[string]any{"Maestro.Kind": map[string]any{"$type": "System.String", "$value": "conflict"}}}})
	must("CreateThread", err)
	_, err = e.git.GetThreads(ctx, git.GetThreadsArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id})
	must("GetThreads", err)
	_, err = e.git.GetComments(ctx, git.GetCommentsArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id, ThreadId: ptr(1)})
	must("GetComments", err)
	_, err = e.git.UpdateComment(ctx, git.UpdateCommentArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id, ThreadId: ptr(1), CommentId: ptr(1),
		Comment: &git.Comment{Content: ptr("hello again")}})
	must("UpdateComment", err)
	st, err := e.git.CreatePullRequestStatus(ctx, git.CreatePullRequestStatusArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id,
		Status: &git.GitPullRequestStatus{State: ptr(git.GitStatusStateValues.Succeeded), Context: &git.GitStatusContext{Name: ptr("build"), Genre: ptr("ci")}}})
	must("CreatePullRequestStatus", err)
	_, err = e.git.GetPullRequestStatus(ctx, git.GetPullRequestStatusArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id, StatusId: st.Id})
	must("GetPullRequestStatus", err)
	must("DeletePullRequestStatus", e.git.DeletePullRequestStatus(ctx, git.DeletePullRequestStatusArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id, StatusId: st.Id}))
	_, err = e.git.GetPullRequestCommits(ctx, git.GetPullRequestCommitsArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id})
	must("GetPullRequestCommits", err)
	_, err = e.git.CreatePullRequestLabel(ctx, git.CreatePullRequestLabelArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id,
		Label: &core.WebApiCreateTagRequestData{Name: ptr("speculative")}})
	must("CreatePullRequestLabel", err)
	_, err = e.git.GetPullRequestLabels(ctx, git.GetPullRequestLabelsArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id})
	must("GetPullRequestLabels", err)
	_, err = e.git.GetPullRequestLabel(ctx, git.GetPullRequestLabelArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id, LabelIdOrName: ptr("speculative")})
	must("GetPullRequestLabel", err)
	must("DeletePullRequestLabels", e.git.DeletePullRequestLabels(ctx, git.DeletePullRequestLabelsArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), PullRequestId: id, LabelIdOrName: ptr("speculative")}))
	e.s.SetPolicyEvaluations(*id, azdo.PolicyEvaluation{Type: "Build", Status: policy.PolicyEvaluationStatusValues.Approved, Blocking: true, Settings: map[string]any{"buildDefinitionId": 1}})
	evals, err := e.policy.GetPolicyEvaluations(ctx, policy.GetPolicyEvaluationsArgs{Project: ptr("dnceng"), ArtifactId: ptr(fmt.Sprintf("vstfs:///CodeReview/CodeReviewId/%s/%d", e.project.ID, *id))})
	must("GetPolicyEvaluations", err)
	_, err = e.policy.GetPolicyEvaluation(ctx, policy.GetPolicyEvaluationArgs{Project: ptr("dnceng"), EvaluationId: (*evals)[0].EvaluationId})
	must("GetPolicyEvaluation", err)
	_, err = complete(e, *id, &git.GitPullRequestCompletionOptions{MergeStrategy: ptr(git.GitPullRequestMergeStrategyValues.NoFastForward)})
	must("complete", err)
	_, err = updatePR(e, *id, git.GitPullRequest{Title: ptr("x")})

	pl := e.s.AddYAMLPipeline(e.project, azdo.YAMLPipeline{Name: "update", Repository: e.repo, Path: "/eng/pipelines/update.yml", QueueTimeVariables: []string{"Token"}})
	run, err := e.pipes.RunPipeline(ctx, runArgs(pl.ID, pipelines.RunPipelineParameters{
		TemplateParameters: &map[string]string{"subscriptionId": "s", "buildId": "1"},
		Variables:          &map[string]pipelines.Variable{"Token": {Value: ptr("t"), IsSecret: ptr(true)}},
	}))
	must("RunPipeline", err)
	_, err = e.pipes.RunPipeline(ctx, runArgs(pl.ID, pipelines.RunPipelineParameters{}))
	e.s.SetBuildStatus(*run.Id, build.BuildStatusValues.Completed, build.BuildResultValues.Failed)
	_, err = e.pipes.GetRun(ctx, pipelines.GetRunArgs{Project: ptr("dnceng"), PipelineId: ptr(pl.ID), RunId: run.Id})
	must("GetRun", err)
	_, err = e.pipes.GetPipeline(ctx, pipelines.GetPipelineArgs{Project: ptr("dnceng"), PipelineId: ptr(pl.ID)})
	must("GetPipeline", err)
	classic := e.s.AddClassicDefinition(e.project, azdo.ClassicDefinition{Name: "classic", Repository: e.repo,
		Variables: map[string]azdo.DefinitionVariable{"A": {Value: "1", AllowOverride: true}, "Secret": {Value: "s", IsSecret: true}}})
	b, err := e.build.QueueBuild(ctx, build.QueueBuildArgs{Project: ptr("dnceng"), Build: &build.Build{Definition: &build.DefinitionReference{Id: ptr(classic.ID)}, Parameters: ptr(`{"A":"2"}`)}})
	must("QueueBuild", err)
	_, err = e.build.QueueBuild(ctx, build.QueueBuildArgs{Project: ptr("dnceng"), Build: &build.Build{Definition: &build.DefinitionReference{Id: ptr(classic.ID)}, Parameters: ptr(`{"B":"2"}`)}})
	_, err = e.build.GetBuild(ctx, build.GetBuildArgs{Project: ptr("dnceng"), BuildId: b.Id})
	must("GetBuild", err)
	_, err = e.build.GetDefinition(ctx, build.GetDefinitionArgs{Project: ptr("dnceng"), DefinitionId: ptr(classic.ID)})
	must("GetDefinition", err)
	_, err = e.build.GetDefinition(ctx, build.GetDefinitionArgs{Project: ptr("dnceng"), DefinitionId: ptr(pl.ID)})
	must("GetDefinition", err)
	_, official := officialBuild(t, e)
	_, err = e.build.GetArtifacts(ctx, build.GetArtifactsArgs{Project: ptr("dnceng"), BuildId: ptr(official)})
	must("GetArtifacts", err)
	_, err = e.build.GetArtifact(ctx, build.GetArtifactArgs{Project: ptr("dnceng"), BuildId: ptr(official), ArtifactName: ptr("AssetManifests")})
	must("GetArtifact", err)
	zr, err := e.build.GetArtifactContentZip(ctx, build.GetArtifactContentZipArgs{Project: ptr("dnceng"), BuildId: ptr(official), ArtifactName: ptr("AssetManifests")})
	must("GetArtifactContentZip", err)
	zr.Close()
	_, err = e.build.GetArtifact(ctx, build.GetArtifactArgs{Project: ptr("dnceng"), BuildId: ptr(official), ArtifactName: ptr("drop")})
}

// TestValidatorCatchesDeviations shows the schema check fails on the
// deviations it exists to catch.
func TestValidatorCatchesDeviations(t *testing.T) {
	t.Parallel()
	specs := loadSpecs(t)
	var gitSpec *openAPI
	for _, sp := range specs {
		if sp.name == "git" {
			gitSpec = sp
		}
	}
	schema := map[string]any{"$ref": "#/definitions/GitPullRequest"}
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "valid", body: `{"pullRequestId":1,"status":"active","creationDate":"2024-01-01T00:00:00Z","_links":{"self":{"href":"x"}},"createdBy":{"id":"1","displayName":"a"}}`},
		{name: "undeclared property", body: `{"pullRequestId":1,"branch":"main"}`, want: `property "branch" is not in the spec`},
		{name: "wrong type", body: `{"pullRequestId":"1"}`, want: "want an integer"},
		{name: "bad enum", body: `{"status":"open"}`, want: "is not one of"},
		{name: "bad date", body: `{"creationDate":"yesterday"}`, want: "is not a date-time"},
		{name: "nested", body: `{"repository":{"id":"not-a-uuid"}}`, want: "is not a uuid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if err := json.Unmarshal([]byte(tt.body), &body); err != nil {
				t.Fatal(err)
			}
			v := &validator{spec: gitSpec}
			v.check("$", body, schema)
			got := strings.Join(v.errors, "\n")
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("errors = %q, want %q", got, tt.want)
			}
		})
	}
}
