package e2e_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// TestMirrorConfig: `maestro mirror add|update|list|show|delete` on both
// stores; bad input is refused (exit 2) naming the field, writing nothing.
func TestMirrorConfig(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		const src = "https://github.com/dotnet/runtime"
		const pipeline = "https://dev.azure.com/dnceng/internal/_build?definitionId=42"
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"--branch", "release/("}, `mirror https://github.com/dotnet/runtime: branches[0].pattern "release/(": bad regular expression`},
			{[]string{"--branch", "main=force"}, `--branch: branch "main=force": mirror mode "force"`},
			{[]string{"--branch", "main", "--target", "https://github.com/dotnet/runtime-copy"}, "targetRepository: https://github.com/dotnet/runtime-copy is not an Azure Repos repository"},
			{[]string{"--branch", "main", "--target", "https://dev.azure.com/dnceng/internal/_git/x", "--pipeline", "https://evil.example/o/p/_build?definitionId=1"}, "pipeline: Azure DevOps organization https://evil.example/o"},
		} {
			args := append([]string{"mirror", "add", "--source", src, "--pipeline", pipeline}, tt.args...)
			r := e.run(args...)
			assert.Equal(t, 2, r.code, "%v: %s", tt.args, r.stderr)
			assert.Contains(t, r.stderr, tt.want)
		}
		var none []maestro.Mirror
		e.okJSON(&none, "mirror", "list")
		assert.Empty(t, none, "nothing written")

		out := e.ok("mirror", "add", "--source", src, "--branch", "main", "--branch", `release/\d+\.\d+=internalMerge`, "--pipeline", pipeline)
		assert.Equal(t, "mirroring "+src+" into https://dev.azure.com/dnceng/internal/_git/dotnet-runtime\n", out)
		r := e.run("mirror", "add", "--source", "https://github.com/DotNet/Runtime.git", "--branch", "main", "--pipeline", pipeline)
		assert.Equal(t, 4, r.code, r.stderr)
		e.ok("mirror", "add", "--source", "https://github.com/dotnet/arcade", "--branch", "main", "--pipeline", pipeline,
			"--target", "https://dev.azure.com/dnceng/internal/_git/arcade-mirror")

		var m maestro.Mirror
		e.okJSON(&m, "mirror", "show", "--source", src)
		assert.Equal(t, maestro.Mirror{SourceRepository: src, TargetRepository: "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime",
			Branches: []maestro.MirrorBranch{{Pattern: "main", Mode: maestro.MirrorFastForward}, {Pattern: `release/\d+\.\d+`, Mode: maestro.MirrorInternalMerge}},
			Pipeline: maestro.UpdatePipeline{Organization: "https://dev.azure.com/dnceng", Project: "internal", PipelineID: 42}}, m)

		r = e.run("mirror", "update", "--source", src, "--branch", "main=(")
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, "--branch: branch \"main=(\": mirror mode \"(\"")
		r = e.run("mirror", "update", "--source", src, "--branch", "(=internalMerge")
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, "branches[0].pattern \"(\": bad regular expression")
		e.ok("mirror", "update", "--source", src, "--branch", "main=internalMerge")
		e.okJSON(&m, "mirror", "show", "--source", src)
		assert.Equal(t, []maestro.MirrorBranch{{Pattern: "main", Mode: maestro.MirrorInternalMerge}}, m.Branches)

		shown := e.ok("mirror", "show", "--source", src)
		assert.Contains(t, shown, "target:    https://dev.azure.com/dnceng/internal/_git/dotnet-runtime\n")
		assert.Contains(t, shown, "branch:    main  internalMerge  merged into internal/BRANCH\n")

		table := e.ok("mirror", "list")
		lines := strings.Split(strings.TrimSpace(table), "\n")
		require.Len(t, lines, 3, table)
		assert.Contains(t, lines[1], src)
		assert.Contains(t, lines[1], "main=internalMerge")
		assert.Contains(t, lines[2], "https://dev.azure.com/dnceng/internal/_git/arcade-mirror")

		e.ok("mirror", "delete", "--source", src)
		r = e.run("mirror", "show", "--source", src)
		assert.Equal(t, 3, r.code)
		assert.Contains(t, r.stderr, "is not mirrored")
		var left []maestro.Mirror
		e.okJSON(&left, "mirror", "list")
		require.Len(t, left, 1)
		assert.Equal(t, "https://github.com/dotnet/arcade", left[0].SourceRepository)
	})
}

