// Package schema_test validates what Azure Pipelines reads from this repository against the
// official schemas in ../shared/specs/azure-pipelines: the task's task.json against
// tasks.schema.json, and every YAML file under pipelines/ against pipelines-yaml.schema.json
// (templates against the template parts of that schema).
package schema_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/maestroplusplus/maestro/test/testenv"
)

// readJSON reads a JSON document the way jsonschema expects it (numbers as json.Number),
// dropping a UTF-8 byte-order mark first.
func readJSON(t testing.TB, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := decodeJSON(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

func decodeJSON(data []byte) (any, error) {
	return jsonschema.UnmarshalJSON(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
}

// compile compiles the schema document doc, registered under name, at the JSON pointer ptr
// ("" for the root).
func compile(t testing.TB, name string, doc any, ptr string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	url := "file:///" + name
	if err := c.AddResource(url, doc); err != nil {
		t.Fatalf("add %s: %v", name, err)
	}
	sch, err := c.Compile(url + "#" + ptr)
	if err != nil {
		t.Fatalf("compile %s#%s: %v", name, ptr, err)
	}
	return sch
}

// taskJSON is the part of task.json the tests read beyond the schema.
type taskJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	FriendlyName string `json:"friendlyName"`
	Version      struct {
		Major, Minor, Patch int
	} `json:"version"`
	Groups []struct {
		Name        string `json:"name"`
		VisibleRule string `json:"visibleRule"`
	} `json:"groups"`
	Inputs []struct {
		Name         string            `json:"name"`
		Type         string            `json:"type"`
		DefaultValue any               `json:"defaultValue"`
		Required     bool              `json:"required"`
		GroupName    string            `json:"groupName"`
		VisibleRule  string            `json:"visibleRule"`
		Options      map[string]string `json:"options"`
		Properties   map[string]any    `json:"properties"`
	} `json:"inputs"`
	OutputVariables []struct {
		Name string `json:"name"`
	} `json:"outputVariables"`
	Execution map[string]struct {
		Target string `json:"target"`
	} `json:"execution"`
}

func readTask(t testing.TB) (taskJSON, string) {
	t.Helper()
	path := filepath.Join(testenv.RepoRoot(t), "task", "MaestroV1", "task.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var task taskJSON
	if err := json.Unmarshal(data, &task); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return task, path
}

// reference is how YAML names the task: Name@Major.
func (task taskJSON) reference() string {
	return fmt.Sprintf("%s@%d", task.Name, task.Version.Major)
}
