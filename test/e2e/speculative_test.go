package e2e_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/test/testenv"
)

const (
	specSource  = "https://github.com/dotnet/arcade"
	specChannel = ".NET Eng - Latest"
)

// TestSpeculativeBuildsAreIsolated: two registries built from the same
// history, one with speculative builds added (a pull request build of the
// mainline branch, a feature branch build with --channel, one that depends
// on the official build), answer every normal question byte for byte alike:
// build latest and list, asset find, channel list, config export, the
// coherency pass of deps update, what a new subscription would flow, and a
// real subscription trigger on a local target (its output and the pull
// request's tree).
func TestSpeculativeBuildsAreIsolated(t *testing.T) {
	const c = "sourcelink-0074a21d83"
	cases := testenv.Shared(t, "fixtures", "maestro-updates", "cases")
	a := newLocal(t)
	target := bareRepoFrom(t, filepath.Join(cases, c, "before"))
	pristine := filepath.Join(t.TempDir(), "pristine.git")
	require.NoError(t, exec.Command("cp", "-a", target, pristine).Run())

	a.ok("channel", "add", "--name", specChannel)
	a.ok("channel", "add", "--name", "other")
	a.ok("default-channel", "add", "--repository", specSource, "--branch", "main", "--channel", specChannel)
	var sub maestro.Subscription
	a.okJSON(&sub, "subscription", "add", "--channel", specChannel, "--source-repo", specSource,
		"--target-repo", target, "--target-branch", "main", "--update-frequency", "everyDay")
	dir := t.TempDir()
	m1 := writeFile(t, dir, "m1.xml", manifestSpec{repo: specSource, branch: "main",
		commit: "7b731032220c21a3ed0021c72757b1f3122579b2", azdoBuildID: 1,
		packages: []string{"Microsoft.DotNet.Arcade.Sdk@1.0.0-beta.19463.3"}}.xml())
	a.ok("publish", "--manifest", m1, "--no-trigger")

	// b: the same history, then speculative builds.
	bDir := filepath.Join(t.TempDir(), "b")
	require.NoError(t, exec.Command("cp", "-a", strings.TrimPrefix(a.store, "file://"), bDir).Run())
	b := &env{t: t, store: "file://" + bDir}
	pr := writeFile(t, dir, "pr.xml", manifestSpec{repo: specSource, branch: "pull/5/merge",
		commit: sha(50), azdoBuildID: 50, packages: []string{"Microsoft.DotNet.Arcade.Sdk@1.0.0-beta.19470.1"}}.xml())
	var spec maestro.Build
	b.okJSON(&spec, "publish", "--manifest", pr, "--speculative", "--pull-request", "https://github.com/dotnet/arcade/pull/5",
		"--pull-request-head", sha(51), "--target-branch", "main")
	assert.True(t, spec.Speculative)
	assert.Equal(t, &maestro.BuildPullRequest{URL: "https://github.com/dotnet/arcade/pull/5", HeadCommit: sha(51), TargetBranch: "main"}, spec.PullRequest)
	assert.Equal(t, []maestro.Channel{{ID: 1_000_000_001, Name: specChannel + " (speculative)", Classification: "dev"}}, spec.Channels)
	assert.True(t, spec.Assets[0].NonShipping)
	feature := writeFile(t, dir, "feature.xml", manifestSpec{repo: specSource, branch: "feature/x",
		commit: sha(60), azdoBuildID: 60, packages: []string{"Microsoft.DotNet.Arcade.Sdk@1.0.0-beta.19471.1"}}.xml())
	var spec2 maestro.Build
	b.okJSON(&spec2, "publish", "--manifest", feature, "--speculative", "--channel", specChannel, "--channel", "other")
	assert.Len(t, spec2.Channels, 2)
	assert.Nil(t, spec2.PullRequest)
	// build show reaches a speculative build by its id.
	shown := b.ok("build", "show", "--id", fmt.Sprint(spec.ID))
	assert.Contains(t, shown, "speculative:")
	assert.Contains(t, shown, "https://github.com/dotnet/arcade/pull/5 (head "+sha(51)+")")

	checkout := func(t *testing.T) string {
		d := filepath.Join(t.TempDir(), "checkout")
		require.NoError(t, exec.Command("cp", "-r", filepath.Join(cases, c, "before"), d).Run())
		return d
	}
	questions := [][]string{
		{"build", "latest", "--repository", specSource, "--channel", specChannel, "--output", "json"},
		{"build", "latest", "--repository", specSource, "--output", "json"},
		{"build", "list", "--output", "json"},
		{"build", "list", "--repository", specSource, "--output", "json"},
		{"build", "list", "--channel", specChannel, "--output", "json"},
		{"asset", "find", "--name", "Microsoft.DotNet.Arcade.Sdk", "--output", "json"},
		{"channel", "list", "--output", "json"},
		{"config", "export"},
		{"subscription", "add", "--channel", specChannel, "--source-repo", specSource, "--target-repo", target,
			"--target-branch", "release/1", "--what-if", "--output", "json"},
	}
	for _, q := range questions {
		ra, rb := a.run(q...), b.run(q...)
		assert.Equal(t, ra, rb, "maestro %s", strings.Join(q, " "))
	}
	// The coherency pass and a dependency update from the channel's latest build.
	for _, q := range [][]string{
		{"deps", "update", "--coherency-only", "--dry-run"},
		{"deps", "update", "--build", "1", "--dry-run"},
	} {
		da, db := checkout(t), checkout(t)
		ra, rb := a.run(append(q, "--dir", da)...), b.run(append(q, "--dir", db)...)
		ra.stdout = strings.ReplaceAll(ra.stdout, da, "DIR")
		rb.stdout = strings.ReplaceAll(rb.stdout, db, "DIR")
		assert.Equal(t, ra, rb, "maestro %s", strings.Join(q, " "))
	}

	// A real run of the subscription on the local target, from the same target state.
	runTrigger := func(e *env) (result, string, string) {
		require.NoError(t, os.RemoveAll(target))
		require.NoError(t, exec.Command("cp", "-a", pristine, target).Run())
		r := e.run("subscription", "trigger", "--id", sub.ID)
		var prs []maestro.PullRequest
		e.okJSON(&prs, "pr", "list", "--repository", target)
		require.Len(t, prs, 1)
		return r, gitOut(t, target, "rev-parse", prs[0].HeadBranch+"^{tree}"), showFile(t, target, prs[0].HeadBranch, "global.json")
	}
	ra, treeA, _ := runTrigger(a)
	rb, treeB, globalJSON := runTrigger(b)
	require.Equal(t, 0, ra.code, ra.stderr)
	assert.Contains(t, ra.stdout, "updated")
	assert.Equal(t, ra, rb, "subscription trigger")
	assert.Equal(t, treeA, treeB, "the pull request's files")
	assert.Contains(t, globalJSON, "1.0.0-beta.19463.3", "the official build, not the speculative one")
	for _, q := range [][]string{{"flow", "history", "--subscription", sub.ID, "--output", "json"}, {"build", "latest", "--repository", specSource, "--output", "json"}} {
		ra, rb := a.run(q...), b.run(q...)
		ra.stdout = stripTimes(ra.stdout)
		rb.stdout = stripTimes(rb.stdout)
		assert.Equal(t, ra, rb, "maestro %s", strings.Join(q, " "))
	}
}

