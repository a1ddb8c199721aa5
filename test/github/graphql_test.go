package githubdouble_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// gqlResult is a GraphQL answer.
type gqlResult struct {
	Data   map[string]any   `json:"data"`
	Errors []map[string]any `json:"errors"`
}

// graphql posts a query with variables to endpoint (a path under the
// server's root) as token and decodes the answer, which must be 200.
func graphql(t *testing.T, srv *githubdouble.Server, endpoint, token, query string, vars map[string]any) gqlResult {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), "POST", srv.URL()+endpoint, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: status %d", endpoint, resp.StatusCode)
	}
	var out gqlResult
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// dig walks a decoded JSON value by keys.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

const (
	pullQuery = `query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      id number state mergeStateStatus viewerCanEnableAutoMerge
      autoMergeRequest { enabledAt mergeMethod commitHeadline enabledBy { login __typename } }
    }
  }
}`
	enableMutation = `mutation($id: ID!, $method: PullRequestMergeMethod, $headline: String) {
  enablePullRequestAutoMerge(input: {pullRequestId: $id, mergeMethod: $method, commitHeadline: $headline, clientMutationId: "m1"}) {
    clientMutationId
    actor { login }
    pullRequest { number autoMergeRequest { mergeMethod } }
  }
}`
	disableMutation = `mutation($id: ID!) {
  disablePullRequestAutoMerge(input: {pullRequestId: $id}) { pullRequest { autoMergeRequest { mergeMethod } } }
}`
)

// autoMergeFixture is a repository that allows auto-merge, with main
// requiring the check "build", and an open pull request #1.
func autoMergeFixture(t *testing.T) (*fixture, string) {
	t.Helper()
	f := newFixture(t, githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", AllowAutoMerge: true,
		Files: map[string]string{"README.md": "# runtime\n", "eng/Versions.props": versionsProps}})
	f.openPR(t, "darc-main-1")
	f.protect(t, &github.ProtectionRequest{RequiredStatusChecks: requireChecks(false, "build")})
	res := graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, pullQuery, map[string]any{"owner": "dotnet", "name": "runtime", "number": 1})
	if len(res.Errors) > 0 {
		t.Fatalf("query: %v", res.Errors)
	}
	pr := dig(res.Data, "repository", "pullRequest")
	if dig(pr, "number") != 1.0 || dig(pr, "state") != "OPEN" || dig(pr, "mergeStateStatus") != "BLOCKED" ||
		dig(pr, "viewerCanEnableAutoMerge") != true || dig(pr, "autoMergeRequest") != nil {
		t.Fatalf("pull request %v", pr)
	}
	id, _ := dig(pr, "id").(string)
	if id != f.repo.PullRequest(1).GetNodeID() {
		t.Fatalf("GraphQL id %q, REST node_id %q", id, f.repo.PullRequest(1).GetNodeID())
	}
	return f, id
}

func TestAutoMergeMergesWhenChecksPass(t *testing.T) {
	f, id := autoMergeFixture(t)
	f.srv.AddInstallationToken("ci", "ghs_ci")
	// GitHub Enterprise Server's endpoint answers too.
	res := graphql(t, f.srv, "/api/graphql", githubdouble.DefaultToken, enableMutation,
		map[string]any{"id": id, "method": "SQUASH", "headline": "Update dependencies (#1)"})
	if len(res.Errors) > 0 {
		t.Fatalf("enable: %v", res.Errors)
	}
	payload := dig(res.Data, "enablePullRequestAutoMerge")
	if dig(payload, "clientMutationId") != "m1" || dig(payload, "actor", "login") != githubdouble.DefaultLogin ||
		dig(payload, "pullRequest", "autoMergeRequest", "mergeMethod") != "SQUASH" {
		t.Fatalf("payload %v", payload)
	}
	pr, _, err := f.client.PullRequests.Get(t.Context(), "dotnet", "runtime", 1)
	if err != nil {
		t.Fatal(err)
	}
	if am := pr.GetAutoMerge(); am == nil || am.GetMergeMethod() != "squash" || am.GetEnabledBy().GetLogin() != githubdouble.DefaultLogin ||
		am.GetCommitTitle() != "Update dependencies (#1)" || pr.GetMerged() {
		t.Fatalf("REST auto_merge %s, merged %v", github.Stringify(pr.GetAutoMerge()), pr.GetMerged())
	}
	// A failing check keeps it waiting.
	ci := f.srv.Client("ghs_ci")
	run, _, err := ci.Checks.CreateCheckRun(t.Context(), "dotnet", "runtime", github.CreateCheckRunOptions{
		Name: "build", HeadSHA: pr.GetHead().GetSHA(), Conclusion: github.String("failure")})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.repo.PullRequest(1); got.GetMerged() || got.GetAutoMerge() == nil {
		t.Fatal("merged while the required check fails")
	}
	// The check turning green merges it, as the user who enabled auto-merge.
	if _, _, err := ci.Checks.UpdateCheckRun(t.Context(), "dotnet", "runtime", run.GetID(), github.UpdateCheckRunOptions{
		Name: "build", Conclusion: github.String("success")}); err != nil {
		t.Fatal(err)
	}
	got := f.repo.PullRequest(1)
	if !got.GetMerged() || got.GetMergedBy().GetLogin() != githubdouble.DefaultLogin || got.GetAutoMerge() != nil {
		t.Fatalf("after green: merged %v by %q, auto_merge %v", got.GetMerged(), got.GetMergedBy().GetLogin(), got.GetAutoMerge())
	}
	if msg := git(t, f.repo.Dir(), "log", "-1", "--format=%s%n%P", "main"); !strings.HasPrefix(msg, "Update dependencies (#1)\n") || strings.Contains(strings.TrimPrefix(msg, "Update dependencies (#1)\n"), " ") {
		t.Fatalf("main's tip is %q, want the squash commit with the headline", msg)
	}
}

