package e2e_test

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// specChain is a four-repository product on the local platform: r[0] takes
// Arcade (a normal everyBuild subscription, whose pull request is the
// upstream pull request), and r[i] takes package Pkg{i-1} of r[i-1] through
// a subscription that opts in to speculative flow, gated by
// AllChecksSuccessful.
type specChain struct {
	e    *env
	dir  string
	r    [4]string
	subs [4]maestro.Subscription // subs[0]: Arcade → r[0]
	ado  int                     // the next Azure DevOps build id
	min  int                     // the ticks run
}

// tick runs `flow tick` 13 hours after the last one (from 2099: every
// check and poll scheduled before is due).
func (c *specChain) tick(t *testing.T) string {
	t.Helper()
	c.min++
	at := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(c.min) * 13 * time.Hour)
	return c.e.ok("flow", "tick", "--now", at.Format(time.RFC3339))
}

func newSpecChain(t *testing.T, e *env) *specChain {
	c := &specChain{e: e, dir: t.TempDir(), ado: 100}
	e.ok("channel", "add", "--name", "dev")
	e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", "dev")
	for i := range c.r {
		src := t.TempDir()
		name, uri := "Microsoft.DotNet.Arcade.Sdk", "https://github.com/dotnet/arcade"
		if i > 0 {
			name, uri = fmt.Sprintf("Pkg%d", i-1), c.r[i-1]
		}
		writeFile(t, src, "eng/Version.Details.xml", fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
    <Dependency Name="%s" Version="1.0.0">
      <Uri>%s</Uri>
      <Sha>0000000000000000000000000000000000000001</Sha>
    </Dependency>
  </ProductDependencies>
  <ToolsetDependencies>
  </ToolsetDependencies>
</Dependencies>
`, name, uri))
		c.r[i] = bareRepoFrom(t, src)
		e.ok("default-channel", "add", "--repository", c.r[i], "--branch", "main", "--channel", "dev")
		args := []string{"subscription", "add", "--channel", "dev", "--source-repo", uri, "--target-repo", c.r[i], "--target-branch", "main",
			"--update-frequency", "everyBuild", "--merge-policy", "AllChecksSuccessful"}
		if i > 0 {
			args = append(args, "--speculative")
		}
		e.okJSON(&c.subs[i], args...)
	}
	return c
}

// publish records a build of repo with package pkg@version; pr, when set,
// makes it a speculative build of that pull request at head.
func (c *specChain) publish(t *testing.T, repo, branch, commit, pkg string, pr string) string {
	t.Helper()
	c.ado++
	m := writeFile(t, c.dir, fmt.Sprintf("m%d.xml", c.ado), manifestSpec{repo: repo, branch: branch, commit: commit, azdoBuildID: c.ado,
		packages: []string{pkg}}.xml())
	args := []string{"publish", "--manifest", m}
	if pr != "" {
		args = append(args, "--speculative", "--pull-request", pr, "--pull-request-head", commit, "--target-branch", "main")
	}
	r := c.e.run(args...)
	require.Equal(t, 0, r.code, r.stderr)
	return r.stderr
}

// prs lists the pull requests of repository i.
func (c *specChain) prs(t *testing.T, i int) []maestro.PullRequest {
	t.Helper()
	var prs []maestro.PullRequest
	c.e.okJSON(&prs, "pr", "list", "--repository", c.r[i])
	return prs
}

// only returns the one pull request of repository i in state st.
func (c *specChain) only(t *testing.T, i int, st maestro.PullRequestState) maestro.PullRequest {
	t.Helper()
	var found []maestro.PullRequest
	for _, p := range c.prs(t, i) {
		if p.State == st {
			found = append(found, p)
		}
	}
	require.Len(t, found, 1, "repository %d: %s pull requests", i, st)
	return found[0]
}

func head(t *testing.T, repo, branch string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", repo, "rev-parse", "refs/heads/"+branch).Output()
	require.NoError(t, err, "%s %s", repo, branch)
	return strings.TrimSpace(string(out))
}

func (c *specChain) green(t *testing.T, i int, pr maestro.PullRequest) {
	t.Helper()
	c.e.ok("pr", "set-check", "--repository", c.r[i], "--number", fmt.Sprint(pr.Number), "--name", "build", "--state", "success")
}

// ciChain plays the CI of the speculative pull requests of repositories 1
// and 2: each publishes a speculative build of its pull request with
// version v, which flows one repository further down.
func (c *specChain) ciChain(t *testing.T, v string) {
	t.Helper()
	for i := 1; i <= 2; i++ {
		pr := c.only(t, i, maestro.PullRequestOpen)
		out := c.publish(t, c.r[i], pr.HeadBranch, head(t, c.r[i], pr.HeadBranch), fmt.Sprintf("Pkg%d@%s", i, v), pr.URL)
		assert.Contains(t, out, "subscription "+c.subs[i+1].ID)
	}
}

// TestSpeculativeChainLocal: a four-repository chain on the local platform.
// An upstream pull request's build opens speculative pull requests down the
// chain; the gate holds them with their checks green; a new upstream push
// updates the chain in place; the upstream merge moves each to the mainline
// build of the merged commit, and each merges by policy in turn. A second
// upstream pull request closed without merging closes its descendants with
// a comment and deletes their branches.
func TestSpeculativeChainLocal(t *testing.T) {
	e := newLocal(t)
	c := newSpecChain(t, e)

	// The upstream pull request: Arcade's build into r[0], its check pending.
	c.publish(t, "https://github.com/dotnet/arcade", "main", sha(1), "Microsoft.DotNet.Arcade.Sdk@2.0.0", "")
	up := c.only(t, 0, maestro.PullRequestOpen)
	e.ok("pr", "set-check", "--repository", c.r[0], "--number", fmt.Sprint(up.Number), "--name", "build", "--state", "pending")

	// Its CI: a speculative build flows to r[1]; the chain forms below.
	out := c.publish(t, c.r[0], up.HeadBranch, head(t, c.r[0], up.HeadBranch), "Pkg0@2.0.0-pr.1", up.URL)
	assert.Contains(t, out, "subscription "+c.subs[1].ID)
	c.ciChain(t, "2.0.0-pr.1")
	var spec [4]maestro.PullRequest
	for i := 1; i <= 3; i++ {
		spec[i] = c.only(t, i, maestro.PullRequestOpen)
		assert.True(t, strings.HasPrefix(spec[i].Title, "[speculative] "), spec[i].Title)
		assert.Contains(t, spec[i].Body, "## Speculative")
		assert.Contains(t, spec[i].Body, "1. "+up.URL)
		assert.Contains(t, showFile(t, c.r[i], spec[i].HeadBranch, "eng/Version.Details.xml"), fmt.Sprintf(`Name="Pkg%d" Version="2.0.0-pr.1"`, i-1))
		c.green(t, i, spec[i])
	}
	assert.Contains(t, spec[3].Body, "2. "+spec[1].URL)
	assert.Contains(t, spec[3].Body, "3. "+spec[2].URL)

	// The gate holds them, checks green.
	c.tick(t)
	for i := 1; i <= 3; i++ {
		pr := c.only(t, i, maestro.PullRequestOpen)
		show := e.ok("pr", "show", "--repository", c.r[i], "--number", fmt.Sprint(pr.Number))
		assert.Contains(t, show, "[wait] SpeculativeParentsMerged: Waiting for the ancestor pull requests to merge", show)
		assert.Contains(t, show, "[pass] AllChecksSuccessful", show)
	}

	// A new push upstream updates the chain in place.
	e.ok("pr", "set-check", "--repository", c.r[0], "--number", fmt.Sprint(up.Number), "--name", "build", "--state", "pending")
	c.publish(t, c.r[0], up.HeadBranch, sha(77), "Pkg0@2.0.0-pr.2", up.URL)
	c.ciChain(t, "2.0.0-pr.2")
	for i := 1; i <= 3; i++ {
		prs := c.prs(t, i)
		require.Len(t, prs, 1, "repository %d: one pull request, updated in place", i)
		assert.Equal(t, spec[i].Number, prs[0].Number)
		assert.Contains(t, showFile(t, c.r[i], prs[0].HeadBranch, "eng/Version.Details.xml"), fmt.Sprintf(`Name="Pkg%d" Version="2.0.0-pr.2"`, i-1))
		c.green(t, i, prs[0])
	}

	// The upstream merges: each pull request below moves to the mainline
	// build of its parent's merged commit and merges by policy, in turn.
	c.green(t, 0, up)
	t.Log(c.tick(t))
	merged := c.only(t, 0, maestro.PullRequestMerged)
	require.NotEmpty(t, merged.MergeCommit)
	parentCommit := merged.MergeCommit
	for i := 1; i <= 3; i++ {
		out := c.publish(t, c.r[i-1], "main", parentCommit, fmt.Sprintf("Pkg%d@2.0.0", i-1), "")
		assert.Contains(t, out, "subscription "+c.subs[i].ID)
		pr := c.only(t, i, maestro.PullRequestOpen)
		assert.Equal(t, spec[i].Number, pr.Number, "moved in place, no new pull request")
		assert.False(t, strings.HasPrefix(pr.Title, "[speculative]"), pr.Title)
		assert.NotContains(t, pr.Body, "## Speculative")
		assert.Contains(t, showFile(t, c.r[i], pr.HeadBranch, "eng/Version.Details.xml"), fmt.Sprintf(`Name="Pkg%d" Version="2.0.0"`, i-1))
		c.green(t, i, pr)
		c.tick(t)
		done := c.only(t, i, maestro.PullRequestMerged)
		require.NotEmpty(t, done.MergeCommit)
		parentCommit = done.MergeCommit
	}
	var all []maestro.SpeculativePullRequest
	e.okJSON(&all, "speculative", "status", "--pull-request", up.URL)
	require.Len(t, all, 3)
	for i, sp := range all {
		assert.Equal(t, maestro.SpeculativeMerged, sp.State, sp.PullRequestURL)
		assert.Equal(t, spec[i+1].URL, sp.PullRequestURL, "root first, down the chain")
	}
	e.okJSON(&all, "speculative", "status", "--pull-request", spec[2].URL)
	require.Len(t, all, 2, "the pull request and the one below it")

	// A second upstream pull request, closed without merging.
	c.publish(t, "https://github.com/dotnet/arcade", "main", sha(2), "Microsoft.DotNet.Arcade.Sdk@3.0.0", "")
	up2 := c.only(t, 0, maestro.PullRequestOpen)
	c.publish(t, c.r[0], up2.HeadBranch, head(t, c.r[0], up2.HeadBranch), "Pkg0@3.0.0-pr.1", up2.URL)
	c.ciChain(t, "3.0.0-pr.1")
	var second [4]maestro.PullRequest
	for i := 1; i <= 3; i++ {
		second[i] = c.only(t, i, maestro.PullRequestOpen)
	}
	table := e.ok("speculative", "status", "--pull-request", up2.URL)
	assert.Regexp(t, `(?m)^  `+regexp.QuoteMeta(c.r[2])+`\s+`+regexp.QuoteMeta(second[2].URL)+`\s+open\s+\d+\s+waiting\s+ancestor pull request\(s\) to merge: `+regexp.QuoteMeta(up2.URL)+`, `+regexp.QuoteMeta(second[1].URL)+`$`, table)
	e.ok("pr", "close", "--repository", c.r[0], "--number", fmt.Sprint(up2.Number))
	c.tick(t)
	for i := 1; i <= 3; i++ {
		pr := c.only(t, i, maestro.PullRequestClosed)
		assert.Equal(t, second[i].Number, pr.Number)
		assert.Contains(t, pr.Body, up2.URL+", which this speculative pull request took changes from, was closed without merging")
		err := exec.Command("git", "-C", c.r[i], "rev-parse", "--verify", "refs/heads/"+pr.HeadBranch).Run()
		assert.Error(t, err, "branch %s of repository %d is deleted", pr.HeadBranch, i)
	}
}
