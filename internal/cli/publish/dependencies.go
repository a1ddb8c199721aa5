package publish

import (
	"context"
	"os"
	"sync"

	"github.com/maestroplusplus/maestro/internal/deps/versiondetails"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// buildDependencies looks every dependency of a Version.Details.xml up in the
// registry by asset name and version; it returns the builds found (one entry
// per build, product when any of its assets is a product dependency) and the
// dependencies it could not find. Each lookup reads a fixed number of index
// documents (docs/registry.md); they run side by side, through one
// registry.Finder so that each build found is read once.
func buildDependencies(ctx context.Context, reg *registry.Registry, path string, b maestro.Build) ([]maestro.BuildDependency, []versiondetails.Dependency, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, maestro.Errorf(maestro.KindInvalid, "--version-details: %v", err)
	}
	vd, err := versiondetails.Parse(path, data)
	if err != nil {
		return nil, nil, err
	}
	var (
		deps    []maestro.BuildDependency
		unknown []versiondetails.Dependency
		index   = map[int]int{}
	)
	finder := registry.NewFinder(reg)
	add := func(list []versiondetails.Dependency, isProduct bool) error {
		results, errs := lookupAll(ctx, finder, list)
		for i, d := range list {
			found, err := results[i], errs[i]
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
	var product, toolset []versiondetails.Dependency
	for _, d := range vd.Dependencies() {
		if d.Type == versiondetails.Product {
			product = append(product, d)
		} else {
			toolset = append(toolset, d)
		}
	}
	if err := add(product, true); err != nil {
		return nil, nil, err
	}
	if err := add(toolset, false); err != nil {
		return nil, nil, err
	}
	return deps, unknown, nil
}

// lookupConcurrency bounds the lookups in flight, as the registry bounds its
// own requests.
const lookupConcurrency = 16

// lookupAll finds the build of every dependency, side by side; results are in
// list order.
func lookupAll(ctx context.Context, finder *registry.Finder, list []versiondetails.Dependency) ([]maestro.Build, []error) {
	found := make([]maestro.Build, len(list))
	errs := make([]error, len(list))
	sem := make(chan struct{}, lookupConcurrency)
	var wg sync.WaitGroup
	for i, d := range list {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			found[i], errs[i] = finder.FindDependencyBuild(ctx, d.Name, d.Version, d.URI, d.Sha)
		}()
	}
	wg.Wait()
	return found, errs
}
