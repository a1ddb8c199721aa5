package e2e_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/test/testenv"
)

// TestDepsUpdateFromPublishedBuild replays real production commits through
// the registry: for oracle cases whose updates all come from one build, it
// publishes that build (a manifest with the updated packages), runs
// `maestro deps update --build N` on a copy of before/, and compares the
// checked files with after/ byte for byte.
func TestDepsUpdateFromPublishedBuild(t *testing.T) {
	casesDir := testenv.Shared(t, "fixtures", "maestro-updates", "cases")
	exceptions := readExceptions(t)
	entries, err := os.ReadDir(casesDir)
	require.NoError(t, err)
	perRepo := map[string]int{}
	e := newLocal(t)
	ran := 0
	for i, entry := range entries {
		name := entry.Name()
		repo, _, _ := strings.Cut(name, "-")
		if exceptions[name] || perRepo[repo] >= 8 {
			continue
		}
		var u deps.UpdateFile
		data, err := os.ReadFile(filepath.Join(casesDir, name, "updates.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &u))
		if !oneBuild(u) {
			continue
		}
		perRepo[repo]++
		ran++
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			spec := manifestSpec{repo: u.Updates[0].URI, branch: "main", commit: u.Updates[0].Sha, azdoBuildID: 100000 + i}
			for _, up := range u.Updates {
				spec.packages = append(spec.packages, up.Name+"@"+up.Version)
			}
			m := writeFile(t, dir, "manifest.xml", spec.xml())
			id := strings.TrimSpace(e.ok("publish", "--manifest", m))
			work := filepath.Join(dir, "repo")
			require.NoError(t, exec.Command("cp", "-r", filepath.Join(casesDir, name, "before"), work).Run())
			e.ok("deps", "update", "--dir", work, "--build", id)

			var meta struct{ Checked []string }
			data, err := os.ReadFile(filepath.Join(casesDir, name, "meta.json"))
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(data, &meta))
			for _, f := range meta.Checked {
				want, err := os.ReadFile(filepath.Join(casesDir, name, "after", f))
				require.NoError(t, err)
				got, err := os.ReadFile(filepath.Join(work, f))
				require.NoError(t, err)
				assert.Equal(t, string(want), string(got), f)
			}
		})
	}
	assert.GreaterOrEqual(t, ran, 20, "enough single-build cases")
}

// oneBuild reports whether every update of u comes from one build and the
// update carries nothing a build does not record (SDK version, <Source>).
func oneBuild(u deps.UpdateFile) bool {
	if len(u.Updates) == 0 || u.DotnetSdk != nil || u.Source != nil {
		return false
	}
	for _, up := range u.Updates {
		if up.URI != u.Updates[0].URI || up.Sha != u.Updates[0].Sha {
			return false
		}
	}
	return true
}

func readExceptions(t *testing.T) map[string]bool {
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "test", "maestro-updates-exceptions.txt"))
	require.NoError(t, err)
	out := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
			out[f[0]] = true
		}
	}
	return out
}

