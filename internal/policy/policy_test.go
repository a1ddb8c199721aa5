package policy_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/deps/coherency/memregistry"
	"github.com/maestroplusplus/maestro/internal/deps/props"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/policy"
)

type dep struct {
	name, version, uri, sha string
	toolset                 bool
	parent                  string
	skipProperty            bool
}

// details renders an eng/Version.Details.xml.
func details(deps ...dep) []byte {
	var product, toolset strings.Builder
	for _, d := range deps {
		attrs := fmt.Sprintf(`Name="%s" Version="%s"`, d.name, d.version)
		if d.parent != "" {
			attrs += fmt.Sprintf(` CoherentParentDependency="%s"`, d.parent)
		}
		if d.skipProperty {
			attrs += ` SkipProperty="true"`
		}
		el := fmt.Sprintf("    <Dependency %s>\n      <Uri>%s</Uri>\n      <Sha>%s</Sha>\n    </Dependency>\n", attrs, d.uri, d.sha)
		if d.toolset {
			toolset.WriteString(el)
		} else {
			product.WriteString(el)
		}
	}
	return []byte("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Dependencies>\n  <ProductDependencies>\n" + product.String() +
		"  </ProductDependencies>\n  <ToolsetDependencies>\n" + toolset.String() + "  </ToolsetDependencies>\n</Dependencies>\n")
}

const (
	runtime   = "https://github.com/dotnet/runtime"
	aspnet    = "https://github.com/dotnet/aspnetcore"
	arcade    = "https://github.com/dotnet/arcade"
	runtimeR1 = "1111111111111111111111111111111111111111"
	runtimeR2 = "2222222222222222222222222222222222222222"
	aspnetA1  = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	arcadeX1  = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
)

func updates(moved ...maestro.DependencyUpdate) []maestro.SubscriptionUpdate {
	return []maestro.SubscriptionUpdate{{SubscriptionID: "3a2b1c0d-0000-4000-8000-000000000001", BuildID: 11, SourceRepository: runtime, Dependencies: moved}}
}

func move(name, from, to string) maestro.DependencyUpdate {
	return maestro.DependencyUpdate{Name: name, FromVersion: from, ToVersion: to}
}

func TestDontAutomergeDowngrades(t *testing.T) {
	tests := []struct {
		name     string
		updates  []maestro.SubscriptionUpdate
		want     policy.Outcome
		decisive bool
		contains string
	}{
		{"upgrade", updates(move("Microsoft.NETCore.App", "9.0.0", "9.0.1"), move("Microsoft.NET.Sdk", "9.0.100-rc.1.24452.12", "9.0.100")), policy.Success, false, ""},
		{"downgrade", updates(move("Microsoft.NETCore.App", "9.0.1", "9.0.0")), policy.Failure, true, "Microsoft.NETCore.App: 9.0.1 → 9.0.0, a downgrade"},
		{"prerelease after its release", updates(move("Microsoft.NET.Sdk", "9.0.100", "9.0.100-rtm.24512.1")), policy.Failure, true, "a downgrade"},
		{"not SemVer", updates(move("Microsoft.DotNet.Arcade.Sdk", "9.0.0-beta.24501.1", "latest")), policy.Failure, true, "latest, which is not a SemVer version"},
		{"from a version that is not SemVer", updates(move("Microsoft.DotNet.Arcade.Sdk", "local", "9.0.0-beta.24501.1")), policy.Success, false, ""},
		{"a new dependency", updates(move("Microsoft.DotNet.XliffTasks", "", "9.0.0-beta.24501.1")), policy.Success, false, ""},
		{"versions not recorded", []maestro.SubscriptionUpdate{{SubscriptionID: "old", BuildID: 7}}, policy.Failure, false, "carries no dependency versions"},
		{"no updates recorded", nil, policy.Failure, false, "lists no dependency updates"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := find(t, policy.Evaluate([]maestro.MergePolicy{{Name: maestro.PolicyDontAutomergeDowngrades}}, policy.PullRequestState{Updates: tt.updates}), maestro.PolicyDontAutomergeDowngrades)
			assert.Equal(t, tt.want, r.Outcome, r.Message)
			assert.Equal(t, tt.decisive, r.Decisive)
			assert.Contains(t, r.Message, tt.contains)
		})
	}
}

