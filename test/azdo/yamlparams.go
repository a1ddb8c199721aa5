package azdo

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlParameter is a runtime parameter a pipeline's YAML declares under
// parameters:.
type yamlParameter struct {
	name       string
	typ        string // string (the default), number, boolean, object, step, stepList, ...
	hasDefault bool
	values     []string // allowed values; empty when any value is allowed
}

// pipelineYAML is what the double reads from a pipeline's YAML: its runtime
// parameters and the aliases of its repository resources.
type pipelineYAML struct {
	parameters   []yamlParameter
	repositories []string
}

// parsePipelineYAML reads the parameters and repository resources of a
// pipeline YAML file. Both the list form of parameters (name, type, default,
// values) and the older mapping form (name: default) are understood.
func parsePipelineYAML(text []byte) (pipelineYAML, error) {
	var doc struct {
		Parameters yaml.Node `yaml:"parameters"`
		Resources  struct {
			Repositories []struct {
				Repository string `yaml:"repository"`
			} `yaml:"repositories"`
		} `yaml:"resources"`
	}
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return pipelineYAML{}, fmt.Errorf("parse pipeline YAML: %w", err)
	}
	var out pipelineYAML
	for _, r := range doc.Resources.Repositories {
		if r.Repository != "" {
			out.repositories = append(out.repositories, r.Repository)
		}
	}
	switch doc.Parameters.Kind {
	case 0:
	case yaml.SequenceNode:
		for _, item := range doc.Parameters.Content {
			if item.Kind != yaml.MappingNode {
				return pipelineYAML{}, fmt.Errorf("parse pipeline YAML: line %d: a parameter must be a mapping with a name", item.Line)
			}
			p := yamlParameter{typ: "string"}
			for i := 0; i+1 < len(item.Content); i += 2 {
				key, value := item.Content[i].Value, item.Content[i+1]
				switch key {
				case "name":
					p.name = value.Value
				case "type":
					p.typ = value.Value
				case "default":
					p.hasDefault = true
				case "values":
					if value.Kind != yaml.SequenceNode {
						return pipelineYAML{}, fmt.Errorf("parse pipeline YAML: line %d: values of parameter %q must be a list", value.Line, p.name)
					}
					for _, v := range value.Content {
						p.values = append(p.values, v.Value)
					}
				}
			}
			if p.name == "" {
				return pipelineYAML{}, fmt.Errorf("parse pipeline YAML: line %d: a parameter has no name", item.Line)
			}
			out.parameters = append(out.parameters, p)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(doc.Parameters.Content); i += 2 {
			out.parameters = append(out.parameters, yamlParameter{name: doc.Parameters.Content[i].Value, typ: "object", hasDefault: true})
		}
	default:
		return pipelineYAML{}, fmt.Errorf("parse pipeline YAML: line %d: parameters must be a list", doc.Parameters.Line)
	}
	return out, nil
}

// checkTemplateParameters validates the templateParameters of a run against
// the declared parameters and returns the service's messages, one per
// problem: undeclared names, values of the wrong type or not among the
// allowed values, and parameters without a default that were not given.
func (y pipelineYAML) checkTemplateParameters(given map[string]string) []string {
	declared := map[string]yamlParameter{}
	for _, p := range y.parameters {
		declared[p.name] = p
	}
	names := make([]string, 0, len(given))
	for name := range given {
		names = append(names, name)
	}
	sort.Strings(names)
	var problems []string
	for _, name := range names {
		value := given[name]
		p, ok := declared[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("Unexpected parameter '%s'", name))
			continue
		}
		switch p.typ {
		case "boolean":
			if !strings.EqualFold(value, "true") && !strings.EqualFold(value, "false") {
				problems = append(problems, fmt.Sprintf("The '%s' parameter value '%s' is not a valid boolean.", name, value))
				continue
			}
		case "number":
			if _, err := strconv.ParseFloat(value, 64); err != nil {
				problems = append(problems, fmt.Sprintf("The '%s' parameter value '%s' is not a valid number.", name, value))
				continue
			}
		}
		if len(p.values) > 0 && !contains(p.values, value) {
			problems = append(problems, fmt.Sprintf("The '%s' parameter value '%s' is not a valid value.", name, value))
		}
	}
	for _, p := range y.parameters {
		if _, ok := given[p.name]; !ok && !p.hasDefault {
			problems = append(problems, fmt.Sprintf("A value for the '%s' parameter must be provided.", p.name))
		}
	}
	return problems
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
