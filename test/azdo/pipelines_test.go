package azdo_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/test/azdo"
	"github.com/maestroplusplus/maestro/test/testenv"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/pipelines"
)

func runArgs(pipelineID int, params pipelines.RunPipelineParameters) pipelines.RunPipelineArgs {
	return pipelines.RunPipelineArgs{Project: ptr("dnceng"), PipelineId: ptr(pipelineID), RunParameters: &params}
}

func selfRef(refName string) *pipelines.RunResourcesParameters {
	return &pipelines.RunResourcesParameters{Repositories: &map[string]pipelines.RepositoryResourceParameters{"self": {RefName: ptr(refName)}}}
}

func TestRunPipeline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pl := e.s.AddYAMLPipeline(e.project, azdo.YAMLPipeline{
		Name: "runtime-dependency-update", Repository: e.repo, Path: "/eng/pipelines/update.yml",
		QueueTimeVariables: []string{"MaestroToken"},
	})
	params := pipelines.RunPipelineParameters{
		Resources:          selfRef("refs/heads/main"),
		TemplateParameters: &map[string]string{"subscriptionId": "6f5a3c1e-0000-4000-8000-000000000001", "buildId": "1234"},
		Variables:          &map[string]pipelines.Variable{"MaestroToken": {Value: ptr("s3cret"), IsSecret: ptr(true)}},
	}
	run, err := e.pipes.RunPipeline(e.ctx, runArgs(pl.ID, params))
	if err != nil {
		t.Fatalf("RunPipeline: %v", err)
	}
	if *run.Id != 1 || *run.State != pipelines.RunStateValues.InProgress || *run.Pipeline.Id != pl.ID || !strings.HasPrefix(*run.Name, "20") {
		t.Errorf("run = id %d state %s pipeline %d name %s", *run.Id, *run.State, *run.Pipeline.Id, *run.Name)
	}
	self := (*run.Resources.Repositories)["self"]
	if *self.RefName != "refs/heads/main" || *self.Version != e.repo.Head("main") {
		t.Errorf("self resource = %s@%s", *self.RefName, *self.Version)
	}
	if v := (*run.Variables)["MaestroToken"]; v.Value != nil {
		t.Errorf("a secret variable's value came back: %q", *v.Value)
	}
	if (*run.TemplateParameters)["buildId"] != "1234" {
		t.Errorf("templateParameters = %v", *run.TemplateParameters)
	}

	// The exact request is recorded.
	reqs := e.s.RunRequests()
	if len(reqs) != 1 || reqs[0].RunID != 1 || reqs[0].PipelineID != pl.ID || reqs[0].Status != http.StatusOK {
		t.Fatalf("run requests = %+v", reqs)
	}
	var body map[string]any
	if err := json.Unmarshal(reqs[0].Body, &body); err != nil {
		t.Fatalf("recorded body: %v", err)
	}
	want := `{"resources":{"repositories":{"self":{"refName":"refs/heads/main"}}},"templateParameters":{"buildId":"1234","subscriptionId":"6f5a3c1e-0000-4000-8000-000000000001"},"variables":{"MaestroToken":{"isSecret":true,"value":"s3cret"}}}`
	if got, _ := json.Marshal(body); string(got) != want {
		t.Errorf("recorded body = %s\nwant %s", got, want)
	}

	// A run is a build.
	b, err := e.build.GetBuild(e.ctx, build.GetBuildArgs{Project: ptr("dnceng"), BuildId: run.Id})
	if err != nil {
		t.Fatalf("GetBuild: %v", err)
	}
	if *b.Definition.Id != pl.ID || *b.Status != build.BuildStatusValues.NotStarted || *b.SourceBranch != "refs/heads/main" || *b.BuildNumber != *run.Name {
		t.Errorf("build = def %d status %s branch %s number %s", *b.Definition.Id, *b.Status, *b.SourceBranch, *b.BuildNumber)
	}
	e.s.SetBuildStatus(*run.Id, build.BuildStatusValues.Completed, build.BuildResultValues.Succeeded)
	got, err := e.pipes.GetRun(e.ctx, pipelines.GetRunArgs{Project: ptr("dnceng"), PipelineId: ptr(pl.ID), RunId: run.Id})
	if err != nil {
		t.Fatalf("GetRun: %v", err)
	}
	if *got.State != pipelines.RunStateValues.Completed || *got.Result != pipelines.RunResultValues.Succeeded || got.FinishedDate == nil {
		t.Errorf("run after completion = %s %v", *got.State, got.Result)
	}
	if builds := e.s.Builds(); len(builds) != 1 || *builds[0].Status != build.BuildStatusValues.Completed || *builds[0].Result != build.BuildResultValues.Succeeded {
		t.Errorf("Builds() = %+v", builds)
	}
	if p, err := e.pipes.GetPipeline(e.ctx, pipelines.GetPipelineArgs{Project: ptr("dnceng"), PipelineId: ptr(pl.ID)}); err != nil || *p.Name != "runtime-dependency-update" || *p.Configuration.Type != pipelines.ConfigurationTypeValues.Yaml {
		t.Errorf("GetPipeline = %+v, %v", p, err)
	}
}