func TestNoNewerUpdateMerged(t *testing.T) {
	on := func(v string) policy.Files {
		return policy.Files{policy.VersionDetailsXMLPath: details(dep{name: "Microsoft.NETCore.App", version: v, uri: runtime, sha: runtimeR2})}
	}
	pr := updates(move("Microsoft.NETCore.App", "9.0.0", "9.0.1"))
	tests := []struct {
		name     string
		target   policy.Files
		want     policy.Outcome
		decisive bool
		contains string
	}{
		{"target unchanged", on("9.0.0"), policy.Success, false, ""},
		{"same version already merged", on("9.0.1"), policy.Failure, true, "the target has 9.0.1; this pull request brings 9.0.1"},
		{"newer version already merged", on("9.0.2"), policy.Failure, true, "the target has 9.0.2; this pull request brings 9.0.1"},
		{"target moved back", on("8.0.11"), policy.Success, false, ""},
		{"target moved to a version that is not SemVer", on("dev"), policy.Success, false, ""},
		{"dependency gone from the target", policy.Files{policy.VersionDetailsXMLPath: details(dep{name: "Other", version: "1.0.0", uri: runtime, sha: runtimeR1})}, policy.Success, false, ""},
		{"no Version.Details.xml on the target", policy.Files{}, policy.Success, false, ""},
		{"target not read", nil, policy.Failure, false, "not read"},
		{"target unreadable", policy.Files{policy.VersionDetailsXMLPath: []byte("<Dependencies>")}, policy.Failure, false, "does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := find(t, policy.Evaluate([]maestro.MergePolicy{{Name: maestro.PolicyNoNewerUpdateMerged}}, policy.PullRequestState{Updates: pr, Target: tt.target}), maestro.PolicyNoNewerUpdateMerged)
			assert.Equal(t, tt.want, r.Outcome, r.Message)
			assert.Equal(t, tt.decisive, r.Decisive)
			assert.Contains(t, r.Message, tt.contains)
		})
	}
}

// graph is a registry: runtime built at two commits (builds 10 and 11),
// aspnetcore built once against runtime build 10, arcade (a toolset)
// depended on at another commit.
func graph() []maestro.Build {
	asset := func(name, version string) maestro.Asset { return maestro.Asset{Name: name, Version: version} }
	return []maestro.Build{
		{ID: 10, Repository: runtime, Commit: runtimeR1, Assets: []maestro.Asset{asset("Microsoft.NETCore.App", "9.0.1"), asset("Microsoft.NET.ILLink.Tasks", "9.0.1")},
			Dependencies: []maestro.BuildDependency{{BuildID: 30, IsProduct: false}}},
		{ID: 11, Repository: runtime, Commit: runtimeR2, Assets: []maestro.Asset{asset("Microsoft.NETCore.App", "9.0.2"), asset("Microsoft.NET.ILLink.Tasks", "9.0.2")}},
		{ID: 20, Repository: aspnet, Commit: aspnetA1, Assets: []maestro.Asset{asset("Microsoft.AspNetCore.App", "9.0.1")},
			Dependencies: []maestro.BuildDependency{{BuildID: 10, IsProduct: true}, {BuildID: 31, IsProduct: false}}},
		{ID: 30, Repository: arcade, Commit: arcadeX1, Assets: []maestro.Asset{asset("Microsoft.DotNet.Arcade.Sdk", "9.0.0-beta.24501.1")}},
		{ID: 31, Repository: arcade, Commit: "ffffffffffffffffffffffffffffffffffffffff", Assets: []maestro.Asset{asset("Microsoft.DotNet.Arcade.Sdk", "9.0.0-beta.24502.2")}},
	}
}

