// Package dotnettools reads and edits .config/dotnet-tools.json, the local
// tool manifest: a tool that is also a dependency (such as
// Microsoft.DotNet.XHarness.CLI) follows the dependency's version.
package dotnettools

import (
	"errors"
	"strings"

	"github.com/maestroplusplus/maestro/internal/deps/fileerr"
	"github.com/maestroplusplus/maestro/internal/deps/jsonedit"
	"github.com/maestroplusplus/maestro/internal/deps/splice"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// Path is where the manifest lives in a repository.
const Path = ".config/dotnet-tools.json"

// Tool is one entry of the manifest.
type Tool struct {
	Name, Version string
	Line          int
}

// File is a parsed tool manifest that collects edits.
type File struct {
	src     []byte
	root    *jsonedit.Value
	pending map[*jsonedit.Value]string
}

// Parse reads a tool manifest; path names it in errors.
func Parse(path string, src []byte) (*File, error) {
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
	return &File{src: src, root: root, pending: map[*jsonedit.Value]string{}}, nil
}

func (f *File) version(name string) *jsonedit.Value {
	tools := f.root.Get("tools")
	m := tools.GetFold(name)
	if m == nil {
		return nil
	}
	v := m.Value.Get("version")
	if v == nil || v.Kind != jsonedit.String {
		return nil
	}
	return v
}

// Tools returns the manifest's tools and their versions.
func (f *File) Tools() []Tool {
	var out []Tool
	tools := f.root.Get("tools")
	if tools == nil || tools.Kind != jsonedit.Object {
		return nil
	}
	for _, m := range tools.Members {
		t := Tool{Name: m.Key, Line: jsonedit.Line(f.src, m.KeyStart)}
		if v := m.Value.Get("version"); v != nil && v.Kind == jsonedit.String {
			t.Version = v.Str
			if s, ok := f.pending[v]; ok {
				t.Version = s
			}
		}
		out = append(out, t)
	}
	return out
}

// Lookup returns the version of the tool named like the dependency
// (case-insensitively).
func (f *File) Lookup(name string) (string, bool) {
	for _, t := range f.Tools() {
		if strings.EqualFold(t.Name, name) {
			return t.Version, true
		}
	}
	return "", false
}

// UpdateTool sets the version of the tool named like the dependency and
// reports whether the manifest lists it.
func (f *File) UpdateTool(name, version string) bool {
	v := f.version(name)
	if v == nil {
		return false
	}
	f.pending[v] = version
	return true
}

// Bytes returns the manifest with every pending edit spliced in.
func (f *File) Bytes() ([]byte, error) {
	var edits []splice.Edit
	for v, s := range f.pending {
		edits = append(edits, splice.Edit{Start: v.Start, End: v.End, Text: jsonedit.Quote(s)})
	}
	return splice.Apply(f.src, edits)
}
