package githubdouble_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	githubdouble "github.com/maestroplusplus/maestro/test/github"
	"github.com/maestroplusplus/maestro/test/github/ghspec"
)

// TestResponseCheck holds the check the server makes of every response it
// sends to responses it must refuse and allow: the double never sends the
// refused ones, so this is where the check is seen failing.
func TestResponseCheck(t *testing.T) {
	doc := ghspec.REST(t)
	json := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	const pulls = "GET /repos/{owner}/{repo}/pulls/{number}"
	for _, tc := range []struct {
		name, method, path, pattern string
		status                      int
		body                        string
		strict                      bool
		want                        string // in the error; "" for none
	}{
		{"missing required property", "GET", "/repos/o/r/pulls/1", pulls, 200, `{"id":1}`, false, "missing properties"},
		{"unlisted status", "GET", "/repos/o/r/pulls/1", pulls, 418, `{"message":"I'm a teapot"}`, false, "status code not listed"},
		{"allowed status, not basic-error", "GET", "/repos/o/r/pulls/1", pulls, 401, `["Bad credentials"]`, false, "want object"},
		{"allowed status", "GET", "/repos/o/r/pulls/1", pulls, 401, `{"message":"Bad credentials"}`, false, ""},
		{"listed status", "GET", "/repos/o/r/pulls/1", pulls, 404, `{"message":"Not Found"}`, true, ""},
		{"unserved route, not basic-error", "GET", "/repos/o/r/branches", "", 404, `[]`, false, "want object"},
		{"unserved route", "GET", "/repos/o/r/branches", "", 404, `{"message":"Not Found"}`, false, ""},
		{"invalid request allowed", "POST", "/repos/o/r/labels", "POST /repos/{owner}/{repo}/labels", 422,
			`{"message":"Invalid request.\n\nFor 'properties/name', 5 is not a string.","documentation_url":"https://docs.github.com/rest/issues/labels#create-a-label"}`, true, ""},
		{"invalid request where no 422 is listed", "POST", "/repos/o/r/statuses/abc", "POST /repos/{owner}/{repo}/statuses/{sha}", 422,
			`{"message":"Invalid request.\n\n\"state\" wasn't supplied."}`, false, ""},
		{"a status neither listed nor allowed", "DELETE", "/repos/o/r/git/refs/heads/x", "DELETE /repos/{owner}/{repo}/git/refs/{ref...}", 405, `{"message":"x"}`, false, "not listed"},
		{"a subpath the description does not have", "PUT", "/repos/o/r/branches/main/x", "PUT /repos/{owner}/{repo}/branches/{rest...}", 404, `{"message":"Not Found"}`, false, ""},
		{"undocumented route, bad body", "GET", "/repos/o/r/git/refs/heads/main", "GET /repos/{owner}/{repo}/git/refs/{ref...}", 200, `{"ref":"refs/heads/main"}`, false, "missing properties"},
		{"GraphQL is not REST", "POST", "/graphql", "POST /graphql", 200, `{"data":null}`, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := githubdouble.CheckResponse(doc, tc.method, tc.path, tc.pattern, tc.status, json, []byte(tc.body))
			switch {
			case tc.want == "" && v.Err != nil:
				t.Fatalf("refused: %v", v.Err)
			case tc.want != "" && (v.Err == nil || !strings.Contains(v.Err.Error(), tc.want)):
				t.Fatalf("got %v, want an error with %q", v.Err, tc.want)
			case v.Strict != tc.strict:
				t.Fatalf("strict %v, want %v", v.Strict, tc.strict)
			}
		})
	}
}

