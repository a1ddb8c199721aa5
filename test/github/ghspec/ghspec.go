// Package ghspec checks HTTP traffic against GitHub's official OpenAPI
// descriptions: the REST description (@octokit/openapi,
// generated/api.github.com.json, OpenAPI 3.0.3) and, through the same core,
// the webhooks description (@octokit/openapi-webhooks, OpenAPI 3.1). Tests
// and the GitHub double use it to hold the double to what GitHub documents.
//
// # Using it
//
//	doc := ghspec.REST(t)                                   // loaded once per test binary
//	op, err := doc.Operation("GET", "/repos/{owner}/{repo}/pulls/{number}")
//	err = op.CheckResponse(resp.StatusCode, resp.Header, body) // schema of that status
//	err = op.CheckRequest(reqBody)                          // the requestBody schema
//	op, err = doc.Match("GET", "/repos/o/r/git/ref/heads/main") // a concrete path
//	err = doc.Check("#/components/schemas/pull-request", body)  // any schema by pointer
//	err = ghspec.Webhooks(t).CheckWebhook("pull_request", "opened", payload) // a webhook payload
//
// Operation finds an operation by its route template; parameter names do
// not matter ("{number}" matches "{pull_number}"). Match finds one by a
// concrete request path, preferring the template with the most literal
// segments; one parameter may span several segments, as {ref} does in
// /git/refs/{ref} and /commits/{ref}/status for a ref like heads/main.
//
// CheckResponse fails with an error wrapping ErrUnlistedStatus when the
// operation lists no response for the status code; otherwise it checks that
// a response without content has an empty body (an error status may carry
// GitHub's basic-error body, which GitHub always sends) and that a JSON
// body matches the response schema. CheckRequest checks a JSON body against
// the operation's requestBody schema (an empty body, or JSON null as
// go-github sends for nil options, passes only when the requestBody is
// optional). Both return a *Error whose Issues name the JSON
// pointer of each offending value, e.g. `/head/sha: got null, want string`.
//
// # How the descriptions are read
//
// Schemas are validated with github.com/santhosh-tekuri/jsonschema/v6 as
// JSON Schema 2020-12. OpenAPI 3.1 documents (webhooks) are JSON Schema
// 2020-12 already; for OpenAPI 3.0 documents (REST) Load rewrites the one
// 3.0 keyword that changes what validates: `nullable: true` becomes
// `type: [T, "null"]` (with null added to an enum), or an anyOf with
// {"type":"null"} where the schema has no single type (oneOf, allOf, $ref).
// Without `nullable`, null is refused, as the 3.0 rules say. Properties not
// declared are allowed (GitHub's schemas do not forbid them, and GitHub adds
// fields over time). Formats are asserted: date-time, date, email, uri,
// uri-template (RFC 6570's braces, path-segment expansions included) and the
// rest that the library knows; GitHub's own formats
// (int64, repo.nwo, ...) are annotations.
//
// Compiled schemas are cached per document; a Document is safe for
// concurrent use.
package ghspec

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/maestroplusplus/maestro/test/testenv"
)

// The descriptions, relative to the repository root; test/package.json pins
// their versions and `npm ci --prefix test` installs them.
const (
	RESTFile     = "test/node_modules/@octokit/openapi/generated/api.github.com.json"
	WebhooksFile = "test/node_modules/@octokit/openapi-webhooks/generated/api.github.com.json"
)

// ErrUnlistedStatus is wrapped by CheckResponse when the operation's
// description lists no response for the status code.
var ErrUnlistedStatus = errors.New("status code not listed by the description")

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Document is one loaded OpenAPI description.
type Document struct {
	name string         // the file name, for messages
	url  string         // the resource URL the compiler knows the document by
	root map[string]any // the document, with 3.0 nullable rewritten
	ops  []*Operation

	mu       sync.Mutex // guards compiler and compiled
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema
}

// Operation is one method on one path of a Document.
type Operation struct {
	Method  string // upper case, e.g. GET
	Path    string // the template as the description writes it
	ID      string // operationId, e.g. pulls/get
	DocsURL string // externalDocs.url: the docs.github.com page

	doc     *Document
	pointer string // JSON pointer of the operation object
	raw     map[string]any
	shape   []string // path segments, parameters as "{}"
}

var (
	cacheMu sync.Mutex
	cache   = map[string]*loaded{}
)

type loaded struct {
	once sync.Once
	doc  *Document
	err  error
}

// REST returns GitHub's REST description, loaded once per test binary.
func REST(tb testing.TB) *Document { return Open(tb, RESTFile) }

// Webhooks returns GitHub's webhooks description, loaded once per test binary.
func Webhooks(tb testing.TB) *Document { return Open(tb, WebhooksFile) }

