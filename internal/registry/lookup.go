package registry

import (
	"context"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// Lookup answers the coherency pass's questions (deps/coherency.Registry)
// from the registry: missing builds are (nil, nil), as that interface asks.
type Lookup struct{ Reg *Registry }

// AssetBuild returns the build that produced name@version, preferring the
// builds of repository at commit.
func (l Lookup) AssetBuild(ctx context.Context, name, version, repository, commit string) (*maestro.Build, error) {
	b, err := l.Reg.FindDependencyBuild(ctx, name, version, repository, commit)
	return found(b, err)
}

// Build returns a build with its assets.
func (l Lookup) Build(ctx context.Context, id int) (*maestro.Build, error) {
	b, err := l.Reg.Build(ctx, id)
	return found(b, err)
}

func found(b maestro.Build, err error) (*maestro.Build, error) {
	if maestro.KindOf(err) == maestro.KindNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &b, nil
}
