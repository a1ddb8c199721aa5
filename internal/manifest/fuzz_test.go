package manifest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/manifest"
)

// FuzzParse checks that Parse never panics, that its errors are of kind
// KindInvalid, and that whatever it accepts also goes through Merge.
func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "builds", "*", "*.xml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		``,
		`<Build PublishingVersion="3"/>`,
		`<Build PublishingVersion="4" Commit="a" Name="/r"><Package Id="A" Version="1"/><Blob Id="b/1.0.0/c.zip"/></Build>`,
		`<Build PublishingVersion="3" Commit="a" AzureDevOpsRepository="https://u@x.visualstudio.com/p/_git/r"><Blob Id="Foo..Bar.1.2.3-rc.1.zip"/></Build>`,
		`<Build PublishingVersion="3"><SigningInformation><Package/></SigningInformation></Build>`,
		`<Build PublishingVersion="3"><Package Id="A" Version="1"></Build>`,
		`<Build PublishingVersion="3" IsStable="True" AzureDevOpsBuildId="1"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := manifest.Parse(data, "fuzz.xml")
		if err != nil {
			if k := maestro.KindOf(err); k != maestro.KindInvalid {
				t.Fatalf("Parse error %q has kind %v, want KindInvalid", err, k)
			}
			return
		}
		b, err := manifest.Merge([]*manifest.Manifest{m})
		if err != nil {
			if k := maestro.KindOf(err); k != maestro.KindInvalid {
				t.Fatalf("Merge error %q has kind %v, want KindInvalid", err, k)
			}
			return
		}
		if len(b.Assets) > len(m.Packages)+len(m.Blobs) {
			t.Fatalf("Merge made %d assets out of %d packages and %d blobs", len(b.Assets), len(m.Packages), len(m.Blobs))
		}
	})
}
