package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInitMigratesTheEarlierLayout: a registry written before format
// markers (testdata/registry-v0, made by the maestro of that time) is
// refused until `registry init`, which rebuilds its indexes so that every
// question answers as it did before, and leaves `registry check` clean.
func TestInitMigratesTheEarlierLayout(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "registry-v0", "store"))))
	e := &env{t: t, store: "file://" + dir}

	r := e.run("build", "list")
	require.Equal(t, 2, r.code, "no marker yet: %s", r.stderr)
	assert.Contains(t, r.stderr, "registry init")

	e.ok("registry", "init")

	var list []struct {
		ID       int `json:"id"`
		Channels []struct {
			Name string `json:"name"`
		} `json:"channels"`
	}
	e.okJSON(&list, "build", "list")
	require.Len(t, list, 3)
	assert.Equal(t, []int{3, 2, 1}, []int{list[0].ID, list[1].ID, list[2].ID})
	require.Len(t, list[0].Channels, 1)
	assert.Equal(t, "Eng", list[0].Channels[0].Name)

	var b struct {
		ID     int `json:"id"`
		Assets []struct {
			Name string `json:"name"`
		} `json:"assets"`
	}
	e.okJSON(&b, "build", "latest", "--repository", "https://github.com/dotnet/arcade", "--channel", ".NET 10")
	assert.Equal(t, 2, b.ID, "latest arcade build in .NET 10")
	assert.Len(t, b.Assets, 2, "its assets from the earlier assets.json")
	e.okJSON(&b, "build", "latest", "--repository", "https://github.com/dotnet/runtime")
	assert.Equal(t, 3, b.ID, "latest runtime build in any channel")

	var assets []struct {
		Build struct {
			ID int `json:"id"`
		} `json:"build"`
	}
	e.okJSON(&assets, "asset", "find", "--name", "Microsoft.DotNet.arcade.Sdk", "--version", "10.0.0-beta.26601.1")
	require.Len(t, assets, 1, "asset by name and version")
	assert.Equal(t, 1, assets[0].Build.ID)

	e.ok("registry", "check")
	assert.Contains(t, e.ok("subscription", "list"), "https://github.com/dotnet/runtime")
	assert.True(t, strings.Contains(e.ok("registry", "init"), "nothing changed"), "init again changes nothing")
}
