package githubdouble_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-github/v60/github"

	githubdouble "github.com/maestroplusplus/maestro/test/github"
	"github.com/maestroplusplus/maestro/test/github/ghspec"
)

// exchange is one API request and its response, as the client saw them.
type exchange struct {
	method, path string // path without the API prefix
	reqBody      []byte
	status       int
	header       http.Header
	body         []byte
}

// recorder is an http.RoundTripper that keeps every API exchange.
type recorder struct {
	prefix string // the API path prefix, /api/v3
	mu     sync.Mutex
	log    []exchange
}

func (rec *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	rec.mu.Lock()
	rec.log = append(rec.log, exchange{
		method: req.Method, path: strings.TrimPrefix(req.URL.EscapedPath(), rec.prefix),
		reqBody: reqBody, status: resp.StatusCode, header: resp.Header.Clone(), body: body,
	})
	rec.mu.Unlock()
	return resp, nil
}

// The allow-list (statuses, routes and request forms GitHub uses that its
// description leaves out, each with the reason and GitHub's page) is the
// double's own, in conform.go: the server checks every response against
// it, and this test reports from the same check.

// served maps a ServeMux pattern that serves several operations to them.
var served = map[string][]string{
	"GET /repos/{owner}/{repo}/branches/{rest...}":    {"GET /repos/{owner}/{repo}/branches/{branch}/protection"},
	"PUT /repos/{owner}/{repo}/branches/{rest...}":    {"PUT /repos/{owner}/{repo}/branches/{branch}/protection"},
	"DELETE /repos/{owner}/{repo}/branches/{rest...}": {"DELETE /repos/{owner}/{repo}/branches/{branch}/protection"},
	"GET /repos/{owner}/{repo}/commits/{rest...}": {
		"GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
		"GET /repos/{owner}/{repo}/commits/{ref}/status",
		"GET /repos/{owner}/{repo}/commits/{ref}/statuses",
	},
}

