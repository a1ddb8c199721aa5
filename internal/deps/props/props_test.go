package props_test

import (
	"bytes"
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps/internal/sharedfixtures"
	"github.com/maestroplusplus/maestro/internal/deps/props"
)

func TestNames(t *testing.T) {
	if got := props.PackageVersionName("Microsoft.NET.Sdk.Aspire.Manifest-8.0.100"); got != "MicrosoftNETSdkAspireManifest80100PackageVersion" {
		t.Error(got)
	}
	if got := props.VersionName("System.Text.Json"); got != "SystemTextJsonVersion" {
		t.Error(got)
	}
}

func TestRepoKey(t *testing.T) {
	for uri, want := range map[string]string{
		"https://github.com/dotnet/runtime":                                   "dotnet-runtime",
		"https://dev.azure.com/dnceng/internal/_git/dotnet-runtime":           "dotnet-runtime",
		"https://dev.azure.com/devdiv/DevDiv/_git/NuGet-NuGet.Client-Trusted": "NuGet-NuGet.Client",
		"https://dnceng.visualstudio.com/internal/_git/dotnet-wpf-int":        "dotnet-wpf-int",
		"https://github.com/nuget/nuget.client":                               "nuget-nuget.client",
		"https://www.github.com/dotnet/installer":                             "dotnet-installer",
		"https://example.com/x/y/z":                                           "y-z",
	} {
		if got := props.RepoKey(uri); got != want {
			t.Errorf("RepoKey(%s) = %s, want %s", uri, got, want)
		}
	}
}

func TestUpdateDependency(t *testing.T) {
	src := `<Project>
  <PropertyGroup>
    <FooPackageVersion>$(FooVersion)</FooPackageVersion>
    <FooVersion Condition="'$(X)' == ''"> 1.0 </FooVersion>
    <FooVersion>2.0</FooVersion>
    <barpackageversion>1.0</barpackageversion>
  </PropertyGroup>
</Project>
`
	f, err := props.Parse("p", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if !f.UpdateDependency("Foo", "1.1") || !f.UpdateDependency("Bar", "3.0") || f.UpdateDependency("Baz", "1") {
		t.Fatal("wrong matches")
	}
	got, _ := f.Bytes()
	want := `<Project>
  <PropertyGroup>
    <FooPackageVersion>$(FooVersion)</FooPackageVersion>
    <FooVersion Condition="'$(X)' == ''"> 1.1 </FooVersion>
    <FooVersion>2.0</FooVersion>
    <BarPackageVersion>3.0</BarPackageVersion>
  </PropertyGroup>
</Project>
`
	if string(got) != want {
		t.Errorf("got:\n%s", got)
	}
}

func TestPlaceholder(t *testing.T) {
	src := []byte("<!-- will get filled in the next backflow -->\n")
	f, placeholder, err := props.ParsePlaceholder("p", src)
	if err != nil || !placeholder {
		t.Fatalf("placeholder %v err %v", placeholder, err)
	}
	if f.UpdateDependency("Foo", "1") {
		t.Error("a placeholder has no properties")
	}
	if out, _ := f.Bytes(); !bytes.Equal(out, src) {
		t.Error("placeholder changed")
	}
	if _, err := props.Parse("p", src); err == nil {
		t.Error("Parse must reject a file without <Project>")
	}
}

// FuzzProps: no panic; parse → write without changes is byte-identical; an
// update of a property found by name re-parses to the new value.
func FuzzProps(f *testing.F) {
	for _, b := range sharedfixtures.Files(f, "dependency-files", ".props") {
		f.Add(b)
	}
	f.Add([]byte("<Project><PropertyGroup><FooPackageVersion>1</FooPackageVersion><BarVersion/></PropertyGroup></Project>"))
	f.Fuzz(func(t *testing.T, src []byte) {
		pf, _, err := props.ParsePlaceholder("p", src)
		if err != nil {
			return
		}
		out, err := pf.Bytes()
		if err != nil || !bytes.Equal(out, src) {
			t.Fatalf("unchanged write differs (err %v)", err)
		}
		ps := pf.Properties()
		if len(ps) == 0 {
			return
		}
		name := ps[0].Name
		dep := ""
		switch {
		case len(name) > len("PackageVersion") && name[len(name)-len("PackageVersion"):] == "PackageVersion":
			dep = name[:len(name)-len("PackageVersion")]
		case len(name) > len("Version") && name[len(name)-len("Version"):] == "Version":
			dep = name[:len(name)-len("Version")]
		default:
			return
		}
		if !pf.UpdateDependency(dep, "7.7.7") {
			return
		}
		out, err = pf.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		pf.Release() // the next parse reuses its memory; dep and out stay valid
		again, _, err := props.ParsePlaceholder("p", out)
		if err != nil {
			t.Fatalf("edited file does not parse: %v\n%s", err, out)
		}
		if p, ok := again.HasDependency(dep); !ok || p.Value != "7.7.7" {
			t.Fatalf("edit lost: %+v\n%s", p, out)
		}
		again.Release()
	})
}
