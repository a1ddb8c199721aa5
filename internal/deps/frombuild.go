package deps

import (
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// UpdateFromBuild is the update that takes a build's assets into a
// repository: one entry per dependency of listing whose name matches an asset
// of b (case-insensitively), with the asset's version, the build's commit and
// repository, and the asset's feed locations; FeedPackages holds every
// package the build published to a flow-managed feed (AddBuildFeeds).
// Dependencies the build did not
// produce are not in it, and neither are coherent dependencies (those with a
// CoherentParentDependency): as in production, they move only through the
// coherency pass, to the version their parent's build depended on, even when
// the build carries an asset of the same name (CoherentCarried lists those).
// Exclusions and pins are applied by ApplyUpdateFile.
func UpdateFromBuild(listing *Listing, b maestro.Build) UpdateFile {
	assets := buildAssets(b)
	var u UpdateFile
	for _, d := range listing.Dependencies {
		a, ok := assets[strings.ToLower(d.Name)]
		if !ok || d.CoherentParent != "" {
			continue
		}
		u.Updates = append(u.Updates, Update{
			Name: d.Name, Version: a.Version, Sha: b.Commit, URI: b.Repository,
			Locations: FeedLocations(a),
		})
	}
	u.AddBuildFeeds(b)
	return u
}

// CoherentCarried returns the coherent dependencies of listing that b carries
// an asset of: UpdateFromBuild leaves them to the coherency pass.
func CoherentCarried(listing *Listing, b maestro.Build) []Dependency {
	assets := buildAssets(b)
	var out []Dependency
	for _, d := range listing.Dependencies {
		if _, ok := assets[strings.ToLower(d.Name)]; ok && d.CoherentParent != "" {
			out = append(out, d)
		}
	}
	return out
}

func buildAssets(b maestro.Build) map[string]maestro.Asset {
	assets := make(map[string]maestro.Asset, len(b.Assets))
	for _, a := range b.Assets {
		assets[strings.ToLower(a.Name)] = a
	}
	return assets
}

// FeedLocations returns the NuGet feeds an asset was published to.
func FeedLocations(a maestro.Asset) []string {
	var feeds []string
	for _, l := range a.Locations {
		if l.Type == maestro.LocationNuGetFeed {
			feeds = append(feeds, l.Location)
		}
	}
	return feeds
}
