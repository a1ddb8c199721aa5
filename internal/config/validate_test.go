package config_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/config"
)

// validateBase is the registry the validation cases run against.
const validateBase = `
channels:
  - name: .NET 10
    classification: product
  - name: .NET 9
subscriptions:
  - id: 00000000-0000-4000-8000-0000000000aa
    channel: .NET 10
    sourceRepository: https://github.com/dotnet/arcade
    targetRepository: https://github.com/dotnet/runtime
    targetBranch: main
  - id: 00000000-0000-4000-8000-0000000000bb
    channel: .NET 10
    sourceRepository: https://github.com/dotnet/runtime
    targetRepository: https://github.com/dotnet/aspnetcore
    targetBranch: main
    batchable: true
`

func TestNewPlanProblems(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		prune bool
		want  []string
	}{
		{
			name: "unknown channel",
			file: `subscriptions:
  - channel: .NET 11
    sourceRepository: https://github.com/dotnet/arcade
    targetRepository: https://github.com/dotnet/sdk
    targetBranch: main
defaultChannels:
  - repository: https://github.com/dotnet/sdk
    branch: main
    channel: .NET 11
`,
			want: []string{
				`maestro.yaml:2: subscriptions[0].channel: unknown channel ".NET 11": it is neither under channels in this file nor in the registry; add it under channels`,
				`maestro.yaml:9: defaultChannels[0].channel: unknown channel ".NET 11": it is neither under channels in this file nor in the registry; add it under channels`,
			},
		},
		{
			name:  "registry-only channel while pruning",
			prune: true,
			file: `defaultChannels:
  - repository: https://github.com/dotnet/sdk
    branch: main
    channel: .net 9
`,
			want: []string{`maestro.yaml:4: defaultChannels[0].channel: channel ".net 9" is not under channels in this file, so pruning would delete it; add it under channels`},
		},
		{
			name: "unknown update frequency",
			file: `subscriptions:
  - channel: .NET 10
    sourceRepository: https://github.com/dotnet/arcade
    targetRepository: https://github.com/dotnet/sdk
    targetBranch: main
    updateFrequency: daily
`,
			want: []string{`maestro.yaml:6: subscriptions[0].updateFrequency: unknown update frequency "daily"; valid ones: none, everyBuild, twiceDaily, everyDay, everyWeek, everyTwoWeeks, everyMonth`},
		},
		{
			name: "unknown merge policy",
			file: `repositoryPolicies:
  - repository: https://github.com/dotnet/sdk
    branch: main
    mergePolicies:
      - name: Standard
      - name: AllChecksGreen
`,
			want: []string{`maestro.yaml:6: repositoryPolicies[0].mergePolicies[1].name: unknown merge policy "AllChecksGreen"; valid ones: AllChecksSuccessful, NoRequestedChanges, DontAutomergeDowngrades, ValidateCoherency, NoExtraCommits, NoNewerUpdateMerged, VersionDetailsProps, Standard, SpeculativeParentsMerged`},
		},
		{
			name: "unknown merge methods",
			file: `repositoryPolicies:
  - repository: https://github.com/dotnet/sdk
    branch: main
    autoMerge: false
    mergeMethod: native
  - repository: https://github.com/dotnet/sdk
    branch: release/10.0
    mergeMethod: rebase
  - repository: https://github.com/dotnet/sdk
    branch: release/9.0
    mergeMethod: Native
`,
			want: []string{
				`maestro.yaml:8: repositoryPolicies[1].mergeMethod: unknown merge method "rebase"; valid ones: squash, native`,
				`maestro.yaml:11: repositoryPolicies[2].mergeMethod: unknown merge method "Native"; valid ones: squash, native`,
			},
		},
		{
			name: "negative caps",
			file: `repositoryPolicies:
  - repository: https://github.com/dotnet/sdk
    branch: main
    maxOpenPullRequests: -1
    maxNewPullRequestsPerHour: -2
`,
			want: []string{
				`maestro.yaml:4: repositoryPolicies[0].maxOpenPullRequests: maxOpenPullRequests is -1; use 0 (no cap) or more`,
				`maestro.yaml:5: repositoryPolicies[0].maxNewPullRequestsPerHour: maxNewPullRequestsPerHour is -2; use 0 (no cap) or more`,
			},
		},
		{
			name: "Standard beside a policy it contains, and a policy twice",
			file: `subscriptions:
  - channel: .NET 10
    sourceRepository: https://github.com/dotnet/arcade
    targetRepository: https://github.com/dotnet/sdk
    targetBranch: main
    mergePolicies:
      - name: NoExtraCommits
      - name: Standard
      - name: NoExtraCommits
      - name: AllChecksSuccessful
        properties: {ignoreChecks: [license/cla]}
`,
			want: []string{
				`maestro.yaml:9: subscriptions[0].mergePolicies[2].name: merge policy NoExtraCommits is listed twice`,
				`maestro.yaml:10: subscriptions[0].mergePolicies[3].name: Standard already contains AllChecksSuccessful; list one or the other`,
			},
		},
		{
			name: "batchable with merge policies",
			file: `subscriptions:
  - channel: .NET 10
    sourceRepository: https://github.com/dotnet/arcade
    targetRepository: https://github.com/dotnet/sdk
    targetBranch: main
    batchable: true
    mergePolicies:
      - name: Standard
`,
			want: []string{`maestro.yaml:7: subscriptions[0].mergePolicies: a batchable subscription takes no merge policies of its own; list them under repositoryPolicies for https://github.com/dotnet/sdk@main instead`},
		},
		{
			name: "speculative with an update pipeline",
			file: `subscriptions:
  - channel: .NET 10
    sourceRepository: https://github.com/dotnet/arcade
    targetRepository: https://github.com/dotnet/sdk
    targetBranch: main
    speculative: true
    updatePipeline:
      url: https://dev.azure.com/dnceng/internal/_build?definitionId=7
`,
			want: []string{`maestro.yaml:6: subscriptions[0].speculative: a subscription with an update pipeline cannot take speculative builds (their pull requests are opened by the flow itself); drop speculative or the update pipeline`},
		},
		{
			name: "target repository and branch of an existing id",
			file: `subscriptions:
  - id: 00000000-0000-4000-8000-0000000000aa
    channel: .NET 10
    sourceRepository: https://github.com/dotnet/arcade
    targetRepository: https://github.com/dotnet/sdk
    targetBranch: release/10.0
`,
			want: []string{
				`maestro.yaml:5: subscriptions[0].targetRepository: subscription 00000000-0000-4000-8000-0000000000aa targets https://github.com/dotnet/runtime in the registry; the target repository cannot change after creation (leave id out to create a new subscription)`,
				`maestro.yaml:6: subscriptions[0].targetBranch: subscription 00000000-0000-4000-8000-0000000000aa targets branch main in the registry; the target branch cannot change after creation (leave id out to create a new subscription)`,
			},
		},
		{
			name: "batchable of an existing id",
			file: `subscriptions:
  - id: 00000000-0000-4000-8000-0000000000bb
    channel: .NET 10
    sourceRepository: https://github.com/dotnet/runtime
    targetRepository: https://github.com/dotnet/aspnetcore
    targetBranch: main
`,
			want: []string{`maestro.yaml:2: subscriptions[0].batchable: subscription 00000000-0000-4000-8000-0000000000bb has batchable: true in the registry; batchable cannot change after creation (leave id out to create a new subscription)`},
		},
		{
			name: "batchable of a subscription matched without id",
			file: `subscriptions:
  - channel: .NET 10
    sourceRepository: https://github.com/dotnet/arcade.git
    targetRepository: https://github.com/DotNet/Runtime
    targetBranch: refs/heads/main
    batchable: true
`,
			want: []string{`maestro.yaml:6: subscriptions[0].batchable: subscription 00000000-0000-4000-8000-0000000000aa has batchable: false in the registry; batchable cannot change after creation (leave id out to create a new subscription)`},
		},
		{
			name: "duplicates within the file",
			file: `channels:
  - name: .NET 11
  - name: .net 11
defaultChannels:
  - repository: https://github.com/dotnet/sdk
    branch: main
    channel: .NET 11
  - repository: https://github.com/dotnet/sdk.git
    branch: refs/heads/main
    channel: .NET 11
subscriptions:
  - id: 00000000-0000-4000-8000-0000000000cc
    channel: .NET 11
    sourceRepository: https://github.com/dotnet/arcade
    targetRepository: https://github.com/dotnet/sdk
    targetBranch: main
  - id: 00000000-0000-4000-8000-0000000000cc
    channel: .NET 11
    sourceRepository: https://github.com/dotnet/runtime
    targetRepository: https://github.com/dotnet/sdk
    targetBranch: main
  - channel: .net 11
    sourceRepository: https://github.com/dotnet/arcade/
    targetRepository: https://github.com/dotnet/sdk
    targetBranch: main
repositoryPolicies:
  - repository: https://github.com/dotnet/sdk
    branch: main
  - repository: https://github.com/dotnet/SDK
    branch: refs/heads/main
`,
			want: []string{
				`maestro.yaml:3: channels[1].name: channel ".net 11" is listed twice (first at line 2)`,
				`maestro.yaml:8: defaultChannels[1]: default channel https://github.com/dotnet/sdk.git@main → ".NET 11" is listed twice (first at line 5)`,
				`maestro.yaml:17: subscriptions[1].id: subscription 00000000-0000-4000-8000-0000000000cc is listed twice (first at line 12)`,
				`maestro.yaml:22: subscriptions[2]: same channel, source, target, target branch and directories as the subscription at line 12`,
				`maestro.yaml:29: repositoryPolicies[1]: repository policy https://github.com/dotnet/SDK@main is listed twice (first at line 27)`,
			},
		},
		{
			name: "required fields and bad values",
			file: `channels:
  - classification: product
defaultChannels:
  - repository: github.com/dotnet/sdk
    branch: -regex:release/(10
subscriptions:
  - id: a/b
    sourceRepository: ""
    targetRepository: https://github.com/
    excludedAssets: [Microsoft.*, " "]
repositoryPolicies:
  - repository: https://github.com/dotnet/sdk
`,
			want: []string{
				`maestro.yaml:2: channels[0].name: is required`,
				`maestro.yaml:4: defaultChannels[0].repository: repository URL "github.com/dotnet/sdk": use https://host/owner/repo, a file:// URL or an absolute path`,
				`maestro.yaml:4: defaultChannels[0].channel: is required`,
				"maestro.yaml:5: defaultChannels[0].branch: bad regular expression: error parsing regexp: missing closing ): `release/(10`",
				`maestro.yaml:7: subscriptions[0].id: "a/b" is not a subscription id; use the id the registry gave (a GUID), or leave id out for a new subscription`,
				`maestro.yaml:7: subscriptions[0].channel: is required`,
				`maestro.yaml:7: subscriptions[0].targetBranch: is required`,
				`maestro.yaml:8: subscriptions[0].sourceRepository: repository URL is empty`,
				`maestro.yaml:9: subscriptions[0].targetRepository: repository URL "https://github.com/": needs a host and a path, like https://github.com/dotnet/arcade`,
				`maestro.yaml:10: subscriptions[0].excludedAssets[1]: excluded asset pattern is empty`,
				`maestro.yaml:12: repositoryPolicies[0].branch: is required`,
			},
		},
		{
			name: "names, URLs and branches the registry refuses",
			file: `channels:
  - name: "two\nlines"
    classification: "a\tb"
defaultChannels:
  - repository: /src/my repo
    branch: .hidden
    channel: .NET 10
  - repository: /src/app
    branch: "-regex:\x1b"
    channel: .NET 10
subscriptions:
  - channel: .NET 10
    sourceRepository: https://github.com/dotnet/arcade
    targetRepository: https://github.com/dotnet/sdk
    targetBranch: release..10
repositoryPolicies:
  - repository: https://github.com/dotnet/sdk
    branch: main.lock
`,
			want: []string{
				`maestro.yaml:2: channels[0].name: channel name "two\nlines": contains a control character`,
				`maestro.yaml:3: channels[0].classification: classification "a\tb": contains a control character`,
				`maestro.yaml:5: defaultChannels[0].repository: repository URL "/src/my repo": a URL has no spaces or control characters`,
				`maestro.yaml:6: defaultChannels[0].branch: branch ".hidden": not a valid git branch name (see git check-ref-format)`,
				`maestro.yaml:9: defaultChannels[1].branch: branch "\x1b": contains a control character`,
				`maestro.yaml:15: subscriptions[0].targetBranch: branch "release..10": not a valid git branch name (see git check-ref-format)`,
				`maestro.yaml:18: repositoryPolicies[0].branch: branch "main.lock": not a valid git branch name (see git check-ref-format)`,
			},
		},
		{
			name: "classification cannot change",
			file: `channels:
  - name: .NET 10
    classification: dev
  - name: .NET 9
`,
			want: []string{`maestro.yaml:3: channels[0].classification: channel ".NET 10" has classification "product" in the registry, which cannot be changed; write "product" here, or delete the channel and create it again`},
		},
		{
			name: "new id duplicating a registry subscription",
			file: `subscriptions:
  - id: 00000000-0000-4000-8000-0000000000dd
    channel: .NET 10
    sourceRepository: https://github.com/dotnet/arcade
    targetRepository: https://github.com/dotnet/runtime
    targetBranch: main
`,
			want: []string{`maestro.yaml:2: subscriptions[0].id: subscription 00000000-0000-4000-8000-0000000000aa in the registry already flows this channel, source, target, branch and directories; write id: 00000000-0000-4000-8000-0000000000aa here to manage it, or delete it first`},
		},
		{
			name: "new sources for listed subscriptions",
			file: `subscriptions:
  - id: 00000000-0000-4000-8000-0000000000aa
    channel: .NET 10
    sourceRepository: https://github.com/dotnet/runtime
    targetRepository: https://github.com/dotnet/runtime
    targetBranch: main
  - id: 00000000-0000-4000-8000-0000000000bb
    channel: .NET 10
    sourceRepository: https://github.com/dotnet/arcade
    targetRepository: https://github.com/dotnet/aspnetcore
    targetBranch: main
    batchable: true
`,
		},
		{
			name: "merge policy properties that are not JSON",
			file: `repositoryPolicies:
  - repository: https://github.com/dotnet/sdk
    branch: main
    mergePolicies:
      - name: AllChecksSuccessful
        properties:
          ignoreChecks: {1: license/cla}
`,
			want: []string{`maestro.yaml:6: repositoryPolicies[0].mergePolicies[0].properties: must hold plain values (strings, numbers, booleans, lists, mappings with string keys): json: unsupported type: map[interface {}]interface {}`},
		},
		{
			name: "mirrors",
			file: `mirrors:
  - sourceRepository: https://github.com/dotnet/runtime
    branches:
      - pattern: release/(
      - pattern: main
        mode: mirror
      - mode: fastForward
    pipeline: https://dev.azure.com/dnceng/internal/_build?definitionId=42
  - sourceRepository: https://github.com/DotNet/Runtime.git
    branches: []
    pipeline: https://dev.azure.com/dnceng/internal/_build
  - sourceRepository: https://github.com/dotnet
    branches:
      - pattern: main
    pipeline: https://dev.azure.com/dnceng/internal/_build?definitionId=42
  - sourceRepository: https://github.com/dotnet/sdk
    targetRepository: https://u:secret@dev.azure.com/dnceng/internal/_git/sdk
    branches:
      - pattern: main
  - sourceRepository: https://github.com/dotnet/wpf
    branches:
      - pattern: "main\x01"
    pipeline: https://dev.azure.com/dnceng/internal/_build?definitionId=42
`,
			want: []string{
				"maestro.yaml:4: mirrors[0].branches[0].pattern: bad regular expression: error parsing regexp: missing closing ): `^(?:release/()$`",
				`maestro.yaml:6: mirrors[0].branches[1].mode: mirror mode "mirror": use fastForward or internalMerge`,
				"maestro.yaml:7: mirrors[0].branches[2].pattern: is required",
				"maestro.yaml:9: mirrors[1].sourceRepository: mirror of https://github.com/DotNet/Runtime.git is listed twice (first at line 2)",
				"maestro.yaml:10: mirrors[1].branches: name at least one branch pattern",
				`maestro.yaml:11: mirrors[1].pipeline: pipeline URL "https://dev.azure.com/dnceng/internal/_build": use https://dev.azure.com/ORG/PROJECT/_build?definitionId=ID`,
				"maestro.yaml:12: mirrors[2].targetRepository: is required: it cannot be derived from sourceRepository (OWNER/REPO); name the Azure Repos repository",
				"maestro.yaml:16: mirrors[3].pipeline: is required",
				`maestro.yaml:17: mirrors[3].targetRepository: repository URL "https://REDACTED@dev.azure.com/dnceng/internal/_git/sdk": remove the user name and password; credentials come from the environment (GITHUB_TOKEN, MAESTRO_AZDO_TOKEN)`,
				`maestro.yaml:20: mirrors[4]: mirror https://github.com/dotnet/wpf: branches[0].pattern "main\x01": contains a control character`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := memRegistry(t)
			apply(t, reg, validateBase, config.Options{})
			before := export(t, reg)
			_, err := plan(t, reg, tt.file, config.Options{Prune: tt.prune})
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			var ps config.Problems
			require.True(t, errors.As(err, &ps), "error %T is not config.Problems", err)
			got := make([]string, len(ps))
			for i, p := range ps {
				got[i] = p.String()
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, before, export(t, reg), "a rejected file changed the registry")
		})
	}
}

