package versiondetails_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps/internal/sharedfixtures"
	"github.com/maestroplusplus/maestro/internal/deps/versiondetails"
)

const sample = `<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <Source Uri="https://github.com/dotnet/dotnet" Mapping="x" Sha="aaaa" />
  <ProductDependencies>
    <Dependency Name="A" Version="1.0.0" Pinned="True">
      <Uri>https://github.com/dotnet/a</Uri>
      <Sha>1111</Sha>
      <SourceBuild RepoName="a" ManagedOnly="true" />
    </Dependency>
    <Dependency Name="B" Version="2.0.0" CoherentParentDependency="a" SkipProperty="false">
      <Uri>https://github.com/dotnet/b</Uri>
      <Sha />
    </Dependency>
  </ProductDependencies>
  <ToolsetDependencies></ToolsetDependencies>
</Dependencies>
`

func TestParseSample(t *testing.T) {
	f, err := versiondetails.Parse("v.xml", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	deps := f.Dependencies()
	if len(deps) != 2 {
		t.Fatalf("%d dependencies", len(deps))
	}
	a, b := deps[0], deps[1]
	if !a.Pinned || a.SourceBuild == nil || !a.SourceBuild.ManagedOnly || a.Line != 5 || a.Type != versiondetails.Product {
		t.Errorf("A = %+v", a)
	}
	if b.CoherentParent != "a" || b.Sha != "" || b.SkipProperty {
		t.Errorf("B = %+v", b)
	}
	if s := f.Source(); s == nil || s.Mapping != "x" || s.BarID != "" {
		t.Errorf("source %+v", s)
	}
	if _, ok := f.Find("b"); !ok {
		t.Error("names must match case-insensitively")
	}
}

func TestEdits(t *testing.T) {
	f, err := versiondetails.Parse("v.xml", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Update("B", "2.0.1", "https://github.com/dotnet/b", "2222"); err != nil {
		t.Fatal(err)
	}
	f.SetSource(versiondetails.Source{URI: "https://github.com/dotnet/dotnet", Mapping: "x", Sha: "bbbb", BarID: "7"})
	if err := f.Add(versiondetails.Dependency{Name: "C", Version: "3", URI: "u", Sha: "s", Type: versiondetails.Toolset, SkipProperty: true}); err != nil {
		t.Fatal(err)
	}
	got, err := f.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.NewReplacer(
		`Sha="aaaa" />`, `Sha="bbbb" BarId="7" />`,
		`Version="2.0.0"`, `Version="2.0.1"`,
		`<Sha />`, `<Sha>2222</Sha>`,
		`<ToolsetDependencies></ToolsetDependencies>`, "<ToolsetDependencies>\n    <Dependency Name=\"C\" Version=\"3\" SkipProperty=\"True\">\n      <Uri>u</Uri>\n      <Sha>s</Sha>\n    </Dependency>\n  </ToolsetDependencies>",
	).Replace(sample)
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// FuzzVersionDetails: no panic; parse → write without changes is
// byte-identical; an update of the first dependency re-parses to the new
// values.
func FuzzVersionDetails(f *testing.F) {
	for _, b := range sharedfixtures.Files(f, "dependency-files", "Version.Details.xml") {
		f.Add(b)
	}
	f.Add([]byte(sample))
	f.Fuzz(func(t *testing.T, src []byte) {
		vf, err := versiondetails.Parse("v.xml", src)
		if err != nil {
			return
		}
		out, err := vf.Bytes()
		if err != nil || !bytes.Equal(out, src) {
			t.Fatalf("unchanged write differs (err %v)", err)
		}
		deps := vf.Dependencies()
		if len(deps) == 0 {
			return
		}
		if err := vf.Update(deps[0].Name, "9.9.9-fuzz", "https://example.com/r", "abcdef"); err != nil {
			t.Fatal(err)
		}
		vf.SetSource(versiondetails.Source{URI: "https://example.com/vmr", Mapping: "m", Sha: "123", BarID: "4"})
		out, err = vf.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		vf.Release() // the next parse reuses its memory; deps and out stay valid
		again, err := versiondetails.Parse("v.xml", out)
		if err != nil {
			t.Fatalf("edited file does not parse: %v\n%s", err, out)
		}
		d, ok := again.Find(deps[0].Name)
		if !ok || d.Version != "9.9.9-fuzz" || d.URI != "https://example.com/r" || d.Sha != "abcdef" {
			t.Fatalf("edit lost: %+v", d)
		}
		if s := again.Source(); s == nil || s.Sha != "123" || s.BarID != "4" {
			t.Fatalf("source edit lost: %+v", s)
		}
		again.Release()
	})
}
