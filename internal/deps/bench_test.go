package deps_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/deps/props"
	"github.com/maestroplusplus/maestro/internal/deps/versiondetails"
)

// BenchmarkOracleAll applies every oracle case in one process: read the
// update file, apply it (reading the repository's files) as a dry run, and
// compare every checked file with after/. One op is all 689 cases.
func BenchmarkOracleAll(b *testing.B) {
	cases := loadOracleCases(b)
	exceptions := loadExceptions(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		matched := 0
		for _, c := range cases {
			data, err := os.ReadFile(filepath.Join(c.dir, "updates.json"))
			if err != nil {
				b.Fatal(err)
			}
			u, err := deps.ParseUpdateFile("updates.json", data)
			if err != nil {
				b.Fatal(err)
			}
			res, err := deps.ApplyUpdateFile(ctx, filepath.Join(c.dir, "before"), u, deps.Options{DryRun: true})
			if err != nil {
				b.Fatal(err)
			}
			ok := true
			for _, f := range c.checked {
				want, err := os.ReadFile(filepath.Join(c.dir, "after", filepath.FromSlash(f)))
				if err != nil {
					b.Fatal(err)
				}
				var got []byte
				for _, ch := range res.Files {
					if ch.Path == f {
						got = ch.New
					}
				}
				if got == nil {
					if got, err = os.ReadFile(filepath.Join(c.dir, "before", filepath.FromSlash(f))); err != nil {
						b.Fatal(err)
					}
				}
				if !bytes.Equal(got, want) {
					ok = false
				}
			}
			if ok {
				matched++
			}
		}
		if matched != len(cases)-len(exceptions) {
			b.Fatalf("%d of %d cases matched, want %d", matched, len(cases), len(cases)-len(exceptions))
		}
	}
}

// largeRepo generates a Version.Details.xml with n dependencies from 40
// repositories, and its Version.Details.props.
func largeRepo(n int) (vdx, vdp []byte, u deps.UpdateFile) {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Dependencies>\n  <Source Uri=\"https://github.com/dotnet/dotnet\" Mapping=\"big\" Sha=\"0000000000000000000000000000000000000000\" BarId=\"1\" />\n  <ProductDependencies>\n")
	var gen []props.GenDependency
	for i := range n {
		name := fmt.Sprintf("Contoso.Package%04d.Library", i)
		uri := fmt.Sprintf("https://github.com/dotnet/repo%02d", i%40)
		fmt.Fprintf(&b, "    <Dependency Name=\"%s\" Version=\"1.0.%d\">\n      <Uri>%s</Uri>\n      <Sha>%040d</Sha>\n    </Dependency>\n", name, i, uri, i)
		gen = append(gen, props.GenDependency{Name: name, Version: fmt.Sprintf("1.0.%d", i), URI: uri})
		u.Updates = append(u.Updates, deps.Update{Name: name, Version: fmt.Sprintf("2.0.%d", i), Sha: fmt.Sprintf("%040d", i+1), URI: uri})
	}
	b.WriteString("  </ProductDependencies>\n  <ToolsetDependencies>\n  </ToolsetDependencies>\n</Dependencies>\n")
	return []byte(b.String()), props.Generate(gen, "\n"), u
}

// BenchmarkLarge2000InMemory parses a 2,000-dependency Version.Details.xml
// and its Version.Details.props, moves every dependency, renders both, and
// releases the parsed trees for the next iteration as the update path does.
func BenchmarkLarge2000InMemory(b *testing.B) {
	vdx, vdp, u := largeRepo(2000)
	b.SetBytes(int64(len(vdx) + len(vdp)))
	for b.Loop() {
		f, err := versiondetails.Parse(versiondetails.Path, vdx)
		if err != nil {
			b.Fatal(err)
		}
		p, err := props.Parse(props.DetailsPath, vdp)
		if err != nil {
			b.Fatal(err)
		}
		for _, up := range u.Updates {
			if err := f.Update(up.Name, up.Version, up.URI, up.Sha); err != nil {
				b.Fatal(err)
			}
			if !p.UpdateDependency(up.Name, up.Version) {
				b.Fatalf("no property for %s", up.Name)
			}
		}
		if _, err := f.Bytes(); err != nil {
			b.Fatal(err)
		}
		if _, err := p.Bytes(); err != nil {
			b.Fatal(err)
		}
		// As ApplyUpdateFile does once the files are rendered.
		f.Release()
		p.Release()
	}
}

// BenchmarkLarge2000Apply is the same update through ApplyUpdateFile on disk
// (dry run): read, parse, validate, edit, render.
func BenchmarkLarge2000Apply(b *testing.B) {
	vdx, vdp, u := largeRepo(2000)
	dir := b.TempDir()
	for p, data := range map[string][]byte{
		"eng/Version.Details.xml":   vdx,
		"eng/Version.Details.props": vdp,
		"eng/Versions.props":        []byte("<Project>\n  <Import Project=\"Version.Details.props\" />\n</Project>\n"),
	} {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	for b.Loop() {
		res, err := deps.ApplyUpdateFile(ctx, dir, u, deps.Options{DryRun: true})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Files) != 2 {
			b.Fatalf("%d files changed", len(res.Files))
		}
	}
}