// TestConformance drives every route of the double through go-github (and
// error cases through raw HTTP) and checks every request body and every
// response against GitHub's REST description: request bodies match the
// operation's requestBody schema exactly when the double accepts them,
// every status code is listed for the operation (or allow-listed above with
// GitHub's documentation), and every body matches the schema of its status.
func TestConformance(t *testing.T) {
	doc := ghspec.REST(t)
	rec := &recorder{prefix: "/api/v3"}
	srv := githubdouble.NewServer(t, githubdouble.WithClock(fixedClock()))
	client := func(token string) *github.Client {
		c, err := github.NewClient(&http.Client{Transport: rec}).WithAuthToken(token).WithEnterpriseURLs(srv.APIURL(), srv.APIURL())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	f := &fixture{srv: srv, client: client(githubdouble.DefaultToken), repo: srv.AddRepo(githubdouble.RepoSpec{
		Owner: "dotnet", Name: "runtime",
		Files: map[string]string{"README.md": "# runtime\n", "eng/Versions.props": versionsProps},
	})}
	ids := drive(t, f, client)
	rawErrors(t, srv, rec, ids)

	report(t, doc, rec.log)
}

// drive calls every route through go-github, successes and GitHub's errors.
// driven are ids of objects drive made, for the raw error cases.
type driven struct{ checkRun, comment int64 }

func drive(t *testing.T, f *fixture, client func(string) *github.Client) driven {
	ctx := t.Context()
	gh := f.client
	const o, r = "dotnet", "runtime"
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	expectErr := func(what string, err error, status int) {
		t.Helper()
		var er *github.ErrorResponse
		if !errors.As(err, &er) || er.Response.StatusCode != status {
			t.Fatalf("%s: got %v, want status %d", what, err, status)
		}
	}

	_, _, err := gh.Users.Get(ctx, "")
	check("get user", err)
	_, _, err = client("ghp_wrong").Users.Get(ctx, "")
	expectErr("bad credentials", err, 401)

	_, _, err = gh.Repositories.Get(ctx, o, r)
	check("get repo", err)
	_, _, err = gh.Repositories.Get(ctx, o, "nope")
	expectErr("unknown repo", err, 404)

	// Refs.
	main := f.repo.Branch("main")
	_, _, err = gh.Git.GetRef(ctx, o, r, "heads/main")
	check("get ref", err)
	_, _, err = gh.Git.GetRef(ctx, o, r, "heads/nope")
	expectErr("get missing ref", err, 404)
	_, _, err = gh.Git.ListMatchingRefs(ctx, o, r, &github.ReferenceListOptions{Ref: "heads/"})
	check("matching refs", err)
	for _, path := range []string{"heads/main", "heads"} {
		req, err := gh.NewRequest("GET", "repos/dotnet/runtime/git/refs/"+path, nil)
		check("legacy request", err)
		_, err = gh.Do(ctx, req, nil)
		check("legacy get refs "+path, err)
	}
	_, _, err = gh.Git.CreateRef(ctx, o, r, &github.Reference{Ref: github.String("refs/heads/made"), Object: &github.GitObject{SHA: github.String(main)}})
	check("create ref", err)
	_, _, err = gh.Git.CreateRef(ctx, o, r, &github.Reference{Ref: github.String("refs/heads/made"), Object: &github.GitObject{SHA: github.String(main)}})
	expectErr("create existing ref", err, 422)
	child := f.repo.Commit(githubdouble.CommitSpec{Branch: "ff", From: "main", Files: map[string]string{"ff.txt": "ff\n"}})
	_, _, err = gh.Git.UpdateRef(ctx, o, r, &github.Reference{Ref: github.String("heads/made"), Object: &github.GitObject{SHA: github.String(child)}}, false)
	check("update ref", err)
	_, _, err = gh.Git.UpdateRef(ctx, o, r, &github.Reference{Ref: github.String("heads/made"), Object: &github.GitObject{SHA: github.String(main)}}, false)
	expectErr("update ref, not a fast forward", err, 422)
	_, err = gh.Git.DeleteRef(ctx, o, r, "heads/made")
	check("delete ref", err)
	_, err = gh.Git.DeleteRef(ctx, o, r, "heads/made")
	expectErr("delete missing ref", err, 422)

	// Pull requests.
	pr := f.openPR(t, "darc-main-1")
	n := pr.GetNumber()
	_, _, err = gh.PullRequests.Create(ctx, o, r, &github.NewPullRequest{Title: github.String("t"), Head: github.String("darc-main-1"), Base: github.String("main")})
	expectErr("create duplicate pull request", err, 422)
	_, _, err = gh.PullRequests.List(ctx, o, r, &github.PullRequestListOptions{State: "all"})
	check("list pulls", err)
	_, _, err = gh.PullRequests.Get(ctx, o, r, n)
	check("get pull", err)
	_, _, err = gh.PullRequests.Get(ctx, o, r, 999)
	expectErr("get missing pull", err, 404)
	_, _, err = gh.PullRequests.Edit(ctx, o, r, n, &github.PullRequest{Body: github.String("edited")})
	check("edit pull", err)
	_, _, err = gh.PullRequests.ListCommits(ctx, o, r, n, nil)
	check("list pull commits", err)
	_, _, err = gh.PullRequests.IsMerged(ctx, o, r, n)
	check("is merged (no)", err)

	// Reviews, comments, checks and statuses on the head commit.
	_, _, err = gh.PullRequests.CreateReview(ctx, o, r, n, &github.PullRequestReviewRequest{Event: github.String("COMMENT"), Body: github.String("looks fine")})
	check("create review", err)
	_, _, err = gh.PullRequests.ListReviews(ctx, o, r, n, nil)
	check("list reviews", err)
	_, _, err = gh.Issues.CreateComment(ctx, o, r, n, &github.IssueComment{Body: github.String("a comment")})
	check("create comment", err)
	_, _, err = gh.Issues.ListComments(ctx, o, r, n, nil)
	check("list comments", err)
	_, _, err = gh.Issues.ListComments(ctx, o, r, 999, nil)
	expectErr("comments of a missing issue", err, 404)
	head := pr.GetHead().GetSHA()
	f.repo.AddCheckRun(github.CheckRun{Name: github.String("build"), HeadSHA: github.String(head), Conclusion: github.String("success"), ExternalID: github.String("42")})
	f.repo.AddCheckRun(github.CheckRun{Name: github.String("test"), HeadSHA: github.String(head)})
	_, _, err = gh.Checks.ListCheckRunsForRef(ctx, o, r, head, nil)
	check("list check runs", err)
	_, _, err = gh.Repositories.CreateStatus(ctx, o, r, head, &github.RepoStatus{State: github.String("success"), Context: github.String("ci"), TargetURL: github.String("https://ci.example/1")})
	check("create status", err)
	_, _, err = gh.Repositories.GetCombinedStatus(ctx, o, r, "darc-main-1", nil)
	check("combined status", err)
	_, _, err = gh.Repositories.ListStatuses(ctx, o, r, head, nil)
	check("list statuses", err)
	const unknown = "0123456789abcdef0123456789abcdef01234567"
	if list, _, err := gh.Repositories.ListStatuses(ctx, o, r, unknown, nil); err != nil || len(list) != 0 {
		t.Fatalf("statuses of an unknown commit: %v, %v; want none", list, err)
	}
	_, _, err = gh.Repositories.CreateStatus(ctx, o, r, unknown, &github.RepoStatus{State: github.String("success")})
	expectErr("status of an unknown commit", err, 422)

	// Merging.
	_, _, err = gh.PullRequests.Merge(ctx, o, r, n, "", &github.PullRequestOptions{SHA: main, MergeMethod: "squash"})
	expectErr("merge with a stale head sha", err, 409)
	_, _, err = gh.PullRequests.Merge(ctx, o, r, n, "", &github.PullRequestOptions{MergeMethod: "squash"})
	check("merge", err)
	_, _, err = gh.PullRequests.Merge(ctx, o, r, n, "", &github.PullRequestOptions{MergeMethod: "squash"})
	expectErr("merge a merged pull request", err, 405)
	_, _, err = gh.PullRequests.IsMerged(ctx, o, r, n)
	check("is merged (yes)", err)

	// Check runs through the API: only GitHub Apps may write them.
	app := client("ghs_conformanceInstallationToken")
	f.srv.AddInstallationToken("maestro-ci", "ghs_conformanceInstallationToken")
	run, _, err := app.Checks.CreateCheckRun(ctx, o, r, github.CreateCheckRunOptions{Name: "publish", HeadSHA: f.repo.Branch("main"), ExternalID: github.String("7")})
	check("create check run", err)
	_, _, err = app.Checks.UpdateCheckRun(ctx, o, r, run.GetID(), github.UpdateCheckRunOptions{Name: "publish", Conclusion: github.String("success")})
	check("update check run", err)
	_, _, err = gh.Checks.GetCheckRun(ctx, o, r, run.GetID())
	check("get check run", err)
	_, _, err = gh.Checks.GetCheckRun(ctx, o, r, 1)
	expectErr("get missing check run", err, 404)
	_, _, err = gh.Checks.CreateCheckRun(ctx, o, r, github.CreateCheckRunOptions{Name: "publish", HeadSHA: f.repo.Branch("main")})
	expectErr("create check run without an app", err, 403)
	_, _, err = app.Checks.CreateCheckRun(ctx, o, r, github.CreateCheckRunOptions{Name: "publish", HeadSHA: unknown})
	expectErr("create check run on an unknown commit", err, 422)
	_, _, err = gh.Checks.ListCheckRunsForRef(ctx, o, r, unknown, nil)
	expectErr("check runs of an unknown commit", err, 422)

	// Branch protection refuses a merge whose required check is missing.
	_, _, err = gh.Repositories.GetBranchProtection(ctx, o, r, "main")
	if !errors.Is(err, github.ErrBranchNotProtected) { // go-github's reading of 404 "Branch not protected"
		t.Fatalf("protection of an unprotected branch: %v", err)
	}
	_, _, err = gh.Repositories.UpdateBranchProtection(ctx, o, r, "main", &github.ProtectionRequest{
		RequiredStatusChecks: &github.RequiredStatusChecks{Contexts: &[]string{"required-build"}},
	})
	check("protect main", err)
	_, _, err = gh.Repositories.UpdateBranchProtection(ctx, o, r, "main", &github.ProtectionRequest{
		RequiredStatusChecks:       &github.RequiredStatusChecks{Strict: true, Checks: &[]*github.RequiredStatusCheck{{Context: "required-build"}}},
		RequiredPullRequestReviews: &github.PullRequestReviewsEnforcementRequest{RequiredApprovingReviewCount: 0},
	})
	check("protect main with checks instead of contexts", err)
	_, _, err = gh.Repositories.UpdateBranchProtection(ctx, o, r, "main", &github.ProtectionRequest{
		RequiredStatusChecks: &github.RequiredStatusChecks{Contexts: &[]string{"required-build"}},
	})
	check("protect main again", err)
	_, _, err = gh.Repositories.GetBranchProtection(ctx, o, r, "main")
	check("get protection", err)
	blocked := f.openPR(t, "darc-main-2")
	_, _, err = gh.PullRequests.Get(ctx, o, r, blocked.GetNumber())
	check("get a blocked pull request", err)
	_, _, err = gh.PullRequests.Merge(ctx, o, r, blocked.GetNumber(), "", &github.PullRequestOptions{MergeMethod: "merge"})
	expectErr("merge without the required check", err, 405)
	_, err = gh.Repositories.RemoveBranchProtection(ctx, o, r, "main")
	check("remove protection", err)
	_, err = gh.Git.DeleteRef(ctx, o, r, "heads/main")
	expectErr("delete the default branch", err, 422)
	_, _, err = gh.Repositories.GetCombinedStatus(ctx, o, r, "0123456789abcdef0123456789abcdef01234567", nil)
	expectErr("combined status of an unknown commit", err, 404)
	_, _, err = gh.PullRequests.Create(ctx, o, r, &github.NewPullRequest{Title: github.String("t"), Head: github.String("darc-main-2"), Base: github.String("main"), Body: github.String(strings.Repeat("x", 65537))})
	expectErr("pull request body over 65,536 characters", err, 422)

	// Comments are edited in place.
	comments, _, err := gh.Issues.ListComments(ctx, o, r, n, nil)
	check("list comments", err)
	_, _, err = gh.Issues.EditComment(ctx, o, r, comments[0].GetID(), &github.IssueComment{Body: github.String("edited comment")})
	check("edit comment", err)
	_, _, err = gh.Issues.EditComment(ctx, o, r, 1, &github.IssueComment{Body: github.String("x")})
	expectErr("edit a missing comment", err, 404)

	// Labels: adding one the repository lacks creates it.
	_, _, err = gh.Issues.CreateLabel(ctx, o, r, &github.Label{Name: github.String("area-infrastructure"), Color: github.String("0e8a16")})
	check("create label", err)
	_, _, err = gh.Issues.CreateLabel(ctx, o, r, &github.Label{Name: github.String("Area-Infrastructure")})
	expectErr("create an existing label", err, 422)
	_, _, err = gh.Issues.AddLabelsToIssue(ctx, o, r, n, []string{"area-infrastructure", "auto-merge"})
	check("add labels", err)
	_, _, err = gh.Issues.ReplaceLabelsForIssue(ctx, o, r, n, []string{"auto-merge", "bug"})
	check("set labels", err)
	_, _, err = gh.Issues.ListLabelsByIssue(ctx, o, r, n, nil)
	check("list labels of a pull request", err)
	_, _, err = gh.Issues.ListLabels(ctx, o, r, nil)
	check("list labels", err)
	_, err = gh.Issues.RemoveLabelForIssue(ctx, o, r, n, "bug")
	check("remove a label", err)
	_, err = gh.Issues.RemoveLabelForIssue(ctx, o, r, n, "bug")
	expectErr("remove a label the pull request does not have", err, 404)
	_, err = gh.Issues.RemoveLabelsForIssue(ctx, o, r, n)
	check("remove all labels", err)
	addLabels, err := gh.NewRequest("POST", "repos/dotnet/runtime/issues/1/labels", map[string]any{"labels": []string{"bug"}})
	check("labels request", err)
	_, err = gh.Do(ctx, addLabels, nil)
	check("add labels, the object form", err)

	// A pull request with auto-merge on (switched on through GraphQL) shows it.
	f.srv.AddRepo(githubdouble.RepoSpec{Owner: o, Name: "auto", AllowAutoMerge: true, Files: map[string]string{"a.txt": "a\n"}})
	f.srv.Repo(o, "auto").Commit(githubdouble.CommitSpec{Branch: "darc", Files: map[string]string{"a.txt": "b\n"}})
	autoPR, _, err := gh.PullRequests.Create(ctx, o, "auto", &github.NewPullRequest{Title: github.String("t"), Head: github.String("darc"), Base: github.String("main")})
	check("create a pull request to auto-merge", err)
	_, _, err = gh.Repositories.UpdateBranchProtection(ctx, o, "auto", "main", &github.ProtectionRequest{
		RequiredStatusChecks:       &github.RequiredStatusChecks{Contexts: &[]string{"build"}},
		RequiredPullRequestReviews: &github.PullRequestReviewsEnforcementRequest{RequiredApprovingReviewCount: 1},
	})
	check("protect main with checks and reviews", err)
	if res := graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, enableMutation,
		map[string]any{"id": autoPR.GetNodeID(), "method": "SQUASH", "headline": "t (#1)"}); len(res.Errors) > 0 {
		t.Fatalf("enable auto-merge: %v", res.Errors)
	}
	_, _, err = gh.PullRequests.Get(ctx, o, "auto", autoPR.GetNumber())
	check("get a pull request with auto-merge on", err)
	_, _, err = gh.PullRequests.List(ctx, o, "auto", nil)
	check("list a pull request with auto-merge on", err)

	// Repository webhooks: registering one sends ping.
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	t.Cleanup(receiver.Close)
	hook, _, err := gh.Repositories.CreateHook(ctx, o, r, &github.Hook{
		Config: &github.HookConfig{URL: github.String(receiver.URL), ContentType: github.String("json")},
		Events: []string{"pull_request"}, Active: github.Bool(true),
	})
	check("create hook", err)
	f.srv.WaitDeliveries()
	_, _, err = gh.Repositories.ListHooks(ctx, o, r, nil)
	check("list hooks", err)
	_, _, err = gh.Repositories.GetHook(ctx, o, r, hook.GetID())
	check("get hook", err)
	_, _, err = gh.Repositories.GetHook(ctx, o, r, 1)
	expectErr("get a missing hook", err, 404)
	deliveries, _, err := gh.Repositories.ListHookDeliveries(ctx, o, r, hook.GetID(), nil)
	check("list deliveries", err)
	if len(deliveries) == 0 {
		t.Fatal("no delivery of ping")
	}
	_, _, err = gh.Repositories.RedeliverHookDelivery(ctx, o, r, hook.GetID(), deliveries[0].GetID())
	if err != nil && !errors.As(err, new(*github.AcceptedError)) { // GitHub answers 202 Accepted
		t.Fatalf("redeliver: %v", err)
	}
	f.srv.WaitDeliveries()
	_, err = gh.Repositories.DeleteHook(ctx, o, r, hook.GetID())
	check("delete hook", err)

	// A GitHub App buys an installation token with its JSON web token.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	check("app key", err)
	f.srv.AddApp("maestro-app", 42, &key.PublicKey, 7)
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	signed, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		Issuer: "42", IssuedAt: jwt.NewNumericDate(now.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(now.Add(9 * time.Minute)),
	}).SignedString(key)
	check("sign app token", err)
	_, _, err = client(signed).Apps.CreateInstallationToken(ctx, 7, nil)
	check("installation token", err)
	_, _, err = client(signed).Apps.CreateInstallationToken(ctx, 8, nil)
	expectErr("token of another installation", err, 404)
	badToken, err := client(signed).NewRequest("POST", "app/installations/7/access_tokens", map[string]any{"repository_ids": "runtime"})
	check("token request", err)
	_, err = client(signed).Do(ctx, badToken, nil)
	expectErr("token request breaking the schema", err, 422)
	_, _, err = client("not-a-jwt").Apps.CreateInstallationToken(ctx, 7, nil)
	expectErr("token without a JSON web token", err, 401)

	// Rate limits, last: go-github refuses further requests of a client
	// that saw one until the reset.
	f.srv.TripSecondaryRateLimit(1, 0)
	_, _, err = client(githubdouble.DefaultToken).PullRequests.List(ctx, o, r, nil)
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) {
		t.Fatalf("secondary rate limit: got %v", err)
	}
	f.srv.SetRateLimit(1)
	limited := client(githubdouble.DefaultToken)
	_, _, err = limited.Repositories.Get(ctx, o, r)
	check("last request of the budget", err)
	_, _, err = limited.Repositories.Get(ctx, o, r)
	var rate *github.RateLimitError
	if !errors.As(err, &rate) {
		t.Fatalf("primary rate limit: got %v", err)
	}
	f.srv.SetRateLimit(5000)
	return driven{checkRun: run.GetID(), comment: comments[0].GetID()}
}

