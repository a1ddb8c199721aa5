package azdo

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/pipelines"
)

// YAMLPipeline configures a YAML pipeline.
type YAMLPipeline struct {
	Name   string
	Folder string // default `\`
	// Repository is the pipeline's self repository; Path is its YAML file
	// there (e.g. "/eng/pipelines/update.yml"). The file is read at the
	// branch or commit a run asks for, as the service reads it.
	Repository *Repository
	Path       string
	// YAML, when set, is used instead of the file in Repository.
	YAML string
	// QueueTimeVariables are the variables a run may set ("settable at
	// queue time"); any other variable in a run request is rejected.
	QueueTimeVariables []string
}

// ClassicDefinition configures a classic (designer) build definition.
type ClassicDefinition struct {
	Name          string
	Folder        string // default `\`
	Repository    *Repository
	DefaultBranch string // default: the repository's default branch
	Variables     map[string]DefinitionVariable
}

// DefinitionVariable is a variable of a classic definition.
type DefinitionVariable struct {
	Value         string
	AllowOverride bool // settable at queue time
	IsSecret      bool
}

// Pipeline is a pipeline (build definition) of a project.
type Pipeline struct {
	ID      int
	Name    string
	Folder  string
	Project *Project

	yaml    *YAMLPipeline
	classic *ClassicDefinition
	created time.Time
}

// AddYAMLPipeline creates a YAML pipeline. Its ID is also its build
// definition ID.
func (s *Server) AddYAMLPipeline(p *Project, y YAMLPipeline) *Pipeline {
	s.tb.Helper()
	if y.YAML == "" && (y.Repository == nil || y.Path == "") {
		s.tb.Fatalf("azdo: YAML pipeline %q needs YAML or a Repository and Path", y.Name)
	}
	if y.YAML != "" {
		if _, err := parsePipelineYAML([]byte(y.YAML)); err != nil {
			s.tb.Fatalf("azdo: YAML pipeline %q: %v", y.Name, err)
		}
	}
	return s.addPipeline(p, y.Name, y.Folder, &y, nil)
}

// AddClassicDefinition creates a classic build definition.
func (s *Server) AddClassicDefinition(p *Project, d ClassicDefinition) *Pipeline {
	s.tb.Helper()
	if d.Repository == nil {
		s.tb.Fatalf("azdo: classic definition %q needs a Repository", d.Name)
	}
	return s.addPipeline(p, d.Name, d.Folder, nil, &d)
}