func TestValidateCoherency(t *testing.T) {
	netcore := func(v, sha string) dep { return dep{name: "Microsoft.NETCore.App", version: v, uri: runtime, sha: sha} }
	aspnetcore := dep{name: "Microsoft.AspNetCore.App", version: "9.0.1", uri: aspnet, sha: aspnetA1}
	arcadeSdk := dep{name: "Microsoft.DotNet.Arcade.Sdk", version: "9.0.0-beta.24501.1", uri: arcade, sha: arcadeX1, toolset: true}
	illink := func(v, sha string) dep {
		return dep{name: "Microsoft.NET.ILLink.Tasks", version: v, uri: runtime, sha: sha, parent: "Microsoft.AspNetCore.App"}
	}
	tests := []struct {
		name     string
		head     policy.Files
		want     policy.Outcome
		contains []string
	}{
		{"coherent", policy.Files{policy.VersionDetailsXMLPath: details(netcore("9.0.1", runtimeR1), aspnetcore, arcadeSdk, illink("9.0.1", runtimeR1))}, policy.Success, nil},
		{"toolsets may differ", policy.Files{policy.VersionDetailsXMLPath: details(netcore("9.0.1", runtimeR1), aspnetcore,
			dep{name: "Microsoft.DotNet.Arcade.Sdk", version: "9.0.0-beta.24502.2", uri: arcade, sha: "ffffffffffffffffffffffffffffffffffffffff", toolset: true})}, policy.Success, nil},
		{"no Version.Details.xml", policy.Files{}, policy.Success, nil},
		{"two versions of runtime along product paths", policy.Files{policy.VersionDetailsXMLPath: details(netcore("9.0.2", runtimeR2), aspnetcore)}, policy.Failure,
			[]string{"https://github.com/dotnet/runtime at 2 commits", "2222222: Microsoft.NETCore.App 9.0.2", "1111111: Microsoft.AspNetCore.App 9.0.1 (https://github.com/dotnet/aspnetcore @ aaaaaaa) → build 10 of https://github.com/dotnet/runtime @ 1111111", "To fix it"}},
		{"a coherent child behind its parent", policy.Files{policy.VersionDetailsXMLPath: details(netcore("9.0.1", runtimeR1), aspnetcore, illink("9.0.2", runtimeR2))}, policy.Failure,
			[]string{"Microsoft.NET.ILLink.Tasks must be 9.0.1 (from https://github.com/dotnet/runtime @ 1111111)", "coherent parent Microsoft.AspNetCore.App"}},
		{"a parent whose build did not depend on the child", policy.Files{policy.VersionDetailsXMLPath: details(netcore("9.0.1", runtimeR1), aspnetcore,
			dep{name: "Microsoft.Extensions.Logging", version: "9.0.1", uri: "https://github.com/dotnet/extensions", sha: runtimeR1, parent: "Microsoft.AspNetCore.App"})}, policy.Failure,
			[]string{"does not contain dependency Microsoft.Extensions.Logging", "Pin the dependency"}},
		{"head not read", nil, policy.Failure, []string{"not read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := find(t, policy.Evaluate([]maestro.MergePolicy{{Name: maestro.PolicyValidateCoherency}}, policy.PullRequestState{Head: tt.head, Builds: graph()}), maestro.PolicyValidateCoherency)
			assert.Equal(t, tt.want, r.Outcome, r.Message)
			assert.Equal(t, tt.want == policy.Failure && tt.head != nil, r.Decisive)
			for _, c := range tt.contains {
				assert.Contains(t, r.Message, c)
			}
		})
	}
}

const versionsProps = `<?xml version="1.0" encoding="utf-8"?>
<Project>
  <Import Project="Version.Details.props" Condition="Exists('Version.Details.props')" />
  <PropertyGroup>
    <VersionPrefix>10.0.0</VersionPrefix>
    <MicrosoftNETCoreAppPackageVersion Condition="'$(DotNetBuildSourceOnly)' == 'true'">10.0.0-dev</MicrosoftNETCoreAppPackageVersion>
  </PropertyGroup>
</Project>
`

