package deps

import (
	"strings"

	"github.com/maestroplusplus/maestro/internal/deps/globaljson"
	"github.com/maestroplusplus/maestro/internal/deps/props"
	"github.com/maestroplusplus/maestro/internal/deps/versiondetails"
	"github.com/maestroplusplus/maestro/internal/deps/xmltok"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// msbuildSDKs are the packages production records in global.json's
// msbuild-sdks section rather than as a version property.
var msbuildSDKs = []string{
	ArcadeSdk,
	"Microsoft.DotNet.Build.Tasks.SharedFramework.Sdk",
	"Microsoft.DotNet.Helix.Sdk",
	"Microsoft.DotNet.SharedFramework.Sdk",
	"Microsoft.NET.SharedFramework.Sdk",
	"Microsoft.DotNet.CMake.Sdk",
	"Microsoft.NET.Sdk.IL",
}

// IsMSBuildSDK reports whether a dependency is an MSBuild SDK package that
// lives in global.json's msbuild-sdks section.
func IsMSBuildSDK(name string) bool {
	for _, s := range msbuildSDKs {
		if strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}

// NewDependency is what `maestro deps add` adds.
type NewDependency struct {
	Name           string
	Version        string
	Sha            string
	URI            string
	Type           DependencyType // Product or Toolset
	Pinned         bool
	CoherentParent string
	SkipProperty   bool
}

// Add adds a dependency to eng/Version.Details.xml, and its version where
// the repository keeps it: an MSBuild SDK package (such as
// Microsoft.DotNet.Arcade.Sdk) in global.json's msbuild-sdks; otherwise a
// property in Versions.props — or, in a repository with
// eng/Version.Details.props, that file regenerated from the new dependency
// list. Nothing is written when dryRun is set, or when anything fails.
func Add(dir string, nd NewDependency, dryRun bool) (*Result, error) {
	var problems []string
	if strings.TrimSpace(nd.Name) == "" || strings.ContainsAny(nd.Name, " \t\r\n") {
		problems = append(problems, "name "+quoteOrEmpty(nd.Name)+" must be a package name without spaces")
	}
	problems = append(problems, checkToken("dependency "+nd.Name, "version", nd.Version)...)
	problems = append(problems, checkToken("dependency "+nd.Name, "sha", nd.Sha)...)
	problems = append(problems, checkToken("dependency "+nd.Name, "uri", nd.URI)...)
	if nd.Type != Product && nd.Type != Toolset {
		problems = append(problems, "type "+quoteOrEmpty(string(nd.Type))+" must be product or toolset")
	}
	if len(problems) > 0 {
		return nil, maestro.Errorf(maestro.KindInvalid, "%s", strings.Join(problems, "\n"))
	}
	r, err := loadRepo(dir)
	if err != nil {
		return nil, err
	}
	defer r.release()
	err = r.vdx.Add(versiondetails.Dependency{
		Name: nd.Name, Version: nd.Version, Sha: nd.Sha, URI: nd.URI, Type: nd.Type,
		Pinned: nd.Pinned, CoherentParent: nd.CoherentParent, SkipProperty: nd.SkipProperty,
	})
	if err != nil {
		return nil, err
	}
	switch {
	case IsMSBuildSDK(nd.Name):
		if r.global == nil {
			return nil, maestro.Errorf(maestro.KindInvalid, "%s is an MSBuild SDK, which is versioned in %s, but the repository has no %s", nd.Name, globaljson.Path, globaljson.Path)
		}
		r.global.AddSDK(nd.Name, nd.Version)
	case nd.SkipProperty || r.details != nil:
	case r.versions == nil:
		return nil, maestro.Errorf(maestro.KindInvalid, "the repository has no %s to hold the %s property; create it or use --skip-property", props.VersionsPath, props.PackageVersionName(nd.Name))
	default:
		r.versions.AddDependency(nd.Name, nd.Version)
	}
	r.regenDetails = r.details != nil
	res := &Result{Changed: []Change{{Name: nd.Name, ToVersion: nd.Version, ToSha: nd.Sha, ToURI: nd.URI}}}
	if r.details != nil && (r.versions == nil || !r.versions.ImportsDetails()) {
		res.Warnings = append(res.Warnings, props.VersionsPath+" does not import Version.Details.props, so the regenerated properties have no effect; add <Import Project=\"Version.Details.props\" Condition=\"Exists('Version.Details.props')\" /> at the top of <Project>")
	}
	if res.Files, err = r.changes(); err != nil {
		return nil, err
	}
	if !dryRun {
		if err := writeAll(dir, res.Files); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// generatedDetails renders Version.Details.props from the current
// dependency list (a dependency was added or removed).
type generatedDetails struct{ r *repo }

func (g generatedDetails) Bytes() ([]byte, error) {
	var gen []props.GenDependency
	for _, d := range g.r.vdx.Dependencies() {
		if !d.SkipProperty {
			gen = append(gen, props.GenDependency{Name: d.Name, Version: d.Version, URI: d.URI})
		}
	}
	return props.Generate(gen, xmltok.Newline(g.r.orig[props.DetailsPath])), nil
}

func quoteOrEmpty(s string) string {
	if s == "" {
		return "(empty)"
	}
	return `"` + s + `"`
}
