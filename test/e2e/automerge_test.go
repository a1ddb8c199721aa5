package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/test/azdo"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// localPR is the one pull request of a local repository with this number.
func localPR(t *testing.T, e *env, repo string, number int) maestro.PullRequest {
	var pr maestro.PullRequest
	e.okJSON(&pr, "pr", "show", "--repository", repo, "--number", fmt.Sprint(number))
	return pr
}

func branchExists(t *testing.T, repo, branch string) bool {
	_, err := git.Runner{}.RemoteHead(context.Background(), "", repo, branch)
	if err != nil {
		require.ErrorIs(t, err, git.ErrNotFound)
		return false
	}
	return true
}

// TestAutoMergeOnTheLocalPlatform: the whole loop on local repositories,
// on both stores. A pull request whose check command passes merges itself
// at `pr check` (squash, branch deleted, lastAppliedBuildId set); a failing
// check keeps the next one open, shown by `pr show` with one notification
// however often it is checked; a commit by a person fails NoExtraCommits; a
// downgrade is refused; with auto-merge off a green pull request is
// reported ready and left to a person. `flow tick` evaluates too.
func TestAutoMergeOnTheLocalPlatform(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		g, target := newLocalTarget(t, e, nil, "--merge-policy", "Standard", "--failure-notification-tags", "@alice")
		// The check fails for Arcade beta.2 (the repository's "tests").
		e.ok("repository-policy", "set", "--repository", target, "--branch", "main",
			"--check-command", `! grep -q 'beta\.2"' global.json || { echo "2 tests failed"; exit 1; }`)

		assert.Contains(t, g.publish(t, 1), "build 1: updated")
		pr1 := localPR(t, e, target, 1)
		r := e.run("pr", "check", "--id", "2", "--repository", target)
		assert.Equal(t, 3, r.code, "no such tracked pull request: %s", r.stderr)
		assert.Contains(t, r.stderr, "no tracked pull request #2 in "+target)
		out := e.ok("pr", "check")
		assert.Contains(t, out, ": merged (head ")
		assert.Contains(t, out, "[pass] AllChecksSuccessful")
		assert.Equal(t, maestro.PullRequestMerged, localPR(t, e, target, 1).State)
		assert.False(t, branchExists(t, target, pr1.HeadBranch), "branch deleted")
		assert.Contains(t, showFile(t, target, "main", "global.json"), "10.0.0-beta.1")
		var sub maestro.Subscription
		e.okJSON(&sub, "subscription", "show", "--id", g.sub.ID)
		assert.Equal(t, 1, sub.LastAppliedBuildID)
		assert.Contains(t, e.ok("pr", "check"), "no pull request is due")

		// A failing check: reported, notified once, not merged.
		assert.Contains(t, g.publish(t, 2), "build 2: updated")
		for range 2 {
			out = e.ok("pr", "check", "--id", "2")
			assert.Contains(t, out, ": waiting")
			assert.Contains(t, out, "[FAIL] AllChecksSuccessful")
		}
		show := e.ok("pr", "show", "--repository", target, "--number", "2")
		assert.Regexp(t, `merge policies on [0-9a-f]{12}:\n`, show)
		assert.Contains(t, show, "[FAIL] AllChecksSuccessful")
		assert.Equal(t, 1, strings.Count(show, "Notification for subscribed users: @alice"), show)
		assert.Equal(t, maestro.PullRequestOpen, localPR(t, e, target, 2).State)

		// A commit by a person on the branch.
		pr2 := localPR(t, e, target, 2)
		work := filepath.Join(t.TempDir(), "w")
		person := git.Runner{Author: git.Identity{Name: "Octo Cat", Email: "octocat@example.com"}}
		ctx := context.Background()
		require.NoError(t, person.Clone(ctx, target, work, pr2.HeadBranch))
		require.NoError(t, os.WriteFile(filepath.Join(work, "README.md"), []byte("a fix\n"), 0o644))
		_, err := person.CommitAll(ctx, work, "a fix by hand")
		require.NoError(t, err)
		require.NoError(t, person.Push(ctx, work, "origin", "HEAD", pr2.HeadBranch, ""))
		out = e.ok("pr", "check", "--id", "2")
		assert.Contains(t, out, "[FAIL] NoExtraCommits")
		assert.Contains(t, out, "octocat@example.com")
	})
}