// stripTimes blanks the "time" fields of flow outcomes, which record when each run happened.
func stripTimes(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, `"time":`) {
			l = `"time": -`
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// TestPublishSpeculativeBadInput: each mistake exits 2 naming its flag, and writes nothing.
func TestPublishSpeculativeBadInput(t *testing.T) {
	e := newLocal(t)
	e.ok("channel", "add", "--name", specChannel)
	e.ok("default-channel", "add", "--repository", specSource, "--branch", "main", "--channel", specChannel)
	dir := t.TempDir()
	main := writeFile(t, dir, "main.xml", manifestSpec{repo: specSource, branch: "main", commit: sha(1), azdoBuildID: 1, packages: []string{"P@1.0.0"}}.xml())
	before := storeListing(t, e)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--speculative", "--pull-request", "https://github.com/dotnet/arcade/issues/5"}, "--pull-request"},
		{[]string{"--speculative", "--pull-request", "https://example.com/x"}, "--pull-request"},
		{[]string{"--pull-request", "https://github.com/dotnet/arcade/pull/5"}, "--pull-request needs --speculative"},
		{[]string{"--speculative", "--target-branch", "main"}, "--target-branch needs --pull-request"},
		{[]string{"--speculative"}, "mainline branch"},
		{[]string{"--speculative", "--pull-request", "https://github.com/dotnet/runtime/pull/5"}, "is a pull request of https://github.com/dotnet/runtime"},
		{[]string{"--speculative", "--pull-request", "https://github.com/dotnet/arcade/pull/5", "--pull-request-head", "nope"}, "--pull-request-head"},
	} {
		r := e.run(append([]string{"publish", "--manifest", main}, tc.args...)...)
		assert.Equal(t, 2, r.code, "%v: %s", tc.args, r.stderr)
		assert.Contains(t, r.stderr, tc.want, tc.args)
	}
	assert.Equal(t, before, storeListing(t, e), "nothing written")
	// An Azure Repos pull request of the Azure DevOps mirror is one of the repository.
	r := e.run("publish", "--manifest", main, "--speculative", "--pull-request", "https://dev.azure.com/dnceng/internal/_git/dotnet-arcade/pullrequest/7", "--output", "json")
	assert.Equal(t, 0, r.code, r.stderr)
}

