package azdo_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// TestPullRequestOf reads the pull request of a pull request build: a
// GitHub pull request build as dnceng-public's Builds API answers it
// (testdata/github-pr-build.json, links and identities left out), and an
// Azure Repos one, whose triggerInfo has only pr.number and pr.isFork;
// a build that lacks what is needed is refused, naming the field.
func TestPullRequestOf(t *testing.T) {
	data, err := os.ReadFile("testdata/github-pr-build.json")
	require.NoError(t, err)
	var gh build.Build
	require.NoError(t, json.Unmarshal(data, &gh))
	require.True(t, azdo.IsPullRequestBuild(&gh))
	pr, err := azdo.PullRequestOf(&gh)
	require.NoError(t, err)
	assert.Equal(t, azdo.PullRequestBuild{URL: "https://github.com/dotnet/runtime/pull/135209", Number: 135209,
		HeadCommit: "2e08d5d9852dbf41b219d6091a0bdb569f674cc5", TargetBranch: "main"}, pr)

	tfs := func(change func(b map[string]any)) *build.Build {
		b := map[string]any{
			"id": 498, "reason": "pullRequest", "sourceBranch": "refs/pull/188/merge",
			"sourceVersion": "1111111111111111111111111111111111111111",
			"triggerInfo":   map[string]string{"pr.number": "188", "pr.isFork": "False"},
			"parameters":    `{"system.pullRequest.pullRequestId":"188","system.pullRequest.sourceBranch":"refs/heads/feature/x","system.pullRequest.targetBranch":"refs/heads/release/10.0","system.pullRequest.sourceCommitId":"ABCDEF0123456789ABCDEF0123456789ABCDEF01"}`,
			"repository":    map[string]any{"id": "5e6f", "type": "TfsGit", "name": "tools", "url": "https://dnceng@dev.azure.com/dnceng/internal/_git/tools"},
		}
		change(b)
		data, err := json.Marshal(b)
		require.NoError(t, err)
		var out build.Build
		require.NoError(t, json.Unmarshal(data, &out))
		return &out
	}
	pr, err = azdo.PullRequestOf(tfs(func(map[string]any) {}))
	require.NoError(t, err)
	assert.Equal(t, azdo.PullRequestBuild{URL: "https://dev.azure.com/dnceng/internal/_git/tools/pullrequest/188", Number: 188,
		HeadCommit: "abcdef0123456789abcdef0123456789abcdef01", TargetBranch: "release/10.0"}, pr)
	pr, err = azdo.PullRequestOf(tfs(func(b map[string]any) { delete(b, "triggerInfo") }))
	require.NoError(t, err)
	assert.Equal(t, 188, pr.Number, "from system.pullRequest.pullRequestId on Azure Repos")

	tests := []struct {
		name    string
		change  func(b map[string]any)
		wantErr string
	}{
		{"no number", func(b map[string]any) {
			delete(b, "triggerInfo")
			b["parameters"] = `{"system.pullRequest.sourceCommitId":"abc"}`
			b["sourceBranch"] = "refs/heads/main"
		}, "build 498 names no pull request (triggerInfo pr.number"},
		{"number not a number", func(b map[string]any) { b["triggerInfo"] = map[string]string{"pr.number": "x"} }, `triggerInfo pr.number "x" is not a pull request number`},
		{"numbers disagree", func(b map[string]any) { b["sourceBranch"] = "refs/pull/189/merge" }, "sourceBranch refs/pull/189/merge and pull request number 188 disagree"},
		{"no head", func(b map[string]any) { b["parameters"] = `{}` }, "names no head commit (triggerInfo pr.sourceSha"},
		{"unknown repository type", func(b map[string]any) {
			b["repository"] = map[string]any{"type": "Bitbucket", "url": "https://bitbucket.org/a/b"}
		}, `repository type "Bitbucket"`},
		{"no repository URL", func(b map[string]any) { b["repository"] = map[string]any{"type": "TfsGit"} }, `repository.url "" is not`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := azdo.PullRequestOf(tfs(tt.change))
			require.Error(t, err)
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}
