package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/test/azdo"
	"github.com/maestroplusplus/maestro/test/testenv"
)

// TestPublishOpensAzureReposPullRequest: publish → everyBuild subscription →
// pull request in Azure Repos (the double, through azure-devops-go-api and git
// over HTTP) with the production bot's files.
func TestPublishOpensAzureReposPullRequest(t *testing.T) {
	const c = "sourcelink-0074a21d83"
	cases := testenv.Shared(t, "fixtures", "maestro-updates", "cases")
	files := map[string][]byte{}
	before := filepath.Join(cases, c, "before")
	require.NoError(t, filepath.WalkDir(before, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(before, p)
		files[filepath.ToSlash(rel)] = data
		return err
	}))
	stores(t, func(t *testing.T, e *env) {
		srv := azdo.NewServer(t, azdo.WithPAT("maestro-pat"))
		repo := srv.AddRepository(srv.AddProject("internal"), "dotnet-sourcelink")
		repo.Commit("main", files, "initial")
		e.environ = append(e.environ, "MAESTRO_AZDO_TOKEN=maestro-pat", "MAESTRO_AZDO_SERVER_URLS="+srv.OrganizationURL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true")

		e.ok("channel", "add", "--name", ".NET Eng - Latest")
		e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", ".NET Eng - Latest")
		e.ok("subscription", "add", "--channel", ".NET Eng - Latest", "--source-repo", "https://github.com/dotnet/arcade",
			"--target-repo", repo.WebURL(), "--target-branch", "main", "--update-frequency", "everyBuild")

		dir := t.TempDir()
		m := writeFile(t, dir, "m.xml", manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main",
			commit: "7b731032220c21a3ed0021c72757b1f3122579b2", azdoBuildID: 1,
			packages: []string{"Microsoft.DotNet.Arcade.Sdk@1.0.0-beta.19463.3"}}.xml())
		r := e.run("publish", "--manifest", m)
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stderr, ": updated "+repo.WebURL()+"/pullrequest/1")

		prs := srv.PullRequests()
		require.Len(t, prs, 1)
		pr := prs[0]
		assert.Equal(t, "[main] Update dependencies from dotnet/arcade", *pr.Title)
		assert.Less(t, len(*pr.Description), 4000)
		head := strings.TrimPrefix(*pr.SourceRefName, "refs/heads/")
		for _, f := range []string{"eng/Version.Details.xml", "eng/Versions.props", "global.json"} {
			want, err := os.ReadFile(filepath.Join(cases, c, "after", f))
			require.NoError(t, err)
			got, err := repo.ReadFile(head, f)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got), f)
		}

		// A build-validation policy still running holds the next update;
		// once it approved, the update goes through.
		srv.SetPolicyEvaluations(*pr.PullRequestId, azdo.PolicyEvaluation{Type: "Build", Status: policy.PolicyEvaluationStatusValues.Running, Blocking: true,
			Settings: map[string]any{"buildDefinitionId": 7, "displayName": "CI"}})
		m2 := writeFile(t, dir, "m2.xml", manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main",
			commit: sha(2), azdoBuildID: 2, packages: []string{"Microsoft.DotNet.Arcade.Sdk@1.0.0-beta.19464.1"}}.xml())
		r = e.run("publish", "--manifest", m2)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "build 2: rescheduled")
		assert.Contains(t, r.stderr, "policy/Build (CI)")
		got, err := repo.ReadFile(head, "global.json")
		require.NoError(t, err)
		assert.NotContains(t, string(got), "1.0.0-beta.19464.1", "nothing pushed while the policy runs")

		srv.SetPolicyEvaluations(*pr.PullRequestId, azdo.PolicyEvaluation{Type: "Build", Status: policy.PolicyEvaluationStatusValues.Approved, Blocking: true,
			Settings: map[string]any{"buildDefinitionId": 7, "displayName": "CI"}})
		m3 := writeFile(t, dir, "m3.xml", manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main",
			commit: sha(3), azdoBuildID: 3, packages: []string{"Microsoft.DotNet.Arcade.Sdk@1.0.0-beta.19465.1"}}.xml())
		r = e.run("publish", "--manifest", m3)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "build 3: updated")
		got, err = repo.ReadFile(head, "global.json")
		require.NoError(t, err)
		assert.Contains(t, string(got), "1.0.0-beta.19465.1")
	})
}
