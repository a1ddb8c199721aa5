package manifest_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/manifest"
)

// parseAll parses manifests given as file name, content pairs.
func parseAll(t *testing.T, files ...string) []*manifest.Manifest {
	t.Helper()
	require.Zero(t, len(files)%2)
	var ms []*manifest.Manifest
	for i := 0; i < len(files); i += 2 {
		m, err := manifest.Parse([]byte(files[i+1]), files[i])
		require.NoError(t, err)
		ms = append(ms, m)
	}
	return ms
}

const mirror = `PublishingVersion="3" Name="dotnet-arcade" BuildId="20240312.4" Branch="refs/heads/main" Commit="7c2b8f1e" ` +
	`AzureDevOpsRepository="https://dev.azure.com/dnceng/internal/_git/dotnet-arcade" AzureDevOpsBranch="refs/heads/main" ` +
	`InitialAssetsLocation="https://dev.azure.com/dnceng/internal/_apis/build/builds/1/artifacts"`

func TestMergeBuildFields(t *testing.T) {
	tests := []struct {
		name  string
		attrs string
		check func(t *testing.T, b maestro.Build)
	}{
		{
			name: "Azure DevOps mirror",
			attrs: `PublishingVersion="3" Name="dotnet-arcade" BuildId="20240312.4" Branch="refs/heads/release/8.0" Commit="7c2b8f1e" ` +
				`AzureDevOpsAccount="dnceng" AzureDevOpsProject="internal" AzureDevOpsBuildId="2398741" AzureDevOpsBuildDefinitionId="6" ` +
				`AzureDevOpsBuildNumber="20240312.4" AzureDevOpsRepository="https://dev.azure.com/dnceng/internal/_git/dotnet-arcade" ` +
				`AzureDevOpsBranch="refs/heads/release/8.0" IsStable="true"`,
			check: func(t *testing.T, b maestro.Build) {
				assert.Equal(t, maestro.Build{
					Repository:                   "https://dev.azure.com/dnceng/internal/_git/dotnet-arcade",
					Branch:                       "release/8.0",
					Commit:                       "7c2b8f1e",
					AzureDevOpsAccount:           "dnceng",
					AzureDevOpsProject:           "internal",
					AzureDevOpsBuildID:           2398741,
					AzureDevOpsBuildDefinitionID: 6,
					AzureDevOpsBuildNumber:       "20240312.4",
					AzureDevOpsRepository:        "https://dev.azure.com/dnceng/internal/_git/dotnet-arcade",
					AzureDevOpsBranch:            "refs/heads/release/8.0",
					Stable:                       true,
					Assets:                       []maestro.Asset{},
					Dependencies:                 []maestro.BuildDependency{},
					Channels:                     []maestro.Channel{},
				}, b)
			},
		},
		{
			name:  "pipeline building a GitHub repository",
			attrs: `PublishingVersion="4" Name="dotnet/aspire" Commit="e4f1" AzureDevOpsRepository="https://github.com/dotnet/aspire" AzureDevOpsBranch="refs/heads/main"`,
			check: func(t *testing.T, b maestro.Build) {
				assert.Equal(t, "https://github.com/dotnet/aspire", b.Repository)
				assert.Equal(t, "https://github.com/dotnet/aspire", b.GitHubRepository)
				assert.Equal(t, "main", b.GitHubBranch)
				assert.Equal(t, "main", b.Branch)
				assert.Equal(t, "https://github.com/dotnet/aspire", b.AzureDevOpsRepository)
			},
		},
		{
			name:  "Name is a GitHub URL",
			attrs: `PublishingVersion="3" Name="https://github.com/dotnet/wpf/" Commit="e4f1" AzureDevOpsRepository="https://dev.azure.com/dnceng/internal/_git/dotnet-wpf" Branch="refs/heads/main"`,
			check: func(t *testing.T, b maestro.Build) {
				assert.Equal(t, "https://github.com/dotnet/wpf", b.Repository)
				assert.Equal(t, "https://github.com/dotnet/wpf", b.GitHubRepository)
				assert.Equal(t, "https://dev.azure.com/dnceng/internal/_git/dotnet-wpf", b.AzureDevOpsRepository)
				assert.Equal(t, "main", b.Branch, "Branch stands in for a missing AzureDevOpsBranch")
				assert.Equal(t, "refs/heads/main", b.AzureDevOpsBranch)
			},
		},
		{
			name:  "legacy host and user info are normalized",
			attrs: `PublishingVersion="3" Name="dotnet-wpf-int" Commit="9d8c" AzureDevOpsRepository="https://dnceng@dnceng.visualstudio.com/internal/_git/dotnet-wpf-int" AzureDevOpsBranch="/refs/heads/internal/release/6.0"`,
			check: func(t *testing.T, b maestro.Build) {
				assert.Equal(t, "https://dev.azure.com/dnceng/internal/_git/dotnet-wpf-int", b.Repository)
				assert.Equal(t, "https://dev.azure.com/dnceng/internal/_git/dotnet-wpf-int", b.AzureDevOpsRepository)
				assert.Empty(t, b.GitHubRepository)
				assert.Empty(t, b.GitHubBranch)
				assert.Equal(t, "internal/release/6.0", b.Branch)
			},
		},
		{
			name:  "Name is the only repository URL",
			attrs: `PublishingVersion="3" Name="https://dnceng@dev.azure.com/dnceng/internal/_git/dotnet-arcade-validation" Commit="0f73" Branch="refs/heads/release/3.x"`,
			check: func(t *testing.T, b maestro.Build) {
				assert.Equal(t, "https://dev.azure.com/dnceng/internal/_git/dotnet-arcade-validation", b.Repository)
				assert.Empty(t, b.AzureDevOpsRepository)
			},
		},
		{
			name:  "local repository for demos",
			attrs: `PublishingVersion="3" Name="/srv/git/arcade" Commit="0f73" Branch="main"`,
			check: func(t *testing.T, b maestro.Build) {
				assert.Equal(t, "/srv/git/arcade", b.Repository)
				assert.Equal(t, "main", b.Branch)
			},
		},
		{
			name:  "BuildId stands in for a missing AzureDevOpsBuildNumber",
			attrs: `PublishingVersion="3" BuildId="20240101.1" Commit="abc" AzureDevOpsRepository="https://dev.azure.com/a/b/_git/c"`,
			check: func(t *testing.T, b maestro.Build) {
				assert.Equal(t, "20240101.1", b.AzureDevOpsBuildNumber)
				assert.False(t, b.Stable)
			},
		},
		{
			name:  "AzureDevOpsBuildNumber wins over BuildId",
			attrs: `PublishingVersion="3" BuildId="x" AzureDevOpsBuildNumber="20240101.2" Commit="abc" AzureDevOpsRepository="https://dev.azure.com/a/b/_git/c"`,
			check: func(t *testing.T, b maestro.Build) {
				assert.Equal(t, "20240101.2", b.AzureDevOpsBuildNumber)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := parseAll(t, "a.xml", "<Build "+tt.attrs+"/>")
			b, err := manifest.Merge(ms)
			require.NoError(t, err)
			tt.check(t, b)
		})
	}
}

