package jsonedit_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/maestroplusplus/maestro/internal/deps/internal/sharedfixtures"
	"github.com/maestroplusplus/maestro/internal/deps/jsonedit"
)

func TestParse(t *testing.T) {
	src := "\xef\xbb\xbf{\n  // c\n  \"a\": [1, -2.5e3, true, null, \"\\u00e9\\n\"], /* x */\n  \"b\": {},\n}\n"
	v, err := jsonedit.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a := v.Get("a")
	if a == nil || len(a.Items) != 5 || a.Items[1].Str != "-2.5e3" || a.Items[4].Str != "é\n" {
		t.Fatalf("a = %+v", a)
	}
	if src[a.Start:a.End] != `[1, -2.5e3, true, null, "\u00e9\n"]` {
		t.Errorf("span %q", src[a.Start:a.End])
	}
	if m := v.GetFold("B"); m == nil || m.Value.Kind != jsonedit.Object {
		t.Error("GetFold")
	}
}

func TestParseErrors(t *testing.T) {
	for src, want := range map[string]string{
		"":                  "line 1, column 1: unexpected end of file",
		"{\n\"a\" 1}":       "line 2, column 5: expected : after member name",
		"{\"a\":1 \"b\":2}": "expected , or }",
		"[1,,2]":            "unexpected ','",
		"{\"a\":01}":        "malformed number",
		"{\"a\":\"x}":       "string is not closed",
		"{} x":              "after the top-level value",
		"/* open":           "comment is not closed",
		"{\"a\":tru}":       "unexpected 't'",
	} {
		_, err := jsonedit.Parse([]byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want %q", src, err, want)
		}
	}
}

// FuzzParse: no panic; valid UTF-8 that encoding/json accepts, Parse accepts
// with the same strings; spans stay inside the source.
func FuzzParse(f *testing.F) {
	for _, b := range sharedfixtures.Files(f, "dependency-files", ".json") {
		f.Add(b)
	}
	f.Add([]byte(`{"a":[1,{"b":"\ud83d\ude00"}],"c":null}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		v, err := jsonedit.Parse(src)
		if json.Valid(src) && utf8.Valid(src) && err != nil {
			t.Fatalf("valid JSON rejected: %v", err)
		}
		if err != nil {
			return
		}
		var walk func(v *jsonedit.Value)
		walk = func(v *jsonedit.Value) {
			if v.Start < 0 || v.End > len(src) || v.Start >= v.End {
				t.Fatalf("span [%d,%d) out of range", v.Start, v.End)
			}
			if v.Kind == jsonedit.String {
				var s string
				if json.Unmarshal(src[v.Start:v.End], &s) == nil && s != v.Str && strings.ToValidUTF8(s, "") == s {
					t.Fatalf("string %q decoded as %q", src[v.Start:v.End], v.Str)
				}
			}
			for _, m := range v.Members {
				walk(m.Value)
			}
			for _, it := range v.Items {
				walk(it)
			}
		}
		walk(v)
	})
}

func TestQuote(t *testing.T) {
	for _, s := range []string{"plain", "q\"b\\s", "tab\tnl\n", "\x01ctl", "é"} {
		var back string
		if err := json.Unmarshal([]byte(jsonedit.Quote(s)), &back); err != nil || back != s {
			t.Errorf("Quote(%q) = %s round-trips to %q (%v)", s, jsonedit.Quote(s), back, err)
		}
	}
}
