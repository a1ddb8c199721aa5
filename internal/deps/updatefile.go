package deps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/maestroplusplus/maestro/internal/deps/jsonedit"
	"github.com/maestroplusplus/maestro/internal/deps/nugetconfig"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// UpdateFile is the work a dependency update carries: the format of the
// fixtures' updates.json, and how the flow hands work to a dependency-update
// build (docs/update-file.md).
type UpdateFile struct {
	// Updates are the dependencies to move, matched to Version.Details.xml by
	// name, case-insensitively.
	Updates []Update `json:"updates"`
	// DotnetSdk is the new .NET SDK version for global.json's tools.dotnet, or
	// nil to leave it alone.
	DotnetSdk *string `json:"dotnetSdk"`
	// Source is the new <Source> element of Version.Details.xml, or nil.
	Source *Source `json:"source"`
	// FeedPackages lists, per flow-managed feed URL, every package the
	// builds of the update published there (the registry's assets whose
	// locations hold the feed), not only those the update moves: the
	// <packageSourceMapping> entry of the feed maps all of them, so that a
	// package of the same build that the repository takes without a
	// Version.Details.xml entry still resolves from that feed.
	FeedPackages map[string][]string `json:"feedPackages,omitempty"`

	path  string
	lines []int // line of each update, when parsed from a file
}

// Update moves one dependency to a new build's asset.
type Update struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Sha     string `json:"sha"`
	URI     string `json:"uri"`
	// Locations are the feeds the asset was published to (the Build Asset
	// Registry's asset locations). When any update carries locations, the
	// flow-managed block of NuGet.config is rewritten to hold the feeds the
	// repository's dependencies need.
	Locations []string `json:"locations,omitempty"`
}

// Source is the <Source Uri Mapping Sha BarId/> element of Version.Details.xml.
type Source struct {
	URI     string `json:"Uri"`
	Mapping string `json:"Mapping"`
	Sha     string `json:"Sha"`
	BarID   string `json:"BarId,omitempty"`
}

// UnmarshalJSON accepts BarId as a string or a number.
func (s *Source) UnmarshalJSON(data []byte) error {
	var raw struct {
		URI     string          `json:"Uri"`
		Mapping string          `json:"Mapping"`
		Sha     string          `json:"Sha"`
		BarID   json.RawMessage `json:"BarId"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	s.URI, s.Mapping, s.Sha = raw.URI, raw.Mapping, raw.Sha
	s.BarID = ""
	if len(raw.BarID) > 0 && string(raw.BarID) != "null" {
		var str string
		if err := json.Unmarshal(raw.BarID, &str); err == nil {
			s.BarID = str
		} else {
			var n json.Number
			if err := json.Unmarshal(raw.BarID, &n); err != nil {
				return fmt.Errorf("BarId is neither a string nor a number")
			}
			s.BarID = n.String()
		}
	}
	return nil
}

// ParseUpdateFile decodes an update file; path names it in errors. Unknown
// fields are rejected so that a misspelt field is not silently ignored.
func ParseUpdateFile(path string, data []byte) (UpdateFile, error) {
	tree, err := jsonedit.Parse(data)
	if err != nil {
		var se *jsonedit.SyntaxError
		if errors.As(err, &se) {
			return UpdateFile{}, maestro.Errorf(maestro.KindInvalid, "%s:%d:%d: malformed JSON: %s", path, se.Line, se.Col, se.Msg)
		}
		return UpdateFile{}, maestro.Errorf(maestro.KindInvalid, "%s: malformed JSON: %w", path, err)
	}
	var u UpdateFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&u); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return UpdateFile{}, maestro.Errorf(maestro.KindInvalid, "%s:%d: %s must be a %s, not a %s",
				path, jsonedit.Line(data, int(te.Offset)), te.Field, jsonType(te.Type.Kind().String()), te.Value)
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name = strings.Trim(name, `"`)
			return UpdateFile{}, maestro.Errorf(maestro.KindInvalid, "%s:%d: unknown field %q; an update file has updates (name, version, sha, uri, locations), dotnetSdk, source (Uri, Mapping, Sha, BarId) and feedPackages",
				path, keyLine(data, tree, name), name)
		}
		return UpdateFile{}, maestro.Errorf(maestro.KindInvalid, "%s: %v", path, err)
	}
	u.path = path
	if ups := tree.Get("updates"); ups != nil && ups.Kind == jsonedit.Array {
		for _, it := range ups.Items {
			u.lines = append(u.lines, jsonedit.Line(data, it.Start))
		}
	}
	return u, nil
}

