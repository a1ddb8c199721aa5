package legacy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/maestroplusplus/maestro/internal/config"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// Mapping says what legacy names mean in the registry, for Import:
//
//	buildInfo:          # build-info/dotnet/{path}/ → source repository and channel
//	  - path: coreclr/master
//	    sourceRepository: https://github.com/dotnet/coreclr
//	    channel: .NET Core 3.0 Dev
//	actions:            # action → the repository its build updates
//	  - action: core-setup-general
//	    targetRepository: https://github.com/dotnet/core-setup
//	    targetBranch: master  # optional: else the handler's vsoSourceBranch
type Mapping struct {
	BuildInfo []BuildInfoMapping `yaml:"buildInfo"`
	Actions   []ActionMapping    `yaml:"actions"`
}

// BuildInfoMapping maps a build-info folder to where its builds come from.
type BuildInfoMapping struct {
	Path             string `yaml:"path"` // NAME/CHANNEL under build-info/dotnet
	SourceRepository string `yaml:"sourceRepository"`
	Channel          string `yaml:"channel"` // a registry channel's name
	Line             int    `yaml:"-"`
}

// ActionMapping maps an action to the repository its build updates. The
// branch is TargetBranch, else the handler's vsoSourceBranch (the old
// "general" definitions ran on the branch they updated).
type ActionMapping struct {
	Action           string `yaml:"action"`
	TargetRepository string `yaml:"targetRepository"`
	TargetBranch     string `yaml:"targetBranch,omitempty"`
	Line             int    `yaml:"-"`
}

// ParseMapping reads a mapping file; unknown keys and missing fields are
// errors naming the line.
func ParseMapping(name string, data []byte) (*Mapping, error) {
	var m Mapping
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil && !errors.Is(err, io.EOF) {
		return nil, maestro.Errorf(maestro.KindInvalid, "%s: %v; a mapping has buildInfo[{path, sourceRepository, channel}] and actions[{action, targetRepository, targetBranch}]", name, err)
	}
	var node yaml.Node
	_ = yaml.Unmarshal(data, &node)
	lines := func(key string) []int {
		var out []int
		if len(node.Content) == 0 {
			return nil
		}
		root := node.Content[0]
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == key {
				for _, item := range root.Content[i+1].Content {
					out = append(out, item.Line)
				}
			}
		}
		return out
	}
	var problems []string
	bl := lines("buildInfo")
	seen := map[string]int{}
	for i := range m.BuildInfo {
		b := &m.BuildInfo[i]
		if i < len(bl) {
			b.Line = bl[i]
		}
		b.Path = strings.Trim(b.Path, "/")
		switch {
		case b.Path == "" || b.SourceRepository == "" || b.Channel == "":
			problems = append(problems, fmt.Sprintf("%s:%d: buildInfo[%d]: give path, sourceRepository and channel", name, b.Line, i))
		case seen[strings.ToLower(b.Path)] != 0:
			problems = append(problems, fmt.Sprintf("%s:%d: buildInfo[%d]: path %s is mapped twice (first on line %d)", name, b.Line, i, b.Path, seen[strings.ToLower(b.Path)]))
		default:
			seen[strings.ToLower(b.Path)] = b.Line
		}
	}
	al := lines("actions")
	seenAction := map[string]int{}
	for i := range m.Actions {
		a := &m.Actions[i]
		if i < len(al) {
			a.Line = al[i]
		}
		switch {
		case a.Action == "" || a.TargetRepository == "":
			problems = append(problems, fmt.Sprintf("%s:%d: actions[%d]: give action and targetRepository (and targetBranch unless the handlers' vsoSourceBranch is the branch)", name, a.Line, i))
		case seenAction[a.Action] != 0:
			problems = append(problems, fmt.Sprintf("%s:%d: actions[%d]: action %s is mapped twice (first on line %d)", name, a.Line, i, a.Action, seenAction[a.Action]))
		default:
			seenAction[a.Action] = a.Line
		}
	}
	if len(problems) > 0 {
		return nil, maestro.Errorf(maestro.KindInvalid, "%s has %d problem(s):\n%s", name, len(problems), strings.Join(problems, "\n"))
	}
	return &m, nil
}

// Unmapped is a legacy subscription (or one of its triggers) Import could
// not map, and why.
type Unmapped struct {
	Subscription int
	Trigger      string // "" for the whole subscription
	Reason       string
}

func (u Unmapped) String() string {
	if u.Trigger == "" {
		return fmt.Sprintf("subscriptions[%d]: %s", u.Subscription, u.Reason)
	}
	return fmt.Sprintf("subscriptions[%d] trigger %s: %s", u.Subscription, u.Trigger, u.Reason)
}

