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
