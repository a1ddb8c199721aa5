package legacy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/legacy"
)

func TestMatches(t *testing.T) {
	tests := []struct {
		trigger, url string
		want         bool
	}{
		{"https://github.com/dotnet/versions/blob/master/build-info/dotnet/corefx/master/Latest.txt",
			"https://github.com/dotnet/versions/blob/master/build-info/dotnet/corefx/master/Latest.txt", true},
		{"https://github.com/dotnet/versions/blob/master/build-info/dotnet/corefx/master/Latest.txt",
			"https://github.com/Dotnet/Versions/blob/Master/build-info/dotnet/CoreFX/master/latest.TXT", true},
		{"https://github.com/dotnet/versions/blob/master/build-info/dotnet/corefx/master/Latest.txt",
			"https://github.com/dotnet/versions/blob/master/build-info/dotnet/corefx/master/Latest_Packages.txt", false},
		{"https://github.com/dotnet/versions/blob/master/build-info/dotnet/corefx/master/Latest.txt",
			"https://github.com/dotnet/versions/blob/master/build-info/dotnet/corefx/master/Latest.txt.bak", false},
		{"https://github.com/dotnet/cli/blob/release/**/*", "https://github.com/dotnet/cli/blob/release/2.1/src/a.cs", true},
		{"https://github.com/dotnet/cli/blob/release/**/*", "https://github.com/DOTNET/cli/blob/Release/2.1/README.md", true},
		{"https://github.com/dotnet/cli/blob/release/**/*", "https://github.com/dotnet/cli/blob/release-2.1/a", false},
		{"https://github.com/dotnet/cli/blob/release/**/*", "https://github.com/dotnet/cli/blob/master/release/a", false},
		{"https://github.com/dotnet/cli/blob/release/**/*", "https://github.com/dotnet/cli-x/blob/release/a", false},
		{"https://github.com/dotnet/cli/blob/master/**/*", "https://github.com/dotnet/cli/blob/master/a", true},
		{"https://github.com/aspnet/AspNetCore/blob/release/3.0//**/*", "https://github.com/aspnet/AspNetCore/blob/release/3.0/a", false},
		{"https://github.com/Microsoft/visualfsharp/dev/**/*", "https://github.com/Microsoft/visualfsharp/blob/dev/a", false},
		// "**/*" is only special at the end; without the slash it is text.
		{"https://github.com/dotnet/cli/blob/master/src/**/*.cs", "https://github.com/dotnet/cli/blob/master/src/x/a.cs", false},
	}
	for _, tt := range tests {
		t.Run(tt.trigger+" "+tt.url, func(t *testing.T) {
			assert.Equal(t, tt.want, legacy.Matches(tt.trigger, tt.url))
		})
	}
}

const matchFile = `{
  "actions": {
    "mirror": {"vsoInstance": "dnceng.visualstudio.com", "vsoProject": "internal", "buildDefinitionId": 16},
    "publish": {"vsoInstance": "dnceng.visualstudio.com", "vsoProject": "internal", "buildDefinitionId": 7},
  },
  "subscriptions": [
    {
      "triggerPaths": ["https://github.com/dotnet/corefx/blob/master/**/*", "https://github.com/dotnet/corefx/blob/release/**/*"],
      "action": "mirror",
      "actionArguments": {"vsoSourceBranch": "main", "vsoBuildParameters": {
        "GithubRepo": "<trigger-repo>", "BranchToMirror": "<trigger-branch>", "CommitsToMirror": "<trigger-commitlist>",
      }},
    },
    {
      "triggerPaths": ["https://github.com/dotnet/versions/blob/master/build-info/dotnet/product/cli/release/2.1/build.semaphore"],
      "action": "publish",
      "delay": "00:10:00",
      "actionArguments": {"vsoBuildParameters": {
        "PB_TriggerPath": "<trigger-path>", "PB_VersionsRepoRef": "<trigger-commit>",
        "Args": ["-repo <trigger-repo>", "-x"],
      }},
    },
    // the same build as the first, from another trigger: queued once per push
    {
      "triggerPaths": ["https://github.com/dotnet/corefx/blob/master/src/**/*"],
      "action": "mirror",
      "actionArguments": {"vsoSourceBranch": "main", "vsoBuildParameters": {
        "GithubRepo": "<trigger-repo>", "BranchToMirror": "<trigger-branch>", "CommitsToMirror": "<trigger-commitlist>",
      }},
    },
    // same action, other parameters: a second build
    {
      "triggerPaths": ["https://github.com/dotnet/corefx/blob/master/src/**/*"],
      "action": "mirror",
      "actionArguments": {"vsoBuildParameters": {"GithubRepo": "corefx-src"}},
    },
  ],
}`