// Open returns the description at rel (relative to the repository root),
// loading it once per test binary. A missing file skips the test, except
// under CI=true, where it fails it: run `npm ci --prefix test` to install it.
func Open(tb testing.TB, rel string) *Document {
	tb.Helper()
	doc, err := Find(rel)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && os.Getenv("CI") != "true" {
			tb.Skipf("GitHub description missing: %v", err)
		}
		tb.Fatalf("GitHub description: %v", err)
	}
	return doc
}

// Find is Open for code that may not skip or fail the test itself, such as
// the GitHub double's HTTP handlers (which run outside the test's
// goroutine): it returns the error instead, a missing file included. It
// shares Open's cache.
func Find(rel string) (*Document, error) {
	root, err := testenv.Root()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(root, filepath.FromSlash(rel))
	cacheMu.Lock()
	l, ok := cache[path]
	if !ok {
		l = &loaded{}
		cache[path] = l
	}
	cacheMu.Unlock()
	l.once.Do(func() {
		if _, err := os.Stat(path); err != nil {
			l.err = fmt.Errorf("%w (run `npm ci --prefix test` to install it)", err)
			return
		}
		l.doc, l.err = Load(path)
	})
	return l.doc, l.err
}

// Load reads an OpenAPI 3.0 or 3.1 description from a file.
func Load(path string) (*Document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: not an OpenAPI document (the top level is not an object)", path)
	}
	version, _ := root["openapi"].(string)
	switch {
	case strings.HasPrefix(version, "3.0."):
		adaptNullable(root)
	case strings.HasPrefix(version, "3.1."):
	default:
		return nil, fmt.Errorf("%s: openapi version %q: want 3.0.x or 3.1.x", path, version)
	}
	d := &Document{
		name:     filepath.Base(path),
		url:      "file:///ghspec/" + filepath.Base(path),
		root:     root,
		compiled: map[string]*jsonschema.Schema{},
	}
	d.compiler = jsonschema.NewCompiler()
	d.compiler.DefaultDraft(jsonschema.Draft2020)
	d.compiler.AssertFormat()
	d.compiler.RegisterFormat(&jsonschema.Format{Name: "uri-template", Validate: uriTemplate})
	if err := d.compiler.AddResource(d.url, root); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	paths, _ := root["paths"].(map[string]any)
	for p, item := range paths {
		ops, _ := item.(map[string]any)
		for _, m := range methods {
			raw, ok := ops[m].(map[string]any)
			if !ok {
				continue
			}
			op := &Operation{
				Method:  strings.ToUpper(m),
				Path:    p,
				doc:     d,
				pointer: "/paths/" + escape(p) + "/" + m,
				raw:     raw,
				shape:   shape(p),
			}
			op.ID, _ = raw["operationId"].(string)
			if ext, ok := raw["externalDocs"].(map[string]any); ok {
				op.DocsURL, _ = ext["url"].(string)
			}
			d.ops = append(d.ops, op)
		}
	}
	sort.Slice(d.ops, func(i, j int) bool {
		if d.ops[i].Path != d.ops[j].Path {
			return d.ops[i].Path < d.ops[j].Path
		}
		return d.ops[i].Method < d.ops[j].Method
	})
	return d, nil
}

// adaptNullable rewrites OpenAPI 3.0's `nullable: true` into JSON Schema
// 2020-12 in place, everywhere in the document.
func adaptNullable(v any) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			adaptNullable(e)
		}
	case map[string]any:
		for _, e := range x {
			adaptNullable(e)
		}
		if x["nullable"] != true {
			return
		}
		delete(x, "nullable")
		if enum, ok := x["enum"].([]any); ok && !slices.Contains(enum, nil) {
			x["enum"] = append(enum, nil)
		}
		_, hasOneOf := x["oneOf"]
		_, hasAnyOf := x["anyOf"]
		_, hasAllOf := x["allOf"]
		_, hasRef := x["$ref"]
		if t, ok := x["type"].(string); ok && !hasOneOf && !hasAnyOf && !hasAllOf && !hasRef {
			x["type"] = []any{t, "null"}
			return
		}
		if !hasOneOf && !hasAnyOf && !hasAllOf && !hasRef && x["type"] == nil {
			return // no constraint on the type: null is allowed already
		}
		inner := map[string]any{}
		for k, e := range x {
			if k != "description" && k != "title" {
				inner[k] = e
				delete(x, k)
			}
		}
		x["anyOf"] = []any{map[string]any{"type": "null"}, inner}
	}
}

// escape escapes one JSON-pointer token (RFC 6901).
func escape(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

func shape(path string) []string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = "{}"
		}
	}
	return segs
}

// Operations returns every operation of the document, by path and method.
func (d *Document) Operations() []*Operation { return slices.Clone(d.ops) }

