package e2e_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/test/testenv"
)

// bareRepoFrom makes a bare repository whose main branch holds dir's files.
func bareRepoFrom(t *testing.T, dir string) string {
	t.Helper()
	ctx := context.Background()
	g := git.Runner{Author: git.Identity{Name: "Dev", Email: "dev@example.com"}}
	root := t.TempDir()
	bare := filepath.Join(root, "repo.git")
	require.NoError(t, g.Init(ctx, bare, true))
	seed := filepath.Join(root, "seed")
	require.NoError(t, exec.Command("cp", "-r", dir, seed).Run())
	require.NoError(t, g.Init(ctx, seed, false))
	_, err := g.CommitAll(ctx, seed, "initial")
	require.NoError(t, err)
	require.NoError(t, g.Push(ctx, seed, bare, "HEAD", "main", ""))
	return bare
}

func showFile(t *testing.T, repo, rev, path string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", repo, "show", rev+":"+path).Output()
	require.NoError(t, err, "%s:%s", rev, path)
	return string(out)
}

// TestPublishFlowsToLocalRepository: publish → everyBuild subscription →
// pull request on the local platform whose files equal the production bot's.
func TestPublishFlowsToLocalRepository(t *testing.T) {
	const c = "sourcelink-0074a21d83"
	cases := testenv.Shared(t, "fixtures", "maestro-updates", "cases")
	stores(t, func(t *testing.T, e *env) {
		target := bareRepoFrom(t, filepath.Join(cases, c, "before"))
		weekly := bareRepoFrom(t, filepath.Join(cases, c, "before"))
		e.ok("channel", "add", "--name", ".NET Eng - Latest")
		e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", ".NET Eng - Latest")
		var every, week maestro.Subscription
		e.okJSON(&every, "subscription", "add", "--channel", ".NET Eng - Latest", "--source-repo", "https://github.com/dotnet/arcade",
			"--target-repo", target, "--target-branch", "main", "--update-frequency", "everyBuild")
		e.okJSON(&week, "subscription", "add", "--channel", ".NET Eng - Latest", "--source-repo", "https://github.com/dotnet/arcade",
			"--target-repo", weekly, "--target-branch", "main", "--update-frequency", "everyWeek")

		dir := t.TempDir()
		m := writeFile(t, dir, "m.xml", manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main",
			commit: "7b731032220c21a3ed0021c72757b1f3122579b2", azdoBuildID: 1,
			packages: []string{"Microsoft.DotNet.Arcade.Sdk@1.0.0-beta.19463.3"}}.xml())
		r := e.run("publish", "--manifest", m)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "subscription "+every.ID+", build 1: updated")

		var prs []maestro.PullRequest
		e.okJSON(&prs, "pr", "list", "--repository", target)
		require.Len(t, prs, 1)
		for _, f := range []string{"eng/Version.Details.xml", "eng/Versions.props", "global.json"} {
			want, err := os.ReadFile(filepath.Join(cases, c, "after", f))
			require.NoError(t, err)
			assert.Equal(t, string(want), showFile(t, target, prs[0].HeadBranch, f), f)
		}
		e.okJSON(&prs, "pr", "list", "--repository", weekly)
		assert.Empty(t, prs, "the weekly subscription waits for its schedule")

		// The schedule: due at the first tick, then at the next Monday 13:00 UTC.
		assert.Contains(t, e.ok("subscription", "show", "--id", week.ID), "next due:          at the next `maestro flow tick` (never ran)")
		out := e.ok("flow", "tick", "--now", "2026-11-30T14:00:00Z")
		assert.Contains(t, e.ok("subscription", "show", "--id", week.ID), "next due:          2026-12-07T13:00:00Z")
		assert.Contains(t, e.ok("flow", "explain", "--build", "1"), "next due: 2026-12-07T13:00:00Z (scheduled)")
		assert.Contains(t, out, "subscription "+week.ID+", build 1: updated")
		e.okJSON(&prs, "pr", "list", "--repository", weekly)
		require.Len(t, prs, 1)
		assert.Contains(t, e.ok("flow", "tick", "--now", "2026-12-01T08:00:00Z"), "nothing is due")

		m2 := writeFile(t, dir, "m2.xml", manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main",
			commit: sha(2), azdoBuildID: 2, packages: []string{"Microsoft.DotNet.Arcade.Sdk@1.0.0-beta.19464.1"}}.xml())
		e.ok("publish", "--manifest", m2)
		assert.Contains(t, e.ok("flow", "tick", "--now", "2026-12-02T08:00:00Z"), "nothing is due", "a newer build, but not due yet")
		assert.Contains(t, e.ok("flow", "tick", "--now", "2026-12-07T12:59:00Z"), "nothing is due", "a minute before the slot")
		assert.Contains(t, e.ok("flow", "tick", "--now", "2026-12-07T13:00:00Z"), "subscription "+week.ID+", build 2: updated")
		assert.Contains(t, showFile(t, weekly, prs[0].HeadBranch, "global.json"), "1.0.0-beta.19464.1")

		// The everyBuild pull request was updated in place by the second publish.
		e.okJSON(&prs, "pr", "list", "--repository", target)
		require.Len(t, prs, 1)
		assert.Contains(t, showFile(t, target, prs[0].HeadBranch, "global.json"), "1.0.0-beta.19464.1")

		// History and trigger.
		var history []maestro.FlowOutcome
		e.okJSON(&history, "flow", "history", "--subscription", every.ID)
		require.Len(t, history, 2)
		// The open pull request carries build 2 while main is still at the
		// old version: the trigger says where the update is, and the build
		// does not count as applied until the pull request merges.
		for range 2 {
			r = e.run("subscription", "trigger", "--id", every.ID)
			assert.Equal(t, 0, r.code, r.stderr)
			assert.Contains(t, r.stdout, "no-update "+prs[0].URL+" — the update is in open pull request #"+fmt.Sprint(prs[0].Number))
			assert.NotContains(t, r.stdout, "already at this version")
		}
		assert.NotContains(t, showFile(t, target, "main", "global.json"), "1.0.0-beta.19464.1")
		out = e.ok("flow", "explain", "--build", "2")
		assert.True(t, strings.Contains(out, "updated file://"), out)
	})
}

