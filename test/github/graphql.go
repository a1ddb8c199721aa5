package githubdouble

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// GraphQL, as https://docs.github.com/graphql serves it at POST /graphql
// (GitHub Enterprise Server: /api/graphql). Every query is parsed and
// validated against GitHub's published schema (@octokit/graphql-schema,
// schema.graphql) with github.com/vektah/gqlparser/v2, so a query that
// GitHub would reject is rejected here, with GitHub's error shape: status
// 200 and {"errors": [{"message", "locations", ...}]}. Valid queries are
// executed over the double's state for the part of the schema the product
// uses: repository(owner, name) { pullRequest(number) }, node(id), viewer,
// and the enablePullRequestAutoMerge / disablePullRequestAutoMerge
// mutations. A valid query that selects a field the double does not serve
// gets a null there and an error naming the field, never a made-up value.
const (
	graphQLSchemaFile = "test/node_modules/@octokit/graphql-schema/schema.graphql"
	docGraphQL        = "https://docs.github.com/graphql"
)

var graphQLSchema struct {
	once   sync.Once
	schema *ast.Schema
	err    error
}

// loadGraphQLSchema parses and validates GitHub's schema once per test
// binary. The published schema defines two fields of EnterpriseOwnerInfo
// twice, identically, which gqlparser (rightly) refuses; identical
// duplicates are dropped, any other duplicate is an error.
func loadGraphQLSchema(path string) (*ast.Schema, error) {
	graphQLSchema.once.Do(func() {
		data, err := os.ReadFile(path)
		if err != nil {
			graphQLSchema.err = fmt.Errorf("GitHub's GraphQL schema: %w (run `npm ci --prefix test` to install it)", err)
			return
		}
		sd, err := parser.ParseSchemas(validator.Prelude, &ast.Source{Name: "schema.graphql", Input: string(data)})
		if err != nil {
			graphQLSchema.err = fmt.Errorf("parse %s: %w", path, err)
			return
		}
		for _, def := range sd.Definitions {
			seen := map[string]*ast.FieldDefinition{}
			var fields ast.FieldList
			for _, f := range def.Fields {
				if prev, ok := seen[f.Name]; ok {
					if prev.Type.String() != f.Type.String() || len(prev.Arguments) != len(f.Arguments) {
						graphQLSchema.err = fmt.Errorf("%s: %s.%s is defined twice, differently", path, def.Name, f.Name)
						return
					}
					continue
				}
				seen[f.Name] = f
				fields = append(fields, f)
			}
			def.Fields = fields
		}
		graphQLSchema.schema, graphQLSchema.err = validator.ValidateSchemaDocument(sd)
		if graphQLSchema.err != nil {
			graphQLSchema.err = fmt.Errorf("validate %s: %w", path, graphQLSchema.err)
		}
	})
	return graphQLSchema.schema, graphQLSchema.err
}

// gqlError is one entry of a GraphQL answer's "errors", in GitHub's shape.
type gqlError struct {
	Type       string              `json:"type,omitempty"`
	Path       ast.Path            `json:"path,omitempty"`
	Extensions map[string]any      `json:"extensions,omitempty"`
	Locations  []gqlerror.Location `json:"locations,omitempty"`
	Message    string              `json:"message"`
}

type gqlAnswer struct {
	Data   any        `json:"data,omitempty"`
	Errors []gqlError `json:"errors,omitempty"`
}

var undefinedFieldRe = regexp.MustCompile(`^Cannot query field "(\w+)" on type "(\w+)"\.`)

// fromValidation turns gqlparser's errors into GitHub's shape; an unknown
// field gets GitHub's wording and extensions, other rules keep gqlparser's.
func fromValidation(list gqlerror.List) []gqlError {
	var out []gqlError
	for _, e := range list {
		ge := gqlError{Message: e.Message, Locations: e.Locations}
		if m := undefinedFieldRe.FindStringSubmatch(e.Message); m != nil {
			ge.Message = fmt.Sprintf("Field '%s' doesn't exist on type '%s'", m[1], m[2])
			ge.Extensions = map[string]any{"code": "undefinedField", "typeName": m[2], "fieldName": m[1]}
		}
		out = append(out, ge)
	}
	return out
}

