package server_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/server"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/store/mem"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

const secret = "s3cret-for-hooks"

// syncBuffer is a log destination the test reads while servers write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// replica is one running server.
type replica struct {
	url string
	log *syncBuffer
}

func newRegistry(t *testing.T) *registry.Registry {
	reg := registry.New(mem.New())
	_, _, err := reg.Init(t.Context())
	require.NoError(t, err)
	return reg
}

// start runs a server with the GitHub route on reg until the test ends.
func start(t *testing.T, reg *registry.Registry) replica {
	t.Helper()
	cfg, err := server.LoadConfig("", func(k string) string {
		if k == server.EnvGitHubWebhookSecret {
			return secret
		}
		return ""
	}, server.Flags{Listen: "127.0.0.1:0", GitHubWebhooks: new(true)})
	require.NoError(t, err)
	logs := &syncBuffer{}
	srv, err := server.New(cfg, wire.Env{Getenv: func(string) string { return "" }, Now: time.Now}.Service(reg), slog.New(slog.NewTextHandler(logs, nil)))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
		assert.NotContains(t, logs.String(), secret, "no secret in the logs")
	})
	return replica{url: "http://" + ln.Addr().String(), log: logs}
}

// delivery makes the GitHub double deliver one status event to url and
// returns it (the double validates the payload against GitHub's schema).
func delivery(t *testing.T, url string) githubdouble.Delivery {
	t.Helper()
	return deliveryAs(t, url, "json")
}

// deliveryAs is delivery with the hook's content type (json or form).
func deliveryAs(t *testing.T, url, contentType string) githubdouble.Delivery {
	t.Helper()
	srv := githubdouble.NewServer(t)
	repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"README.md": "# runtime\n"}})
	repo.AddHook(githubdouble.HookSpec{URL: url + "/webhooks/github", Secret: secret, Events: []string{"status"}, ContentType: contentType})
	repo.AddStatus(repo.Branch("main"), gh.RepoStatus{State: gh.String("success"), Context: gh.String("ci/build")})
	ds := srv.WaitDeliveries()
	require.Len(t, ds, 2, "ping and status")
	require.Equal(t, "status", ds[1].Event)
	return ds[1]
}

func hmacHex(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// withoutLog is keys without the intake log's segments, which a replica
// keeps while it appends to them.
func withoutLog(keys []string) []string {
	return slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return strings.HasPrefix(k, "index/events/log/") })
}

// keys lists what the store holds about events.
func keys(t *testing.T, reg *registry.Registry) []string {
	t.Helper()
	var out []string
	for _, p := range []string{"events/", "index/events/"} {
		ks, err := reg.Store().List(t.Context(), p)
		require.NoError(t, err)
		out = append(out, ks...)
	}
	return out
}

// waitDone waits until the event is processed and returns it.
func waitDone(t *testing.T, reg *registry.Registry, id string) registry.Event {
	t.Helper()
	var ev registry.Event
	require.Eventually(t, func() bool {
		var err error
		ev, _, err = reg.Event(t.Context(), "github", id)
		return err == nil && ev.State == registry.EventDone
	}, 10*time.Second, 10*time.Millisecond)
	return ev
}

// TestValidDeliveryAcceptedAndProcessedOnce: a real delivery is answered
// 202 and processed; the same delivery again, to another replica on the
// same store, answers 200 and changes nothing.
func TestValidDeliveryAcceptedAndProcessedOnce(t *testing.T) {
	reg := newRegistry(t)
	a, b := start(t, reg), start(t, reg)
	d := delivery(t, a.url)
	assert.Equal(t, http.StatusAccepted, d.StatusCode, string(d.Response))
	ev := waitDone(t, reg, d.GUID)
	assert.Equal(t, 1, ev.Attempts)
	assert.Equal(t, "status", ev.Type)
	assert.Equal(t, "no tracked pull request concerned", ev.Result)
	assert.JSONEq(t, string(d.Payload), string(ev.Payload))
	before := keys(t, reg)
	assert.Equal(t, []string{"events/github/" + d.GUID + ".json"}, withoutLog(before), "the record, and no queue marker")

	for _, url := range []string{b.url, a.url} {
		req, err := d.NewRequest(t.Context(), url+"/webhooks/github")
		require.NoError(t, err)
		code, body := send(t, req)
		assert.Equal(t, http.StatusOK, code, body)
		assert.Contains(t, body, "accepted before")
	}
	again, _, err := reg.Event(t.Context(), "github", d.GUID)
	require.NoError(t, err)
	assert.Equal(t, ev, again, "the event is unchanged")
	assert.Equal(t, before, keys(t, reg), "nothing written")
	assert.Contains(t, a.log.String(), "event processed")
	assert.NotContains(t, b.log.String(), "event processed")
}

