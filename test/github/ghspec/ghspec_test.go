package ghspec_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/test/github/ghspec"
)

func load(t *testing.T, path string) *ghspec.Document {
	t.Helper()
	d, err := ghspec.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// wantIssue fails unless err is a *ghspec.Error with an issue at pointer
// whose message contains text ("" for a valid body).
func wantIssue(t *testing.T, err error, pointer, text string) {
	t.Helper()
	if pointer == "" && text == "" {
		if err != nil {
			t.Fatalf("want valid, got %v", err)
		}
		return
	}
	var se *ghspec.Error
	if !errors.As(err, &se) {
		t.Fatalf("want a *ghspec.Error at %q (%s), got %v", pointer, text, err)
	}
	for _, is := range se.Issues {
		if is.Pointer == pointer && strings.Contains(is.Message, text) {
			if !strings.Contains(err.Error(), displayed(pointer)+": ") {
				t.Fatalf("message does not name the pointer %q: %v", pointer, err)
			}
			return
		}
	}
	t.Fatalf("want an issue at %q containing %q, got %v", pointer, text, err)
}

func displayed(pointer string) string {
	if pointer == "" {
		return "(body)"
	}
	return pointer
}

// TestRESTResponses validates responses against GitHub's REST description:
// the status schema of POST /repos/{owner}/{repo}/statuses/{sha} (201) has
// required nullable strings and a nullable $ref (creator).
func TestRESTResponses(t *testing.T) {
	doc := ghspec.REST(t)
	op, err := doc.Operation("POST", "/repos/{owner}/{repo}/statuses/{sha}")
	if err != nil {
		t.Fatal(err)
	}
	const user = `{"login":"octocat","id":1,"node_id":"MDQ6VXNlcjE=","avatar_url":"https://github.com/images/error/octocat_happy.gif",
		"gravatar_id":"","url":"https://api.github.com/users/octocat","html_url":"https://github.com/octocat",
		"followers_url":"https://api.github.com/users/octocat/followers","following_url":"https://api.github.com/users/octocat/following{/other_user}",
		"gists_url":"https://api.github.com/users/octocat/gists{/gist_id}","starred_url":"https://api.github.com/users/octocat/starred{/owner}{/repo}",
		"subscriptions_url":"https://api.github.com/users/octocat/subscriptions","organizations_url":"https://api.github.com/users/octocat/orgs",
		"repos_url":"https://api.github.com/users/octocat/repos","events_url":"https://api.github.com/users/octocat/events{/privacy}",
		"received_events_url":"https://api.github.com/users/octocat/received_events","type":"User","site_admin":false}`
	status := func(description, creator string) string {
		return `{"url":"https://api.github.com/repos/o/r/statuses/6dcb09b5b57875f334f61aebed695e2e4193db5e","avatar_url":null,
			"id":1,"node_id":"MDY6U3RhdHVzMQ==","state":"success","description":` + description + `,"target_url":null,
			"context":"ci","created_at":"2012-07-20T01:19:13Z","updated_at":"2012-07-20T01:19:13Z","creator":` + creator + `}`
	}
	for _, tc := range []struct {
		name, body    string
		pointer, text string
	}{
		{"valid", status(`"ok"`, user), "", ""},
		{"nullable string and nullable $ref may be null", status(`null`, `null`), "", ""},
		{"missing required field", strings.Replace(status(`"ok"`, user), `"context":"ci",`, "", 1), "", "'context'"},
		{"wrong type", strings.Replace(status(`"ok"`, user), `"id":1,`, `"id":"1",`, 1), "/id", "want integer"},
		{"null where not nullable", strings.Replace(status(`"ok"`, user), `"state":"success"`, `"state":null`, 1), "/state", "got null, want string"},
		{"nested: wrong type inside a nullable $ref", status(`"ok"`, strings.Replace(user, `"site_admin":false`, `"site_admin":"no"`, 1)), "/creator/site_admin", "want boolean"},
		{"nested: missing required field inside a $ref", status(`"ok"`, strings.Replace(user, `"login":"octocat",`, "", 1)), "/creator", "'login'"},
		{"format uri", status(`"ok"`, strings.Replace(user, `"https://github.com/octocat"`, `"not a uri"`, 1)), "/creator/html_url", "uri"},
		{"not JSON", `{"id":`, "", "not JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantIssue(t, op.CheckResponse(201, nil, []byte(tc.body)), tc.pointer, tc.text)
		})
	}
	t.Run("unlisted status", func(t *testing.T) {
		err := op.CheckResponse(200, nil, []byte(status(`"ok"`, user)))
		if !errors.Is(err, ghspec.ErrUnlistedStatus) || !strings.Contains(err.Error(), "[201]") {
			t.Fatalf("want ErrUnlistedStatus naming the listed codes, got %v", err)
		}
	})
	t.Run("content type", func(t *testing.T) {
		h := http.Header{"Content-Type": {"text/html"}}
		wantIssue(t, op.CheckResponse(201, h, []byte(status(`"ok"`, user))), "", "Content-Type")
	})
}

