package deps_test

import (
	"context"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

const goodVDX = `<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
    <Dependency Name="Microsoft.NETCore.App.Ref" Version="9.0.0">
      <Uri>https://github.com/dotnet/runtime</Uri>
      <Sha>1111111111111111111111111111111111111111</Sha>
    </Dependency>
  </ProductDependencies>
  <ToolsetDependencies>
    <Dependency Name="Microsoft.DotNet.Arcade.Sdk" Version="9.0.0-beta.24058.6">
      <Uri>https://github.com/dotnet/arcade</Uri>
      <Sha>05493e05d4bbf262f1be1bd517ac95f5bff3a2ef</Sha>
    </Dependency>
  </ToolsetDependencies>
</Dependencies>
`

const goodProps = `<Project>
  <PropertyGroup>
    <MicrosoftNETCoreAppRefPackageVersion>9.0.0</MicrosoftNETCoreAppRefPackageVersion>
  </PropertyGroup>
</Project>
`

const goodGlobal = `{
  "tools": {
    "dotnet": "9.0.100"
  },
  "msbuild-sdks": {
    "Microsoft.DotNet.Arcade.Sdk": "9.0.0-beta.24058.6"
  }
}
`

const goodUpdate = `{
  "updates": [
    {
      "name": "Microsoft.NETCore.App.Ref",
      "version": "9.0.1",
      "sha": "2222222222222222222222222222222222222222",
      "uri": "https://github.com/dotnet/runtime"
    }
  ],
  "dotnetSdk": null,
  "source": null
}
`

// TestBadInput feeds every kind of bad input to the update path: each must be
// an invalid-input error naming the file (and line where there is one), kept
// as a golden file, and the working tree must stay exactly as it was.
func TestBadInput(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string // replaces the good repository's files
		update string            // replaces the good update file
	}{
		{name: "vdx-unclosed-element", files: map[string]string{"eng/Version.Details.xml": strings.Replace(goodVDX, "</Sha>\n    </Dependency>\n  </ProductDependencies>", "</Sha>\n  </ProductDependencies>", 1)}},
		{name: "vdx-bad-attribute", files: map[string]string{"eng/Version.Details.xml": strings.Replace(goodVDX, `Version="9.0.0">`, `Version=9.0.0>`, 1)}},
		{name: "vdx-wrong-root", files: map[string]string{"eng/Version.Details.xml": "<Project>\n</Project>\n"}},
		{name: "vdx-duplicate-dependency", files: map[string]string{"eng/Version.Details.xml": strings.Replace(goodVDX, "  </ToolsetDependencies>", `    <Dependency Name="microsoft.netcore.app.ref" Version="9.0.0">
      <Uri>https://github.com/dotnet/runtime</Uri>
      <Sha>1111111111111111111111111111111111111111</Sha>
    </Dependency>
  </ToolsetDependencies>`, 1)}},
		{name: "vdx-unknown-coherent-parent", files: map[string]string{"eng/Version.Details.xml": strings.Replace(goodVDX, `Name="Microsoft.NETCore.App.Ref" Version="9.0.0"`, `Name="Microsoft.NETCore.App.Ref" Version="9.0.0" CoherentParentDependency="Microsoft.NET.Sdk"`, 1)}},
		{name: "vdx-bad-pinned", files: map[string]string{"eng/Version.Details.xml": strings.Replace(goodVDX, `Version="9.0.0">`, `Version="9.0.0" Pinned="yes">`, 1)}},
		{name: "vdx-dependency-outside-group", files: map[string]string{"eng/Version.Details.xml": strings.ReplaceAll(goodVDX, "ProductDependencies>", "Other>")}},
		{name: "props-malformed", files: map[string]string{"eng/Versions.props": strings.Replace(goodProps, "</MicrosoftNETCoreAppRefPackageVersion>", "</MicrosoftNETCoreAppRefVersion>", 1)}},
		{name: "global-json-malformed", files: map[string]string{"global.json": strings.Replace(goodGlobal, `"9.0.100"`, `"9.0.100",,`, 1)}},
		{name: "nuget-config-malformed", files: map[string]string{"NuGet.config": "<configuration>\n  <packageSources>\n    <add key=\"a\" value=\"b\">\n  </packageSources>\n</configuration>\n"},
			update: strings.Replace(goodUpdate, `"uri": "https://github.com/dotnet/runtime"`, `"uri": "https://github.com/dotnet/runtime", "locations": ["https://pkgs.dev.azure.com/dnceng/public/_packaging/darc-pub-dotnet-runtime-22222222/nuget/v3/index.json"]`, 1)},
		{name: "dotnet-tools-malformed", files: map[string]string{".config/dotnet-tools.json": "{\n  \"tools\": {\n    \"x\": { \"version\": 1.0.0 }\n  }\n}\n"}},
		{name: "update-unknown-dependency", update: strings.Replace(goodUpdate, "Microsoft.NETCore.App.Ref", "Microsoft.AspNetCore.App.Ref", 1)},
		{name: "update-empty-version", update: strings.Replace(goodUpdate, `"version": "9.0.1"`, `"version": ""`, 1)},
		{name: "update-version-with-spaces", update: strings.Replace(goodUpdate, `"version": "9.0.1"`, `"version": "9.0.1 preview"`, 1)},
		{name: "update-empty-sha-and-uri", update: strings.Replace(strings.Replace(goodUpdate, `"uri": "https://github.com/dotnet/runtime"`, `"uri": ""`, 1), `"sha": "2222222222222222222222222222222222222222"`, `"sha": ""`, 1)},
		{name: "update-twice", update: strings.Replace(goodUpdate, "    }\n  ],", `    },
    {
      "name": "MICROSOFT.NETCORE.APP.REF",
      "version": "9.0.2",
      "sha": "3333333333333333333333333333333333333333",
      "uri": "https://github.com/dotnet/runtime"
    }
  ],`, 1)},
		{name: "update-malformed-json", update: strings.Replace(goodUpdate, `"dotnetSdk": null,`, `"dotnetSdk": null`, 1)},
		{name: "update-unknown-field", update: strings.Replace(goodUpdate, `"source": null`, `"sources": null`, 1)},
		{name: "update-wrong-type", update: strings.Replace(goodUpdate, `"version": "9.0.1"`, `"version": 9`, 1)},
		{name: "update-bad-sdk-version", update: strings.Replace(goodUpdate, `"dotnetSdk": null`, `"dotnetSdk": "9.0.200 rc"`, 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{
				"eng/Version.Details.xml": goodVDX,
				"eng/Versions.props":      goodProps,
				"global.json":             goodGlobal,
			}
			for p, c := range tc.files {
				files[p] = c
			}
			dir := writeTree(t, files)
			before := snapshot(t, dir)
			text := goodUpdate
			if tc.update != "" {
				text = tc.update
			}
			u, err := deps.ParseUpdateFile("updates.json", []byte(text))
			if err == nil {
				_, err = deps.ApplyUpdateFile(context.Background(), dir, u, deps.Options{})
			}
			if err == nil {
				t.Fatal("no error")
			}
			if k := maestro.KindOf(err); k != maestro.KindInvalid {
				t.Errorf("error kind %v, want KindInvalid: %v", k, err)
			}
			golden(t, "badinput/"+tc.name+".txt", []byte(err.Error()+"\n"))
			assertSameTree(t, before, snapshot(t, dir))
		})
	}
}
