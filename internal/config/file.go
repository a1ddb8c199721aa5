// Package config is Maestro++ configuration as code: a YAML file that lists
// channels, default channels, subscriptions, repository merge policies,
// mirrors and publish triggers;
// parsing and checking it; the plan that brings a registry in line with it
// (additions, field-level changes and, when pruning, deletions); applying
// that plan; and exporting a registry in the same format, so that
// export → apply → export is the identity. docs/config.md describes the format.
//
// The package touches the registry only through the Registry interface, in
// Load (read) and Plan.Apply (write); everything between is pure logic.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"go.yaml.in/yaml/v3"
)

// File is one configuration file. Keys are camelCase, as in the production
// service's API; unknown keys are errors.
type File struct {
	Channels           []Channel          `yaml:"channels,omitempty"`
	DefaultChannels    []DefaultChannel   `yaml:"defaultChannels,omitempty"`
	Subscriptions      []Subscription     `yaml:"subscriptions,omitempty"`
	RepositoryPolicies []RepositoryPolicy `yaml:"repositoryPolicies,omitempty"`
	Mirrors            []Mirror           `yaml:"mirrors,omitempty"`
	PublishTriggers    []PublishTrigger   `yaml:"publishTriggers,omitempty"`

	name string     // the file's name, for messages
	root *yaml.Node // the parsed document, for line numbers; nil unless parsed
}

// Channel is a channel, identified by its name (case-insensitive).
type Channel struct {
	Name string `yaml:"name"`
	// Classification is free text; empty means "dev".
	Classification string `yaml:"classification,omitempty"`
}

// DefaultChannel sends builds of a repository branch to a channel. It is
// identified by repository, branch and channel together.
type DefaultChannel struct {
	Repository string `yaml:"repository"`
	// Branch is a branch name or "-regex:" and a regular expression.
	Branch string `yaml:"branch"`
	// Channel is the channel's name.
	Channel string `yaml:"channel"`
	// Enabled is true when omitted.
	Enabled *bool `yaml:"enabled,omitempty"`
}

// Subscription flows a source repository's builds in a channel into a target
// repository branch. It is identified by ID when given, else by channel,
// source, target, target branch and the two directories together.
type Subscription struct {
	// ID is the subscription's id; empty lets the registry assign one.
	ID               string `yaml:"id,omitempty"`
	Channel          string `yaml:"channel"`
	SourceRepository string `yaml:"sourceRepository"`
	TargetRepository string `yaml:"targetRepository"`
	TargetBranch     string `yaml:"targetBranch"`
	SourceDirectory  string `yaml:"sourceDirectory,omitempty"`
	TargetDirectory  string `yaml:"targetDirectory,omitempty"`
	// Enabled is true when omitted.
	Enabled *bool `yaml:"enabled,omitempty"`
	// UpdateFrequency is everyDay when omitted.
	UpdateFrequency         string        `yaml:"updateFrequency,omitempty"`
	Batchable               bool          `yaml:"batchable"`
	MergePolicies           []MergePolicy `yaml:"mergePolicies,omitempty"`
	ExcludedAssets          []string      `yaml:"excludedAssets,omitempty"`
	FailureNotificationTags string        `yaml:"failureNotificationTags,omitempty"`
	// UpdatePipeline, when set, is queued instead of applying updates directly.
	UpdatePipeline *UpdatePipeline `yaml:"updatePipeline,omitempty"`
	// Speculative opts in to speculative version flow (docs/speculative.md).
	Speculative bool `yaml:"speculative,omitempty"`
}

// UpdatePipeline is a subscription's dependency-update pipeline.
type UpdatePipeline struct {
	// URL is the pipeline's page: https://dev.azure.com/ORG/PROJECT/_build?definitionId=ID.
	URL string `yaml:"url"`
	// Classic marks a classic build definition.
	Classic bool `yaml:"classic,omitempty"`
}

// toMaestro reads the pipeline's URL; nil stays nil.
func (p *UpdatePipeline) toMaestro() (*maestro.UpdatePipeline, error) {
	if p == nil {
		return nil, nil
	}
	up, err := azdo.ParsePipelineURL(p.URL)
	if err != nil {
		return nil, err
	}
	up.Classic = p.Classic
	return &up, nil
}

// pipelineOf is the file form of a registry pipeline.
func pipelineOf(up *maestro.UpdatePipeline) *UpdatePipeline {
	if up == nil {
		return nil
	}
	return &UpdatePipeline{URL: azdo.PipelineURL(*up), Classic: up.Classic}
}

// pipelineValue shows a pipeline in a plan.
func pipelineValue(up *UpdatePipeline) string {
	if up == nil {
		return "none"
	}
	if up.Classic {
		return up.URL + " (classic)"
	}
	return up.URL
}

