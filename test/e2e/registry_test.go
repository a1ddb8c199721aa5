package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// TestChannelRace32Processes: 32 maestro processes add builds to and take them
// out of one channel at once; membership must end consistent (registry check
// clean) and every reader must agree with each build's own channels.
func TestChannelRace32Processes(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		e.ok("channel", "add", "--name", "race")
		var ids []int
		for i := range 4 {
			spec := manifestSpec{repo: "https://github.com/dotnet/race", branch: "main", commit: sha(i + 1), azdoBuildID: 500 + i,
				packages: []string{fmt.Sprintf("Race.Package@1.0.%d", i)}}
			var b maestro.Build
			e.okJSON(&b, "publish", "--manifest", writeFile(t, dir, fmt.Sprintf("m%d.xml", i), spec.xml()))
			ids = append(ids, b.ID)
		}
		for round := range 2 {
			var wg sync.WaitGroup
			for i := range 32 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					id := strconv.Itoa(ids[i%len(ids)])
					verb := "add-to-channel"
					if (i/len(ids)+round)%2 == 1 {
						verb = "remove-from-channel"
					}
					r := e.run("build", verb, "--id", id, "--channel", "race")
					// Removing a build that is not in the channel is "not found".
					assert.Contains(t, []int{0, 3}, r.code, "%s %s: %s", verb, id, r.stderr)
				}()
			}
			wg.Wait()
			e.ok("registry", "check")
			var in []maestro.Build
			e.okJSON(&in, "build", "list", "--channel", "race")
			inChannel := map[int]bool{}
			for _, b := range in {
				inChannel[b.ID] = true
			}
			newest := 0
			for _, id := range ids {
				var b maestro.Build
				e.okJSON(&b, "build", "show", "--id", strconv.Itoa(id))
				member := len(b.Channels) == 1 && b.Channels[0].Name == "race"
				assert.Equal(t, member, inChannel[id], "build %d: its channels and the channel's list disagree", id)
				if member {
					newest = max(newest, id)
				}
			}
			r := e.run("build", "latest", "--repository", "https://github.com/dotnet/race", "--channel", "race", "--output", "json")
			if newest == 0 {
				assert.Equal(t, 3, r.code, r.stderr)
			} else {
				require.Equal(t, 0, r.code, r.stderr)
				assert.Contains(t, r.stdout, fmt.Sprintf(`"id": %d,`, newest))
			}
		}
	})
}

// TestJobsOfOneAzDOBuildRace8Processes: eight jobs of one Azure DevOps build
// publish their own manifests at once. One records the build with exactly its
// assets; the seven others exit 4 naming assets the record lacks and how to
// publish in one step; nothing is mixed.
func TestJobsOfOneAzDOBuildRace8Processes(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		const jobs = 8
		results := make([]result, jobs)
		var wg sync.WaitGroup
		for i := range jobs {
			spec := manifestSpec{repo: "https://github.com/dotnet/sdk", branch: "main", commit: sha(9), azdoBuildID: 4242,
				packages: []string{fmt.Sprintf("Job%d.Package@10.0.0-ci.%d", i, i), fmt.Sprintf("Job%d.Other@10.0.0-ci.%d", i, i)}}
			path := writeFile(t, dir, fmt.Sprintf("job%d.xml", i), spec.xml())
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = e.run("publish", "--manifest", path)
			}()
		}
		wg.Wait()
		winner := -1
		for i, r := range results {
			if r.code == 0 {
				require.Equal(t, -1, winner, "jobs %d and %d both recorded the build", winner, i)
				winner = i
				continue
			}
			assert.Equal(t, 4, r.code, "job %d: %s", i, r.stderr)
			assert.Contains(t, r.stderr, fmt.Sprintf("without Job%d.Package 10.0.0-ci.%d", i, i))
			assert.Contains(t, r.stderr, "publish every job's manifest in one step")
		}
		require.NotEqual(t, -1, winner, "no job recorded the build")
		var list []maestro.Build
		e.okJSON(&list, "build", "list")
		require.Len(t, list, 1)
		var b maestro.Build
		e.okJSON(&b, "build", "show", "--id", strconv.Itoa(list[0].ID))
		var names []string
		for _, a := range b.Assets {
			names = append(names, a.Name)
		}
		assert.Equal(t, []string{fmt.Sprintf("Job%d.Package", winner), fmt.Sprintf("Job%d.Other", winner)}, names)
		// What the losers indexed is skipped by readers and removed by repair.
		r := e.run("asset", "find", "--name", fmt.Sprintf("Job%d.Package", (winner+1)%jobs), "--version", fmt.Sprintf("10.0.0-ci.%d", (winner+1)%jobs), "--output", "json")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, "[]\n", r.stdout)
		// The losers' leftovers: check names them, a dry run lists them and
		// writes nothing, repair removes them.
		// (each job's asset version is its own, so the losers' version sets
		// name the winner's id for versions it does not have). A loser that
		// starts after the winner has recorded the build is refused before
		// it indexes anything, so there may be nothing left: then check is
		// clean and the dry run finds nothing.
		{
			check := e.run("registry", "check", "--output", "json")
			require.Contains(t, []int{0, 1}, check.code, check.stderr)
			var dry struct {
				Problems []struct {
					Kind string `json:"kind"`
				} `json:"problems"`
			}
			e.okJSON(&dry, "registry", "repair", "--dry-run", "--min-age", "0s")
			again := e.run("registry", "check", "--output", "json")
			assert.Equal(t, check.stdout, again.stdout, "a dry run wrote")
			if check.code == 0 {
				assert.Empty(t, dry.Problems, "check was clean but the dry run found problems")
			} else {
				assert.Contains(t, check.stdout, `"kind": "stale-entry"`)
				assert.NotEmpty(t, dry.Problems)
			}
		}
		e.ok("registry", "repair", "--min-age", "0s")
		e.ok("registry", "check")
		// The same job again is the same build; all manifests at once are refused
		// too, since the record never changes.
		assert.Equal(t, strconv.Itoa(b.ID), strings.TrimSpace(e.ok("publish", "--manifest", filepath.Join(dir, fmt.Sprintf("job%d.xml", winner)))))
		r = e.run("publish", "--manifest", filepath.Join(dir, "*.xml"))
		assert.Equal(t, 4, r.code, r.stderr)
	})
}

