package githubdouble_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-github/v60/github"

	githubdouble "github.com/maestroplusplus/maestro/test/github"
	"github.com/maestroplusplus/maestro/test/github/ghspec"
)

const hookSecret = "s3cret-for-the-hook"

// received is one delivery as a receiver saw it.
type received struct {
	header http.Header
	body   []byte
	// event is the payload parsed by go-github after ValidatePayload
	// accepted its signature (nil when it did not).
	event  any
	sigErr error
}

// receiver is a webhook endpoint that checks each delivery's signature with
// go-github's ValidatePayload, the way `maestro serve` does, and keeps it.
type receiver struct {
	srv    *httptest.Server
	secret string
	mu     sync.Mutex
	got    []received
}

func newReceiver(t *testing.T, secret string) *receiver {
	t.Helper()
	rc := &receiver{secret: secret}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := received{header: r.Header.Clone(), body: body}
		payload, err := github.ValidatePayload(r, []byte(rc.secret))
		rec.sigErr = err
		if err == nil {
			rec.event, err = github.ParseWebHook(github.WebHookType(r), payload)
			if err != nil {
				rec.sigErr = err
			}
		}
		rc.mu.Lock()
		rc.got = append(rc.got, rec)
		rc.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

// summary describes deliveries in a line each, for failure messages.
func summary(ds []githubdouble.Delivery) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "\n  #%d hook %d %s: status %d, error %q, answer %.200q", d.ID, d.HookID, eventKey(d), d.StatusCode, d.Err, d.Response)
	}
	return b.String()
}

// eventKey is "event.action" of a delivery.
func eventKey(d githubdouble.Delivery) string {
	if d.Action == "" {
		return d.Event
	}
	return d.Event + "." + d.Action
}

