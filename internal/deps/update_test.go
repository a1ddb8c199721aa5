package deps_test

import (
	"context"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/deps/coherency/memregistry"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

const coherentVDX = `<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
    <Dependency Name="Microsoft.NET.Sdk" Version="8.0.100">
      <Uri>https://github.com/dotnet/sdk</Uri>
      <Sha>5555555555555555555555555555555555555555</Sha>
    </Dependency>
    <Dependency Name="Microsoft.NETCore.App.Ref" Version="8.0.0" CoherentParentDependency="Microsoft.NET.Sdk">
      <Uri>https://github.com/dotnet/runtime</Uri>
      <Sha>1111111111111111111111111111111111111111</Sha>
    </Dependency>
    <Dependency Name="NETStandard.Library.Ref" Version="2.1.0" Pinned="true" CoherentParentDependency="Microsoft.NET.Sdk">
      <Uri>https://github.com/dotnet/core-setup</Uri>
      <Sha>7d57652f33493fa022125b7f63aad0d70c52d810</Sha>
    </Dependency>
  </ProductDependencies>
  <ToolsetDependencies>
  </ToolsetDependencies>
</Dependencies>
`

const coherentProps = `<Project>
  <PropertyGroup>
    <MicrosoftNETSdkPackageVersion>8.0.100</MicrosoftNETSdkPackageVersion>
    <MicrosoftNETCoreAppRefPackageVersion>8.0.0</MicrosoftNETCoreAppRefPackageVersion>
    <NETStandardLibraryRefPackageVersion>2.1.0</NETStandardLibraryRefPackageVersion>
  </PropertyGroup>
</Project>
`

func coherentRegistry() *memregistry.Registry {
	feed := func(repo, sha string) []maestro.AssetLocation {
		return []maestro.AssetLocation{{Type: maestro.LocationNuGetFeed, Location: "https://pkgs.dev.azure.com/dnceng/public/_packaging/darc-pub-dotnet-" + repo + "-" + sha[:8] + "/nuget/v3/index.json"}}
	}
	return &memregistry.Registry{Builds: []*maestro.Build{
		{ID: 1, Repository: "https://github.com/dotnet/runtime", Commit: strings.Repeat("2", 40),
			Assets: []maestro.Asset{{Name: "Microsoft.NETCore.App.Ref", Version: "8.0.1", Locations: feed("runtime", strings.Repeat("2", 40))}}},
		{ID: 2, Repository: "https://github.com/dotnet/sdk", Commit: strings.Repeat("6", 40),
			Dependencies: []maestro.BuildDependency{{BuildID: 1, IsProduct: true}},
			Assets:       []maestro.Asset{{Name: "Microsoft.NET.Sdk", Version: "8.0.101", Locations: feed("sdk", strings.Repeat("6", 40))}}},
	}}
}

// TestUpdateWithCoherency moves the SDK and lets the coherency pass move the
// runtime it depended on; the pinned child stays.
func TestUpdateWithCoherency(t *testing.T) {
	dir := writeTree(t, map[string]string{"eng/Version.Details.xml": coherentVDX, "eng/Versions.props": coherentProps})
	u := deps.UpdateFile{Updates: []deps.Update{{Name: "Microsoft.NET.Sdk", Version: "8.0.101", Sha: strings.Repeat("6", 40), URI: "https://github.com/dotnet/sdk"}}}
	res, err := deps.ApplyUpdateFile(context.Background(), dir, u, deps.Options{Coherency: coherentRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "coherency/update.diff", []byte(res.Diff()))
	if len(res.Changed) != 2 || res.Changed[1].CoherentParent != "Microsoft.NET.Sdk" {
		t.Errorf("changes %+v", res.Changed)
	}
}

// TestCoherencyOnly runs only the coherency pass on a repository whose SDK
// moved without its runtime.
func TestCoherencyOnly(t *testing.T) {
	vdx := strings.Replace(strings.Replace(coherentVDX, `Version="8.0.100"`, `Version="8.0.101"`, 1), strings.Repeat("5", 40), strings.Repeat("6", 40), 1)
	dir := writeTree(t, map[string]string{"eng/Version.Details.xml": vdx, "eng/Versions.props": coherentProps})
	res, err := deps.UpdateCoherency(context.Background(), dir, coherentRegistry(), deps.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changed) != 1 || res.Changed[0].Name != "Microsoft.NETCore.App.Ref" || res.Changed[0].ToVersion != "8.0.1" {
		t.Errorf("changes %+v", res.Changed)
	}
	if got := string(readFile(t, dir, "eng/Version.Details.xml")); got != vdx {
		t.Error("dry run wrote the file")
	}
}

// TestCoherencyErrorLeavesTree: a missing link fails the whole update.
func TestCoherencyErrorLeavesTree(t *testing.T) {
	dir := writeTree(t, map[string]string{"eng/Version.Details.xml": coherentVDX, "eng/Versions.props": coherentProps})
	before := snapshot(t, dir)
	reg := coherentRegistry()
	reg.Builds[1].Dependencies = nil
	u := deps.UpdateFile{Updates: []deps.Update{{Name: "Microsoft.NET.Sdk", Version: "8.0.101", Sha: strings.Repeat("6", 40), URI: "https://github.com/dotnet/sdk"}}}
	_, err := deps.ApplyUpdateFile(context.Background(), dir, u, deps.Options{Coherency: reg})
	if err == nil || !strings.Contains(err.Error(), "does not contain dependency Microsoft.NETCore.App.Ref") {
		t.Fatalf("err = %v", err)
	}
	assertSameTree(t, before, snapshot(t, dir))
}

const editVDX = `<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
    <Dependency Name="Microsoft.NETCore.App.Ref" Version="9.0.0">
      <Uri>https://github.com/dotnet/runtime</Uri>
      <Sha>1111111111111111111111111111111111111111</Sha>
    </Dependency>
    <Dependency Name="Microsoft.DotNet.XHarness.CLI" Version="9.0.0-prerelease.24060.1">
      <Uri>https://github.com/dotnet/xharness</Uri>
      <Sha>abababababababababababababababababababab</Sha>
    </Dependency>
    <Dependency Name="System.Text.Json" Version="9.0.0" Pinned="true">
      <Uri>https://github.com/dotnet/runtime</Uri>
      <Sha>1111111111111111111111111111111111111111</Sha>
    </Dependency>
  </ProductDependencies>
  <ToolsetDependencies>
    <Dependency Name="Microsoft.DotNet.Arcade.Sdk" Version="9.0.0-beta.24058.6">
      <Uri>https://github.com/dotnet/arcade</Uri>
      <Sha><!-- Will be filled by darc --></Sha>
    </Dependency>
  </ToolsetDependencies>
</Dependencies>
`

const editProps = `<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="http://schemas.microsoft.com/developer/msbuild/2003">
  <PropertyGroup>
    <!-- the PackageVersion name only refers to the alternate one: never overwritten -->
    <MicrosoftNETCoreAppRefPackageVersion>$(MicrosoftNETCoreAppRefVersion)</MicrosoftNETCoreAppRefPackageVersion>
    <microsoftnetcoreapprefversion>9.0.0</microsoftnetcoreapprefversion>
    <MicrosoftDotNetXHarnessCLIPackageVersion/>
    <SystemTextJsonPackageVersion>9.0.0</SystemTextJsonPackageVersion>
  </PropertyGroup>
</Project>
`

const editTools = `{
  "version": 1,
  "isRoot": true,
  "tools": {
    "microsoft.dotnet.xharness.cli": {
      "version": "9.0.0-prerelease.24060.1",
      "commands": [ "xharness" ]
    }
  }
}
`

const editGlobal = `{
  // comments survive
  "sdk": { "version": "9.0.100", "allowPrerelease": true },
  "tools": {
    "dotnet": "9.0.100"
  },
  "msbuild-sdks": {
    "Microsoft.DotNet.Arcade.Sdk": "9.0.0-beta.24058.6",
  }
}
`

// TestUpdateEdits covers the edits of one update in every file, kept as a
// golden diff: a Source added where there was none, a case correction that
// renames the property, a $(...) property left alone, a self-closing
// property filled in, a Sha holding only a comment, the tool manifest,
// global.json with comments and a trailing comma, and skipped updates.
func TestUpdateEdits(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"eng/Version.Details.xml":   editVDX,
		"eng/Versions.props":        editProps,
		"global.json":               editGlobal,
		".config/dotnet-tools.json": editTools,
	})
	sdk := "9.0.101"
	u := deps.UpdateFile{
		Updates: []deps.Update{
			{Name: "microsoft.netcore.app.ref", Version: "9.0.1", Sha: strings.Repeat("2", 40), URI: "https://github.com/dotnet/runtime"},
			{Name: "Microsoft.DotNet.XHarness.CLI", Version: "9.0.0-prerelease.24061.1", Sha: strings.Repeat("c", 40), URI: "https://github.com/dotnet/xharness"},
			{Name: "System.Text.Json", Version: "9.0.1", Sha: strings.Repeat("2", 40), URI: "https://github.com/dotnet/runtime"},
			{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "9.0.0-beta.24062.5", Sha: strings.Repeat("d", 40), URI: "https://github.com/dotnet/arcade"},
			{Name: "Microsoft.DotNet.Helix.Sdk.Excluded", Version: "1", Sha: "x", URI: "y"},
		},
		DotnetSdk: &sdk,
		Source:    &deps.Source{URI: "https://github.com/dotnet/dotnet", Mapping: "xharness", Sha: strings.Repeat("e", 40), BarID: "12345"},
	}
	_, err := deps.ApplyUpdateFile(context.Background(), dir, u, deps.Options{ExcludeAssets: []string{"*.Excluded"}})
	if err == nil || !strings.Contains(err.Error(), "Microsoft.DotNet.Helix.Sdk.Excluded") {
		t.Fatalf("an update for a dependency the repository lacks must fail, even when excluded: %v", err)
	}
	u.Updates = u.Updates[:4]
	res, err := deps.ApplyUpdateFile(context.Background(), dir, u, deps.Options{ExcludeAssets: []string{"Microsoft.DotNet.XHarness.*"}})
	if err != nil {
		t.Fatal(err)
	}
	var skipped []string
	for _, s := range res.Skipped {
		skipped = append(skipped, s.Name+": "+s.Reason)
	}
	golden(t, "update/edits.diff", []byte(res.Diff()+"\nskipped:\n"+strings.Join(skipped, "\n")+"\n"))

	// Now without the exclusion: the tool manifest and the empty property follow.
	res, err = deps.ApplyUpdateFile(context.Background(), dir, u, deps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "update/edits-tools.diff", []byte(res.Diff()))
}

