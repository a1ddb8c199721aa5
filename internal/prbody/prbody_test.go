package prbody_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/prbody"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), got)
}

var arcadeBuild = maestro.Build{
	ID: 12, Repository: "https://github.com/dotnet/arcade", Branch: "main",
	Commit: "7b731032220c21a3ed0021c72757b1f3122579b2", AzureDevOpsBuildNumber: "20190913.3",
	DateProduced: time.Date(2019, 9, 13, 20, 21, 0, 0, time.UTC),
}

var arcadeChanges = []deps.Change{
	{Name: "Microsoft.DotNet.Arcade.Sdk", FromVersion: "1.0.0-beta.19462.5", ToVersion: "1.0.0-beta.19463.3", FromSha: "6003ee189f456c92a18b097f226d4927309def27", ToSha: "7b731032220c21a3ed0021c72757b1f3122579b2", ToURI: "https://github.com/dotnet/arcade"},
	{Name: "Microsoft.DotNet.Helix.Sdk", FromVersion: "1.0.0-beta.19462.5", ToVersion: "1.0.0-beta.19463.3", FromSha: "6003ee189f456c92a18b097f226d4927309def27", ToSha: "7b731032220c21a3ed0021c72757b1f3122579b2", ToURI: "https://github.com/dotnet/arcade"},
	{Name: "Microsoft.NETCore.App.Ref", FromVersion: "3.0.0", ToVersion: "3.0.1", FromSha: "aaa", ToSha: "bbb", ToURI: "https://github.com/dotnet/core-setup", CoherentParent: "Microsoft.DotNet.Arcade.Sdk"},
}

func TestCommitMessage(t *testing.T) {
	golden(t, "commit.txt", prbody.CommitMessage(arcadeBuild, arcadeChanges))
}

func TestSectionAndMerge(t *testing.T) {
	s1 := prbody.Section{SubscriptionID: "sub-1", Build: arcadeBuild, Changes: arcadeChanges}
	body := prbody.Merge("", s1)
	golden(t, "body-one.md", body)

	other := arcadeBuild
	other.ID, other.Repository, other.Commit = 13, "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime", "ccc"
	s2 := prbody.Section{SubscriptionID: "sub-2", Build: other, Changes: []deps.Change{{Name: "Microsoft.NETCore.App.Ref", FromVersion: "1", ToVersion: "2", FromSha: "x", ToSha: "ccc", ToURI: other.Repository}}}
	body = prbody.Merge(body, s2)

	newer := arcadeBuild
	newer.ID, newer.AzureDevOpsBuildNumber = 14, "20190914.1"
	body = prbody.Merge(body, prbody.Section{SubscriptionID: "sub-1", Build: newer, Changes: arcadeChanges[:1]})
	golden(t, "body-two-rewritten.md", body)
	assert.Equal(t, 1, strings.Count(body, "(Begin:sub-1)"), "section rewritten in place, not added")
	assert.Less(t, strings.Index(body, "(Begin:sub-1)"), strings.Index(body, "(Begin:sub-2)"), "order kept")
	assert.NotContains(t, body, "(BAR build 12)", "the old build of sub-1 is gone")
}

func TestTitle(t *testing.T) {
	assert.Equal(t, "[main] Update dependencies from dotnet/arcade", prbody.Title("main", []string{"https://github.com/dotnet/arcade"}))
	assert.Equal(t, "[release/9.0] Update dependencies from dotnet-runtime, dotnet/arcade",
		prbody.Title("release/9.0", []string{"https://github.com/dotnet/arcade", "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime", "https://github.com/dotnet/arcade.git"}))
	var many []string
	for _, r := range []string{"arcade", "runtime", "sdk", "aspnetcore", "efcore", "winforms", "wpf", "templating", "roslyn", "msbuild", "fsharp", "razor"} {
		many = append(many, "https://github.com/dotnet/"+r)
	}
	assert.Equal(t, "[main] Update dependencies from 12 repositories", prbody.Title("main", many))
}
