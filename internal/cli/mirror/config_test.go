package mirror_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/clitest"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	mirrorcmd "github.com/maestroplusplus/maestro/internal/cli/mirror"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

func parseConfig(args ...string) (clitest.Result, *mirrorcmd.AddOptions) {
	var got *mirrorcmd.AddOptions
	capture := func(_ *cli.Context, o *mirrorcmd.AddOptions) error { got = o; return nil }
	res := clitest.Run(func(f *cmdutil.Factory) *cli.Command {
		return clitest.Noun("mirror", mirrorcmd.NewCmdAdd(f, capture), mirrorcmd.NewCmdUpdate(f, capture))
	}, append([]string{"mirror"}, args...)...)
	return res, got
}

func TestParseAddUpdate(t *testing.T) {
	const src = "https://github.com/dotnet/runtime"
	pipeline := maestro.UpdatePipeline{Organization: "https://dev.azure.com/dnceng", Project: "internal", PipelineID: 42}
	res, got := parseConfig("add", "--source", src, "--branch", "main", "--branch", `release/\d+=internalMerge`,
		"--pipeline", "https://dev.azure.com/dnceng/internal/_build?definitionId=42")
	assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	assert.Equal(t, maestro.Mirror{SourceRepository: src, Pipeline: pipeline, Branches: []maestro.MirrorBranch{
		{Pattern: "main", Mode: maestro.MirrorFastForward}, {Pattern: `release/\d+`, Mode: maestro.MirrorInternalMerge}}}, got.Mirror)
	assert.Equal(t, [3]bool{false, true, true}, [3]bool{got.Set.Target, got.Set.Branches, got.Set.Pipeline})

	res, got = parseConfig("update", "--source", src, "--target", "https://dev.azure.com/dnceng/internal/_git/rt")
	assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	assert.Equal(t, maestro.Mirror{SourceRepository: src, TargetRepository: "https://dev.azure.com/dnceng/internal/_git/rt"}, got.Mirror)
	assert.Equal(t, [3]bool{true, false, false}, [3]bool{got.Set.Target, got.Set.Branches, got.Set.Pipeline})
}

func TestParseAddUpdateBadInput(t *testing.T) {
	const ok = "--source https://github.com/a/b --pipeline https://dev.azure.com/o/p/_build?definitionId=1"
	tests := []struct{ args, wantErr string }{
		{"add " + ok, `Required flag "branch" not set`},
		{"add --source https://github.com/a/b --branch main", `Required flag "pipeline" not set`},
		{"add " + ok + " --branch main=force", `--branch: branch "main=force": mirror mode "force": use fastForward or internalMerge (write PATTERN=MODE)`},
		{"add --source https://github.com/a/b --branch main --pipeline https://dev.azure.com/o/p/_build", "--pipeline: pipeline URL"},
		{"add " + ok + " --branch main extra", "mirror add takes no arguments"},
		{"update --source https://github.com/a/b", "mirror update: nothing to change; give --target, --branch or --pipeline"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			res, got := parseConfig(strings.Fields(tt.args)...)
			assert.Equal(t, cmdutil.ExitInvalid, res.Code)
			assert.Contains(t, res.ErrOut, tt.wantErr)
			assert.Nil(t, got, "nothing ran")
		})
	}
}