type queued struct {
	definition int
	branch     string
	params     string
}

func summarize(ts []legacy.Trigger) []queued {
	var out []queued
	for _, tr := range ts {
		var ps []string
		for _, p := range tr.Parameters() {
			ps = append(ps, p[0]+"="+p[1])
		}
		out = append(out, queued{tr.Action.BuildDefinitionID, tr.SourceBranch, strings.Join(ps, ";")})
	}
	return out
}

func TestMatch(t *testing.T) {
	f, err := legacy.Parse("m.json", []byte(matchFile))
	require.NoError(t, err)
	tests := []struct {
		name string
		push legacy.Push
		want []queued
	}{
		{"one file, prefix trigger",
			legacy.Push{Repository: "dotnet/corefx", Ref: "refs/heads/master", Commits: []legacy.Commit{{ID: "c1", Paths: []string{"README.md"}}}},
			[]queued{{16, "main", "GithubRepo=corefx;BranchToMirror=master;CommitsToMirror=c1"}}},
		{"branch with a slash, case differences",
			legacy.Push{Repository: "DotNet/CoreFX", Ref: "refs/heads/Release/2.1", Commits: []legacy.Commit{{ID: "c1", Paths: []string{"a"}}}},
			[]queued{{16, "main", "GithubRepo=CoreFX;BranchToMirror=Release/2.1;CommitsToMirror=c1"}}},
		{"many commits and files: one build, the matching commits listed",
			legacy.Push{Repository: "dotnet/corefx", Ref: "refs/heads/release/3.0", Commits: []legacy.Commit{
				{ID: "c1", Paths: []string{"a", "b"}}, {ID: "c2"}, {ID: "c3", Paths: []string{"c"}},
			}},
			[]queued{{16, "main", "GithubRepo=corefx;BranchToMirror=release/3.0;CommitsToMirror=c1 c3"}}},
		{"identical builds from two subscriptions are one; other parameters are another",
			legacy.Push{Repository: "dotnet/corefx", Ref: "refs/heads/master", Commits: []legacy.Commit{{ID: "c1", Paths: []string{"src/x.cs"}}}},
			[]queued{
				{16, "main", "GithubRepo=corefx;BranchToMirror=master;CommitsToMirror=c1"},
				{16, "", "GithubRepo=corefx-src"},
			}},
		{"exact trigger, path and commit placeholders, list joined with spaces",
			legacy.Push{Repository: "dotnet/versions", Ref: "refs/heads/master", Commits: []legacy.Commit{
				{ID: "v1", Paths: []string{"build-info/dotnet/product/cli/release/2.1/build.semaphore"}},
				{ID: "v2", Paths: []string{"build-info/dotnet/product/cli/release/2.1/build.xml"}},
				{ID: "v3", Paths: []string{"build-info/dotnet/product/cli/release/2.1/Build.Semaphore"}},
			}},
			[]queued{{7, "", "PB_TriggerPath=build-info/dotnet/product/cli/release/2.1/Build.Semaphore;PB_VersionsRepoRef=v3;Args=-repo versions -x"}}},
		{"a file beside the exact trigger",
			legacy.Push{Repository: "dotnet/versions", Ref: "refs/heads/master", Commits: []legacy.Commit{{ID: "v1", Paths: []string{"build-info/dotnet/product/cli/release/2.1/build.xml"}}}},
			nil},
		{"another branch",
			legacy.Push{Repository: "dotnet/corefx", Ref: "refs/heads/main", Commits: []legacy.Commit{{ID: "c1", Paths: []string{"a"}}}},
			nil},
		{"a tag is not a branch",
			legacy.Push{Repository: "dotnet/corefx", Ref: "refs/tags/master", Commits: []legacy.Commit{{ID: "c1", Paths: []string{"a"}}}},
			nil},
		{"a pull request ref is not a branch",
			legacy.Push{Repository: "dotnet/corefx", Ref: "refs/pull/1/head", Commits: []legacy.Commit{{ID: "c1", Paths: []string{"a"}}}},
			nil},
		{"a bare branch name is not a ref",
			legacy.Push{Repository: "dotnet/corefx", Ref: "master", Commits: []legacy.Commit{{ID: "c1", Paths: []string{"a"}}}},
			nil},
		{"a deleted branch has no commits",
			legacy.Push{Repository: "dotnet/corefx", Ref: "refs/heads/master"},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, summarize(f.Match(tt.push)))
		})
	}
}

