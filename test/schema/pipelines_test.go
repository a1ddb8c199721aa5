package schema_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/maestroplusplus/maestro/test/testenv"
)

// pipelineSchema is the pipelines YAML schema as an organization that installed our extension
// serves it: the service generates one entry per installed task into definitions.task, so the
// test adds the Maestro task's entry, generated from task.json the same way (input names, the
// options of pick lists, inputs that are required with no default and no visibility rule).
// Boolean inputs use the schema's own "boolean" definition, since scalars are read as strings.
type pipelineSchema struct {
	doc map[string]any
}

func loadPipelineSchema(t testing.TB) pipelineSchema {
	t.Helper()
	doc := readJSON(t, filepath.Join(testenv.Shared(t, "specs", "azure-pipelines"), "pipelines-yaml.schema.json")).(map[string]any)
	task, _ := readTask(t)
	defs := doc["definitions"].(map[string]any)
	taskDef := defs["task"].(map[string]any)
	names := taskDef["properties"].(map[string]any)["task"].(map[string]any)
	names["anyOf"] = append(names["anyOf"].([]any), map[string]any{"enum": []any{task.reference()}})
	taskDef["anyOf"] = append(taskDef["anyOf"].([]any), taskEntry(t, task))
	return pipelineSchema{doc: doc}
}

func taskEntry(t testing.TB, task taskJSON) map[string]any {
	t.Helper()
	hiddenGroups := map[string]bool{}
	for _, g := range task.Groups {
		hiddenGroups[g.Name] = g.VisibleRule != ""
	}
	props := map[string]any{}
	required := []any{}
	for _, in := range task.Inputs {
		switch {
		case in.Type == "boolean":
			props[in.Name] = map[string]any{"$ref": "#/definitions/boolean"}
		case (in.Type == "pickList" || in.Type == "radio") && in.Properties["EditableOptions"] != "True":
			var options []any
			for name := range in.Options {
				options = append(options, name)
			}
			props[in.Name] = map[string]any{"enum": options}
		case slices.Contains([]string{"string", "multiLine", "filePath", "pickList", "secureFile"}, in.Type),
			strings.HasPrefix(in.Type, "connectedService:"):
			props[in.Name] = map[string]any{"type": "string"}
		default:
			t.Fatalf("task.json input %s has type %s, which this test does not map yet", in.Name, in.Type)
		}
		def, _ := in.DefaultValue.(string)
		if in.Required && def == "" && in.VisibleRule == "" && !hiddenGroups[in.GroupName] {
			required = append(required, in.Name)
		}
	}
	entryRequired := []any{"task"}
	if len(required) > 0 {
		entryRequired = append(entryRequired, "inputs")
	}
	return map[string]any{
		"properties": map[string]any{
			"task":   map[string]any{"pattern": fmt.Sprintf("^%s$", task.reference())},
			"inputs": map[string]any{"properties": props, "additionalProperties": false, "required": required},
		},
		"required": entryRequired,
	}
}

// compile returns the validator for a whole pipeline (definition "") or a template definition.
func (s pipelineSchema) compile(t testing.TB, definition string) *jsonschema.Schema {
	t.Helper()
	ptr := ""
	if definition != "" {
		ptr = "/definitions/" + definition
	}
	return compile(t, "pipelines-yaml.schema.json", s.doc, ptr)
}

// validator picks the schema part for a file under pipelines/: templates/ holds templates, judged
// by their kind; everything else is a pipeline.
type validator struct {
	schema   pipelineSchema
	compiled map[string]*jsonschema.Schema
}

func (v *validator) validate(t testing.TB, rel string, src []byte) error {
	t.Helper()
	value, err := pipelineValue(src)
	if err != nil {
		return err
	}
	definition := ""
	if strings.HasPrefix(filepath.ToSlash(rel), "templates/") {
		if definition, err = templateDefinition(value); err != nil {
			return err
		}
	}
	sch, ok := v.compiled[definition]
	if !ok {
		sch = v.schema.compile(t, definition)
		v.compiled[definition] = sch
	}
	return sch.Validate(value)
}

func newValidator(t testing.TB) *validator {
	return &validator{schema: loadPipelineSchema(t), compiled: map[string]*jsonschema.Schema{}}
}

// pipelineFiles lists every YAML file under pipelines/, relative to it.
func pipelineFiles(t testing.TB) (string, []string) {
	t.Helper()
	dir := filepath.Join(testenv.RepoRoot(t), "pipelines")
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml")) {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir, files
}

func TestPipelinesValidateAgainstSchema(t *testing.T) {
	v := newValidator(t)
	dir, files := pipelineFiles(t)
	want := []string{
		"add-build-to-channel.yml", "dependency-update.yml", "flow-tick.yml",
		"mirror.yml", "templates/publish-stage.yml", "templates/publish-step.yml", "templates/speculative-update-step.yml", "trigger-subscription.yml",
	}
	var got []string
	for _, f := range files {
		got = append(got, filepath.ToSlash(f))
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("pipelines/%s is missing", w)
		}
	}
	for _, rel := range files {
		t.Run(filepath.ToSlash(rel), func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join(dir, rel))
			if err != nil {
				t.Fatal(err)
			}
			if err := v.validate(t, rel, src); err != nil {
				t.Fatalf("pipelines/%s:\n%v", rel, err)
			}
		})
	}
}

