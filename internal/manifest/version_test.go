package manifest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/maestroplusplus/maestro/internal/manifest"
)

// The expectations are those of production's VersionIdentifier tests and of
// the blob names real .NET builds publish.
func TestBlobVersion(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		// plain and prefixed versions
		{"1.0.0", "1.0.0"},
		{"10.0.1", "10.0.1"},
		{"10.0.1-", "10.0.1"},
		{"10.0.1-beta.final", "10.0.1-beta.final"},
		{"10.0.1-preview1.12345.1", "10.0.1-preview1.12345.1"},
		{"FooPackage.10.0.1-preview1.12345.1", "10.0.1-preview1.12345.1"},
		{"What.2.2.FooPackage.10.0.1", "10.0.1"},
		{"What.1.FooPackage.10.0.1-preview1.12345.1", "10.0.1-preview1.12345.1"},
		{"What-Is-A.FooPackage.2.2.1.0.0", "1.0.0"},
		{"What-Is-A.FooPackage.2.2.10.0.1-beta.final", "10.0.1-beta.final"},
		// no major.minor.patch
		{"What-Is-A.FooPackage", ""},
		{"What-Is-A.FooPackage-2.2-64", ""},
		{"What-Is-A.FooPackage-2.2.nupkg", ""},
		{"", ""},
		{"assets/manifests/dotnet-arcade/MergedManifest.xml", ""},
		// symbol packages and installers
		{"assets/symbols/Microsoft.DotNet.Arcade.Sdk.8.0.0-beta.24162.4.symbols.nupkg", "8.0.0-beta.24162.4"},
		{"assets/symbols/Microsoft.Extensions.Logging.5.0.0-alpha1.19521.4.symbols.nupkg", "5.0.0-alpha1.19521.4"},
		{"Toolset/5.0.100-alpha1.19521.2/dotnet-toolset-internal-5.0.100-alpha1.19521.2.zip", "5.0.100-alpha1.19521.2"},
		{"System.Runtime.Intrinsics.Experimental.4.5.0-rtm.nupkg", "4.5.0-rtm"},
		{"System.Reflection.TypeExtensions.4.5.1-servicing-26724-03.nupkg", "4.5.1-servicing-26724-03"},
		{"Microsoft.NETCore.App.2.2.0-preview3-26913-03.nupkg", "2.2.0-preview3-26913-03"},
		{"runtime.rhel.6-x64.Microsoft.NETCore.App.2.2.0-preview3-26913-03.nupkg", "2.2.0-preview3-26913-03"},
		{"Microsoft.AspNetCore.AspNetCoreModuleV2.2.2.7.nupkg", "2.2.7"},
		{"Microsoft.DotNet.Web.ProjectTemplates.2.2.2.2.7.nupkg", "2.2.7"},
		{"VS.Redist.Common.NetCore.Templates.x86.2.2.3.0.101-servicing-014320.nupkg", "3.0.101-servicing-014320"},
		// the file name wins over the folder; a folder is used when the file has none
		{"Runtime/3.0.1-servicing-19516-12/Microsoft.NETCore.App.Runtime.rhel.6-x64.3.0.1.nupkg.sha512", "3.0.1"},
		{"Runtime/3.0.1-servicing-19516-12/runtime.linux-arm64.Microsoft.NETCore.App.3.0.1-servicing-19516-12.nupkg.sha512", "3.0.1-servicing-19516-12"},
		{"Runtime/8.0.2-servicing.24068.4/productVersion.txt", "8.0.2-servicing.24068.4"},
		{"Runtime/8.0.2-servicing.24068.4/dotnet-runtime-8.0.2-linux-arm64.tar.gz", "8.0.2"},
		{"Runtime//8.0.2-servicing.24068.4//", "8.0.2-servicing.24068.4"},
		// several versions in one segment: the last one wins
		{"assets/symbols/Microsoft.NET.Workload.Mono.ToolChain.Manifest-6.0.100.Msi.x64.6.0.0-rc.1.21380.2.symbols.nupkg", "6.0.0-rc.1.21380.2"},
		// hotfix is a known label; unknown labels end the version
		{"dotnet-sdk-7.0.100-hotfix.1.zip", "7.0.100-hotfix.1"},
		{"dotnet-sdk-7.0.100-dev.1.zip", "7.0.100"},
		// labels compare without regard to case; "final" must be lower case
		{"Foo.1.2.3-PREVIEW.4.zip", "1.2.3-PREVIEW.4"},
		{"Foo.1.2.3-beta.FINAL.zip", "1.2.3-beta"},
		// underscores delimit too
		{"dotnet_runtime_8.0.2_amd64.deb", "8.0.2"},
		// numbers are read as .NET reads them: leading zeros dropped, int32 only
		{"Foo.01.002.3.zip", "1.2.3"},
		{"Foo.1.2.99999999999.zip", ""},
		{"Foo.+1.2.3.zip", "1.2.3"},
		{"Foo. 1.2.3 .zip", "1.2.3"},
		{"Foo.2147483647.0.0.zip", "2147483647.0.0"},
		{"Foo.2147483648.0.0.zip", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, manifest.BlobVersion(tt.name))
		})
	}
}