// TestRESTRequests validates request bodies against the requestBody schema
// of POST /repos/{owner}/{repo}/statuses/{sha}.
func TestRESTRequests(t *testing.T) {
	op, err := ghspec.REST(t).Operation("POST", "/repos/{o}/{r}/statuses/{sha}")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, body    string
		pointer, text string
	}{
		{"valid", `{"state":"success","context":"ci","description":"done","target_url":"https://ci.example/1"}`, "", ""},
		{"nullable fields may be null", `{"state":"pending","description":null,"target_url":null}`, "", ""},
		{"undeclared properties pass, as GitHub ignores them", `{"state":"error","extra":1}`, "", ""},
		{"missing required field", `{"context":"ci"}`, "", "'state'"},
		{"wrong type", `{"state":"success","context":7}`, "/context", "want string"},
		{"null where not nullable", `{"state":"success","context":null}`, "/context", "got null, want string"},
		{"enum", `{"state":"green"}`, "/state", "must be one of"},
		{"required body", ``, "", "required"},
		{"null is no body", `null`, "", "required"},
		{"not an object", `[]`, "", "want object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantIssue(t, op.CheckRequest([]byte(tc.body)), tc.pointer, tc.text)
		})
	}
}

func TestOperationAndMatch(t *testing.T) {
	doc := ghspec.REST(t)
	for _, tc := range []struct {
		method, route, want string
	}{
		{"GET", "/repos/{owner}/{repo}/pulls/{number}", "pulls/get"},
		{"get", "/repos/{o}/{r}/git/refs/{ref...}", ""}, // no GET /git/refs/{ref} on api.github.com
		{"PUT", "/repos/{owner}/{repo}/pulls/{n}/merge", "pulls/merge"},
		{"DELETE", "/repos/{owner}/{repo}/git/refs/{ref...}", "git/delete-ref"},
	} {
		op, err := doc.Operation(tc.method, tc.route)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("Operation(%s %s) = %s, want none", tc.method, tc.route, op.ID)
		case tc.want != "" && (err != nil || op.ID != tc.want):
			t.Errorf("Operation(%s %s) = %v, %v; want %s", tc.method, tc.route, op, err, tc.want)
		}
	}
	for _, tc := range []struct {
		method, path, want string
	}{
		{"GET", "/repos/o/r/git/ref/heads/release/1.0", "git/get-ref"},
		{"GET", "/repos/o/r/commits/abc/check-runs", "checks/list-for-ref"},
		{"GET", "/repos/o/r/commits/heads/main/status", "repos/get-combined-status-for-ref"},
		{"GET", "/user", "users/get-authenticated"},
		{"GET", "/repos/o/r/pulls/7", "pulls/get"},
		{"POST", "/repos/o/r/pulls/7", ""},
	} {
		op, err := doc.Match(tc.method, tc.path)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("Match(%s %s) = %s, want none", tc.method, tc.path, op.ID)
		case tc.want != "" && (err != nil || op.ID != tc.want):
			t.Errorf("Match(%s %s) = %v, %v; want %s", tc.method, tc.path, op, err, tc.want)
		}
	}
}