func TestRunPipelineRejects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pl := e.s.AddYAMLPipeline(e.project, azdo.YAMLPipeline{Name: "update", Repository: e.repo, Path: "/eng/pipelines/update.yml"})
	classic := e.s.AddClassicDefinition(e.project, azdo.ClassicDefinition{Name: "classic", Repository: e.repo})
	// On a branch, the YAML declares one more parameter: runs of that branch
	// may pass it, runs of main may not.
	e.repo.Commit("feature", map[string][]byte{"eng/pipelines/update.yml": []byte(updateYAML[:len("parameters:\n")] + "- name: extra\n  type: string\n  default: ''\n" + updateYAML[len("parameters:\n"):])}, "extra parameter")
	required := map[string]string{"subscriptionId": "s", "buildId": "1"}
	with := func(extra map[string]string) *map[string]string {
		m := map[string]string{}
		for k, v := range required {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return &m
	}
	tests := []struct {
		name     string
		pipeline int
		project  string
		params   pipelines.RunPipelineParameters
		status   int
		typeKey  string
		message  string
	}{
		{name: "valid on the feature branch", pipeline: pl.ID, params: pipelines.RunPipelineParameters{Resources: selfRef("refs/heads/feature"), TemplateParameters: with(map[string]string{"extra": "x"})}},
		{name: "unknown pipeline", pipeline: 999, params: pipelines.RunPipelineParameters{}, status: http.StatusNotFound, typeKey: "PipelineNotFoundException"},
		{name: "unknown project", pipeline: pl.ID, project: "nope", params: pipelines.RunPipelineParameters{}, status: http.StatusNotFound, typeKey: "ProjectDoesNotExistWithNameException"},
		{name: "unexpected parameter on main", pipeline: pl.ID, params: pipelines.RunPipelineParameters{TemplateParameters: with(map[string]string{"extra": "x"})},
			status: http.StatusBadRequest, typeKey: "PipelineValidationException", message: "Unexpected parameter 'extra'"},
		{name: "missing required parameter", pipeline: pl.ID, params: pipelines.RunPipelineParameters{TemplateParameters: &map[string]string{"subscriptionId": "s"}},
			status: http.StatusBadRequest, typeKey: "PipelineValidationException", message: "A value for the 'buildId' parameter must be provided."},
		{name: "not a number", pipeline: pl.ID, params: pipelines.RunPipelineParameters{TemplateParameters: with(map[string]string{"buildId": "latest"})},
			status: http.StatusBadRequest, typeKey: "PipelineValidationException", message: "'buildId' parameter value 'latest' is not a valid number"},
		{name: "not an allowed value", pipeline: pl.ID, params: pipelines.RunPipelineParameters{TemplateParameters: with(map[string]string{"mode": "delete"})},
			status: http.StatusBadRequest, typeKey: "PipelineValidationException", message: "'mode' parameter value 'delete' is not a valid value"},
		{name: "variable not settable at queue time", pipeline: pl.ID, params: pipelines.RunPipelineParameters{TemplateParameters: with(nil), Variables: &map[string]pipelines.Variable{"Foo": {Value: ptr("1")}}},
			status: http.StatusBadRequest, typeKey: "PipelineValidationException", message: "You can't set the following variables (Foo)"},
		{name: "unknown branch", pipeline: pl.ID, params: pipelines.RunPipelineParameters{Resources: selfRef("refs/heads/nope"), TemplateParameters: with(nil)},
			status: http.StatusBadRequest, typeKey: "PipelineValidationException", message: "Unable to resolve the reference 'refs/heads/nope'"},
		{name: "undeclared repository resource", pipeline: pl.ID, params: pipelines.RunPipelineParameters{TemplateParameters: with(nil),
			Resources: &pipelines.RunResourcesParameters{Repositories: &map[string]pipelines.RepositoryResourceParameters{"arcade": {RefName: ptr("refs/heads/main")}}}},
			status: http.StatusBadRequest, typeKey: "PipelineValidationException", message: "Unexpected repository resource 'arcade'"},
		{name: "classic definition", pipeline: classic.ID, params: pipelines.RunPipelineParameters{}, status: http.StatusBadRequest, typeKey: "PipelineValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := runArgs(tt.pipeline, tt.params)
			if tt.project != "" {
				args.Project = ptr(tt.project)
			}
			_, err := e.pipes.RunPipeline(e.ctx, args)
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("RunPipeline: %v", err)
				}
				return
			}
			w := wantError(t, err, tt.status, tt.typeKey)
			if !strings.Contains(deref(w.Message), tt.message) {
				t.Errorf("message = %q, want it to contain %q", deref(w.Message), tt.message)
			}
		})
	}
	if reqs := e.s.RunRequests(); len(reqs) != len(tests)-1 || reqs[0].RunID == 0 || reqs[2].RunID != 0 || reqs[2].Status != http.StatusBadRequest {
		t.Errorf("recorded run requests = %+v", reqs)
	}

	t.Run("preview run", func(t *testing.T) {
		run, err := e.pipes.RunPipeline(e.ctx, runArgs(pl.ID, pipelines.RunPipelineParameters{PreviewRun: ptr(true), TemplateParameters: with(nil)}))
		if err != nil {
			t.Fatalf("preview: %v", err)
		}
		if deref(run.FinalYaml) != updateYAML || run.Id != nil {
			t.Errorf("preview = %+v", run)
		}
	})
}

