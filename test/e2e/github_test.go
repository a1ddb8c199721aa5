package e2e_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	gh "github.com/google/go-github/v60/github"

	"github.com/maestroplusplus/maestro/internal/maestro"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
	"github.com/maestroplusplus/maestro/test/testenv"
)

// TestPublishOpensGitHubPullRequest: publish → everyBuild subscription →
// pull request on GitHub (the double, through go-github and git over HTTP)
// with the production bot's files; a second build updates it in place.
func TestPublishOpensGitHubPullRequest(t *testing.T) {
	const c = "sourcelink-0074a21d83"
	cases := testenv.Shared(t, "fixtures", "maestro-updates", "cases")
	files := map[string]string{}
	before := filepath.Join(cases, c, "before")
	require.NoError(t, filepath.WalkDir(before, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(before, p)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	}))
	stores(t, func(t *testing.T, e *env) {
		srv := githubdouble.NewServer(t)
		repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "sourcelink", Files: files})
		e.environ = append(e.environ, "GITHUB_TOKEN="+githubdouble.DefaultToken, "MAESTRO_GITHUB_URL="+srv.URL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true")
		target := srv.URL() + "/dotnet/sourcelink"

		e.ok("channel", "add", "--name", ".NET Eng - Latest")
		e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", ".NET Eng - Latest")
		e.ok("subscription", "add", "--channel", ".NET Eng - Latest", "--source-repo", "https://github.com/dotnet/arcade",
			"--target-repo", target, "--target-branch", "main", "--update-frequency", "everyBuild")

		dir := t.TempDir()
		m := writeFile(t, dir, "m.xml", manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main",
			commit: "7b731032220c21a3ed0021c72757b1f3122579b2", azdoBuildID: 1,
			packages: []string{"Microsoft.DotNet.Arcade.Sdk@1.0.0-beta.19463.3"}}.xml())
		r := e.run("publish", "--manifest", m)
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stderr, ": updated "+srv.URL()+"/dotnet/sourcelink/pull/1")

		prs := repo.PullRequests()
		require.Len(t, prs, 1)
		pr := prs[0]
		assert.Equal(t, "[main] Update dependencies from dotnet/arcade", pr.GetTitle())
		assert.True(t, strings.HasPrefix(pr.GetHead().GetRef(), "darc-main-"))
		for _, f := range []string{"eng/Version.Details.xml", "eng/Versions.props", "global.json"} {
			want, err := os.ReadFile(filepath.Join(cases, c, "after", f))
			require.NoError(t, err)
			got, ok := repo.File(pr.GetHead().GetRef(), f)
			require.True(t, ok, f)
			assert.Equal(t, string(want), got, f)
		}

		m2 := writeFile(t, dir, "m2.xml", manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main",
			commit: sha(2), azdoBuildID: 2, packages: []string{"Microsoft.DotNet.Arcade.Sdk@1.0.0-beta.19464.1"}}.xml())
		r = e.run("publish", "--manifest", m2)
		require.Equal(t, 0, r.code, r.stderr)
		prs = repo.PullRequests()
		require.Len(t, prs, 1, "updated in place")
		body := prs[0].GetBody()
		assert.Equal(t, 1, strings.Count(body, "[marker]: <> (Begin:"))
		assert.Contains(t, body, "BAR build 2")
		got, _ := repo.File(prs[0].GetHead().GetRef(), "global.json")
		assert.Contains(t, got, "1.0.0-beta.19464.1")
	})
}