// TestFormDelivery: a hook with content type form (payload=...) is verified
// over the form body and its JSON payload recorded.
func TestFormDelivery(t *testing.T) {
	reg := newRegistry(t)
	a := start(t, reg)
	d := deliveryAs(t, a.url, "form")
	require.True(t, bytes.HasPrefix(d.Body, []byte("payload=")))
	assert.Equal(t, http.StatusAccepted, d.StatusCode, string(d.Response))
	ev := waitDone(t, reg, d.GUID)
	assert.JSONEq(t, string(d.Payload), string(ev.Payload))
}

// TestConcurrentDuplicatesProcessedOnce: one delivery sent at once to two
// replicas many times is accepted once and processed once.
func TestConcurrentDuplicatesProcessedOnce(t *testing.T) {
	reg := newRegistry(t)
	a, b := start(t, reg), start(t, reg)
	d := delivery(t, "http://127.0.0.1:1") // the double's own attempt fails; the test sends it
	var wg sync.WaitGroup
	codes := make(chan int, 16)
	for i := range 16 {
		url := []string{a.url, b.url}[i%2]
		wg.Go(func() {
			req, err := d.NewRequest(context.Background(), url+"/webhooks/github")
			if !assert.NoError(t, err) {
				return
			}
			resp, err := http.DefaultClient.Do(req)
			if assert.NoError(t, err) {
				codes <- resp.StatusCode
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	assert.Equal(t, map[int]int{http.StatusAccepted: 1, http.StatusOK: 15}, count)
	ev := waitDone(t, reg, d.GUID)
	assert.Equal(t, 1, ev.Attempts)
	require.Eventually(t, func() bool { return len(withoutLog(keys(t, reg))) == 1 }, 5*time.Second, 10*time.Millisecond, "one record: %v", keys(t, reg))
	// The worker logs after its write: wait for the line, then make sure
	// no other worker logged one.
	processed := func() int {
		return strings.Count(a.log.String(), "event processed") + strings.Count(b.log.String(), "event processed")
	}
	require.Eventually(t, func() bool { return processed() > 0 }, 5*time.Second, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond) // a second worker, had there been one, would have logged by now
	assert.Equal(t, 1, processed())
}

// TestBadSignaturesRefused: a bad, missing or replayed-with-another-body
// signature is answered 401 and nothing is recorded.
func TestBadSignaturesRefused(t *testing.T) {
	reg := newRegistry(t)
	a := start(t, reg)
	d := delivery(t, "http://127.0.0.1:1")
	other := delivery(t, "http://127.0.0.1:1")
	tests := []struct {
		name   string
		change func(r *http.Request)
	}{
		{"bad signature", func(r *http.Request) {
			r.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
		}},
		{"not hex", func(r *http.Request) { r.Header.Set("X-Hub-Signature-256", "sha256=zz") }},
		{"missing", func(r *http.Request) { r.Header.Del("X-Hub-Signature-256"); r.Header.Del("X-Hub-Signature") }},
		{"sha1 only", func(r *http.Request) { r.Header.Del("X-Hub-Signature-256") }},
		{"replayed with another body", func(r *http.Request) {
			r.Body = io.NopCloser(bytes.NewReader(other.Body))
			r.ContentLength = int64(len(other.Body))
		}},
		{"another secret", func(r *http.Request) {
			r.Header.Set("X-Hub-Signature-256", "sha256="+hmacHex("not-the-secret", d.Body))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := d.NewRequest(t.Context(), a.url+"/webhooks/github")
			require.NoError(t, err)
			tt.change(req)
			code, body := send(t, req)
			assert.Equal(t, http.StatusUnauthorized, code, body)
			var msg struct{ Message string }
			require.NoError(t, json.Unmarshal([]byte(body), &msg))
			assert.Contains(t, msg.Message, "X-Hub-Signature-256")
			assert.Empty(t, keys(t, reg), "nothing recorded")
		})
	}
	// The untouched delivery is accepted: the refusals were the changes.
	req, err := d.NewRequest(t.Context(), a.url+"/webhooks/github")
	require.NoError(t, err)
	code, body := send(t, req)
	assert.Equal(t, http.StatusAccepted, code, body)
}

// TestUnhandledEventsAcknowledged: ping (sent when a hook is created) and
// events maestro does not act on are answered 200 and not recorded; a
// handled event with a broken payload is 400 and not recorded.
func TestUnhandledEventsAcknowledged(t *testing.T) {
	reg := newRegistry(t)
	a := start(t, reg)
	srv := githubdouble.NewServer(t)
	repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"README.md": "# runtime\n"}})
	repo.AddHook(githubdouble.HookSpec{URL: a.url + "/webhooks/github", Secret: secret, Events: []string{"*"}})
	ds := srv.WaitDeliveries()
	require.Len(t, ds, 1)
	assert.Equal(t, "ping", ds[0].Event)
	assert.Equal(t, http.StatusOK, ds[0].StatusCode, string(ds[0].Response))
	assert.Empty(t, keys(t, reg))

	body := []byte(`{"repository": 5}`)
	req, err := http.NewRequest(http.MethodPost, a.url+"/webhooks/github", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "status")
	req.Header.Set("X-GitHub-Delivery", "0b9f3c1e-0000-4000-8000-000000000001")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hmacHex(secret, body))
	code, resp := send(t, req)
	assert.Equal(t, http.StatusBadRequest, code, resp)
	assert.Empty(t, keys(t, reg))
}