func TestVersionDetailsProps(t *testing.T) {
	xml := details(dep{name: "Microsoft.NETCore.App", version: "9.0.1", uri: runtime, sha: runtimeR1},
		dep{name: "Microsoft.DotNet.Arcade.Sdk", version: "9.0.0-beta.24501.1", uri: arcade, sha: arcadeX1, toolset: true},
		dep{name: "Microsoft.SourceBuild.Intermediate.runtime", version: "9.0.1", uri: runtime, sha: runtimeR1, skipProperty: true})
	generated := props.Generate([]props.GenDependency{
		{Name: "Microsoft.NETCore.App", Version: "9.0.1", URI: runtime},
		{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "9.0.0-beta.24501.1", URI: arcade},
	}, "\n")
	files := func(edit func(policy.Files)) policy.Files {
		f := policy.Files{policy.VersionDetailsXMLPath: xml, policy.VersionsPropsPath: []byte(versionsProps), policy.VersionDetailsPropsPath: generated}
		edit(f)
		return f
	}
	tests := []struct {
		name     string
		head     policy.Files
		want     policy.Outcome
		contains []string
	}{
		{"generated and imported", files(func(policy.Files) {}), policy.Success, nil},
		{"no Version.Details.props", files(func(f policy.Files) { delete(f, policy.VersionDetailsPropsPath) }), policy.Success, []string{"nothing to validate"}},
		{"not imported", files(func(f policy.Files) {
			f[policy.VersionsPropsPath] = []byte(strings.Replace(versionsProps, `  <Import Project="Version.Details.props" Condition="Exists('Version.Details.props')" />`+"\n", "", 1))
		}), policy.Failure, []string{"**Missing import:**", `<Import Project="Version.Details.props"`}},
		{"no Versions.props", files(func(f policy.Files) { delete(f, policy.VersionsPropsPath) }), policy.Failure, []string{"**Missing import:**"}},
		{"a property in both files", files(func(f policy.Files) {
			f[policy.VersionsPropsPath] = []byte(strings.Replace(versionsProps, "<VersionPrefix>", "<MicrosoftNETCoreAppVersion>9.0.0</MicrosoftNETCoreAppVersion>\n    <VersionPrefix>", 1))
		}), policy.Failure, []string{"**Conflicting properties:**", "`MicrosoftNETCoreAppVersion`"}},
		{"a dependency without its properties", files(func(f policy.Files) {
			f[policy.VersionDetailsXMLPath] = details(dep{name: "Microsoft.NETCore.App", version: "9.0.1", uri: runtime, sha: runtimeR1},
				dep{name: "Microsoft.DotNet.Arcade.Sdk", version: "9.0.0-beta.24501.1", uri: arcade, sha: arcadeX1, toolset: true},
				dep{name: "Microsoft.DotNet.Helix.Sdk", version: "9.0.0-beta.24501.1", uri: arcade, sha: arcadeX1, toolset: true})
		}), policy.Failure, []string{"**Missing properties:**", "add `<MicrosoftDotNetHelixSdkPackageVersion>9.0.0-beta.24501.1</MicrosoftDotNetHelixSdkPackageVersion>`", "add `<MicrosoftDotNetHelixSdkVersion>$(MicrosoftDotNetHelixSdkPackageVersion)</MicrosoftDotNetHelixSdkVersion>`"}},
		{"a property without its dependency", files(func(f policy.Files) {
			f[policy.VersionDetailsXMLPath] = details(dep{name: "Microsoft.NETCore.App", version: "9.0.1", uri: runtime, sha: runtimeR1})
		}), policy.Failure, []string{"**Orphaned properties:**", "remove `<MicrosoftDotNetArcadeSdkPackageVersion>`", "remove `<MicrosoftDotNetArcadeSdkVersion>`"}},
		{"invalid Version.Details.props", files(func(f policy.Files) { f[policy.VersionDetailsPropsPath] = []byte("<Project><PropertyGroup>") }), policy.Failure, []string{policy.VersionDetailsPropsPath}},
		{"head not read", nil, policy.Failure, []string{"not read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := find(t, policy.Evaluate([]maestro.MergePolicy{{Name: maestro.PolicyVersionDetailsProps}}, policy.PullRequestState{Head: tt.head}), maestro.PolicyVersionDetailsProps)
			assert.Equal(t, tt.want, r.Outcome, r.Message)
			assert.Equal(t, tt.want == policy.Failure && tt.head != nil, r.Decisive)
			for _, c := range tt.contains {
				assert.Contains(t, r.Title+"\n"+r.Message, c)
			}
		})
	}
}