// Operation returns the operation for a method and a route template such as
// /repos/{owner}/{repo}/pulls/{number}; the names of parameters do not
// matter, and a Go ServeMux wildcard such as {ref...} counts as one.
func (d *Document) Operation(method, route string) (*Operation, error) {
	want := shape(route)
	for _, op := range d.ops {
		if op.Method == strings.ToUpper(method) && slices.Equal(op.shape, want) {
			return op, nil
		}
	}
	return nil, fmt.Errorf("%s: no operation %s %s", d.name, strings.ToUpper(method), route)
}

// Match returns the operation serving a concrete request path (without the
// API prefix and query), preferring the template with the most literal
// segments and then the one that needs no spanning parameter. One
// parameter may span several segments, as {ref} does in
// /repos/{owner}/{repo}/commits/{ref}/status for the ref heads/main.
func (d *Document) Match(method, path string) (*Operation, error) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var best *Operation
	bestScore := -1
	for _, op := range d.ops {
		if op.Method != strings.ToUpper(method) {
			continue
		}
		if score, ok := matches(op.shape, segs); ok && score > bestScore {
			best, bestScore = op, score
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%s: no operation serves %s %s", d.name, strings.ToUpper(method), path)
	}
	return best, nil
}

// matches reports whether concrete segments fit a shape, and a score: two
// points per literal segment, one more when no parameter spans segments.
func matches(shape, segs []string) (int, bool) {
	literals := 0
	for _, s := range shape {
		if s != "{}" {
			literals++
		}
	}
	fits := func(shape, segs []string) bool {
		for i, s := range shape {
			if s == "{}" && segs[i] == "" || s != "{}" && s != segs[i] {
				return false
			}
		}
		return true
	}
	switch {
	case len(segs) == len(shape):
		return 2*literals + 1, fits(shape, segs)
	case len(segs) < len(shape):
		return 0, false
	}
	extra := len(segs) - len(shape)
	for i, s := range shape {
		if s != "{}" {
			continue
		}
		if fits(shape[:i], segs[:i]) && fits(shape[i+1:], segs[i+1+extra:]) {
			return 2 * literals, true
		}
	}
	return 0, false
}

// Statuses returns the status codes the operation lists, in order.
func (o *Operation) Statuses() []int {
	responses, _ := o.raw["responses"].(map[string]any)
	var out []int
	for k := range responses {
		if n, err := strconv.Atoi(k); err == nil {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}

func (o *Operation) String() string { return o.Method + " " + o.Path }

// CheckResponse validates a response: the status must be listed, a
// response listed without content must have an empty body, and a JSON body
// must match the response schema of that status. header may be nil; when
// given, a JSON body must come with a JSON Content-Type.
func (o *Operation) CheckResponse(status int, header http.Header, body []byte) error {
	responses, _ := o.raw["responses"].(map[string]any)
	resp, ok := responses[strconv.Itoa(status)].(map[string]any)
	if !ok {
		return fmt.Errorf("%s: %w: %d (listed: %v)", o, ErrUnlistedStatus, status, o.Statuses())
	}
	ptr := o.pointer + "/responses/" + strconv.Itoa(status)
	resp, ptr, err := o.doc.deref(resp, ptr)
	if err != nil {
		return err
	}
	where := fmt.Sprintf("%s response %d", o, status)
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 && status >= 400 && len(bytes.TrimSpace(body)) > 0 {
		if _, err := o.doc.lookup("#/components/schemas/basic-error"); err == nil {
			// GitHub answers every error with a JSON body ({message,
			// documentation_url}), also where the description lists the
			// status without content (422 of DELETE .../git/refs/{ref},
			// 404 of GET .../pulls/{n}/merge).
			return o.doc.check(where, "/components/schemas/basic-error", body)
		}
	}
	if len(content) == 0 {
		if len(bytes.TrimSpace(body)) > 0 {
			return &Error{Where: where, Issues: []Issue{{Message: fmt.Sprintf("the description lists no content, got %d bytes", len(body))}}}
		}
		return nil
	}
	if header != nil {
		if ct := header.Get("Content-Type"); !strings.Contains(ct, "json") {
			return &Error{Where: where, Issues: []Issue{{Message: fmt.Sprintf("Content-Type %q, want application/json", ct)}}}
		}
	}
	mt := jsonMediaType(content)
	if mt == "" {
		return nil // no JSON body described (e.g. text/plain only)
	}
	return o.doc.check(where, ptr+"/content/"+escape(mt)+"/schema", body)
}

// CheckRequest validates a request body against the operation's
// requestBody schema. An empty body passes when the operation takes no body
// or its body is optional.
func (o *Operation) CheckRequest(body []byte) error {
	rb, ok := o.raw["requestBody"].(map[string]any)
	if !ok {
		return nil
	}
	rb, ptr, err := o.doc.deref(rb, o.pointer+"/requestBody")
	if err != nil {
		return err
	}
	where := fmt.Sprintf("%s request", o)
	if bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
		body = nil // go-github sends null for nil options; GitHub reads it as no body
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if rb["required"] == true {
			return &Error{Where: where, Issues: []Issue{{Message: "the request body is required"}}}
		}
		return nil
	}
	content, _ := rb["content"].(map[string]any)
	mt := jsonMediaType(content)
	if mt == "" {
		return nil
	}
	return o.doc.check(where, ptr+"/content/"+escape(mt)+"/schema", body)
}

// jsonMediaType returns the JSON media type among a content map's keys.
func jsonMediaType(content map[string]any) string {
	if _, ok := content["application/json"]; ok {
		return "application/json"
	}
	for k := range content {
		if strings.HasSuffix(k, "json") {
			return k
		}
	}
	return ""
}

// deref follows a $ref to a response or request body component.
func (d *Document) deref(obj map[string]any, ptr string) (map[string]any, string, error) {
	for range 8 {
		ref, ok := obj["$ref"].(string)
		if !ok {
			return obj, ptr, nil
		}
		next, err := d.lookup(ref)
		if err != nil {
			return nil, "", fmt.Errorf("%s at %s: %w", d.name, ptr, err)
		}
		obj, ptr = next, strings.TrimPrefix(ref, "#")
	}
	return nil, "", fmt.Errorf("%s at %s: $ref chain too long", d.name, ptr)
}

func (d *Document) lookup(ref string) (map[string]any, error) {
	ptr, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("$ref %q: only local references are supported", ref)
	}
	var cur any = d.root
	for _, tok := range strings.Split(ptr, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q does not resolve", ref)
		}
		cur = m[tok]
	}
	obj, ok := cur.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("$ref %q does not resolve to an object", ref)
	}
	return obj, nil
}

