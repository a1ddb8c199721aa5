package config_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/config"
	"github.com/maestroplusplus/maestro/internal/service/wire"
)

// TestNewPlanUnservedHosts: with Options.Hosts, a new subscription's target
// that no configured host serves and a new or changed update pipeline on an
// unconfigured host are problems of the file, reported with its others;
// subscriptions the registry already holds are not checked again.
func TestNewPlanUnservedHosts(t *testing.T) {
	reg := memRegistry(t)
	apply(t, reg, validateBase, config.Options{})
	file := validateBase + `  - channel: .NET 10
    sourceRepository: https://evil.example/a/b/_git/source
    targetRepository: https://evil.example/a/b/_git/c
    targetBranch: main
  - channel: .NET 10
    sourceRepository: https://github.com/dotnet/arcade
    targetRepository: https://github.com/dotnet/sdk
    targetBranch: main
    updateFrequency: hourly
    updatePipeline:
      url: https://evil.example/a/eng/_build?definitionId=7
`
	unconfigured := wire.Env{Getenv: func(string) string { return "" }}
	_, err := plan(t, reg, file, config.Options{Hosts: unconfigured})
	var ps config.Problems
	require.True(t, errors.As(err, &ps), "%v", err)
	var got []string
	for _, p := range ps {
		s := p.String()
		if i := strings.Index(s, "; "); i > 0 {
			s = s[:i]
		}
		got = append(got, s)
	}
	assert.Equal(t, []string{
		"maestro.yaml:20: subscriptions[2].targetRepository: repository https://evil.example/a/b/_git/c: no configured host serves it",
		`maestro.yaml:26: subscriptions[3].updateFrequency: unknown update frequency "hourly"`,
		"maestro.yaml:28: subscriptions[3].updatePipeline.url: Azure DevOps organization https://evil.example/a: not dev.azure.com/ORG, ORG.visualstudio.com or an Azure DevOps Server listed in MAESTRO_AZDO_SERVER_URLS",
	}, got)

	configured := wire.Env{Getenv: func(k string) string {
		if k == wire.EnvAzdoServerURLs {
			return "https://evil.example/a"
		}
		return ""
	}}
	apply(t, reg, strings.Replace(file, "hourly", "everyBuild", 1), config.Options{Hosts: configured})
	// Recorded, the subscriptions stay manageable without the setting.
	_, err = plan(t, reg, export(t, reg), config.Options{Hosts: unconfigured})
	assert.NoError(t, err)
}

// TestNewPlanMirrorHosts: with Options.Hosts, a new mirror whose target is
// not Azure Repos on a configured host, or whose pipeline lies in an
// unconfigured organization, is a problem of the file; a recorded mirror
// stays manageable once its host left the configuration, until its target
// or pipeline organization changes.
func TestNewPlanMirrorHosts(t *testing.T) {
	reg := memRegistry(t)
	const file = `mirrors:
  - sourceRepository: https://github.com/dotnet/runtime
    targetRepository: TARGET
    branches:
      - pattern: main
    pipeline: https://tfs.contoso.com/Coll/internal/_build?definitionId=42
`
	unconfigured := wire.Env{Getenv: func(string) string { return "" }}
	configured := wire.Env{Getenv: func(k string) string {
		if k == wire.EnvAzdoServerURLs {
			return "https://tfs.contoso.com/Coll"
		}
		return ""
	}}
	problems := func(err error) []string {
		var ps config.Problems
		require.True(t, errors.As(err, &ps), "%v", err)
		var got []string
		for _, p := range ps {
			s := p.String()
			if i := strings.Index(s, "; "); i > 0 {
				s = s[:i]
			}
			got = append(got, s)
		}
		return got
	}
	_, err := plan(t, reg, strings.Replace(file, "TARGET", "https://github.com/dotnet/runtime-copy", 1), config.Options{Hosts: configured})
	assert.Equal(t, []string{"maestro.yaml:3: mirrors[0].targetRepository: https://github.com/dotnet/runtime-copy is not an Azure Repos repository (https://dev.azure.com/ORG/PROJECT/_git/REPO, or on a server in MAESTRO_AZDO_SERVER_URLS)"}, problems(err))
	good := strings.Replace(file, "TARGET", "https://tfs.contoso.com/Coll/internal/_git/dotnet-runtime", 1)
	_, err = plan(t, reg, good, config.Options{Hosts: unconfigured})
	assert.Equal(t, []string{
		"maestro.yaml:3: mirrors[0].targetRepository: repository https://tfs.contoso.com/Coll/internal/_git/dotnet-runtime: no configured host serves it",
		"maestro.yaml:6: mirrors[0].pipeline: Azure DevOps organization https://tfs.contoso.com/Coll: not dev.azure.com/ORG, ORG.visualstudio.com or an Azure DevOps Server listed in MAESTRO_AZDO_SERVER_URLS",
	}, problems(err))

	apply(t, reg, good, config.Options{Hosts: configured})
	changed := strings.Replace(good, "pattern: main", "pattern: main|release/.*", 1)
	apply(t, reg, changed, config.Options{Hosts: unconfigured})
	m, err := reg.Mirror(context.Background(), "https://github.com/dotnet/runtime")
	require.NoError(t, err)
	assert.Equal(t, "main|release/.*", m.Branches[0].Pattern, "a recorded mirror stays manageable")
	moved := strings.Replace(changed, "_git/dotnet-runtime", "_git/runtime", 1)
	_, err = plan(t, reg, moved, config.Options{Hosts: unconfigured})
	assert.Equal(t, []string{"maestro.yaml:3: mirrors[0].targetRepository: repository https://tfs.contoso.com/Coll/internal/_git/runtime: no configured host serves it"}, problems(err))
}