// TestPublishKilledAt20Moments kills a 50,000-asset publish (kill -9) at 20
// random moments on each store. After each kill: registry check names what is
// left, build latest still answers with a recorded build, the rerun records
// the build exactly once, and repair leaves check clean.
func TestPublishKilledAt20Moments(t *testing.T) {
	if testing.Short() {
		t.Skip("kills 40 publishes of 50,000 assets")
	}
	const (
		assets = 50_000
		kills  = 20
		repo   = "https://github.com/dotnet/crash"
	)
	dir := t.TempDir()
	var big bytes.Buffer
	spec := manifestSpec{repo: repo, branch: "main", commit: sha(77), azdoBuildID: 7777}
	for i := range assets {
		spec.packages = append(spec.packages, fmt.Sprintf("Crash.Package%05d@10.0.0-ci.7777", i))
	}
	big.WriteString(spec.xml())
	bigPath := writeFile(t, dir, "big.xml", big.String())
	small := manifestSpec{repo: repo, branch: "main", commit: sha(76), azdoBuildID: 7776, packages: []string{"Crash.Small@10.0.0-ci.7776"}}
	smallPath := writeFile(t, dir, "small.xml", small.xml())

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	stores(t, func(t *testing.T, base *env) {
		rng := rand.New(rand.NewPCG(seed, uint64(len(base.store))))
		deadline := time.Now().Add(150 * time.Second)
		fresh := func(i int) *env {
			e := *base
			e.t = t
			if strings.HasPrefix(base.store, "file://") {
				e.store = "file://" + t.TempDir()
			} else {
				e.store = fmt.Sprintf("azblob://crash%02d", i)
			}
			e.ok("registry", "init")
			return &e
		}
		// How long a whole publish takes here: the kills fall within it.
		cal := fresh(99)
		start := time.Now()
		cal.ok("publish", "--manifest", bigPath)
		full := time.Since(start)
		t.Logf("a whole publish takes %s", full)
		recordedAfterKill := 0
		for i := range kills {
			if time.Now().After(deadline) {
				t.Fatalf("only %d kills within the time bound", i)
			}
			e := fresh(i)
			e.ok("channel", "add", "--name", "crash")
			var first maestro.Build
			e.okJSON(&first, "publish", "--manifest", smallPath, "--channel", "crash")

			after := time.Duration(rng.Int64N(int64(full)))
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			cmd := e.command(ctx, "publish", "--manifest", bigPath, "--channel", "crash")
			require.NoError(t, cmd.Start())
			time.Sleep(after)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
			cancel()

			var list []maestro.Build
			e.okJSON(&list, "build", "list", "--repository", repo)
			recorded := len(list) == 2
			check := e.run("registry", "check")
			var latest maestro.Build
			e.okJSON(&latest, "build", "latest", "--repository", repo, "--channel", "crash")
			if recorded {
				recordedAfterKill++
				assert.Equal(t, list[0].ID, latest.ID, "kill %d after %s", i, after)
				assert.Len(t, latest.Assets, assets)
			} else {
				require.Len(t, list, 1, "kill %d after %s", i, after)
				assert.Equal(t, first.ID, latest.ID, "kill %d after %s: an interrupted publish hid the build", i, after)
				if check.code != 0 {
					assert.Equal(t, 1, check.code, check.stderr)
					assert.Contains(t, check.stdout, "unfinished-build", "kill %d after %s", i, after)
				}
			}
			if check.code == 0 {
				assert.Contains(t, check.stdout, "clean:")
			}

			id := strings.TrimSpace(e.ok("publish", "--manifest", bigPath, "--channel", "crash"))
			e.okJSON(&list, "build", "list", "--repository", repo)
			require.Len(t, list, 2, "kill %d after %s: the rerun must record the build exactly once", i, after)
			assert.Equal(t, id, strconv.Itoa(list[0].ID))
			var inChannel []maestro.Build
			e.okJSON(&inChannel, "build", "list", "--channel", "crash", "--limit", "1")
			require.Len(t, inChannel, 1)
			assert.Equal(t, list[0].ID, inChannel[0].ID)

			e.ok("registry", "repair", "--min-age", "0s")
			e.ok("registry", "check")
			if strings.HasPrefix(e.store, "file://") {
				os.RemoveAll(strings.TrimPrefix(e.store, "file://"))
			}
		}
		t.Logf("%d of %d kills came after the commit point", recordedAfterKill, kills)
	})
}

