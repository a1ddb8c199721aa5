package deps_test

import (
	"context"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps"
)

const nugetVDX = `<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
    <Dependency Name="Microsoft.NETCore.App.Ref" Version="9.0.0">
      <Uri>https://github.com/dotnet/runtime</Uri>
      <Sha>1111111111111111111111111111111111111111</Sha>
    </Dependency>
    <Dependency Name="Microsoft.AspNetCore.App.Ref" Version="9.0.0">
      <Uri>https://dev.azure.com/dnceng/internal/_git/dotnet-aspnetcore</Uri>
      <Sha>2222222222222222222222222222222222222222</Sha>
    </Dependency>
  </ProductDependencies>
  <ToolsetDependencies>
  </ToolsetDependencies>
</Dependencies>
`

const nugetProps = `<Project>
  <PropertyGroup>
    <MicrosoftNETCoreAppRefPackageVersion>9.0.0</MicrosoftNETCoreAppRefPackageVersion>
    <MicrosoftAspNetCoreAppRefPackageVersion>9.0.0</MicrosoftAspNetCoreAppRefPackageVersion>
  </PropertyGroup>
</Project>
`

const (
	runtimePub = "https://pkgs.dev.azure.com/dnceng/public/_packaging/darc-pub-dotnet-runtime-aaaaaaaa/nuget/v3/index.json"
	aspInt     = "https://pkgs.dev.azure.com/dnceng/internal/_packaging/darc-int-dotnet-aspnetcore-bbbbbbbb/nuget/v3/index.json"
	aspInt1    = "https://pkgs.dev.azure.com/dnceng/internal/_packaging/darc-int-dotnet-aspnetcore-bbbbbbbb-1/nuget/v3/index.json"
)

