package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// promotable is a four-repository chain (specChain) whose upstream pull
// request merged, with speculative pull requests below it in r[1..3], and
// a speculative build of the upstream pull request made from exactly its
// merged commit (a build of the merge commit), ready to promote.
type promotable struct {
	*specChain
	up      chainPR // the upstream pull request, merged
	head    int     // the speculative build of its head (not the merged commit)
	headSHA string  // that head
	merged  int     // the speculative build of its merged commit
	commit  string  // the merged commit
	chained [4]chainPR
}

func newPromotable(t *testing.T, e *env, extra int) *promotable {
	c := newSpecChain(t, e, localHost{e})
	p := &promotable{specChain: c}
	c.publish(t, "https://github.com/dotnet/arcade", "main", sha(1), "Microsoft.DotNet.Arcade.Sdk@2.0.0", "")
	p.up = c.only(t, 0, maestro.PullRequestOpen)
	e.ok("pr", "set-check", "--repository", c.r[0], "--number", fmt.Sprint(p.up.Number), "--name", "build", "--state", "pending")
	p.headSHA = head(t, c.r[0], p.up.HeadBranch)
	p.head = c.publishID(t, c.r[0], p.up.HeadBranch, p.headSHA, p.up.URL, []string{"Pkg0@2.0.0-pr.1"}, nil)
	c.ciChain(t, "2.0.0-pr.1")
	for i := 1; i <= 3; i++ {
		p.chained[i] = c.only(t, i, maestro.PullRequestOpen)
		c.green(t, i, p.chained[i])
	}
	c.green(t, 0, p.up)
	c.tick(t)
	p.commit = c.only(t, 0, maestro.PullRequestMerged).MergeCommit
	require.NotEmpty(t, p.commit)
	nonShipping := []string{"Pkg0.Internal@2.0.0-pr.3"}
	for i := range extra {
		nonShipping = append(nonShipping, fmt.Sprintf("Crash.Package%05d@2.0.0-pr.3", i))
	}
	p.merged = c.publishID(t, c.r[0], p.up.HeadBranch, p.commit, p.up.URL, []string{"Pkg0@2.0.0-pr.3"}, nonShipping)
	return p
}

// publishID publishes a speculative build of pull request pr at commit
// (shipping and non-shipping packages) and returns its id.
func (c *specChain) publishID(t *testing.T, repo, branch, commit, pr string, ship, nonShip []string) int {
	t.Helper()
	c.ado++
	m := writeFile(t, c.dir, fmt.Sprintf("m%d.xml", c.ado), manifestSpec{repo: repo, branch: branch, commit: commit, azdoBuildID: c.ado,
		packages: ship, nonShipping: nonShip}.xml())
	var b maestro.Build
	c.e.okJSON(&b, "publish", "--manifest", m, "--speculative", "--pull-request", pr, "--pull-request-head", commit, "--target-branch", "main")
	require.True(t, b.Speculative)
	return b.ID
}