// TestDepsCoherencyFromRegistry: a coherent dependency follows the version
// its parent's build depended on, as recorded by publish --version-details.
func TestDepsCoherencyFromRegistry(t *testing.T) {
	e := newLocal(t)
	dir := t.TempDir()
	// Y builds the child package; X builds the parent and depends on Y's build.
	y := manifestSpec{repo: "https://github.com/dotnet/runtime", branch: "main", commit: sha(21), azdoBuildID: 21,
		packages: []string{"Microsoft.NETCore.App.Ref@10.0.0-preview.2"}}
	e.ok("publish", "--manifest", writeFile(t, dir, "y.xml", y.xml()))
	x := manifestSpec{repo: "https://github.com/dotnet/aspnetcore", branch: "main", commit: sha(22), azdoBuildID: 22,
		packages: []string{"Microsoft.AspNetCore.App.Ref@10.0.0-preview.2"}}
	xDetails := writeFile(t, dir, "x/eng/Version.Details.xml", fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
    <Dependency Name="Microsoft.NETCore.App.Ref" Version="10.0.0-preview.2">
      <Uri>https://github.com/dotnet/runtime</Uri>
      <Sha>%s</Sha>
    </Dependency>
  </ProductDependencies>
  <ToolsetDependencies>
  </ToolsetDependencies>
</Dependencies>
`, sha(21)))
	xID := strings.TrimSpace(e.ok("publish", "--manifest", writeFile(t, dir, "x.xml", x.xml()), "--version-details", xDetails))

	target := filepath.Join(dir, "target")
	writeFile(t, target, "eng/Version.Details.xml", fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
    <Dependency Name="Microsoft.AspNetCore.App.Ref" Version="10.0.0-preview.1">
      <Uri>https://github.com/dotnet/aspnetcore</Uri>
      <Sha>%s</Sha>
    </Dependency>
    <Dependency Name="Microsoft.NETCore.App.Ref" Version="10.0.0-preview.1" CoherentParentDependency="Microsoft.AspNetCore.App.Ref">
      <Uri>https://github.com/dotnet/runtime</Uri>
      <Sha>%s</Sha>
    </Dependency>
  </ProductDependencies>
  <ToolsetDependencies>
  </ToolsetDependencies>
</Dependencies>
`, sha(12), sha(11)))
	writeFile(t, target, "eng/Versions.props", `<Project>
  <PropertyGroup>
    <MicrosoftAspNetCoreAppRefPackageVersion>10.0.0-preview.1</MicrosoftAspNetCoreAppRefPackageVersion>
    <MicrosoftNETCoreAppRefPackageVersion>10.0.0-preview.1</MicrosoftNETCoreAppRefPackageVersion>
  </PropertyGroup>
</Project>
`)
	out := e.ok("deps", "update", "--dir", target, "--build", xID)
	assert.Contains(t, out, "Microsoft.AspNetCore.App.Ref 10.0.0-preview.1 → 10.0.0-preview.2")
	assert.Contains(t, out, "Microsoft.NETCore.App.Ref 10.0.0-preview.1 → 10.0.0-preview.2 (coherent with Microsoft.AspNetCore.App.Ref)")
	props, err := os.ReadFile(filepath.Join(target, "eng", "Versions.props"))
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(props), "10.0.0-preview.2"))
	e.ok("deps", "verify", "--dir", target)

	var listing deps.Listing
	e.okJSON(&listing, "deps", "list", "--dir", target)
	names := []string{}
	for _, d := range listing.Dependencies {
		names = append(names, d.Name+"@"+d.Version+"@"+d.Sha)
	}
	sort.Strings(names)
	assert.Equal(t, []string{
		"Microsoft.AspNetCore.App.Ref@10.0.0-preview.2@" + sha(22),
		"Microsoft.NETCore.App.Ref@10.0.0-preview.2@" + sha(21),
	}, names)
}

func TestDepsBadInputLeavesTreeUnchanged(t *testing.T) {
	e := newLocal(t)
	casesDir := testenv.Shared(t, "fixtures", "maestro-updates", "cases")
	before := filepath.Join(casesDir, "sourcelink-0074a21d83", "before")
	tests := []struct {
		name, update string
		want         []string
	}{
		{"malformed json", "{\"updates\": [\n  {\"name\": \"Microsoft.DotNet.Arcade.Sdk\" \"version\": \"1.0\"}\n]}", []string{"updates.json:2"}},
		{"unknown dependency", `{"updates":[{"name":"Not.A.Dependency","version":"1.0.0","sha":"abc","uri":"https://github.com/dotnet/x"}]}`, []string{"Not.A.Dependency", "maestro deps add"}},
		{"version with spaces", `{"updates":[{"name":"Microsoft.DotNet.Arcade.Sdk","version":"1.0 beta","sha":"abc","uri":"https://github.com/dotnet/arcade"}]}`, []string{"1.0 beta"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			work := filepath.Join(dir, "repo")
			require.NoError(t, exec.Command("cp", "-r", before, work).Run())
			update := writeFile(t, dir, "updates.json", tt.update)
			r := e.run("deps", "update", "--dir", work, "--from-file", update)
			assert.Equal(t, 2, r.code, r.stderr)
			for _, w := range tt.want {
				assert.Contains(t, r.stderr, w)
			}
			out, err := exec.Command("diff", "-r", before, work).CombinedOutput()
			assert.NoError(t, err, "tree changed: %s", out)
		})
	}

	t.Run("verify reports each problem", func(t *testing.T) {
		work := filepath.Join(t.TempDir(), "repo")
		require.NoError(t, exec.Command("cp", "-r", before, work).Run())
		gj := filepath.Join(work, "global.json")
		data, err := os.ReadFile(gj)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(gj, []byte(strings.Replace(string(data), "1.0.0-beta.19462.5", "1.0.0-beta.1", 1)), 0o644))
		r := e.run("deps", "verify", "--dir", work)
		assert.NotEqual(t, 0, r.code)
		assert.Contains(t, r.stdout, "global.json")
		assert.Contains(t, r.stdout, "1.0.0-beta.1")
	})
}