// TestWebhookEvents drives a pull request's life through the API, git-free
// test helpers and merges, and checks that every event the product reacts to
// is delivered once, matches its schema in @octokit/openapi-webhooks, is
// signed with the hook's secret and names its event in X-GitHub-Event.
func TestWebhookEvents(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, hookSecret)
	ctx := t.Context()
	hookID := f.repo.AddHook(githubdouble.HookSpec{URL: rc.srv.URL, Secret: hookSecret, Events: []string{"*"}})

	pr := f.openPR(t, "darc-main-1")                                                                                         // push (new branch), pull_request.opened
	f.repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-1", Message: "More", Files: map[string]string{"b.txt": "b\n"}}) // push, pull_request.synchronize
	if _, _, err := f.client.PullRequests.Edit(ctx, "dotnet", "runtime", pr.GetNumber(), &github.PullRequest{Title: github.String("new title")}); err != nil {
		t.Fatal(err) // pull_request.edited
	}
	head := f.repo.Branch("darc-main-1")
	f.repo.AddCheckRun(github.CheckRun{Name: github.String("build"), HeadSHA: github.String(head), Conclusion: github.String("success")}) // check_run.created, check_run.completed, check_suite.completed
	if _, _, err := f.client.Repositories.CreateStatus(ctx, "dotnet", "runtime", head, &github.RepoStatus{State: github.String("success"), Context: github.String("ci")}); err != nil {
		t.Fatal(err) // status
	}
	f.repo.AddReview(pr.GetNumber(), "reviewer", github.PullRequestReview{State: github.String("APPROVED")}) // pull_request_review.submitted
	comment, _, err := f.client.Issues.CreateComment(ctx, "dotnet", "runtime", pr.GetNumber(), &github.IssueComment{Body: github.String("hello")})
	if err != nil {
		t.Fatal(err) // issue_comment.created
	}
	if _, _, err := f.client.Issues.EditComment(ctx, "dotnet", "runtime", comment.GetID(), &github.IssueComment{Body: github.String("hello again")}); err != nil {
		t.Fatal(err) // issue_comment.edited
	}
	if _, _, err := f.client.PullRequests.Merge(ctx, "dotnet", "runtime", pr.GetNumber(), "", &github.PullRequestOptions{MergeMethod: "squash"}); err != nil {
		t.Fatal(err) // pull_request.closed, push (main)
	}

	deliveries := f.srv.WaitDeliveries()
	var keys []string
	for _, d := range deliveries {
		keys = append(keys, eventKey(d))
	}
	want := []string{
		"ping",
		"push", "create", "pull_request.opened",
		"push", "pull_request.synchronize",
		"pull_request.edited",
		"check_run.created", "check_run.completed", "check_suite.completed",
		"status",
		"pull_request_review.submitted",
		"issue_comment.created", "issue_comment.edited",
		"pull_request.closed", "push",
	}
	if !slices.Equal(keys, want) {
		t.Fatalf("deliveries\n got %v\nwant %v", keys, want)
	}
	got := rc.received()
	if len(got) != len(deliveries) {
		t.Fatalf("receiver got %d deliveries, the double recorded %d", len(got), len(deliveries))
	}
	spec := ghspec.Webhooks(t)
	for i, d := range deliveries {
		t.Run(strconv.Itoa(i)+"-"+eventKey(d), func(t *testing.T) {
			rec := got[i]
			if !d.OK() || d.StatusCode != http.StatusAccepted || d.HookID != hookID {
				t.Fatalf("delivery %v: want status 202 to hook %d", summary([]githubdouble.Delivery{d}), hookID)
			}
			if rec.sigErr != nil {
				t.Fatalf("go-github refused the delivery: %v", rec.sigErr)
			}
			if !bytes.Equal(rec.body, d.Payload) {
				t.Fatalf("the receiver got another body than the recorded payload")
			}
			for name, want := range map[string]string{
				"X-GitHub-Event":                         d.Event,
				"X-GitHub-Delivery":                      d.GUID,
				"X-GitHub-Hook-ID":                       strconv.FormatInt(hookID, 10),
				"X-GitHub-Hook-Installation-Target-Type": "repository",
				"Content-Type":                           "application/json",
			} {
				if v := rec.header.Get(name); v != want {
					t.Errorf("%s: %q, want %q", name, v, want)
				}
			}
			if ua := rec.header.Get("User-Agent"); !strings.HasPrefix(ua, "GitHub-Hookshot/") {
				t.Errorf("User-Agent %q", ua)
			}
			if len(d.GUID) != 36 || strings.Count(d.GUID, "-") != 4 {
				t.Errorf("X-GitHub-Delivery %q is not a GUID", d.GUID)
			}
			if err := spec.CheckWebhook(d.Event, d.Action, rec.body); err != nil {
				t.Fatalf("payload does not match @octokit/openapi-webhooks: %v", err)
			}
			var top struct {
				Action string `json:"action"`
			}
			if err := json.Unmarshal(rec.body, &top); err != nil || top.Action != d.Action {
				t.Fatalf("payload action %q (%v), want %q", top.Action, err, d.Action)
			}
		})
	}
	// What the payloads say, as go-github decodes them.
	var sawPR []string
	for i, rec := range got {
		switch ev := rec.event.(type) {
		case *github.PullRequestEvent:
			sawPR = append(sawPR, ev.GetAction())
			if ev.GetNumber() != pr.GetNumber() || ev.GetPullRequest().GetNumber() != pr.GetNumber() {
				t.Errorf("delivery %d: pull request %d, want %d", i, ev.GetNumber(), pr.GetNumber())
			}
			switch ev.GetAction() {
			case "synchronize":
				if ev.GetAfter() != head || ev.GetBefore() != pr.GetHead().GetSHA() || ev.GetPullRequest().GetHead().GetSHA() != head {
					t.Errorf("synchronize before %s after %s, want %s → %s", ev.GetBefore(), ev.GetAfter(), pr.GetHead().GetSHA(), head)
				}
			case "edited":
				if ev.GetChanges().GetTitle().GetFrom() != pr.GetTitle() || ev.GetPullRequest().GetTitle() != "new title" {
					t.Errorf("edited changes %+v", ev.GetChanges())
				}
			case "closed":
				if !ev.GetPullRequest().GetMerged() || ev.GetSender().GetLogin() != githubdouble.DefaultLogin {
					t.Errorf("closed: merged %v by %s, want merged by %s", ev.GetPullRequest().GetMerged(), ev.GetSender().GetLogin(), githubdouble.DefaultLogin)
				}
			}
		case *github.PushEvent:
			if ev.GetRef() == "refs/heads/darc-main-1" && ev.GetCreated() && (len(ev.Commits) != 1 || ev.GetHeadCommit().GetID() != pr.GetHead().GetSHA()) {
				t.Errorf("push of the new branch: %d commits, head %s; want 1, %s", len(ev.Commits), ev.GetHeadCommit().GetID(), pr.GetHead().GetSHA())
			}
			if ev.GetRef() == "refs/heads/main" && (ev.GetAfter() != f.repo.Branch("main") || ev.GetForced() || len(ev.Commits) != 1) {
				t.Errorf("push of the merge to main: after %s forced %v %d commits", ev.GetAfter(), ev.GetForced(), len(ev.Commits))
			}
		case *github.CheckRunEvent:
			if ev.GetCheckRun().GetHeadSHA() != head || len(ev.GetCheckRun().PullRequests) != 1 || ev.GetSender().GetLogin() != "github-actions[bot]" {
				t.Errorf("check_run %s: head %s, %d pull requests, sender %s", ev.GetAction(), ev.GetCheckRun().GetHeadSHA(), len(ev.GetCheckRun().PullRequests), ev.GetSender().GetLogin())
			}
		case *github.CheckSuiteEvent:
			if ev.GetCheckSuite().GetConclusion() != "success" || ev.GetCheckSuite().GetHeadBranch() != "darc-main-1" {
				t.Errorf("check_suite: conclusion %q branch %q", ev.GetCheckSuite().GetConclusion(), ev.GetCheckSuite().GetHeadBranch())
			}
		case *github.StatusEvent:
			if ev.GetSHA() != head || ev.GetState() != "success" || ev.GetContext() != "ci" || len(ev.Branches) != 1 {
				t.Errorf("status %s %s %s on %d branches", ev.GetSHA(), ev.GetState(), ev.GetContext(), len(ev.Branches))
			}
		case *github.PullRequestReviewEvent:
			if ev.GetReview().GetState() != "approved" || ev.GetReview().GetUser().GetLogin() != "reviewer" {
				t.Errorf("review %s by %s", ev.GetReview().GetState(), ev.GetReview().GetUser().GetLogin())
			}
		case *github.IssueCommentEvent:
			want := map[string]string{"created": "hello", "edited": "hello again"}[ev.GetAction()]
			if ev.GetComment().GetBody() != want || !ev.GetIssue().IsPullRequest() || ev.GetIssue().GetNumber() != pr.GetNumber() ||
				ev.GetAction() == "edited" && ev.GetChanges().GetBody().GetFrom() != "hello" {
				t.Errorf("comment %s %q on issue %d", ev.GetAction(), ev.GetComment().GetBody(), ev.GetIssue().GetNumber())
			}
		}
	}
	if want := []string{"opened", "synchronize", "edited", "closed"}; !slices.Equal(sawPR, want) {
		t.Errorf("pull_request actions %v, want %v", sawPR, want)
	}
	guids := map[string]bool{}
	for _, d := range deliveries {
		if guids[d.GUID] {
			t.Errorf("delivery GUID %s used twice", d.GUID)
		}
		guids[d.GUID] = true
	}
}