func TestMatchDelayAndMerge(t *testing.T) {
	f, err := legacy.Parse("m.json", []byte(matchFile))
	require.NoError(t, err)
	push := func(id string) legacy.Push {
		return legacy.Push{Repository: "dotnet/versions", Ref: "refs/heads/master", Commits: []legacy.Commit{
			{ID: id, Paths: []string{"build-info/dotnet/product/cli/release/2.1/build.semaphore"}}}}
	}
	a, b := f.Match(push("v1")), f.Match(push("v2"))
	require.Len(t, a, 1)
	require.Len(t, b, 1)
	assert.Equal(t, 10*time.Minute, a[0].Delay)
	assert.Equal(t, a[0].Key(), b[0].Key(), "two pushes of one subscription handler coalesce")
	m := a[0].Merge(b[0]).Merge(b[0])
	assert.Equal(t, []string{"v1", "v2"}, m.Commits)
	assert.Equal(t, [][2]string{
		{"PB_TriggerPath", "build-info/dotnet/product/cli/release/2.1/build.semaphore"},
		{"PB_VersionsRepoRef", "v2"},
		{"Args", "-repo versions -x"},
	}, m.Parameters())
	assert.Equal(t, []string{"v1"}, a[0].Commits, "Merge leaves its receiver alone")

	other := f.Match(legacy.Push{Repository: "dotnet/corefx", Ref: "refs/heads/master", Commits: []legacy.Commit{{ID: "c", Paths: []string{"a"}}}})
	require.NotEmpty(t, other)
	assert.NotEqual(t, a[0].Key(), other[0].Key())
}

// The peak file: a build-info update of corefx master triggers exactly the
// subscriptions that list it.
func TestMatchPeakFile(t *testing.T) {
	f, err := legacy.Parse("peak.json", fixture(t, "subscriptions.2019-11-22.peak88.json"))
	require.NoError(t, err)
	ts := f.Match(legacy.Push{Repository: "dotnet/versions", Ref: "refs/heads/master", Commits: []legacy.Commit{
		{ID: "abc", Paths: []string{"build-info/dotnet/product/cli/release/2.1/build.semaphore"}},
	}})
	require.NotEmpty(t, ts)
	for _, tr := range ts {
		s := f.Subscriptions[tr.Subscription]
		found := false
		for _, trig := range s.Triggers {
			found = found || legacy.Matches(trig, "https://github.com/dotnet/versions/blob/master/build-info/dotnet/product/cli/release/2.1/build.semaphore")
		}
		assert.True(t, found, "subscription %d", tr.Subscription)
		for _, p := range tr.Parameters() {
			assert.NotContains(t, p[1], "<trigger-", "placeholders are filled in")
		}
	}
}
