package e2e_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/test/azdo"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
	"github.com/maestroplusplus/maestro/test/testenv"
)

// targetFiles are the dependency files of the queue tests' target repositories.
var targetFiles = map[string]string{
	"eng/Version.Details.xml": `<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
  </ProductDependencies>
  <ToolsetDependencies>
    <Dependency Name="Microsoft.DotNet.Arcade.Sdk" Version="9.0.0-beta.1">
      <Uri>https://github.com/dotnet/arcade</Uri>
      <Sha>0000000000000000000000000000000000000000</Sha>
    </Dependency>
  </ToolsetDependencies>
</Dependencies>
`,
	"global.json": "{\n  \"msbuild-sdks\": {\n    \"Microsoft.DotNet.Arcade.Sdk\": \"9.0.0-beta.1\"\n  }\n}\n",
}

// wantFiles are targetFiles after the update of the queue tests, byte for byte.
func wantFiles() map[string]string {
	out := map[string]string{}
	for k, v := range targetFiles {
		v = strings.ReplaceAll(v, "9.0.0-beta.1", "10.0.0-beta.1")
		out[k] = strings.Replace(v, "<Sha>0000000000000000000000000000000000000000</Sha>", "<Sha>"+sha(1)+"</Sha>", 1)
	}
	return out
}

// queueThenApply subscribes target with an update pipeline in the Azure
// DevOps double, publishes a build, checks that the pipeline was queued with
// the exact run request and nothing was applied, then runs what the pipeline
// runs (`maestro subscription apply` with the run's parameters) and returns
// its output.
func queueThenApply(t *testing.T, e *env, srv *azdo.Server, target string) string {
	project := srv.AddProject("eng")
	pipelines := srv.AddRepository(project, "maestro-pipelines")
	yml, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "pipelines", "dependency-update.yml"))
	require.NoError(t, err)
	pipelines.Commit("main", map[string][]byte{"dependency-update.yml": yml}, "update pipeline")
	pl := srv.AddYAMLPipeline(project, azdo.YAMLPipeline{Name: "dependency-update", Repository: pipelines, Path: "/dependency-update.yml"})
	e.environ = append(e.environ, "MAESTRO_AZDO_TOKEN=maestro-pat", "MAESTRO_AZDO_SERVER_URLS="+srv.OrganizationURL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true")

	e.ok("channel", "add", "--name", "dev")
	e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", "dev")
	var sub maestro.Subscription
	e.okJSON(&sub, "subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
		"--target-repo", target, "--target-branch", "main", "--update-frequency", "everyBuild",
		"--update-pipeline", fmt.Sprintf("%s/eng/_build?definitionId=%d", srv.OrganizationURL(), pl.ID))
	require.NotNil(t, sub.UpdatePipeline)

	m := writeFile(t, t.TempDir(), "m.xml", manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main", commit: sha(1), azdoBuildID: 77,
		packages: []string{"Microsoft.DotNet.Arcade.Sdk@10.0.0-beta.1"}}.xml())
	r := e.run("publish", "--manifest", m)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "subscription "+sub.ID+", build 1: queued")

	runs := srv.RunRequests()
	require.Len(t, runs, 1)
	assert.Equal(t, pl.ID, runs[0].PipelineID)
	var body map[string]any
	require.NoError(t, json.Unmarshal(runs[0].Body, &body))
	assert.Equal(t, map[string]any{"templateParameters": map[string]any{"subscriptionId": sub.ID, "buildId": "1"}}, body, "the exact run request")
	var history []maestro.FlowOutcome
	e.okJSON(&history, "flow", "history", "--build", "1")
	require.Len(t, history, 1)
	assert.Equal(t, maestro.ResultQueued, history[0].Result)

	params := *runs[0].Parameters.TemplateParameters
	return e.ok("subscription", "apply", "--id", params["subscriptionId"], "--build", params["buildId"])
}

// TestQueueThenApply: publish → queue → apply → pull request, on Azure
// Repos, GitHub and the local platform, on each store.
func TestQueueThenApply(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		t.Run("azure repos", func(t *testing.T) {
			e := &env{t: t, environ: e.environ, azurite: e.azurite}
			e.store = freshStore(t, e, "azrepos")
			srv := azdo.NewServer(t, azdo.WithPAT("maestro-pat"))
			repo := srv.AddRepository(srv.AddProject("internal"), "dotnet-runtime")
			files := map[string][]byte{}
			for k, v := range targetFiles {
				files[k] = []byte(v)
			}
			repo.Commit("main", files, "initial")
			assert.Empty(t, srv.PullRequests())
			out := queueThenApply(t, e, srv, repo.WebURL())
			assert.Contains(t, out, "updated "+repo.WebURL()+"/pullrequest/1")
			prs := srv.PullRequests()
			require.Len(t, prs, 1)
			for f, want := range wantFiles() {
				got, err := repo.ReadFile(strings.TrimPrefix(*prs[0].SourceRefName, "refs/heads/"), f)
				require.NoError(t, err)
				assert.Equal(t, want, string(got), f)
			}
		})
		t.Run("github", func(t *testing.T) {
			e := &env{t: t, environ: e.environ, azurite: e.azurite}
			e.store = freshStore(t, e, "github")
			gh := githubdouble.NewServer(t)
			repo := gh.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: targetFiles})
			e.environ = append(e.environ, "GITHUB_TOKEN="+githubdouble.DefaultToken, "MAESTRO_GITHUB_URL="+gh.URL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true")
			out := queueThenApply(t, e, azdo.NewServer(t, azdo.WithPAT("maestro-pat")), gh.URL()+"/dotnet/runtime")
			assert.Contains(t, out, "updated "+gh.URL()+"/dotnet/runtime/pull/1")
			for f, want := range wantFiles() {
				got, ok := repo.File(repo.PullRequest(1).GetHead().GetRef(), f)
				require.True(t, ok, f)
				assert.Equal(t, want, got, f)
			}
		})
		t.Run("local", func(t *testing.T) {
			e := &env{t: t, environ: e.environ, azurite: e.azurite}
			e.store = freshStore(t, e, "local")
			src := t.TempDir()
			for k, v := range targetFiles {
				writeFile(t, src, k, v)
			}
			target := bareRepoFrom(t, src)
			out := queueThenApply(t, e, azdo.NewServer(t, azdo.WithPAT("maestro-pat")), target)
			assert.Contains(t, out, "updated file://"+target+"#pull/1")
			var prs []maestro.PullRequest
			e.okJSON(&prs, "pr", "list", "--repository", target)
			require.Len(t, prs, 1)
			for f, want := range wantFiles() {
				assert.Equal(t, want, showFile(t, target, prs[0].HeadBranch, f), f)
			}
		})
	})
}

// freshStore returns an empty store of the same kind as e's: a new
// container (named name) on e's Azurite, or a new local directory.
func freshStore(t *testing.T, e *env, name string) string {
	url := "file://" + t.TempDir()
	if e.azurite != nil {
		url = "azblob://" + name
	}
	fresh := *e
	fresh.store = url
	fresh.ok("registry", "init")
	return url
}
