package schema_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/test/testenv"
)

func TestTaskJSONValidatesAgainstTasksSchema(t *testing.T) {
	sch := compile(t, "tasks.schema.json", readJSON(t, filepath.Join(testenv.Shared(t, "specs", "azure-pipelines"), "tasks.schema.json")), "")
	_, path := readTask(t)
	if err := sch.Validate(readJSON(t, path)); err != nil {
		t.Fatalf("%s does not validate against tasks.schema.json:\n%v", path, err)
	}
}

// TestTasksSchemaRejectsBrokenTasks shows the schema check can fail: each case breaks one
// field of the real task.json.
func TestTasksSchemaRejectsBrokenTasks(t *testing.T) {
	sch := compile(t, "tasks.schema.json", readJSON(t, filepath.Join(testenv.Shared(t, "specs", "azure-pipelines"), "tasks.schema.json")), "")
	_, path := readTask(t)
	cases := []struct {
		name   string
		mutate func(task map[string]any)
	}{
		{"id not a GUID", func(task map[string]any) { task["id"] = "maestro" }},
		{"name with a space", func(task map[string]any) { task["name"] = "Maestro Task" }},
		{"version without Patch", func(task map[string]any) { delete(task["version"].(map[string]any), "Patch") }},
		{"unknown input type", func(task map[string]any) {
			task["inputs"].([]any)[0].(map[string]any)["type"] = "dropdown"
		}},
		{"unknown execution handler", func(task map[string]any) {
			task["execution"].(map[string]any)["Node99"] = map[string]any{"target": "index.js"}
		}},
		{"unknown top-level field", func(task map[string]any) { task["handler"] = "node" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			task := readJSON(t, path).(map[string]any)
			c.mutate(task)
			if err := sch.Validate(task); err == nil {
				t.Fatal("broken task.json validated")
			}
		})
	}
}

// TestTaskJSONConsistent checks what the schema cannot: references between fields, and the
// promises the wrapper relies on.
func TestTaskJSONConsistent(t *testing.T) {
	task, path := readTask(t)
	root := filepath.Dir(path)
	if task.Name != "Maestro" || task.Version.Major != 1 {
		t.Errorf("task is %s, want Maestro@1", task.reference())
	}
	if n := len(task.FriendlyName); n > 40 {
		t.Errorf("friendlyName is %d characters; the marketplace allows 40", n)
	}
	for _, handler := range []string{"Node20_1", "Node16"} {
		exec, ok := task.Execution[handler]
		if !ok {
			t.Errorf("execution lacks the %s handler", handler)
			continue
		}
		if _, err := os.Stat(filepath.Join(root, exec.Target)); err != nil {
			t.Errorf("execution.%s.target: %v", handler, err)
		}
	}
	var outputs []string
	for _, o := range task.OutputVariables {
		outputs = append(outputs, o.Name)
	}
	if want := []string{"MaestroBuildId", "MaestroChannels"}; !slices.Equal(outputs, want) {
		t.Errorf("outputVariables = %v, want %v", outputs, want)
	}

	names := map[string]bool{}
	for _, in := range task.Inputs {
		if names[in.Name] {
			t.Errorf("input %s declared twice", in.Name)
		}
		names[in.Name] = true
	}
	groups := map[string]bool{}
	for _, g := range task.Groups {
		groups[g.Name] = true
		checkRule(t, "group "+g.Name, g.VisibleRule, names)
	}
	for _, in := range task.Inputs {
		if in.GroupName != "" && !groups[in.GroupName] {
			t.Errorf("input %s: groupName %q is not a declared group", in.Name, in.GroupName)
		}
		checkRule(t, "input "+in.Name, in.VisibleRule, names)
		if in.Type == "pickList" && len(in.Options) == 0 {
			t.Errorf("input %s: a pickList without options", in.Name)
		}
		if in.Type == "pickList" {
			if def, _ := in.DefaultValue.(string); def != "" && in.Options[def] == "" {
				t.Errorf("input %s: default %q is not one of its options", in.Name, def)
			}
		}
	}
	for _, want := range []string{"command", "manifests", "store", "storeConnectionString", "channels", "versionDetails", "uploadAssets", "azureDevOpsToken", "extraArguments"} {
		if !names[want] {
			t.Errorf("input %s is missing", want)
		}
	}
	var command map[string]string
	for _, in := range task.Inputs {
		if in.Name == "command" {
			command = in.Options
		}
	}
	for _, want := range []string{"publish", "trigger-subscription", "add-build-to-channel", "apply-subscription", "flow-tick"} {
		if _, ok := command[want]; !ok {
			t.Errorf("command has no option %s", want)
		}
	}
}

var ruleTerm = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9]*)\s*(=|!=|NotEndsWith|EndsWith|NotContains|Contains|NotStartsWith|StartsWith)\s*\S`)

// checkRule checks that every term of a visibleRule ("a = x || b != y") names a declared input.
func checkRule(t *testing.T, where, rule string, inputs map[string]bool) {
	t.Helper()
	if rule == "" {
		return
	}
	for _, term := range regexp.MustCompile(`&&|\|\|`).Split(rule, -1) {
		m := ruleTerm.FindStringSubmatch(term)
		if m == nil {
			t.Errorf("%s: visibleRule term %q is not 'input op value'", where, strings.TrimSpace(term))
			continue
		}
		if !inputs[m[1]] {
			t.Errorf("%s: visibleRule names %q, which is not an input", where, m[1])
		}
	}
}
