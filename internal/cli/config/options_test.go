package config

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
)

func TestApplyParsesArguments(t *testing.T) {
	tests := []struct {
		args []string
		want ApplyOptions
	}{
		{[]string{"maestro.yaml"}, ApplyOptions{File: "maestro.yaml"}},
		{[]string{"--dry-run", "--prune", "-"}, ApplyOptions{File: "-", DryRun: true, Prune: true}},
		{[]string{"--prune", "--store", "file:///tmp/s", "c.yaml"}, ApplyOptions{File: "c.yaml", Prune: true}},
	}
	for _, tt := range tests {
		t.Run(tt.want.File, func(t *testing.T) {
			var got *ApplyOptions
			cmd := newApplyCmd(&cmdutil.Factory{}, func(_ *cli.Context, o *ApplyOptions) error { got = o; return nil })
			app := &cli.App{Commands: []*cli.Command{cmd}}
			require.NoError(t, app.RunContext(context.Background(), append([]string{"maestro", "apply"}, tt.args...)))
			assert.Equal(t, &tt.want, got)
		})
	}
}

func TestExportParsesArguments(t *testing.T) {
	var got *ExportOptions
	cmd := newExportCmd(&cmdutil.Factory{}, func(_ *cli.Context, o *ExportOptions) error { got = o; return nil })
	app := &cli.App{Commands: []*cli.Command{cmd}}
	require.NoError(t, app.RunContext(context.Background(), []string{"maestro", "export", "--file", "out.yaml"}))
	assert.Equal(t, &ExportOptions{File: "out.yaml"}, got)
}
