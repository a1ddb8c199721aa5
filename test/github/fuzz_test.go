package githubdouble_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// FuzzAPI sends arbitrary requests under a repository and checks that the
// double answers like GitHub would: never a server error, always JSON with a
// message when it refuses. (A server error also fails the test from inside
// the double.)
func FuzzAPI(f *testing.F) {
	var mu sync.Mutex
	var mismatches []string // responses GitHub's description does not allow, for the current input
	srv := githubdouble.NewServer(f, githubdouble.WithClock(fixedClock()), githubdouble.WithMismatchReport(func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		mismatches = append(mismatches, msg)
	}))
	repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"eng/Versions.props": versionsProps}})
	repo.Commit(githubdouble.CommitSpec{Branch: "darc", Files: map[string]string{"eng/Versions.props": "changed\n"}})
	main := repo.Branch("main")
	methods := []string{"GET", "POST", "PATCH", "PUT", "DELETE"}
	// Seeds: the request bodies go-github sends for the routes the product uses.
	for _, seed := range []struct {
		method byte
		path   string
		body   string
	}{
		{1, "pulls", `{"title":"[main] Update dependencies from dotnet/arcade","head":"darc","base":"main","body":"x"}`},
		{0, "pulls?state=all&head=dotnet:darc&base=main&per_page=100", ""},
		{0, "pulls/1", ""},
		{2, "pulls/1", `{"title":"t","body":"b","state":"closed","base":"main"}`},
		{3, "pulls/1/merge", `{"commit_message":"m","merge_method":"squash","sha":"` + main + `"}`},
		{0, "pulls/1/commits?page=2", ""},
		{1, "issues/1/comments", `{"body":"Skipping the update"}`},
		{1, "pulls/1/reviews", `{"event":"COMMENT","body":"x"}`},
		{0, "git/ref/heads/main", ""},
		{1, "git/refs", `{"ref":"refs/heads/darc-main-1","sha":"` + main + `"}`},
		{2, "git/refs/heads/darc", `{"sha":"` + main + `","force":true}`},
		{4, "git/refs/heads/darc", ""},
		{0, "commits/main/check-runs?filter=all", ""},
		{0, "commits/" + main + "/status", ""},
		{1, "statuses/" + main, `{"state":"success","context":"ci"}`},
		{1, "hooks", `{"name":"web","config":{"url":"http://127.0.0.1:9/hook","content_type":"json","secret":"s"},"events":["*"],"active":true}`},
		{0, "hooks", ""},
		{0, "hooks/1/deliveries?per_page=5&status=failure", ""},
		{1, "hooks/1/deliveries/1/attempts", ""},
		{1, "hooks", `{"config":{"url":5},"events":"push"}`},
		{2, "issues/comments/1", `{"body":"Auto-Merge Status"}`},
		{1, "issues/1/labels", `["auto-merge","area-infrastructure"]`},
		{3, "issues/1/labels", `{"labels":[{"name":"bug"}]}`},
		{4, "issues/1/labels/a%2Fb", ""},
		{1, "labels", `{"name":"bug","color":"d73a4a"}`},
		{3, "branches/main/protection", `{"required_status_checks":{"strict":true,"checks":[{"context":"build","app_id":-1}]},"enforce_admins":null,"required_pull_request_reviews":{"required_approving_review_count":1},"restrictions":null}`},
		{0, "branches/release%2F8.0/protection", ""},
		{1, "check-runs", `{"name":"Maestro auto-merge","head_sha":"` + main + `","status":"completed"}`},
		{2, "check-runs/1", `{"conclusion":"success","output":{"title":"t","summary":"s"}}`},
		{1, "pulls", `{"title":5}`},
		{1, "git/refs", `[`},
	} {
		f.Add(seed.method, seed.path, seed.body)
	}
	f.Fuzz(func(t *testing.T, method byte, path, body string) {
		u, err := url.Parse(srv.APIURL() + "repos/dotnet/runtime/" + path)
		if err != nil || u.Host != strings.TrimPrefix(srv.URL(), "http://") {
			return
		}
		u.RawQuery = u.Query().Encode() // a request line with raw spaces never reaches a server
		req, err := http.NewRequest(methods[int(method)%len(methods)], u.String(), strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "token "+githubdouble.DefaultToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		for _, m := range mismatches {
			t.Error(m)
		}
		mismatches = nil
		mu.Unlock()
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s %q: %d %s", req.Method, path, body, resp.StatusCode, raw)
		}
		if resp.StatusCode == http.StatusNoContent {
			return
		}
		var decoded any
		if err := json.Unmarshal(raw, &decoded); err != nil {
			t.Fatalf("%s %s: %d with a body that is not JSON: %q", req.Method, path, resp.StatusCode, raw)
		}
		if resp.StatusCode >= 400 {
			if m, ok := decoded.(map[string]any); !ok || m["message"] == "" || m["message"] == nil {
				t.Fatalf("%s %s: %d without a message: %s", req.Method, path, resp.StatusCode, raw)
			}
		}
	})
}

// FuzzGraphQL posts arbitrary documents and variables to the GraphQL
// endpoint: the double must answer 200 with JSON holding data or errors
// (or 400 for a body that is not JSON), never fail.
func FuzzGraphQL(f *testing.F) {
	srv := githubdouble.NewServer(f, githubdouble.WithClock(fixedClock()))
	srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", AllowAutoMerge: true, Files: map[string]string{"a": "a\n"}})
	for _, seed := range []struct{ query, vars string }{
		{pullQuery, `{"owner":"dotnet","name":"runtime","number":1}`},
		{enableMutation, `{"id":"PR_MTAwMQ","method":"SQUASH"}`},
		{disableMutation, `{"id":"R_MTAwMQ"}`},
		{`query { node(id: "PR_x") { __typename ... on PullRequest { number } } viewer { login } }`, `null`},
		{`query Q($n: Int!) { repository(owner: "dotnet", name: "runtime") { pullRequest(number: $n) { id @skip(if: true) } } }`, `{"n": "x"}`},
		{`{ repository(owner: "dotnet", name: "runtime") { ...F } } fragment F on Repository { nameWithOwner }`, `{}`},
		{`mutation { enablePullRequestAutoMerge(input: {pullRequestId: 5}) { clientMutationId } }`, `[]`},
		{`{`, ``},
	} {
		f.Add(seed.query, seed.vars)
	}
	f.Fuzz(func(t *testing.T, query, vars string) {
		var v any
		if json.Unmarshal([]byte(vars), &v) != nil {
			v = nil
		}
		body, err := json.Marshal(map[string]any{"query": query, "variables": v})
		if err != nil {
			return
		}
		req, err := http.NewRequest("POST", srv.URL()+"/graphql", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "bearer "+githubdouble.DefaultToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		var answer map[string]any
		if err := json.Unmarshal(raw, &answer); err != nil {
			t.Fatalf("%q: %d with a body that is not a JSON object: %q", query, resp.StatusCode, raw)
		}
		switch resp.StatusCode {
		case http.StatusOK:
			if answer["data"] == nil && answer["errors"] == nil {
				t.Fatalf("%q: neither data nor errors: %s", query, raw)
			}
		case http.StatusBadRequest:
			if answer["message"] == nil {
				t.Fatalf("%q: 400 without a message: %s", query, raw)
			}
		default:
			t.Fatalf("%q: status %d: %s", query, resp.StatusCode, raw)
		}
	})
}