// serveGraphQL answers POST /graphql.
func serveGraphQL(c *call) {
	schema, err := loadGraphQLSchema(c.s.graphQLSchema)
	if err != nil {
		c.fail(err)
		return
	}
	var req struct {
		Query         *string        `json:"query"`
		Variables     map[string]any `json:"variables"`
		OperationName string         `json:"operationName"`
	}
	dec := json.NewDecoder(bytes.NewReader(c.body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		writeError(c.w, newAPIError(http.StatusBadRequest, "Problems parsing JSON", docGraphQL))
		return
	}
	answer := func(a gqlAnswer) { writeJSON(c.w, http.StatusOK, a) }
	if req.Query == nil {
		answer(gqlAnswer{Errors: []gqlError{{Message: "A query attribute must be specified and must be a string."}}})
		return
	}
	doc, errs := gqlparser.LoadQuery(schema, *req.Query)
	if len(errs) > 0 {
		answer(gqlAnswer{Errors: fromValidation(errs)})
		return
	}
	var op *ast.OperationDefinition
	switch {
	case req.OperationName != "":
		op = doc.Operations.ForName(req.OperationName)
	case len(doc.Operations) == 1:
		op = doc.Operations[0]
	default:
		answer(gqlAnswer{Errors: []gqlError{{Message: "An operation name is required"}}})
		return
	}
	if op == nil {
		answer(gqlAnswer{Errors: []gqlError{{Message: fmt.Sprintf("No operation named %q", req.OperationName)}}})
		return
	}
	vars, err := validator.VariableValues(schema, op, req.Variables)
	if err != nil {
		var ge *gqlerror.Error
		if errors.As(err, &ge) {
			answer(gqlAnswer{Errors: []gqlError{{Message: ge.Message, Path: ge.Path, Locations: ge.Locations}}})
		} else {
			answer(gqlAnswer{Errors: []gqlError{{Message: err.Error()}}})
		}
		return
	}
	x := &gqlExec{c: c, schema: schema, vars: vars}
	var root gqlObject = gqlRoot{mutation: op.Operation == ast.Mutation}
	if op.Operation == ast.Subscription {
		answer(gqlAnswer{Errors: []gqlError{{Message: "Subscriptions are not supported"}}})
		return
	}
	data := x.object(root, op.SelectionSet, nil)
	answer(gqlAnswer{Data: data, Errors: x.errs})
}

// gqlObject is a value of a GraphQL object type.
type gqlObject interface{ typeName() string }

type gqlRoot struct{ mutation bool }
type gqlRepo struct{ r *repo }
type gqlPull struct {
	r *repo
	p *pull
}
type gqlAutoMerge struct {
	r *repo
	p *pull
}
type gqlActor struct{ u *user }
type gqlPayload struct {
	kind             string
	clientMutationID any
	actor            *user
	pull             gqlPull
}

func (o gqlRoot) typeName() string {
	if o.mutation {
		return "Mutation"
	}
	return "Query"
}
func (gqlRepo) typeName() string      { return "Repository" }
func (gqlPull) typeName() string      { return "PullRequest" }
func (gqlAutoMerge) typeName() string { return "AutoMergeRequest" }
func (o gqlActor) typeName() string {
	switch o.u.kind() {
	case "Bot":
		return "Bot"
	case "Organization":
		return "Organization"
	}
	return "User"
}
func (o gqlPayload) typeName() string { return o.kind }

// gqlExec executes one validated operation.
type gqlExec struct {
	c      *call
	schema *ast.Schema
	vars   map[string]any
	errs   []gqlError
}

// errorAt records an error of field f at path.
func (x *gqlExec) errorAt(f *ast.Field, path ast.Path, typ, msg string) {
	e := gqlError{Type: typ, Path: path, Message: msg}
	if f.Position != nil {
		e.Locations = []gqlerror.Location{{Line: f.Position.Line, Column: f.Position.Column}}
	}
	x.errs = append(x.errs, e)
}

// applies reports whether a fragment on typeCondition applies to an object
// of type name.
func (x *gqlExec) applies(typeCondition, name string) bool {
	if typeCondition == "" || typeCondition == name {
		return true
	}
	def := x.schema.Types[typeCondition]
	if def == nil {
		return false
	}
	for _, t := range x.schema.GetPossibleTypes(def) {
		if t.Name == name {
			return true
		}
	}
	return false
}

// included applies @skip and @include.
func (x *gqlExec) included(dirs ast.DirectiveList) bool {
	if d := dirs.ForName("skip"); d != nil && d.ArgumentMap(x.vars)["if"] == true {
		return false
	}
	if d := dirs.ForName("include"); d != nil && d.ArgumentMap(x.vars)["if"] == false {
		return false
	}
	return true
}

// collect lists the fields a selection set selects on obj, through fragments.
func (x *gqlExec) collect(obj gqlObject, set ast.SelectionSet, out []*ast.Field) []*ast.Field {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if x.included(s.Directives) {
				out = append(out, s)
			}
		case *ast.InlineFragment:
			if x.included(s.Directives) && x.applies(s.TypeCondition, obj.typeName()) {
				out = x.collect(obj, s.SelectionSet, out)
			}
		case *ast.FragmentSpread:
			if x.included(s.Directives) && s.Definition != nil && x.applies(s.Definition.TypeCondition, obj.typeName()) {
				out = x.collect(obj, s.Definition.SelectionSet, out)
			}
		}
	}
	return out
}