// TestAutoMergeRefusesADowngradeAndWaitsWhenOff: on the local platform, an
// update to a lower version fails DontAutomergeDowngrades (decisive: the
// result is kept for the head); with auto-merge off, a pull request whose
// policies pass is reported ready and not merged, until it is switched on.
func TestAutoMergeRefusesADowngradeAndWaitsWhenOff(t *testing.T) {
	e := newLocal(t)
	g, target := newLocalTarget(t, e, func(s string) string { return strings.ReplaceAll(s, "9.0.0-beta.1", "10.0.0-beta.5") },
		"--merge-policy", "DontAutomergeDowngrades", "--merge-policy", "NoExtraCommits")

	assert.Contains(t, g.publish(t, 1), "build 1: updated", "10.0.0-beta.5 → 10.0.0-beta.1")
	out := e.ok("pr", "check")
	assert.Contains(t, out, "[FAIL] DontAutomergeDowngrades")
	assert.Contains(t, out, "10.0.0-beta.5")
	assert.Contains(t, e.ok("pr", "check", "--id", "1"), "results kept for this head")
	assert.Equal(t, maestro.PullRequestOpen, localPR(t, e, target, 1).State)

	e.ok("repository-policy", "set", "--repository", target, "--branch", "main", "--auto-merge", "off")
	assert.Contains(t, g.publish(t, 7), "build 2: updated", "10.0.0-beta.7: an upgrade")
	out = e.ok("pr", "check", "--id", "1")
	assert.Contains(t, out, ": ready (head ")
	assert.Contains(t, out, "auto-merge is off")
	assert.Equal(t, maestro.PullRequestOpen, localPR(t, e, target, 1).State)

	e.ok("repository-policy", "set", "--repository", target, "--branch", "main", "--auto-merge", "on")
	out = e.ok("flow", "tick", "--now", time.Now().Add(6*time.Minute).UTC().Format(time.RFC3339))
	assert.Contains(t, out, ": merged (head ", "flow tick evaluates what is due")
	assert.Equal(t, maestro.PullRequestMerged, localPR(t, e, target, 1).State)
}