// TestDotnetSdk covers when tools.dotnet moves.
func TestDotnetSdk(t *testing.T) {
	tests := []struct {
		name, global, sdk string
		want              string
	}{
		{"newer", `{"sdk":{"version":"9.0.100"},"tools":{"dotnet":"9.0.100"}}`, "9.0.101", `{"sdk":{"version":"9.0.101"},"tools":{"dotnet":"9.0.101"}}`},
		{"sdk-version-differs", `{"sdk":{"version":"9.0.100-rc.1"},"tools":{"dotnet":"9.0.100"}}`, "9.0.101", `{"sdk":{"version":"9.0.100-rc.1"},"tools":{"dotnet":"9.0.101"}}`},
		{"prerelease-to-release", `{"tools":{"dotnet":"10.0.100-rc.2.25502.107"}}`, "10.0.100", `{"tools":{"dotnet":"10.0.100"}}`},
		{"older-is-ignored", `{"tools":{"dotnet":"9.0.200"}}`, "9.0.101", `{"tools":{"dotnet":"9.0.200"}}`},
		{"pinned", `{"tools":{"dotnet":"9.0.100","pinned":true}}`, "9.0.101", `{"tools":{"dotnet":"9.0.100","pinned":true}}`},
		{"no-tools", `{"msbuild-sdks":{}}`, "9.0.101", `{"msbuild-sdks":{}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{"eng/Version.Details.xml": goodVDX, "global.json": tc.global})
			sdk := tc.sdk
			if _, err := deps.ApplyUpdateFile(context.Background(), dir, deps.UpdateFile{DotnetSdk: &sdk}, deps.Options{}); err != nil {
				t.Fatal(err)
			}
			if got := string(readFile(t, dir, "global.json")); got != tc.want {
				t.Errorf("global.json = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	dir := writeTree(t, map[string]string{"eng/Version.Details.xml": goodVDX, "eng/Versions.props": goodProps, "global.json": goodGlobal})
	before := snapshot(t, dir)
	u, err := deps.ParseUpdateFile("updates.json", []byte(goodUpdate))
	if err != nil {
		t.Fatal(err)
	}
	res, err := deps.ApplyUpdateFile(context.Background(), dir, u, deps.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 2 {
		t.Errorf("dry run reports %d changed files, want 2", len(res.Files))
	}
	assertSameTree(t, before, snapshot(t, dir))
	golden(t, "update/dry-run.diff", []byte(res.Diff()))
}
