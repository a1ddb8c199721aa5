package deps

import (
	"fmt"
	"strings"

	"github.com/maestroplusplus/maestro/internal/deps/dotnettools"
	"github.com/maestroplusplus/maestro/internal/deps/globaljson"
	"github.com/maestroplusplus/maestro/internal/deps/props"
	"github.com/maestroplusplus/maestro/internal/deps/versiondetails"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// Problem is one inconsistency between a repository's version files.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
	}
	if p.File != "" {
		return p.File + ": " + p.Message
	}
	return p.Message
}

// Verify checks that the repository's version files agree with each other:
// every dependency not marked SkipProperty has its version property (in
// Versions.props or Version.Details.props) or global.json entry, and each of
// those, and each .config/dotnet-tools.json entry, carries the version
// Version.Details.xml records; Version.Details.props, when present, is
// imported by Versions.props and has no property for a dependency that does
// not exist. A file that does not parse is one problem. The error is for
// failures to read.
func Verify(dir string) ([]Problem, error) {
	r, err := loadRepo(dir)
	if err != nil {
		if maestro.KindOf(err) == maestro.KindInvalid {
			return []Problem{{Message: err.Error()}}, nil
		}
		return nil, err
	}
	var problems []Problem
	add := func(file string, line int, format string, args ...any) {
		problems = append(problems, Problem{File: file, Line: line, Message: fmt.Sprintf(format, args...)})
	}
	propFiles := r.propFiles()
	deps := r.vdx.Dependencies()
	for _, d := range deps {
		used := false
		if !d.SkipProperty {
			for _, pf := range propFiles {
				p, ok := pf.HasDependency(d.Name)
				if !ok {
					if len(referencing(pf, d.Name)) > 0 {
						used = true
					}
					continue
				}
				used = true
				if p.Value != d.Version {
					add(pf.Path(), p.Line, "%s is %q, but %s:%d gives dependency %s version %q",
						p.Name, p.Value, versiondetails.Path, d.Line, d.Name, d.Version)
				}
				if want := canonicalName(d.Name, p.Name); p.Name != want {
					add(pf.Path(), p.Line, "property %s should be spelled %s to match dependency %s", p.Name, want, d.Name)
				}
				break
			}
		}
		if r.global != nil {
			if name, value, line, ok := r.global.Lookup(d.Name); ok {
				used = true
				if value != d.Version {
					add(globaljson.Path, line, "%q is %q, but %s:%d gives dependency %s version %q",
						name, value, versiondetails.Path, d.Line, d.Name, d.Version)
				}
			}
		}
		if r.tools != nil {
			if v, ok := r.tools.Lookup(d.Name); ok {
				used = true
				if v != d.Version {
					add(dotnettools.Path, 0, "tool %s is version %q, but %s:%d gives %q",
						d.Name, v, versiondetails.Path, d.Line, d.Version)
				}
			}
		}
		if !used && !d.SkipProperty {
			add(versiondetails.Path, d.Line, "dependency %s has no %s or %s property in %s, and no %s entry; add the property or mark the dependency SkipProperty=\"true\"",
				d.Name, props.PackageVersionName(d.Name), props.VersionName(d.Name), propFileNames(r), globaljson.Path)
		}
	}
	if r.details != nil {
		if r.versions != nil && !r.versions.ImportsDetails() {
			add(props.VersionsPath, 0, "does not import Version.Details.props; add <Import Project=\"Version.Details.props\" Condition=\"Exists('Version.Details.props')\" /> at the top of <Project>")
		}
		problems = append(problems, orphans(r.details, deps)...)
	}
	return problems, nil
}

// propFiles returns the property files to search, Version.Details.props first.
func (r *repo) propFiles() []*props.File {
	var out []*props.File
	if r.details != nil && !r.details.Placeholder() {
		out = append(out, r.details)
	}
	if r.versions != nil {
		out = append(out, r.versions)
	}
	return out
}

func propFileNames(r *repo) string {
	if r.details != nil {
		return props.VersionsPath + " or " + props.DetailsPath
	}
	return props.VersionsPath
}

// referencing returns the dependency's properties whose values refer to
// other properties.
func referencing(pf *props.File, dependency string) []props.Property {
	var out []props.Property
	for _, name := range []string{props.PackageVersionName(dependency), props.VersionName(dependency)} {
		for _, p := range pf.Lookup(name) {
			if props.IsReference(p.Value) {
				out = append(out, p)
			}
		}
	}
	return out
}

// canonicalName returns the spelling production expects for a property found
// under either name.
func canonicalName(dependency, found string) string {
	if strings.EqualFold(found, props.PackageVersionName(dependency)) {
		return props.PackageVersionName(dependency)
	}
	return props.VersionName(dependency)
}

// orphans returns the Version.Details.props properties that belong to no
// dependency.
func orphans(details *props.File, deps []Dependency) []Problem {
	known := map[string]bool{}
	for _, d := range deps {
		if !d.SkipProperty {
			known[strings.ToLower(props.PackageVersionName(d.Name))] = true
			known[strings.ToLower(props.VersionName(d.Name))] = true
		}
	}
	var out []Problem
	for _, p := range details.Properties() {
		if !known[strings.ToLower(p.Name)] {
			out = append(out, Problem{File: details.Path(), Line: p.Line,
				Message: fmt.Sprintf("property %s belongs to no dependency in %s; regenerate the file or remove it", p.Name, versiondetails.Path)})
		}
	}
	return out
}
