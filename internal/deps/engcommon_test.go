package deps_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps"
)

const arcadeVDX = `<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
  </ProductDependencies>
  <ToolsetDependencies>
    <Dependency Name="Microsoft.DotNet.Arcade.Sdk" Version="9.0.0-beta.24058.6">
      <Uri>https://github.com/dotnet/arcade</Uri>
      <Sha>05493e05d4bbf262f1be1bd517ac95f5bff3a2ef</Sha>
    </Dependency>
  </ToolsetDependencies>
</Dependencies>
`

const arcadeGlobal = `{
  "sdk": {
    "version": "9.0.100-alpha.1.23615.4"
  },
  "tools": {
    "dotnet": "9.0.100-alpha.1.23615.4"
  },
  "msbuild-sdks": {
    "Microsoft.DotNet.Arcade.Sdk": "9.0.0-beta.24058.6"
  }
}
`

// TestEngCommonSync updates Microsoft.DotNet.Arcade.Sdk with an Arcade
// checkout: eng/common becomes the checkout's (changed, new and deleted files,
// executable bits), and the SDK version comes from the checkout's global.json.
func TestEngCommonSync(t *testing.T) {
	repo := writeTree(t, map[string]string{
		"eng/Version.Details.xml":          arcadeVDX,
		"eng/Versions.props":               "<Project>\n</Project>\n",
		"global.json":                      arcadeGlobal,
		"eng/common/build.sh":              "#!/usr/bin/env bash\necho old\n",
		"eng/common/tools.ps1":             "Write-Host same\n",
		"eng/common/retired/old.yml":       "steps: []\n",
		"eng/common/templates/job/job.yml": "jobs:\n- job: old\n",
	})
	arcade := writeTree(t, map[string]string{
		"global.json":                      strings.ReplaceAll(arcadeGlobal, "9.0.100-alpha.1.23615.4", "9.0.100-alpha.1.24061.26"),
		"eng/common/build.sh":              "#!/usr/bin/env bash\necho new\n",
		"eng/common/tools.ps1":             "Write-Host same\n",
		"eng/common/templates/job/job.yml": "jobs:\n- job: new\n",
		"eng/common/cross/toolchain.cmake": "set(X 1)\n",
	})
	if err := os.Chmod(filepath.Join(arcade, "eng/common/build.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	u := deps.UpdateFile{Updates: []deps.Update{{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "9.0.0-beta.24062.5",
		Sha: "d731f58a502086842739a358ab490bec08fdb8a7", URI: "https://github.com/dotnet/arcade"}}}

	dry, err := deps.ApplyUpdateFile(context.Background(), repo, u, deps.Options{DryRun: true, ArcadeCheckout: arcade})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(readFile(t, repo, "eng/common/build.sh")); !strings.Contains(got, "echo old") {
		t.Fatal("dry run wrote eng/common")
	}
	golden(t, "engcommon/sync.diff", []byte(dry.Diff()))

	if _, err := deps.ApplyUpdateFile(context.Background(), repo, u, deps.Options{ArcadeCheckout: arcade}); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"eng/common/build.sh", "eng/common/tools.ps1", "eng/common/templates/job/job.yml", "eng/common/cross/toolchain.cmake"} {
		if got, want := string(readFile(t, repo, rel)), string(readFile(t, arcade, rel)); got != want {
			t.Errorf("%s = %q, want the checkout's %q", rel, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(repo, "eng/common/retired")); !os.IsNotExist(err) {
		t.Errorf("eng/common/retired should be gone with its only file (err %v)", err)
	}
	info, err := os.Stat(filepath.Join(repo, "eng/common/build.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm()&0o100 == 0 {
		t.Errorf("build.sh lost its executable bit: %v", info.Mode())
	}
}

// TestEngCommonNotSyncedWithoutArcadeUpdate: a checkout alone changes nothing
// when the update does not move the Arcade SDK.
func TestEngCommonNotSyncedWithoutArcadeUpdate(t *testing.T) {
	repo := writeTree(t, map[string]string{"eng/Version.Details.xml": arcadeVDX, "global.json": arcadeGlobal, "eng/common/build.sh": "old\n"})
	arcade := writeTree(t, map[string]string{"eng/common/build.sh": "new\n"})
	res, err := deps.ApplyUpdateFile(context.Background(), repo, deps.UpdateFile{}, deps.Options{ArcadeCheckout: arcade})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 0 {
		t.Errorf("changed %d files", len(res.Files))
	}
}