// Check validates a JSON body against the schema at a JSON pointer into the
// document, such as "#/components/schemas/pull-request" or
// "#/webhooks/check-run-completed/post/requestBody/content/application~1json/schema".
func (d *Document) Check(pointer string, body []byte) error {
	return d.check(d.name+"#"+strings.TrimPrefix(pointer, "#"), strings.TrimPrefix(pointer, "#"), body)
}

func (d *Document) check(where, ptr string, body []byte) error {
	sch, err := d.schema(ptr)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return &Error{Where: where, Issues: []Issue{{Message: "not JSON: " + err.Error()}}}
	}
	err = sch.Validate(v)
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		return &Error{Where: where, Issues: issues(ve)}
	}
	return err
}

// schema compiles (once) the schema at a JSON pointer into the document.
func (d *Document) schema(ptr string) (*jsonschema.Schema, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if sch, ok := d.compiled[ptr]; ok {
		return sch, nil
	}
	sch, err := d.compiler.Compile(d.url + "#" + ptr)
	if err != nil {
		return nil, fmt.Errorf("%s: compile the schema at %s: %w", d.name, ptr, err)
	}
	d.compiled[ptr] = sch
	return sch, nil
}

// Error is a body that does not match its schema.
type Error struct {
	Where  string // e.g. "GET /repos/{owner}/{repo}/pulls/{pull_number} response 200"
	Issues []Issue
}

// Issue is one reason a value does not match: the JSON pointer of the value
// in the body ("" for the body itself) and what is wrong with it.
type Issue struct {
	Pointer string
	Message string
	// Kind is the validator's error kind (such as *kind.Type, *kind.Required
	// or *kind.Enum of github.com/santhosh-tekuri/jsonschema/v6/kind), for
	// callers that word the problem their own way, as the GitHub double
	// words GitHub's "Invalid request." details. Nil for problems found
	// outside the schema (a body that is not JSON, a missing body).
	Kind jsonschema.ErrorKind
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Where)
	b.WriteString(" does not match the description:")
	for _, is := range e.Issues {
		fmt.Fprintf(&b, "\n  %s: %s", displayPointer(is.Pointer), is.Message)
	}
	return b.String()
}

func displayPointer(p string) string {
	if p == "" {
		return "(body)"
	}
	return p
}

var printer = message.NewPrinter(language.English)

// issues flattens a validation error into its leaf causes, deduplicated,
// in the order of their pointers.
func issues(ve *jsonschema.ValidationError) []Issue {
	var out []Issue
	seen := map[[2]string]bool{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			is := Issue{Pointer: pointer(e.InstanceLocation), Message: e.ErrorKind.LocalizedString(printer)}
			key := [2]string{is.Pointer, is.Message}
			if !seen[key] {
				seen[key] = true
				is.Kind = e.ErrorKind
				out = append(out, is)
			}
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Pointer < out[j].Pointer })
	return out
}

func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escape(t))
	}
	return b.String()
}
