package jsonscan_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/maestroplusplus/maestro/internal/jsonscan"
)

var validityCases = []string{
	``, ` `, `{}`, `[]`, `""`, `0`, `-0`, `-`, `01`, `1.`, `1.5`, `1e`, `1e+`, `1E-7`, `-1.5e10`, `.5`, `+1`,
	`true`, `tru`, `truex`, `false`, `null`, `nul`, `NaN`, `"\u00e9"`, `"\u00g9"`, `"\u00e"`, `"\x"`, `"\/"`,
	"\"a\x01b\"", "\"\xff\xfe\"", `"unterminated`, `"\"`, `{"a":1,}`, `[1,]`, `[,1]`, `{"a" 1}`, `{"a":}`, `{1:2}`,
	`{"a":1 "b":2}`, ` { "a" : [ 1 , 2 , { } ] } `, `{} {}`, `[] x`, "\t\n\r[\n]\r\n", "\v[]", `[1 2]`, `{"a":[}`,
	`{"a":{"b":{"c":[null,true,false,"x",-1.0e+2]}}}`,
}

// TestValidAsEncodingJSON: Valid answers what encoding/json.Valid answers,
// nesting limit included.
func TestValidAsEncodingJSON(t *testing.T) {
	cases := append(validityCases,
		strings.Repeat("[", 10000)+strings.Repeat("]", 10000),
		strings.Repeat("[", 10001)+strings.Repeat("]", 10001),
		strings.Repeat(`{"a":`, 10000)+"1"+strings.Repeat("}", 10000),
		strings.Repeat(`{"a":`, 10001)+"1"+strings.Repeat("}", 10001),
	)
	for _, c := range cases {
		name := c
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, json.Valid([]byte(c)), jsonscan.Valid([]byte(c)), "%q", c)
			_, _, doc, valid := jsonscan.Lookup([]byte(c), []string{"a", "b"})
			assert.Equal(t, json.Valid([]byte(c)), valid, "Lookup %q", c)
			checked, ok := jsonscan.Check([]byte(c))
			assert.Equal(t, json.Valid([]byte(c)), ok, "Check %q", c)
			if json.Valid([]byte(c)) {
				assert.Equal(t, c, string(doc.Bytes()), "Lookup's document")
				assert.Equal(t, c, string(checked.Bytes()), "Check's document")
			} else {
				assert.Nil(t, doc.Bytes(), "Lookup vouches for %q", c)
				assert.Nil(t, checked.Bytes(), "Check vouches for %q", c)
			}
		})
	}
}