// TestMirrorConfigFile: mirrors travel through `config export` and `config
// apply` on both stores: a file's bad mirror is refused with its line and
// field and nothing written, a good one is applied, exported and applied to
// a second registry unchanged, and --prune deletes a mirror the file lacks.
func TestMirrorConfigFile(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		bad := writeFile(t, dir, "bad.yaml", `mirrors:
  - sourceRepository: https://github.com/dotnet/runtime
    targetRepository: https://github.com/dotnet/runtime-copy
    branches:
      - pattern: release/(
        mode: mirror
    pipeline: https://dev.azure.com/dnceng/internal/_build?definitionId=42
`)
		r := e.run("config", "apply", bad)
		assert.Equal(t, 2, r.code, r.stderr)
		for _, want := range []string{
			"bad.yaml:3: mirrors[0].targetRepository: https://github.com/dotnet/runtime-copy is not an Azure Repos repository",
			"bad.yaml:5: mirrors[0].branches[0].pattern: bad regular expression",
			`bad.yaml:6: mirrors[0].branches[0].mode: mirror mode "mirror": use fastForward or internalMerge`,
		} {
			assert.Contains(t, r.stderr, want)
		}
		var none []maestro.Mirror
		e.okJSON(&none, "mirror", "list")
		assert.Empty(t, none, "nothing written")

		good := writeFile(t, dir, "good.yaml", `mirrors:
  - sourceRepository: https://github.com/dotnet/runtime
    branches:
      - pattern: main
      - pattern: release/\d+\.\d+
        mode: internalMerge
    pipeline: https://dev.azure.com/dnceng/internal/_build?definitionId=42
  - sourceRepository: https://github.com/dotnet/arcade
    targetRepository: https://dev.azure.com/dnceng/internal/_git/arcade-mirror
    branches:
      - pattern: .*
    pipeline: https://dev.azure.com/dnceng/internal/_build?definitionId=42
`)
		out := e.ok("config", "apply", good)
		assert.Contains(t, out, "+ mirror https://github.com/dotnet/runtime\n    targetRepository: https://dev.azure.com/dnceng/internal/_git/dotnet-runtime\n")
		var m maestro.Mirror
		e.okJSON(&m, "mirror", "show", "--source", "https://github.com/dotnet/runtime")
		assert.Equal(t, []maestro.MirrorBranch{{Pattern: "main", Mode: maestro.MirrorFastForward}, {Pattern: `release/\d+\.\d+`, Mode: maestro.MirrorInternalMerge}}, m.Branches)

		exported := e.ok("config", "export")
		assert.Contains(t, exported, "mirrors:\n  - sourceRepository: https://github.com/dotnet/arcade\n")
		other := newLocal(t)
		other.ok("config", "apply", writeFile(t, dir, "exported.yaml", exported))
		assert.Equal(t, exported, other.ok("config", "export"), "export → apply → export is the identity")
		assert.Contains(t, e.ok("config", "apply", good), "No changes")

		only := writeFile(t, dir, "only.yaml", strings.SplitN(string(mustRead(t, good)), "  - sourceRepository: https://github.com/dotnet/arcade", 2)[0])
		out = e.ok("config", "apply", only, "--prune")
		assert.Contains(t, out, "- mirror https://github.com/dotnet/arcade")
		var left []maestro.Mirror
		e.okJSON(&left, "mirror", "list")
		require.Len(t, left, 1)
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}
