package manifest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/internal/manifest"
)

// bigManifest returns a manifest of n packages and n/10 blobs, shaped like a
// large runtime or VMR build, with tail before its end tag.
func bigManifest(n int, tail string) []byte {
	var sb strings.Builder
	sb.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	sb.WriteString(`<Build PublishingVersion="3" Name="dotnet-dotnet" BuildId="20250101.1" Branch="refs/heads/main" ` +
		`Commit="0123456789abcdef0123456789abcdef01234567" InitialAssetsLocation="https://dev.azure.com/dnceng/internal/_apis/build/builds/2600000/artifacts" ` +
		`AzureDevOpsBuildId="2600000" AzureDevOpsBuildDefinitionId="1330" AzureDevOpsAccount="dnceng" AzureDevOpsProject="internal" ` +
		`AzureDevOpsBuildNumber="20250101.1" AzureDevOpsRepository="https://dev.azure.com/dnceng/internal/_git/dotnet-dotnet" ` +
		`AzureDevOpsBranch="refs/heads/main" IsStable="false" IsReleaseOnlyPackageVersion="false">` + "\n")
	for i := range n {
		fmt.Fprintf(&sb, `  <Package Id="Microsoft.Extensions.Generated%05d.Abstractions" Version="10.0.0-preview.1.25080.%d" NonShipping="%t" RepoOrigin="runtime" Visibility="External" />`+"\n", i, i%10, i%3 == 0)
	}
	for i := range n / 10 {
		fmt.Fprintf(&sb, `  <Blob Id="assets/symbols/Microsoft.Extensions.Generated%05d.10.0.0-preview.1.25080.1.symbols.nupkg" NonShipping="true" />`+"\n", i)
	}
	sb.WriteString(tail)
	sb.WriteString("</Build>\n")
	return []byte(sb.String())
}

func BenchmarkParse20000(b *testing.B) {
	data := bigManifest(20000, "")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := manifest.Parse(data, "big.xml")
		if err != nil {
			b.Fatal(err)
		}
		if len(m.Packages) != 20000 {
			b.Fatalf("parsed %d packages", len(m.Packages))
		}
	}
}

// BenchmarkParse20000Fallback measures the worst case: the fast scanner reads
// to the end, meets an entity reference and leaves it all to encoding/xml.
func BenchmarkParse20000Fallback(b *testing.B) {
	data := bigManifest(20000, `  <Package Id="Contoso.R&amp;D" Version="1.0.0" />`+"\n")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := manifest.Parse(data, "big.xml")
		if err != nil {
			b.Fatal(err)
		}
		if len(m.Packages) != 20001 {
			b.Fatalf("parsed %d packages", len(m.Packages))
		}
	}
}

func BenchmarkParseAndMerge20000(b *testing.B) {
	data := bigManifest(20000, "")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := manifest.Parse(data, "big.xml")
		if err != nil {
			b.Fatal(err)
		}
		build, err := manifest.Merge([]*manifest.Manifest{m})
		if err != nil {
			b.Fatal(err)
		}
		if len(build.Assets) != 22000 {
			b.Fatalf("merged %d assets", len(build.Assets))
		}
	}
}
