package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/config"
)

func TestParseExample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "example.yaml"))
	require.NoError(t, err)
	f, err := config.Parse("example.yaml", data)
	require.NoError(t, err)
	assert.Equal(t, "example.yaml", f.Name())
	require.Len(t, f.Channels, 2)
	assert.Equal(t, config.Channel{Name: ".NET 10", Classification: "product"}, f.Channels[0])
	require.Len(t, f.DefaultChannels, 2)
	assert.Nil(t, f.DefaultChannels[0].Enabled, "enabled left out")
	require.NotNil(t, f.DefaultChannels[1].Enabled)
	assert.False(t, *f.DefaultChannels[1].Enabled)
	assert.Equal(t, `-regex:^release/10\.0(\.\d+xx)?$`, f.DefaultChannels[1].Branch)
	require.Len(t, f.Subscriptions, 3)
	assert.Equal(t, "5b0b0bd6-69f6-4a3a-b5d2-1f0b0fb7a001", f.Subscriptions[1].ID)
	assert.True(t, f.Subscriptions[1].Batchable)
	assert.Equal(t, "@dotnet/runtime-infra", f.Subscriptions[1].FailureNotificationTags)
	assert.Equal(t, []config.MergePolicy{
		{Name: "AllChecksSuccessful", Properties: map[string]any{"ignoreChecks": []any{"license/cla", "WIP"}}},
		{Name: "NoRequestedChanges"},
	}, f.Subscriptions[2].MergePolicies)
	require.Len(t, f.RepositoryPolicies, 1)
	assert.True(t, *f.RepositoryPolicies[0].AutoMerge)
	assert.Equal(t, "native", f.RepositoryPolicies[0].MergeMethod)
}

