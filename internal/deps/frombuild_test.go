package deps_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

func TestUpdateFromBuild(t *testing.T) {
	listing := &deps.Listing{Dependencies: []deps.Dependency{
		{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "1.0.0"},
		{Name: "Microsoft.NETCore.App.Ref", Version: "9.0.0"},
	}}
	b := maestro.Build{Repository: "https://github.com/dotnet/arcade", Commit: "abc", Assets: []maestro.Asset{
		{Name: "microsoft.dotnet.arcade.sdk", Version: "2.0.0", Locations: []maestro.AssetLocation{
			{Type: maestro.LocationNuGetFeed, Location: "https://pkgs.dev.azure.com/dnceng/public/_packaging/dotnet-eng/nuget/v3/index.json"},
			{Type: maestro.LocationContainer, Location: "https://dev.azure.com/dnceng/internal/_apis/build/builds/1/artifacts"},
		}},
		{Name: "Microsoft.DotNet.Helix.Sdk", Version: "2.0.0"},
	}}
	u := deps.UpdateFromBuild(listing, b)
	assert.Equal(t, []deps.Update{{
		Name: "Microsoft.DotNet.Arcade.Sdk", Version: "2.0.0", Sha: "abc", URI: "https://github.com/dotnet/arcade",
		Locations: []string{"https://pkgs.dev.azure.com/dnceng/public/_packaging/dotnet-eng/nuget/v3/index.json"},
	}}, u.Updates)
}

// TestUpdateFromBuildFeedPackages: the update from a build lists, per
// flow-managed feed, every package the build published there — those the
// target names in Version.Details.xml and those it does not — once each;
// other feeds and container locations are left out.
func TestUpdateFromBuildFeedPackages(t *testing.T) {
	const pub = "https://pkgs.dev.azure.com/dnceng/public/_packaging/darc-pub-dotnet-runtime-aaaaaaaa/nuget/v3/index.json"
	const public = "https://pkgs.dev.azure.com/dnceng/public/_packaging/dotnet-public/nuget/v3/index.json"
	feed := func(urls ...string) []maestro.AssetLocation {
		var out []maestro.AssetLocation
		for _, u := range urls {
			out = append(out, maestro.AssetLocation{Type: maestro.LocationNuGetFeed, Location: u})
		}
		return out
	}
	listing := &deps.Listing{Dependencies: []deps.Dependency{{Name: "Microsoft.NETCore.App.Ref", Version: "9.0.0"}}}
	b := maestro.Build{Repository: "https://github.com/dotnet/runtime", Commit: "abc", Assets: []maestro.Asset{
		{Name: "Microsoft.NETCore.App.Ref", Version: "9.0.1", Locations: feed(pub)},
		{Name: "System.Text.Json", Version: "9.0.1", Locations: feed(pub)},
		{Name: "system.text.json", Version: "9.0.1", Locations: feed(pub)},
		{Name: "Microsoft.NETCore.ILAsm", Version: "9.0.1", Locations: feed(public)},
		{Name: "dotnet-runtime-9.0.1-linux-x64.tar.gz", Version: "9.0.1", Locations: []maestro.AssetLocation{{Type: maestro.LocationContainer, Location: "https://dev.azure.com/dnceng/internal/_apis/build/builds/1/artifacts"}}},
	}}
	u := deps.UpdateFromBuild(listing, b)
	assert.Equal(t, map[string][]string{pub: {"Microsoft.NETCore.App.Ref", "System.Text.Json"}}, u.FeedPackages)
	assert.NoError(t, u.Validate())

	u.FeedPackages[pub] = append(u.FeedPackages[pub], "")
	assert.ErrorContains(t, u.Validate(), "package is empty")
}