// object resolves a selection set on obj.
func (x *gqlExec) object(obj gqlObject, set ast.SelectionSet, path ast.Path) map[string]any {
	out := map[string]any{}
	for _, f := range x.collect(obj, set, nil) {
		key := f.Alias
		if key == "" {
			key = f.Name
		}
		if _, done := out[key]; done {
			continue
		}
		fpath := append(append(ast.Path{}, path...), ast.PathName(key))
		if f.Name == "__typename" {
			out[key] = obj.typeName()
			continue
		}
		v, typ, msg := x.resolve(obj, f)
		if msg != "" {
			x.errorAt(f, fpath, typ, msg)
			out[key] = nil
			continue
		}
		if o, ok := v.(gqlObject); ok {
			out[key] = x.object(o, f.SelectionSet, fpath)
			continue
		}
		out[key] = v
	}
	return out
}

// resolve computes field f of obj: a scalar, a gqlObject, or nil; or an
// error type and message.
func (x *gqlExec) resolve(obj gqlObject, f *ast.Field) (v any, typ, msg string) {
	args := f.ArgumentMap(x.vars)
	s := x.c.s
	unsupported := func() (any, string, string) {
		return nil, "", fmt.Sprintf("The GitHub double does not serve %s.%s", obj.typeName(), f.Name)
	}
	switch o := obj.(type) {
	case gqlRoot:
		if o.mutation {
			return x.mutate(f.Name, args)
		}
		switch f.Name {
		case "viewer":
			return gqlActor{x.c.user}, "", ""
		case "repository":
			owner, _ := args["owner"].(string)
			name, _ := args["name"].(string)
			r := s.repos[strings.ToLower(owner+"/"+name)]
			if r == nil {
				return nil, "NOT_FOUND", fmt.Sprintf("Could not resolve to a Repository with the name '%s/%s'.", owner, name)
			}
			if err := s.syncPulls(r); err != nil {
				return nil, "INTERNAL", err.Error()
			}
			return gqlRepo{r}, "", ""
		case "node":
			id, _ := args["id"].(string)
			if n := s.nodeByID(id); n != nil {
				return n, "", ""
			}
			return nil, "NOT_FOUND", fmt.Sprintf("Could not resolve to a node with the global id of '%s'", id)
		}
	case gqlRepo:
		r := o.r
		switch f.Name {
		case "id":
			return nodeID("R", r.id), "", ""
		case "name":
			return r.spec.Name, "", ""
		case "nameWithOwner":
			return r.fullName(), "", ""
		case "url":
			return s.htmlURL(r.owner.Login, r.spec.Name), "", ""
		case "autoMergeAllowed":
			return r.spec.AllowAutoMerge, "", ""
		case "owner":
			return gqlActor{r.owner}, "", ""
		case "pullRequest":
			n := toInt(args["number"])
			if p := r.pull(n); p != nil {
				return gqlPull{r, p}, "", ""
			}
			return nil, "NOT_FOUND", fmt.Sprintf("Could not resolve to a PullRequest with the number of %d.", n)
		}
	case gqlPull:
		return x.pullField(o, f)
	case gqlAutoMerge:
		am := o.p.autoMerge
		switch f.Name {
		case "enabledAt":
			return am.enabledAt.UTC().Format("2006-01-02T15:04:05Z"), "", ""
		case "enabledBy":
			return gqlActor{am.by}, "", ""
		case "mergeMethod":
			return strings.ToUpper(am.method), "", ""
		case "commitHeadline":
			return strPtrOrNil(am.headline), "", ""
		case "commitBody":
			return strPtrOrNil(am.body), "", ""
		case "authorEmail":
			if am.authorEmail == "" {
				return nil, "", ""
			}
			return am.authorEmail, "", ""
		case "pullRequest":
			return gqlPull(o), "", ""
		}
	case gqlActor:
		switch f.Name {
		case "login":
			return o.u.Login, "", ""
		case "url":
			return s.htmlURL(o.u.Login), "", ""
		}
	case gqlPayload:
		switch f.Name {
		case "clientMutationId":
			return o.clientMutationID, "", ""
		case "actor":
			return gqlActor{o.actor}, "", ""
		case "pullRequest":
			return o.pull, "", ""
		}
	}
	return unsupported()
}

func strPtrOrNil(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func toInt(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case float64:
		return int(n)
	case json.Number:
		i, _ := n.Int64()
		return int(i)
	}
	return 0
}