// Import maps legacy subscriptions to registry subscriptions where the
// mapping allows: a trigger on a build-info file
// (…/blob/{branch}/build-info/dotnet/{path}/{file}) whose folder is in
// m.BuildInfo gives the source repository and channel; the handler's action
// in m.Actions gives the target repository and branch (else the handler's
// vsoSourceBranch), and the action's
// definition becomes the subscription's update pipeline (a classic
// definition at https://dev.azure.com/{org}/{project}/_build?definitionId={id},
// {org} from {org}.visualstudio.com). The subscriptions flow every build.
// It returns them (each once) and what it could not map.
func Import(f *File, m *Mapping) ([]config.Subscription, []Unmapped) {
	folders := map[string]BuildInfoMapping{}
	for _, b := range m.BuildInfo {
		folders[strings.ToLower(b.Path)] = b
	}
	actions := map[string]ActionMapping{}
	for _, a := range m.Actions {
		actions[a.Action] = a
	}
	var subs []config.Subscription
	var unmapped []Unmapped
	seen := map[string]bool{}
	for _, s := range f.Subscriptions {
		var sources []BuildInfoMapping
		for _, t := range s.Triggers {
			folder, ok := buildInfoFolder(t)
			if !ok {
				unmapped = append(unmapped, Unmapped{s.Index, t, "not a build-info file, so no build of the registry stands for it (mirror and merge triggers stay with the old service)"})
				continue
			}
			b, ok := folders[strings.ToLower(folder)]
			if !ok {
				unmapped = append(unmapped, Unmapped{s.Index, t, fmt.Sprintf("build-info folder %s is not mapped; add buildInfo {path: %s, sourceRepository, channel} to the mapping", folder, folder)})
				continue
			}
			sources = append(sources, b)
		}
		if len(sources) == 0 {
			continue
		}
		for _, h := range s.Handlers {
			target, ok := actions[h.Action]
			if !ok {
				unmapped = append(unmapped, Unmapped{s.Index, "", fmt.Sprintf("action %s is not mapped; add actions {action: %s, targetRepository, targetBranch} to the mapping", h.Action, h.Action)})
				continue
			}
			branch := target.TargetBranch
			if branch == "" {
				branch = h.SourceBranch
			}
			if branch == "" {
				unmapped = append(unmapped, Unmapped{s.Index, "", fmt.Sprintf("action %s has no vsoSourceBranch here and its mapping no targetBranch; add targetBranch to the mapping", h.Action)})
				continue
			}
			a, _ := f.Action(h.Action)
			pipeline, err := pipelineOf(a)
			if err != nil {
				unmapped = append(unmapped, Unmapped{s.Index, "", err.Error()})
				continue
			}
			for _, src := range sources {
				key := strings.ToLower(strings.Join([]string{src.Channel, repourl.Normalize(src.SourceRepository), repourl.Normalize(target.TargetRepository)}, "\x00")) + "\x00" + branch
				if seen[key] {
					continue
				}
				seen[key] = true
				subs = append(subs, config.Subscription{
					Channel: src.Channel, SourceRepository: src.SourceRepository,
					TargetRepository: target.TargetRepository, TargetBranch: branch,
					UpdateFrequency: "everyBuild",
					UpdatePipeline:  &config.UpdatePipeline{URL: pipeline, Classic: true},
				})
			}
		}
	}
	sort.SliceStable(unmapped, func(i, j int) bool { return unmapped[i].Subscription < unmapped[j].Subscription })
	return subs, unmapped
}

// buildInfoFolder returns {path} of a trigger on
// https://github.com/{owner}/{repo}/blob/{branch}/build-info/dotnet/{path}/{file}
// (or /**/* below such a folder). The branch may not contain "build-info".
func buildInfoFolder(trigger string) (string, bool) {
	u, err := url.Parse(trigger)
	if err != nil {
		return "", false
	}
	p := strings.TrimSuffix(u.Path, "/**/*")
	_, rest, ok := strings.Cut(p, "/build-info/dotnet/")
	if !ok || !strings.Contains(p, "/blob/") {
		return "", false
	}
	if strings.HasSuffix(u.Path, "/**/*") {
		return strings.Trim(rest, "/"), rest != ""
	}
	dir := path.Dir(rest)
	return dir, dir != "." && dir != ""
}

// pipelineOf is the update pipeline URL of an action's definition.
func pipelineOf(a Action) (string, error) {
	org, ok := strings.CutSuffix(strings.ToLower(a.VSOInstance), ".visualstudio.com")
	if !ok || org == "" || strings.Contains(org, ".") {
		return "", fmt.Errorf("action %s: vsoInstance %s is not ORG.visualstudio.com, so its pipeline has no dev.azure.com address; map it by hand with `maestro subscription add --update-pipeline`", a.Name, a.VSOInstance)
	}
	return fmt.Sprintf("https://dev.azure.com/%s/%s/_build?definitionId=%d", org, url.PathEscape(a.VSOProject), a.BuildDefinitionID), nil
}
