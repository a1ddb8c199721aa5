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