// TestSpeculativePublishRace: eight `maestro publish --speculative`
// processes of different pull request builds into one channel at once create
// its twin once and record every build in it (local store and Azurite).
func TestSpeculativePublishRace(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		e.ok("channel", "add", "--name", specChannel)
		e.ok("default-channel", "add", "--repository", specSource, "--branch", "main", "--channel", specChannel)
		dir := t.TempDir()
		var wg sync.WaitGroup
		results := make([]result, 8)
		for i := range 8 {
			m := writeFile(t, dir, fmt.Sprintf("m%d.xml", i), manifestSpec{repo: specSource, branch: fmt.Sprintf("pull/%d/merge", i+1),
				commit: sha(100 + i), azdoBuildID: 100 + i, packages: []string{fmt.Sprintf("P@1.0.%d", i)}}.xml())
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				cmd := e.command(ctx, "publish", "--manifest", m, "--speculative", "--pull-request",
					fmt.Sprintf("https://github.com/dotnet/arcade/pull/%d", i+1), "--target-branch", "main")
				var out, errOut strings.Builder
				cmd.Stdout, cmd.Stderr = &out, &errOut
				err := cmd.Run()
				code := 0
				if err != nil {
					code = -1
					if x, ok := err.(*exec.ExitError); ok {
						code = x.ExitCode()
					}
				}
				results[i] = result{out.String(), errOut.String(), code}
			}()
		}
		wg.Wait()
		ids := map[string]bool{}
		for _, r := range results {
			require.Equal(t, 0, r.code, r.stderr)
			ids[strings.TrimSpace(r.stdout)] = true
		}
		assert.Len(t, ids, 8, "eight builds")
		for id := range ids {
			var got maestro.Build
			e.okJSON(&got, "build", "show", "--id", id)
			assert.Equal(t, []maestro.Channel{{ID: 1_000_000_001, Name: specChannel + " (speculative)", Classification: "dev"}}, got.Channels, id)
		}
		var chans []maestro.Channel
		e.okJSON(&chans, "channel", "list")
		assert.Len(t, chans, 1, "the twin is not a channel of the registry")
		r := e.run("build", "latest", "--repository", specSource)
		assert.Equal(t, 3, r.code, "no official build: %s", r.stdout)
	})
}

// TestSpeculativePublishKilled: a speculative publish killed (SIGKILL) at a
// random moment is finished by running it again — one build, under the
// killed run's id when it had claimed one, in its twin, and no official
// question sees it meanwhile.
func TestSpeculativePublishKilled(t *testing.T) {
	e := newLocal(t)
	e.ok("channel", "add", "--name", specChannel)
	e.ok("default-channel", "add", "--repository", specSource, "--branch", "main", "--channel", specChannel)
	dir := t.TempDir()
	spec := manifestSpec{repo: specSource, branch: "pull/9/merge", commit: sha(90), azdoBuildID: 90}
	for i := range 20_000 {
		spec.packages = append(spec.packages, fmt.Sprintf("Crash.Package%05d@10.0.0-pr.9", i))
	}
	m := writeFile(t, dir, "big.xml", spec.xml())
	args := []string{"publish", "--manifest", m, "--speculative", "--pull-request", "https://github.com/dotnet/arcade/pull/9", "--target-branch", "main"}
	start := time.Now()
	cal := newLocal(t)
	cal.ok("channel", "add", "--name", specChannel)
	cal.ok(args...)
	full := time.Since(start)
	for i, after := range []time.Duration{full / 8, full / 4, full / 2, 3 * full / 4, 7 * full / 8} {
		e := newLocal(t)
		e.ok("channel", "add", "--name", specChannel)
		e.ok("default-channel", "add", "--repository", specSource, "--branch", "main", "--channel", specChannel)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := e.command(ctx, args...)
		require.NoError(t, cmd.Start())
		time.Sleep(after)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		cancel()
		r := e.run("build", "latest", "--repository", specSource)
		assert.Equal(t, 3, r.code, "kill %d after %s: no official build, ever", i, after)
		// registry check walks the speculative builds too: what the kill left is named.
		check := e.run("registry", "check")
		t.Logf("kill %d after %s: registry check exits %d", i, after, check.code)
		if check.code != 0 {
			assert.Equal(t, 1, check.code, check.stderr)
			assert.Contains(t, check.stdout, "unfinished-build", "kill %d after %s", i, after)
			assert.Contains(t, check.stdout, "speculative builds: ", "kill %d after %s", i, after)
		}
		var got maestro.Build
		e.okJSON(&got, args...)
		// A kill after the counter's write and before the claim's leaves the first id unused.
		assert.Contains(t, []int{1_000_000_000, 1_000_000_001}, got.ID, "kill %d after %s", i, after)
		assert.Len(t, got.Assets, 20_000)
		check = e.run("registry", "check")
		assert.Equal(t, 0, check.code, "kill %d after %s: the rerun finished what the kill left: %s", i, after, check.stdout)
		var again maestro.Build
		e.okJSON(&again, args...)
		assert.Equal(t, got.ID, again.ID, "a third run is the same build")
		var shown maestro.Build
		e.okJSON(&shown, "build", "show", "--id", fmt.Sprint(got.ID))
		assert.Len(t, shown.Assets, 20_000)
		assert.Equal(t, specChannel+" (speculative)", shown.Channels[0].Name)
	}
}
