package config_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/config"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/service/wire"
)

// TestPublishTriggersApplyExport: publish triggers are added by apply,
// recognised again whatever the spelling of their organization, exported
// in order, left alone when unlisted and deleted with --prune.
func TestPublishTriggersApplyExport(t *testing.T) {
	ctx := context.Background()
	reg := memRegistry(t)
	const file = `publishTriggers:
  - pipeline: https://dev.azure.com/dnceng/internal/_build?definitionId=679
  - pipeline: https://dnceng.visualstudio.com/internal/_build?definitionId=12
`
	p := apply(t, reg, file, config.Options{})
	assert.Equal(t, ""+
		"+ publish trigger https://dev.azure.com/dnceng/internal/_build?definitionId=679\n"+
		"+ publish trigger https://dnceng.visualstudio.com/internal/_build?definitionId=12\n"+
		"Plan: 2 to add, 0 to change, 0 to delete.\n", diff(t, p))
	ts, err := reg.PublishTriggers(ctx)
	require.NoError(t, err)
	assert.Equal(t, []maestro.PublishTrigger{
		{Organization: "https://dev.azure.com/dnceng", Project: "internal", DefinitionID: 679},
		{Organization: "https://dev.azure.com/dnceng", Project: "internal", DefinitionID: 12},
	}, ts)

	exported := export(t, reg)
	assert.Equal(t, `publishTriggers:
  - pipeline: https://dev.azure.com/dnceng/internal/_build?definitionId=12
  - pipeline: https://dev.azure.com/dnceng/internal/_build?definitionId=679
`, exported)
	p, err = plan(t, reg, exported, config.Options{Prune: true})
	require.NoError(t, err)
	assert.Empty(t, p.Actions, "export → apply changes nothing")
	p, err = plan(t, reg, "publishTriggers:\n  - pipeline: https://DEV.azure.com/dnceng/Internal/_build?definitionId=679\n", config.Options{})
	require.NoError(t, err)
	assert.Empty(t, p.Actions, "the same pipeline")
	assert.Equal(t, 1, p.Unlisted)

	apply(t, reg, "publishTriggers:\n  - pipeline: https://dev.azure.com/dnceng/internal/_build?definitionId=679\n", config.Options{Prune: true})
	ts, err = reg.PublishTriggers(ctx)
	require.NoError(t, err)
	assert.Equal(t, []maestro.PublishTrigger{{Organization: "https://dev.azure.com/dnceng", Project: "internal", DefinitionID: 679}}, ts)
}

// TestPublishTriggersProblems: a bad or repeated pipeline, or (with
// Options.Hosts) a new one in an organization no token goes to, is a
// problem of the file and nothing is planned.
func TestPublishTriggersProblems(t *testing.T) {
	reg := memRegistry(t)
	_, err := plan(t, reg, `publishTriggers:
  - pipeline: ""
  - pipeline: https://dev.azure.com/dnceng/internal/_build
  - pipeline: https://dev.azure.com/dnceng/internal/_build?definitionId=1
  - pipeline: https://dnceng.visualstudio.com/internal/_build?definitionId=1
`, config.Options{})
	var ps config.Problems
	require.True(t, errors.As(err, &ps), "%v", err)
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	require.Len(t, got, 3, "%v", got)
	assert.Contains(t, got[0], "maestro.yaml:2: publishTriggers[0].pipeline")
	assert.Contains(t, got[1], "maestro.yaml:3: publishTriggers[1].pipeline: pipeline URL")
	assert.Contains(t, got[2], "maestro.yaml:5: publishTriggers[3].pipeline: publish trigger of https://dnceng.visualstudio.com/internal/_build?definitionId=1 is listed twice (first at line 4)")

	hosts := wire.Env{Getenv: func(string) string { return "" }}
	_, err = plan(t, reg, "publishTriggers:\n  - pipeline: https://tfs.contoso.com/Coll/internal/_build?definitionId=3\n", config.Options{Hosts: hosts})
	require.True(t, errors.As(err, &ps), "%v", err)
	assert.Contains(t, ps[0].String(), "MAESTRO_AZDO_SERVER_URLS")
	ts, err := reg.PublishTriggers(context.Background())
	require.NoError(t, err)
	assert.Empty(t, ts)
}

// TestPublishTriggersOfPullRequestBuilds: a pipeline's pull request builds
// are a trigger of their own (pullRequests: true), beside its official
// builds: applied, exported and pruned apart.
func TestPublishTriggersOfPullRequestBuilds(t *testing.T) {
	ctx := context.Background()
	reg := memRegistry(t)
	const file = `publishTriggers:
  - pipeline: https://dev.azure.com/dnceng/internal/_build?definitionId=679
  - pipeline: https://dev.azure.com/dnceng/internal/_build?definitionId=679
    pullRequests: true
`
	p := apply(t, reg, file, config.Options{})
	assert.Equal(t, ""+
		"+ publish trigger https://dev.azure.com/dnceng/internal/_build?definitionId=679\n"+
		"+ publish trigger https://dev.azure.com/dnceng/internal/_build?definitionId=679 (pull requests)\n"+
		"Plan: 2 to add, 0 to change, 0 to delete.\n", diff(t, p))
	ts, err := reg.PublishTriggers(ctx)
	require.NoError(t, err)
	assert.Equal(t, []maestro.PublishTrigger{
		{Organization: "https://dev.azure.com/dnceng", Project: "internal", DefinitionID: 679},
		{Organization: "https://dev.azure.com/dnceng", Project: "internal", DefinitionID: 679, PullRequests: true},
	}, ts)
	exported := export(t, reg)
	assert.Equal(t, file, exported)
	p, err = plan(t, reg, exported, config.Options{Prune: true})
	require.NoError(t, err)
	assert.Empty(t, p.Actions, "export → apply changes nothing")

	p = apply(t, reg, "publishTriggers:\n  - pipeline: https://dev.azure.com/dnceng/internal/_build?definitionId=679\n", config.Options{Prune: true})
	assert.Contains(t, diff(t, p), "- publish trigger https://dev.azure.com/dnceng/internal/_build?definitionId=679 (pull requests)\n")
	ts, err = reg.PublishTriggers(ctx)
	require.NoError(t, err)
	assert.Equal(t, []maestro.PublishTrigger{{Organization: "https://dev.azure.com/dnceng", Project: "internal", DefinitionID: 679}}, ts)

	_, err = plan(t, reg, file+"  - pipeline: https://dnceng.visualstudio.com/internal/_build?definitionId=679\n    pullRequests: true\n", config.Options{})
	assert.ErrorContains(t, err, "publish trigger of pull request builds of https://dnceng.visualstudio.com/internal/_build?definitionId=679 is listed twice (first at line 3)")
}