// TestSpeculativePromote: `maestro build promote` refuses, writing nothing,
// a build that is not speculative, one of no pull request, one whose pull
// request is open, one of a commit the pull request did not merge as, a
// channel whose twin does not hold it; it promotes the speculative build
// of the merged commit to a mainline build (shipping as its manifest said,
// in the real channel, what build latest answers), which moves the
// speculative pull requests waiting for their parent's mainline build; a
// rerun is the same build. Then the chain merges up through `flow tick`
// alone: each merged pull request's mainline build, published without a
// trigger, moves the pull request below it at the next tick.
func TestSpeculativePromote(t *testing.T) {
	e := newLocal(t)
	p := newPromotable(t, e, 0)
	e.ok("channel", "add", "--name", "other")
	// A branch build: speculative, of no pull request.
	branch := writeFile(t, t.TempDir(), "branch.xml", manifestSpec{repo: specSource, branch: "feature/x", commit: sha(9), azdoBuildID: 9,
		packages: []string{"Microsoft.DotNet.Arcade.Sdk@9.0.0-x"}}.xml())
	var branchBuild maestro.Build
	e.okJSON(&branchBuild, "publish", "--manifest", branch, "--speculative", "--channel", "other")
	c := p.specChain
	before := storeListing(t, e)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--id", "1"}, 2, "build 1 is a mainline build, not a speculative one"},
		{[]string{"--id", "77"}, 3, "build 77 does not exist"},
		{[]string{"--id", "1000009999"}, 3, "build 1000009999 does not exist"},
		{[]string{"--id", fmt.Sprint(branchBuild.ID)}, 2, "was made from no pull request"},
		{[]string{"--id", fmt.Sprint(p.head)}, 2, fmt.Sprintf("was made from commit %s, but %s merged as commit %s", p.headSHA, p.up.URL, p.commit)},
		{[]string{"--id", fmt.Sprint(p.merged), "--channel", "other"}, 2, "--channel other: speculative build"},
		{[]string{"--id", fmt.Sprint(p.merged), "--channel", "nope"}, 2, `--channel: channel "nope" does not exist`},
		{[]string{"--id", fmt.Sprint(p.merged), "extra"}, 2, "takes no arguments"},
	} {
		r := e.run(append([]string{"build", "promote"}, tc.args...)...)
		assert.Equal(t, tc.code, r.code, "%v: %s", tc.args, r.stderr)
		assert.Contains(t, r.stderr, tc.want, tc.args)
	}
	assert.Equal(t, before, storeListing(t, e), "nothing written")

	// Promoted without a trigger: the mainline build is recorded; the
	// pull requests below wait until it flows.
	r := e.run("build", "promote", "--id", fmt.Sprint(p.merged), "--no-trigger")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, fmt.Sprintf("promoted speculative build %d to mainline build", p.merged))
	id := strings.TrimSpace(r.stdout)
	var m maestro.Build
	e.okJSON(&m, "build", "show", "--id", id)
	assert.False(t, m.Speculative)
	assert.Equal(t, p.merged, m.PromotedFrom)
	assert.Less(t, m.ID, 1_000_000_000, "an official id")
	assert.Equal(t, "main", m.Branch, "the branch it merged into")
	assert.Equal(t, p.commit, m.Commit)
	assert.Nil(t, m.PullRequest)
	assert.Equal(t, []maestro.Channel{{ID: 1, Name: "dev", Classification: "dev"}}, m.Channels, "the real channel of its twin")
	require.Len(t, m.Assets, 2)
	assert.Equal(t, "Pkg0", m.Assets[0].Name)
	assert.False(t, m.Assets[0].NonShipping, "shipping, as the manifest said")
	assert.Equal(t, "Pkg0.Internal", m.Assets[1].Name)
	assert.True(t, m.Assets[1].NonShipping)
	var latest maestro.Build
	e.okJSON(&latest, "build", "latest", "--repository", c.r[0], "--channel", "dev")
	assert.Equal(t, m.ID, latest.ID, "build latest sees it")
	var s maestro.Build
	e.okJSON(&s, "build", "show", "--id", fmt.Sprint(p.merged))
	assert.Equal(t, m.ID, s.PromotedTo)
	assert.True(t, s.Assets[0].NonShipping, "the speculative record is unchanged")
	assert.Regexp(t, fmt.Sprintf(`(?m)^promoted to:\s+build %d$`, m.ID), e.ok("build", "show", "--id", fmt.Sprint(p.merged)))
	assert.Regexp(t, fmt.Sprintf(`(?m)^promoted from:\s+speculative build %d$`, p.merged), e.ok("build", "show", "--id", id))
	pr := c.only(t, 1, maestro.PullRequestOpen)
	assert.True(t, strings.HasPrefix(pr.Title, "[speculative] "), "not flowed yet: %s", pr.Title)

	// The rerun is the same build, now flowed: r[1] moves to it.
	r = e.run("build", "promote", "--id", fmt.Sprint(p.merged), "--channel", "dev", "--output", "json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "subscription "+c.subs[1].ID)
	var again maestro.Build
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &again))
	assert.Equal(t, m.ID, again.ID)
	pr = c.only(t, 1, maestro.PullRequestOpen)
	assert.Equal(t, p.chained[1].Number, pr.Number, "moved in place")
	assert.False(t, strings.HasPrefix(pr.Title, "[speculative]"), pr.Title)
	assert.Contains(t, showFile(t, c.r[1], pr.HeadBranch, "eng/Version.Details.xml"), `Name="Pkg0" Version="2.0.0-pr.3"`)
	third := e.run("build", "promote", "--id", fmt.Sprint(p.merged))
	require.Equal(t, 0, third.code, third.stderr)
	assert.Equal(t, id, strings.TrimSpace(third.stdout))
	assert.Contains(t, third.stderr, "was promoted before")
	assert.Len(t, c.prs(t, 1), 1, "no second pull request in r[1]")
	assert.Equal(t, 0, e.run("registry", "check").code)

	var status []maestro.SpeculativePullRequest
	e.okJSON(&status, "speculative", "status", "--pull-request", p.up.URL)
	require.NotEmpty(t, status)
	assert.Equal(t, m.ID, status[0].MainlineBuildID, "r[1] moved to the promoted build")
	assert.Equal(t, maestro.SpeculativeMoved, status[0].State)

	// A newer mainline build of r[0] goes into the moved pull request, now
	// the subscription's ordinary one, in place: no second pull request.
	out := c.publish(t, c.r[0], "main", sha(555), "Pkg0@2.0.1", "")
	assert.Contains(t, out, fmt.Sprintf("updated pull request #%d", p.chained[1].Number))
	var newer maestro.Build
	e.okJSON(&newer, "build", "latest", "--repository", c.r[0])
	require.Greater(t, newer.ID, m.ID)
	e.okJSON(&status, "speculative", "status", "--pull-request", p.up.URL)
	assert.Equal(t, newer.ID, status[0].MainlineBuildID, "the document names the build the moved pull request carries")
	prs := c.prs(t, 1)
	require.Len(t, prs, 1, "one pull request in r[1]")
	assert.Equal(t, p.chained[1].Number, prs[0].Number)
	assert.False(t, strings.HasPrefix(prs[0].Title, "[speculative]"), prs[0].Title)
	assert.Contains(t, showFile(t, c.r[1], prs[0].HeadBranch, "eng/Version.Details.xml"), `Name="Pkg0" Version="2.0.1"`)

	// A mainline build of the commit exists now: another speculative build
	// of it is not promoted beside it.
	other := c.publishID(t, c.r[0], p.up.HeadBranch, p.commit, p.up.URL, []string{"Pkg0@2.0.0-pr.4"}, nil)
	r = e.run("build", "promote", "--id", fmt.Sprint(other))
	assert.Equal(t, 4, r.code, r.stderr)
	assert.Contains(t, r.stderr, fmt.Sprintf("has a mainline build already, build %d", m.ID))

	// Up the chain by `flow tick` alone: r[i] merges, its mainline build is
	// published without a trigger, and the next tick moves r[i+1] to it —
	// and, its checks green, merges it.
	c.green(t, 1, pr)
	c.tick(t)
	for i := 1; i <= 3; i++ {
		done := c.only(t, i, maestro.PullRequestMerged)
		assert.Equal(t, p.chained[i].Number, done.Number)
		assert.False(t, strings.HasPrefix(done.Title, "[speculative]"), "repository %d: %s", i, done.Title)
		want := fmt.Sprintf(`Name="Pkg%d" Version="2.0.0"`, i-1)
		if i == 1 {
			want = `Name="Pkg0" Version="2.0.1"`
		}
		assert.Contains(t, showFile(t, c.r[i], "main", "eng/Version.Details.xml"), want, "repository %d", i)
		if i == 3 {
			break
		}
		c.ado++
		mf := writeFile(t, c.dir, fmt.Sprintf("m%d.xml", c.ado), manifestSpec{repo: c.r[i], branch: "main", commit: done.MergeCommit, azdoBuildID: c.ado,
			packages: []string{fmt.Sprintf("Pkg%d@2.0.0", i)}}.xml())
		var mainline maestro.Build
		e.okJSON(&mainline, "publish", "--manifest", mf, "--no-trigger")
		below := c.only(t, i+1, maestro.PullRequestOpen)
		assert.True(t, strings.HasPrefix(below.Title, "[speculative] "), "repository %d waits: %s", i+1, below.Title)
		out := c.tick(t)
		assert.Contains(t, out, fmt.Sprintf("subscription %s, build %d: updated", c.subs[i+1].ID, mainline.ID), "the tick moved repository %d", i+1)
	}
	var all []maestro.SpeculativePullRequest
	e.okJSON(&all, "speculative", "status", "--pull-request", p.up.URL)
	require.Len(t, all, 3)
	assert.Equal(t, newer.ID, all[0].MainlineBuildID, "r[1] merged with the newer build")
	for _, sp := range all {
		assert.Equal(t, maestro.SpeculativeMerged, sp.State, sp.PullRequestURL)
	}
}

