package e2e_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// TestCheckCommandOnLocalPullRequests: `repository-policy set
// --check-command` makes the local platform run the command in a worktree
// of every head the flow pushes; the result is the pull request's check on
// that commit, with its output, in `pr show`. Bad commands are refused.
func TestCheckCommandOnLocalPullRequests(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		g, target := newLocalTarget(t, e, nil)

		r := e.run("repository-policy", "set", "--repository", "https://github.com/dotnet/runtime", "--branch", "main", "--check-command", "make test")
		assert.Equal(t, 2, r.code, r.stderr)
		assert.Contains(t, r.stderr, "a check command runs only for local repositories")
		r = e.run("repository-policy", "set", "--repository", target, "--branch", "main", "--check-timeout", "5m")
		assert.Equal(t, 2, r.code, r.stderr)
		// The check fails while global.json names a beta.1 or beta.2 Arcade.
		out := e.ok("repository-policy", "set", "--repository", target, "--branch", "main",
			"--check-command", `grep -H Arcade global.json; ! grep -q 'beta\.[12]"' global.json`, "--check-timeout", "30s")
		assert.Contains(t, out, "(time limit 30s)")

		assert.Contains(t, g.publish(t, 1), "build 1: updated")
		var prs []maestro.PullRequest
		e.okJSON(&prs, "pr", "list", "--repository", target)
		require.Len(t, prs, 1)
		num := fmt.Sprint(prs[0].Number)
		show := e.ok("pr", "show", "--repository", target, "--number", num)
		assert.Regexp(t, "check check-command on [0-9a-f]{12}: failure — `grep -H Arcade global.json; ! grep -q 'beta\\\\.\\[12\\]\"' global.json` exited with status 1\n", show)
		assert.Contains(t, show, "output of `grep -H Arcade global.json; ! grep -q 'beta\\.[12]\"' global.json`:\n"+
			`global.json:    "Microsoft.DotNet.Arcade.Sdk": "10.0.0-beta.1"`+"\n")

		assert.Contains(t, g.publish(t, 3), "build 2: updated", "a failing check does not hold updates back (BAR build 2 is Arcade beta.3)")
		var pr maestro.PullRequest
		e.okJSON(&pr, "pr", "show", "--repository", target, "--number", num)
		require.NotNil(t, pr.CheckRun)
		assert.Equal(t, maestro.CheckSuccess, pr.CheckRun.State, pr.CheckRun.Message)
		assert.True(t, strings.HasSuffix(pr.CheckRun.Output, `"10.0.0-beta.3"`+"\n"), pr.CheckRun.Output)
		assert.Regexp(t, "check check-command on [0-9a-f]{12}: success", e.ok("pr", "show", "--repository", target, "--number", num))
	})
}
