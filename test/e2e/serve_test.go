package e2e_test

import (
	"bufio"
	"context"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store/storeurl"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

const hookSecret = "e2e-webhook-secret"

// served is a running `maestro serve` process.
type served struct {
	cmd    *exec.Cmd
	url    string
	mu     sync.Mutex
	logs   strings.Builder
	done   chan struct{} // closed when the process has exited
	err    error         // how it exited, once done is closed
	killed bool
}

// stop ends the process with SIGTERM and waits for it to exit.
func (s *served) stop(t *testing.T) {
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		t.Fatalf("maestro serve did not stop within a minute of SIGTERM")
	}
	require.NoError(t, s.err, "SIGTERM stops maestro serve cleanly\n%s", s.log())
}

// kill ends the process with SIGKILL, as a crash would, and waits for it.
func (s *served) kill(t *testing.T) {
	s.killed = true
	require.NoError(t, s.cmd.Process.Kill())
	<-s.done
}

func (s *served) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

var servingRe = regexp.MustCompile(`msg=serving address=(\S+)`)

// serve starts `maestro serve --listen 127.0.0.1:0 ARGS...` on e's store
// and waits until it is ready; the process is stopped when the test ends.
func serve(t *testing.T, e *env, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{done: make(chan struct{})}
	s.cmd = e.command(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	s.cmd.Env = append(s.cmd.Env, "MAESTRO_GITHUB_WEBHOOK_SECRET="+hookSecret)
	stderr, err := s.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, s.cmd.Start())
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.mu.Lock()
			s.logs.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if m := servingRe.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(time.Minute):
			t.Errorf("maestro serve did not stop within a minute of SIGTERM")
		}
		cancel()
		if !s.killed {
			assert.NoError(t, s.err, "SIGTERM stops maestro serve cleanly\n%s", s.log())
			assert.Contains(t, s.log(), "msg=stopped")
		}
		assert.NotContains(t, s.log(), hookSecret, "no secret in the logs")
	})
	select {
	case a := <-addr:
		s.url = "http://" + a
	case <-s.done:
		t.Fatalf("maestro serve exited: %v\n%s", s.err, s.log())
	case <-time.After(time.Minute):
		t.Fatalf("maestro serve did not start\n%s", s.log())
	}
	require.Eventually(t, func() bool {
		resp, err := http.Get(s.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 20*time.Millisecond)
	return s
}

// TestServeMergesWhenCheckRunTurnsGreen: a dependency pull request whose
// check turns green on the GitHub double is merged within one second of the
// check_run webhook, with no timer involved; while the check runs, the
// check_run event re-checks it and it waits.
func TestServeMergesWhenCheckRunTurnsGreen(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		g := newGitHubTarget(t, e, nil)
		e.ok("subscription", "update", "--id", g.sub.ID, "--merge-policy", "AllChecksSuccessful")
		assert.Contains(t, g.publish(t, 1), "build 1: updated")
		pr := g.repo.PullRequest(1)
		head := pr.GetHead().GetSHA()

		s := serve(t, e, "--github-webhooks")
		g.repo.AddHook(githubdouble.HookSpec{URL: s.url + "/webhooks/github", Secret: hookSecret, Events: []string{"check_run"}})
		g.repo.AddCheckRun(gh.CheckRun{HeadSHA: gh.String(head), Name: gh.String("build"), Status: gh.String("in_progress")})
		ds := g.srv.WaitDeliveries()
		require.Len(t, ds, 2, "ping and check_run")
		assert.Equal(t, http.StatusOK, ds[0].StatusCode, "ping: %s", ds[0].Response)
		assert.Equal(t, http.StatusAccepted, ds[1].StatusCode, "check_run: %s", ds[1].Response)
		require.Eventually(t, func() bool { return strings.Contains(s.log(), `result="checked #1: waiting"`) }, 10*time.Second, 10*time.Millisecond, s.log())
		assert.False(t, g.repo.PullRequest(1).GetMerged(), "not merged while the check runs")

		g.repo.AddCheckRun(gh.CheckRun{HeadSHA: gh.String(head), Name: gh.String("build"), Conclusion: gh.String("success")})
		green := time.Now()
		var merged time.Duration
		for time.Since(green) < 5*time.Second {
			if g.repo.PullRequest(1).GetMerged() {
				merged = time.Since(green)
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		require.NotZero(t, merged, "merged\n%s", s.log())
		assert.Less(t, merged, time.Second, "merged within one second of the check turning green")
		t.Logf("merged %s after the check turned green", merged)
		require.Eventually(t, func() bool {
			var sub maestro.Subscription
			e.okJSON(&sub, "subscription", "show", "--id", g.sub.ID)
			return sub.LastAppliedBuildID == 1
		}, 10*time.Second, 50*time.Millisecond, "the merge is recorded")
		ds = g.srv.WaitDeliveries()
		assert.Equal(t, http.StatusAccepted, ds[len(ds)-1].StatusCode)
	})
}

// openRegistry opens the registry of e's store in the test process, to
// look at what the server recorded.
func openRegistry(t *testing.T, e *env) *registry.Registry {
	t.Helper()
	getenv := func(k string) string {
		for _, kv := range e.environ {
			if name, v, ok := strings.Cut(kv, "="); ok && name == k {
				return v
			}
		}
		return ""
	}
	st, err := storeurl.Open(t.Context(), e.store, getenv)
	require.NoError(t, err)
	return registry.New(st)
}

// TestServeKilledWithQueuedEvents: maestro serve is killed (SIGKILL) right
// after it accepted 100 status events of a tracked pull request, most still
// queued; two servers started on the same store process every one, and none
// twice: each is recorded done once, with the re-check it did.
func TestServeKilledWithQueuedEvents(t *testing.T) {
	const events = 100
	stores(t, func(t *testing.T, e *env) {
		ds := statusDeliveries(t, e, events)

		// A claim lapses after 2 s (default 5 minutes), so the restarted
		// server takes over the event the killed one was working on soon.
		config := writeFile(t, t.TempDir(), "serve.yaml", "claimTimeout: 2s\ngithub:\n  webhooks: true\n")
		first := serve(t, e, "--config", config, "--workers", "1")
		sendAll(t, first, ds)
		first.kill(t)

		reg := openRegistry(t, e)
		queued, err := reg.QueuedEvents(t.Context())
		require.NoError(t, err)
		t.Logf("%d of %d accepted events queued at the kill", len(queued), events)
		require.Greater(t, len(queued), events/2, "killed while most events were queued")

		second := serve(t, e, "--config", config, "--workers", "2")
		third := serve(t, e, "--config", config, "--workers", "2")
		require.Eventually(t, func() bool {
			q, err := reg.QueuedEvents(t.Context())
			return err == nil && len(q) == 0
		}, 2*time.Minute, 50*time.Millisecond, "the restarted server works the queue off")

		logs := first.log() + second.log() + third.log()
		once := 0
		for _, d := range ds {
			ev, _, err := reg.Event(t.Context(), "github", d.GUID)
			require.NoError(t, err, "delivery %s is recorded", d.GUID)
			assert.Equal(t, registry.EventDone, ev.State, d.GUID)
			assert.Equal(t, "checked #1: waiting", ev.Result, d.GUID)
			// Every attempt that finished the work logs it (processed, or
			// processed after its claim lapsed).
			worked := regexp.MustCompile(`msg="event processed[^"]*" delivery=` + d.GUID + ` `)
			n := len(worked.FindAllString(logs, -1))
			assert.LessOrEqual(t, n, 1, "worked on once: %s", d.GUID)
			once += n
		}
		// A kill between recording an event done and logging it leaves
		// one event without its line.
		assert.GreaterOrEqual(t, once, events-1)
	})
}

// statusDeliveries opens a dependency pull request on the GitHub double
// (policy AllChecksSuccessful) and has the double make n status events on
// its head, each a delivery the test sends itself (the double's own
// attempts go nowhere).
func statusDeliveries(t *testing.T, e *env, n int) []githubdouble.Delivery {
	return statusDeliveriesAt(t, e, n, true)
}

// statusDeliveriesAt is statusDeliveries; with atPullRequest false the
// statuses are on the base branch's head, a commit no tracked pull request
// is at: events whose processing only reads (recorded done without a
// claim).
func statusDeliveriesAt(t *testing.T, e *env, n int, atPullRequest bool) []githubdouble.Delivery {
	t.Helper()
	g := newGitHubTarget(t, e, nil)
	e.ok("subscription", "update", "--id", g.sub.ID, "--merge-policy", "AllChecksSuccessful")
	assert.Contains(t, g.publish(t, 1), "build 1: updated")
	head := g.repo.PullRequest(1).GetHead().GetSHA()
	if !atPullRequest {
		head = g.repo.Branch(g.repo.PullRequest(1).GetBase().GetRef())
		require.NotEqual(t, g.repo.PullRequest(1).GetHead().GetSHA(), head)
	}
	g.repo.AddHook(githubdouble.HookSpec{URL: "http://127.0.0.1:1/webhooks/github", Secret: hookSecret, Events: []string{"status"}})
	for range n {
		g.repo.AddStatus(head, gh.RepoStatus{State: gh.String("pending"), Context: gh.String("ci/build")})
	}
	var ds []githubdouble.Delivery
	for _, d := range g.srv.WaitDeliveries() {
		if d.Event == "status" {
			ds = append(ds, d)
		}
	}
	require.Len(t, ds, n)
	return ds
}

// sendAll sends the deliveries to s, eight at a time, each answered 202.
func sendAll(t *testing.T, s *served, ds []githubdouble.Delivery) {
	t.Helper()
	sendAllFrom(t, s, ds, 8)
}

// sendAllFrom sends the deliveries to s from senders at a time, each
// answered 202.
func sendAllFrom(t *testing.T, s *served, ds []githubdouble.Delivery, senders int) {
	t.Helper()
	var wg sync.WaitGroup
	next := make(chan githubdouble.Delivery)
	for range senders {
		wg.Go(func() {
			for d := range next {
				req, err := d.NewRequest(context.Background(), s.url+"/webhooks/github")
				if !assert.NoError(t, err) {
					continue
				}
				resp, err := http.DefaultClient.Do(req)
				if assert.NoError(t, err) {
					assert.Equal(t, http.StatusAccepted, resp.StatusCode)
					resp.Body.Close()
				}
			}
		})
	}
	for _, d := range ds {
		next <- d
	}
	close(next)
	wg.Wait()
}

// TestServeStopFinishesEventsInProgress: SIGTERM while events are queued
// and one is being worked on finishes that one (done, no claim left behind)
// and leaves the rest queued, unclaimed, for the next start, which
// processes them.
func TestServeStopFinishesEventsInProgress(t *testing.T) {
	const events = 20
	stores(t, func(t *testing.T, e *env) {
		ds := statusDeliveries(t, e, events)
		first := serve(t, e, "--github-webhooks", "--workers", "1")
		sendAll(t, first, ds)
		require.Eventually(t, func() bool {
			return strings.Contains(first.log(), "attempt=1") || strings.Contains(first.log(), "event processed")
		},
			10*time.Second, 5*time.Millisecond)
		first.stop(t)
		assert.Contains(t, first.log(), "msg=stopped")

		reg := openRegistry(t, e)
		done := 0
		for _, d := range ds {
			ev, err := reg.AcceptedEvent(t.Context(), "github", d.GUID)
			require.NoError(t, err)
			assert.Nil(t, ev.Claim, "no claim left behind: %s", d.GUID)
			if ev.State == registry.EventDone {
				done++
			}
		}
		t.Logf("%d of %d events done at the stop", done, events)
		assert.Positive(t, done)
		assert.Less(t, done, events, "stopped with events queued")

		serve(t, e, "--github-webhooks")
		require.Eventually(t, func() bool {
			q, err := reg.QueuedEvents(t.Context())
			return err == nil && len(q) == 0
		}, time.Minute, 50*time.Millisecond, "the next start works the queue off")
	})
}

// TestServeRefusesToStart: an enabled route without its secret, a bad
// configuration file and a store without a registry each stop maestro
// serve before it listens, with exit code 2 and what to do.
func TestServeRefusesToStart(t *testing.T) {
	e := newLocal(t)
	bad := writeFile(t, t.TempDir(), "serve.yaml", "github:\n  webhooks: true\n  secret: x\n")
	tests := []struct {
		name    string
		args    []string
		environ []string
		want    string
	}{
		{"no secret", []string{"serve", "--listen", "127.0.0.1:0", "--github-webhooks"}, nil,
			"the GitHub webhook route is enabled but has no secret: set MAESTRO_GITHUB_WEBHOOK_SECRET"},
		{"unknown key in the file", []string{"serve", "--listen", "127.0.0.1:0", "--config", bad}, nil, "field secret not found"},
		{"no registry", []string{"serve", "--listen", "127.0.0.1:0", "--github-webhooks"},
			[]string{"MAESTRO_GITHUB_WEBHOOK_SECRET=" + hookSecret}, "maestro registry init --store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := &env{t: t, store: e.store, environ: tt.environ}
			if tt.name == "no registry" {
				run.store = "file://" + t.TempDir() // a store without a registry
			}
			r := run.run(tt.args...)
			assert.Equal(t, 2, r.code, r.stderr)
			assert.Contains(t, r.stderr, tt.want)
			assert.NotContains(t, r.stderr, "msg=serving")
			assert.NotContains(t, r.stderr, hookSecret)
		})
	}
}
