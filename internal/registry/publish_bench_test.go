package registry

import (
	"fmt"
	"testing"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// BenchmarkValidateBuild20000 checks a 20,000-asset build, which publish does
// before its first write (docs/performance.md).
func BenchmarkValidateBuild20000(b *testing.B) {
	build := maestro.Build{
		Repository: "https://github.com/dotnet/runtime",
		Commit:     fmt.Sprintf("%040x", 1),
		Branch:     "main",
	}
	for i := range 20000 {
		build.Assets = append(build.Assets, maestro.Asset{
			Name:    fmt.Sprintf("Microsoft.NETCore.App.Runtime.Component%05d", i),
			Version: "10.0.0-preview.1.26575.1",
		})
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := ValidateBuild(build, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAssetsDocument20000 encodes a 20,000-asset build's assets
// document as publish does, in each format: format 2 whole, with its
// digest, while the id is claimed; format 1 (a registry of version 1) as
// tails and their digest while the id is claimed, then the ids
// (docs/performance.md).
func BenchmarkAssetsDocument20000(b *testing.B) {
	loc := []maestro.AssetLocation{{Type: maestro.LocationContainer, Location: "https://dev.azure.com/dnceng/internal/_apis/build/builds/2600001/artifacts"}}
	as := make([]maestro.Asset, 20000)
	for i := range as {
		as[i] = maestro.Asset{
			Name:      fmt.Sprintf("Microsoft.NETCore.App.Runtime.Component%05d", i),
			Version:   "10.0.0-preview.1.26575.1",
			Locations: loc[:1:1],
		}
	}
	for _, version := range []int{2, 1} {
		b.Run(fmt.Sprintf("format%d", version), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, doc := encodeAssets(version, as).document(3)
				b.SetBytes(int64(len(doc)))
			}
		})
	}
}

// BenchmarkAssetNameSet20000 makes a 20,000-asset build's asset-name set
// and its digest from the names the check lower-cased, as publish does
// while it claims the id (docs/performance.md).
func BenchmarkAssetNameSet20000(b *testing.B) {
	lowered := make([]string, 20000)
	for i := range lowered {
		lowered[i] = fmt.Sprintf("microsoft.netcore.app.runtime.component%05d", i)
	}
	b.ReportAllocs()
	for b.Loop() {
		newAssetNameSet(lowered)
	}
}