// TestBatchedSubscriptionsShareOnePullRequest: two batchable subscriptions
// into one target branch open one pull request with a section each.
func TestBatchedSubscriptionsShareOnePullRequest(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		src := t.TempDir()
		writeFile(t, src, "eng/Version.Details.xml", `<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
    <Dependency Name="Microsoft.NETCore.App.Ref" Version="9.0.0">
      <Uri>https://github.com/dotnet/runtime</Uri>
      <Sha>0000000000000000000000000000000000000001</Sha>
    </Dependency>
  </ProductDependencies>
  <ToolsetDependencies>
    <Dependency Name="Microsoft.DotNet.Arcade.Sdk" Version="9.0.0-beta.1">
      <Uri>https://github.com/dotnet/arcade</Uri>
      <Sha>0000000000000000000000000000000000000001</Sha>
    </Dependency>
  </ToolsetDependencies>
</Dependencies>
`)
		writeFile(t, src, "eng/Versions.props", `<Project>
  <PropertyGroup>
    <MicrosoftNETCoreAppRefVersion>9.0.0</MicrosoftNETCoreAppRefVersion>
  </PropertyGroup>
</Project>
`)
		target := bareRepoFrom(t, src)
		e.ok("channel", "add", "--name", "dev")
		var subs []maestro.Subscription
		for _, source := range []string{"https://github.com/dotnet/arcade", "https://github.com/dotnet/runtime"} {
			e.ok("default-channel", "add", "--repository", source, "--branch", "main", "--channel", "dev")
			var s maestro.Subscription
			e.okJSON(&s, "subscription", "add", "--channel", "dev", "--source-repo", source, "--target-repo", target,
				"--target-branch", "main", "--update-frequency", "everyBuild", "--batchable")
			subs = append(subs, s)
		}
		e.ok("repository-policy", "set", "--repository", target, "--branch", "main", "--merge-policy", "Standard")
		dir := t.TempDir()
		e.ok("publish", "--manifest", writeFile(t, dir, "a.xml", manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main",
			commit: sha(1), azdoBuildID: 1, packages: []string{"Microsoft.DotNet.Arcade.Sdk@10.0.0-beta.1"}}.xml()))
		e.ok("publish", "--manifest", writeFile(t, dir, "r.xml", manifestSpec{repo: "https://github.com/dotnet/runtime", branch: "main",
			commit: sha(2), azdoBuildID: 2, packages: []string{"Microsoft.NETCore.App.Ref@10.0.0"}}.xml()))

		var prs []maestro.PullRequest
		e.okJSON(&prs, "pr", "list", "--repository", target)
		require.Len(t, prs, 1, "one pull request for both")
		assert.Equal(t, "[main] Update dependencies from dotnet/arcade, dotnet/runtime", prs[0].Title)
		for _, s := range subs {
			assert.Contains(t, prs[0].Body, "[marker]: <> (Begin:"+s.ID+")")
		}
		details := showFile(t, target, prs[0].HeadBranch, "eng/Version.Details.xml")
		assert.Contains(t, details, `Name="Microsoft.DotNet.Arcade.Sdk" Version="10.0.0-beta.1"`)
		assert.Contains(t, details, `Name="Microsoft.NETCore.App.Ref" Version="10.0.0"`)
	})
}