func TestMergeFillsAndChecksAttributes(t *testing.T) {
	ms := parseAll(t,
		"job1.xml", `<Build PublishingVersion="3" Name="dotnet-runtime" Commit="2a6b" AzureDevOpsRepository="https://dev.azure.com/dnceng/internal/_git/dotnet-runtime"/>`,
		"job2.xml", `<Build PublishingVersion="3" Name="DOTNET-RUNTIME" Commit="2A6B" AzureDevOpsAccount="dnceng" AzureDevOpsBuildId="77" IsStable="True"/>`,
		"job3.xml", `<Build PublishingVersion="3" AzureDevOpsBranch="refs/heads/main" IsStable="true"/>`,
	)
	b, err := manifest.Merge(ms)
	require.NoError(t, err)
	assert.Equal(t, "2a6b", b.Commit, "the first spelling wins")
	assert.Equal(t, "dnceng", b.AzureDevOpsAccount)
	assert.Equal(t, 77, b.AzureDevOpsBuildID)
	assert.Equal(t, "main", b.Branch)
	assert.True(t, b.Stable)
}

func TestMergeErrors(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  []string
	}{
		{
			name:  "no manifests",
			files: nil,
			want:  []string{"no manifests to merge"},
		},
		{
			name: "commits differ",
			files: []string{
				"win.xml", `<Build ` + mirror + `/>`,
				"linux.xml", "\n<Build PublishingVersion=\"3\" Commit=\"0000\"/>",
			},
			want: []string{"win.xml:1 and linux.xml:2 disagree on Commit", `"7c2b8f1e" vs "0000"`},
		},
		{
			name: "a later manifest conflicts with a value filled in by an earlier one",
			files: []string{
				"a.xml", `<Build PublishingVersion="3" Commit="1"/>`,
				"b.xml", `<Build PublishingVersion="3" InitialAssetsLocation="https://x/1"/>`,
				"c.xml", `<Build PublishingVersion="3" InitialAssetsLocation="https://x/2"/>`,
			},
			want: []string{"b.xml:1 and c.xml:1 disagree on InitialAssetsLocation"},
		},
		{
			name: "stable and not",
			files: []string{
				"a.xml", `<Build PublishingVersion="3" Commit="1" IsStable="true"/>`,
				"b.xml", `<Build PublishingVersion="3" Commit="1" IsStable="False"/>`,
			},
			want: []string{"a.xml:1 and b.xml:1 disagree on IsStable", `"true" vs "false"`},
		},
		{
			name: "publishing versions differ",
			files: []string{
				"a.xml", `<Build PublishingVersion="3" Commit="1"/>`,
				"b.xml", `<Build PublishingVersion="4" Commit="1"/>`,
			},
			want: []string{"a.xml:1 and b.xml:1 disagree on PublishingVersion: 3 vs 4"},
		},
		{
			name: "a package with two versions in two jobs",
			files: []string{
				"win.xml", "<Build " + mirror + ">\n<Package Id=\"A\" Version=\"1.0.0\"/>\n</Build>",
				"linux.xml", "<Build " + mirror + ">\n<Package Id=\"B\" Version=\"1.0.0\"/>\n<Package Id=\"A\" Version=\"1.0.1\"/>\n</Build>",
			},
			want: []string{`linux.xml:3: package "A" has version "1.0.1", but win.xml:2 lists it with version "1.0.0"`},
		},
		{
			name: "a package with two versions in one manifest",
			files: []string{
				"win.xml", "<Build " + mirror + ">\n<Package Id=\"A\" Version=\"1.0.0\"/>\n<Package Id=\"A\" Version=\"2.0.0\"/>\n</Build>",
			},
			want: []string{`win.xml:3: package "A" has version "2.0.0", but win.xml:2 lists it with version "1.0.0"`},
		},
		{
			name: "a blob whose derived versions differ",
			files: []string{
				"a.xml", "<Build " + mirror + ">\n<Blob Id=\"Sdk/9.0.100/productVersion.txt\"/>\n</Build>",
				"b.xml", "<Build " + mirror + ">\n\n<Blob Id=\"Sdk/9.0.100/productVersion.txt\" Version=\"9.0.100-rtm.1\"/>\n</Build>",
			},
			want: []string{`b.xml:3: blob "Sdk/9.0.100/productVersion.txt" has version "9.0.100-rtm.1", but a.xml:2 lists it with version "9.0.100"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := parseAll(t, tt.files...)
			_, err := manifest.Merge(ms)
			require.Error(t, err)
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
			assert.NotContains(t, err.Error(), "\n")
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestMergeHandBuiltManifests(t *testing.T) {
	m := &manifest.Manifest{Path: "m.xml", Line: 1, PublishingVersion: 3, Build: manifest.BuildAttributes{
		Commit: "abc", AzureDevOpsRepository: "https://dev.azure.com/a/b/_git/c", AzureDevOpsBuildID: "twelve",
	}}
	_, err := manifest.Merge([]*manifest.Manifest{m})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `m.xml:1: AzureDevOpsBuildId "twelve" is not a whole number`)
}

func TestMergeAssets(t *testing.T) {
	ms := parseAll(t,
		"win.xml", "<Build "+mirror+">\n"+
			`<Package Id="Microsoft.NETCore.App.Ref" Version="8.0.2"/>`+"\n"+
			`<Package Id="Microsoft.NETCore.App.Runtime.win-x64" Version="8.0.2"/>`+"\n"+
			`<Blob Id="Runtime/8.0.2/productVersion.txt" NonShipping="true"/>`+"\n"+
			`<Blob Id="Runtime/8.0.2/dotnet-runtime-8.0.2-win-x64.zip"/>`+"\n"+
			`<Package Id="Microsoft.NETCore.ILAsm" Version="8.0.2-servicing.1" NonShipping="true"/>`+"\n"+
			`</Build>`,
		"linux.xml", "<Build "+mirror+">\n"+
			`<Blob Id="Runtime/8.0.2/productVersion.txt" NonShipping="true"/>`+"\n"+
			`<Package Id="Microsoft.NETCore.App.Ref" Version="8.0.2" NonShipping="true"/>`+"\n"+
			`<Package Id="Microsoft.NETCore.ILAsm" Version="8.0.2-servicing.1" NonShipping="true"/>`+"\n"+
			`<Package Id="Microsoft.NETCore.App.Runtime.linux-x64" Version="8.0.2"/>`+"\n"+
			`<Blob Id="Runtime/8.0.2/dotnet-runtime-8.0.2-linux-x64.tar.gz"/>`+"\n"+
			`<Blob Id="Microsoft.NETCore.App.Ref" Version="8.0.2-blob"/>`+"\n"+
			`</Build>`,
	)
	b, err := manifest.Merge(ms)
	require.NoError(t, err)
	container := []maestro.AssetLocation{{Type: maestro.LocationContainer, Location: "https://dev.azure.com/dnceng/internal/_apis/build/builds/1/artifacts"}}
	want := []maestro.Asset{
		{Name: "Microsoft.NETCore.App.Ref", Version: "8.0.2", NonShipping: false, Locations: container},
		{Name: "Microsoft.NETCore.App.Runtime.win-x64", Version: "8.0.2", Locations: container},
		{Name: "Microsoft.NETCore.ILAsm", Version: "8.0.2-servicing.1", NonShipping: true, Locations: container},
		{Name: "Microsoft.NETCore.App.Runtime.linux-x64", Version: "8.0.2", Locations: container},
		{Name: "Runtime/8.0.2/productVersion.txt", Version: "8.0.2", NonShipping: true, Locations: container},
		{Name: "Runtime/8.0.2/dotnet-runtime-8.0.2-win-x64.zip", Version: "8.0.2", Locations: container},
		{Name: "Runtime/8.0.2/dotnet-runtime-8.0.2-linux-x64.tar.gz", Version: "8.0.2", Locations: container},
		{Name: "Microsoft.NETCore.App.Ref", Version: "8.0.2-blob", Locations: container},
	}
	assert.Equal(t, want, b.Assets)
	for _, a := range b.Assets {
		assert.Zero(t, a.ID)
	}

	// Locations must not share backing arrays: the registry may edit one asset's.
	b.Assets[0].Locations[0].Location = "changed"
	assert.NotEqual(t, "changed", b.Assets[1].Locations[0].Location)
}

func TestMergeAssetLocations(t *testing.T) {
	tests := []struct {
		name     string
		attrs    string
		pkg, blb []maestro.AssetLocation
	}{
		{
			name:  "InitialAssetsLocation is a container for everything and wins over Location",
			attrs: `InitialAssetsLocation="https://dev.azure.com/dnceng/internal/_apis/build/builds/9/artifacts" Location="https://feed/index.json"`,
			pkg:   []maestro.AssetLocation{{Type: maestro.LocationContainer, Location: "https://dev.azure.com/dnceng/internal/_apis/build/builds/9/artifacts"}},
			blb:   []maestro.AssetLocation{{Type: maestro.LocationContainer, Location: "https://dev.azure.com/dnceng/internal/_apis/build/builds/9/artifacts"}},
		},
		{
			name:  "Location is a feed for packages and a container for blobs",
			attrs: `Location="https://pkgs.dev.azure.com/dnceng/_packaging/feed/nuget/v3/index.json"`,
			pkg:   []maestro.AssetLocation{{Type: maestro.LocationNuGetFeed, Location: "https://pkgs.dev.azure.com/dnceng/_packaging/feed/nuget/v3/index.json"}},
			blb:   []maestro.AssetLocation{{Type: maestro.LocationContainer, Location: "https://pkgs.dev.azure.com/dnceng/_packaging/feed/nuget/v3/index.json"}},
		},
		{
			name:  "no location known",
			attrs: ``,
			pkg:   []maestro.AssetLocation{},
			blb:   []maestro.AssetLocation{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := parseAll(t, "a.xml", `<Build PublishingVersion="3" Commit="1" AzureDevOpsRepository="https://dev.azure.com/a/b/_git/c" `+tt.attrs+`>`+
				`<Package Id="P" Version="1.0.0"/><Blob Id="b/1.0.0/b.zip"/></Build>`)
			b, err := manifest.Merge(ms)
			require.NoError(t, err)
			require.Len(t, b.Assets, 2)
			assert.Equal(t, tt.pkg, b.Assets[0].Locations)
			assert.Equal(t, tt.blb, b.Assets[1].Locations)
		})
	}
}

func TestMergeOneManifestKeepsManifestOrder(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("<Build " + mirror + ">\n")
	names := []string{"Z", "A", "M", "B"}
	for _, n := range names {
		sb.WriteString(`<Package Id="` + n + `" Version="1.0.0"/>` + "\n")
	}
	sb.WriteString("</Build>")
	b, err := manifest.Merge(parseAll(t, "a.xml", sb.String()))
	require.NoError(t, err)
	var got []string
	for _, a := range b.Assets {
		got = append(got, a.Name)
	}
	assert.Equal(t, names, got)
}

// A manifest may leave the commit and the repository out: publish then takes
// them from the pipeline's environment or its flags.
func TestMergeLeavesMissingCommitAndRepositoryEmpty(t *testing.T) {
	ms := parseAll(t, "a.xml", `<Build PublishingVersion="3" Name="dotnet-arcade"/>`)
	b, err := manifest.Merge(ms)
	require.NoError(t, err)
	assert.Empty(t, b.Commit)
	assert.Empty(t, b.Repository)
}