// TestSchemaRejectsBrokenPipelines shows the YAML check can fail: each case is a valid document
// and the same document with one mistake; the first must pass and the second must not.
func TestSchemaRejectsBrokenPipelines(t *testing.T) {
	v := newValidator(t)
	const step = "steps:\n- task: Maestro@1\n  inputs:\n    command: publish\n"
	cases := []struct {
		name, file, good, bad string
	}{
		{"misspelled command", "templates/x.yml", step, "steps:\n- task: Maestro@1\n  inputs:\n    command: publsh\n"},
		{"unknown task input", "templates/x.yml", step + "    storeType: url\n", step + "    storeKind: url\n"},
		{"unknown task version", "templates/x.yml", step, "steps:\n- task: Maestro@2\n  inputs:\n    command: publish\n"},
		{"boolean input", "templates/x.yml", step + "    uploadAssets: true\n", step + "    uploadAssets: sometimes\n"},
		{"input hoisted from a condition", "templates/x.yml",
			"steps:\n- task: Maestro@1\n  inputs:\n    ${{ if true }}:\n      command: flow-tick\n",
			"steps:\n- task: Maestro@1\n  inputs:\n    ${{ if true }}:\n      command: deploy\n"},
		{"step hoisted from a condition", "templates/x.yml",
			"steps:\n- ${{ if true }}:\n  - task: Maestro@1\n    inputs:\n      command: publish\n",
			"steps:\n- ${{ if true }}:\n  - task: Maestro@1\n    input:\n      command: publish\n"},
		{"job property", "p.yml",
			"jobs:\n- job: A\n  timeoutInMinutes: 5\n  steps:\n  - checkout: none\n",
			"jobs:\n- job: A\n  timeout: 5\n  steps:\n  - checkout: none\n"},
		{"trigger", "p.yml", "trigger: none\nsteps:\n- checkout: none\n", "trigger: sometimes\nsteps:\n- checkout: none\n"},
		{"template kind", "templates/x.yml", "parameters:\n- name: a\nsteps: []\n", "parameters:\n- name: a\n"},
		{"duplicate key", "p.yml", "steps:\n- checkout: none\n", "steps:\n- checkout: none\nsteps:\n- checkout: self\n"},
		{"alias", "p.yml", "variables:\n  a: b\nsteps:\n- checkout: none\n", "variables: &v\n  a: b\nsteps:\n- checkout: none\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := v.validate(t, c.file, []byte(c.good)); err != nil {
				t.Fatalf("valid document rejected:\n%s\n%v", c.good, err)
			}
			if err := v.validate(t, c.file, []byte(c.bad)); err == nil {
				t.Fatalf("accepted:\n%s", c.bad)
			}
		})
	}
}

// TestTemplateReferencesResolve checks that every local template a pipeline file names exists.
func TestTemplateReferencesResolve(t *testing.T) {
	dir, files := pipelineFiles(t)
	for _, rel := range files {
		src, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		value, err := pipelineValue(src)
		if err != nil {
			t.Fatalf("pipelines/%s: %v", rel, err)
		}
		for _, ref := range templateRefs(value) {
			if strings.Contains(ref, "@") || strings.Contains(ref, "${{") {
				continue
			}
			target := filepath.Join(dir, filepath.Dir(rel), ref)
			if strings.HasPrefix(ref, "/") {
				target = filepath.Join(testenv.RepoRoot(t), ref)
			}
			if _, err := os.Stat(target); err != nil {
				t.Errorf("pipelines/%s names template %s: %v", rel, ref, err)
			}
		}
	}
}

func templateRefs(v any) []string {
	var refs []string
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if s, ok := child.(string); ok && k == "template" {
				refs = append(refs, s)
			}
			refs = append(refs, templateRefs(child)...)
		}
	case []any:
		for _, child := range v {
			refs = append(refs, templateRefs(child)...)
		}
	}
	return refs
}

// FuzzPipelineValue feeds the YAML reader arbitrary documents, seeded with the real pipelines:
// it must return a value or an error, never panic, and what it returns must be plain data.
func FuzzPipelineValue(f *testing.F) {
	dir, files := pipelineFiles(f)
	for _, rel := range files {
		src, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte("- ${{ each x in y }}:\n  - ${{ x }}: a\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		value, err := pipelineValue(src)
		if err != nil {
			return
		}
		checkPlain(t, value)
	})
}

func checkPlain(t *testing.T, v any) {
	switch v := v.(type) {
	case nil, string:
	case map[string]any:
		for _, child := range v {
			checkPlain(t, child)
		}
	case []any:
		for _, child := range v {
			checkPlain(t, child)
		}
	default:
		t.Fatalf("value of type %T", v)
	}
}
