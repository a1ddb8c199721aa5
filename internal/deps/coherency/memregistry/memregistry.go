// Package memregistry is an in-memory coherency.Registry: a list of builds,
// searched the way the Build Asset Registry answers the coherency pass. Tests
// and demos use it where no registry store is at hand.
package memregistry

import (
	"context"
	"strings"

	"github.com/maestroplusplus/maestro/internal/deps/coherency"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// Registry holds builds in memory.
type Registry struct {
	Builds []*maestro.Build
}

var _ coherency.Registry = (*Registry)(nil)

// AssetBuild returns the build that produced name@version: the one from
// repository at commit when there is one, else the newest (highest id).
func (r *Registry) AssetBuild(_ context.Context, name, version, repository, commit string) (*maestro.Build, error) {
	var best *maestro.Build
	bestExact := false
	for _, b := range r.Builds {
		if !produced(b, name, version) {
			continue
		}
		exact := strings.EqualFold(b.Repository, repository) && strings.EqualFold(b.Commit, commit)
		switch {
		case best == nil, exact && !bestExact, exact == bestExact && b.ID > best.ID:
			best, bestExact = b, exact
		}
	}
	return best, nil
}

// Build returns the build with this id, or nil.
func (r *Registry) Build(_ context.Context, id int) (*maestro.Build, error) {
	for _, b := range r.Builds {
		if b.ID == id {
			return b, nil
		}
	}
	return nil, nil
}

func produced(b *maestro.Build, name, version string) bool {
	for _, a := range b.Assets {
		if strings.EqualFold(a.Name, name) && a.Version == version {
			return true
		}
	}
	return false
}