// where names an update in error messages: "updates.json:12: update 3 (Foo)".
func (u *UpdateFile) where(i int) string {
	name := u.Updates[i].Name
	loc := "update file"
	if u.path != "" {
		loc = u.path
		if i < len(u.lines) {
			loc += ":" + strconv.Itoa(u.lines[i])
		}
	}
	if name == "" {
		return fmt.Sprintf("%s: update %d", loc, i+1)
	}
	return fmt.Sprintf("%s: update %d (%s)", loc, i+1, name)
}

// Validate checks that every update names a dependency, a version without
// whitespace, a commit and a repository, and that no dependency appears twice.
func (u *UpdateFile) Validate() error {
	var problems []string
	seen := map[string]int{}
	for i, up := range u.Updates {
		w := u.where(i)
		if strings.TrimSpace(up.Name) == "" {
			problems = append(problems, w+": name is empty")
		}
		problems = append(problems, checkToken(w, "version", up.Version)...)
		problems = append(problems, checkToken(w, "sha", up.Sha)...)
		problems = append(problems, checkToken(w, "uri", up.URI)...)
		key := strings.ToLower(up.Name)
		if j, dup := seen[key]; dup && key != "" {
			problems = append(problems, fmt.Sprintf("%s: the same dependency as update %d; list each dependency once", w, j+1))
		}
		seen[key] = i
	}
	if u.DotnetSdk != nil {
		problems = append(problems, checkToken(u.locName()+": dotnetSdk", "version", *u.DotnetSdk)...)
	}
	if s := u.Source; s != nil {
		w := u.locName() + ": source"
		problems = append(problems, checkToken(w, "Uri", s.URI)...)
		problems = append(problems, checkToken(w, "Sha", s.Sha)...)
		if strings.TrimSpace(s.Mapping) == "" {
			problems = append(problems, w+": Mapping is empty")
		}
	}
	for _, feed := range slices.Sorted(maps.Keys(u.FeedPackages)) {
		w := u.locName() + ": feedPackages"
		problems = append(problems, checkToken(w, "feed", feed)...)
		for i, name := range u.FeedPackages[feed] {
			problems = append(problems, checkToken(fmt.Sprintf("%s[%q][%d]", w, feed, i), "package", name)...)
		}
	}
	if len(problems) > 0 {
		return maestro.Errorf(maestro.KindInvalid, "%s", strings.Join(problems, "\n"))
	}
	return nil
}

// AddBuildFeeds records in FeedPackages every package b published to a
// flow-managed feed (`darc-pub-…`, `darc-int-…`): the patterns of that
// feed's <packageSourceMapping> entry. Other feeds never enter the managed
// block, so they are left out.
func (u *UpdateFile) AddBuildFeeds(b maestro.Build) {
	for _, a := range b.Assets {
		for _, feed := range FeedLocations(a) {
			if !nugetconfig.IsManaged(feed) {
				continue
			}
			if u.FeedPackages == nil {
				u.FeedPackages = map[string][]string{}
			}
			if !slices.ContainsFunc(u.FeedPackages[feed], func(n string) bool { return strings.EqualFold(n, a.Name) }) {
				u.FeedPackages[feed] = append(u.FeedPackages[feed], a.Name)
			}
		}
	}
}

func (u *UpdateFile) locName() string {
	if u.path != "" {
		return u.path
	}
	return "update file"
}

func checkToken(where, field, value string) []string {
	if value == "" {
		return []string{fmt.Sprintf("%s: %s is empty", where, field)}
	}
	if strings.IndexFunc(value, unicode.IsSpace) >= 0 {
		return []string{fmt.Sprintf("%s: %s %q contains whitespace", where, field, value)}
	}
	return nil
}

// jsonType names a Go kind the way JSON does.
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "slice", "array":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	case "bool":
		return "boolean"
	}
	return "number"
}

// keyLine returns the line of the first member named key anywhere in tree.
func keyLine(data []byte, tree *jsonedit.Value, key string) int {
	var find func(v *jsonedit.Value) int
	find = func(v *jsonedit.Value) int {
		for _, m := range v.Members {
			if m.Key == key {
				return jsonedit.Line(data, m.KeyStart)
			}
			if l := find(m.Value); l > 0 {
				return l
			}
		}
		for _, it := range v.Items {
			if l := find(it); l > 0 {
				return l
			}
		}
		return 0
	}
	return find(tree)
}