// TestHookRoutes drives the repository webhooks API through go-github:
// create (with GitHub's default content type, form), list, get, delete,
// and GitHub's errors.
func TestHookRoutes(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, hookSecret)
	ctx := t.Context()
	created, resp, err := f.client.Repositories.CreateHook(ctx, "dotnet", "runtime", &github.Hook{
		Config: &github.HookConfig{URL: github.String(rc.srv.URL), Secret: github.String(hookSecret)},
		Events: []string{"pull_request", "status"},
	})
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create hook: %v", err)
	}
	if created.GetConfig().GetContentType() != "form" || created.GetConfig().GetSecret() != "********" ||
		!slices.Equal(created.Events, []string{"pull_request", "status"}) || created.GetType() != "Repository" || created.GetName() != "web" {
		t.Fatalf("created hook %+v, config %+v", created, created.GetConfig())
	}
	// The ping arrives form-encoded, signed over the encoded body.
	ds := f.srv.WaitDeliveries()
	if len(ds) != 1 || ds[0].Event != "ping" || !ds[0].OK() {
		t.Fatalf("deliveries after creating a hook: %v", summary(ds))
	}
	rec := rc.received()[0]
	if rec.sigErr != nil || rec.header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Fatalf("ping: %v, content type %q", rec.sigErr, rec.header.Get("Content-Type"))
	}
	if ping, ok := rec.event.(*github.PingEvent); !ok || ping.GetHookID() != created.GetID() {
		t.Fatalf("ping event %#v", rec.event)
	}

	hooks, _, err := f.client.Repositories.ListHooks(ctx, "dotnet", "runtime", nil)
	if err != nil || len(hooks) != 1 || hooks[0].GetID() != created.GetID() {
		t.Fatalf("list hooks: %v %+v", err, hooks)
	}
	got, _, err := f.client.Repositories.GetHook(ctx, "dotnet", "runtime", created.GetID())
	if err != nil || got.LastResponse["code"] != float64(http.StatusAccepted) || got.LastResponse["status"] != "active" {
		t.Fatalf("get hook: %v, last response %v", err, got.LastResponse)
	}

	// Only the events the hook wants are delivered.
	f.repo.Commit(githubdouble.CommitSpec{Branch: "feature", Files: map[string]string{"x": "x\n"}}) // push: not wanted
	f.repo.AddStatus(f.repo.Branch("feature"), github.RepoStatus{State: github.String("pending")})
	if ds := f.srv.WaitDeliveries(); len(ds) != 2 || ds[1].Event != "status" {
		t.Fatalf("deliveries %v, want ping and status", summary(ds))
	}

	for _, tc := range []struct {
		name string
		hook *github.Hook
		msg  string
	}{
		{"no url", &github.Hook{Config: &github.HookConfig{ContentType: github.String("json")}}, "Config must contain URL for webhooks"},
		{"bad url", &github.Hook{Config: &github.HookConfig{URL: github.String("not a url")}}, "The URL you've entered is not valid. Please make sure that you encode all special characters first"},
		{"same url", &github.Hook{Config: &github.HookConfig{URL: github.String(rc.srv.URL)}}, "Hook already exists on this repository"},
		{"bad content type", &github.Hook{Config: &github.HookConfig{URL: github.String(rc.srv.URL), ContentType: github.String("xml")}}, "content_type is not included in the list"},
		{"bad event", &github.Hook{Config: &github.HookConfig{URL: github.String(rc.srv.URL)}, Events: []string{"Pull Request"}}, "Pull Request is not a valid event name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := f.client.Repositories.CreateHook(ctx, "dotnet", "runtime", tc.hook)
			wantFieldError(t, err, github.Error{Resource: "Hook", Code: "custom", Message: tc.msg})
		})
	}

	if _, err := f.client.Repositories.DeleteHook(ctx, "dotnet", "runtime", created.GetID()); err != nil {
		t.Fatalf("delete hook: %v", err)
	}
	_, _, err = f.client.Repositories.GetHook(ctx, "dotnet", "runtime", created.GetID())
	wantAPIError(t, err, http.StatusNotFound, "Not Found")
	f.repo.AddStatus(f.repo.Branch("feature"), github.RepoStatus{State: github.String("success")})
	if ds := f.srv.WaitDeliveries(); len(ds) != 2 {
		t.Fatalf("a deleted hook got a delivery: %v", summary(ds))
	}
}

