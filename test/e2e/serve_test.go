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
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

const hookSecret = "e2e-webhook-secret"

// served is a running `maestro serve` process.
type served struct {
	cmd  *exec.Cmd
	url  string
	mu   sync.Mutex
	logs strings.Builder
	done chan error
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
	s := &served{done: make(chan error, 1)}
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
		s.done <- s.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(time.Minute):
			t.Errorf("maestro serve did not stop within a minute of SIGTERM")
		}
		cancel()
		assert.NotContains(t, s.log(), hookSecret, "no secret in the logs")
	})
	select {
	case a := <-addr:
		s.url = "http://" + a
	case err := <-s.done:
		t.Fatalf("maestro serve exited: %v\n%s", err, s.log())
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