func TestParseEmpty(t *testing.T) {
	for name, text := range map[string]string{"empty": "", "comment": "# nothing yet\n", "null": "---\n", "empty mapping": "{}\n"} {
		t.Run(name, func(t *testing.T) {
			f, err := config.Parse("c.yaml", []byte(text))
			require.NoError(t, err)
			assert.Empty(t, f.Channels)
			assert.Empty(t, f.Subscriptions)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{
			name: "unknown top-level key",
			text: "channels: []\nchanel:\n  - name: x\n",
			want: []string{"c.yaml:2: chanel: unknown key; the top level takes channels, defaultChannels, subscriptions, repositoryPolicies, mirrors, publishTriggers"},
		},
		{
			name: "unknown subscription keys, all reported",
			text: `subscriptions:
  - channel: .NET 10
    sourceRepository: https://github.com/dotnet/arcade
    frequency: everyDay
    targetRepository: https://github.com/dotnet/runtime
    policy:
      batchable: true
`,
			want: []string{
				"c.yaml:2: subscriptions[0].targetBranch: is required",
				"c.yaml:4: subscriptions[0].frequency: unknown key; subscriptions[0] takes id, channel, sourceRepository, targetRepository, targetBranch, sourceDirectory, targetDirectory, enabled, updateFrequency, batchable, mergePolicies, excludedAssets, failureNotificationTags, updatePipeline, speculative",
				"c.yaml:6: subscriptions[0].policy: unknown key; subscriptions[0] takes id, channel, sourceRepository, targetRepository, targetBranch, sourceDirectory, targetDirectory, enabled, updateFrequency, batchable, mergePolicies, excludedAssets, failureNotificationTags, updatePipeline, speculative",
			},
		},
		{
			name: "unknown merge policy key",
			text: "repositoryPolicies:\n  - repository: https://github.com/dotnet/runtime\n    branch: main\n    mergePolicies:\n      - name: AllChecksSuccessful\n        ignoreChecks: [x]\n",
			want: []string{"c.yaml:6: repositoryPolicies[0].mergePolicies[0].ignoreChecks: unknown key; repositoryPolicies[0].mergePolicies[0] takes name, properties"},
		},
		{
			name: "production-style key spelling",
			text: "defaultChannels:\n  - Repository: https://github.com/dotnet/arcade\n",
			want: []string{
				"c.yaml:2: defaultChannels[0].Repository: unknown key; defaultChannels[0] takes repository, branch, channel, enabled",
				"c.yaml:2: defaultChannels[0].repository: repository URL is empty",
				"c.yaml:2: defaultChannels[0].branch: is required",
				"c.yaml:2: defaultChannels[0].channel: is required",
			},
		},
		{
			name: "unknown key and bad updateFrequency, both reported",
			text: `subscriptions:
  - channel: .NET 10
    sourceRepository: https://github.com/dotnet/arcade
    targetRepository: https://github.com/dotnet/runtime
    targetBranch: main
    updateFrequency: hourly
    colour: blue
`,
			want: []string{
				"c.yaml:6: subscriptions[0].updateFrequency: unknown update frequency \"hourly\"; valid ones: none, everyBuild, twiceDaily, everyDay, everyWeek, everyTwoWeeks, everyMonth",
				"c.yaml:7: subscriptions[0].colour: unknown key; subscriptions[0] takes id, channel, sourceRepository, targetRepository, targetBranch, sourceDirectory, targetDirectory, enabled, updateFrequency, batchable, mergePolicies, excludedAssets, failureNotificationTags, updatePipeline, speculative",
			},
		},
		{
			name: "section is not a list",
			text: "channels:\n  name: .NET 10\n",
			want: []string{"c.yaml:2: channels: must be a list"},
		},
		{
			name: "entry is not a mapping",
			text: "channels:\n  - .NET 10\n",
			want: []string{"c.yaml:2: channels[0]: channels[0] must be a mapping with the keys name, classification"},
		},
		{
			name: "top level is a list",
			text: "- name: .NET 10\n",
			want: []string{"c.yaml:1: the top level must be a mapping with the keys channels, defaultChannels, subscriptions, repositoryPolicies, mirrors, publishTriggers"},
		},
		{
			name: "merge method not a string",
			text: "repositoryPolicies:\n  - repository: https://github.com/dotnet/runtime\n    branch: main\n    mergeMethod: [squash]\n",
			want: []string{"c.yaml:4: cannot unmarshal !!seq into string"},
		},
		{
			name: "unknown key and unknown merge method, both reported",
			text: "repositoryPolicies:\n  - repository: https://github.com/dotnet/runtime\n    branch: main\n    mergeMethod: merge\n    colour: blue\n",
			want: []string{
				`c.yaml:4: repositoryPolicies[0].mergeMethod: unknown merge method "merge"; valid ones: squash, native`,
				"c.yaml:5: repositoryPolicies[0].colour: unknown key; repositoryPolicies[0] takes repository, branch, autoMerge, mergeMethod, mergePolicies, maxOpenPullRequests, maxNewPullRequestsPerHour, checkCommand, checkTimeout, buildCommand, testCommand",
			},
		},
		{
			name: "wrong scalar type",
			text: "subscriptions:\n  - channel: c\n    batchable: sometimes\n",
			want: []string{"c.yaml:3: cannot unmarshal !!str `sometimes` into bool"},
		},
		{
			name: "duplicate key",
			text: "channels:\n  - name: a\n    name: b\n",
			want: []string{`c.yaml:3: mapping key "name" already defined at line 2`},
		},
		{
			name: "syntax error",
			text: "channels:\n  - name: .NET 10\n    classification: product\n      extra: x\n",
			want: []string{"c.yaml:4: mapping values are not allowed in this context"},
		},
		{
			name: "tab indentation",
			text: "channels:\n\t- name: a\n",
			want: []string{"c.yaml:2: found character that cannot start any token"},
		},
		{
			name: "two documents",
			text: "channels: []\n---\nsubscriptions: []\n",
			want: []string{`c.yaml:2: a second YAML document; a configuration file holds one (remove the "---" line)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := config.Parse("c.yaml", []byte(tt.text))
			require.Error(t, err)
			assert.Nil(t, f)
			var ps config.Problems
			require.True(t, errors.As(err, &ps), "error %T is not config.Problems", err)
			got := make([]string, len(ps))
			for i, p := range ps {
				got[i] = p.String()
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseAliases(t *testing.T) {
	t.Run("merge keys", func(t *testing.T) {
		f, err := config.Parse("c.yaml", []byte("channels:\n  - &c {name: a, classification: product}\n  - <<: *c\n    name: b\n"))
		require.NoError(t, err)
		assert.Equal(t, []config.Channel{{Name: "a", Classification: "product"}, {Name: "b", Classification: "product"}}, f.Channels)
	})
	t.Run("unknown key through an alias", func(t *testing.T) {
		_, err := config.Parse("c.yaml", []byte("subscriptions:\n  - &s {channel: a, colour: red}\ndefaultChannels:\n  - *s\n"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "c.yaml:2: subscriptions[0].colour: unknown key")
	})
	t.Run("merge-key bomb", func(t *testing.T) {
		// Each entry merges the one before ten times: 10^12 expansions if followed.
		text := "channels:\n  - &a {name: x}\n"
		prev := "a"
		for _, name := range strings.Split("bcdefghijklm", "") {
			text += "  - &" + name + " {<<: [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]}\n"
			prev = name
		}
		_, err := config.Parse("c.yaml", []byte(text))
		assert.EqualError(t, err, "c.yaml: document contains excessive aliasing")
	})
}