// TestNuGetConfigGolden rewrites the flow-managed block of NuGet.config in
// the situations a repository meets, and keeps the results as golden files.
func TestNuGetConfigGolden(t *testing.T) {
	runtime := deps.Update{Name: "Microsoft.NETCore.App.Ref", Version: "9.0.1", Sha: strings.Repeat("a", 40), URI: "https://github.com/dotnet/runtime", Locations: []string{runtimePub}}
	asp := deps.Update{Name: "Microsoft.AspNetCore.App.Ref", Version: "9.0.1", Sha: strings.Repeat("b", 40), URI: "https://dev.azure.com/dnceng/internal/_git/dotnet-aspnetcore", Locations: []string{aspInt, aspInt1}}
	public := deps.Update{Name: "Microsoft.NETCore.App.Ref", Version: "9.0.1", Sha: strings.Repeat("a", 40), URI: "https://github.com/dotnet/runtime", Locations: []string{runtimePub, publicFeed}}
	tests := []struct {
		name    string
		config  string
		updates []deps.Update
		feeds   map[string][]string // the update file's feedPackages
	}{
		{
			name: "new-block",
			config: `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="dotnet-public" value="https://pkgs.dev.azure.com/dnceng/public/_packaging/dotnet-public/nuget/v3/index.json" />
  </packageSources>
</configuration>
`,
			updates: []deps.Update{runtime, asp},
		},
		{
			name: "replace-feeds",
			config: `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <!--Begin: Package sources managed by Dependency Flow automation. Do not edit the sources below.-->
    <!--  Begin: Package sources from dotnet-aspnetcore -->
    <add key="darc-int-dotnet-aspnetcore-9999999" value="https://pkgs.dev.azure.com/dnceng/internal/_packaging/darc-int-dotnet-aspnetcore-99999999/nuget/v3/index.json" />
    <!--  End: Package sources from dotnet-aspnetcore -->
    <!--  Begin: Package sources from dotnet-runtime -->
    <add key="darc-pub-dotnet-runtime-8888888" value="https://pkgs.dev.azure.com/dnceng/public/_packaging/darc-pub-dotnet-runtime-88888888/nuget/v3/index.json" />
    <!--  End: Package sources from dotnet-runtime -->
    <!--End: Package sources managed by Dependency Flow automation. Do not edit the sources above.-->
    <!-- a feed a person pinned, outside the block: never touched -->
    <add key="darc-pub-dotnet-runtime-7777777" value="https://pkgs.dev.azure.com/dnceng/public/_packaging/darc-pub-dotnet-runtime-77777777/nuget/v3/index.json" />
    <add key="dotnet-public" value="https://pkgs.dev.azure.com/dnceng/public/_packaging/dotnet-public/nuget/v3/index.json" />
  </packageSources>
  <disabledPackageSources>
    <clear />
    <!--Begin: Package sources managed by Dependency Flow automation. Do not edit the sources below.-->
    <!--  Begin: Package sources from dotnet-aspnetcore -->
    <add key="darc-int-dotnet-aspnetcore-9999999" value="true" />
    <!--  End: Package sources from dotnet-aspnetcore -->
    <!--End: Package sources managed by Dependency Flow automation. Do not edit the sources above.-->
    <add key="some-feed" value="true" />
  </disabledPackageSources>
</configuration>
`,
			updates: []deps.Update{runtime, asp},
		},
		{
			name: "remove-feeds",
			config: `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <!--Begin: Package sources managed by Dependency Flow automation. Do not edit the sources below.-->
    <!--  Begin: Package sources from dotnet-runtime -->
    <add key="darc-pub-dotnet-runtime-8888888" value="https://pkgs.dev.azure.com/dnceng/public/_packaging/darc-pub-dotnet-runtime-88888888/nuget/v3/index.json" />
    <!--  End: Package sources from dotnet-runtime -->
    <!--End: Package sources managed by Dependency Flow automation. Do not edit the sources above.-->
    <add key="dotnet-public" value="https://pkgs.dev.azure.com/dnceng/public/_packaging/dotnet-public/nuget/v3/index.json" />
  </packageSources>
  <disabledPackageSources />
</configuration>
`,
			// Published to a public feed as well: production adds no feed for it.
			updates: []deps.Update{public},
		},
		{
			name: "crlf-clear-not-first",
			config: strings.ReplaceAll(`<?xml version="1.0" encoding="utf-8"?>
<configuration>
	<packageSources>
		<add key="dotnet-public" value="https://pkgs.dev.azure.com/dnceng/public/_packaging/dotnet-public/nuget/v3/index.json" />
		<clear/>
	</packageSources>
</configuration>`, "\n", "\r\n"),
			updates: []deps.Update{runtime},
		},
		{
			// Package source mapping (dotnet/arcade-services#5318): each new
			// managed feed maps the packages the flow takes from it.
			name: "mapping-new",
			config: `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="dotnet-public" value="https://pkgs.dev.azure.com/dnceng/public/_packaging/dotnet-public/nuget/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <clear />
    <!-- everything else from dotnet-public -->
    <packageSource key="dotnet-public">
      <package pattern="*" />
    </packageSource>
  </packageSourceMapping>
</configuration>
`,
			updates: []deps.Update{runtime, asp},
		},
		{
			// A feed that goes takes its mapping along; one whose packages
			// changed is rewritten in place; an unchanged one keeps its bytes;
			// a person's entry for a darc feed outside the block stays. CRLF
			// and tabs as in the file.
			name: "mapping-replace-crlf",
			config: strings.ReplaceAll(`<?xml version="1.0" encoding="utf-8"?>
<configuration>
	<packageSources>
		<clear />
		<!--Begin: Package sources managed by Dependency Flow automation. Do not edit the sources below.-->
		<!--  Begin: Package sources from dotnet-aspnetcore -->
		<add key="darc-int-dotnet-aspnetcore-bbbbbbb" value="`+aspInt+`" />
		<!--  End: Package sources from dotnet-aspnetcore -->
		<!--  Begin: Package sources from dotnet-runtime -->
		<add key="darc-pub-dotnet-runtime-8888888" value="https://pkgs.dev.azure.com/dnceng/public/_packaging/darc-pub-dotnet-runtime-88888888/nuget/v3/index.json" />
		<!--  End: Package sources from dotnet-runtime -->
		<!--End: Package sources managed by Dependency Flow automation. Do not edit the sources above.-->
		<add key="darc-pub-dotnet-runtime-7777777" value="https://pkgs.dev.azure.com/dnceng/public/_packaging/darc-pub-dotnet-runtime-77777777/nuget/v3/index.json" />
	</packageSources>
	<packageSourceMapping>
		<packageSource key="darc-pub-dotnet-runtime-8888888">
			<package pattern="Microsoft.NETCore.App.Ref" />
		</packageSource>
		<packageSource key="darc-int-dotnet-aspnetcore-bbbbbbb"><package pattern="Microsoft.AspNetCore.App.Ref" /></packageSource>
		<packageSource key="darc-pub-dotnet-runtime-7777777">
			<package pattern="Microsoft.NETCore.ILAsm" />
		</packageSource>
		<packageSource key="nuget.org">
			<package pattern="*" />
		</packageSource>
	</packageSourceMapping>
</configuration>
`, "\n", "\r\n"),
			updates: []deps.Update{runtime, asp},
		},
		{
			// With <clear/> and everything else mapped to dotnet-public, a
			// package of the runtime build that Version.Details.xml does not
			// name (the repository references it directly) resolves only if
			// the build's feed maps it: the feed maps every package the
			// build published there (feedPackages), each once.
			name: "mapping-build-packages",
			config: `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="dotnet-public" value="https://pkgs.dev.azure.com/dnceng/public/_packaging/dotnet-public/nuget/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <clear />
    <packageSource key="dotnet-public">
      <package pattern="*" />
    </packageSource>
  </packageSourceMapping>
</configuration>
`,
			updates: []deps.Update{runtime, asp},
			feeds: map[string][]string{
				runtimePub: {"Microsoft.NETCore.App.Runtime.linux-x64", "System.Text.Json", "microsoft.netcore.app.ref", "Microsoft.NETCore.ILAsm"},
				publicFeed: {"Not.In.The.Block"},
			},
		},
		{
			name: "mapping-empty",
			config: `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
  </packageSources>
  <packageSourceMapping />
</configuration>
`,
			updates: []deps.Update{runtime},
		},
		{
			// The only entry goes, another comes: the new one is laid out
			// like the rest of the file.
			name: "mapping-swap",
			config: `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <!--Begin: Package sources managed by Dependency Flow automation. Do not edit the sources below.-->
    <!--  Begin: Package sources from dotnet-runtime -->
    <add key="darc-pub-dotnet-runtime-8888888" value="https://pkgs.dev.azure.com/dnceng/public/_packaging/darc-pub-dotnet-runtime-88888888/nuget/v3/index.json" />
    <!--  End: Package sources from dotnet-runtime -->
    <!--End: Package sources managed by Dependency Flow automation. Do not edit the sources above.-->
  </packageSources>
  <packageSourceMapping>
    <packageSource key="darc-pub-dotnet-runtime-8888888">
      <package pattern="Microsoft.NETCore.App.Ref" />
    </packageSource>
  </packageSourceMapping>
</configuration>
`,
			updates: []deps.Update{runtime},
		},
		{
			name: "mapping-remove",
			config: `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <!--Begin: Package sources managed by Dependency Flow automation. Do not edit the sources below.-->
    <!--  Begin: Package sources from dotnet-runtime -->
    <add key="darc-pub-dotnet-runtime-8888888" value="https://pkgs.dev.azure.com/dnceng/public/_packaging/darc-pub-dotnet-runtime-88888888/nuget/v3/index.json" />
    <!--  End: Package sources from dotnet-runtime -->
    <!--End: Package sources managed by Dependency Flow automation. Do not edit the sources above.-->
  </packageSources>
  <disabledPackageSources />
  <packageSourceMapping>
    <packageSource key="darc-pub-dotnet-runtime-8888888">
      <package pattern="Microsoft.NETCore.App.Ref" />
    </packageSource>
    <packageSource key="nuget.org">
      <package pattern="*" />
    </packageSource>
  </packageSourceMapping>
</configuration>
`,
			updates: []deps.Update{public},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeTree(t, map[string]string{
				"eng/Version.Details.xml": nugetVDX,
				"eng/Versions.props":      nugetProps,
				"NuGet.config":            tc.config,
			})
			if _, err := deps.ApplyUpdateFile(context.Background(), dir, deps.UpdateFile{Updates: tc.updates, FeedPackages: tc.feeds}, deps.Options{}); err != nil {
				t.Fatal(err)
			}
			golden(t, "nuget/"+tc.name+".config", readFile(t, dir, "NuGet.config"))
		})
	}
}

// TestNuGetConfigUntouchedWithoutLocations: an update file without locations
// (the fixtures' format) leaves NuGet.config alone.
func TestNuGetConfigUntouchedWithoutLocations(t *testing.T) {
	config := `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="dotnet-public" value="https://pkgs.dev.azure.com/dnceng/public/_packaging/dotnet-public/nuget/v3/index.json" />
  </packageSources>
</configuration>
`
	dir := writeTree(t, map[string]string{"eng/Version.Details.xml": nugetVDX, "eng/Versions.props": nugetProps, "NuGet.config": config})
	u := deps.UpdateFile{Updates: []deps.Update{{Name: "Microsoft.NETCore.App.Ref", Version: "9.0.1", Sha: strings.Repeat("a", 40), URI: "https://github.com/dotnet/runtime"}}}
	res, err := deps.ApplyUpdateFile(context.Background(), dir, u, deps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		if f.Path == "NuGet.config" {
			t.Errorf("NuGet.config changed:\n%s", deps.UnifiedDiff(f.Path, f.Old, f.New))
		}
	}
	if got := string(readFile(t, dir, "NuGet.config")); got != config {
		t.Errorf("NuGet.config on disk changed")
	}
}