func TestAutoMergeOffAndRefusals(t *testing.T) {
	f, id := autoMergeFixture(t)
	res := graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, enableMutation, map[string]any{"id": id})
	if len(res.Errors) > 0 || dig(res.Data, "enablePullRequestAutoMerge", "pullRequest", "autoMergeRequest", "mergeMethod") != "MERGE" {
		t.Fatalf("enable with the default method: %v %v", res.Data, res.Errors)
	}
	// REST shows the commit title and message GitHub will use by default.
	if am := f.repo.PullRequest(1).GetAutoMerge(); am.GetMergeMethod() != "merge" ||
		am.GetCommitTitle() != "Merge pull request #1 from dotnet/darc-main-1" || am.GetCommitMessage() != "[main] Update dependencies from dotnet/arcade" {
		t.Fatalf("auto_merge %s", github.Stringify(am))
	}
	res = graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, disableMutation, map[string]any{"id": id})
	if len(res.Errors) > 0 || dig(res.Data, "disablePullRequestAutoMerge", "pullRequest", "autoMergeRequest") != nil {
		t.Fatalf("disable: %v %v", res.Data, res.Errors)
	}
	f.repo.AddCheckRun(github.CheckRun{Name: github.String("build"), HeadSHA: github.String(f.repo.PullRequest(1).GetHead().GetSHA()), Conclusion: github.String("success")})
	if got := f.repo.PullRequest(1); got.GetMerged() || got.GetAutoMerge() != nil {
		t.Fatal("merged with auto-merge off")
	}

	// Now the pull request is clean: GitHub refuses auto-merge then.
	wantGQLError(t, graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, enableMutation, map[string]any{"id": id}),
		"UNPROCESSABLE", "Pull request Pull request is in clean status", "enablePullRequestAutoMerge")
	wantGQLError(t, graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, enableMutation, map[string]any{"id": "PR_bm9wZQ"}),
		"NOT_FOUND", "Could not resolve to a node with the global id of 'PR_bm9wZQ'", "enablePullRequestAutoMerge")

	// A repository that does not allow the method.
	h := newFixture(t, githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", AllowAutoMerge: true, DisallowSquashMerge: true,
		Files: map[string]string{"README.md": "# runtime\n", "eng/Versions.props": versionsProps}})
	h.openPR(t, "darc-main-1")
	h.protect(t, &github.ProtectionRequest{RequiredStatusChecks: requireChecks(false, "build")})
	wantGQLError(t, graphql(t, h.srv, "/graphql", githubdouble.DefaultToken, enableMutation, map[string]any{"id": h.repo.PullRequest(1).GetNodeID(), "method": "SQUASH"}),
		"UNPROCESSABLE", "Squash merges are not allowed on this repository.", "enablePullRequestAutoMerge")

	// A repository that does not allow auto-merge.
	g := newFixture(t)
	g.openPR(t, "darc-main-1")
	g.protect(t, &github.ProtectionRequest{RequiredStatusChecks: requireChecks(false, "build")})
	wantGQLError(t, graphql(t, g.srv, "/graphql", githubdouble.DefaultToken, enableMutation, map[string]any{"id": g.repo.PullRequest(1).GetNodeID()}),
		"UNPROCESSABLE", "Auto merge is not allowed for this repository", "enablePullRequestAutoMerge")
}

func TestClosingDisablesAutoMerge(t *testing.T) {
	f, id := autoMergeFixture(t)
	if res := graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, enableMutation, map[string]any{"id": id}); len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	if _, _, err := f.client.PullRequests.Edit(t.Context(), "dotnet", "runtime", 1, &github.PullRequest{State: github.String("closed")}); err != nil {
		t.Fatal(err)
	}
	if f.repo.PullRequest(1).GetAutoMerge() != nil {
		t.Fatal("auto-merge still on after closing")
	}
}

