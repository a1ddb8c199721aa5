package githubdouble

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// kind is the JSON type a body field must have.
type kind int

const (
	kString kind = iota
	kBool
	kInteger
	kObject
	kArray
)

func (k kind) String() string {
	switch k {
	case kBool:
		return "boolean"
	case kInteger:
		return "integer"
	case kObject:
		return "object"
	case kArray:
		return "array"
	default:
		return "string"
	}
}

// field describes one property of a request body.
type field struct {
	kind     kind
	required bool
	enum     []string // allowed values of a string, when not empty
	nullable bool
}

// schema is the properties of a request body. Unknown properties are ignored,
// as GitHub ignores them.
type schema map[string]field

// body is a decoded request body: the properties that were present.
type body map[string]json.RawMessage

func (b body) has(name string) bool { _, ok := b[name]; return ok }

func (b body) isNull(name string) bool {
	raw, ok := b[name]
	return ok && bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// str returns a string property; call after validate.
func (b body) str(name string) string {
	var s string
	if raw, ok := b[name]; ok {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

// boolean returns a boolean property; call after validate.
func (b body) boolean(name string) bool {
	var v bool
	if raw, ok := b[name]; ok {
		_ = json.Unmarshal(raw, &v)
	}
	return v
}

// decodeBody parses a JSON request body against a schema and returns GitHub's
// errors: 400 "Problems parsing JSON" for bad JSON, 422 "Invalid request." for
// a body that is not an object, misses a required property or has one of the
// wrong type.
func decodeBody(raw []byte, sc schema, doc string) (body, *apiError) {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil, newAPIError(http.StatusBadRequest, "Problems parsing JSON", doc)
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, invalidRequest(fmt.Sprintf("For 'links/0/schema', %s is not an object.", describe(v)), doc)
	}
	var b body
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, newAPIError(http.StatusBadRequest, "Problems parsing JSON", doc)
	}
	obj := v.(map[string]any)
	var missing []string
	for name, f := range sc {
		if f.required && !b.has(name) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		quoted := make([]string, len(missing))
		for i, m := range missing {
			quoted[i] = strconv.Quote(m)
		}
		verb := "wasn't"
		if len(missing) > 1 {
			verb = "weren't"
		}
		return nil, invalidRequest(fmt.Sprintf("%s %s supplied.", strings.Join(quoted, " and "), verb), doc)
	}
	names := make([]string, 0, len(sc))
	for name := range sc {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f := sc[name]
		val, ok := obj[name]
		if !ok || val == nil && f.nullable {
			continue
		}
		if !hasKind(val, f.kind) {
			return nil, invalidRequest(fmt.Sprintf("For 'properties/%s', %s is not a%s %s.", name, describe(val), article(f.kind), f.kind), doc)
		}
		if s, isStr := val.(string); isStr && len(f.enum) > 0 && !contains(f.enum, s) {
			quoted := make([]string, len(f.enum))
			for i, e := range f.enum {
				quoted[i] = strconv.Quote(e)
			}
			return nil, invalidRequest(fmt.Sprintf("For 'properties/%s', %q is not one of [%s].", name, s, strings.Join(quoted, ", ")), doc)
		}
	}
	return b, nil
}

func article(k kind) string {
	if k == kInteger || k == kObject || k == kArray {
		return "n"
	}
	return ""
}

func hasKind(v any, k kind) bool {
	switch k {
	case kBool:
		_, ok := v.(bool)
		return ok
	case kInteger:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := n.Int64()
		return err == nil
	case kObject:
		_, ok := v.(map[string]any)
		return ok
	case kArray:
		_, ok := v.([]any)
		return ok
	default:
		_, ok := v.(string)
		return ok
	}
}

// describe renders a JSON value the way GitHub's schema errors quote it.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case string:
		return strconv.Quote(x)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	default:
		out, _ := json.Marshal(x)
		return string(out)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
