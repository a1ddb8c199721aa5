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
	"github.com/maestroplusplus/maestro/test/testenv"
)

// TestPublishQueuesUpdatePipeline: a subscription with an update pipeline is
// queued in Azure DevOps (the double, through the real client) when a build
// arrives; the run request carries the subscription and the build; what the
// pipeline runs, `maestro subscription apply`, then opens the pull request.
func TestPublishQueuesUpdatePipeline(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		srv := azdo.NewServer(t, azdo.WithPAT("maestro-pat"))
		project := srv.AddProject("internal")
		repo := srv.AddRepository(project, "dotnet-runtime")
		yml, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "pipelines", "dependency-update.yml"))
		require.NoError(t, err)
		repo.Commit("main", map[string][]byte{
			"eng/pipelines/dependency-update.yml": yml,
			"eng/Version.Details.xml": []byte(`<?xml version="1.0" encoding="utf-8"?>
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
`),
			"global.json": []byte("{\n  \"msbuild-sdks\": {\n    \"Microsoft.DotNet.Arcade.Sdk\": \"9.0.0-beta.1\"\n  }\n}\n"),
		}, "update pipeline")
		pl := srv.AddYAMLPipeline(project, azdo.YAMLPipeline{Name: "dependency-update", Repository: repo, Path: "/eng/pipelines/dependency-update.yml"})
		e.environ = append(e.environ, "MAESTRO_AZDO_TOKEN=maestro-pat")

		e.ok("channel", "add", "--name", "dev")
		e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", "dev")
		var sub maestro.Subscription
		e.okJSON(&sub, "subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
			"--target-repo", repo.WebURL(), "--target-branch", "main", "--update-frequency", "everyBuild",
			"--update-pipeline", fmt.Sprintf("%s/internal/_build?definitionId=%d", srv.OrganizationURL(), pl.ID))
		require.NotNil(t, sub.UpdatePipeline)

		dir := t.TempDir()
		m := writeFile(t, dir, "m.xml", manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main", commit: sha(1), azdoBuildID: 77,
			packages: []string{"Microsoft.DotNet.Arcade.Sdk@10.0.0-beta.1"}}.xml())
		r := e.run("publish", "--manifest", m)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "subscription "+sub.ID+", build 1: queued")

		runs := srv.RunRequests()
		require.Len(t, runs, 1)
		assert.Equal(t, pl.ID, runs[0].PipelineID)
		var body map[string]any
		require.NoError(t, json.Unmarshal(runs[0].Body, &body))
		assert.Equal(t, map[string]any{"templateParameters": map[string]any{"subscriptionId": sub.ID, "buildId": "1"}}, body)

		var history []maestro.FlowOutcome
		e.okJSON(&history, "flow", "history", "--build", "1")
		require.Len(t, history, 1)
		assert.Equal(t, maestro.ResultQueued, history[0].Result)
		assert.Empty(t, srv.PullRequests(), "queued, not applied")

		// The pipeline's step, with the parameters of the run request.
		params := *runs[0].Parameters.TemplateParameters
		out := e.ok("subscription", "apply", "--id", params["subscriptionId"], "--build", params["buildId"])
		assert.Contains(t, out, "updated "+repo.WebURL()+"/pullrequest/1")
		prs := srv.PullRequests()
		require.Len(t, prs, 1)
		got, err := repo.ReadFile(strings.TrimPrefix(*prs[0].SourceRefName, "refs/heads/"), "global.json")
		require.NoError(t, err)
		assert.Contains(t, string(got), `"Microsoft.DotNet.Arcade.Sdk": "10.0.0-beta.1"`)
	})
}