func TestQueueBuild(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	classic := e.s.AddClassicDefinition(e.project, azdo.ClassicDefinition{
		Name: "runtime-update-classic", Repository: e.repo,
		Variables: map[string]azdo.DefinitionVariable{
			"SubscriptionId": {AllowOverride: true},
			"BarBuildId":     {AllowOverride: true},
			"Fixed":          {Value: "1"},
		},
	})
	b, err := e.build.QueueBuild(e.ctx, build.QueueBuildArgs{Project: ptr("dnceng"), Build: &build.Build{
		Definition:   &build.DefinitionReference{Id: ptr(classic.ID)},
		SourceBranch: ptr("refs/heads/main"),
		Parameters:   ptr(`{"SubscriptionId":"abc","BarBuildId":"42"}`),
	}})
	if err != nil {
		t.Fatalf("QueueBuild: %v", err)
	}
	if *b.Id != 1 || *b.Status != build.BuildStatusValues.NotStarted || *b.Parameters != `{"SubscriptionId":"abc","BarBuildId":"42"}` || *b.SourceVersion != e.repo.Head("main") {
		t.Errorf("build = %d %s %s %s", *b.Id, *b.Status, *b.Parameters, *b.SourceVersion)
	}
	if reqs := e.s.QueueBuildRequests(); len(reqs) != 1 || reqs[0].BuildID != 1 || !strings.Contains(string(reqs[0].Body), `\"BarBuildId\":\"42\"`) {
		t.Errorf("queue requests = %+v", reqs)
	}
	got, err := e.build.GetBuild(e.ctx, build.GetBuildArgs{Project: ptr("dnceng"), BuildId: b.Id})
	if err != nil || *got.BuildNumber != *b.BuildNumber {
		t.Errorf("GetBuild = %v, %v", got, err)
	}
	def, err := e.build.GetDefinition(e.ctx, build.GetDefinitionArgs{Project: ptr("dnceng"), DefinitionId: ptr(classic.ID)})
	if err != nil || *def.Name != "runtime-update-classic" || !*(*def.Variables)["SubscriptionId"].AllowOverride {
		t.Errorf("GetDefinition = %+v, %v", def, err)
	}

	tests := []struct {
		name    string
		build   build.Build
		status  int
		typeKey string
	}{
		{name: "unknown definition", build: build.Build{Definition: &build.DefinitionReference{Id: ptr(77)}}, status: http.StatusNotFound, typeKey: "DefinitionNotFoundException"},
		{name: "no definition", build: build.Build{SourceBranch: ptr("refs/heads/main")}, status: http.StatusBadRequest, typeKey: "ArgumentNullException"},
		{name: "variable not settable", build: build.Build{Definition: &build.DefinitionReference{Id: ptr(classic.ID)}, Parameters: ptr(`{"Fixed":"2"}`)},
			status: http.StatusBadRequest, typeKey: "BuildRequestValidationFailedException"},
		{name: "parameters not JSON", build: build.Build{Definition: &build.DefinitionReference{Id: ptr(classic.ID)}, Parameters: ptr(`SubscriptionId=abc`)},
			status: http.StatusBadRequest, typeKey: "BuildRequestValidationFailedException"},
		{name: "unknown branch", build: build.Build{Definition: &build.DefinitionReference{Id: ptr(classic.ID)}, SourceBranch: ptr("refs/heads/nope")},
			status: http.StatusBadRequest, typeKey: "BuildRequestValidationFailedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.build
			_, err := e.build.QueueBuild(e.ctx, build.QueueBuildArgs{Project: ptr("dnceng"), Build: &b})
			w := wantError(t, err, tt.status, tt.typeKey)
			if tt.typeKey == "BuildRequestValidationFailedException" && (w.CustomProperties == nil || (*w.CustomProperties)["ValidationResults"] == nil) {
				t.Errorf("no ValidationResults in %+v", w)
			}
		})
	}
	t.Run("YAML pipeline through the builds API", func(t *testing.T) {
		pl := e.s.AddYAMLPipeline(e.project, azdo.YAMLPipeline{Name: "yaml", YAML: updateYAML, Repository: e.repo})
		_, err := e.build.QueueBuild(e.ctx, build.QueueBuildArgs{Project: ptr("dnceng"), Build: &build.Build{
			Definition: &build.DefinitionReference{Id: ptr(pl.ID)}, TemplateParameters: &map[string]string{"subscriptionId": "s"}}})
		w := wantError(t, err, http.StatusBadRequest, "BuildRequestValidationFailedException")
		if !strings.Contains(w.Error(), "validation errors") {
			t.Errorf("message = %q", w.Error())
		}
	})
	t.Run("unknown build", func(t *testing.T) {
		_, err := e.build.GetBuild(e.ctx, build.GetBuildArgs{Project: ptr("dnceng"), BuildId: ptr(404)})
		wantError(t, err, http.StatusNotFound, "BuildNotFoundException")
	})
	t.Run("unknown definition", func(t *testing.T) {
		_, err := e.build.GetDefinition(e.ctx, build.GetDefinitionArgs{Project: ptr("dnceng"), DefinitionId: ptr(404)})
		wantError(t, err, http.StatusNotFound, "DefinitionNotFoundException")
	})
}

// TestProductPipeline runs the product's own dependency-update pipeline
// (pipelines/dependency-update.yml) with the parameters the flow passes.
func TestProductPipeline(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "pipelines", "dependency-update.yml"))
	if err != nil {
		t.Fatalf("read the product's pipeline: %v", err)
	}
	e := newEnv(t)
	e.repo.Commit("main", map[string][]byte{"pipelines/dependency-update.yml": data}, "Add the pipeline")
	pl := e.s.AddYAMLPipeline(e.project, azdo.YAMLPipeline{Name: "maestro-dependency-update", Repository: e.repo, Path: "/pipelines/dependency-update.yml"})
	params := map[string]string{"subscriptionId": "6f5a3c1e-0000-4000-8000-000000000001", "buildId": "12"}
	if _, err := e.pipes.RunPipeline(e.ctx, runArgs(pl.ID, pipelines.RunPipelineParameters{TemplateParameters: &params})); err != nil {
		t.Fatalf("RunPipeline: %v", err)
	}
	delete(params, "buildId")
	_, err = e.pipes.RunPipeline(e.ctx, runArgs(pl.ID, pipelines.RunPipelineParameters{TemplateParameters: &params}))
	wantError(t, err, http.StatusBadRequest, "PipelineValidationException")
}
