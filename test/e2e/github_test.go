package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		e.environ = append(e.environ, "GITHUB_TOKEN="+githubdouble.DefaultToken, "MAESTRO_GITHUB_URL="+srv.URL())
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