// green is a pull request every policy accepts.
func green() policy.PullRequestState {
	head := "3f1c2a9d8b7e6f5a4c3b2a1908f7e6d5c4b3a291"
	return policy.PullRequestState{
		Host: platform.Status{HeadCommit: head, Checks: []maestro.Check{{Name: "ci", State: maestro.CheckSuccess}},
			Commits: []platform.Commit{{SHA: head, AuthorName: "maestro", AuthorEmail: bot}}},
		BotEmails: []string{bot},
		Updates:   updates(move("Microsoft.NETCore.App", "9.0.0", "9.0.1")),
		Head:      policy.Files{policy.VersionDetailsXMLPath: details(dep{name: "Microsoft.NETCore.App", version: "9.0.1", uri: runtime, sha: runtimeR1})},
		Target:    policy.Files{policy.VersionDetailsXMLPath: details(dep{name: "Microsoft.NETCore.App", version: "9.0.0", uri: runtime, sha: runtimeR1})},
		Builds:    graph(),
	}
}

func names(res policy.Result) []string {
	var out []string
	for _, r := range res.Policies {
		out = append(out, r.Name)
	}
	return out
}

func TestEvaluate(t *testing.T) {
	t.Run("Standard evaluates every policy and all succeed", func(t *testing.T) {
		res := policy.Evaluate([]maestro.MergePolicy{{Name: maestro.PolicyStandard}}, green())
		assert.Equal(t, policy.StandardMembers, names(res))
		assert.True(t, res.AllSucceeded, "%+v", res.Policies)
		assert.False(t, res.Decisive)
		assert.Equal(t, "3f1c2a9d8b7e6f5a4c3b2a1908f7e6d5c4b3a291", res.HeadCommit)
	})
	t.Run("a policy named beside Standard is evaluated once, with its own properties", func(t *testing.T) {
		s := green()
		s.Host.Checks = append(s.Host.Checks, maestro.Check{Name: "WIP", State: maestro.CheckPending})
		res := policy.Evaluate([]maestro.MergePolicy{{Name: maestro.PolicyStandard}, {Name: maestro.PolicyAllChecksSuccessful}, {Name: maestro.PolicyNoExtraCommits}}, s)
		assert.Len(t, res.Policies, len(policy.StandardMembers))
		assert.Equal(t, policy.Pending, find(t, res, maestro.PolicyAllChecksSuccessful).Outcome, "WIP is not ignored without Standard's defaults")
		assert.False(t, res.AllSucceeded)
	})
	t.Run("Standard's ignoreChecks add to the defaults", func(t *testing.T) {
		s := green()
		s.Host.Checks = append(s.Host.Checks, maestro.Check{Name: "WIP", State: maestro.CheckPending}, maestro.Check{Name: "flaky", State: maestro.CheckFailure})
		res := policy.Evaluate([]maestro.MergePolicy{{Name: maestro.PolicyStandard, Properties: map[string]any{"ignoreChecks": []any{"flaky"}}}}, s)
		assert.True(t, res.AllSucceeded, "%+v", res.Policies)
	})
	t.Run("an unknown policy is a decisive failure", func(t *testing.T) {
		res := policy.Evaluate([]maestro.MergePolicy{{Name: maestro.PolicyNoExtraCommits}, {Name: "NoBugs"}}, green())
		r := find(t, res, "NoBugs")
		assert.Equal(t, policy.Failure, r.Outcome)
		assert.True(t, r.Decisive)
		assert.Contains(t, r.Message, `"NoBugs"`)
		assert.True(t, res.Decisive)
		assert.False(t, res.AllSucceeded)
	})
	t.Run("ignoreChecks that is not a list of names", func(t *testing.T) {
		res := policy.Evaluate([]maestro.MergePolicy{{Name: maestro.PolicyAllChecksSuccessful, Properties: map[string]any{"ignoreChecks": "WIP"}}}, green())
		r := find(t, res, maestro.PolicyAllChecksSuccessful)
		assert.Equal(t, policy.Failure, r.Outcome)
		assert.True(t, r.Decisive)
		assert.Contains(t, r.Message, "not a list of check names")
	})
	t.Run("a failing check is not decisive", func(t *testing.T) {
		s := green()
		s.Host.Checks[0].State = maestro.CheckFailure
		res := policy.Evaluate([]maestro.MergePolicy{{Name: maestro.PolicyStandard}}, s)
		assert.False(t, res.AllSucceeded)
		assert.False(t, res.Decisive)
	})
	t.Run("no policies never succeed", func(t *testing.T) {
		res := policy.Evaluate(nil, green())
		assert.Empty(t, res.Policies)
		assert.False(t, res.AllSucceeded)
	})
	t.Run("no bot identity", func(t *testing.T) {
		s := green()
		s.BotEmails = nil
		r := find(t, policy.Evaluate([]maestro.MergePolicy{{Name: maestro.PolicyNoExtraCommits}}, s), maestro.PolicyNoExtraCommits)
		assert.Equal(t, policy.Failure, r.Outcome)
		assert.False(t, r.Decisive)
	})
}