func (s *Server) addPipeline(p *Project, name, folder string, y *YAMLPipeline, d *ClassicDefinition) *Pipeline {
	s.mu.Lock()
	defer s.mu.Unlock()
	if folder == "" {
		folder = `\`
	}
	pl := &Pipeline{ID: len(s.pipelines) + 1, Name: name, Folder: folder, Project: p, yaml: y, classic: d, created: s.now()}
	s.pipelines = append(s.pipelines, pl)
	return pl
}

func (s *Server) findPipeline(p *Project, id string) *Pipeline {
	n, err := strconv.Atoi(id)
	if err != nil {
		return nil
	}
	for _, pl := range s.pipelines {
		if pl.ID == n && pl.Project == p {
			return pl
		}
	}
	return nil
}

func (pl *Pipeline) repository() *Repository {
	if pl.yaml != nil {
		return pl.yaml.Repository
	}
	return pl.classic.Repository
}

func (pl *Pipeline) definitionURL() string {
	s := pl.Project.s
	return s.http.URL + "/" + s.org + "/" + pl.Project.ID.String() + "/_apis/build/Definitions/" + strconv.Itoa(pl.ID) + "?revision=1"
}

func (pl *Pipeline) pipelineURL() string {
	s := pl.Project.s
	return s.http.URL + "/" + s.org + "/" + pl.Project.ID.String() + "/_apis/pipelines/" + strconv.Itoa(pl.ID) + "?revision=1"
}

// buildRecord is a queued build or a pipeline run (a run is a build).
type buildRecord struct {
	id                 int
	pipeline           *Pipeline
	number             string
	status             build.BuildStatus
	result             build.BuildResult
	queued             time.Time
	finished           time.Time
	sourceBranch       string
	sourceVersion      string
	requestedBy        Identity
	parameters         string
	templateParameters map[string]string
	triggerInfo        map[string]string      // as the queue request gave it
	reason             build.BuildReason      // "" is manual
	repository         *build.BuildRepository // nil: the pipeline's Azure Repos repository
	artifacts          []*artifactRecord
	variables          map[string]pipelines.Variable
}

// SetBuildStatus moves a build or run on: inProgress, or completed with a
// result (succeeded, partiallySucceeded, failed, canceled).
func (s *Server) SetBuildStatus(id int, status build.BuildStatus, result build.BuildResult) {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.builds {
		if b.id == id {
			b.status, b.result = status, result
			if status == build.BuildStatusValues.Completed {
				b.finished = s.now()
			}
			return
		}
	}
	s.tb.Fatalf("azdo: SetBuildStatus: no build %d", id)
}

// newBuild records a build of a pipeline with the next ID and build number
// ($(Date:yyyyMMdd).$(Rev:r)).
func (s *Server) newBuild(pl *Pipeline, who Identity, branch, version string) *buildRecord {
	now := s.now()
	day := now.Format("20060102")
	rev := 1
	for _, b := range s.builds {
		if b.pipeline == pl && strings.HasPrefix(b.number, day+".") {
			rev++
		}
	}
	b := &buildRecord{
		id:            s.nextBuildID,
		pipeline:      pl,
		number:        fmt.Sprintf("%s.%d", day, rev),
		status:        build.BuildStatusValues.NotStarted,
		queued:        now,
		sourceBranch:  branch,
		sourceVersion: version,
		requestedBy:   who,
	}
	s.nextBuildID++
	s.builds = append(s.builds, b)
	return b
}

// pipelineRunError is the service's answer to a run it refuses.
func pipelineRunError(problems []string) *apiError {
	return newError(http.StatusBadRequest, "PipelineValidationException", "%s", strings.Join(problems, "\n"))
}

// resolveSource resolves the branch (or tag) and optional commit a run
// builds, defaulting to the repository's default branch.
func resolveSource(r *Repository, refName, version string) (string, string, error) {
	if refName == "" {
		refName = r.defaultBranch()
	} else if !strings.HasPrefix(refName, "refs/") {
		refName = "refs/heads/" + refName
	}
	oid := ""
	if refName != "" {
		var err error
		if oid, err = r.git.resolve(refName); err != nil {
			return "", "", err
		}
	}
	if oid == "" {
		return "", "", fmt.Errorf("Unable to resolve the reference '%s' to a specific version. Verify the reference exists in the source repository.", refName)
	}
	if version != "" {
		if !validOID(version) || !r.git.isCommit(strings.ToLower(version)) {
			return "", "", fmt.Errorf("Unable to resolve the version '%s' of repository '%s'. Verify the commit exists in the source repository.", version, r.Name)
		}
		oid = strings.ToLower(version)
	}
	return refName, oid, nil
}

// loadYAML returns a YAML pipeline's definition at a commit.
func (pl *Pipeline) loadYAML(commit string) (pipelineYAML, []byte, error) {
	text := []byte(pl.yaml.YAML)
	if pl.yaml.YAML == "" {
		data, err := pl.yaml.Repository.git.readBlob(commit, pl.yaml.Path)
		if err != nil {
			return pipelineYAML{}, nil, fmt.Errorf("File %s not found in repository %s version %s.", pl.yaml.Path, pl.yaml.Repository.Name, commit)
		}
		text = data
	}
	y, err := parsePipelineYAML(text)
	if err != nil {
		return pipelineYAML{}, nil, fmt.Errorf("%s: %v", pl.yaml.Path, err)
	}
	return y, text, nil
}

// checkVariables returns the variables a request may not set.
func (pl *Pipeline) checkVariables(names []string) []string {
	var refused []string
	for _, name := range names {
		ok := false
		if pl.yaml != nil {
			for _, v := range pl.yaml.QueueTimeVariables {
				ok = ok || strings.EqualFold(v, name)
			}
		} else {
			for v, def := range pl.classic.Variables {
				ok = ok || (strings.EqualFold(v, name) && def.AllowOverride)
			}
		}
		if !ok {
			refused = append(refused, name)
		}
	}
	sort.Strings(refused)
	return refused
}

func variablesRefused(names []string) string {
	return fmt.Sprintf("You can't set the following variables (%s). If you want to be able to set these variables, then edit the pipeline and select Settable at queue time on the variables tab of the pipeline editor.", strings.Join(names, ", "))
}

// handleRunPipeline serves POST {project}/_apis/pipelines/{pipelineId}/runs.
// The request is recorded as received. templateParameters are checked
// against the parameters the YAML declares (at the branch being run),
// variables against those settable at queue time, and resources.repositories
// against the self repository and the YAML's repository resources.
func handleRunPipeline(c *call) (int, any, error) {
	p, err := c.project()
	if err != nil {
		return 0, nil, err
	}
	pl := c.s.findPipeline(p, c.values["pipelineId"])
	record := RunRequest{Project: p.Name, Body: c.body, Identity: c.who.Identity}
	record.PipelineID, _ = strconv.Atoi(c.values["pipelineId"])
	c.decode(&record.Parameters)
	status, value, err := runPipeline(c, p, pl)
	if err == nil {
		if run, ok := value.(*pipelines.Run); ok && run.Id != nil {
			record.RunID = *run.Id
		}
		record.Status = status
	} else if e, ok := err.(*apiError); ok {
		record.Status = e.status
	}
	c.s.runRequests = append(c.s.runRequests, record)
	return status, value, err
}

func runPipeline(c *call, p *Project, pl *Pipeline) (int, any, error) {
	if pl == nil {
		return 0, nil, newError(http.StatusNotFound, "PipelineNotFoundException", "Pipeline with id %s not found.", c.values["pipelineId"])
	}
	var params pipelines.RunPipelineParameters
	if !c.decode(&params) {
		return 0, nil, argumentNull("runParameters")
	}
	if pl.yaml == nil {
		return 0, nil, pipelineRunError([]string{fmt.Sprintf("Pipeline %d (%s) is a classic build definition; only YAML pipelines can be run with this API. Queue it with the builds API.", pl.ID, pl.Name)})
	}
	preview := params.PreviewRun != nil && *params.PreviewRun
	if params.YamlOverride != nil && *params.YamlOverride != "" && !preview {
		return 0, nil, pipelineRunError([]string{"A YAML override is only allowed for a preview run."})
	}
	var refName, version string
	if params.Resources != nil && params.Resources.Repositories != nil {
		for alias, rp := range *params.Resources.Repositories {
			if alias == "self" {
				refName, version = deref(rp.RefName), deref(rp.Version)
			}
		}
	}
	branch, commit, err := resolveSource(pl.yaml.Repository, refName, version)
	if err != nil {
		return 0, nil, pipelineRunError([]string{err.Error()})
	}
	def, text, err := pl.loadYAML(commit)
	if preview && params.YamlOverride != nil && *params.YamlOverride != "" {
		text = []byte(*params.YamlOverride)
		def, err = parsePipelineYAML(text)
	}
	if err != nil {
		return 0, nil, pipelineRunError([]string{err.Error()})
	}
	var problems []string
	if params.Resources != nil && params.Resources.Repositories != nil {
		var aliases []string
		for alias := range *params.Resources.Repositories {
			aliases = append(aliases, alias)
		}
		sort.Strings(aliases)
		for _, alias := range aliases {
			if alias != "self" && !contains(def.repositories, alias) {
				problems = append(problems, fmt.Sprintf("Unexpected repository resource '%s'. The pipeline declares no repository resource with that name.", alias))
			}
		}
	}
	templateParameters := map[string]string{}
	if params.TemplateParameters != nil {
		templateParameters = *params.TemplateParameters
	}
	problems = append(problems, def.checkTemplateParameters(templateParameters)...)
	var variableNames []string
	if params.Variables != nil {
		for name := range *params.Variables {
			variableNames = append(variableNames, name)
		}
	}
	if refused := pl.checkVariables(variableNames); len(refused) > 0 {
		problems = append(problems, variablesRefused(refused))
	}
	if len(problems) > 0 {
		return 0, nil, pipelineRunError(problems)
	}
	if preview {
		return http.StatusOK, &pipelines.Run{
			FinalYaml: ptr(string(text)),
			Pipeline:  pl.reference(),
			State:     ptr(pipelines.RunStateValues.Unknown),
			Result:    ptr(pipelines.RunResultValues.Unknown),
		}, nil
	}
	b := c.s.newBuild(pl, c.who.Identity, branch, commit)
	b.templateParameters = templateParameters
	if params.Variables != nil {
		b.variables = *params.Variables
		vars := map[string]string{}
		for name, v := range *params.Variables {
			vars[name] = deref(v.Value)
		}
		data, _ := json.Marshal(vars)
		b.parameters = string(data)
	}
	return http.StatusOK, b.runModel(c.s), nil
}

// handleGetRun serves GET {project}/_apis/pipelines/{pipelineId}/runs[/{runId}].
func handleGetRun(c *call) (int, any, error) {
	p, err := c.project()
	if err != nil {
		return 0, nil, err
	}
	pl := c.s.findPipeline(p, c.values["pipelineId"])
	if pl == nil {
		return 0, nil, newError(http.StatusNotFound, "PipelineNotFoundException", "Pipeline with id %s not found.", c.values["pipelineId"])
	}
	if id := c.values["runId"]; id != "" {
		for _, b := range c.s.builds {
			if strconv.Itoa(b.id) == id && b.pipeline == pl {
				return http.StatusOK, b.runModel(c.s), nil
			}
		}
		return 0, nil, newError(http.StatusNotFound, "PipelineRunNotFoundException", "Run %s of pipeline %d was not found.", id, pl.ID)
	}
	var out []pipelines.Run
	for i := len(c.s.builds) - 1; i >= 0; i-- {
		if b := c.s.builds[i]; b.pipeline == pl {
			out = append(out, *b.runModel(c.s))
		}
	}
	return http.StatusOK, list(out), nil
}

// handleGetPipeline serves GET {project}/_apis/pipelines/{pipelineId}.
func handleGetPipeline(c *call) (int, any, error) {
	p, err := c.project()
	if err != nil {
		return 0, nil, err
	}
	if c.values["pipelineId"] == "" {
		var out []pipelines.Pipeline
		for _, pl := range c.s.pipelines {
			if pl.Project == p {
				out = append(out, *pl.model())
			}
		}
		return http.StatusOK, list(out), nil
	}
	pl := c.s.findPipeline(p, c.values["pipelineId"])
	if pl == nil {
		return 0, nil, newError(http.StatusNotFound, "PipelineNotFoundException", "Pipeline with id %s not found.", c.values["pipelineId"])
	}
	return http.StatusOK, pl.model(), nil
}

func (pl *Pipeline) reference() *pipelines.PipelineReference {
	return &pipelines.PipelineReference{
		Id:       ptr(pl.ID),
		Name:     ptr(pl.Name),
		Folder:   ptr(pl.Folder),
		Revision: ptr(1),
		Url:      ptr(pl.pipelineURL()),
	}
}

func (pl *Pipeline) model() *pipelines.Pipeline {
	kind := pipelines.ConfigurationTypeValues.Yaml
	if pl.classic != nil {
		kind = pipelines.ConfigurationTypeValues.DesignerJson
	}
	s := pl.Project.s
	return &pipelines.Pipeline{
		Id:            ptr(pl.ID),
		Name:          ptr(pl.Name),
		Folder:        ptr(pl.Folder),
		Revision:      ptr(1),
		Url:           ptr(pl.pipelineURL()),
		Configuration: &pipelines.PipelineConfiguration{Type: &kind},
		Links: map[string]any{
			"self": map[string]string{"href": pl.pipelineURL()},
			"web":  map[string]string{"href": s.http.URL + "/" + s.org + "/" + pl.Project.ID.String() + "/_build/definition?definitionId=" + strconv.Itoa(pl.ID)},
		},
	}
}

// runState maps a build's status and result to a run's state and result.
func (b *buildRecord) runState() (pipelines.RunState, *pipelines.RunResult) {
	switch b.status {
	case build.BuildStatusValues.Completed:
		result := pipelines.RunResultValues.Unknown
		switch b.result {
		case build.BuildResultValues.Succeeded, build.BuildResultValues.PartiallySucceeded:
			result = pipelines.RunResultValues.Succeeded
		case build.BuildResultValues.Failed:
			result = pipelines.RunResultValues.Failed
		case build.BuildResultValues.Canceled:
			result = pipelines.RunResultValues.Canceled
		}
		return pipelines.RunStateValues.Completed, &result
	case build.BuildStatusValues.Cancelling:
		return pipelines.RunStateValues.Canceling, nil
	default:
		return pipelines.RunStateValues.InProgress, nil
	}
}

func (b *buildRecord) runModel(s *Server) *pipelines.Run {
	pl := b.pipeline
	runURL := s.http.URL + "/" + s.org + "/" + pl.Project.ID.String() + "/_apis/pipelines/" + strconv.Itoa(pl.ID) + "/runs/" + strconv.Itoa(b.id)
	state, result := b.runState()
	repoType := pipelines.RepositoryTypeValues.AzureReposGit
	resources := map[string]pipelines.RepositoryResource{
		"self": {RefName: ptr(b.sourceBranch), Version: ptr(b.sourceVersion), Repository: &pipelines.Repository{Type: &repoType}},
	}
	run := &pipelines.Run{
		Id:          ptr(b.id),
		Name:        ptr(b.number),
		State:       &state,
		Result:      result,
		CreatedDate: &azuredevops.Time{Time: b.queued},
		Url:         ptr(runURL),
		Pipeline:    pl.reference(),
		Resources:   &pipelines.RunResources{Repositories: &resources},
		Links: map[string]any{
			"self":         map[string]string{"href": runURL},
			"web":          map[string]string{"href": s.http.URL + "/" + s.org + "/" + pl.Project.ID.String() + "/_build/results?buildId=" + strconv.Itoa(b.id)},
			"pipeline":     map[string]string{"href": pl.pipelineURL()},
			"pipeline.web": map[string]string{"href": s.http.URL + "/" + s.org + "/" + pl.Project.ID.String() + "/_build/definition?definitionId=" + strconv.Itoa(pl.ID)},
		},
	}
	if !b.finished.IsZero() {
		run.FinishedDate = &azuredevops.Time{Time: b.finished}
	}
	if len(b.templateParameters) > 0 {
		tp := map[string]any{}
		for k, v := range b.templateParameters {
			tp[k] = v
		}
		run.TemplateParameters = &tp
	}
	if len(b.variables) > 0 {
		vars := map[string]pipelines.Variable{}
		for k, v := range b.variables {
			if v.IsSecret != nil && *v.IsSecret {
				v = pipelines.Variable{IsSecret: ptr(true)}
			}
			vars[k] = v
		}
		run.Variables = &vars
	}
	return run
}

// queueBuildBody is the part of a Build a queue request may carry.
type queueBuildBody struct {
	Definition *struct {
		ID *int `json:"id"`
	} `json:"definition"`
	SourceBranch       string            `json:"sourceBranch"`
	SourceVersion      string            `json:"sourceVersion"`
	Parameters         string            `json:"parameters"`
	TemplateParameters map[string]string `json:"templateParameters"`
	TriggerInfo        map[string]string `json:"triggerInfo"`
}

// handleQueueBuild serves POST {project}/_apis/build/builds: queue a build
// of a classic definition or a YAML pipeline. parameters is a JSON object
// of variables as a string; variables must be settable at queue time.
func handleQueueBuild(c *call) (int, any, error) {
	p, err := c.project()
	if err != nil {
		return 0, nil, err
	}
	record := QueueBuildRequest{Project: p.Name, Body: c.body, Identity: c.who.Identity}
	c.decode(&record.Build)
	status, value, err := queueBuild(c, p)
	if err == nil {
		if b, ok := value.(*build.Build); ok && b.Id != nil {
			record.BuildID = *b.Id
		}
		record.Status = status
	} else if e, ok := err.(*apiError); ok {
		record.Status = e.status
	}
	c.s.queueRequests = append(c.s.queueRequests, record)
	return status, value, err
}

func validationFailed(problems []string) *apiError {
	var results []map[string]string
	for _, p := range problems {
		results = append(results, map[string]string{"result": "error", "message": p})
	}
	e := newError(http.StatusBadRequest, "BuildRequestValidationFailedException", "Could not queue the build because there were validation errors or warnings.")
	e.custom = map[string]any{"ValidationResults": results}
	return e
}

func queueBuild(c *call, p *Project) (int, any, error) {
	var body queueBuildBody
	if !c.decode(&body) {
		return 0, nil, argumentNull("build")
	}
	defID := 0
	if v := c.query.Get("definitionId"); v != "" {
		defID, _ = strconv.Atoi(v)
	}
	if body.Definition != nil && body.Definition.ID != nil {
		defID = *body.Definition.ID
	}
	if defID == 0 {
		return 0, nil, argumentNull("build.Definition")
	}
	pl := c.s.findPipeline(p, strconv.Itoa(defID))
	if pl == nil {
		return 0, nil, newError(http.StatusNotFound, "DefinitionNotFoundException", "Build pipeline %d was not found.", defID)
	}
	refName := body.SourceBranch
	if refName == "" && pl.classic != nil && pl.classic.DefaultBranch != "" {
		refName = pl.classic.DefaultBranch
	}
	branch, commit, err := resolveSource(pl.repository(), refName, body.SourceVersion)
	if err != nil {
		return 0, nil, validationFailed([]string{err.Error()})
	}
	var problems []string
	vars := map[string]string{}
	if strings.TrimSpace(body.Parameters) != "" {
		if err := json.Unmarshal([]byte(body.Parameters), &vars); err != nil {
			problems = append(problems, fmt.Sprintf("The parameters are not a JSON object of variable names and values: %v", err))
		}
	}
	var names []string
	for name := range vars {
		names = append(names, name)
	}
	if refused := pl.checkVariables(names); len(refused) > 0 {
		problems = append(problems, variablesRefused(refused))
	}
	if pl.yaml != nil {
		def, _, err := pl.loadYAML(commit)
		if err != nil {
			problems = append(problems, err.Error())
		} else {
			problems = append(problems, def.checkTemplateParameters(body.TemplateParameters)...)
		}
	} else if len(body.TemplateParameters) > 0 {
		problems = append(problems, "Template parameters can only be given to YAML pipelines.")
	}
	if len(problems) > 0 {
		return 0, nil, validationFailed(problems)
	}
	b := c.s.newBuild(pl, c.who.Identity, branch, commit)
	b.parameters = body.Parameters
	b.templateParameters = body.TemplateParameters
	b.triggerInfo = body.TriggerInfo
	if len(vars) > 0 {
		b.variables = map[string]pipelines.Variable{}
		for k, v := range vars {
			b.variables[k] = pipelines.Variable{Value: ptr(v)}
		}
	}
	return http.StatusOK, b.model(c.s), nil
}

// handleGetBuild serves GET {project}/_apis/build/Builds/{buildId}.
func handleGetBuild(c *call) (int, any, error) {
	p, err := c.project()
	if err != nil {
		return 0, nil, err
	}
	id := c.values["buildId"]
	if id == "" {
		var out []build.Build
		for i := len(c.s.builds) - 1; i >= 0; i-- {
			if b := c.s.builds[i]; b.pipeline.Project == p {
				out = append(out, *b.model(c.s))
			}
		}
		return http.StatusOK, list(out), nil
	}
	for _, b := range c.s.builds {
		if strconv.Itoa(b.id) == id && b.pipeline.Project == p {
			return http.StatusOK, b.model(c.s), nil
		}
	}
	return 0, nil, newError(http.StatusNotFound, "BuildNotFoundException", "The requested build %s could not be found.", id)
}

func (b *buildRecord) model(s *Server) *build.Build {
	pl := b.pipeline
	proj := pl.Project.reference()
	buildURL := s.http.URL + "/" + s.org + "/" + pl.Project.ID.String() + "/_apis/build/Builds/" + strconv.Itoa(b.id)
	repo := pl.repository()
	m := &build.Build{
		Id:                 ptr(b.id),
		BuildNumber:        ptr(b.number),
		Status:             ptr(b.status),
		QueueTime:          &azuredevops.Time{Time: b.queued},
		Url:                ptr(buildURL),
		Uri:                ptr("vstfs:///Build/Build/" + strconv.Itoa(b.id)),
		Definition:         pl.definitionReference(),
		Project:            proj,
		SourceBranch:       ptr(b.sourceBranch),
		SourceVersion:      ptr(b.sourceVersion),
		Priority:           ptr(build.QueuePriorityValues.Normal),
		Reason:             ptr(cmp.Or(b.reason, build.BuildReasonValues.Manual)),
		RequestedBy:        s.identityRef(b.requestedBy),
		RequestedFor:       s.identityRef(b.requestedBy),
		LastChangedBy:      s.identityRef(b.requestedBy),
		LastChangedDate:    &azuredevops.Time{Time: b.queued},
		RetainedByRelease:  ptr(false),
		Repository:         cmp.Or(b.repository, &build.BuildRepository{Id: ptr(repo.ID.String()), Name: ptr(repo.Name), Type: ptr("TfsGit"), Url: ptr(repo.RemoteURL())}),
		Queue:              &build.AgentPoolQueue{Id: ptr(1), Name: ptr("Azure Pipelines")},
		Tags:               &[]string{},
		TemplateParameters: nilIfEmpty(b.templateParameters),
		TriggerInfo:        ptr(triggerInfo(b.triggerInfo)),
		Links: map[string]any{
			"self": map[string]string{"href": buildURL},
			"web":  map[string]string{"href": s.http.URL + "/" + s.org + "/" + pl.Project.ID.String() + "/_build/results?buildId=" + strconv.Itoa(b.id)},
		},
	}
	if b.parameters != "" {
		m.Parameters = ptr(b.parameters)
	}
	if b.status == build.BuildStatusValues.Completed {
		m.Result = ptr(b.result)
		m.FinishTime = &azuredevops.Time{Time: b.finished}
	}
	if b.status != build.BuildStatusValues.NotStarted {
		m.StartTime = &azuredevops.Time{Time: b.queued}
	}
	return m
}

// triggerInfo is a build's triggerInfo as the Builds API returns it: an
// object, empty when the queue request gave none.
func triggerInfo(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nilIfEmpty(m map[string]string) *map[string]string {
	if len(m) == 0 {
		return nil
	}
	return &m
}

func (pl *Pipeline) definitionReference() *build.DefinitionReference {
	return &build.DefinitionReference{
		Id:          ptr(pl.ID),
		Name:        ptr(pl.Name),
		Path:        ptr(pl.Folder),
		Revision:    ptr(1),
		Type:        ptr(build.DefinitionTypeValues.Build),
		QueueStatus: ptr(build.DefinitionQueueStatusValues.Enabled),
		Project:     pl.Project.reference(),
		Url:         ptr(pl.definitionURL()),
		Uri:         ptr("vstfs:///Build/Definition/" + strconv.Itoa(pl.ID)),
		CreatedDate: &azuredevops.Time{Time: pl.created},
	}
}

// handleGetDefinition serves GET {project}/_apis/build/Definitions/{definitionId}.
func handleGetDefinition(c *call) (int, any, error) {
	p, err := c.project()
	if err != nil {
		return 0, nil, err
	}
	pl := c.s.findPipeline(p, c.values["definitionId"])
	if pl == nil {
		return 0, nil, newError(http.StatusNotFound, "DefinitionNotFoundException", "Build pipeline %s was not found.", c.values["definitionId"])
	}
	ref := pl.definitionReference()
	repo := pl.repository()
	d := &build.BuildDefinition{
		Id: ref.Id, Name: ref.Name, Path: ref.Path, Revision: ref.Revision, Type: ref.Type, QueueStatus: ref.QueueStatus,
		Project: ref.Project, Url: ref.Url, Uri: ref.Uri, CreatedDate: ref.CreatedDate,
		Quality:           ptr(build.DefinitionQualityValues.Definition),
		BuildNumberFormat: ptr("$(date:yyyyMMdd)$(rev:.r)"),
		Repository: &build.BuildRepository{
			Id: ptr(repo.ID.String()), Name: ptr(repo.Name), Type: ptr("TfsGit"), Url: ptr(repo.RemoteURL()),
			DefaultBranch: ptr(repo.defaultBranch()),
		},
	}
	if pl.yaml != nil {
		d.Process = build.YamlProcess{Type: ptr(2), YamlFilename: ptr(pl.yaml.Path)}
	} else {
		d.Process = map[string]any{"type": 1}
		vars := map[string]build.BuildDefinitionVariable{}
		for name, v := range pl.classic.Variables {
			def := build.BuildDefinitionVariable{AllowOverride: ptr(v.AllowOverride), IsSecret: ptr(v.IsSecret)}
			if !v.IsSecret {
				def.Value = ptr(v.Value)
			}
			vars[name] = def
		}
		d.Variables = &vars
	}
	return http.StatusOK, d, nil
}
