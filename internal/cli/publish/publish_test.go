package publish

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

func TestNewCmdParsesFlags(t *testing.T) {
	var got *Options
	cmd := NewCmd(&cmdutil.Factory{}, func(_ *cli.Context, o *Options) error { got = o; return nil })
	app := &cli.App{Commands: []*cli.Command{cmd}}
	err := app.RunContext(context.Background(), []string{"maestro", "publish",
		"--manifest", "a/*.xml", "--manifest", "b.xml", "--channel", ".NET 10", "--channel", "7",
		"--version-details", "eng/Version.Details.xml", "--upload", "out", "--result-file", "r.json",
		"--commit", "abc", "--output", "json", "--create"})
	require.NoError(t, err)
	assert.Equal(t, &Options{
		Manifests: []string{"a/*.xml", "b.xml"}, Channels: []string{".NET 10", "7"},
		VersionDetails: "eng/Version.Details.xml", UploadDir: "out", ResultFile: "r.json", JSON: true,
		Create: true, Flags: maestro.Build{Commit: "abc"},
	}, got)
}

func TestNewCmdRejectsArguments(t *testing.T) {
	cmd := NewCmd(&cmdutil.Factory{}, func(*cli.Context, *Options) error { return nil })
	app := &cli.App{Commands: []*cli.Command{cmd}}
	err := app.RunContext(context.Background(), []string{"maestro", "publish", "--manifest", "x", "stray"})
	assert.ErrorContains(t, err, `got "stray"`)
}

func TestFillMetadataPrecedence(t *testing.T) {
	env := map[string]string{
		"BUILD_BUILDID": "981", "BUILD_BUILDNUMBER": "20261125.3", "BUILD_SOURCEVERSION": "envsha",
		"BUILD_SOURCEBRANCH": "refs/heads/release/10.0", "BUILD_REPOSITORY_URI": "https://github.com/dotnet/env",
		"SYSTEM_TEAMFOUNDATIONCOLLECTIONURI": "https://dev.azure.com/dnceng/", "SYSTEM_TEAMPROJECT": "internal",
		"SYSTEM_DEFINITIONID": "12",
	}
	flags := maestro.Build{Repository: "https://github.com/dotnet/flag", Commit: "flagsha", Branch: "flagbranch"}

	fromManifest := fillMetadata(maestro.Build{Repository: "https://github.com/dotnet/manifest", Commit: "msha"}, func(k string) string { return env[k] }, flags)
	assert.Equal(t, "https://github.com/dotnet/manifest", fromManifest.Repository)
	assert.Equal(t, "msha", fromManifest.Commit)
	assert.Equal(t, "release/10.0", fromManifest.Branch)
	assert.Equal(t, 981, fromManifest.AzureDevOpsBuildID)
	assert.Equal(t, 12, fromManifest.AzureDevOpsBuildDefinitionID)
	assert.Equal(t, "dnceng", fromManifest.AzureDevOpsAccount)
	assert.Equal(t, "internal", fromManifest.AzureDevOpsProject)
	assert.Equal(t, "20261125.3", fromManifest.AzureDevOpsBuildNumber)

	fromFlags := fillMetadata(maestro.Build{}, func(string) string { return "" }, flags)
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
		assert.Equal(t, want, accountOf(in), in)
	}
}

func TestNewCmdLegacyFlags(t *testing.T) {
	var got *Options
	cmd := NewCmd(&cmdutil.Factory{}, func(_ *cli.Context, o *Options) error { got = o; return nil })
	app := &cli.App{Commands: []*cli.Command{cmd}}
	err := app.RunContext(context.Background(), []string{"maestro", "publish", "--manifest", "m.xml",
		"--legacy-versions-repo", "/versions.git", "--legacy-name", "coreclr", "--legacy-channel", "release/3.1"})
	require.NoError(t, err)
	assert.Equal(t, &Options{Manifests: []string{"m.xml"}, LegacyRepo: "/versions.git", LegacyName: "coreclr", LegacyChannel: "release/3.1"}, got)

	for _, args := range [][]string{
		{"--legacy-versions-repo", "/v"},
		{"--legacy-name", "coreclr", "--legacy-channel", "master"},
		{"--legacy-versions-repo", "/v", "--legacy-channel", "master"},
	} {
		got = nil
		err := app.RunContext(context.Background(), append([]string{"maestro", "publish", "--manifest", "m.xml"}, args...))
		assert.ErrorContains(t, err, "--legacy-versions-repo, --legacy-name and --legacy-channel go together", args)
		assert.Nil(t, got)
	}
}