// TestValidStringWordAtATime: a string is scanned eight bytes at a time
// over plain content; every byte that ends plain content (a control
// character, a quote, a backslash) and every byte just above or below one
// is found at every place in and around a word, before and after other
// bytes, as encoding/json finds it.
func TestValidStringWordAtATime(t *testing.T) {
	var bytes []byte
	for c := range 0x22 {
		bytes = append(bytes, byte(c))
	}
	bytes = append(bytes, '\\', '\\'+1, '\\'-1, '"'-1, 0x7f, 0x80, 0xa2, 0xdc, 0xff)
	for _, c := range bytes {
		for at := range 20 {
			for _, tail := range []string{"", "n", "abcdefghijklmnopq", `"`, `\`} {
				doc := `["` + strings.Repeat("x", at) + string([]byte{c}) + tail + strings.Repeat("y", 20-at) + `"]`
				if got, want := jsonscan.Valid([]byte(doc)), json.Valid([]byte(doc)); got != want {
					t.Errorf("%q: Valid %v, encoding/json %v", doc, got, want)
				}
			}
		}
	}
}

func FuzzValid(f *testing.F) {
	for _, c := range validityCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if want, got := json.Valid(data), jsonscan.Valid(data); want != got {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", data, got, want)
		}
	})
}

// TestLookup: the values at the paths, and plain false where encoding/json
// could read other values than the ones found.
func TestLookup(t *testing.T) {
	paths := [][]string{{"repository", "html_url"}, {"check_run", "head_sha"}, {"check_run", "pull_requests"}, {"sha"}}
	cases := []struct {
		doc   string
		want  []string // the raw values; "-" for none
		plain bool
	}{
		{`{"sha":"abc","repository":{"id":1,"html_url":"https://x","owner":{"html_url":"no"}},"x":{"sha":"no"}}`,
			[]string{`"https://x"`, "-", "-", `"abc"`}, true},
		{`{"check_run":{"head_sha":null,"pull_requests":[{"number":1}]},"repository":{}}`,
			[]string{"-", "null", `[{"number":1}]`, "-"}, true},
		{`{"sha":5}`, []string{"-", "-", "-", "5"}, true},
		{`[{"sha":"abc"}]`, nil, false},                               // not an object on the way
		{`{"repository":null,"sha":"a"}`, nil, false},                 // not an object on the way
		{`{"repository":"x"}`, nil, false},                            // not an object on the way
		{`{"SHA":"abc"}`, nil, false},                                 // encoding/json matches it to sha
		{`{"Sha":"abc"}`, nil, false},                                 // the first letter in another case
		{"{\"\u017fha\":\"abc\"}", nil, false},                        // ſ (U+017F) folds to s: encoding/json matches it
		{`{"repository":{"HTML_url":"https://x"}}`, nil, false},       // encoding/json matches it
		{`{"s\u0068a":"abc"}`, nil, false},                            // an escape: encoding/json decodes it to sha
		{`{"sha":"a","sha":"b"}`, nil, false},                         // twice: encoding/json takes the last
		{`{"check_run":{"head_sha":"a"},"check_run":{}}`, nil, false}, // twice on the way
		{`{"other":{"HTML_URL":"x","sha":"no"},"Shax":1}`, []string{"-", "-", "-", "-"}, true},
	}
	for _, c := range cases {
		t.Run(c.doc, func(t *testing.T) {
			values, plain, _, valid := jsonscan.Lookup([]byte(c.doc), paths...)
			assert.True(t, valid)
			assert.Equal(t, c.plain, plain)
			if !c.plain {
				return
			}
			for i, w := range c.want {
				if w == "-" {
					assert.Nil(t, values[i], "%v", paths[i])
				} else {
					assert.Equal(t, w, string(values[i]), "%v", paths[i])
				}
			}
		})
	}
}

// BenchmarkValid is a GitHub status delivery's size of JSON: Valid against
// encoding/json.Valid.
func BenchmarkValid(b *testing.B) {
	doc := []byte(`{"id":1,"sha":"` + strings.Repeat("a", 40) + `","repository":{` + strings.Repeat(`"url_of_something":"https://api.github.com/repos/dotnet/runtime/something/{sha}","n":12345,"f":false,`, 60) + `"html_url":"https://github.com/dotnet/runtime"}}`)
	b.SetBytes(int64(len(doc)))
	b.Run("jsonscan", func(b *testing.B) {
		for b.Loop() {
			jsonscan.Valid(doc)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			json.Valid(doc)
		}
	})
}

// BenchmarkLookup is the lookup of a status delivery's routing members in
// a payload of its size and shape: most members are not on a path.
func BenchmarkLookup(b *testing.B) {
	doc := []byte(`{"id":1,"sha":"` + strings.Repeat("a", 40) + `","commit":{` + strings.Repeat(`"url_of_something":"https://api.github.com/repos/dotnet/runtime/something/{sha}","n":12345,"f":false,`, 30) +
		`"x":null},"repository":{` + strings.Repeat(`"url_of_something":"https://api.github.com/repos/dotnet/runtime/something/{sha}","n":12345,"f":false,`, 60) + `"html_url":"https://github.com/dotnet/runtime"}}`)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, plain, _, ok := jsonscan.Lookup(doc, []string{"repository", "html_url"}, []string{"sha"}, []string{"pull_request", "number"}); !ok || !plain {
			b.Fatal("not valid and plain")
		}
	}
}
