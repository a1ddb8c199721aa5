package githubdouble_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// rawResponse is an API answer read without go-github.
type rawResponse struct {
	status int
	header http.Header
	body   map[string]any
}

// raw sends an API request with the default token and decodes the JSON answer.
func raw(t *testing.T, srv *githubdouble.Server, method, path string, body any) rawResponse {
	t.Helper()
	return rawAs(t, srv, githubdouble.DefaultToken, method, path, body)
}

// rawAs sends an API request with token and decodes the JSON answer.
func rawAs(t *testing.T, srv *githubdouble.Server, token, method, path string, body any) rawResponse {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, srv.APIURL()+strings.TrimPrefix(path, "/"), rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := rawResponse{status: resp.StatusCode, header: resp.Header}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[0] == '{' {
		if err := json.Unmarshal(data, &out.body); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, data)
		}
	}
	return out
}

// wantErrorsArray asserts GitHub's 422 body: "Validation Failed" and
// exactly one errors[] entry with these keys and values.
func wantErrorsArray(t *testing.T, r rawResponse, want map[string]any) {
	t.Helper()
	if r.status != 422 || r.body["message"] != "Validation Failed" {
		t.Fatalf("got %d %v, want 422 Validation Failed", r.status, r.body)
	}
	errs, _ := r.body["errors"].([]any)
	if len(errs) != 1 {
		t.Fatalf("errors %v, want one", r.body["errors"])
	}
	got, _ := errs[0].(map[string]any)
	if len(got) != len(want) {
		t.Fatalf("error %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("error %v, want %v", got, want)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	f := newFixture(t)
	pr := f.openPR(t, "darc-main-1")
	cm, _, err := f.client.Issues.CreateComment(t.Context(), "dotnet", "runtime", 1, &github.IssueComment{Body: github.String("first")})
	if err != nil {
		t.Fatal(err)
	}
	prTooLong := map[string]any{"resource": "Issue", "field": "body", "code": "custom", "message": "body is too long (maximum is 65536 characters)"}
	commentTooLong := map[string]any{"resource": "IssueComment", "field": "data", "code": "unprocessable", "message": "Body is too long (maximum is 65536 characters)"}
	atLimit := strings.Repeat("x", 65536)
	overLimit := atLimit + "x"
	// 65,536 two-byte characters are 131,072 bytes: GitHub counts characters.
	wideAtLimit := strings.Repeat("é", 65536)
	f.branch(t, "darc-main-2", "a.txt", "a\n")
	commentPath := "repos/dotnet/runtime/issues/comments/" + jsonNumber(cm.GetID())
	for _, tc := range []struct {
		name, method, path string
		body               map[string]any
		tooLong            map[string]any // nil when the request succeeds
	}{
		{"create pull request over the limit", "POST", "repos/dotnet/runtime/pulls",
			map[string]any{"title": "t", "head": "darc-main-2", "base": "main", "body": overLimit}, prTooLong},
		{"update pull request over the limit", "PATCH", "repos/dotnet/runtime/pulls/1", map[string]any{"body": overLimit}, prTooLong},
		{"update pull request at the limit", "PATCH", "repos/dotnet/runtime/pulls/1", map[string]any{"body": atLimit}, nil},
		{"update pull request with wide characters at the limit", "PATCH", "repos/dotnet/runtime/pulls/1", map[string]any{"body": wideAtLimit}, nil},
		{"create comment over the limit", "POST", "repos/dotnet/runtime/issues/1/comments", map[string]any{"body": overLimit}, commentTooLong},
		{"create comment at the limit", "POST", "repos/dotnet/runtime/issues/1/comments", map[string]any{"body": atLimit}, nil},
		{"update comment over the limit", "PATCH", commentPath, map[string]any{"body": overLimit}, commentTooLong},
		{"update comment with wide characters at the limit", "PATCH", commentPath, map[string]any{"body": wideAtLimit}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := raw(t, f.srv, tc.method, tc.path, tc.body)
			if tc.tooLong == nil {
				if r.status/100 != 2 || r.body["body"] != tc.body["body"] {
					t.Fatalf("got %d, want success with the body kept", r.status)
				}
				return
			}
			wantErrorsArray(t, r, tc.tooLong)
		})
	}
	// The refused updates changed nothing; go-github sees the same 422.
	if got := f.repo.PullRequest(1).GetBody(); got != wideAtLimit {
		t.Fatalf("pull request body has %d characters, want the last accepted body", len([]rune(got)))
	}
	if len(f.repo.PullRequests()) != 1 {
		t.Fatal("an oversized pull request was created")
	}
	_, _, err = f.client.PullRequests.Edit(t.Context(), "dotnet", "runtime", pr.GetNumber(), &github.PullRequest{Body: github.String(overLimit)})
	wantFieldError(t, err, github.Error{Resource: "Issue", Field: "body", Code: "custom", Message: "body is too long (maximum is 65536 characters)"})
	_, _, err = f.client.Issues.EditComment(t.Context(), "dotnet", "runtime", cm.GetID(), &github.IssueComment{Body: github.String(overLimit)})
	wantFieldError(t, err, github.Error{Resource: "IssueComment", Field: "data", Code: "unprocessable", Message: "Body is too long (maximum is 65536 characters)"})
}

func jsonNumber(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestUpdateComment(t *testing.T) {
	clock := githubdouble.NewClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	srv := githubdouble.NewServer(t, githubdouble.WithClock(clock.Now))
	repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"a": "a\n"}})
	f := &fixture{srv: srv, repo: repo, client: srv.Client(githubdouble.DefaultToken)}
	f.openPR(t, "darc-main-1")
	cm, _, err := f.client.Issues.CreateComment(t.Context(), "dotnet", "runtime", 1, &github.IssueComment{Body: github.String("Auto-Merge Status: pending")})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	got, resp, err := f.client.Issues.EditComment(t.Context(), "dotnet", "runtime", cm.GetID(), &github.IssueComment{Body: github.String("Auto-Merge Status: green")})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || got.GetID() != cm.GetID() || got.GetBody() != "Auto-Merge Status: green" ||
		!got.GetCreatedAt().Time.Equal(cm.GetCreatedAt().Time) || !got.GetUpdatedAt().Time.Equal(cm.GetCreatedAt().Add(time.Minute)) {
		t.Fatalf("edited comment %s", github.Stringify(got))
	}
	if list := f.repo.Comments(1); len(list) != 1 || list[0].GetBody() != "Auto-Merge Status: green" {
		t.Fatalf("comments after the edit: %s", github.Stringify(list))
	}
	for _, tc := range []struct {
		name   string
		id     int64
		body   *string
		status int
		msg    string
	}{
		{"unknown comment", cm.GetID() + 1000, github.String("x"), 404, "Not Found"},
		{"empty body", cm.GetID(), github.String(""), 422, "Validation Failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := f.client.Issues.EditComment(t.Context(), "dotnet", "runtime", tc.id, &github.IssueComment{Body: tc.body})
			wantAPIError(t, err, tc.status, tc.msg)
		})
	}
	// Another repository's comment ids are not this one's.
	srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "other", Files: map[string]string{"a": "a\n"}})
	_, _, err = f.client.Issues.EditComment(t.Context(), "dotnet", "other", cm.GetID(), &github.IssueComment{Body: github.String("x")})
	wantAPIError(t, err, 404, "Not Found")
}

