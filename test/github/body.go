package githubdouble

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// body is a decoded request body: the properties that were present. The
// route wrapper has validated it against the operation's requestBody
// schema in GitHub's REST description already (conform.go), so handlers
// read typed values from it and check only GitHub's rules beyond the
// schema (a blank title, a body over 65,536 characters, a ref that exists).
type body map[string]json.RawMessage

func (b body) has(name string) bool { _, ok := b[name]; return ok }

func (b body) isNull(name string) bool {
	raw, ok := b[name]
	return ok && bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// str returns a string property ("" when absent or not a string).
func (b body) str(name string) string {
	var s string
	if raw, ok := b[name]; ok {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

// boolean returns a boolean property (false when absent or not a boolean).
func (b body) boolean(name string) bool {
	var v bool
	if raw, ok := b[name]; ok {
		_ = json.Unmarshal(raw, &v)
	}
	return v
}

// decodeBody parses a JSON request body (no body reads as {}): 400
// "Problems parsing JSON" for bad JSON, 422 "Invalid request." for a value
// that is not an object. Types, required properties and enums are the
// schema's, checked before the handler runs.
func decodeBody(raw []byte, doc string) (body, *apiError) {
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
		return nil, invalidRequest("For 'links/0/schema', "+describe(v)+" is not an object.", doc)
	}
	var b body
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, newAPIError(http.StatusBadRequest, "Problems parsing JSON", doc)
	}
	return b, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
