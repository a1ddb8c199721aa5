package mirror_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/mirror"
)

func TestDefaultTarget(t *testing.T) {
	p := maestro.UpdatePipeline{Organization: "https://dev.azure.com/dnceng", Project: "internal", PipelineID: 7}
	for source, want := range map[string]string{
		"https://github.com/dotnet/runtime":      "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime",
		"https://github.com/dotnet/runtime.git/": "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime",
		"https://github.com/DotNet/Runtime.git":  "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime",
		"https://ghe.contoso.com/Contoso/App":    "https://dev.azure.com/dnceng/internal/_git/Contoso-App",
	} {
		got, err := mirror.DefaultTarget(source, p)
		require.NoError(t, err, source)
		assert.Equal(t, want, got, source)
	}
	got, err := mirror.DefaultTarget("https://github.com/dotnet/runtime", maestro.UpdatePipeline{Organization: "https://dev.azure.com/dnceng/", Project: "my project"})
	require.NoError(t, err)
	assert.Equal(t, "https://dev.azure.com/dnceng/my%20project/_git/dotnet-runtime", got)
	for _, bad := range []string{"https://github.com/dotnet", "runtime", ""} {
		_, err := mirror.DefaultTarget(bad, p)
		assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err), bad)
	}
	_, err = mirror.DefaultTarget("https://github.com/dotnet/runtime", maestro.UpdatePipeline{})
	assert.ErrorContains(t, err, "name the target")
}

func TestParseBranch(t *testing.T) {
	for in, want := range map[string]maestro.MirrorBranch{
		"main":                           {Pattern: "main", Mode: maestro.MirrorFastForward},
		"main=internalMerge":             {Pattern: "main", Mode: maestro.MirrorInternalMerge},
		`release/\d+(?:=x)?=fastForward`: {Pattern: `release/\d+(?:=x)?`, Mode: maestro.MirrorFastForward},
	} {
		got, err := mirror.ParseBranch(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := mirror.ParseBranch("main=force")
	assert.ErrorContains(t, err, `branch "main=force": mirror mode "force": use fastForward or internalMerge`)
}