func TestPrimaryRateLimit(t *testing.T) {
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := githubdouble.NewClock(start)
	srv := githubdouble.NewServer(t, githubdouble.WithClock(clock.Now))
	srv.AddToken("other", "ghp_other")
	srv.SetRateLimit(3)
	client := srv.Client(githubdouble.DefaultToken)
	reset := start.Add(time.Hour)
	for i, wantRemaining := range []int{2, 1, 0} {
		_, resp, err := client.Users.Get(t.Context(), "")
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		if resp.Rate.Limit != 3 || resp.Rate.Remaining != wantRemaining || !resp.Rate.Reset.Time.Equal(reset) {
			t.Fatalf("request %d: rate %+v, want 3 / %d / %v", i+1, resp.Rate, wantRemaining, reset)
		}
	}
	_, _, err := client.Users.Get(t.Context(), "")
	var rle *github.RateLimitError
	if !errors.As(err, &rle) {
		t.Fatalf("got %v (%T), want *github.RateLimitError", err, err)
	}
	if rle.Response.StatusCode != 403 || rle.Rate.Remaining != 0 || !rle.Rate.Reset.Time.Equal(reset) ||
		!strings.HasPrefix(rle.Message, "API rate limit exceeded for user ID ") {
		t.Fatalf("rate limit error %d %q %+v", rle.Response.StatusCode, rle.Message, rle.Rate)
	}
	r := raw(t, srv, "GET", "user", nil)
	if r.status != 403 || r.header.Get("X-RateLimit-Remaining") != "0" || r.header.Get("X-RateLimit-Used") != "3" ||
		r.header.Get("X-RateLimit-Resource") != "core" || r.header.Get("X-RateLimit-Reset") != jsonNumber(reset.Unix()) {
		t.Fatalf("exhausted: %d %v", r.status, r.header)
	}
	// Each user has a budget of its own.
	if _, _, err := srv.Client("ghp_other").Users.Get(t.Context(), ""); err != nil {
		t.Fatalf("another user's request: %v", err)
	}
	// At the reset, a new window opens.
	clock.Advance(time.Hour)
	_, resp, err := client.Users.Get(t.Context(), "")
	if err != nil {
		t.Fatalf("after the reset: %v", err)
	}
	if resp.Rate.Remaining != 2 || !resp.Rate.Reset.Time.Equal(reset.Add(time.Hour)) {
		t.Fatalf("after the reset: rate %+v", resp.Rate)
	}
}

