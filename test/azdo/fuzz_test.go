package azdo

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/maestroplusplus/maestro/test/testenv"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
)

// FuzzRouteRoundTrip builds URLs for every location with the client's own
// GenerateUrl and checks that the router maps them back to the same location
// and route values.
func FuzzRouteRoundTrip(f *testing.F) {
	f.Add(uint8(0), "dnceng", "runtime", "42", "heads/main")
	f.Add(uint8(4), "Dnc Eng", "runtime.git", "7", "heads/release/8.0")
	f.Add(uint8(9), "6f0d3bb4-4a8e-4b7a-9a55-3b6d3f7e2c10", "r", "1", "2")
	f.Add(uint8(14), "p", "ünïcode", "x y", "a%2Fb")
	client := azuredevops.NewClient(&azuredevops.Connection{}, "http://127.0.0.1/org")
	locs := newLocations()
	f.Fuzz(func(t *testing.T, which uint8, a, b, c, d string) {
		l := locs[int(which)%len(locs)]
		values := []string{a, b, c, d}
		route := map[string]string{}
		i := 0
		for _, s := range l.segments {
			if s.param == "" {
				continue
			}
			v := values[i%len(values)]
			i++
			if !routeValueOK(v, s.wildcard) {
				t.Skip()
			}
			route[s.param] = v
		}
		api := l.apiLocation()
		u := client.GenerateUrl(&api, maps.Clone(route), nil)
		parts, err := splitPath(u)
		if err != nil {
			t.Fatalf("split %q: %v", u, err)
		}
		for _, other := range locs {
			got, ok := other.match(parts)
			if !ok {
				continue
			}
			if other != l {
				t.Fatalf("%s routed to %s (%s), want %s (%s)", u, other.resource, other.template, l.resource, l.template)
			}
			if !maps.Equal(got, route) {
				t.Fatalf("%s: route values %v, want %v", u, got, route)
			}
			return
		}
		t.Fatalf("%s (from %s with %v) matched no location", u, l.template, route)
	})
}

// routeValueOK reports whether v is a value the client can place in a URL
// segment unchanged: non-empty text without braces (the client substitutes
// {name} inside values), and not the literal _apis.
func routeValueOK(v string, wildcard bool) bool {
	if v == "" || !utf8.ValidString(v) || strings.ContainsAny(v, "{}") || strings.EqualFold(v, "_apis") {
		return false
	}
	if !wildcard {
		return !strings.Contains(v, "/") && v != "." && v != ".."
	}
	for _, part := range strings.Split(v, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
	}
	return true
}

// FuzzParseAPIVersion checks that a parsed api-version prints back to itself.
func FuzzParseAPIVersion(f *testing.F) {
	for _, s := range []string{"7.1", "7.1-preview", "7.1-preview.1", "5.1-preview.2", "7.2", "latest", "7", "7.1-beta"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := parseAPIVersion(s)
		if !ok {
			return
		}
		text := fmt.Sprintf("%d.%d", v.major, v.minor)
		if v.preview {
			text += "-preview"
			if v.resourceVersion > 0 {
				text += fmt.Sprintf(".%d", v.resourceVersion)
			}
		}
		again, ok := parseAPIVersion(text)
		if !ok || again != v {
			t.Fatalf("%q parsed as %+v, printed as %q, reparsed as %+v", s, v, text, again)
		}
	})
}

// FuzzPipelineYAML parses pipeline YAML (seeded with the repository's own
// pipelines) and checks that a run giving exactly the declared parameters
// without defaults, with valid values, is accepted.
func FuzzPipelineYAML(f *testing.F) {
	root := filepath.Join(testenv.RepoRoot(f), "pipelines")
	files, _ := filepath.Glob(filepath.Join(root, "*.yml"))
	more, _ := filepath.Glob(filepath.Join(root, "templates", "*.yml"))
	for _, file := range append(files, more...) {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("parameters:\n  a: 1\n  b: x\n"))
	f.Add([]byte("parameters:\n- name: n\n  type: number\n- name: b\n  type: boolean\n- name: v\n  values: [x, y]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		y, err := parsePipelineYAML(data)
		if err != nil {
			return
		}
		given := map[string]string{}
		for _, p := range y.parameters {
			if p.hasDefault {
				continue
			}
			switch {
			case len(p.values) > 0:
				given[p.name] = p.values[0]
			case p.typ == "number":
				given[p.name] = "1"
			case p.typ == "boolean":
				given[p.name] = "true"
			default:
				given[p.name] = "value"
			}
		}
		if problems := y.checkTemplateParameters(given); len(problems) > 0 {
			t.Fatalf("valid parameters %v refused: %v", given, problems)
		}
		given["\x00undeclared"] = "x"
		if problems := y.checkTemplateParameters(given); len(problems) == 0 {
			t.Fatalf("an undeclared parameter was accepted")
		}
	})
}

// FuzzCodeReviewArtifact checks the parser of policy artifact IDs.
func FuzzCodeReviewArtifact(f *testing.F) {
	f.Add("vstfs:///CodeReview/CodeReviewId/6f0d3bb4-4a8e-4b7a-9a55-3b6d3f7e2c10/12")
	f.Add("vstfs:///Git/PullRequestId/6f0d3bb4-4a8e-4b7a-9a55-3b6d3f7e2c10%2f1%2f2")
	f.Add("vstfs:///codereview/codereviewid/x/1")
	f.Fuzz(func(t *testing.T, s string) {
		project, id, ok := codeReviewArtifact(s)
		if !ok {
			return
		}
		if id <= 0 || project == uuid.Nil && !strings.Contains(s, uuid.Nil.String()) {
			t.Fatalf("%q parsed as %s/%d", s, project, id)
		}
		again := fmt.Sprintf("vstfs:///CodeReview/CodeReviewId/%s/%d", project, id)
		p2, id2, ok := codeReviewArtifact(again)
		if !ok || p2 != project || id2 != id {
			t.Fatalf("%q → %q did not round-trip", s, again)
		}
	})
}