// TestExistingPullRequestRulesOnGitHub: pending checks → rescheduled, no
// push; commits by someone else → never pushed to, a comment, conflict;
// merged → the build counts as applied and the next update opens a new pull
// request; closed unmerged → its branch goes and a new one opens.
func TestExistingPullRequestRulesOnGitHub(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		srv := githubdouble.NewServer(t)
		repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{
			"eng/Version.Details.xml": `<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
  </ProductDependencies>
  <ToolsetDependencies>
    <Dependency Name="Microsoft.DotNet.Arcade.Sdk" Version="9.0.0-beta.1">
      <Uri>https://github.com/dotnet/arcade</Uri>
      <Sha>0000000000000000000000000000000000000001</Sha>
    </Dependency>
  </ToolsetDependencies>
</Dependencies>
`,
			"global.json": "{\n  \"msbuild-sdks\": {\n    \"Microsoft.DotNet.Arcade.Sdk\": \"9.0.0-beta.1\"\n  }\n}\n",
		}})
		e.environ = append(e.environ, "GITHUB_TOKEN="+githubdouble.DefaultToken, "MAESTRO_GITHUB_URL="+srv.URL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true")
		e.ok("channel", "add", "--name", "dev")
		e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", "dev")
		var sub maestro.Subscription
		e.okJSON(&sub, "subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
			"--target-repo", srv.URL()+"/dotnet/runtime", "--target-branch", "main", "--update-frequency", "everyBuild")
		dir := t.TempDir()
		publish := func(n int) string {
			m := writeFile(t, dir, fmt.Sprintf("m%d.xml", n), manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main",
				commit: sha(n), azdoBuildID: n, packages: []string{fmt.Sprintf("Microsoft.DotNet.Arcade.Sdk@10.0.0-beta.%d", n)}}.xml())
			r := e.run("publish", "--manifest", m)
			require.Equal(t, 0, r.code, r.stderr)
			return r.stderr
		}
		globalJSON := func(branch string) string {
			s, ok := repo.File(branch, "global.json")
			require.True(t, ok, branch)
			return s
		}

		assert.Contains(t, publish(1), "build 1: updated")
		pr1 := repo.PullRequest(1)
		head1 := pr1.GetHead().GetRef()

		// Pending checks: nothing pushed.
		repo.AddCheckRun(gh.CheckRun{HeadSHA: gh.String(repo.Branch(head1)), Name: gh.String("build"), Status: gh.String("in_progress")})
		assert.Contains(t, publish(2), "build 2: rescheduled")
		assert.Contains(t, globalJSON(head1), "10.0.0-beta.1")

		// Someone else's commit on the branch: never pushed to.
		repo.Commit(githubdouble.CommitSpec{Branch: head1, Message: "Fix the build", Files: map[string]string{"fix.txt": "fix\n"},
			Author: githubdouble.User{Login: "alice", Name: "Alice", Email: "alice@example.com"}})
		assert.Contains(t, publish(3), "build 3: conflict")
		assert.Contains(t, globalJSON(head1), "10.0.0-beta.1")
		comments := repo.Comments(1)
		require.NotEmpty(t, comments)
		assert.Contains(t, comments[len(comments)-1].GetBody(), "alice@example.com")

		// Merged: build 1 counts as applied; the next build opens a new pull request.
		client := srv.Client(githubdouble.DefaultToken)
		_, _, err := client.PullRequests.Merge(context.Background(), "dotnet", "runtime", 1, "merge", &gh.PullRequestOptions{MergeMethod: "squash"})
		require.NoError(t, err)
		assert.Contains(t, publish(4), "build 4: updated")
		e.okJSON(&sub, "subscription", "show", "--id", sub.ID)
		assert.Equal(t, 1, sub.LastAppliedBuildID)
		pr2 := repo.PullRequest(2)
		require.NotNil(t, pr2)
		head2 := pr2.GetHead().GetRef()
		assert.Contains(t, globalJSON(head2), "10.0.0-beta.4")

		// Closed unmerged: its branch is deleted and a new pull request opens.
		_, _, err = client.PullRequests.Edit(context.Background(), "dotnet", "runtime", 2, &gh.PullRequest{State: gh.String("closed")})
		require.NoError(t, err)
		assert.Contains(t, publish(5), "build 5: updated")
		assert.Empty(t, repo.Branch(head2), "the closed pull request's branch is deleted")
		pr3 := repo.PullRequest(3)
		require.NotNil(t, pr3)
		assert.Contains(t, globalJSON(pr3.GetHead().GetRef()), "10.0.0-beta.5")

		// Closed after its branch was deleted (deleting the head branch closes
		// the pull request): deleting it again answers 422 "Reference does not
		// exist", which means gone already, and a new pull request opens.
		_, err = client.Git.DeleteRef(context.Background(), "dotnet", "runtime", "heads/"+pr3.GetHead().GetRef())
		require.NoError(t, err)
		require.Equal(t, "closed", repo.PullRequest(3).GetState())
		assert.Contains(t, publish(6), "build 6: updated")
		pr4 := repo.PullRequest(4)
		require.NotNil(t, pr4)
		assert.Contains(t, globalJSON(pr4.GetHead().GetRef()), "10.0.0-beta.6")

		var history []maestro.FlowOutcome
		e.okJSON(&history, "flow", "history", "--subscription", sub.ID)
		var results []maestro.FlowResult
		for _, h := range history {
			results = append(results, h.Result)
		}
		assert.Equal(t, []maestro.FlowResult{"updated", "rescheduled", "conflict", "updated", "updated", "updated"}, results)
	})
}

// TestGitHubAppAuthentication: with a GitHub App instead of a token, the
// pull request is opened by the app's installation ("slug[bot]").
func TestGitHubAppAuthentication(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	srv := githubdouble.NewServer(t)
	srv.AddApp("maestro-app", 4242, &key.PublicKey, 99)
	repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{
		"eng/Version.Details.xml": "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Dependencies>\n  <ProductDependencies>\n  </ProductDependencies>\n  <ToolsetDependencies>\n    <Dependency Name=\"Microsoft.DotNet.Arcade.Sdk\" Version=\"9.0.0-beta.1\">\n      <Uri>https://github.com/dotnet/arcade</Uri>\n      <Sha>0000000000000000000000000000000000000001</Sha>\n    </Dependency>\n  </ToolsetDependencies>\n</Dependencies>\n",
		"global.json":             "{\n  \"msbuild-sdks\": {\n    \"Microsoft.DotNet.Arcade.Sdk\": \"9.0.0-beta.1\"\n  }\n}\n",
	}})
	e := newLocal(t)
	e.environ = []string{"MAESTRO_GITHUB_URL=" + srv.URL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true", "MAESTRO_GITHUB_APP_ID=4242",
		"MAESTRO_GITHUB_APP_INSTALLATION_ID=99", "MAESTRO_GITHUB_APP_PRIVATE_KEY=" + string(pemKey)}
	e.ok("channel", "add", "--name", "dev")
	e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", "dev")
	e.ok("subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
		"--target-repo", srv.URL()+"/dotnet/runtime", "--target-branch", "main", "--update-frequency", "everyBuild")
	m := writeFile(t, t.TempDir(), "m.xml", manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main",
		commit: sha(1), azdoBuildID: 1, packages: []string{"Microsoft.DotNet.Arcade.Sdk@10.0.0-beta.1"}}.xml())
	r := e.run("publish", "--manifest", m)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stderr, "build 1: updated")
	pr := repo.PullRequest(1)
	require.NotNil(t, pr)
	assert.Equal(t, "maestro-app[bot]", pr.GetUser().GetLogin())
}
