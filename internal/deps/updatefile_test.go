package deps_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/deps/internal/sharedfixtures"
)

func TestParseUpdateFileBarID(t *testing.T) {
	for _, text := range []string{
		`{"updates":[],"dotnetSdk":null,"source":{"Uri":"u","Mapping":"m","Sha":"s","BarId":"42"}}`,
		`{"updates":[],"dotnetSdk":null,"source":{"Uri":"u","Mapping":"m","Sha":"s","BarId":42}}`,
	} {
		u, err := deps.ParseUpdateFile("u.json", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if u.Source == nil || u.Source.BarID != "42" {
			t.Errorf("%s: source %+v", text, u.Source)
		}
	}
}

// FuzzParseUpdateFile: no panic; what parses survives a JSON round trip.
func FuzzParseUpdateFile(f *testing.F) {
	for _, b := range sharedfixtures.Files(f, "maestro-updates", "updates.json") {
		f.Add(b)
		if len(b) > 2000 {
			break
		}
	}
	f.Add([]byte(`{"updates":[{"name":"a","version":"1","sha":"s","uri":"u","locations":["l"]}],"dotnetSdk":"1.0","source":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := deps.ParseUpdateFile("u.json", data)
		if err != nil {
			return
		}
		_ = u.Validate()
		out, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		back, err := deps.ParseUpdateFile("u.json", out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if !reflect.DeepEqual(u.Updates, back.Updates) || !reflect.DeepEqual(u.Source, back.Source) || !reflect.DeepEqual(u.DotnetSdk, back.DotnetSdk) {
			t.Fatalf("round trip changed the update:\n%+v\n%+v", u, back)
		}
	})
}
