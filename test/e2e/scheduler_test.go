package e2e_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// leasePeriod is the scheduler lease period of the takeover test: the
// shortest allowed, so the test waits least.
const leasePeriod = 20 * time.Second

// role is what the server's /healthz says of its scheduler ("" when it
// does not answer).
func (s *served) role(t *testing.T) string {
	resp, err := http.Get(s.url + "/healthz")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var h struct{ Scheduler string }
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Errorf("healthz: %v", err)
	}
	return h.Scheduler
}

func (s *served) ticks() int { return strings.Count(s.log(), `msg="scheduler: tick"`) }

// TestServeSchedulerTakeover: two `maestro serve --scheduler` processes on
// one store: one leads and only it ticks; a scheduled subscription due at
// once flows once; the leader is killed (SIGKILL) and the other takes over
// within the lease period; a build published then flows once at the next
// due time; no due time is attempted twice (the flow history in the store
// has one outcome per build).
func TestServeSchedulerTakeover(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		g := newGitHubTarget(t, e, nil)
		e.ok("subscription", "update", "--id", g.sub.ID, "--update-frequency", "everyDay")
		g.publish(t, 1)
		require.Empty(t, g.history(t), "everyDay: the publish does not flow")

		args := []string{"--scheduler", "--lease-period", leasePeriod.String(), "--tick-interval", "1s"}
		a := serve(t, e, args...)
		require.Eventually(t, func() bool { return a.role(t) == "leader" }, 10*time.Second, 20*time.Millisecond, a.log())
		b := serve(t, e, args...)
		assert.Equal(t, "follower", b.role(t))
		require.Eventually(t, func() bool { return slices.Equal(g.history(t), []string{"1:updated"}) }, 30*time.Second, 200*time.Millisecond)
		require.Eventually(t, func() bool { return a.ticks() >= 3 }, 10*time.Second, 50*time.Millisecond)
		assert.Equal(t, "leader", a.role(t))
		assert.Equal(t, "follower", b.role(t))
		assert.Zero(t, b.ticks(), "only the leader ticks\n%s", b.log())
		assert.Equal(t, []string{"1:updated"}, g.history(t), "later ticks do not attempt the spent due time")

		a.kill(t)
		killed := time.Now()
		var takeover time.Duration
		for time.Since(killed) < 2*leasePeriod {
			if b.role(t) == "leader" {
				takeover = time.Since(killed)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		require.NotZero(t, takeover, "no takeover within twice the lease period\n%s", b.log())
		t.Logf("takeover %s after SIGKILL (lease period %s)", takeover.Round(10*time.Millisecond), leasePeriod)
		assert.LessOrEqual(t, takeover, leasePeriod, "takeover within the lease period")
		require.Eventually(t, func() bool { return b.ticks() >= 1 }, 5*time.Second, 50*time.Millisecond)

		// A new due time, after the takeover: build 2 and a changed
		// frequency (due at the next tick). The new leader flows it once.
		g.publish(t, 2)
		e.ok("subscription", "update", "--id", g.sub.ID, "--update-frequency", "twiceDaily")
		require.Eventually(t, func() bool { return len(g.history(t)) == 2 }, 30*time.Second, 200*time.Millisecond)
		ticks := b.ticks()
		require.Eventually(t, func() bool { return b.ticks() >= ticks+3 }, 10*time.Second, 50*time.Millisecond)
		assert.Equal(t, []string{"1:updated", "2:updated"}, g.history(t), "one outcome per due time")
		got, ok := g.repo.File(g.repo.PullRequest(1).GetHead().GetRef(), "global.json")
		require.True(t, ok)
		assert.Contains(t, got, "10.0.0-beta.2")

		resp, err := http.Get(b.url + "/metrics")
		require.NoError(t, err)
		metrics, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Contains(t, string(metrics), "\nmaestro_scheduler_leader 1\n")
		assert.Contains(t, string(metrics), `maestro_flow_outcomes_total{result="updated"} 1`)
	})
}
