package legacy_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/config"
	"github.com/maestroplusplus/maestro/internal/legacy"
)

const peakMapping = `buildInfo:
  - path: coreclr/master
    sourceRepository: https://github.com/dotnet/coreclr
    channel: .NET Core 3.0 Dev
  - path: buildtools/master
    sourceRepository: https://github.com/dotnet/buildtools
    channel: .NET Tools
  - path: corefx/master
    sourceRepository: https://github.com/dotnet/corefx
    channel: .NET Core 3.0 Dev
actions:
  - action: coreclr-general
    targetRepository: https://github.com/dotnet/coreclr
  - action: corefx-general
    targetRepository: https://github.com/dotnet/corefx
    targetBranch: master
`

func TestImportPeakFile(t *testing.T) {
	f, err := legacy.Parse("peak.json", fixture(t, "subscriptions.2019-11-22.peak88.json"))
	require.NoError(t, err)
	m, err := legacy.ParseMapping("map.yaml", []byte(peakMapping))
	require.NoError(t, err)
	subs, unmapped := legacy.Import(f, m)
	pipeline := func(id string) *config.UpdatePipeline {
		return &config.UpdatePipeline{URL: "https://dev.azure.com/devdiv/DevDiv/_build?definitionId=" + id, Classic: true}
	}
	assert.Equal(t, []config.Subscription{
		{Channel: ".NET Core 3.0 Dev", SourceRepository: "https://github.com/dotnet/coreclr", TargetRepository: "https://github.com/dotnet/coreclr", TargetBranch: "master", UpdateFrequency: "everyBuild", UpdatePipeline: pipeline("2249")},
		{Channel: ".NET Tools", SourceRepository: "https://github.com/dotnet/buildtools", TargetRepository: "https://github.com/dotnet/coreclr", TargetBranch: "master", UpdateFrequency: "everyBuild", UpdatePipeline: pipeline("2249")},
		{Channel: ".NET Core 3.0 Dev", SourceRepository: "https://github.com/dotnet/corefx", TargetRepository: "https://github.com/dotnet/corefx", TargetBranch: "master", UpdateFrequency: "everyBuild", UpdatePipeline: pipeline("1084")},
		{Channel: ".NET Core 3.0 Dev", SourceRepository: "https://github.com/dotnet/coreclr", TargetRepository: "https://github.com/dotnet/corefx", TargetBranch: "master", UpdateFrequency: "everyBuild", UpdatePipeline: pipeline("1084")},
		{Channel: ".NET Tools", SourceRepository: "https://github.com/dotnet/buildtools", TargetRepository: "https://github.com/dotnet/corefx", TargetBranch: "master", UpdateFrequency: "everyBuild", UpdatePipeline: pipeline("1084")},
	}, subs[:5])
	var reasons []string
	for _, u := range unmapped {
		reasons = append(reasons, u.String())
	}
	all := strings.Join(reasons, "\n")
	assert.Contains(t, all, "subscriptions[1] trigger https://github.com/dotnet/versions/blob/master/build-info/dotnet/projectk-tfs/release/1.0.0/Latest.txt: build-info folder projectk-tfs/release/1.0.0 is not mapped; add buildInfo {path: projectk-tfs/release/1.0.0, sourceRepository, channel} to the mapping")
	assert.Contains(t, all, "trigger https://github.com/dotnet/cli/blob/release/**/*: not a build-info file")
	assert.Contains(t, all, "is not mapped; add actions {action: ")
}

func TestParseMappingProblems(t *testing.T) {
	_, err := legacy.ParseMapping("m.yaml", []byte("buildInfo:\n  - path: a/b\n    sourceRepository: https://github.com/o/r\n    chanel: x\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "m.yaml: yaml: unmarshal errors:\n  line 4: field chanel not found")
	_, err = legacy.ParseMapping("m.yaml", []byte("buildInfo:\n  - path: a/b\n    sourceRepository: https://github.com/o/r\n    channel: x\n  - path: a/b/\n    sourceRepository: s\n    channel: y\nactions:\n  - action: x\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "m.yaml:5: buildInfo[1]: path a/b is mapped twice (first on line 2)")
	assert.Contains(t, err.Error(), "m.yaml:9: actions[0]: give action and targetRepository")
}

// FuzzParseMapping: ParseMapping never panics; what it accepts has every
// required field.
func FuzzParseMapping(f *testing.F) {
	f.Add([]byte(peakMapping))
	f.Add([]byte("buildInfo:\n  - path: a\nactions: []\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := legacy.ParseMapping("m.yaml", data)
		if err != nil {
			return
		}
		for _, b := range m.BuildInfo {
			assert.True(t, b.Path != "" && b.SourceRepository != "" && b.Channel != "")
		}
		for _, a := range m.Actions {
			assert.True(t, a.Action != "" && a.TargetRepository != "")
		}
	})
}
