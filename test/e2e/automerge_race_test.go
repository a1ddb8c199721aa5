package e2e_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// mergeFleet is n local repositories, each with an open dependency pull
// request from one Arcade build whose policies pass (NoExtraCommits,
// DontAutomergeDowngrades): every `pr check` that gets to it merges it.
type mergeFleet struct {
	e       *env
	targets []string
	subs    []maestro.Subscription
	bases   []string // each target's main before the merge
}

func newMergeFleet(t *testing.T, e *env, n int) *mergeFleet {
	f := &mergeFleet{e: e}
	e.ok("channel", "add", "--name", "dev")
	e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", "dev")
	for range n {
		src := t.TempDir()
		for name, content := range runtimeFiles() {
			writeFile(t, src, name, content)
		}
		target := bareRepoFrom(t, src)
		var sub maestro.Subscription
		e.okJSON(&sub, "subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
			"--target-repo", target, "--target-branch", "main", "--update-frequency", "everyBuild",
			"--merge-policy", "NoExtraCommits", "--merge-policy", "DontAutomergeDowngrades")
		f.targets, f.subs = append(f.targets, target), append(f.subs, sub)
		f.bases = append(f.bases, strings.TrimSpace(gitOut(t, target, "rev-parse", "main")))
	}
	g := &gitHubTarget{e: e, dir: t.TempDir()}
	assert.Equal(t, n, strings.Count(g.publish(t, 1), ": updated"))
	return f
}

// assertMergedOnce checks that every pull request merged exactly once:
// one squash commit on each target's main, the branch gone, nothing
// tracked, and each subscription's lastAppliedBuildId set.
func (f *mergeFleet) assertMergedOnce(t *testing.T) {
	for i, target := range f.targets {
		assert.Equal(t, "1", strings.TrimSpace(gitOut(t, target, "rev-list", "--count", f.bases[i]+"..main")), "%s: one squash commit", target)
		assert.Empty(t, strings.TrimSpace(gitOut(t, target, "branch", "--list", "darc-*")), "%s: branch deleted", target)
		var prs []maestro.PullRequest
		f.e.okJSON(&prs, "pr", "list", "--repository", target)
		require.Len(t, prs, 1)
		assert.Equal(t, maestro.PullRequestMerged, prs[0].State)
		var sub maestro.Subscription
		f.e.okJSON(&sub, "subscription", "show", "--id", f.subs[i].ID)
		assert.Equal(t, 1, sub.LastAppliedBuildID, "%s", target)
	}
	assert.Contains(t, f.e.ok("pr", "check", "--now", time.Now().Add(24*time.Hour).UTC().Format(time.RFC3339)), "no pull request is due", "nothing tracked")
}

// TestConcurrentPRChecksMergeEachPullRequestOnce: four `maestro pr check`
// processes at once over six green pull requests, on both stores: each pull
// request is merged by exactly one of them (the merge holds the pull
// request's lease and re-reads its record), the others report it busy or
// find it gone, and none fails.
func TestConcurrentPRChecksMergeEachPullRequestOnce(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		f := newMergeFleet(t, e, 6)
		results := make([]result, 4)
		var wg sync.WaitGroup
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = e.run("pr", "check")
			}()
		}
		wg.Wait()
		merged := 0
		for _, r := range results {
			require.Equal(t, 0, r.code, r.stderr)
			merged += strings.Count(r.stdout, ": merged (head ")
		}
		// Those that met a busy lease are merged by the next check.
		later := e.ok("pr", "check", "--now", time.Now().Add(10*time.Minute).UTC().Format(time.RFC3339))
		merged += strings.Count(later, ": merged (head ")
		assert.Equal(t, 6, merged, "each pull request merged once")
		f.assertMergedOnce(t)
	})
}

// TestPRCheckKilledAtRandomMoments: `maestro pr check` merging six pull
// requests is killed (kill -9) at random moments, five times; whatever a
// kill interrupts — a merge done on the host but not yet recorded, a lease
// held — the next checks finish it: each pull request is merged exactly
// once and fully recorded.
func TestPRCheckKilledAtRandomMoments(t *testing.T) {
	if testing.Short() {
		t.Skip("kills five checks and waits out a dead process's lease")
	}
	e := newLocal(t)
	cal := newMergeFleet(t, newLocal(t), 6)
	start := time.Now()
	cal.e.ok("pr", "check")
	full := time.Since(start)
	cal.assertMergedOnce(t)
	t.Logf("checking and merging six pull requests takes %s", full)

	f := newMergeFleet(t, e, 6)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	at := time.Now()
	for i := range 5 {
		at = at.Add(10 * time.Minute) // every pull request not merged yet is due
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := e.command(ctx, "pr", "check", "--now", at.UTC().Format(time.RFC3339))
		require.NoError(t, cmd.Start())
		time.Sleep(time.Duration(rng.Int64N(int64(full))))
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		cancel()
		// Whatever the kill left, no pull request is merged twice.
		for j, target := range f.targets {
			n := strings.TrimSpace(gitOut(t, target, "rev-list", "--count", f.bases[j]+"..main"))
			assert.Contains(t, []string{"0", "1"}, n, "kill %d: %s", i, target)
		}
	}
	// A lease the last kill left lapses within a minute; checks until then
	// report the pull request busy.
	deadline := time.Now().Add(90 * time.Second)
	for {
		at = at.Add(10 * time.Minute)
		out := e.ok("pr", "check", "--now", at.UTC().Format(time.RFC3339))
		if strings.Contains(out, "no pull request is due") || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Second)
	}
	f.assertMergedOnce(t)
}