// TestSpeculativePromoteRace: six `maestro build promote` processes of one
// speculative build, beside two speculative publishes of the same pull
// request (whose flow reaches the same speculative pull request), at once,
// on the local store and Azurite: every promote prints the same mainline
// build, the commit has one mainline build, the pull request below moved to
// it once, in place, and `registry check` is clean.
func TestSpeculativePromoteRace(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		p := newPromotable(t, e, 0)
		c := p.specChain
		var wg sync.WaitGroup
		results := make([]result, 8)
		for i := range results {
			args := []string{"build", "promote", "--id", fmt.Sprint(p.merged)}
			if i >= 6 {
				c.ado++
				m := writeFile(t, c.dir, fmt.Sprintf("race%d.xml", i), manifestSpec{repo: c.r[0], branch: p.up.HeadBranch, commit: p.commit,
					azdoBuildID: c.ado, packages: []string{fmt.Sprintf("Pkg0@2.0.0-pr.%d", 10+i)}}.xml())
				args = []string{"publish", "--manifest", m, "--speculative", "--pull-request", p.up.URL, "--pull-request-head", p.commit, "--target-branch", "main"}
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = e.run(args...)
			}()
		}
		wg.Wait()
		ids := map[string]bool{}
		for i, r := range results {
			require.Equal(t, 0, r.code, "process %d: %s", i, r.stderr)
			if i < 6 {
				ids[strings.TrimSpace(r.stdout)] = true
			}
		}
		require.Len(t, ids, 1, "one mainline build: %v", ids)
		var builds []maestro.Build
		e.okJSON(&builds, "build", "list", "--repository", c.r[0], "--commit", p.commit)
		require.Len(t, builds, 1)
		assert.True(t, ids[fmt.Sprint(builds[0].ID)])
		assert.Equal(t, p.merged, builds[0].PromotedFrom)
		// A promote that found the pull request busy left it due: the next tick moves it.
		c.tick(t)
		prs := c.prs(t, 1)
		require.Len(t, prs, 1, "one pull request in r[1]")
		assert.Equal(t, p.chained[1].Number, prs[0].Number)
		assert.False(t, strings.HasPrefix(prs[0].Title, "[speculative]"), prs[0].Title)
		assert.Contains(t, showFile(t, c.r[1], "main", "eng/Version.Details.xml")+showFileOr(t, c.r[1], prs[0].HeadBranch, "eng/Version.Details.xml"),
			`Name="Pkg0" Version="2.0.0-pr.3"`)
		var all []maestro.SpeculativePullRequest
		e.okJSON(&all, "speculative", "status", "--pull-request", p.up.URL)
		require.NotEmpty(t, all)
		assert.Equal(t, builds[0].ID, all[0].MainlineBuildID)
		check := e.run("registry", "check")
		assert.Equal(t, 0, check.code, check.stdout)
	})
}