func TestDefaultRateLimitCountsDown(t *testing.T) {
	f := newFixture(t)
	for want := 4999; want >= 4997; want-- {
		_, resp, err := f.client.Users.Get(t.Context(), "")
		if err != nil {
			t.Fatal(err)
		}
		if resp.Rate.Limit != 5000 || resp.Rate.Remaining != want {
			t.Fatalf("rate %+v, want %d of 5000 left", resp.Rate, want)
		}
	}
	// Requests without a token are reported against the anonymous budget.
	req, _ := http.NewRequestWithContext(t.Context(), "GET", f.srv.APIURL()+"user", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("X-RateLimit-Limit") != "60" {
		t.Fatalf("anonymous: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestSecondaryRateLimit(t *testing.T) {
	f := newFixture(t)
	f.srv.TripSecondaryRateLimit(2, 0)
	for i := range 2 {
		_, _, err := f.client.Repositories.Get(t.Context(), "dotnet", "runtime")
		var arle *github.AbuseRateLimitError
		if !errors.As(err, &arle) {
			t.Fatalf("request %d: got %v (%T), want *github.AbuseRateLimitError", i+1, err, err)
		}
		if arle.RetryAfter == nil || *arle.RetryAfter != 0 || !strings.HasPrefix(arle.Message, "You have exceeded a secondary rate limit.") {
			t.Fatalf("request %d: %q retry after %v", i+1, arle.Message, arle.RetryAfter)
		}
	}
	if _, _, err := f.client.Repositories.Get(t.Context(), "dotnet", "runtime"); err != nil {
		t.Fatalf("after the trip: %v", err)
	}

	// Retry-After is whole seconds, rounded up; the body is GitHub's.
	f.srv.TripSecondaryRateLimit(1, 1500*time.Millisecond)
	r := raw(t, f.srv, "GET", "repos/dotnet/runtime", nil)
	if r.status != 403 || r.header.Get("Retry-After") != "2" ||
		r.body["documentation_url"] != "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits" {
		t.Fatalf("secondary limit: %d %v %v", r.status, r.header, r.body)
	}
	// The refused requests count against the primary budget: three
	// through the client, one raw.
	if got := r.header.Get("X-RateLimit-Remaining"); got != "4996" {
		t.Fatalf("remaining %s after four requests, want 4996", got)
	}
}