// TestAutoMergeOnAzureRepos: on the Azure DevOps double (local store and
// Azurite), a pull request
// whose policies fail gets one status of genre maestro per policy and one
// "Auto-Merge Status" comment, however often it is checked; once its
// blocking build policy approves it is completed — squash, source branch
// deleted — and lastAppliedBuildId is set. With merge method native,
// auto-complete is set instead and the service completes it when the
// policy approves.
func TestAutoMergeOnAzureRepos(t *testing.T) {
	for _, native := range []bool{false, true} {
		t.Run(fmt.Sprintf("native=%v", native), func(t *testing.T) {
			stores(t, func(t *testing.T, e *env) {
				srv := azdo.NewServer(t, azdo.WithPAT("maestro-pat"))
				repo := srv.AddRepository(srv.AddProject("internal"), "dotnet-runtime")
				files := map[string][]byte{}
				for name, content := range runtimeFiles() {
					files[name] = []byte(content)
				}
				repo.Commit("main", files, "initial")
				e.environ = append(e.environ, "MAESTRO_AZDO_TOKEN=maestro-pat", "MAESTRO_AZDO_SERVER_URLS="+srv.OrganizationURL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true")
				e.ok("channel", "add", "--name", "dev")
				e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", "dev")
				g := &gitHubTarget{e: e, dir: t.TempDir()}
				e.okJSON(&g.sub, "subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
					"--target-repo", repo.WebURL(), "--target-branch", "main", "--update-frequency", "everyBuild",
					"--merge-policy", "AllChecksSuccessful", "--merge-policy", "NoExtraCommits")
				if native {
					e.ok("repository-policy", "set", "--repository", repo.WebURL(), "--branch", "main", "--merge-method", "native")
				}
				assert.Contains(t, g.publish(t, 1), "build 1: updated")
				pr := srv.PullRequests()[0]
				id := *pr.PullRequestId
				build := func(status policy.PolicyEvaluationStatus) {
					srv.SetPolicyEvaluations(id, azdo.PolicyEvaluation{Type: "Build", Status: status, Blocking: true,
						Settings: map[string]any{"buildDefinitionId": 7, "displayName": "CI"}})
				}
				build(policy.PolicyEvaluationStatusValues.Rejected)
				for range 2 {
					out := e.ok("pr", "check", "--id", fmt.Sprint(id))
					assert.Contains(t, out, "[FAIL] AllChecksSuccessful")
				}
				pr, _ = srv.PullRequest(id)
				genre := map[string]int{}
				for _, st := range pr.Statuses {
					if st.Context != nil && st.Context.Genre != nil && *st.Context.Genre == "maestro" {
						genre[*st.Context.Name]++
					}
				}
				assert.Equal(t, map[string]int{"AllChecksSuccessful": 1, "NoExtraCommits": 1}, genre, "one status per policy")
				summaries := 0
				for _, th := range pr.Threads {
					for _, c := range *th.Comments {
						if c.Content != nil && strings.Contains(*c.Content, "Auto-Merge Status") {
							summaries++
						}
					}
				}
				assert.Equal(t, 1, summaries, "one summary comment, edited in place")

				build(policy.PolicyEvaluationStatusValues.Approved)
				out := e.ok("pr", "check", "--id", fmt.Sprint(id))
				if native {
					assert.Contains(t, out, ": auto-merge (head ")
					pr, _ = srv.PullRequest(id)
					require.NotNil(t, pr.AutoCompleteSetBy, "auto-complete is set")
					// Nothing blocks it any more: auto-complete completed it.
					out = e.ok("pr", "check", "--id", fmt.Sprint(id))
					assert.Contains(t, out, ": ended")
				} else {
					assert.Contains(t, out, ": merged (head ")
				}
				pr, _ = srv.PullRequest(id)
				assert.Equal(t, "completed", string(*pr.Status))
				require.NotNil(t, pr.CompletionOptions)
				assert.Equal(t, "squash", string(*pr.CompletionOptions.MergeStrategy))
				assert.False(t, branchExists(t, repo.Dir(), strings.TrimPrefix(*pr.SourceRefName, "refs/heads/")), "source branch deleted")
				var sub maestro.Subscription
				e.okJSON(&sub, "subscription", "show", "--id", g.sub.ID)
				assert.Equal(t, 1, sub.LastAppliedBuildID)
			})
		})
	}
}

// TestAutoMergeOnGitHub: through the binary on the GitHub double (local
// store and Azurite), a green
// pull request is squash-merged with its branch deleted; with merge method
// native GitHub's auto-merge is turned on instead, and GitHub merges it
// when the protected branch's required check passes.
func TestAutoMergeOnGitHub(t *testing.T) {
	for _, native := range []bool{false, true} {
		t.Run(fmt.Sprintf("native=%v", native), func(t *testing.T) {
			stores(t, func(t *testing.T, e *env) {
				srv := githubdouble.NewServer(t)
				repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: runtimeFiles(), AllowAutoMerge: true})
				e.environ = append(e.environ, "GITHUB_TOKEN="+githubdouble.DefaultToken, "MAESTRO_GITHUB_URL="+srv.URL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true")
				g := &gitHubTarget{e: e, srv: srv, repo: repo, dir: t.TempDir()}
				e.ok("channel", "add", "--name", "dev")
				e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", "dev")
				e.okJSON(&g.sub, "subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
					"--target-repo", srv.URL()+"/dotnet/runtime", "--target-branch", "main", "--update-frequency", "everyBuild", "--merge-policy", "Standard")
				if native {
					e.ok("repository-policy", "set", "--repository", srv.URL()+"/dotnet/runtime", "--branch", "main", "--merge-method", "native")
					checks := []*gh.RequiredStatusCheck{{Context: "ci/required"}}
					_, _, err := srv.Client(githubdouble.DefaultToken).Repositories.UpdateBranchProtection(context.Background(), "dotnet", "runtime", "main",
						&gh.ProtectionRequest{RequiredStatusChecks: &gh.RequiredStatusChecks{Checks: &checks}})
					require.NoError(t, err)
				}
				assert.Contains(t, g.publish(t, 1), "build 1: updated")
				pr := repo.PullRequest(1)
				head := pr.GetHead().GetSHA()
				repo.AddStatus(head, gh.RepoStatus{State: gh.String("success"), Context: gh.String("ci/build")})
				out := e.ok("pr", "check")
				if native {
					assert.Contains(t, out, ": auto-merge (head ")
					require.NotNil(t, repo.PullRequest(1).GetAutoMerge())
					assert.False(t, repo.PullRequest(1).GetMerged(), "not merged directly")
					repo.AddStatus(head, gh.RepoStatus{State: gh.String("success"), Context: gh.String("ci/required")})
					require.True(t, repo.PullRequest(1).GetMerged(), "GitHub merged it")
					out = e.ok("pr", "check", "--id", "1")
					assert.Contains(t, out, ": ended")
				} else {
					assert.Contains(t, out, ": merged (head ")
				}
				assert.True(t, repo.PullRequest(1).GetMerged())
				assert.False(t, branchExists(t, repo.Dir(), pr.GetHead().GetRef()), "branch deleted")
				var sub maestro.Subscription
				e.okJSON(&sub, "subscription", "show", "--id", g.sub.ID)
				assert.Equal(t, 1, sub.LastAppliedBuildID)
			})
		})
	}
}

