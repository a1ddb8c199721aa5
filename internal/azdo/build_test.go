package azdo_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/azdo"
	double "github.com/maestroplusplus/maestro/test/azdo"
)

// TestQueueBuildAndFindQueued queues a classic definition with a source
// branch and ordered parameters, then finds that build again by its
// parameters — and not a build with other parameters, of another
// definition, or queued before the given time.
func TestQueueBuildAndFindQueued(t *testing.T) {
	ctx := context.Background()
	srv := double.NewServer(t, double.WithPAT("pat"))
	project := srv.AddProject("internal")
	repo := srv.AddRepository(project, "tools")
	repo.Commit("main", map[string][]byte{"README.md": []byte("x\n")}, "init")
	repo.Commit("release/1.0", map[string][]byte{"README.md": []byte("y\n")}, "release")
	vars := map[string]double.DefinitionVariable{"B": {AllowOverride: true}, "A": {AllowOverride: true}}
	def := srv.AddClassicDefinition(project, double.ClassicDefinition{Name: "mirror", Repository: repo, Variables: vars})
	other := srv.AddClassicDefinition(project, double.ClassicDefinition{Name: "other", Repository: repo, Variables: vars})
	conn := azdo.Connection(srv.OrganizationURL(), "pat", false)

	req := azdo.BuildRequest{Project: "internal", DefinitionID: def.ID, SourceBranch: "release/1.0", Parameters: [][2]string{{"B", "2 \"two\""}, {"A", "1"}}}
	assert.Equal(t, `{"B":"2 \"two\"","A":"1"}`, req.ParametersJSON(), "in the file's order")
	before := time.Now().Add(-time.Second)
	q, err := azdo.QueueBuild(ctx, conn, req)
	require.NoError(t, err)
	assert.NotZero(t, q.ID)
	assert.Contains(t, q.URL, "buildId=")
	reqs := srv.QueueBuildRequests()
	require.Len(t, reqs, 1)
	var body map[string]any
	require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
	assert.Equal(t, "refs/heads/release/1.0", body["sourceBranch"])
	assert.Equal(t, `{"B":"2 \"two\"","A":"1"}`, body["parameters"])

	_, err = azdo.QueueBuild(ctx, conn, azdo.BuildRequest{Project: "internal", DefinitionID: other.ID, Parameters: [][2]string{{"B", "2 \"two\""}, {"A", "1"}}})
	require.NoError(t, err)

	found, ok, err := azdo.FindQueued(ctx, conn, req, before)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, q.ID, found.ID)

	for name, r := range map[string]azdo.BuildRequest{
		"other parameters": {Project: "internal", DefinitionID: def.ID, SourceBranch: "release/1.0", Parameters: [][2]string{{"A", "1"}, {"B", "2 \"two\""}}},
		"other branch":     {Project: "internal", DefinitionID: def.ID, SourceBranch: "main", Parameters: req.Parameters},
	} {
		_, ok, err := azdo.FindQueued(ctx, conn, r, before)
		require.NoError(t, err)
		assert.False(t, ok, name)
	}
	_, ok, err = azdo.FindQueued(ctx, conn, req, time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.False(t, ok, "queued before the time given")

	// A marker in triggerInfo tells two builds with the same definition,
	// branch and parameters apart.
	marked := req
	marked.TriggerInfo = map[string]string{"maestro.test": "attempt-1"}
	_, ok, err = azdo.FindQueued(ctx, conn, marked, before)
	require.NoError(t, err)
	assert.False(t, ok, "the unmarked build does not carry the marker")
	mq, err := azdo.QueueBuild(ctx, conn, marked)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(srv.QueueBuildRequests()[2].Body, &body))
	assert.Equal(t, map[string]any{"maestro.test": "attempt-1"}, body["triggerInfo"])
	found, ok, err = azdo.FindQueued(ctx, conn, marked, before)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, mq.ID, found.ID)
	other2 := req
	other2.TriggerInfo = map[string]string{"maestro.test": "attempt-2"}
	_, ok, err = azdo.FindQueued(ctx, conn, other2, before)
	require.NoError(t, err)
	assert.False(t, ok, "another marker")

	_, err = azdo.QueueBuild(ctx, conn, azdo.BuildRequest{Project: "internal", DefinitionID: def.ID, Parameters: [][2]string{{"C", "x"}}})
	require.Error(t, err, "a variable the definition does not let a queue set")
	_, err = azdo.QueueBuild(ctx, azdo.Connection(srv.OrganizationURL(), "wrong-pat", false), req)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "wrong-pat")
}