func TestHealthAndReadiness(t *testing.T) {
	reg := newRegistry(t)
	a := start(t, reg)
	resp, err := http.Get(a.url + "/healthz")
	require.NoError(t, err)
	var h struct {
		Status string
		Routes []string
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
	resp.Body.Close()
	assert.Equal(t, "ok", h.Status)
	assert.Equal(t, []string{"POST /webhooks/github"}, h.Routes)
	resp, err = http.Get(a.url + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestFailedWorkRetried: an event whose re-check fails (here: the tracked
// pull request's host is not configured) stays queued with its error and
// is due again a minute later.
func TestFailedWorkRetried(t *testing.T) {
	reg := newRegistry(t)
	a := start(t, reg)
	d := deliveryAs(t, "http://127.0.0.1:1", "json")
	var payload struct {
		SHA        string `json:"sha"`
		Repository struct {
			HTMLURL string `json:"html_url"`
		} `json:"repository"`
	}
	require.NoError(t, json.Unmarshal(d.Payload, &payload))
	pr := maestro.PullRequest{Repository: payload.Repository.HTMLURL, Number: 7, BaseBranch: "main", HeadBranch: "darc-main-x", State: maestro.PullRequestOpen}
	_, err := reg.Track(t.Context(), pr.Repository, "main", "batched", maestro.TrackedPullRequest{PullRequest: pr, HeadCommit: payload.SHA}, "")
	require.NoError(t, err)

	req, err := d.NewRequest(t.Context(), a.url+"/webhooks/github")
	require.NoError(t, err)
	code, body := send(t, req)
	require.Equal(t, http.StatusAccepted, code, body)
	var ev registry.Event
	require.Eventually(t, func() bool {
		ev, _, err = reg.Event(t.Context(), "github", d.GUID)
		return err == nil && ev.LastError != ""
	}, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, registry.EventQueued, ev.State)
	assert.Equal(t, 1, ev.Attempts)
	assert.Nil(t, ev.Claim, "released")
	assert.Contains(t, ev.LastError, "check pull request #7")
	assert.WithinDuration(t, time.Now().Add(time.Minute), ev.NextAttempt, 10*time.Second)
	q, err := reg.QueuedEvents(t.Context())
	require.NoError(t, err)
	assert.Len(t, q, 1, "still queued")
	assert.Contains(t, a.log.String(), "event failed; trying again")
}

// TestNotReadyWithoutRegistry: /readyz is 503 when the store no longer
// holds the registry, while /healthz still answers 200.
func TestNotReadyWithoutRegistry(t *testing.T) {
	reg := newRegistry(t)
	a := start(t, reg)
	require.NoError(t, reg.Store().Delete(t.Context(), "meta/format.json", ""))
	resp, err := http.Get(a.url + "/readyz")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Contains(t, string(body), "the registry store does not answer or holds no registry")
	resp, err = http.Get(a.url + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestSameDeliveryInTwoReplicasBatches: one delivery accepted by two
// replicas before either saw the other's batch (each process its own
// registry on one store, each delivery in its own batch) is processed
// once, by one replica; the other's copy is dropped unprocessed, and both
// batches are deleted.
func TestSameDeliveryInTwoReplicasBatches(t *testing.T) {
	st := mem.New()
	regA := registry.New(st)
	_, _, err := regA.Init(t.Context())
	require.NoError(t, err)
	regB := registry.New(st)
	d := deliveryAs(t, "http://127.0.0.1:1", "json")
	for _, reg := range []*registry.Registry{regA, regB} {
		ok, err := reg.AcceptEvent(t.Context(), registry.Event{Source: "github", Delivery: d.GUID, Type: "status", Payload: d.Payload})
		require.NoError(t, err)
		require.True(t, ok, "neither replica knows the other's batch")
	}
	batches, err := registry.StoredBatches(t.Context(), st)
	require.NoError(t, err)
	require.Len(t, batches, 2)

	a, b := start(t, regA), start(t, regB)
	ev := waitDone(t, regA, d.GUID)
	require.Eventually(t, func() bool {
		left, err := registry.StoredBatches(t.Context(), st)
		return err == nil && len(left) == 0
	}, 10*time.Second, 10*time.Millisecond, "both batches settled and deleted")
	assert.Equal(t, 1, ev.Attempts)
	assert.Contains(t, batches, ev.Batch)
	assert.Equal(t, []string{d.GUID}, batches[ev.Batch])
	processed := strings.Count(a.log.String()+b.log.String(), "msg=\"event processed\"")
	assert.Equal(t, 1, processed, "processed once:\n%s\n%s", a.log, b.log)
}
