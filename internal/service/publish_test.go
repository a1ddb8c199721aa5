package service_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/maestroplusplus/maestro/internal/maestro"
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
