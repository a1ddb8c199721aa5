package publish

import (
	"context"
	"encoding/xml"
	"os"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// versionDetails is the part of eng/Version.Details.xml that publish reads.
type versionDetails struct {
	Product []detailsDependency `xml:"ProductDependencies>Dependency"`
	Toolset []detailsDependency `xml:"ToolsetDependencies>Dependency"`
}

type detailsDependency struct {
	Name    string `xml:"Name,attr"`
	Version string `xml:"Version,attr"`
	URI     string `xml:"Uri"`
	Sha     string `xml:"Sha"`
}

// buildDependencies looks every dependency of a Version.Details.xml up in the
// registry by asset name and version; it returns the builds found (one entry
// per build, product when any of its assets is a product dependency) and the
// dependencies it could not find.
func buildDependencies(ctx context.Context, reg *registry.Registry, path string, b maestro.Build) ([]maestro.BuildDependency, []detailsDependency, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, maestro.Errorf(maestro.KindInvalid, "--version-details: %v", err)
	}
	var vd versionDetails
	if err := xml.Unmarshal(data, &vd); err != nil {
		return nil, nil, maestro.Errorf(maestro.KindInvalid, "--version-details %s: %v", path, err)
	}
	var (
		deps    []maestro.BuildDependency
		unknown []detailsDependency
		index   = map[int]int{}
	)
	add := func(list []detailsDependency, isProduct bool) error {
		for _, d := range list {
			found, err := reg.FindDependencyBuild(ctx, d.Name, d.Version, d.URI, d.Sha)
			if maestro.KindOf(err) == maestro.KindNotFound {
				unknown = append(unknown, d)
				continue
			}
			if err != nil {
				return err
			}
			if i, ok := index[found.ID]; ok {
				deps[i].IsProduct = deps[i].IsProduct || isProduct
				continue
			}
			index[found.ID] = len(deps)
			deps = append(deps, maestro.BuildDependency{
				BuildID:                  found.ID,
				IsProduct:                isProduct,
				TimeToInclusionInMinutes: registry.TimeToInclusion(found, b),
			})
		}
		return nil
	}
	if err := add(vd.Product, true); err != nil {
		return nil, nil, err
	}
	if err := add(vd.Toolset, false); err != nil {
		return nil, nil, err
	}
	return deps, unknown, nil
}
