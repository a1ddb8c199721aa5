package mirror_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/mirror"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store/mem"
	double "github.com/maestroplusplus/maestro/test/azdo"
)

// mirrorYAML declares the parameters a mirror pipeline takes; the double
// checks every run request against them.
const mirrorYAML = `trigger: none
parameters:
- name: sourceRepository
  type: string
- name: branch
  type: string
- name: targetRepository
  type: string
- name: mode
  type: string
  values: [fastForward, internalMerge]
steps:
- script: echo mirror
`

// TestTrigger: through the Azure DevOps double and the real client, a
// trigger queues one run with the source, branch, target and mode; more
// triggers while it is queued or running coalesce into it; one after it
// completed queues a new run; a branch no pattern selects queues nothing;
// sixteen triggers at once queue one run.
func TestTrigger(t *testing.T) {
	ctx := context.Background()
	srv := double.NewServer(t, double.WithPAT("pat"))
	project := srv.AddProject("internal")
	pl := addMirrorPipeline(srv, project)
	m := maestro.Mirror{SourceRepository: "https://github.com/dotnet/runtime", TargetRepository: "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime",
		Branches: []maestro.MirrorBranch{{Pattern: "main", Mode: maestro.MirrorFastForward}, {Pattern: `release/.*`, Mode: maestro.MirrorInternalMerge}},
		Pipeline: maestro.UpdatePipeline{Organization: srv.OrganizationURL(), Project: "internal", PipelineID: pl.ID}}
	reg := registry.New(mem.New())
	tr := mirror.Trigger{Runs: reg, Queue: azdo.Pipelines{Conn: azdo.Connection(srv.OrganizationURL(), "pat", false)}, Now: time.Now}

	first, err := tr.Trigger(ctx, m, "main", "abc")
	require.NoError(t, err)
	assert.True(t, first.Queued)
	assert.Equal(t, maestro.MirrorFastForward, first.Mode)
	runs := srv.RunRequests()
	require.Len(t, runs, 1)
	assert.Equal(t, first.RunID, runs[0].RunID)
	assert.Equal(t, map[string]string{"sourceRepository": m.SourceRepository, "branch": "main", "targetRepository": m.TargetRepository, "mode": "fastForward"},
		*runs[0].Parameters.TemplateParameters)

	for range 2 {
		again, err := tr.Trigger(ctx, m, "main", "def")
		require.NoError(t, err)
		assert.Equal(t, mirror.Triggered{Mode: maestro.MirrorFastForward, RunID: first.RunID, URL: first.URL}, again, "coalesced into the queued run")
	}
	srv.SetBuildStatus(first.RunID, build.BuildStatusValues.InProgress, build.BuildResultValues.None)
	running, err := tr.Trigger(ctx, m, "main", "")
	require.NoError(t, err)
	assert.False(t, running.Queued, "coalesced into the running run")
	assert.Len(t, srv.RunRequests(), 1)

	srv.SetBuildStatus(first.RunID, build.BuildStatusValues.Completed, build.BuildResultValues.Succeeded)
	next, err := tr.Trigger(ctx, m, "main", "")
	require.NoError(t, err)
	assert.True(t, next.Queued)
	assert.NotEqual(t, first.RunID, next.RunID)
	rec, _, err := reg.MirrorRun(ctx, m.SourceRepository, "main")
	require.NoError(t, err)
	assert.Equal(t, next.RunID, rec.RunID)

	none, err := tr.Trigger(ctx, m, "feature/x", "")
	require.NoError(t, err)
	assert.Equal(t, mirror.Triggered{}, none)
	assert.Len(t, srv.RunRequests(), 2)

	var wg sync.WaitGroup
	results := make([]mirror.Triggered, 16)
	errs := make([]error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = tr.Trigger(ctx, m, "release/9.0", "")
		}()
	}
	wg.Wait()
	queued := 0
	for i := range 16 {
		require.NoError(t, errs[i])
		assert.Equal(t, maestro.MirrorInternalMerge, results[i].Mode)
		if results[i].Queued {
			queued++
		}
	}
	assert.Equal(t, 1, queued, "sixteen triggers at once queue one run")
	runs = srv.RunRequests()
	require.Len(t, runs, 3)
	assert.Equal(t, "internalMerge", (*runs[2].Parameters.TemplateParameters)["mode"])
}