// RepositoryPolicy holds the merge policies of a repository branch, which
// batchable subscriptions into it use. It is identified by repository and branch.
type RepositoryPolicy struct {
	Repository string `yaml:"repository"`
	Branch     string `yaml:"branch"`
	// AutoMerge is true when omitted.
	AutoMerge *bool `yaml:"autoMerge,omitempty"`
	// MergeMethod is squash or native (maestro.MergeMethods); squash when
	// omitted.
	MergeMethod   string        `yaml:"mergeMethod,omitempty"`
	MergePolicies []MergePolicy `yaml:"mergePolicies,omitempty"`
	// MaxOpenPullRequests and MaxNewPullRequestsPerHour cap the flow's pull
	// requests into the branch; 0 (or omitted) is no cap.
	MaxOpenPullRequests       int `yaml:"maxOpenPullRequests,omitempty"`
	MaxNewPullRequestsPerHour int `yaml:"maxNewPullRequestsPerHour,omitempty"`
	// CheckCommand runs on every head the flow pushes to a pull request of
	// a local repository, within CheckTimeout (a Go duration, e.g. 10m;
	// empty: 10 minutes).
	CheckCommand string `yaml:"checkCommand,omitempty"`
	CheckTimeout string `yaml:"checkTimeout,omitempty"`
	// BuildCommand and TestCommand build the branch of a local repository
	// in `maestro speculative build`.
	BuildCommand string `yaml:"buildCommand,omitempty"`
	TestCommand  string `yaml:"testCommand,omitempty"`
}

// checkTimeoutSeconds is CheckTimeout in whole seconds (0 when empty or
// invalid; validation reports an invalid one).
func (p RepositoryPolicy) checkTimeoutSeconds() int {
	d, err := time.ParseDuration(p.CheckTimeout)
	if err != nil {
		return 0
	}
	return int(d.Round(time.Second) / time.Second)
}

// Mirror keeps the branches of a source repository that match its patterns
// mirrored into an Azure Repos repository, by runs of its pipeline. It is
// identified by its source repository.
type Mirror struct {
	SourceRepository string `yaml:"sourceRepository"`
	// TargetRepository is ORG/PROJECT/_git/OWNER-REPO in the pipeline's
	// organization and project when omitted.
	TargetRepository string         `yaml:"targetRepository,omitempty"`
	Branches         []MirrorBranch `yaml:"branches"`
	// Pipeline is the mirror pipeline's page:
	// https://dev.azure.com/ORG/PROJECT/_build?definitionId=ID.
	Pipeline string `yaml:"pipeline"`
}

// PublishTrigger opts an Azure DevOps pipeline in to the package-publish
// trigger of `maestro serve` (see `maestro publish-trigger`). It is
// identified by its pipeline.
type PublishTrigger struct {
	// Pipeline is the pipeline's page:
	// https://dev.azure.com/ORG/PROJECT/_build?definitionId=ID.
	Pipeline string `yaml:"pipeline"`
	// PullRequests: the pipeline's pull request builds, published as
	// speculative builds (`publish-trigger set --pull-requests`), rather
	// than its official builds. A pipeline may be listed once with each.
	PullRequests bool `yaml:"pullRequests,omitempty"`
}

// toMaestro is the registry form of a publish trigger.
func (t PublishTrigger) toMaestro() (maestro.PublishTrigger, error) {
	p, err := azdo.ParsePipelineURL(t.Pipeline)
	return maestro.PublishTrigger{Organization: registry.NormalizeOrganization(p.Organization), Project: p.Project, DefinitionID: p.PipelineID,
		PullRequests: t.PullRequests}, err
}

// MirrorBranch is a regular expression matched against whole branch names,
// and the mode (fastForward when omitted, or internalMerge) they are
// mirrored in.
type MirrorBranch struct {
	Pattern string `yaml:"pattern"`
	Mode    string `yaml:"mode,omitempty"`
}

// MergePolicy is one named check with optional properties, e.g.
// AllChecksSuccessful with {ignoreChecks: [license/cla]}.
type MergePolicy struct {
	Name       string         `yaml:"name"`
	Properties map[string]any `yaml:"properties,omitempty"`
}

// Name returns the name the file was parsed under ("" for an exported file).
func (f *File) Name() string { return f.name }

// Problem is one thing wrong with a configuration file.
type Problem struct {
	File  string
	Line  int    // 1-based; 0 when unknown
	Field string // e.g. "subscriptions[2].updateFrequency"; "" for the file as a whole
	Msg   string
}