// rawErrors sends the error cases go-github cannot: no token, bodies that are not
// JSON, and bodies that break the operation's schema.
func rawErrors(t *testing.T, srv *githubdouble.Server, rec *recorder, ids driven) {
	c := &http.Client{Transport: rec}
	const user, app = githubdouble.DefaultToken, "ghs_conformanceInstallationToken"
	run := "repos/dotnet/runtime/check-runs/" + strconv.FormatInt(ids.checkRun, 10)
	comment := "repos/dotnet/runtime/issues/comments/" + strconv.FormatInt(ids.comment, 10)
	for _, tc := range []struct {
		method, path, body string
		token              string
		want               int
	}{
		{"GET", "user", "", "", 401},
		{"GET", "repos/dotnet/runtime/pulls", "", "", 401},
		{"POST", "repos/dotnet/runtime/pulls", `{"title":"t","head":"x",`, user, 400},
		{"POST", "repos/dotnet/runtime/pulls", `{"title":"t"}`, user, 422},
		{"PATCH", "repos/dotnet/runtime/pulls/1", `{"state":"merged"}`, user, 422},
		{"POST", "repos/dotnet/runtime/git/refs", `{"ref":"refs/heads/x"}`, user, 422},
		{"PATCH", "repos/dotnet/runtime/git/refs/heads/main", `{"sha":"abc","force":"true"}`, user, 422},
		{"POST", "repos/dotnet/runtime/issues/1/comments", `{}`, user, 422},
		{"PATCH", comment, `{"body":7}`, user, 422},
		{"POST", "repos/dotnet/runtime/pulls/1/reviews", `{"event":"MAYBE"}`, user, 422},
		{"POST", "repos/dotnet/runtime/statuses/0123456789012345678901234567890123456789", `{"state":"green"}`, user, 422},
		{"PUT", "repos/dotnet/runtime/pulls/1/merge", `{"merge_method":"octopus"}`, user, 422},
		{"POST", "repos/dotnet/runtime/check-runs", `{"head_sha":"0123456789012345678901234567890123456789"}`, app, 422},
		{"PATCH", run, `{"status":"done"}`, app, 422},
		{"PATCH", run, `{"conclusion":"green"}`, app, 422},
		{"PUT", "repos/dotnet/runtime/branches/main/protection", `{"required_status_checks":null}`, user, 422},
		{"POST", "repos/dotnet/runtime/hooks", `{"config":{"url":7}}`, user, 422},
		{"POST", "repos/dotnet/runtime/labels", `{"name":5}`, user, 422},
		{"POST", "repos/dotnet/runtime/issues/1/labels", `{"labels":"bug"}`, user, 422},
		{"PUT", "repos/dotnet/runtime/issues/1/labels", `{"labels":7}`, user, 422},
	} {
		var body io.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		req, err := http.NewRequestWithContext(t.Context(), tc.method, srv.APIURL()+tc.path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "application/vnd.github+json")
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s %s: status %d, want %d", tc.method, tc.path, tc.body, resp.StatusCode, tc.want)
		}
	}
}

