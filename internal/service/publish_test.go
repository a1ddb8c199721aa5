package service_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service"
)

func TestFillMetadataPrecedence(t *testing.T) {
	env := map[string]string{
		"BUILD_BUILDID": "981", "BUILD_BUILDNUMBER": "20261125.3", "BUILD_SOURCEVERSION": "envsha",
		"BUILD_SOURCEBRANCH": "refs/heads/release/10.0", "BUILD_REPOSITORY_URI": "https://github.com/dotnet/env",
		"SYSTEM_TEAMFOUNDATIONCOLLECTIONURI": "https://dev.azure.com/dnceng/", "SYSTEM_TEAMPROJECT": "internal",
		"SYSTEM_DEFINITIONID": "12",
	}
	flags := maestro.Build{Repository: "https://github.com/dotnet/flag", Commit: "flagsha", Branch: "flagbranch"}

	fromManifest := service.FillMetadata(maestro.Build{Repository: "https://github.com/dotnet/manifest", Commit: "msha"}, func(k string) string { return env[k] }, flags)
	assert.Equal(t, "https://github.com/dotnet/manifest", fromManifest.Repository)
	assert.Equal(t, "msha", fromManifest.Commit)
	assert.Equal(t, "release/10.0", fromManifest.Branch)
	assert.Equal(t, 981, fromManifest.AzureDevOpsBuildID)
	assert.Equal(t, 12, fromManifest.AzureDevOpsBuildDefinitionID)
	assert.Equal(t, "dnceng", fromManifest.AzureDevOpsAccount)
	assert.Equal(t, "internal", fromManifest.AzureDevOpsProject)
	assert.Equal(t, "20261125.3", fromManifest.AzureDevOpsBuildNumber)

	fromFlags := service.FillMetadata(maestro.Build{}, func(string) string { return "" }, flags)
	assert.Equal(t, "https://github.com/dotnet/flag", fromFlags.Repository)
	assert.Equal(t, "flagsha", fromFlags.Commit)
	assert.Equal(t, "flagbranch", fromFlags.Branch)
	assert.Zero(t, fromFlags.AzureDevOpsBuildID)
}

func TestAccountOf(t *testing.T) {
	for in, want := range map[string]string{
		"https://dev.azure.com/dnceng/":        "dnceng",
		"https://dev.azure.com/dnceng":         "dnceng",
		"https://dnceng.visualstudio.com/":     "dnceng",
		"https://DNCENG.visualstudio.com/Foo/": "dnceng",
		"":                                     "",
		"not a url":                            "",
	} {
		assert.Equal(t, want, service.AccountOf(in), in)
	}
}

// TestFlowBuildPending: flowing a build again skips the subscriptions that
// have an outcome for it (flowed by the interrupted publish) and flows the
// others once.
func TestFlowBuildPending(t *testing.T) {
	f, sub2, ch2 := cappedFlow(t, 0, 0)
	res, err := f.reg.PublishBuild(f.ctx, maestro.Build{Repository: "https://github.com/dotnet/arcade", Branch: "main", Commit: sha(1),
		Assets: []maestro.Asset{{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "10.0.0-beta.1"}}}, registry.PublishOptions{Channels: []int{f.ch.ID, ch2.ID}})
	require.NoError(t, err)
	// The interrupted publish flowed the first channel only.
	first := f.svc.FlowBuild(f.ctx, res.Build, []int{f.ch.ID})
	require.Len(t, first, 1)
	require.Equal(t, maestro.ResultUpdated, first[0].Outcome.Result, first[0].Outcome.Message)

	again, err := f.svc.FlowBuildPending(f.ctx, res.Build, []int{f.ch.ID, ch2.ID})
	require.NoError(t, err)
	require.Len(t, again, 1, "only the subscription without an outcome")
	assert.Equal(t, sub2.ID, again[0].Subscription.ID)
	assert.Equal(t, maestro.ResultUpdated, again[0].Outcome.Result, again[0].Outcome.Message)

	again, err = f.svc.FlowBuildPending(f.ctx, res.Build, []int{f.ch.ID, ch2.ID})
	require.NoError(t, err)
	assert.Empty(t, again, "every subscription has its outcome")
	outcomes, err := f.reg.Outcomes(f.ctx, registry.OutcomeFilter{BuildID: res.Build.ID})
	require.NoError(t, err)
	assert.Len(t, outcomes, 2)
}