// TestDeliveryFailures: a receiver that cannot be reached, or answers an
// error, is a failed delivery the test can read, never a panic or a hang;
// later deliveries still go out.
func TestDeliveryFailures(t *testing.T) {
	f := newFixture(t)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close() // nothing listens at its address any more
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	unreachable := f.repo.AddHook(githubdouble.HookSpec{URL: gone.URL, Secret: hookSecret, Events: []string{"status"}})
	erroring := f.repo.AddHook(githubdouble.HookSpec{URL: failing.URL, Events: []string{"status"}})
	f.repo.AddStatus(f.repo.Branch("main"), github.RepoStatus{State: github.String("success")})

	ds := f.srv.WaitDeliveries()
	if len(ds) != 4 {
		t.Fatalf("%d deliveries, want 2 pings and 2 statuses: %v", len(ds), summary(ds))
	}
	for _, d := range ds {
		switch d.HookID {
		case unreachable:
			if d.OK() || d.StatusCode != 0 || !strings.Contains(d.Err, "connection refused") {
				t.Errorf("delivery to a closed port: status %d, error %q", d.StatusCode, d.Err)
			}
			if d.Header.Get("X-Hub-Signature-256") == "" {
				t.Errorf("delivery with a secret has no signature")
			}
		case erroring:
			if d.OK() || d.StatusCode != http.StatusInternalServerError || d.Err != "" || !strings.Contains(string(d.Response), "boom") {
				t.Errorf("delivery answered 500: %v", summary([]githubdouble.Delivery{d}))
			}
			if d.Header.Get("X-Hub-Signature-256") != "" {
				t.Errorf("delivery without a secret is signed")
			}
		default:
			t.Errorf("delivery to unknown hook %d", d.HookID)
		}
	}
	// One event to two hooks: one GUID (GitHub's guid is per event); each
	// hook's ping is an event of its own.
	if ds[2].GUID != ds[3].GUID || ds[0].GUID == ds[1].GUID {
		t.Errorf("GUIDs: pings %s %s, status %s %s", ds[0].GUID, ds[1].GUID, ds[2].GUID, ds[3].GUID)
	}
	h, _, err := f.client.Repositories.GetHook(t.Context(), "dotnet", "runtime", unreachable)
	if err != nil || h.LastResponse["status"] != "failed" || h.LastResponse["code"] != nil {
		t.Fatalf("hook after a failed delivery: %v, last response %v", err, h.LastResponse)
	}
}

