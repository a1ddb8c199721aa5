package globaljson_test

import (
	"bytes"
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps/globaljson"
	"github.com/maestroplusplus/maestro/internal/deps/internal/sharedfixtures"
)

func TestAddSDK(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"append", "{\n    \"msbuild-sdks\": {\n        \"A\": \"1\"\n    }\n}\n", "{\n    \"msbuild-sdks\": {\n        \"A\": \"1\",\n        \"B\": \"2\"\n    }\n}\n"},
		{"trailing comma", "{\n  \"msbuild-sdks\": {\n    \"A\": \"1\",\n  }\n}\n", "{\n  \"msbuild-sdks\": {\n    \"A\": \"1\",\n    \"B\": \"2\"\n  }\n}\n"},
		{"empty section", "{\n  \"msbuild-sdks\": {}\n}\n", "{\n  \"msbuild-sdks\": {\n    \"B\": \"2\"\n  }\n}\n"},
		{"no section", "{\r\n  \"tools\": {\r\n    \"dotnet\": \"9.0.100\"\r\n  }\r\n}\r\n", "{\r\n  \"tools\": {\r\n    \"dotnet\": \"9.0.100\"\r\n  },\r\n  \"msbuild-sdks\": {\r\n    \"B\": \"2\"\r\n  }\r\n}\r\n"},
		{"existing", "{\"msbuild-sdks\":{\"b\":\"1\"}}", "{\"msbuild-sdks\":{\"b\":\"2\"}}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := globaljson.Parse("global.json", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			f.AddSDK("B", "2")
			got, err := f.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
			if _, err := globaljson.Parse("global.json", got); err != nil {
				t.Errorf("result does not parse: %v", err)
			}
		})
	}
}

// FuzzGlobalJSON: no panic; parse → write without changes is byte-identical;
// updating every msbuild-sdks entry re-parses to the new versions.
func FuzzGlobalJSON(f *testing.F) {
	for _, b := range sharedfixtures.Files(f, "dependency-files", "global.json") {
		f.Add(b)
	}
	f.Add([]byte(`{"tools":{"dotnet":"1.0.0"},"msbuild-sdks":{"A":"1","B":{}}}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		g, err := globaljson.Parse("global.json", src)
		if err != nil {
			return
		}
		out, err := g.Bytes()
		if err != nil || !bytes.Equal(out, src) {
			t.Fatalf("unchanged write differs (err %v)", err)
		}
		for _, s := range g.SDKs() {
			g.UpdateDependency(s.Name, "5.5.5")
		}
		g.UpdateDotnetSdk("999.0.0")
		g.AddSDK("Fuzz.Sdk", "1.2.3")
		out, err = g.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		again, err := globaljson.Parse("global.json", out)
		if err != nil {
			t.Fatalf("edited file does not parse: %v\n%s", err, out)
		}
		if _, v, _, ok := again.Lookup("Fuzz.Sdk"); !ok || v != "1.2.3" {
			t.Fatalf("added SDK lost\n%s", out)
		}
	})
}