// pullField resolves a field of a PullRequest.
func (x *gqlExec) pullField(o gqlPull, f *ast.Field) (any, string, string) {
	s, r, p := x.c.s, o.r, o.p
	pr, err := s.pullJSON(r, p, true)
	if err != nil {
		return nil, "INTERNAL", err.Error()
	}
	canChange := p.open() && r.spec.AllowAutoMerge
	switch f.Name {
	case "id":
		return pr.GetNodeID(), "", ""
	case "number":
		return p.number, "", ""
	case "title":
		return p.title, "", ""
	case "body":
		return p.body, "", ""
	case "url":
		return pr.GetHTMLURL(), "", ""
	case "state":
		switch {
		case p.merged:
			return "MERGED", "", ""
		case p.open():
			return "OPEN", "", ""
		}
		return "CLOSED", "", ""
	case "merged":
		return p.merged, "", ""
	case "closed":
		return !p.open(), "", ""
	case "isDraft":
		return p.draft, "", ""
	case "headRefName":
		return p.head, "", ""
	case "baseRefName":
		return p.base, "", ""
	case "headRefOid":
		return p.headSHA, "", ""
	case "baseRefOid":
		return p.baseSHA, "", ""
	case "mergeStateStatus":
		return strings.ToUpper(pr.GetMergeableState()), "", ""
	case "mergeable":
		switch {
		case pr.Mergeable == nil:
			return "UNKNOWN", "", ""
		case pr.GetMergeable():
			return "MERGEABLE", "", ""
		}
		return "CONFLICTING", "", ""
	case "autoMergeRequest":
		if p.autoMerge == nil {
			return nil, "", ""
		}
		return gqlAutoMerge(o), "", ""
	case "viewerCanEnableAutoMerge":
		return canChange && p.autoMerge == nil, "", ""
	case "viewerCanDisableAutoMerge":
		return canDisableAutoMerge(p), "", ""
	case "author":
		return gqlActor{p.user}, "", ""
	case "repository":
		return gqlRepo{r}, "", ""
	}
	return nil, "", fmt.Sprintf("The GitHub double does not serve PullRequest.%s", f.Name)
}

// nodeByID finds the object of a global node id: a pull request or a
// repository.
func (s *Server) nodeByID(id string) gqlObject {
	prefix, enc, ok := strings.Cut(id, "_")
	if !ok {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return nil
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return nil
	}
	for _, r := range s.repos {
		switch prefix {
		case "R":
			if r.id == n {
				return gqlRepo{r}
			}
		case "PR":
			for _, p := range r.pulls {
				if p.id == n {
					if err := s.syncPulls(r); err != nil {
						return nil
					}
					return gqlPull{r, p}
				}
			}
		}
	}
	return nil
}

// mutate runs a mutation field.
func (x *gqlExec) mutate(name string, args map[string]any) (any, string, string) {
	input, _ := args["input"].(map[string]any)
	s := x.c.s
	switch name {
	case "enablePullRequestAutoMerge", "disablePullRequestAutoMerge":
		id, _ := input["pullRequestId"].(string)
		node, ok := s.nodeByID(id).(gqlPull)
		if !ok {
			return nil, "NOT_FOUND", fmt.Sprintf("Could not resolve to a node with the global id of '%s'", id)
		}
		if !x.c.allows([]string{"pull_requests"}, "write") {
			return nil, "FORBIDDEN", x.c.notAccessible()
		}
		payload := gqlPayload{clientMutationID: input["clientMutationId"], actor: x.c.user, pull: node}
		if name == "disablePullRequestAutoMerge" {
			if !canDisableAutoMerge(node.p) {
				return nil, "UNPROCESSABLE", "Can't disable auto-merge for this pull request."
			}
			node.p.autoMerge = nil
			s.pullEvent(node.r, node.p, "auto_merge_disabled", x.c.user, object{"reason": "Auto-merge was disabled by the user"})
			payload.kind = "DisablePullRequestAutoMergePayload"
			return payload, "", ""
		}
		am := &autoMerge{by: x.c.user, method: graphQLMergeMethod(input["mergeMethod"])}
		if v, ok := input["commitHeadline"].(string); ok {
			am.headline = &v
		}
		if v, ok := input["commitBody"].(string); ok {
			am.body = &v
		}
		am.authorEmail, _ = input["authorEmail"].(string)
		expected, _ := input["expectedHeadOid"].(string)
		refusal, err := s.enableAutoMerge(node.r, node.p, am, expected)
		if err != nil {
			return nil, "INTERNAL", err.Error()
		}
		if refusal != "" {
			return nil, "UNPROCESSABLE", refusal
		}
		s.pullEvent(node.r, node.p, "auto_merge_enabled", x.c.user, nil)
		payload.kind = "EnablePullRequestAutoMergePayload"
		return payload, "", ""
	}
	return nil, "", fmt.Sprintf("The GitHub double does not serve the mutation %s", name)
}