// TestCheckRunWebhooks: check runs a GitHub App writes through the API send
// check_run created and completed, and the app's suite on the commit sends
// check_suite completed once its last run completes, with the worst
// conclusion.
func TestCheckRunWebhooks(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, hookSecret)
	ctx := t.Context()
	f.srv.AddInstallationToken("ci-app", "ghs_ciAppToken")
	app := f.srv.Client("ghs_ciAppToken")
	f.repo.AddHook(githubdouble.HookSpec{URL: rc.srv.URL, Secret: hookSecret, Events: []string{"check_run", "check_suite"}})
	sha := f.repo.Branch("main")
	build, _, err := app.Checks.CreateCheckRun(ctx, "dotnet", "runtime", github.CreateCheckRunOptions{Name: "build", HeadSHA: sha, ExternalID: github.String("b-1")})
	if err != nil {
		t.Fatal(err)
	}
	test, _, err := app.Checks.CreateCheckRun(ctx, "dotnet", "runtime", github.CreateCheckRunOptions{Name: "test", HeadSHA: sha, Status: github.String("in_progress")})
	if err != nil {
		t.Fatal(err)
	}
	if build.GetCheckSuite().GetID() != test.GetCheckSuite().GetID() {
		t.Fatalf("one app's runs on one commit are in suites %d and %d", build.GetCheckSuite().GetID(), test.GetCheckSuite().GetID())
	}
	complete := func(run *github.CheckRun, conclusion string) {
		t.Helper()
		if _, _, err := app.Checks.UpdateCheckRun(ctx, "dotnet", "runtime", run.GetID(), github.UpdateCheckRunOptions{Name: run.GetName(), Conclusion: github.String(conclusion)}); err != nil {
			t.Fatal(err)
		}
	}
	complete(build, "success")
	complete(test, "failure")

	ds := f.srv.WaitDeliveries()
	var keys []string
	for _, d := range ds {
		keys = append(keys, eventKey(d))
	}
	want := []string{"ping", "check_run.created", "check_run.created", "check_run.completed", "check_run.completed", "check_suite.completed"}
	if !slices.Equal(keys, want) {
		t.Fatalf("deliveries %v, want %v", keys, want)
	}
	got := rc.received()
	completed, ok := got[3].event.(*github.CheckRunEvent)
	if !ok || completed.GetCheckRun().GetConclusion() != "success" || completed.GetCheckRun().GetExternalID() != "b-1" ||
		completed.GetSender().GetLogin() != "ci-app[bot]" || completed.GetCheckRun().GetApp().GetSlug() != "ci-app" {
		t.Fatalf("check_run.completed: %#v", rc.received()[3].event)
	}
	suite, ok := got[5].event.(*github.CheckSuiteEvent)
	if !ok || suite.GetCheckSuite().GetConclusion() != "failure" || suite.GetCheckSuite().GetID() != build.GetCheckSuite().GetID() ||
		suite.GetCheckSuite().GetHeadSHA() != sha || suite.GetCheckSuite().GetStatus() != "completed" {
		t.Fatalf("check_suite.completed: %#v", got[5].event)
	}
	for i, rec := range got {
		if rec.sigErr != nil {
			t.Errorf("delivery %d: %v", i, rec.sigErr)
		}
	}
}

// TestRedeliveryAndReplay: GitHub's redelivery (API and test control) sends
// the same GUID, headers and body again; a delivery's request can be
// rebuilt for another receiver, and a changed body no longer matches its
// signature. The deliveries API lists them newest first, as GitHub's
// description says.
func TestRedeliveryAndReplay(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, hookSecret)
	ctx := t.Context()
	hookID := f.repo.AddHook(githubdouble.HookSpec{URL: rc.srv.URL, Secret: hookSecret, Events: []string{"status"}})
	f.repo.AddStatus(f.repo.Branch("main"), github.RepoStatus{State: github.String("success")})
	first := f.srv.WaitDeliveries()[1]
	if _, _, err := f.client.Repositories.RedeliverHookDelivery(ctx, "dotnet", "runtime", hookID, first.ID); err != nil {
		var accepted *github.AcceptedError
		if !errors.As(err, &accepted) {
			t.Fatalf("redeliver: %v", err)
		}
	}
	f.srv.Redeliver(first.ID)
	ds := f.srv.WaitDeliveries()
	if len(ds) != 4 {
		t.Fatalf("deliveries %v", summary(ds))
	}
	got := rc.received()
	for _, i := range []int{2, 3} {
		if !ds[i].Redelivery || ds[i].GUID != first.GUID || !ds[i].OK() || !bytes.Equal(got[i].body, got[1].body) ||
			got[i].header.Get("X-Hub-Signature-256") != got[1].header.Get("X-Hub-Signature-256") || got[i].sigErr != nil {
			t.Fatalf("redelivery %d: %v", i, summary(ds[i:i+1]))
		}
	}

	list, _, err := f.client.Repositories.ListHookDeliveries(ctx, "dotnet", "runtime", hookID, nil)
	if err != nil || len(list) != 4 || !list[0].GetRedelivery() || list[3].GetEvent() != "ping" || list[1].GetGUID() != first.GUID {
		t.Fatalf("list deliveries: %v %v", err, list)
	}
	hooks := "/repos/dotnet/runtime/hooks"
	id := strconv.FormatInt(hookID, 10)
	for _, path := range []string{hooks, hooks + "/" + id, hooks + "/" + id + "/deliveries"} {
		checkREST(t, f.srv, "GET", path)
	}

	other := newReceiver(t, hookSecret)
	req, err := first.NewRequest(ctx, other.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	tampered := first
	tampered.Body = bytes.Replace(first.Body, []byte(`"success"`), []byte(`"failure"`), 1)
	if req, err = tampered.NewRequest(ctx, other.srv.URL); err != nil {
		t.Fatal(err)
	}
	if _, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	replayed := other.received()
	if len(replayed) != 2 || replayed[0].sigErr != nil || replayed[1].sigErr == nil {
		t.Fatalf("replay: %v, tampered replay: %v; want accepted, refused", replayed[0].sigErr, replayed[1].sigErr)
	}
}