// TestDisableAutoMergeRefusals: disablePullRequestAutoMerge turns auto-merge
// off only where it is on, on an open pull request that is not a draft
// (viewerCanDisableAutoMerge says so beforehand); elsewhere GitHub answers
// UNPROCESSABLE "Can't disable auto-merge for this pull request." — for a
// pull request whose auto-merge is off (never enabled, or disabled
// already), closed, or a draft — and nothing changes.
func TestDisableAutoMergeRefusals(t *testing.T) {
	const refusal = "Can't disable auto-merge for this pull request."
	canDisable := func(t *testing.T, f *fixture, number int) any {
		t.Helper()
		res := graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, `query($n: Int!) { repository(owner: "dotnet", name: "runtime") { pullRequest(number: $n) { viewerCanDisableAutoMerge } } }`,
			map[string]any{"n": number})
		if len(res.Errors) > 0 {
			t.Fatal(res.Errors)
		}
		return dig(res.Data, "repository", "pullRequest", "viewerCanDisableAutoMerge")
	}
	t.Run("never enabled, then disabled twice", func(t *testing.T) {
		f, id := autoMergeFixture(t)
		if canDisable(t, f, 1) != false {
			t.Fatal("viewerCanDisableAutoMerge while auto-merge is off")
		}
		wantGQLError(t, graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, disableMutation, map[string]any{"id": id}),
			"UNPROCESSABLE", refusal, "disablePullRequestAutoMerge")
		if res := graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, enableMutation, map[string]any{"id": id, "method": "SQUASH"}); len(res.Errors) > 0 {
			t.Fatal(res.Errors)
		}
		if canDisable(t, f, 1) != true {
			t.Fatal("viewerCanDisableAutoMerge false while auto-merge is on")
		}
		res := graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, disableMutation, map[string]any{"id": id})
		if len(res.Errors) > 0 || dig(res.Data, "disablePullRequestAutoMerge", "pullRequest", "autoMergeRequest") != nil {
			t.Fatalf("disable: %v %v", res.Data, res.Errors)
		}
		wantGQLError(t, graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, disableMutation, map[string]any{"id": id}),
			"UNPROCESSABLE", refusal, "disablePullRequestAutoMerge")
		if f.repo.PullRequest(1).GetAutoMerge() != nil {
			t.Fatal("auto-merge on again")
		}
	})
	t.Run("closed", func(t *testing.T) {
		f, id := autoMergeFixture(t)
		if _, _, err := f.client.PullRequests.Edit(t.Context(), "dotnet", "runtime", 1, &github.PullRequest{State: github.String("closed")}); err != nil {
			t.Fatal(err)
		}
		wantGQLError(t, graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, disableMutation, map[string]any{"id": id}),
			"UNPROCESSABLE", refusal, "disablePullRequestAutoMerge")
	})
	t.Run("draft", func(t *testing.T) {
		f, _ := autoMergeFixture(t)
		f.branch(t, "darc-main-2", "README.md", "draft\n")
		pr, _, err := f.client.PullRequests.Create(t.Context(), "dotnet", "runtime", &github.NewPullRequest{
			Title: github.String("draft"), Head: github.String("darc-main-2"), Base: github.String("main"), Draft: github.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if canDisable(t, f, pr.GetNumber()) != false {
			t.Fatal("viewerCanDisableAutoMerge on a draft")
		}
		wantGQLError(t, graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, disableMutation, map[string]any{"id": pr.GetNodeID()}),
			"UNPROCESSABLE", refusal, "disablePullRequestAutoMerge")
	})
}

// wantGQLError asserts one error of type typ with message at path, and a
// null at that path.
func wantGQLError(t *testing.T, res gqlResult, typ, message, path string) {
	t.Helper()
	if len(res.Errors) != 1 {
		t.Fatalf("errors %v, want one", res.Errors)
	}
	e := res.Errors[0]
	p, _ := e["path"].([]any)
	if e["type"] != typ || e["message"] != message || len(p) != 1 || p[0] != path || e["locations"] == nil {
		t.Fatalf("error %v, want %s %q at %s", e, typ, message, path)
	}
	if v, ok := res.Data[path]; !ok || v != nil {
		t.Fatalf("data %v, want %s null", res.Data, path)
	}
}