// TestNullableRewrite checks the OpenAPI 3.0 `nullable` rewrite on every
// form GitHub's REST description uses: a typed schema, an enum, allOf/$ref,
// oneOf and a schema without a type; plus $ref'd responses, responses
// without content and literal-first matching.
func TestNullableRewrite(t *testing.T) {
	doc := load(t, "testdata/nullable-3.0.json")
	op, err := doc.Operation("GET", "/things/{id}")
	if err != nil {
		t.Fatal(err)
	}
	const valid = `{"name":"a","color":"red","owner":{"login":"o"},"either":1,"label":{},"at":"2024-01-02T03:04:05Z"}`
	const nulls = `{"name":"a","color":null,"owner":null,"either":null,"label":null,"at":"2024-01-02T03:04:05Z"}`
	for _, tc := range []struct {
		name, body    string
		pointer, text string
	}{
		{"valid", valid, "", ""},
		{"nullable fields null", nulls, "", ""},
		{"null where not nullable", strings.Replace(valid, `"name":"a"`, `"name":null`, 1), "/name", "got null, want string"},
		{"enum still applies", strings.Replace(valid, `"red"`, `"green"`, 1), "/color", "must be one of"},
		{"nullable allOf still checks the object", strings.Replace(valid, `{"login":"o"}`, `{}`, 1), "/owner", "'login'"},
		{"nullable oneOf still checks the branches", strings.Replace(valid, `"either":1`, `"either":true`, 1), "/either", "want string"},
		{"date-time format", strings.Replace(valid, `2024-01-02T03:04:05Z`, `yesterday`, 1), "/at", "date-time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantIssue(t, op.CheckResponse(200, nil, []byte(tc.body)), tc.pointer, tc.text)
		})
	}
	t.Run("response by $ref", func(t *testing.T) {
		wantIssue(t, op.CheckResponse(404, nil, []byte(`{"message":"Not Found"}`)), "", "")
		wantIssue(t, op.CheckResponse(404, nil, []byte(`{}`)), "", "'message'")
	})
	t.Run("no content", func(t *testing.T) {
		wantIssue(t, op.CheckResponse(204, nil, nil), "", "")
		wantIssue(t, op.CheckResponse(204, nil, []byte(`{}`)), "", "lists no content")
	})
	t.Run("error status without content may carry GitHub's basic-error", func(t *testing.T) {
		op, err := ghspec.REST(t).Operation("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/merge")
		if err != nil {
			t.Fatal(err)
		}
		wantIssue(t, op.CheckResponse(404, nil, []byte(`{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)), "", "")
		wantIssue(t, op.CheckResponse(404, nil, []byte(`{"message":404}`)), "/message", "want string")
		wantIssue(t, op.CheckResponse(204, nil, []byte(`{"message":"x"}`)), "", "lists no content")
	})
	t.Run("literal segments first", func(t *testing.T) {
		for path, want := range map[string]string{"/things/1/parts/special": "things/get-special", "/things/1/parts/2": "things/get-part"} {
			if op, err := doc.Match("GET", path); err != nil || op.ID != want {
				t.Errorf("Match(%s) = %v, %v; want %s", path, op, err, want)
			}
		}
	})
}

// TestOpenAPI31 checks a 3.1 document (the webhooks description's version)
// by schema pointer, with its JSON Schema read as written.
func TestOpenAPI31(t *testing.T) {
	doc := load(t, "testdata/plain-3.1.json")
	const ptr = "#/webhooks/ping/post/requestBody/content/application~1json/schema"
	wantIssue(t, doc.Check(ptr, []byte(`{"zen":"Keep it simple.","hook_id":1,"hook":null}`)), "", "")
	wantIssue(t, doc.Check(ptr, []byte(`{"zen":"Keep it simple.","hook_id":null}`)), "/hook_id", "want integer")
	wantIssue(t, doc.Check(ptr, []byte(`{"hook_id":1}`)), "", "'zen'")
}

func TestWebhooksDescriptionLoads(t *testing.T) {
	doc := ghspec.Webhooks(t)
	err := doc.Check("#/webhooks/check-run-completed/post/requestBody/content/application~1json/schema", []byte(`{"action":"completed"}`))
	wantIssue(t, err, "", "'check_run'")
}

func TestLoadErrors(t *testing.T) {
	for _, path := range []string{"testdata/missing.json", "ghspec.go"} {
		if _, err := ghspec.Load(path); err == nil {
			t.Errorf("Load(%s) succeeded", path)
		}
	}
}

func BenchmarkLoadREST(b *testing.B) {
	for b.Loop() {
		if _, err := ghspec.Load("../../node_modules/@octokit/openapi/generated/api.github.com.json"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadWebhooks(b *testing.B) {
	for b.Loop() {
		if _, err := ghspec.Load("../../node_modules/@octokit/openapi-webhooks/generated/api.github.com.json"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestURITemplateFormat: GitHub's URL templates, with RFC 6570 path-segment
// expansions ({/number}), are valid uri-templates; unbalanced braces are not.
func TestURITemplateFormat(t *testing.T) {
	doc := load(t, "testdata/formats-3.1.json")
	const ptr = "#/components/schemas/template"
	for _, tc := range []struct{ value, text string }{
		{"https://api.github.com/repos/o/r/pulls{/number}", ""},
		{"https://api.github.com/repos/o/r/{archive_format}{/ref}", ""},
		{"https://api.github.com/users/o/starred{/owner}{/repo}", ""},
		{"https://api.github.com/notifications{?since,all,participating}", ""},
		{"https://api.github.com/repos/o/r/pulls{/number", "no matching closing brace"},
		{"https://api.github.com/repos/o/r/pulls/number}", "closing brace without an opening one"},
		{"https://api.github.com/repos/{o{r}}", "nested curly braces"},
	} {
		t.Run(tc.value, func(t *testing.T) {
			if tc.text == "" {
				wantIssue(t, doc.Check(ptr, []byte(`"`+tc.value+`"`)), "", "")
				return
			}
			wantIssue(t, doc.Check(ptr, []byte(`"`+tc.value+`"`)), "", tc.text)
		})
	}
}

// TestCheckWebhook finds a webhook's schema by event and action.
func TestCheckWebhook(t *testing.T) {
	for _, tc := range []struct{ event, action, want string }{
		{"push", "", "#/webhooks/push/post/requestBody/content/application~1json/schema"},
		{"pull_request", "opened", "#/webhooks/pull-request-opened/post/requestBody/content/application~1json/schema"},
		{"pull_request", "auto_merge_enabled", "#/webhooks/pull-request-auto-merge-enabled/post/requestBody/content/application~1json/schema"},
	} {
		if got := ghspec.WebhookPointer(tc.event, tc.action); got != tc.want {
			t.Errorf("WebhookPointer(%q, %q) = %q, want %q", tc.event, tc.action, got, tc.want)
		}
	}
	doc := load(t, "testdata/plain-3.1.json")
	wantIssue(t, doc.CheckWebhook("ping", "", []byte(`{"zen":"z","hook_id":1}`)), "", "")
	wantIssue(t, doc.CheckWebhook("ping", "", []byte(`{"zen":"z"}`)), "", "'hook_id'")
	if err := doc.CheckWebhook("ping", "created", []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "ping-created") {
		t.Errorf("an action the description does not have: %v", err)
	}
}