// TestRequestCheck holds the route wrapper's request check to GitHub's
// wording of schema errors, and to the request forms GitHub's pages name
// beside the schema.
func TestRequestCheck(t *testing.T) {
	doc := ghspec.REST(t)
	for _, tc := range []struct {
		name, method, path, body, want string
	}{
		{"valid", "POST", "/repos/o/r/pulls", `{"head":"a","base":"main","title":"t"}`, ""},
		{"missing", "POST", "/repos/o/r/pulls", `{"title":"t"}`, `"base" and "head" weren't supplied.`},
		{"no body", "POST", "/repos/o/r/issues/1/comments", ``, `"body" wasn't supplied.`},
		{"null for a required body", "POST", "/repos/o/r/issues/1/comments", `null`, `For 'links/0/schema', nil is not an object.`},
		{"null for an optional body", "PUT", "/repos/o/r/pulls/1/merge", `null`, ""},
		{"not an object", "POST", "/repos/o/r/pulls", `[1,2]`, `For 'links/0/schema', [1,2] is not an object.`},
		{"type", "POST", "/repos/o/r/pulls", `{"head":"a","base":"main","title":5}`, `For 'properties/title', 5 is not a string.`},
		{"nullable type", "PUT", "/repos/o/r/branches/main/protection", `{"required_status_checks":"build","enforce_admins":null,"required_pull_request_reviews":null,"restrictions":null}`,
			`For 'properties/required_status_checks', "build" is not an object.`},
		{"enum", "PATCH", "/repos/o/r/pulls/1", `{"state":"merged"}`, `For 'properties/state', "merged" is not one of ["open", "closed"].`},
		{"date-time", "PATCH", "/repos/o/r/check-runs/1", `{"started_at":"yesterday"}`, `For 'properties/started_at', "yesterday" is not a date-time.`},
		{"a URL format is not asserted", "POST", "/repos/o/r/hooks", `{"config":{"url":"not a url"}}`, ""},
		{"labels as a bare array", "POST", "/repos/o/r/issues/1/labels", `["bug"]`, ""},
		{"labels as a bare array of numbers", "POST", "/repos/o/r/issues/1/labels", `[5]`, "is not"},
		{"protection checks without contexts", "PUT", "/repos/o/r/branches/main/protection",
			`{"required_status_checks":{"strict":true,"checks":[{"context":"build"}]},"enforce_admins":null,"required_pull_request_reviews":null,"restrictions":null}`, ""},
		{"protection without checks or contexts", "PUT", "/repos/o/r/branches/main/protection",
			`{"required_status_checks":{"strict":true},"enforce_admins":null,"required_pull_request_reviews":null,"restrictions":null}`, `"contexts" wasn't supplied.`},
		{"not JSON is the handler's", "POST", "/repos/o/r/pulls", `{`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := githubdouble.RequestProblem(doc, tc.method, tc.path, []byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// BenchmarkExchangeCheck times what the double's checks add to one
// exchange: a pull request edit's body against its requestBody schema, and
// the pull request it answers with (the largest object the double renders)
// against the response schema.
func BenchmarkExchangeCheck(b *testing.B) {
	doc := ghspec.REST(b)
	srv := githubdouble.NewServer(b)
	repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"a.txt": "a\n"}})
	repo.Commit(githubdouble.CommitSpec{Branch: "topic", Files: map[string]string{"b.txt": "b\n"}})
	client := srv.Client(githubdouble.DefaultToken)
	if _, _, err := client.PullRequests.Create(b.Context(), "dotnet", "runtime", &github.NewPullRequest{Title: github.String("t"), Head: github.String("topic"), Base: github.String("main")}); err != nil {
		b.Fatal(err)
	}
	req, err := http.NewRequestWithContext(b.Context(), "GET", srv.APIURL()+"repos/dotnet/runtime/pulls/1", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+githubdouble.DefaultToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	pull, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
	edit := []byte(`{"title":"[main] Update dependencies from dotnet/arcade","body":"This pull request updates the following dependencies","state":"open","base":"main"}`)
	b.Run("request", func(b *testing.B) {
		for b.Loop() {
			if problem, err := githubdouble.RequestProblem(doc, "PATCH", "/repos/dotnet/runtime/pulls/1", edit); problem != "" || err != nil {
				b.Fatal(problem, err)
			}
		}
	})
	b.Run("response", func(b *testing.B) {
		for b.Loop() {
			if v := githubdouble.CheckResponse(doc, "GET", "/repos/dotnet/runtime/pulls/1", "GET /repos/{owner}/{repo}/pulls/{number}", 200, resp.Header, pull); v.Err != nil {
				b.Fatal(v.Err)
			}
		}
	})
}
