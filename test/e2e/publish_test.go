package e2e_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

func TestPublishChannelsAndIdempotency(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		e.ok("channel", "add", "--name", ".NET 10", "--classification", "product")
		e.ok("channel", "add", "--name", ".NET 10 Servicing")
		e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", ".NET 10")
		e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", `-regex:^release/10\.0\.\d+xx$`, "--channel", ".NET 10 Servicing")

		spec := manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main", commit: sha(1), azdoBuildID: 1001,
			packages: []string{"Microsoft.DotNet.Arcade.Sdk@10.0.0-beta.26575.1", "Microsoft.DotNet.Helix.Sdk@10.0.0-beta.26575.1"},
			blobs:    []string{"assets/symbols/Microsoft.DotNet.Arcade.Sdk.10.0.0-beta.26575.1.symbols.nupkg"}}
		// Two job manifests of one build merge into one record.
		job2 := spec
		job2.packages = []string{"Microsoft.DotNet.SignTool@10.0.0-beta.26575.1"}
		job2.blobs = nil
		writeFile(t, dir, "a/Windows.xml", spec.xml())
		writeFile(t, dir, "a/Linux.xml", job2.xml())

		var b maestro.Build
		e.okJSON(&b, "publish", "--manifest", filepath.Join(dir, "a", "*.xml"))
		assert.Equal(t, "https://github.com/dotnet/arcade", b.Repository)
		assert.Equal(t, "main", b.Branch)
		assert.Len(t, b.Assets, 4)
		require.Len(t, b.Channels, 1)
		assert.Equal(t, ".NET 10", b.Channels[0].Name)

		again := strings.TrimSpace(e.ok("publish", "--manifest", filepath.Join(dir, "a", "*.xml")))
		assert.Equal(t, strconv.Itoa(b.ID), again, "same Azure DevOps build, same BAR id")
		var shown maestro.Build
		e.okJSON(&shown, "build", "show", "--id", again)
		assert.Len(t, shown.Assets, 4, "no duplicate assets")
		var list []maestro.Build
		e.okJSON(&list, "build", "list")
		assert.Len(t, list, 1)

		servicing := spec
		servicing.branch, servicing.azdoBuildID, servicing.commit = "release/10.0.1xx", 1002, sha(2)
		writeFile(t, dir, "b/m.xml", servicing.xml())
		e.okJSON(&b, "publish", "--manifest", filepath.Join(dir, "b", "m.xml"))
		require.Len(t, b.Channels, 1)
		assert.Equal(t, ".NET 10 Servicing", b.Channels[0].Name)

		nonMatching := spec
		nonMatching.branch, nonMatching.azdoBuildID, nonMatching.commit = "release/10.0", 1003, sha(3)
		writeFile(t, dir, "c/m.xml", nonMatching.xml())
		e.okJSON(&b, "publish", "--manifest", filepath.Join(dir, "c", "m.xml"), "--channel", ".NET 10")
		require.Len(t, b.Channels, 1, "regex does not match release/10.0; only --channel applies")
		assert.Equal(t, ".NET 10", b.Channels[0].Name)

		var latest maestro.Build
		e.okJSON(&latest, "build", "latest", "--repository", "https://github.com/dotnet/arcade.git", "--channel", ".NET 10")
		assert.Equal(t, b.ID, latest.ID)

		var found []struct {
			Asset maestro.Asset `json:"asset"`
			Build maestro.Build `json:"build"`
		}
		e.okJSON(&found, "asset", "find", "--name", "microsoft.dotnet.signtool")
		assert.Len(t, found, 1, "only the first build had SignTool")
	})
}

func TestPublishVersionDetailsRecordsDependencies(t *testing.T) {
	e := newLocal(t)
	dir := t.TempDir()
	up := manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main", commit: sha(10), azdoBuildID: 10,
		packages: []string{"Microsoft.DotNet.Arcade.Sdk@10.0.0-beta.1"}}
	writeFile(t, dir, "up.xml", up.xml())
	upID := strings.TrimSpace(e.ok("publish", "--manifest", filepath.Join(dir, "up.xml")))

	down := manifestSpec{repo: "https://github.com/dotnet/runtime", branch: "main", commit: sha(11), azdoBuildID: 11,
		packages: []string{"Microsoft.NETCore.App.Ref@10.0.0-preview.1"}}
	writeFile(t, dir, "down.xml", down.xml())
	vd := writeFile(t, dir, "Version.Details.xml", fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
    <Dependency Name="Microsoft.Unknown.Thing" Version="1.0.0">
      <Uri>https://github.com/dotnet/unknown</Uri>
      <Sha>%s</Sha>
    </Dependency>
  </ProductDependencies>
  <ToolsetDependencies>
    <Dependency Name="Microsoft.DotNet.Arcade.Sdk" Version="10.0.0-beta.1">
      <Uri>https://github.com/dotnet/arcade</Uri>
      <Sha>%s</Sha>
    </Dependency>
  </ToolsetDependencies>
</Dependencies>
`, sha(99), sha(10)))
	r := e.run("publish", "--manifest", filepath.Join(dir, "down.xml"), "--version-details", vd, "--output", "json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "Microsoft.Unknown.Thing 1.0.0 is not in the registry")
	var published, b maestro.Build
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &published))
	e.okJSON(&b, "build", "show", "--id", strconv.Itoa(published.ID))
	require.Len(t, b.Dependencies, 1)
	assert.Equal(t, upID, strconv.Itoa(b.Dependencies[0].BuildID))
	assert.False(t, b.Dependencies[0].IsProduct)
}

func TestPublishConcurrentProcesses(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		e.ok("channel", "add", "--name", "dev")
		for r := range 5 {
			e.ok("default-channel", "add", "--repository", fmt.Sprintf("https://github.com/o/r%d", r), "--branch", "main", "--channel", "dev")
		}
		const n = 50
		paths := make([]string, n)
		for i := range n {
			spec := manifestSpec{repo: fmt.Sprintf("https://github.com/o/r%d", i%5), branch: "main", commit: sha(i), azdoBuildID: 5000 + i}
			for j := range 20 {
				spec.packages = append(spec.packages, fmt.Sprintf("Pkg%d.N%d@1.0.%d", i%5, j, i))
			}
			paths[i] = writeFile(t, dir, fmt.Sprintf("m%d.xml", i), spec.xml())
		}
		ids := make([]string, n)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				r := e.run("publish", "--manifest", paths[i])
				assert.Equal(t, 0, r.code, r.stderr)
				ids[i] = strings.TrimSpace(r.stdout)
			}()
		}
		wg.Wait()
		seen := map[string]bool{}
		for _, id := range ids {
			assert.False(t, seen[id], "duplicate BAR id %s", id)
			seen[id] = true
		}
		var inChannel []maestro.Build
		e.okJSON(&inChannel, "build", "list", "--channel", "dev", "--limit", "100")
		assert.Len(t, inChannel, n, "channel index complete")
		for i := range n {
			var b maestro.Build
			e.okJSON(&b, "build", "show", "--id", ids[i])
			assert.Len(t, b.Assets, 20)
		}
	})
}
