package gather_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/gather"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

func TestKindOf(t *testing.T) {
	for name, want := range map[string]gather.Kind{
		"Microsoft.NETCore.App.Ref":                  gather.KindPackage,
		"assets/symbols/Foo.1.0.0.symbols.nupkg":     gather.KindBlob,
		"Foo.1.0.0.nupkg":                            gather.KindBlob,
		"Runtime/8.0.0/dotnet-runtime-8.0.0-x64.zip": gather.KindBlob,
		"dotnet-runtime-8.0.0-x64.zip.sha512":        gather.KindPackage, // production's rule: no slash, no .nupkg
	} {
		assert.Equal(t, want, gather.KindOf(name), name)
	}
}

// TestPlan lays builds out as production's unified layout, one file per
// asset however many builds recorded it, sorted by path.
func TestPlan(t *testing.T) {
	loc := []maestro.AssetLocation{{Type: maestro.LocationNuGetFeed, Location: "https://pkgs.dev.azure.com/o/_packaging/f/nuget/v3/index.json"}}
	root := maestro.Build{ID: 10, Assets: []maestro.Asset{
		{Name: "Contoso.App", Version: "2.0.0", Locations: loc},
		{Name: "assets/app/2.0.0/app.zip", Version: "2.0.0"},
		{Name: "Contoso.App.Internal", Version: "2.0.0", NonShipping: true},
		{Name: "symbols/Contoso.App.2.0.0.symbols.nupkg", Version: "2.0.0", NonShipping: true},
	}}
	dep := maestro.Build{ID: 4, Assets: []maestro.Asset{
		{Name: "Contoso.Runtime", Version: "8.0.0"},
		{Name: "contoso.app", Version: "2.0.0"}, // the same package, recorded again
	}}
	items, err := gather.Plan([]maestro.Build{root, dep})
	require.NoError(t, err)
	var paths []string
	for _, it := range items {
		paths = append(paths, it.Path)
	}
	assert.Equal(t, []string{
		"nonshipping/assets/symbols/Contoso.App.2.0.0.symbols.nupkg",
		"nonshipping/packages/Contoso.App.Internal.2.0.0.nupkg",
		"shipping/assets/app/2.0.0/app.zip",
		"shipping/packages/Contoso.App.2.0.0.nupkg",
		"shipping/packages/Contoso.Runtime.8.0.0.nupkg",
	}, paths)
	app := items[3]
	assert.Equal(t, gather.Item{BuildID: 10, Name: "Contoso.App", Version: "2.0.0", Kind: gather.KindPackage,
		Path: "shipping/packages/Contoso.App.2.0.0.nupkg", Locations: loc, AlsoIn: []int{4}}, app)
	assert.Equal(t, gather.KindBlob, items[0].Kind)
	assert.True(t, items[0].NonShipping)
	assert.Equal(t, 4, items[4].BuildID)
}

// TestPlanRefuses every name that would leave the drop or is no file name,
// and two assets that would share a path, all in one error.
func TestPlanRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		assets []maestro.Asset
		want   string
	}{
		{"dot-dot", []maestro.Asset{{Name: "assets/../../etc/passwd", Version: "1"}}, `blob "assets/../../etc/passwd": a ".." path segment would leave its folder`},
		{"absolute", []maestro.Asset{{Name: "/etc/passwd", Version: "1"}}, `blob "/etc/passwd": an empty path segment`},
		{"empty segment", []maestro.Asset{{Name: "a//b.zip", Version: "1"}}, `an empty path segment`},
		{"backslash", []maestro.Asset{{Name: `a/..\..\b.zip`, Version: "1"}}, `a backslash or colon is not allowed`},
		{"drive", []maestro.Asset{{Name: `C:/b.zip`, Version: "1"}}, `a backslash or colon is not allowed`},
		{"control", []maestro.Asset{{Name: "a/b\x1b.zip", Version: "1"}}, `a control character`},
		{"bad utf-8", []maestro.Asset{{Name: "a/b\xff.zip", Version: "1"}}, `invalid UTF-8`},
		{"version", []maestro.Asset{{Name: "Contoso.A", Version: "../1"}}, `package Contoso.A version "../1": not usable in a file name`},
		{"package dot", []maestro.Asset{{Name: "..", Version: "1"}}, `package "..": a ".." path segment`},
		{"collision", []maestro.Asset{{Name: "files/A.zip", Version: "1"}, {Name: "files/a.zip", Version: "2"}},
			"build 1: asset files/a.zip 2 and build 1's asset files/A.zip 1 would both be written to shipping/assets/files/a.zip"},
		{"assets prefix collision", []maestro.Asset{{Name: "assets/x/y.zip", Version: "1"}, {Name: "x/y.zip", Version: "2"}},
			"would both be written to shipping/assets/x/y.zip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gather.Plan([]maestro.Build{{ID: 1, Assets: tc.assets}})
			require.Error(t, err)
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := gather.Plan([]maestro.Build{{ID: 1, Assets: []maestro.Asset{{Name: "a/../b", Version: "1"}, {Name: "c/./d", Version: "1"}}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"a/../b"`)
	assert.Contains(t, err.Error(), `"c/./d"`, "every problem at once")
}

// FuzzFilePath: whatever a registry holds, a path Plan accepts stays
// inside the drop.
func FuzzFilePath(f *testing.F) {
	for _, s := range []string{"Contoso.A", "assets/a/b.zip", "../x", "a/./b", `a\b`, "a//b", "/x", "x.nupkg"} {
		f.Add(s, "1.0.0", false)
	}
	f.Fuzz(func(t *testing.T, name, version string, nonShipping bool) {
		p, err := gather.FilePath(maestro.Asset{Name: name, Version: version, NonShipping: nonShipping})
		if err != nil {
			return
		}
		if !filepathIsLocal(p) {
			t.Fatalf("%q %q: path %q leaves the drop", name, version, p)
		}
	})
}
