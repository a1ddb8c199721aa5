package config_test

import (
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
