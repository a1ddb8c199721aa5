package e2e_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// TestPullRequestCaps: `repository-policy set --max-open-prs 1` holds a
// second subscription's new pull request back as pending work with reason
// cap, which `flow explain` shows and `flow tick` keeps polling; bad caps
// are refused with exit 2.
func TestPullRequestCaps(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		g := newGitHubTarget(t, e, nil)
		target := g.srv.URL() + "/dotnet/runtime"
		e.ok("channel", "add", "--name", "dev2")
		e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", "dev2")
		var sub2 maestro.Subscription
		e.okJSON(&sub2, "subscription", "add", "--channel", "dev2", "--source-repo", "https://github.com/dotnet/arcade",
			"--target-repo", target, "--target-branch", "main", "--update-frequency", "everyBuild")

		r := e.run("repository-policy", "set", "--repository", target, "--branch", "main", "--max-open-prs", "-1")
		assert.Equal(t, 2, r.code, r.stderr)
		assert.Contains(t, r.stderr, "--max-open-prs and --max-new-prs-per-hour take 0 (no cap) or more")
		out := e.ok("repository-policy", "set", "--repository", target, "--branch", "main", "--max-open-prs", "1", "--max-new-prs-per-hour", "5")
		assert.Regexp(t, `max open pull requests:\s+1\n`, out)
		assert.Regexp(t, `max new pull requests per hour:\s+5\n`, out)
		var p maestro.RepositoryBranchPolicy
		e.okJSON(&p, "repository-policy", "get", "--repository", target, "--branch", "main")
		assert.Equal(t, 1, p.MaxOpenPullRequests)
		assert.Equal(t, 5, p.MaxNewPullRequestsPerHour)

		start := time.Now().UTC()
		stderr := g.publish(t, 1)
		assert.Contains(t, stderr, "build 1: updated")
		assert.Contains(t, stderr, "build 1: rescheduled")
		require.Len(t, g.repo.PullRequests(), 1, "the cap holds the second pull request back")
		explain := e.ok("flow", "explain", "--build", "1")
		assert.Contains(t, explain, "pending: build 1 (cap)")
		assert.Contains(t, explain, "its cap (maxOpenPullRequests is 1); the update waits until one merges or closes")

		assert.Contains(t, e.ok("flow", "tick", "--now", stamp(start.Add(6*time.Minute))), "build 1: rescheduled")
		assert.Len(t, g.repo.PullRequests(), 1)
	})
}
