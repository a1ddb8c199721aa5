package platformtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
)

// RunPolicyReporter runs the suite every platform.PolicyReporter passes;
// newFixture's Platform must implement it. Each platform's own tests check
// what the host holds (one check run, status or comment per policy).
func RunPolicyReporter(t *testing.T, newFixture func(t *testing.T) Fixture) {
	open := func(t *testing.T) (platform.PolicyReporter, maestro.PullRequest, func(content string) string) {
		ctx := context.Background()
		f := newFixture(t)
		rep, ok := f.Platform.(platform.PolicyReporter)
		require.True(t, ok, "%T is no platform.PolicyReporter", f.Platform)
		g := f.Platform.Git()
		url, err := f.Platform.CloneURL(f.Repo)
		require.NoError(t, err)
		work := filepath.Join(t.TempDir(), "work")
		require.NoError(t, g.Clone(ctx, url, work, "main"))
		require.NoError(t, g.CheckoutNew(ctx, work, "darc-main-policies"))
		push := func(content string) string {
			require.NoError(t, os.WriteFile(filepath.Join(work, "eng.txt"), []byte(content), 0o644))
			_, err := g.CommitAll(ctx, work, "Update dependencies")
			require.NoError(t, err)
			require.NoError(t, g.Push(ctx, work, "origin", "HEAD", "darc-main-policies", ""))
			head, err := g.RevParse(ctx, work, "HEAD")
			require.NoError(t, err)
			return head
		}
		push("one\n")
		pr, err := f.Platform.CreatePullRequest(ctx, maestro.PullRequest{Repository: f.Repo, Title: "[main] Update dependencies",
			Body: "body", HeadBranch: "darc-main-policies", BaseBranch: "main"})
		require.NoError(t, err)
		return rep, pr, push
	}

	t.Run("report, update in place, skip", func(t *testing.T) {
		ctx := context.Background()
		rep, pr, push := open(t)
		head := push("two\n")

		got, err := rep.PolicyResults(ctx, pr, head)
		require.NoError(t, err)
		assert.Empty(t, got, "nothing reported yet")

		first := []platform.PolicyResult{
			{Name: "NoRequestedChanges", State: platform.CheckSuccess, Message: "No changes requested."},
			{Name: "AllChecksSuccessful", State: platform.CheckPending, Message: "Waiting for checks: build."},
		}
		require.NoError(t, rep.ReportPolicies(ctx, pr, head, first))
		got, err = rep.PolicyResults(ctx, pr, head)
		require.NoError(t, err)
		assert.Equal(t, []platform.PolicyResult{first[1], first[0]}, got, "sorted by name")
		require.NoError(t, rep.ReportPolicies(ctx, pr, head, first), "the same report again")

		second := []platform.PolicyResult{{Name: "AllChecksSuccessful", State: platform.CheckFailure, Message: "Check build failed: https://ci.example/1"}}
		require.NoError(t, rep.ReportPolicies(ctx, pr, head, second))
		got, err = rep.PolicyResults(ctx, pr, head)
		require.NoError(t, err)
		require.Len(t, got, 2)
		assert.Equal(t, second[0], got[0])
		assert.Equal(t, "NoRequestedChanges", got[1].Name)
		assert.Equal(t, platform.CheckSkipped, got[1].State, "a policy no longer evaluated is skipped")

		third := []platform.PolicyResult{{Name: "AllChecksSuccessful", State: platform.CheckSuccess, Message: "All checks succeeded."},
			{Name: "NoRequestedChanges", State: platform.CheckSuccess, Message: "No changes requested."}}
		require.NoError(t, rep.ReportPolicies(ctx, pr, head, third))
		got, err = rep.PolicyResults(ctx, pr, head)
		require.NoError(t, err)
		assert.Equal(t, third, got, "a skipped policy evaluated again")
	})

	t.Run("invalid results write nothing", func(t *testing.T) {
		ctx := context.Background()
		rep, pr, push := open(t)
		head := push("two\n")
		for _, bad := range [][]platform.PolicyResult{
			{{Name: "", State: platform.CheckSuccess}},
			{{Name: "A", State: platform.CheckSuccess}, {Name: "A", State: platform.CheckFailure}},
			{{Name: "A", State: "green"}},
			{{Name: "A", State: platform.CheckSkipped}},
			{{Name: "A", State: platform.CheckSuccess}, {Name: strings.Repeat("x", 300), State: platform.CheckSuccess}},
		} {
			err := rep.ReportPolicies(ctx, pr, head, bad)
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err), "%v: %v", bad, err)
		}
		got, err := rep.PolicyResults(ctx, pr, head)
		require.NoError(t, err)
		assert.Empty(t, got)
	})

	t.Run("notify once per head commit", func(t *testing.T) {
		ctx := context.Background()
		rep, pr, push := open(t)
		head := push("two\n")
		posted, err := rep.Notify(ctx, pr, head, "@dotnet/runtime: the checks fail")
		require.NoError(t, err)
		assert.True(t, posted)
		posted, err = rep.Notify(ctx, pr, head, "@dotnet/runtime: the checks fail")
		require.NoError(t, err)
		assert.False(t, posted, "a second notification for the same head")
		next := push("three\n")
		posted, err = rep.Notify(ctx, pr, next, "@dotnet/runtime: the checks fail")
		require.NoError(t, err)
		assert.True(t, posted, "a new head commit notifies again")
	})
}