// TestTriggerQueueFailure: a run the service refuses is an error, and the
// next trigger queues at once instead of waiting out the claim.
func TestTriggerQueueFailure(t *testing.T) {
	ctx := context.Background()
	srv := double.NewServer(t, double.WithPAT("pat"))
	project := srv.AddProject("internal")
	pl := addMirrorPipeline(srv, project)
	m := maestro.Mirror{SourceRepository: "https://github.com/dotnet/runtime", TargetRepository: "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime",
		Branches: []maestro.MirrorBranch{{Pattern: "main", Mode: maestro.MirrorFastForward}},
		Pipeline: maestro.UpdatePipeline{Organization: srv.OrganizationURL(), Project: "internal", PipelineID: pl.ID + 100}}
	reg := registry.New(mem.New())
	tr := mirror.Trigger{Runs: reg, Queue: azdo.Pipelines{Conn: azdo.Connection(srv.OrganizationURL(), "pat", false)}, Now: time.Now}
	_, err := tr.Trigger(ctx, m, "main", "")
	require.Error(t, err)
	m.Pipeline.PipelineID = pl.ID
	got, err := tr.Trigger(ctx, m, "main", "")
	require.NoError(t, err)
	assert.True(t, got.Queued, "the failed attempt's claim does not hold this one off")
}

// addMirrorPipeline adds the YAML pipeline "mirror", its file in a
// repository of the project.
func addMirrorPipeline(srv *double.Server, project *double.Project) *double.Pipeline {
	repo := srv.AddRepository(project, "pipelines")
	repo.Commit("main", map[string][]byte{"mirror.yml": []byte(mirrorYAML)}, "Add the mirror pipeline")
	return srv.AddYAMLPipeline(project, double.YAMLPipeline{Name: "mirror", Repository: repo, Path: "/mirror.yml"})
}

// TestTriggerAfterItsRunIsGone: a branch whose recorded run the service no
// longer has (deleted by retention or by hand; Azure DevOps answers 404)
// is not stuck: the next trigger queues a new run.
func TestTriggerAfterItsRunIsGone(t *testing.T) {
	ctx := context.Background()
	srv := double.NewServer(t, double.WithPAT("pat"))
	project := srv.AddProject("internal")
	pl := addMirrorPipeline(srv, project)
	m := maestro.Mirror{SourceRepository: "https://github.com/dotnet/runtime", TargetRepository: "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime",
		Branches: []maestro.MirrorBranch{{Pattern: "main", Mode: maestro.MirrorFastForward}},
		Pipeline: maestro.UpdatePipeline{Organization: srv.OrganizationURL(), Project: "internal", PipelineID: pl.ID}}
	reg := registry.New(mem.New())
	_, err := reg.PutMirrorRun(ctx, maestro.MirrorQueuedRun{SourceRepository: m.SourceRepository, Branch: "main", ClaimedAt: time.Now().Add(-time.Hour), RunID: 4242}, "")
	require.NoError(t, err)
	tr := mirror.Trigger{Runs: reg, Queue: azdo.Pipelines{Conn: azdo.Connection(srv.OrganizationURL(), "pat", false)}, Now: time.Now}
	got, err := tr.Trigger(ctx, m, "main", "")
	require.NoError(t, err)
	assert.True(t, got.Queued)
	require.Len(t, srv.RunRequests(), 1)
	assert.Equal(t, srv.RunRequests()[0].RunID, got.RunID)
}
