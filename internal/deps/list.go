package deps

import (
	"github.com/maestroplusplus/maestro/internal/deps/versiondetails"
)

// Dependency is one dependency of eng/Version.Details.xml.
type Dependency = versiondetails.Dependency

// DependencyType is product or toolset.
type DependencyType = versiondetails.Type

// Dependency types.
const (
	Product = versiondetails.Product
	Toolset = versiondetails.Toolset
)

// Listing is what `maestro deps list` shows.
type Listing struct {
	Source       *versiondetails.Source `json:"source,omitempty"`
	Dependencies []Dependency           `json:"dependencies"`
}

// List reads the dependencies of the repository in dir.
func List(dir string) (*Listing, error) {
	r, err := loadRepo(dir)
	if err != nil {
		return nil, err
	}
	deps := r.vdx.Dependencies()
	if deps == nil {
		deps = []Dependency{}
	}
	return &Listing{Source: r.vdx.Source(), Dependencies: deps}, nil
}
