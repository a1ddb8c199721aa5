package manifest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/manifest"
)

const head = `<Build PublishingVersion="3" Name="dotnet-arcade" Commit="abc" AzureDevOpsRepository="https://dev.azure.com/dnceng/internal/_git/dotnet-arcade">`

func TestParseRealManifest(t *testing.T) {
	path := filepath.Join("testdata", "builds", "arcade-v3", "Windows_NT-AnyCPU.xml")
	data, err := os.ReadFile(path)
	require.NoError(t, err)

	m, err := manifest.Parse(data, path)
	require.NoError(t, err)

	assert.Equal(t, path, m.Path)
	assert.Equal(t, 2, m.Line)
	assert.Equal(t, 3, m.PublishingVersion)
	assert.Equal(t, manifest.BuildAttributes{
		Name:                         "dotnet-arcade",
		BuildID:                      "20240312.4",
		Branch:                       "refs/heads/release/8.0",
		Commit:                       "7c2b8f1e0d9a4b3c6e5f8a7d1b0c9e8f7a6d5c4b",
		AzureDevOpsAccount:           "dnceng",
		AzureDevOpsProject:           "internal",
		AzureDevOpsBuildID:           "2398741",
		AzureDevOpsBuildDefinitionID: "6",
		AzureDevOpsBuildNumber:       "20240312.4",
		AzureDevOpsRepository:        "https://dev.azure.com/dnceng/internal/_git/dotnet-arcade",
		AzureDevOpsBranch:            "refs/heads/release/8.0",
		InitialAssetsLocation:        "https://dev.azure.com/dnceng/internal/_apis/build/builds/2398741/artifacts",
		IsStable:                     "false",
	}, m.Build)
	require.Len(t, m.Packages, 8)
	assert.Equal(t, manifest.Package{ID: "Microsoft.DotNet.Arcade.Sdk", Version: "8.0.0-beta.24162.4", NonShipping: true, Line: 3}, m.Packages[0])
	require.Len(t, m.Blobs, 4)
	assert.Equal(t, manifest.Blob{ID: "assets/symbols/Microsoft.DotNet.Arcade.Sdk.8.0.0-beta.24162.4.symbols.nupkg", NonShipping: true, Line: 11}, m.Blobs[0])
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name  string
		xml   string
		check func(t *testing.T, m *manifest.Manifest)
	}{
		{
			name: "publishing version 4",
			xml:  `<Build PublishingVersion="4"/>`,
			check: func(t *testing.T, m *manifest.Manifest) {
				assert.Equal(t, 4, m.PublishingVersion)
			},
		},
		{
			name: "publishing version spelled as the enum name",
			xml:  `<Build PublishingVersion=" v3 "/>`,
			check: func(t *testing.T, m *manifest.Manifest) {
				assert.Equal(t, 3, m.PublishingVersion)
			},
		},
		{
			name: "NonShipping in every spelling Arcade and .NET write",
			xml: head + `<Package Id="A" Version="1.0.0" NonShipping="true"/><Package Id="B" Version="1.0.0" NonShipping="True"/>` +
				`<Package Id="C" Version="1.0.0" NonShipping=" 1 "/><Package Id="D" Version="1.0.0" NonShipping="FALSE"/>` +
				`<Package Id="E" Version="1.0.0"/><Package Id="F" Version="1.0.0" NonShipping=""/>` +
				`<Blob Id="f.zip" NonShipping="0"/><Blob Id="g.zip" NonShipping="true"/></Build>`,
			check: func(t *testing.T, m *manifest.Manifest) {
				var got []bool
				for _, p := range m.Packages {
					got = append(got, p.NonShipping)
				}
				for _, b := range m.Blobs {
					got = append(got, b.NonShipping)
				}
				assert.Equal(t, []bool{true, true, true, false, false, false, false, true}, got)
			},
		},
		{
			name: "IsStable and ids are written canonically",
			xml:  `<Build PublishingVersion="3" IsStable=" True " AzureDevOpsBuildId=" 0042" AzureDevOpsBuildDefinitionId="+7"/>`,
			check: func(t *testing.T, m *manifest.Manifest) {
				assert.Equal(t, "true", m.Build.IsStable)
				assert.Equal(t, "42", m.Build.AzureDevOpsBuildID)
				assert.Equal(t, "7", m.Build.AzureDevOpsBuildDefinitionID)
			},
		},
		{
			name: "empty optional attributes count as absent",
			xml:  `<Build PublishingVersion="3" IsStable="" AzureDevOpsBuildId="" Location=""/>`,
			check: func(t *testing.T, m *manifest.Manifest) {
				assert.Equal(t, manifest.BuildAttributes{}, m.Build)
			},
		},
		{
			name: "double dots inside a name are fine",
			xml:  head + `<Package Id="Foo..Bar" Version="1.0.0"/><Blob Id="assets/a..b/Foo..Bar.1.0.0.zip"/></Build>`,
			check: func(t *testing.T, m *manifest.Manifest) {
				assert.Equal(t, "Foo..Bar", m.Packages[0].ID)
				assert.Equal(t, "assets/a..b/Foo..Bar.1.0.0.zip", m.Blobs[0].ID)
			},
		},
		{
			name: "a blob may carry its own version",
			xml:  head + `<Blob Id="assets/dotnet-sdk.zip" Version="9.0.100"/></Build>`,
			check: func(t *testing.T, m *manifest.Manifest) {
				assert.Equal(t, "9.0.100", m.Blobs[0].Version)
			},
		},
		{
			name: "unknown attributes, Pdb, SigningInformation and nested look-alikes are ignored",
			xml: `<?xml version="1.0" encoding="utf-8"?>` + "\n" +
				`<!-- written by PushToBuildStorage -->` + "\n" +
				`<Build PublishingVersion="3" ProductVersion="8.0.2" VersionStamp="servicing" xmlns:x="urn:x" x:Name="ignored">` + "\n" +
				`<Package Id="A" Version="1.0.0" RepoOrigin="runtime" Visibility="Vertical" x:Id="ignored"/>` + "\n" +
				`<Pdb Id="A/net8.0/A.pdb"/>` + "\n" +
				`<SigningInformation><Package Id="NotAnAsset" Version="1"/><ItemsToSign Include="A.1.0.0.nupkg"/></SigningInformation>` + "\n" +
				`<x:Package Id="AlsoNot" Version="1"/>` + "\n" +
				`<Unknown><![CDATA[ <Package Id="Text"/> ]]></Unknown>` + "\n" +
				`</Build>` + "\n",
			check: func(t *testing.T, m *manifest.Manifest) {
				assert.Equal(t, []manifest.Package{{ID: "A", Version: "1.0.0", Line: 4}}, m.Packages)
				assert.Empty(t, m.Blobs)
				assert.Equal(t, manifest.BuildAttributes{}, m.Build)
			},
		},
		{
			name: "UTF-8 byte order mark",
			xml:  "\uFEFF" + `<?xml version="1.0" encoding="utf-8"?><Build PublishingVersion="3"/>`,
			check: func(t *testing.T, m *manifest.Manifest) {
				assert.Equal(t, 3, m.PublishingVersion)
			},
		},
		{
			name: "character references are decoded",
			xml:  head + `<Package Id="A&amp;B" Version="1.0.0&#45;beta"/></Build>`,
			check: func(t *testing.T, m *manifest.Manifest) {
				assert.Equal(t, manifest.Package{ID: "A&B", Version: "1.0.0-beta", Line: 1}, m.Packages[0])
			},
		},
		{
			name: "lines of a multi-line root and its children",
			xml:  "<Build\n  PublishingVersion=\"3\"\n  Commit=\"abc\">\n\n  <Package Id=\"A\" Version=\"1\"/>\n  <Blob\n    Id=\"b.zip\"/>\n</Build>",
			check: func(t *testing.T, m *manifest.Manifest) {
				assert.Equal(t, 1, m.Line)
				assert.Equal(t, 5, m.Packages[0].Line)
				assert.Equal(t, 6, m.Blobs[0].Line)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := manifest.Parse([]byte(tt.xml), "test.xml")
			require.NoError(t, err)
			tt.check(t, m)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want []string // substrings of the error, after "test.xml:"
	}{
		{"empty file", ``, []string{"1: no <Build> root element"}},
		{"only a declaration", `<?xml version="1.0"?>` + "\n", []string{"2: no <Build> root element"}},
		{"root is not Build", "<?xml version=\"1.0\"?>\n<Project Sdk=\"Microsoft.NET.Sdk\"/>", []string{"2: root element is <Project>, not <Build>"}},
		{"root is a prefixed Build", `<a:Build xmlns:a="urn:a" PublishingVersion="3"/>`, []string{"1: root element is <a:Build>"}},
		{"mismatched end tag", "<Build PublishingVersion=\"3\">\n<Package Id=\"A\" Version=\"1\">\n</Build>", []string{"3: malformed XML: element <Package> closed by </Build>"}},
		{"stray end tag", "<Build PublishingVersion=\"3\"/>\n</Build>", []string{"2: malformed XML: unexpected end element </Build>"}},
		{"truncated inside a tag", "<Build PublishingVersion=\"3\">\n<Package Id=\"A\" Vers", []string{"2: malformed XML: unexpected EOF"}},
		{"truncated between elements", "<Build PublishingVersion=\"3\">\n<Package Id=\"A\" Version=\"1\"/>\n", []string{"3: truncated XML: unexpected end of file inside <Build>"}},
		{"truncated inside a child", "<Build PublishingVersion=\"3\">\n<SigningInformation>\n<ItemsToSign Include=\"a\"/>", []string{"3: truncated XML: unexpected end of file inside <SigningInformation>"}},
		{"second root", "<Build PublishingVersion=\"3\"/>\n<Build PublishingVersion=\"3\"/>", []string{"2: malformed XML: element <Build> after the root element ended"}},
		{"text outside the root", "<Build PublishingVersion=\"3\"/>\ntrailing", []string{"2: malformed XML: text outside the root element"}},
		{"bad attribute syntax", "<Build PublishingVersion=3/>", []string{"1: malformed XML: unquoted or missing attribute value"}},
		{"undeclared entity", "<Build PublishingVersion=\"3\">\n<Package Id=\"A&nbsp;\" Version=\"1\"/></Build>", []string{"2: malformed XML: invalid character entity &nbsp;"}},
		{"NUL character reference", "<Build PublishingVersion=\"3\">\n<Package Id=\"A&#0;\" Version=\"1\"/></Build>", []string{"2: malformed XML: illegal character code U+0000"}},
		{"invalid UTF-8", "<Build PublishingVersion=\"3\">\n<Package Id=\"\xff\" Version=\"1\"/></Build>", []string{"2: malformed XML: invalid UTF-8"}},
		{"UTF-16 declared", "<?xml version=\"1.0\" encoding=\"utf-16\"?><Build/>", []string{"1: malformed XML:", "utf-16"}},
		{"repeated attribute", "<Build PublishingVersion=\"3\">\n<Package Id=\"A\" Id=\"B\" Version=\"1\"/></Build>", []string{"2: malformed XML: <Package> repeats attribute Id"}},
		{"repeated root attribute", `<Build PublishingVersion="3" Commit="a" Commit="b"/>`, []string{"1: malformed XML: <Build> repeats attribute Commit"}},
		{"repeated attribute among many", `<Build PublishingVersion="3" A1="" A2="" A3="" A4="" A5="" A6="" A7="" A8="" A9="" A10="" A11="" A12="" A13="" A14="" A15="" A16="" A17="" A3=""/>`, []string{"1: malformed XML: <Build> repeats attribute A3"}},
		{"no PublishingVersion", "<Build Name=\"dotnet-wpf\">\n</Build>", []string{"1: <Build> has no PublishingVersion attribute", "3 and 4"}},
		{"PublishingVersion 2", `<Build PublishingVersion="2"/>`, []string{`1: PublishingVersion "2" is not supported`, "3 and 4"}},
		{"PublishingVersion 5", `<Build PublishingVersion="5"/>`, []string{`PublishingVersion "5" is not supported`, "3 and 4"}},
		{"PublishingVersion not a number", `<Build PublishingVersion="latest"/>`, []string{`PublishingVersion "latest" is not supported`}},
		{"Package without Id", head + "\n<Package Version=\"1.0.0\"/></Build>", []string{"2: <Package> has no Id"}},
		{"Package with blank Id", head + "\n<Package Id=\" \" Version=\"1.0.0\"/></Build>", []string{"2: <Package> has no Id"}},
		{"Package without Version", head + "\n\n<Package Id=\"A\"/></Build>", []string{`3: <Package Id="A"> has no Version`}},
		{"Blob without Id", head + "\n<Blob NonShipping=\"true\"/></Build>", []string{"2: <Blob> has no Id"}},
		{"NonShipping not a boolean", head + "\n<Package Id=\"A\" Version=\"1\" NonShipping=\"yes\"/></Build>", []string{`2: <Package> NonShipping "yes" is not true or false`}},
		{"blob NonShipping not a boolean", head + "\n<Blob Id=\"a.zip\" NonShipping=\"maybe\"/></Build>", []string{`2: <Blob> NonShipping "maybe" is not true or false`}},
		{"IsStable not a boolean", `<Build PublishingVersion="3" IsStable="sometimes"/>`, []string{`1: IsStable "sometimes" is not true or false`}},
		{"AzureDevOpsBuildId not a number", `<Build PublishingVersion="3" AzureDevOpsBuildId="12a"/>`, []string{`1: AzureDevOpsBuildId "12a" is not a positive whole number`}},
		{"AzureDevOpsBuildDefinitionId negative", `<Build PublishingVersion="3" AzureDevOpsBuildDefinitionId="-6"/>`, []string{`AzureDevOpsBuildDefinitionId "-6" is not a positive whole number`}},
		{"AzureDevOpsBuildId too large", `<Build PublishingVersion="3" AzureDevOpsBuildId="99999999999"/>`, []string{`AzureDevOpsBuildId "99999999999"`}},
		{"package Id with a .. segment", head + "\n<Package Id=\"../../evil\" Version=\"1\"/></Build>", []string{`2: package Id "../../evil" has a ".." path segment`, "escape its folder"}},
		{"package Id that is absolute", head + "\n<Package Id=\"/etc/passwd\" Version=\"1\"/></Build>", []string{`package Id "/etc/passwd" is an absolute path`}},
		{"package Id with a backslash", head + "\n<Package Id=\"a\\b\" Version=\"1\"/></Build>", []string{`contains a backslash`}},
		{"package Id with a drive letter", head + "\n<Package Id=\"C:evil\" Version=\"1\"/></Build>", []string{`has a drive letter (C:)`}},
		{"package Version with a .. segment", head + "\n<Package Id=\"A\" Version=\"1.0/../../x\"/></Build>", []string{`2: package "A" Version "1.0/../../x" has a ".." path segment`}},
		{"blob Id with a .. segment in the middle", head + "\n<Blob Id=\"assets/../../../x.zip\"/></Build>", []string{`2: blob Id "assets/../../../x.zip" has a ".." path segment`}},
		{"blob Id that is just ..", head + "\n<Blob Id=\"..\"/></Build>", []string{`blob Id ".." has a ".." path segment`}},
		{"blob Id with a drive letter", head + "\n<Blob Id=\"d:/temp/x.zip\"/></Build>", []string{`has a drive letter (d:)`}},
		{"blob Id with a drive letter deeper down", head + "\n<Blob Id=\"assets/C:/x.zip\"/></Build>", []string{`has a drive letter (C:)`}},
		{"blob Id with a backslash", head + "\n<Blob Id=\"assets\\..\\x.zip\"/></Build>", []string{`contains a backslash`}},
		{"blob Id that is absolute", head + "\n<Blob Id=\"/x.zip\"/></Build>", []string{`is an absolute path`}},
		{"blob Version with a .. segment", head + "\n<Blob Id=\"x.zip\" Version=\"..\"/></Build>", []string{`blob "x.zip" Version ".." has a ".." path segment`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := manifest.Parse([]byte(tt.xml), "test.xml")
			require.Error(t, err)
			assert.Nil(t, m)
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err), "kind of %v", err)
			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, "test.xml:"), "error %q does not name the file", msg)
			assert.NotContains(t, msg, "\n", "error must be one line")
			for _, w := range tt.want {
				assert.Contains(t, msg, w)
			}
		})
	}
}
