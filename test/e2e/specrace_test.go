package e2e_test

import (
	"context"
	"fmt"
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

// TestSpeculativeChainTicksRace: pushes to every pull request of a chain
// (the upstream one and the speculative ones in r[1] and r[2]) whose
// speculative builds are published with --no-trigger, so only `flow tick`
// carries them; four `flow tick` processes race on the chain, and one of
// them is killed (SIGKILL) at a random moment of its work, three rounds
// over, on the local store and Azurite. After the next tick the chain is
// consistent: one pull request per parent, the same ones as before, each
// carrying its parent's newest speculative build, and each document
// recording it as applied.
func TestSpeculativeChainTicksRace(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		c := newSpecChain(t, e, localHost{e})
		c.publish(t, "https://github.com/dotnet/arcade", "main", sha(1), "Microsoft.DotNet.Arcade.Sdk@2.0.0", "")
		up := c.only(t, 0, maestro.PullRequestOpen)
		e.ok("pr", "set-check", "--repository", c.r[0], "--number", fmt.Sprint(up.Number), "--name", "build", "--state", "pending")
		c.publish(t, c.r[0], up.HeadBranch, head(t, c.r[0], up.HeadBranch), "Pkg0@2.0.0-pr.1", up.URL)
		c.ciChain(t, "2.0.0-pr.1")
		var chained [4]chainPR
		for i := 1; i <= 3; i++ {
			chained[i] = c.only(t, i, maestro.PullRequestOpen)
			c.green(t, i, chained[i])
		}
		seed := uint64(time.Now().UnixNano())
		t.Logf("seed %d", seed)
		rng := rand.New(rand.NewPCG(seed, 2))
		full := time.Duration(0)
		for round := 2; round <= 4; round++ {
			v := fmt.Sprintf("2.0.0-pr.%d", round)
			// The push: a new speculative build of each pull request of the chain, not flowed.
			parents := []chainPR{up, chained[1], chained[2]}
			newest := map[string]int{}
			for i, p := range parents {
				newest[p.URL] = c.publishNoTrigger(t, c.r[i], p.HeadBranch, sha(1000*round+i), p.URL, fmt.Sprintf("Pkg%d@%s", i, v))
			}
			c.min++
			at := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(c.min) * 13 * time.Hour).Format(time.RFC3339)
			results := make([]result, 4)
			var wg sync.WaitGroup
			start := time.Now()
			for i := range results {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if i > 0 {
						results[i] = e.run("flow", "tick", "--now", at)
						return
					}
					ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
					defer cancel()
					cmd := e.command(ctx, "flow", "tick", "--now", at)
					require.NoError(t, cmd.Start())
					wait := time.Second
					if full > 0 {
						wait = time.Duration(rng.Int64N(int64(full)))
					}
					time.Sleep(wait)
					_ = cmd.Process.Signal(syscall.SIGKILL)
					_ = cmd.Wait()
					t.Logf("round %d: killed a tick after %s", round, wait)
				}()
			}
			wg.Wait()
			if full == 0 {
				full = time.Since(start)
			}
			for i, r := range results[1:] {
				require.Equal(t, 0, r.code, "round %d, tick %d: %s", round, i+1, r.stderr)
			}
			for i := 1; i <= 3; i++ {
				assert.Len(t, c.prs(t, i), 1, "round %d: repository %d has one pull request, whatever the kill left", round, i)
			}
			// The next tick finishes what the killed one held (its claim lapsed by then).
			t.Log(c.tick(t))
			for i := 1; i <= 3; i++ {
				prs := c.prs(t, i)
				require.Len(t, prs, 1, "round %d: repository %d", round, i)
				assert.Equal(t, chained[i].Number, prs[0].Number, "round %d: updated in place", round)
				assert.Equal(t, maestro.PullRequestOpen, prs[0].State)
				assert.Contains(t, showFile(t, c.r[i], prs[0].HeadBranch, "eng/Version.Details.xml"), fmt.Sprintf(`Name="Pkg%d" Version="%s"`, i-1, v), "round %d: repository %d carries the newest build", round, i)
			}
			var all []maestro.SpeculativePullRequest
			e.okJSON(&all, "speculative", "status", "--pull-request", up.URL)
			require.Len(t, all, 3)
			for _, sp := range all {
				assert.Equal(t, newest[sp.Parent], sp.BuildID, "round %d: %s", round, sp.PullRequestURL)
				assert.Equal(t, sp.BuildID, sp.AppliedBuildID, "round %d: %s carries it", round, sp.PullRequestURL)
				assert.Nil(t, sp.Claim, "round %d: %s", round, sp.PullRequestURL)
			}
		}
		check := e.run("registry", "check")
		assert.Equal(t, 0, check.code, check.stdout)
		assert.False(t, strings.Contains(e.ok("pr", "list", "--repository", c.r[3]), "closed"))
	})
}

// publishNoTrigger publishes a speculative build of pull request pr at
// commit with package pkg, without flowing it, and returns its id.
func (c *specChain) publishNoTrigger(t *testing.T, repo, branch, commit, pr, pkg string) int {
	t.Helper()
	c.ado++
	m := writeFile(t, c.dir, fmt.Sprintf("m%d.xml", c.ado), manifestSpec{repo: repo, branch: branch, commit: commit, azdoBuildID: c.ado,
		packages: []string{pkg}}.xml())
	var b maestro.Build
	c.e.okJSON(&b, "publish", "--manifest", m, "--speculative", "--pull-request", pr, "--pull-request-head", commit, "--target-branch", "main", "--no-trigger")
	return b.ID
}