func TestNewPlanDuplicateAfterChange(t *testing.T) {
	reg := memRegistry(t)
	apply(t, reg, validateBase, config.Options{})
	_, err := plan(t, reg, `subscriptions:
  - id: 00000000-0000-4000-8000-0000000000bb
    channel: .NET 10
    sourceRepository: https://github.com/dotnet/arcade
    targetRepository: https://github.com/dotnet/aspnetcore
    targetBranch: main
    batchable: true
  - id: 00000000-0000-4000-8000-0000000000aa
    channel: .NET 10
    sourceRepository: https://github.com/dotnet/arcade
    targetRepository: https://github.com/dotnet/runtime
    targetBranch: main
`, config.Options{})
	require.NoError(t, err, "listing both subscriptions is fine")

	// Registry: aa flows arcade → runtime; cc flows dotnet/sdk → runtime.
	// Moving cc's source to arcade would duplicate aa, which the file does not list.
	_, err = reg.AddSubscription(context.Background(), mustSub(t, reg, "00000000-0000-4000-8000-0000000000cc", "https://github.com/dotnet/sdk"))
	require.NoError(t, err)
	_, err = plan(t, reg, `subscriptions:
  - id: 00000000-0000-4000-8000-0000000000cc
    channel: .NET 10
    sourceRepository: https://github.com/dotnet/arcade
    targetRepository: https://github.com/dotnet/runtime
    targetBranch: main
`, config.Options{})
	assert.EqualError(t, err, `maestro.yaml:2: subscriptions[0]: this change would make subscription 00000000-0000-4000-8000-0000000000cc flow the same channel, source, target, branch and directories as subscription 00000000-0000-4000-8000-0000000000aa, which this file does not list; delete that one first`)
}