// TestFlowTickChecksPullRequestsWhenASubscriptionFails: one subscription
// that cannot flow (an update pipeline, no Azure DevOps token) does not stop
// `flow tick` from evaluating and merging the pull requests that are due,
// nor from printing the other outcomes; the tick still fails, naming it.
func TestFlowTickChecksPullRequestsWhenASubscriptionFails(t *testing.T) {
	e := newLocal(t)
	g, target := newLocalTarget(t, e, nil, "--merge-policy", "NoExtraCommits")
	var broken maestro.Subscription
	e.okJSON(&broken, "subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
		"--target-repo", target, "--target-branch", "release", "--update-frequency", "everyDay",
		"--update-pipeline", "https://dev.azure.com/dnceng/internal/_build?definitionId=7")
	g.publish(t, 1)
	require.Equal(t, maestro.PullRequestOpen, localPR(t, e, target, 1).State)

	r := e.run("flow", "tick", "--now", time.Now().Add(48*time.Hour).UTC().Format(time.RFC3339))
	assert.NotEqual(t, 0, r.code, "the failing subscription fails the tick")
	assert.Contains(t, r.stderr, broken.ID)
	assert.Contains(t, r.stderr, "MAESTRO_AZDO_TOKEN")
	assert.Contains(t, r.stdout, ": merged (head ", "the due pull request was checked and merged")
	assert.Equal(t, maestro.PullRequestMerged, localPR(t, e, target, 1).State)
}

// newLocalTarget makes a local repository with dotnet/runtime's dependency
// files at Arcade 9.0.0-beta.1 (changed by edit, when given), a channel dev
// that Arcade's main branch publishes to, and an everyBuild subscription
// from Arcade into the repository's main branch with the extra subscription
// flags given; it returns the target for g.publish and the repository.
func newLocalTarget(t *testing.T, e *env, edit func(string) string, subFlags ...string) (*gitHubTarget, string) {
	src := t.TempDir()
	for name, content := range runtimeFiles() {
		if edit != nil {
			content = edit(content)
		}
		writeFile(t, src, name, content)
	}
	target := bareRepoFrom(t, src)
	e.ok("channel", "add", "--name", "dev")
	e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", "dev")
	g := &gitHubTarget{e: e, dir: t.TempDir()}
	e.okJSON(&g.sub, append([]string{"subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
		"--target-repo", target, "--target-branch", "main", "--update-frequency", "everyBuild"}, subFlags...)...)
	return g, target
}