func TestGraphQLValidation(t *testing.T) {
	f := newFixture(t)
	f.openPR(t, "darc-main-1")
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		message     string
	}{
		{"unknown field", `query { repository(owner: "dotnet", name: "runtime") { foo } }`, nil,
			"Field 'foo' doesn't exist on type 'Repository'"},
		{"syntax", `query { repository(owner: "dotnet", name: "runtime") {`, nil, "Expected Name, found <EOF>"},
		{"missing argument", `query { repository(owner: "dotnet") { id } }`, nil,
			`Field "repository" argument "name" of type "String!" is required, but it was not provided.`},
		{"wrong variable type", `query($n: Int!) { repository(owner: "dotnet", name: "runtime") { pullRequest(number: $n) { id } } }`,
			map[string]any{"n": "one"}, "cannot use string as Int"},
		{"unknown mutation input field", `mutation { enablePullRequestAutoMerge(input: {pullRequestId: "x", bogus: 1}) { clientMutationId } }`, nil,
			`Field "bogus" is not defined by type "EnablePullRequestAutoMergeInput".`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, tc.query, tc.vars)
			if res.Data != nil || len(res.Errors) != 1 || !strings.Contains(res.Errors[0]["message"].(string), tc.message) {
				t.Fatalf("data %v errors %v, want one error %q", res.Data, res.Errors, tc.message)
			}
		})
	}
	res := graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, `query { repository(owner: "dotnet", name: "runtime") { foo } }`, nil)
	if ext, _ := res.Errors[0]["extensions"].(map[string]any); ext["code"] != "undefinedField" || ext["typeName"] != "Repository" {
		t.Fatalf("extensions %v", res.Errors[0]["extensions"])
	}

	// Valid queries: found and not found, aliases, fragments, node, viewer.
	res = graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, `query {
  viewer { login }
  repo: repository(owner: "DotNet", name: "runtime") { nameWithOwner ...PR }
  missing: repository(owner: "dotnet", name: "nope") { id }
}
fragment PR on Repository { pullRequest(number: 1) { ... on Node { id } headRefName } other: pullRequest(number: 9) { id } }`, nil)
	if dig(res.Data, "viewer", "login") != githubdouble.DefaultLogin || dig(res.Data, "repo", "nameWithOwner") != "dotnet/runtime" ||
		dig(res.Data, "repo", "pullRequest", "headRefName") != "darc-main-1" || dig(res.Data, "repo", "pullRequest", "id") != f.repo.PullRequest(1).GetNodeID() ||
		dig(res.Data, "missing") != nil || dig(res.Data, "repo", "other") != nil || len(res.Errors) != 2 {
		t.Fatalf("data %v errors %v", res.Data, res.Errors)
	}
	res = graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, `query($id: ID!) { node(id: $id) { __typename ... on PullRequest { number } } }`,
		map[string]any{"id": f.repo.PullRequest(1).GetNodeID()})
	if dig(res.Data, "node", "__typename") != "PullRequest" || dig(res.Data, "node", "number") != 1.0 {
		t.Fatalf("node: %v %v", res.Data, res.Errors)
	}
	// A valid field the double does not serve is an error, never a made-up value.
	res = graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, `query { repository(owner: "dotnet", name: "runtime") { stargazerCount } }`, nil)
	if dig(res.Data, "repository", "stargazerCount") != nil || len(res.Errors) != 1 ||
		res.Errors[0]["message"] != "The GitHub double does not serve Repository.stargazerCount" {
		t.Fatalf("unserved field: %v %v", res.Data, res.Errors)
	}
	// Authentication is required.
	req, _ := http.NewRequestWithContext(t.Context(), "POST", f.srv.URL()+"/graphql", strings.NewReader(`{"query":"{ viewer { login } }"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("anonymous GraphQL: %d", resp.StatusCode)
	}
}

// TestAutoMergeWithAnEmptyBody: a squash auto-merge whose commit has no
// body shows commit_message "" in REST, a string as GitHub's description
// requires (the double checks its own answer against it), not null.
func TestAutoMergeWithAnEmptyBody(t *testing.T) {
	f, id := autoMergeFixture(t)
	res := graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, `mutation($id: ID!) {
  enablePullRequestAutoMerge(input: {pullRequestId: $id, mergeMethod: SQUASH, commitHeadline: "Update dependencies (#1)", commitBody: ""}) { clientMutationId }
}`, map[string]any{"id": id})
	if len(res.Errors) > 0 {
		t.Fatalf("enable: %v", res.Errors)
	}
	pr, _, err := f.client.PullRequests.Get(t.Context(), "dotnet", "runtime", 1)
	if err != nil {
		t.Fatal(err)
	}
	if am := pr.GetAutoMerge(); am == nil || am.GetCommitTitle() != "Update dependencies (#1)" || am.CommitMessage == nil || *am.CommitMessage != "" {
		t.Fatalf("REST auto_merge %s", github.Stringify(pr.GetAutoMerge()))
	}
}
