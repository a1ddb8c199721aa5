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
