package githubdouble_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

func TestAuthentication(t *testing.T) {
	f := newFixture(t)
	f.srv.AddToken("alice", "ghp_alice")
	f.srv.AddInstallationToken("dotnet-maestro", "ghs_installation")
	f.srv.AddToken("revoked", "ghp_revoked")
	f.srv.RevokeToken("ghp_revoked")
	for _, tc := range []struct {
		name, header string
		status       int
		message      string // error message, or the login on success
	}{
		{"token scheme", "token ghp_alice", 200, "alice"},
		{"bearer scheme", "Bearer ghp_alice", 200, "alice"},
		{"basic with token as password", "Basic eC1hY2Nlc3MtdG9rZW46Z2hzX2luc3RhbGxhdGlvbg==", 200, "dotnet-maestro[bot]"},
		{"installation token", "Bearer ghs_installation", 200, "dotnet-maestro[bot]"},
		{"missing", "", 401, "Requires authentication"},
		{"wrong token", "token ghp_nope", 401, "Bad credentials"},
		{"revoked token", "token ghp_revoked", 401, "Bad credentials"},
		{"unknown scheme", "Digest ghp_alice", 401, "Bad credentials"},
		{"empty bearer", "Bearer ", 401, "Bad credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/api/v3/user", "/api/v3/repos/dotnet/runtime", "/repos/dotnet/runtime/pulls"} {
				req, err := http.NewRequest("GET", f.srv.URL()+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if tc.header != "" {
					req.Header.Set("Authorization", tc.header)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var decoded any
				err = json.NewDecoder(resp.Body).Decode(&decoded)
				resp.Body.Close()
				if err != nil {
					t.Fatalf("%s: body is not JSON: %v", path, err)
				}
				body, _ := decoded.(map[string]any) // a list for /pulls
				if resp.StatusCode != tc.status {
					t.Fatalf("%s: status %d, want %d (%v)", path, resp.StatusCode, tc.status, body)
				}
				if tc.status == 401 {
					if body["message"] != tc.message || body["documentation_url"] != "https://docs.github.com/rest" {
						t.Fatalf("%s: body %v, want message %q and documentation_url", path, body, tc.message)
					}
				} else if path == "/api/v3/user" && body["login"] != tc.message {
					t.Fatalf("authenticated as %v, want %s", body["login"], tc.message)
				}
			}
		})
	}
}

