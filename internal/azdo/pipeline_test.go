package azdo_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/maestro"
	double "github.com/maestroplusplus/maestro/test/azdo"
	"github.com/maestroplusplus/maestro/test/testenv"
)

func TestParsePipelineURL(t *testing.T) {
	tests := []struct {
		in   string
		want maestro.UpdatePipeline
	}{
		{"https://dev.azure.com/contoso/internal/_build?definitionId=42", maestro.UpdatePipeline{Organization: "https://dev.azure.com/contoso", Project: "internal", PipelineID: 42}},
		{"https://contoso.visualstudio.com/My%20Project/_build?definitionId=7&_a=summary", maestro.UpdatePipeline{Organization: "https://dev.azure.com/contoso", Project: "My Project", PipelineID: 7}},
	}
	for _, tt := range tests {
		got, err := azdo.ParsePipelineURL(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got)
		again, err := azdo.ParsePipelineURL(azdo.PipelineURL(got))
		require.NoError(t, err)
		assert.Equal(t, got, again, "round trip")
	}
	for _, bad := range []string{"", "dev.azure.com/contoso", "https://dev.azure.com/contoso/internal/_build", "https://dev.azure.com/contoso/internal/_build?definitionId=x"} {
		_, err := azdo.ParsePipelineURL(bad)
		assert.Error(t, err, bad)
	}
	_, err := azdo.ParsePipelineURL("https://s3cr3t-pw@dev.azure.com/contoso/internal/_build?definitionId=42")
	require.Error(t, err, "user info is refused")
	assert.NotContains(t, err.Error(), "s3cr3t-pw")
}

// TestQueue queues the repository's own pipelines/dependency-update.yml in
// the Azure DevOps double through the real client, with a PAT and with a job
// token, and a classic definition.
func TestQueue(t *testing.T) {
	ctx := context.Background()
	srv := double.NewServer(t, double.WithPAT("pat-1"), double.WithJobToken("job-1"))
	project := srv.AddProject("internal")
	repo := srv.AddRepository(project, "runtime")
	yml, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "pipelines", "dependency-update.yml"))
	require.NoError(t, err)
	repo.Commit("main", map[string][]byte{"eng/pipelines/dependency-update.yml": yml}, "Add the update pipeline")
	pl := srv.AddYAMLPipeline(project, double.YAMLPipeline{Name: "dependency-update", Repository: repo, Path: "/eng/pipelines/dependency-update.yml"})
	up := maestro.UpdatePipeline{Organization: srv.OrganizationURL(), Project: "internal", PipelineID: pl.ID}

	q, err := azdo.Queue(ctx, azdo.Connection(srv.OrganizationURL(), "pat-1", false), up, "sub-1", 12)
	require.NoError(t, err)
	assert.NotZero(t, q.ID)
	q2, err := azdo.Queue(ctx, azdo.Connection(srv.OrganizationURL(), "job-1", true), up, "sub-2", 13)
	require.NoError(t, err)
	assert.NotEqual(t, q.ID, q2.ID)

	runs := srv.RunRequests()
	require.Len(t, runs, 2)
	assert.Equal(t, pl.ID, runs[0].PipelineID)
	assert.Equal(t, map[string]string{"subscriptionId": "sub-1", "buildId": "12"}, *runs[0].Parameters.TemplateParameters)
	var body map[string]any
	require.NoError(t, json.Unmarshal(runs[0].Body, &body))
	assert.Equal(t, map[string]any{"templateParameters": map[string]any{"subscriptionId": "sub-1", "buildId": "12"}}, body, "the exact run request")

	_, err = azdo.Queue(ctx, azdo.Connection(srv.OrganizationURL(), "wrong", false), up, "sub-1", 12)
	assert.Error(t, err)
	assert.NotEmpty(t, srv.UnauthorizedRequests())

	classic := srv.AddClassicDefinition(project, double.ClassicDefinition{Name: "update-classic", Repository: repo,
		Variables: map[string]double.DefinitionVariable{"subscriptionId": {AllowOverride: true}, "buildId": {AllowOverride: true}}})
	cq, err := azdo.Queue(ctx, azdo.Connection(srv.OrganizationURL(), "pat-1", false), maestro.UpdatePipeline{
		Organization: srv.OrganizationURL(), Project: "internal", PipelineID: classic.ID, Classic: true}, "sub-3", 14)
	require.NoError(t, err)
	assert.NotZero(t, cq.ID)
	reqs := srv.QueueBuildRequests()
	require.Len(t, reqs, 1)
	require.NotNil(t, reqs[0].Build.Parameters)
	assert.JSONEq(t, `{"subscriptionId":"sub-3","buildId":"14"}`, *reqs[0].Build.Parameters)
}
