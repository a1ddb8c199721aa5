package schema_test

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// pipelineValue reads an Azure Pipelines YAML document into the value the schema judges, the
// way the pipeline parser and the Azure Pipelines language server read it:
//
//   - every scalar is a string (the schema spells booleans as "^true$" patterns and numbers
//     as strings, because the pipeline parser reads no other type);
//   - a mapping key that is a compile-time expression (${{ if ... }}, ${{ else }}, ${{ each }})
//     is not a key: the entries under it are hoisted into the enclosing mapping, and a sequence
//     item of that form contributes its items to the enclosing sequence;
//   - anchors and aliases are rejected, as the service rejects them, and so are duplicate keys.
func pipelineValue(src []byte) (any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 {
		return "", nil
	}
	return convert(doc.Content[0])
}

func isExpression(s string) bool {
	return strings.HasPrefix(s, "${{") && strings.HasSuffix(s, "}}")
}

func convert(n *yaml.Node) (any, error) {
	if n.Anchor != "" || n.Kind == yaml.AliasNode {
		return nil, fmt.Errorf("line %d: anchors and aliases are not supported by Azure Pipelines", n.Line)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" && n.Value != "null" {
			return nil, nil
		}
		return n.Value, nil
	case yaml.SequenceNode:
		return convertSequence(n)
	case yaml.MappingNode:
		m := map[string]any{}
		if err := hoistMapping(n, m, map[string]bool{}); err != nil {
			return nil, err
		}
		return m, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node kind %d", n.Line, n.Kind)
}

func convertSequence(n *yaml.Node) ([]any, error) {
	items := []any{}
	for _, item := range n.Content {
		if item.Kind == yaml.MappingNode && len(item.Content) >= 2 && isExpression(item.Content[0].Value) && item.Content[1].Kind == yaml.SequenceNode {
			// - ${{ if cond }}:
			//   - item
			inner, err := convertSequence(item.Content[1])
			if err != nil {
				return nil, err
			}
			items = append(items, inner...)
			continue
		}
		v, err := convert(item)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	return items, nil
}

// hoistMapping adds the entries of mapping n to m. direct tracks the keys written directly
// (not through an expression), among which a repeat is an error; a key set in several
// conditional branches keeps the last branch's value, as the language server does.
func hoistMapping(n *yaml.Node, m map[string]any, direct map[string]bool) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: mapping keys must be scalars", k.Line)
		}
		if isExpression(k.Value) {
			switch v.Kind {
			case yaml.MappingNode:
				if err := hoistMapping(v, m, map[string]bool{}); err != nil {
					return err
				}
			case yaml.ScalarNode:
				// ${{ pair.key }}: ${{ pair.value }} inside an each: nothing to judge before expansion.
			default:
				return fmt.Errorf("line %d: expression key %s must hold a mapping here", k.Line, k.Value)
			}
			continue
		}
		if direct[k.Value] {
			return fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
		}
		direct[k.Value] = true
		value, err := convert(v)
		if err != nil {
			return err
		}
		m[k.Value] = value
	}
	return nil
}

var errNoTemplateKind = errors.New("a template must have one of steps, jobs, stages or variables at its top level")

// templateDefinition names the definition of the schema that judges a template, by its
// top-level key, as Azure Pipelines decides what kind of template a file is.
func templateDefinition(v any) (string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", errNoTemplateKind
	}
	var kinds []string
	for key, def := range map[string]string{"steps": "stepsTemplate", "jobs": "jobsTemplate", "stages": "stagesTemplate", "variables": "variablesTemplate"} {
		if _, ok := m[key]; ok {
			kinds = append(kinds, def)
		}
	}
	if len(kinds) != 1 {
		return "", errNoTemplateKind
	}
	return kinds[0], nil
}