// routeStats is what the conformance run saw for one operation.
type routeStats struct {
	statuses map[int]bool
	strict   bool // every status listed and every body valid
	allowed  bool // every status listed or allow-listed, every body valid
}

// report checks every exchange with the double's own checks, logs the
// per-route table and fails on any mismatch or any route that was not
// driven.
func report(t *testing.T, doc *ghspec.Document, log []exchange) {
	patterns := append(githubdouble.RoutePatterns(), githubdouble.AccessTokensRoute)
	mux := http.NewServeMux()
	routes := map[string]*routeStats{} // by "METHOD template" of the description (or the pattern, undocumented)
	for _, p := range patterns {
		mux.HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
		method, path, _ := strings.Cut(p, " ")
		switch {
		case githubdouble.NotREST(p) != "":
			t.Logf("not REST: %s, %s", p, githubdouble.NotREST(p))
		case served[p] != nil:
			for _, op := range served[p] {
				routes[op] = &routeStats{statuses: map[int]bool{}, strict: true, allowed: true}
			}
		case githubdouble.Undocumented(p):
			routes[p] = &routeStats{statuses: map[int]bool{}, allowed: true}
		default:
			op, err := doc.Operation(method, path)
			if err != nil {
				t.Errorf("route %s: %v (list it in undocumented in conform.go with GitHub's documentation, or serve GitHub's path)", p, err)
				continue
			}
			routes[op.String()] = &routeStats{statuses: map[int]bool{}, strict: true, allowed: true}
		}
	}
	for _, ex := range log {
		where := fmt.Sprintf("%s %s -> %d", ex.method, ex.path, ex.status)
		req, _ := http.NewRequest(ex.method, "http://double"+ex.path, nil)
		_, pattern := mux.Handler(req)
		v := githubdouble.CheckResponse(doc, ex.method, ex.path, pattern, ex.status, ex.header, ex.body)
		if v.Route == "" {
			if v.Err != nil {
				t.Errorf("%s: %v", where, v.Err)
			}
			continue
		}
		st := routes[v.Route]
		if st == nil {
			t.Errorf("%s: served by %q, which the route table does not map to %s", where, pattern, v.Route)
			continue
		}
		st.statuses[ex.status] = true
		if !v.Strict {
			st.strict = false
		}
		if v.Err != nil {
			st.allowed = false
			t.Errorf("%s: %v", where, v.Err)
		}
		// The request body: the double calls it invalid ("Invalid
		// request.") exactly when the description (with the request forms
		// GitHub's pages name) does.
		if len(ex.reqBody) == 0 || ex.status == http.StatusBadRequest || githubdouble.Undocumented(pattern) {
			continue
		}
		rejected := ex.status == 422 && bytes.Contains(ex.body, []byte(`"Invalid request.`))
		problem, err := githubdouble.RequestProblem(doc, ex.method, ex.path, ex.reqBody)
		switch {
		case err != nil:
			t.Errorf("%s: %v", where, err)
		case rejected && problem == "":
			st.strict, st.allowed = false, false
			t.Errorf("%s: the double answered Invalid request. to %s, which the description accepts", where, ex.reqBody)
		case !rejected && problem != "":
			st.strict, st.allowed = false, false
			t.Errorf("%s: the double accepted a request body the description refuses (%s): %s", where, problem, ex.reqBody)
		case !rejected && githubdouble.RequestForm(v.Route):
			if op, err := doc.Match(ex.method, ex.path); err == nil && op.CheckRequest(ex.reqBody) != nil {
				st.strict = false // accepted in a form the page names beside the schema
			}
		}
	}
	keys := make([]string, 0, len(routes))
	for k := range routes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	strict, conform := 0, 0
	fmt.Fprintf(&b, "%-66s %-22s %-6s %s\n", "route", "statuses seen", "strict", "conform")
	for _, k := range keys {
		st := routes[k]
		codes := make([]int, 0, len(st.statuses))
		for c := range st.statuses {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		if len(codes) == 0 {
			st.strict, st.allowed = false, false
			t.Errorf("route %s was not driven by the conformance test", k)
		}
		if st.strict {
			strict++
		}
		if st.allowed {
			conform++
		}
		fmt.Fprintf(&b, "%-66s %-22s %-6s %s\n", k, strings.Trim(fmt.Sprint(codes), "[]"), yes(st.strict), yes(st.allowed))
	}
	t.Logf("GitHub double against %s:\n%sstrict %d/%d routes, conform (with the allow-list) %d/%d", "@octokit/openapi api.github.com.json", b.String(), strict, len(keys), conform, len(keys))
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