// showFileOr is showFile, or "" when the branch is gone (merged).
func showFileOr(t *testing.T, repo, branch, file string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", repo, "show", branch+":"+file).Output()
	if err != nil {
		return ""
	}
	return string(out)
}

// TestSpeculativePromoteKilled: a promote of a 20,000-asset speculative
// build killed (SIGKILL) at four moments — while it writes the mainline
// build's documents, and while it flows — leaves either no mainline build
// (`registry check` names the unfinished one) or the whole of it, never a
// part; running it again finishes it under the same id, moves the pull
// request below once, and leaves `registry check` clean.
func TestSpeculativePromoteKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds four chains with a 20,000-asset build each")
	}
	cal := newPromotable(t, newLocal(t), 20_000)
	start := time.Now()
	cal.e.ok("build", "promote", "--id", fmt.Sprint(cal.merged))
	full := time.Since(start)
	t.Logf("a promote of 20,002 assets that moves one pull request takes %s", full)
	for i, after := range []time.Duration{full / 8, full / 4, full / 2, 7 * full / 8} {
		e := newLocal(t)
		p := newPromotable(t, e, 20_000)
		c := p.specChain
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := e.command(ctx, "build", "promote", "--id", fmt.Sprint(p.merged))
		require.NoError(t, cmd.Start())
		time.Sleep(after)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		cancel()
		var latest maestro.Build
		r := e.run("build", "latest", "--repository", c.r[0], "--output", "json")
		if r.code == 0 {
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &latest))
			var shown maestro.Build
			e.okJSON(&shown, "build", "show", "--id", fmt.Sprint(latest.ID))
			assert.Len(t, shown.Assets, 20_002, "kill %d after %s: the whole build or none", i, after)
		} else {
			assert.Equal(t, 3, r.code, "kill %d after %s: %s", i, after, r.stderr)
		}
		check := e.run("registry", "check")
		t.Logf("kill %d after %s: build latest exits %d, registry check %d", i, after, r.code, check.code)
		if check.code != 0 {
			assert.Equal(t, 1, check.code, check.stderr)
			assert.Contains(t, check.stdout, "unfinished-build", "kill %d after %s", i, after)
		}
		var m maestro.Build
		e.okJSON(&m, "build", "promote", "--id", fmt.Sprint(p.merged))
		if latest.ID != 0 {
			assert.Equal(t, latest.ID, m.ID, "kill %d: the rerun is the build the kill recorded", i)
		}
		var shown maestro.Build
		e.okJSON(&shown, "build", "show", "--id", fmt.Sprint(m.ID))
		assert.Len(t, shown.Assets, 20_002)
		assert.Equal(t, p.merged, shown.PromotedFrom)
		check = e.run("registry", "check")
		assert.Equal(t, 0, check.code, "kill %d after %s: the rerun finished what the kill left: %s", i, after, check.stdout)
		c.tick(t) // a move the kill interrupted holds a claim until it lapses; the tick is 13 hours on
		prs := c.prs(t, 1)
		require.Len(t, prs, 1, "kill %d: one pull request in r[1]", i)
		assert.False(t, strings.HasPrefix(prs[0].Title, "[speculative]"), "kill %d: moved: %s", i, prs[0].Title)
		var all []maestro.SpeculativePullRequest
		e.okJSON(&all, "speculative", "status", "--pull-request", p.up.URL)
		assert.Equal(t, m.ID, all[0].MainlineBuildID, "kill %d", i)
	}
}