func TestAuthenticatedUserThroughClient(t *testing.T) {
	f := newFixture(t)
	f.srv.AddInstallationToken("dotnet-maestro", "ghs_installation")
	u, resp, err := f.srv.Client("ghs_installation").Users.Get(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Rate.Limit != 5000 || resp.Rate.Remaining != 4999 || resp.Rate.Reset.IsZero() {
		t.Fatalf("rate %+v, want GitHub's headers", resp.Rate)
	}
	if u.GetLogin() != "dotnet-maestro[bot]" || u.GetType() != "Bot" {
		t.Fatalf("got %s (%s), want the app's bot", u.GetLogin(), u.GetType())
	}
	_, _, err = f.srv.Client("ghp_wrong").Users.Get(t.Context(), "")
	wantAPIError(t, err, 401, "Bad credentials")
}

func TestGetRepository(t *testing.T) {
	f := newFixture(t, githubdouble.RepoSpec{
		Owner: "dotnet", Name: "arcade", DefaultBranch: "release/9.0", Private: true, Description: "Arcade",
		Files: map[string]string{"global.json": "{}\n"}, DisallowRebaseMerge: true,
	})
	for _, name := range []string{"arcade", "ARCADE"} {
		repo, _, err := f.client.Repositories.Get(t.Context(), "DotNet", name)
		if err != nil {
			t.Fatal(err)
		}
		if repo.GetFullName() != "dotnet/arcade" || repo.GetDefaultBranch() != "release/9.0" || !repo.GetPrivate() ||
			repo.GetVisibility() != "private" || repo.GetOwner().GetLogin() != "dotnet" || repo.GetOwner().GetType() != "Organization" ||
			repo.GetAllowRebaseMerge() || !repo.GetAllowSquashMerge() || repo.GetCloneURL() != f.srv.URL()+"/dotnet/arcade.git" ||
			repo.GetURL() != f.srv.APIURL()+"repos/dotnet/arcade" || !repo.GetPermissions()["push"] {
			t.Fatalf("repository %s", github.Stringify(repo))
		}
	}
	_, _, err := f.client.Repositories.Get(t.Context(), "dotnet", "missing")
	wantAPIError(t, err, 404, "Not Found")
}

func TestRootBaseURLServesTheAPI(t *testing.T) {
	f := newFixture(t)
	c := github.NewClient(nil).WithAuthToken(githubdouble.DefaultToken)
	c.BaseURL.Scheme, c.BaseURL.Host, c.BaseURL.Path = "http", strings.TrimPrefix(f.srv.URL(), "http://"), "/"
	repo, _, err := c.Repositories.Get(t.Context(), "dotnet", "runtime")
	if err != nil {
		t.Fatal(err)
	}
	if repo.GetFullName() != "dotnet/runtime" {
		t.Fatalf("got %s", repo.GetFullName())
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/v3/repos/dotnet/runtime/branches"},
		{"DELETE", "/api/v3/repos/dotnet/runtime"},
		{"POST", "/api/v3/repos/dotnet/runtime/pulls/1"},
		{"GET", "/api/v3/nothing"},
		{"GET", "/api/v3/repos/dotnet/runtime/commits/main/unknown"},
		{"GET", "/api/v3/repos/dotnet/runtime/pulls/abc"},
		{"GET", "/api/v3/repos/dotnet/runtime/pulls/99"},
		{"GET", "/api/v3/repos/dotnet/runtime/issues/99/comments"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, err := f.client.NewRequest(tc.method, f.srv.URL()+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.client.Do(t.Context(), req, nil)
			wantAPIError(t, err, 404, "Not Found")
		})
	}
}

func TestMalformedBodies(t *testing.T) {
	f := newFixture(t)
	f.openPR(t, "feature")
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		message                  string
	}{
		{"not JSON", "POST", "pulls", `{"title":`, 400, "Problems parsing JSON"},
		{"trailing garbage", "POST", "pulls", `{"title":"x"} {}`, 400, "Problems parsing JSON"},
		{"array", "POST", "pulls", `[1,2]`, 422, "Invalid request.\n\nFor 'links/0/schema', [1,2] is not an object."},
		{"null body", "POST", "issues/1/comments", `null`, 422, "Invalid request.\n\nFor 'links/0/schema', nil is not an object."},
		{"comment without body", "POST", "issues/1/comments", `{}`, 422, "Invalid request.\n\n\"body\" wasn't supplied."},
		{"missing head and base", "POST", "pulls", `{"title":"x"}`, 422, "Invalid request.\n\n\"base\" and \"head\" weren't supplied."},
		{"title not a string", "POST", "pulls", `{"title":5,"head":"feature","base":"main"}`, 422, "Invalid request.\n\nFor 'properties/title', 5 is not a string."},
		{"draft not a boolean", "POST", "pulls", `{"title":"x","head":"feature","base":"main","draft":"yes"}`, 422, "Invalid request.\n\nFor 'properties/draft', \"yes\" is not a boolean."},
		{"issue not an integer", "POST", "pulls", `{"head":"feature","base":"main","issue":1.5}`, 422, "Invalid request.\n\nFor 'properties/issue', 1.5 is not an integer."},
		{"ref without sha", "POST", "git/refs", `{"ref":"refs/heads/x"}`, 422, "Invalid request.\n\n\"sha\" wasn't supplied."},
		{"force not a boolean", "PATCH", "git/refs/heads/main", `{"sha":"abc","force":"true"}`, 422, "Invalid request.\n\nFor 'properties/force', \"true\" is not a boolean."},
		{"state outside enum", "POST", "statuses/main", `{"state":"green"}`, 422, "Invalid request.\n\nFor 'properties/state', \"green\" is not one of [\"error\", \"failure\", \"pending\", \"success\"]."},
		{"merge method outside enum", "PUT", "pulls/1/merge", `{"merge_method":"fast-forward"}`, 422, "Invalid request.\n\nFor 'properties/merge_method', \"fast-forward\" is not one of [\"merge\", \"squash\", \"rebase\"]."},
		{"null title on update", "PATCH", "pulls/1", `{"title":null}`, 422, "Invalid request.\n\nFor 'properties/title', nil is not a string."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, f.srv.APIURL()+"repos/dotnet/runtime/"+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "token "+githubdouble.DefaultToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Message string `json:"message"`
				Doc     string `json:"documentation_url"`
				Status  string `json:"status"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || body.Message != tc.message || body.Doc == "" {
				t.Fatalf("got %d %q (%s), want %d %q", resp.StatusCode, body.Message, body.Doc, tc.status, tc.message)
			}
		})
	}
}

func TestErrorBodyShape(t *testing.T) {
	f := newFixture(t)
	f.openPR(t, "feature")
	req, err := http.NewRequest("POST", f.srv.APIURL()+"repos/dotnet/runtime/pulls",
		strings.NewReader(`{"title":"again","head":"dotnet:feature","base":"main"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+githubdouble.DefaultToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"A pull request already exists for dotnet:feature."}],` +
		`"documentation_url":"https://docs.github.com/rest/pulls/pulls#create-a-pull-request","status":"422"}` + "\n"
	if resp.StatusCode != 422 || string(raw) != want || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("got %d %s\n%s\nwant\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), raw, want)
	}
}

func TestRequestLog(t *testing.T) {
	f := newFixture(t)
	if _, _, err := f.client.Repositories.Get(t.Context(), "dotnet", "runtime"); err != nil {
		t.Fatal(err)
	}
	_, _, err := f.srv.Client("bad").Repositories.Get(t.Context(), "dotnet", "runtime")
	wantAPIError(t, err, 401, "Bad credentials")
	_, _, err = f.client.Issues.CreateComment(t.Context(), "dotnet", "runtime", 7, &github.IssueComment{Body: github.String("hi")})
	wantAPIError(t, err, 404, "Not Found")
	log := f.srv.Requests()
	want := []githubdouble.Request{
		{Method: "GET", Path: "/api/v3/repos/dotnet/runtime", Login: githubdouble.DefaultLogin, Status: 200},
		{Method: "GET", Path: "/api/v3/repos/dotnet/runtime", Status: 401},
		{Method: "POST", Path: "/api/v3/repos/dotnet/runtime/issues/7/comments", Login: githubdouble.DefaultLogin, Status: 404, Body: []byte(`{"body":"hi"}` + "\n")},
	}
	if len(log) != len(want) {
		t.Fatalf("logged %d requests, want %d: %+v", len(log), len(want), log)
	}
	for i := range want {
		g := log[i]
		if g.Method != want[i].Method || g.Path != want[i].Path || g.Login != want[i].Login || g.Status != want[i].Status ||
			string(g.Body) != string(want[i].Body) || g.Git {
			t.Fatalf("request %d: got %+v, want %+v", i, g, want[i])
		}
	}
}