func TestCacheKey(t *testing.T) {
	std := []maestro.MergePolicy{{Name: maestro.PolicyStandard}}
	k := policy.CacheKey(std, "abc")
	assert.Equal(t, k, policy.CacheKey([]maestro.MergePolicy{{Name: maestro.PolicyStandard}}, "abc"), "stable")
	assert.True(t, strings.HasPrefix(k, "abc/"))
	assert.NotEqual(t, k, policy.CacheKey(std, "abd"), "another head commit")
	assert.NotEqual(t, k, policy.CacheKey([]maestro.MergePolicy{{Name: maestro.PolicyStandard, Properties: map[string]any{"ignoreChecks": []any{"x"}}}}, "abc"), "other properties")
	assert.NotEqual(t, k, policy.CacheKey([]maestro.MergePolicy{{Name: maestro.PolicyAllChecksSuccessful}}, "abc"), "other policies")
}

// TestCollectBuilds: the builds of a Version.Details.xml's dependencies and
// everything they depend on, transitively, each once; a dependency no build
// produced is left out.
func TestCollectBuilds(t *testing.T) {
	reg := &memregistry.Registry{}
	all := graph()
	for i := range all {
		reg.Builds = append(reg.Builds, &all[i])
	}
	src := details(dep{name: "Microsoft.AspNetCore.App", version: "9.0.1", uri: aspnet, sha: aspnetA1},
		dep{name: "Microsoft.NETCore.App", version: "9.0.1", uri: runtime, sha: runtimeR1},
		dep{name: "Unpublished", version: "1.0.0", uri: runtime, sha: runtimeR1})
	builds, err := policy.CollectBuilds(context.Background(), reg, src)
	require.NoError(t, err)
	var ids []int
	for _, b := range builds {
		ids = append(ids, b.ID)
	}
	assert.ElementsMatch(t, []int{20, 10, 31, 30}, ids, "aspnetcore, runtime, and the arcade builds each depended on; not runtime's other build")

	_, err = policy.CollectBuilds(context.Background(), reg, []byte("<Dependencies>"))
	assert.Error(t, err)
}

// FuzzEvaluate: whatever the files at the head and on the target hold,
// Evaluate answers (never panics) and a failure says something.
func FuzzEvaluate(f *testing.F) {
	f.Add(details(dep{name: "A", version: "1.0.0", uri: runtime, sha: runtimeR1}), []byte(versionsProps), []byte("<Project/>"))
	f.Add([]byte("<Dependencies><ProductDependencies><Dependency Name=\"A\" Version=\"x\" CoherentParentDependency=\"A\"/></ProductDependencies></Dependencies>"), []byte("<Project>"), []byte(""))
	f.Fuzz(func(t *testing.T, xml, versions, detailsProps []byte) {
		s := green()
		s.Head = policy.Files{policy.VersionDetailsXMLPath: xml, policy.VersionsPropsPath: versions, policy.VersionDetailsPropsPath: detailsProps}
		s.Target = policy.Files{policy.VersionDetailsXMLPath: xml}
		res := policy.Evaluate([]maestro.MergePolicy{{Name: maestro.PolicyStandard}}, s)
		require.Len(t, res.Policies, len(policy.StandardMembers))
		for _, r := range res.Policies {
			if r.Outcome == policy.Failure {
				require.NotEmpty(t, r.Message, r.Name)
			}
		}
	})
}
