// Package globaljson reads and edits a repository's global.json: the
// "msbuild-sdks" versions of SDK packages that are dependencies (such as
// Microsoft.DotNet.Arcade.Sdk), and "tools.dotnet" (with "sdk.version" where
// it mirrors it), the .NET SDK the repository builds with. Values are spliced
// into the original bytes.
package globaljson

import (
	"errors"
	"strings"

	"github.com/maestroplusplus/maestro/internal/deps/fileerr"
	"github.com/maestroplusplus/maestro/internal/deps/jsonedit"
	"github.com/maestroplusplus/maestro/internal/deps/semver"
	"github.com/maestroplusplus/maestro/internal/deps/splice"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// Path is where the file lives in a repository.
const Path = "global.json"

// MSBuildSDKs is the global.json section that pins MSBuild SDK packages.
const MSBuildSDKs = "msbuild-sdks"

// File is a parsed global.json that collects edits.
type File struct {
	path    string
	src     []byte
	root    *jsonedit.Value
	pending map[*jsonedit.Value]string
	added   []jsonedit.Member
}

// Parse reads a global.json; path names it in errors.
func Parse(path string, src []byte) (*File, error) {
	root, err := parseJSON(path, src)
	if err != nil {
		return nil, err
	}
	return &File{path: path, src: src, root: root, pending: map[*jsonedit.Value]string{}}, nil
}

func parseJSON(path string, src []byte) (*jsonedit.Value, error) {
	root, err := jsonedit.Parse(src)
	if err != nil {
		var se *jsonedit.SyntaxError
		if errors.As(err, &se) {
			return nil, maestro.Errorf(maestro.KindInvalid, "%s:%d:%d: malformed JSON: %s; fix the file and try again", path, se.Line, se.Col, se.Msg)
		}
		return nil, maestro.Errorf(maestro.KindInvalid, "%s: malformed JSON: %w", path, err)
	}
	if root.Kind != jsonedit.Object {
		return nil, fileerr.At(path, 1, "the top-level value is not an object")
	}
	return root, nil
}

func (f *File) str(v *jsonedit.Value) string {
	if s, ok := f.pending[v]; ok {
		return s
	}
	return v.Str
}

// Lookup finds a dependency's entry the way production does: the first
// property anywhere in the file whose name equals the dependency's,
// case-insensitively. It returns the entry's name, value and line.
func (f *File) Lookup(dependency string) (name, value string, line int, ok bool) {
	var find func(v *jsonedit.Value) bool
	find = func(v *jsonedit.Value) bool {
		if v.Kind != jsonedit.Object {
			return false
		}
		for _, m := range v.Members {
			if strings.EqualFold(m.Key, dependency) {
				name, value, line = m.Key, f.str(m.Value), jsonedit.Line(f.src, m.KeyStart)
				return true
			}
			if find(m.Value) {
				return true
			}
		}
		return false
	}
	ok = find(f.root)
	return name, value, line, ok
}

// UpdateDependency sets every entry production's recursive walk would set for
// the dependency (in practice its msbuild-sdks entry) and reports whether any
// exists.
func (f *File) UpdateDependency(dependency, version string) bool {
	var walk func(v *jsonedit.Value) bool
	walk = func(v *jsonedit.Value) bool {
		if v.Kind != jsonedit.Object {
			return false
		}
		found := false
		for _, m := range v.Members {
			if strings.EqualFold(m.Key, dependency) {
				f.pending[m.Value] = version
				return true
			}
			found = walk(m.Value) || found
		}
		return found
	}
	return walk(f.root)
}

// ToolsDotnet returns tools.dotnet, the .NET SDK version the repository uses.
func (f *File) ToolsDotnet() (string, bool) {
	v := f.root.Get("tools").Get("dotnet")
	if v == nil || v.Kind != jsonedit.String {
		return "", false
	}
	return f.str(v), true
}

// Pinned reports whether tools.pinned is true: the SDK version is not to flow.
func (f *File) Pinned() bool {
	v := f.root.Get("tools").Get("pinned")
	return v != nil && ((v.Kind == jsonedit.Bool && v.Str == "true") || (v.Kind == jsonedit.String && strings.EqualFold(v.Str, "true")))
}

// UpdateDotnetSdk moves tools.dotnet to version when version is newer, and
// sdk.version with it where it held the same value. Nothing changes when
// tools.pinned is true or the file has no tools.dotnet. It reports whether
// anything changed.
func (f *File) UpdateDotnetSdk(version string) bool {
	dotnet := f.root.Get("tools").Get("dotnet")
	if dotnet == nil || dotnet.Kind != jsonedit.String || f.Pinned() {
		return false
	}
	current := f.str(dotnet)
	if current == version || !semver.Newer(version, current) {
		return false
	}
	f.pending[dotnet] = version
	if sdk := f.root.Get("sdk").Get("version"); sdk != nil && sdk.Kind == jsonedit.String && f.str(sdk) == current {
		f.pending[sdk] = version
	}
	return true
}

// SDK is one msbuild-sdks entry.
type SDK struct {
	Name, Version string
	Line          int
}

// SDKs returns the msbuild-sdks entries.
func (f *File) SDKs() []SDK {
	var out []SDK
	if sdks := f.root.Get(MSBuildSDKs); sdks != nil && sdks.Kind == jsonedit.Object {
		for _, m := range sdks.Members {
			out = append(out, SDK{Name: m.Key, Version: f.str(m.Value), Line: jsonedit.Line(f.src, m.KeyStart)})
		}
	}
	for _, m := range f.added {
		out = append(out, SDK{Name: m.Key, Version: m.Value.Str})
	}
	return out
}

// AddSDK sets an msbuild-sdks entry, adding it (and the section) when missing.
func (f *File) AddSDK(name, version string) {
	if sdks := f.root.Get(MSBuildSDKs); sdks != nil && sdks.Kind == jsonedit.Object {
		if m := sdks.GetFold(name); m != nil {
			f.pending[m.Value] = version
			return
		}
	}
	f.added = append(f.added, jsonedit.Member{Key: name, Value: &jsonedit.Value{Kind: jsonedit.String, Str: version}})
}

// Bytes returns the file with every pending edit spliced in.
func (f *File) Bytes() ([]byte, error) {
	var edits []splice.Edit
	for v, s := range f.pending {
		edits = append(edits, splice.Edit{Start: v.Start, End: v.End, Text: jsonedit.Quote(s)})
	}
	if len(f.added) > 0 {
		var members []string
		for _, m := range f.added {
			members = append(members, jsonedit.Quote(m.Key)+jsonedit.Separator(f.src, f.root)+jsonedit.Quote(m.Value.Str))
		}
		if sdks := f.root.Get(MSBuildSDKs); sdks != nil && sdks.Kind == jsonedit.Object {
			edits = append(edits, jsonedit.AppendMembers(f.src, f.root, sdks, members))
		} else {
			unit := jsonedit.IndentUnit(f.src, f.root)
			section := jsonedit.Quote(MSBuildSDKs) + jsonedit.Separator(f.src, f.root) + "{\n" + unit + strings.Join(members, ",\n"+unit) + "\n}"
			edits = append(edits, jsonedit.AppendMembers(f.src, f.root, f.root, []string{section}))
		}
	}
	return splice.Apply(f.src, edits)
}