// String returns "FILE:LINE: FIELD: MSG", leaving out what is unknown.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is the error Parse and NewPlan return for a bad file: every
// problem found, in file order, one line each.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Parse reads a configuration file. name is used in messages. Syntax errors,
// unknown keys and values of the wrong type are returned as Problems naming
// the line. An empty file is an empty configuration.
func Parse(name string, data []byte) (*File, error) {
	f := &File{name: name}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return f, nil
		}
		return nil, yamlProblems(name, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, yamlProblems(name, err)
	default:
		return nil, Problems{{File: name, Line: next.Line, Msg: "a second YAML document; a configuration file holds one (remove the \"---\" line)"}}
	}
	var ps Problems
	checkShape(name, &root, reflect.TypeFor[File](), "", &ps)
	if len(ps) > 0 {
		// Keep going where the shape allows, so that one run reports the
		// values' problems too (an unknown key and a bad updateFrequency).
		lenient := &File{name: name, root: &root}
		if yaml.NewDecoder(bytes.NewReader(data)).Decode(lenient) == nil {
			n, vps := lenient.normalized()
			c := &checker{f: n, ix: newIndex(&State{}), ps: vps}
			c.checkFile()
			ps = append(ps, c.ps...)
			sortProblems(ps)
		}
		return nil, ps
	}
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(f); err != nil {
		return nil, yamlProblems(name, err)
	}
	f.root = &root
	return f, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlProblems turns a go.yaml.in/yaml error into Problems with line numbers.
func yamlProblems(name string, err error) Problems {
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	ps := make(Problems, 0, len(msgs))
	for _, m := range msgs {
		p := Problem{File: name, Msg: strings.TrimPrefix(m, "yaml: ")}
		if sub := yamlLine.FindStringSubmatch(m); sub != nil {
			p.Line, _ = strconv.Atoi(sub[1])
			p.Msg = sub[2]
		}
		ps = append(ps, p)
	}
	return ps
}

// checkShape walks the document against the Go type it decodes into and
// reports unknown keys and lists or mappings in the wrong place, each with its
// line and field path, before the typed decode (whose messages name Go types,
// not fields, and stop at the first bad mapping).
func checkShape(file string, n *yaml.Node, t reflect.Type, path string, ps *Problems) {
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			checkShape(file, c, t, path, ps)
		}
		return
	}
	// An alias is checked where its anchor is; following it here could take
	// exponential time. The strict typed decode checks every use.
	if n.Kind == yaml.AliasNode || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return
	}
	where := path
	if where == "" {
		where = "the top level"
	}
	switch t.Kind() {
	case reflect.Pointer:
		checkShape(file, n, t.Elem(), path, ps)
	case reflect.Struct:
		names, types := yamlFields(t)
		if n.Kind != yaml.MappingNode {
			*ps = append(*ps, Problem{File: file, Line: n.Line, Field: path, Msg: fmt.Sprintf("%s must be a mapping with the keys %s", where, strings.Join(names, ", "))})
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				checkMerge(file, v, t, path, ps)
				continue
			}
			ft, ok := types[k.Value]
			if !ok {
				*ps = append(*ps, Problem{File: file, Line: k.Line, Field: joinField(path, k.Value),
					Msg: fmt.Sprintf("unknown key; %s takes %s", where, strings.Join(names, ", "))})
				continue
			}
			checkShape(file, v, ft, joinField(path, k.Value), ps)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			*ps = append(*ps, Problem{File: file, Line: n.Line, Field: path, Msg: "must be a list"})
			return
		}
		for i, item := range n.Content {
			checkShape(file, item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), ps)
		}
	}
}

// checkMerge checks the value of a "<<" merge key: a mapping or a list of
// them, usually aliases, which checkShape leaves to the typed decode.
func checkMerge(file string, v *yaml.Node, t reflect.Type, path string, ps *Problems) {
	if v.Kind == yaml.SequenceNode {
		for _, item := range v.Content {
			checkShape(file, item, t, path, ps)
		}
		return
	}
	checkShape(file, v, t, path, ps)
}

// yamlFields returns the YAML keys of struct type t, in declaration order, and
// the Go type of each.
func yamlFields(t reflect.Type) ([]string, map[string]reflect.Type) {
	var names []string
	types := map[string]reflect.Type{}
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if !sf.IsExported() || tag == "" || tag == "-" {
			continue
		}
		names = append(names, tag)
		types[tag] = sf.Type
	}
	return names, types
}

func joinField(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// field formats a path of keys (string) and list indexes (int) as
// "subscriptions[2].mergePolicies[0].name".
func field(path ...any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		}
	}
	return b.String()
}

// line returns the line of the value at path (keys and list indexes), or of
// its nearest ancestor that the file spells out; 0 for a file not parsed.
func (f *File) line(path ...any) int {
	if f.root == nil {
		return 0
	}
	n := f.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, p := range path {
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		var next *yaml.Node
		switch p := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == p {
						line, next = n.Content[i].Line, n.Content[i+1]
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && p < len(n.Content) {
				next = n.Content[p]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}

// problem returns a Problem about the value at path.
func (f *File) problem(msg string, path ...any) Problem {
	return Problem{File: f.name, Line: f.line(path...), Field: field(path...), Msg: msg}
}
