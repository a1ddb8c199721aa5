package githubdouble

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-github/v60/github"
)

// recordingTB is the test as the double sees it, with its errors recorded
// instead of failing the test, so that a test can check that the double
// fails the test that caused a bad payload.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

// TestInvalidPayloadIsRefused renders real payloads from the double's
// state, takes a required field out of each, and hands them to the same
// path every event takes: each one fails the test with a message naming the
// missing field, and is recorded as a refused delivery instead of being
// sent.
func TestInvalidPayloadIsRefused(t *testing.T) {
	rec := &recordingTB{TB: t}
	s := NewServer(rec)
	h := s.AddRepo(RepoSpec{Owner: "o", Name: "r", Files: map[string]string{"a.txt": "a\n"}})
	var posts atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { posts.Add(1) }))
	t.Cleanup(receiver.Close)
	h.AddHook(HookSpec{URL: receiver.URL, Secret: "x", Events: []string{"push", "pull_request"}})
	h.Commit(CommitSpec{Branch: "topic", Files: map[string]string{"b.txt": "b\n"}})
	if _, _, err := s.Client(DefaultToken).PullRequests.Create(t.Context(), "o", "r", &github.NewPullRequest{
		Title: github.String("Topic"), Head: github.String("topic"), Base: github.String("main"),
	}); err != nil {
		t.Fatal(err)
	}
	sent := s.WaitDeliveries()
	if len(sent) != 3 || posts.Load() != 3 || len(rec.errors()) != 0 {
		t.Fatalf("setup: %d deliveries, %d posts, errors %v; want ping, push, pull_request.opened", len(sent), posts.Load(), rec.errors())
	}
	opened := sent[2]
	for _, tc := range []struct {
		name    string
		drop    func(object)
		pointer string
		field   string
	}{
		{"top level", func(p object) { delete(p, "number") }, "(body)", "number"},
		{"nested", func(p object) { delete(p["pull_request"].(object)["head"].(object), "sha") }, "/pull_request/head", "sha"},
		{"sender", func(p object) { delete(p["sender"].(object), "login") }, "/sender", "login"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var payload object
			if err := json.Unmarshal(opened.Payload, &payload); err != nil {
				t.Fatal(err)
			}
			tc.drop(payload)
			before := len(rec.errors())
			s.mu.Lock()
			r := s.repos["o/r"]
			s.send(r, s.hooksOf(r), "pull_request", "opened", payload)
			s.mu.Unlock()
			all := s.WaitDeliveries()
			errs := rec.errors()[before:]
			if len(errs) != 1 || !strings.Contains(errs[0], "pull_request.opened") ||
				!strings.Contains(errs[0], tc.pointer+": missing property '"+tc.field+"'") {
				t.Fatalf("errors %q, want one naming %s: missing property '%s'", errs, tc.pointer, tc.field)
			}
			last := all[len(all)-1]
			if last.StatusCode != 0 || last.HookID != 0 || !strings.Contains(last.Err, "missing property '"+tc.field+"'") {
				t.Fatalf("refused delivery: hook %d status %d error %q", last.HookID, last.StatusCode, last.Err)
			}
			if posts.Load() != 3 {
				t.Fatalf("an invalid payload was sent (%d posts)", posts.Load())
			}
		})
	}
	// Unchanged, the same payload passes: the failures above are the
	// missing fields, not the path.
	var payload object
	_ = json.Unmarshal(opened.Payload, &payload)
	s.mu.Lock()
	r := s.repos["o/r"]
	s.send(r, s.hooksOf(r), "pull_request", "opened", payload)
	s.mu.Unlock()
	s.WaitDeliveries()
	if posts.Load() != 4 || len(rec.errors()) != 3 {
		t.Fatalf("a valid payload: %d posts, errors %q", posts.Load(), rec.errors())
	}
}
