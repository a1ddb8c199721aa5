package dotnettools_test

import (
	"bytes"
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps/dotnettools"
)

const manifest = `{
  "version": 1,
  "isRoot": true,
  "tools": {
    "Microsoft.DotNet.XHarness.CLI": {
      "version": "1.0.0",
      "commands": ["xharness"]
    },
    "dotnet-format": { "version": "5.1.0" }
  }
}
`

func TestUpdateTool(t *testing.T) {
	f, err := dotnettools.Parse(dotnettools.Path, []byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	if !f.UpdateTool("microsoft.dotnet.xharness.cli", "2.0.0") || f.UpdateTool("missing", "1") {
		t.Fatal("wrong matches")
	}
	got, _ := f.Bytes()
	if want := bytes.Replace([]byte(manifest), []byte(`"1.0.0"`), []byte(`"2.0.0"`), 1); !bytes.Equal(got, want) {
		t.Errorf("got:\n%s", got)
	}
	if v, ok := f.Lookup("Dotnet-Format"); !ok || v != "5.1.0" {
		t.Errorf("lookup %q %v", v, ok)
	}
}

// FuzzDotnetTools: no panic; parse → write without changes is byte-identical;
// updating every tool re-parses to the new versions.
func FuzzDotnetTools(f *testing.F) {
	f.Add([]byte(manifest))
	f.Fuzz(func(t *testing.T, src []byte) {
		m, err := dotnettools.Parse(dotnettools.Path, src)
		if err != nil {
			return
		}
		out, err := m.Bytes()
		if err != nil || !bytes.Equal(out, src) {
			t.Fatalf("unchanged write differs (err %v)", err)
		}
		for _, tool := range m.Tools() {
			m.UpdateTool(tool.Name, "4.4.4")
		}
		out, err = m.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		again, err := dotnettools.Parse(dotnettools.Path, out)
		if err != nil {
			t.Fatalf("edited manifest does not parse: %v", err)
		}
		for _, tool := range again.Tools() {
			if v, _ := m.Lookup(tool.Name); v != "" && v != tool.Version && tool.Version != "4.4.4" {
				t.Fatalf("tool %s = %s", tool.Name, tool.Version)
			}
		}
	})
}