// checkREST sends an API request with the default token and validates the
// response against GitHub's REST description.
func checkREST(t *testing.T, srv *githubdouble.Server, method, path string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, strings.TrimSuffix(srv.APIURL(), "/")+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+githubdouble.DefaultToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	op, err := ghspec.REST(t).Match(method, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := op.CheckResponse(resp.StatusCode, resp.Header, body); err != nil {
		t.Errorf("%s %s: %v", method, path, err)
	}
}

// TestPushWebhooks: every way a ref moves sends one push event with the
// pusher and the commits it brought: a git push (as the token's user), a
// force update and a tag through the refs API, and a branch deletion.
func TestPushWebhooks(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, hookSecret)
	ctx := t.Context()
	f.repo.AddHook(githubdouble.HookSpec{URL: rc.srv.URL, Secret: hookSecret, Events: []string{"push", "create", "delete"}})
	main := f.repo.Branch("main")

	dir := t.TempDir()
	git(t, "", "clone", "-q", f.repo.AuthCloneURL(githubdouble.DefaultToken), dir)
	git(t, dir, "checkout", "-q", "-b", "topic")
	for _, name := range []string{"one", "two"} {
		git(t, dir, "commit", "-q", "--allow-empty", "-m", name)
	}
	git(t, dir, "push", "-q", "origin", "topic")
	topic := f.repo.Branch("topic")
	git(t, dir, "tag", "-a", "v0", "-m", "annotated")
	git(t, dir, "push", "-q", "origin", "v0")
	tagObject := git(t, dir, "rev-parse", "v0")

	if _, _, err := f.client.Git.UpdateRef(ctx, "dotnet", "runtime", &github.Reference{Ref: github.String("refs/heads/topic"), Object: &github.GitObject{SHA: github.String(main)}}, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.client.Git.CreateRef(ctx, "dotnet", "runtime", &github.Reference{Ref: github.String("refs/tags/v1"), Object: &github.GitObject{SHA: github.String(topic)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Git.DeleteRef(ctx, "dotnet", "runtime", "heads/topic"); err != nil {
		t.Fatal(err)
	}

	f.srv.WaitDeliveries()
	type push struct {
		ref, before, after       string
		created, deleted, forced bool
		commits                  int
	}
	var got []push
	var refs []string
	for _, rec := range rc.received()[1:] {
		switch ev := rec.event.(type) {
		case *github.CreateEvent:
			refs = append(refs, "create "+ev.GetRefType()+" "+ev.GetRef())
			continue
		case *github.DeleteEvent:
			refs = append(refs, "delete "+ev.GetRefType()+" "+ev.GetRef())
			continue
		}
		ev, ok := rec.event.(*github.PushEvent)
		if !ok || rec.sigErr != nil {
			t.Fatalf("delivery %T: %v", rec.event, rec.sigErr)
		}
		if ev.GetPusher().GetName() != githubdouble.DefaultLogin || ev.GetSender().GetLogin() != githubdouble.DefaultLogin {
			t.Errorf("push of %s by %s (sender %s)", ev.GetRef(), ev.GetPusher().GetName(), ev.GetSender().GetLogin())
		}
		got = append(got, push{ev.GetRef(), ev.GetBefore(), ev.GetAfter(), ev.GetCreated(), ev.GetDeleted(), ev.GetForced(), len(ev.Commits)})
		if ev.GetRef() == "refs/tags/v0" && ev.GetHeadCommit().GetID() != topic {
			t.Errorf("annotated tag's head commit %s, want the tagged %s", ev.GetHeadCommit().GetID(), topic)
		}
	}
	zero := strings.Repeat("0", 40)
	want := []push{
		{"refs/heads/topic", zero, topic, true, false, false, 2},
		{"refs/tags/v0", zero, tagObject, true, false, false, 0},
		{"refs/heads/topic", topic, main, false, false, true, 0},
		{"refs/tags/v1", zero, topic, true, false, false, 0}, // v0 holds its commits already
		{"refs/heads/topic", main, zero, false, true, false, 0},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pushes\n got %+v\nwant %+v", got, want)
	}
	if want := []string{"create branch topic", "create tag v0", "create tag v1", "delete branch topic"}; !slices.Equal(refs, want) {
		t.Fatalf("create/delete events %q, want %q", refs, want)
	}
}

// TestAutoMergeWebhooks: enabling auto-merge sends
// pull_request.auto_merge_enabled (with auto_merge in the payload); the
// required check turning green merges the pull request, which sends
// pull_request.closed (merged, by the user who enabled it) and the push of
// the base branch at once, without another request.
func TestAutoMergeWebhooks(t *testing.T) {
	f, id := autoMergeFixture(t)
	rc := newReceiver(t, hookSecret)
	f.repo.AddHook(githubdouble.HookSpec{URL: rc.srv.URL, Secret: hookSecret, Events: []string{"pull_request", "push", "check_run"}})
	if res := graphql(t, f.srv, "/graphql", githubdouble.DefaultToken, enableMutation, map[string]any{"id": id, "method": "SQUASH"}); len(res.Errors) > 0 {
		t.Fatalf("enable: %v", res.Errors)
	}
	// A push to the head while auto-merge is on: synchronize carries auto_merge.
	head := f.repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-1", Files: map[string]string{"c.txt": "c\n"}})
	f.repo.AddCheckRun(github.CheckRun{Name: github.String("build"), HeadSHA: github.String(head), Conclusion: github.String("success")})

	ds := f.srv.WaitDeliveries()
	var keys []string
	for _, d := range ds {
		keys = append(keys, eventKey(d))
	}
	want := []string{"ping", "pull_request.auto_merge_enabled", "push", "pull_request.synchronize",
		"check_run.created", "check_run.completed", "pull_request.closed", "push"}
	if !slices.Equal(keys, want) {
		t.Fatalf("deliveries\n got %v\nwant %v", keys, want)
	}
	got := rc.received()
	if ev, ok := got[3].event.(*github.PullRequestEvent); !ok || ev.GetPullRequest().GetAutoMerge().GetMergeMethod() != "squash" {
		t.Fatalf("synchronize while auto-merge is on: %#v", got[3].event)
	}
	closed, ok := got[6].event.(*github.PullRequestEvent)
	if !ok || !closed.GetPullRequest().GetMerged() || closed.GetPullRequest().GetMergedBy().GetLogin() != githubdouble.DefaultLogin {
		t.Fatalf("closed: %#v", got[6].event)
	}
	if push, ok := got[7].event.(*github.PushEvent); !ok || push.GetRef() != "refs/heads/main" || push.GetAfter() != f.repo.Branch("main") {
		t.Fatalf("push of the merge: %#v", got[7].event)
	}
}

// TestLabelWebhooks: adding, replacing and removing a pull request's labels
// sends one pull_request labeled or unlabeled per label, with the label;
// the pull request (and an issue comment's issue) show the labels it has.
func TestLabelWebhooks(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, hookSecret)
	ctx := t.Context()
	pr := f.openPR(t, "darc-main-1")
	f.repo.AddHook(githubdouble.HookSpec{URL: rc.srv.URL, Secret: hookSecret, Events: []string{"pull_request", "issue_comment"}})
	n := pr.GetNumber()
	if _, _, err := f.client.Issues.AddLabelsToIssue(ctx, "dotnet", "runtime", n, []string{"area-infra", "automerge"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.client.Issues.ReplaceLabelsForIssue(ctx, "dotnet", "runtime", n, []string{"automerge", "blocked"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Issues.RemoveLabelForIssue(ctx, "dotnet", "runtime", n, "blocked"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.client.Issues.CreateComment(ctx, "dotnet", "runtime", n, &github.IssueComment{Body: github.String("hi")}); err != nil {
		t.Fatal(err)
	}
	f.srv.WaitDeliveries()
	var got []string
	for _, rec := range rc.received()[1:] {
		switch ev := rec.event.(type) {
		case *github.PullRequestEvent:
			var names []string
			for _, l := range ev.GetPullRequest().Labels {
				names = append(names, l.GetName())
			}
			got = append(got, ev.GetAction()+" "+ev.GetLabel().GetName()+" "+strings.Join(names, ","))
		case *github.IssueCommentEvent:
			var names []string
			for _, l := range ev.GetIssue().Labels {
				names = append(names, l.GetName())
			}
			got = append(got, "comment "+strings.Join(names, ","))
		default:
			t.Fatalf("unexpected %T", rec.event)
		}
	}
	want := []string{
		"labeled area-infra area-infra,automerge",
		"labeled automerge area-infra,automerge",
		"unlabeled area-infra automerge,blocked",
		"labeled blocked automerge,blocked",
		"unlabeled blocked automerge",
		"comment automerge",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events\n got %q\nwant %q", got, want)
	}
}

// BenchmarkWebhookEvent times one event end to end: a pull request edit
// through the API, its pull_request.edited payload rendered from the
// double's state, validated against @octokit/openapi-webhooks, signed and
// delivered to a receiver that checks the signature; "no hook" is the edit
// alone, so the difference is what webhooks cost.
func BenchmarkWebhookEvent(b *testing.B) {
	for _, hooked := range []bool{false, true} {
		name := "no hook"
		if hooked {
			name = "hook"
		}
		b.Run(name, func(b *testing.B) {
			srv := githubdouble.NewServer(b)
			repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"a.txt": "a\n"}})
			repo.Commit(githubdouble.CommitSpec{Branch: "topic", Files: map[string]string{"b.txt": "b\n"}})
			client := srv.Client(githubdouble.DefaultToken)
			ctx := b.Context()
			pr, _, err := client.PullRequests.Create(ctx, "dotnet", "runtime", &github.NewPullRequest{Title: github.String("t"), Head: github.String("topic"), Base: github.String("main")})
			if err != nil {
				b.Fatal(err)
			}
			var received, refused atomic.Int64
			receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				received.Add(1)
				if _, err := github.ValidatePayload(r, []byte(hookSecret)); err != nil {
					refused.Add(1)
				}
			}))
			b.Cleanup(receiver.Close)
			if hooked {
				repo.AddHook(githubdouble.HookSpec{URL: receiver.URL, Secret: hookSecret, Events: []string{"pull_request"}})
				srv.WaitDeliveries()
			}
			i := 0
			for b.Loop() {
				i++
				if _, _, err := client.PullRequests.Edit(ctx, "dotnet", "runtime", pr.GetNumber(), &github.PullRequest{Title: github.String("title " + strconv.Itoa(i))}); err != nil {
					b.Fatal(err)
				}
				srv.WaitDeliveries()
			}
			if want := int64(0); hooked {
				want = int64(i) + 1 // and the ping
				if received.Load() != want || refused.Load() != 0 {
					b.Fatalf("%d deliveries received, %d refused; want %d, 0", received.Load(), refused.Load(), want)
				}
			}
		})
	}
}

// TestAppHook: a GitHub App's webhook gets the events of every repository,
// later ones included, each payload naming the app's installation and each
// delivery the app as its target, beside the repository hooks.
func TestAppHook(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, hookSecret)
	repoHooks := newReceiver(t, hookSecret)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f.srv.AddApp("maestro-app", 42, &key.PublicKey, 7)
	appHook := f.srv.AddAppHook("maestro-app", githubdouble.HookSpec{URL: rc.srv.URL, Secret: hookSecret, Events: []string{"*"}})
	f.repo.AddHook(githubdouble.HookSpec{URL: repoHooks.srv.URL, Secret: hookSecret, Events: []string{"status"}})
	other := f.srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "arcade", Files: map[string]string{"a": "a\n"}})
	f.repo.AddStatus(f.repo.Branch("main"), github.RepoStatus{State: github.String("success")})
	other.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"b": "b\n"}})

	ds := f.srv.WaitDeliveries()
	var app []string
	for _, d := range ds {
		if d.HookID == appHook {
			app = append(app, d.Repo+" "+eventKey(d))
		}
	}
	if want := []string{"dotnet/runtime status", "dotnet/arcade push"}; !slices.Equal(app, want) {
		t.Fatalf("app hook deliveries %q, want %q", app, want)
	}
	for i, rec := range rc.received() {
		if rec.sigErr != nil || rec.header.Get("X-GitHub-Hook-Installation-Target-Type") != "integration" ||
			rec.header.Get("X-GitHub-Hook-Installation-Target-ID") != "42" || rec.header.Get("X-GitHub-Hook-ID") != strconv.FormatInt(appHook, 10) {
			t.Errorf("app delivery %d: %v, headers %v", i, rec.sigErr, rec.header)
		}
		var body struct {
			Installation struct {
				ID int64 `json:"id"`
			} `json:"installation"`
		}
		if err := json.Unmarshal(rec.body, &body); err != nil || body.Installation.ID != 7 {
			t.Errorf("app delivery %d names installation %d (%v), want 7", i, body.Installation.ID, err)
		}
	}
	// The repository's own hook gets the status without the installation.
	got := repoHooks.received()
	if len(got) != 2 || got[1].header.Get("X-GitHub-Hook-Installation-Target-Type") != "repository" || bytes.Contains(got[1].body, []byte(`"installation"`)) {
		t.Fatalf("repository hook deliveries: %d", len(got))
	}
}