// TestBuildQuestions: the questions every index answers, through the
// commands README shows, on both stores — paged lists, dependents, an asset's
// build by name and version (also found when its commit is unknown), and
// registry check's JSON.
func TestBuildQuestions(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		e.ok("channel", "add", "--name", "q")
		var ids []int
		for i := range 7 {
			spec := manifestSpec{repo: fmt.Sprintf("https://github.com/dotnet/q%d", i%2), branch: "main", commit: sha(100 + i), azdoBuildID: 100 + i,
				packages: []string{fmt.Sprintf("Q%d.Package@1.0.%d", i%2, i)}}
			var b maestro.Build
			e.okJSON(&b, "publish", "--manifest", writeFile(t, dir, fmt.Sprintf("q%d.xml", i), spec.xml()), "--channel", "q")
			ids = append(ids, b.ID)
		}
		var page []maestro.Build
		var got []int
		args := []string{"build", "list", "--channel", "q", "--limit", "3"}
		for {
			e.okJSON(&page, args...)
			if len(page) == 0 {
				break
			}
			for _, b := range page {
				got = append(got, b.ID)
			}
			args = []string{"build", "list", "--channel", "q", "--limit", "3", "--before", strconv.Itoa(page[len(page)-1].ID)}
		}
		assert.Equal(t, []int{ids[6], ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]}, got)
		e.okJSON(&page, "build", "list", "--limit", "2")
		require.Len(t, page, 2)
		assert.Equal(t, ids[6], page[0].ID)

		// A dependent found by name and version although its commit is unknown.
		vd := writeFile(t, dir, "Version.Details.xml", fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
    <Dependency Name="Q0.Package" Version="1.0.2">
      <Uri>https://github.com/dotnet/q0</Uri>
      <Sha>%s</Sha>
    </Dependency>
  </ProductDependencies>
</Dependencies>
`, sha(999)))
		down := manifestSpec{repo: "https://github.com/dotnet/down", branch: "main", commit: sha(200), azdoBuildID: 200, packages: []string{"Down@1.0.0"}}
		var d maestro.Build
		e.okJSON(&d, "publish", "--manifest", writeFile(t, dir, "down.xml", down.xml()), "--version-details", vd)
		require.Len(t, d.Dependencies, 1)
		assert.Equal(t, ids[2], d.Dependencies[0].BuildID)
		var dependents []maestro.Build
		e.okJSON(&dependents, "build", "dependents", "--id", strconv.Itoa(ids[2]))
		require.Len(t, dependents, 1)
		assert.Equal(t, d.ID, dependents[0].ID)
		e.okJSON(&dependents, "build", "dependents", "--id", strconv.Itoa(ids[4]))
		assert.Empty(t, dependents)

		var report struct {
			Builds   int `json:"builds"`
			Problems []struct {
				Kind    string `json:"kind"`
				BuildID int    `json:"buildId"`
			} `json:"problems"`
		}
		e.okJSON(&report, "registry", "check")
		assert.Equal(t, 8, report.Builds)
		assert.Empty(t, report.Problems)
	})
}
