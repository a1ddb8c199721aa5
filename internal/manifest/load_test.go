package manifest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/manifest"
)

// artifactsTree lays out manifests the way an Azure Pipelines download of the
// AssetManifests artifact does, and returns its root.
func artifactsTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"AssetManifests/Windows_NT-x64.xml":        `<Build PublishingVersion="3" Commit="1"><Package Id="W" Version="1.0.0"/></Build>`,
		"AssetManifests/Linux-arm64.xml":           `<Build PublishingVersion="3" Commit="1"><Package Id="L" Version="1.0.0"/></Build>`,
		"AssetManifests/nested/OSX-x64.XML":        `<Build PublishingVersion="3" Commit="1"><Package Id="O" Version="1.0.0"/></Build>`,
		"AssetManifests/ReleaseConfigs.txt":        "not a manifest",
		"log/Release/AssetManifest/Source.xml":     `<Build PublishingVersion="4" Commit="1"/>`,
		"log/Release/AssetManifest/nested/Bad.xml": `<Build PublishingVersion="3"><Package/></Build>`,
	}
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return root
}

func TestLoad(t *testing.T) {
	root := artifactsTree(t)
	at := func(rel string) string { return filepath.Join(root, filepath.FromSlash(rel)) }
	tests := []struct {
		name     string
		patterns []string
		want     []string // relative paths of the manifests, in order
	}{
		{"one file", []string{at("AssetManifests/Linux-arm64.xml")}, []string{"AssetManifests/Linux-arm64.xml"}},
		{"a glob within one folder, sorted", []string{at("AssetManifests/*.xml")}, []string{"AssetManifests/Linux-arm64.xml", "AssetManifests/Windows_NT-x64.xml"}},
		{"a folder: every .xml below it", []string{at("AssetManifests")}, []string{"AssetManifests/Linux-arm64.xml", "AssetManifests/Windows_NT-x64.xml", "AssetManifests/nested/OSX-x64.XML"}},
		{"** crosses folders", []string{at("**/Windows_NT-*.xml")}, []string{"AssetManifests/Windows_NT-x64.xml"}},
		{"** in the middle", []string{at("log/**/AssetManifest/*.xml")}, []string{"log/Release/AssetManifest/Source.xml"}},
		{"pattern order, each file once", []string{at("AssetManifests/Windows_NT-x64.xml"), at("AssetManifests/*.xml")}, []string{"AssetManifests/Windows_NT-x64.xml", "AssetManifests/Linux-arm64.xml"}},
		{"alternatives", []string{at("AssetManifests/{Linux,Windows_NT}-*.xml")}, []string{"AssetManifests/Linux-arm64.xml", "AssetManifests/Windows_NT-x64.xml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := manifest.Load(tt.patterns)
			require.NoError(t, err)
			var got []string
			for _, m := range ms {
				rel, err := filepath.Rel(root, m.Path)
				require.NoError(t, err)
				got = append(got, filepath.ToSlash(rel))
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestLoadRelativePatterns(t *testing.T) {
	root := artifactsTree(t)
	t.Chdir(root)
	ms, err := manifest.Load([]string{"AssetManifests/**/*-x64.*"})
	require.NoError(t, err)
	require.Len(t, ms, 2)
	assert.Equal(t, filepath.FromSlash("AssetManifests/Windows_NT-x64.xml"), ms[0].Path)
	assert.Equal(t, filepath.FromSlash("AssetManifests/nested/OSX-x64.XML"), ms[1].Path)
}

func TestLoadErrors(t *testing.T) {
	root := artifactsTree(t)
	at := func(rel string) string { return filepath.Join(root, filepath.FromSlash(rel)) }
	tests := []struct {
		name     string
		patterns []string
		kind     maestro.ErrorKind
		want     []string
	}{
		{"no patterns", nil, maestro.KindInvalid, []string{"no manifest given"}},
		{"a file that is not there", []string{at("AssetManifests/Windows_NT-x64.xml"), at("AssetManifests/Missing.xml")}, maestro.KindInvalid, []string{"no manifest matches", "Missing.xml"}},
		{"a glob that matches nothing", []string{at("**/*.json")}, maestro.KindInvalid, []string{"no manifest matches", "*.json"}},
		{"a glob under a missing folder", []string{at("nowhere/**/*.xml")}, maestro.KindInvalid, []string{"no manifest matches", "nowhere"}},
		{"a bad pattern", []string{at("AssetManifests/[.xml")}, maestro.KindInvalid, []string{"is not a valid glob", "[.xml"}},
		{"a manifest that does not parse", []string{at("log/**/*.xml")}, maestro.KindInvalid, []string{"Bad.xml:1: <Package> has no Id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := manifest.Load(tt.patterns)
			require.Error(t, err)
			assert.Nil(t, ms)
			assert.Equal(t, tt.kind, maestro.KindOf(err), "kind of %v", err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}
