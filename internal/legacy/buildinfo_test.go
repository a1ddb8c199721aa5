package legacy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/legacy"
	"github.com/maestroplusplus/maestro/test/testenv"
)

// buildInfoCase is one case of fixtures/legacy-build-info.
type buildInfoCase struct {
	Name   string
	Dir    string
	Before map[string][]byte // the files that existed
	After  map[string][]byte
	Meta   struct {
		SHA, Name, Channel, Label, Subject, Folder string
		FilesChanged                               []string `json:"files_changed"`
	}
}

func buildInfoCases(t testing.TB) []buildInfoCase {
	t.Helper()
	root := filepath.Join(testenv.Shared(t, "fixtures", "legacy-build-info"), "cases")
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	var out []buildInfoCase
	for _, e := range entries {
		c := buildInfoCase{Name: e.Name(), Dir: filepath.Join(root, e.Name()), Before: map[string][]byte{}, After: map[string][]byte{}}
		meta, err := os.ReadFile(filepath.Join(c.Dir, "meta.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(meta, &c.Meta))
		for _, side := range []string{"before", "after"} {
			for _, f := range []string{legacy.LatestFile, legacy.LatestPackagesFile, legacy.LastBuildPackagesFile} {
				b, err := os.ReadFile(filepath.Join(c.Dir, side, f))
				if os.IsNotExist(err) {
					continue
				}
				require.NoError(t, err)
				if side == "before" {
					c.Before[f] = b
				} else {
					c.After[f] = b
				}
			}
		}
		out = append(out, c)
	}
	require.Len(t, out, 1036, "the fixture's README promises 1,036 cases")
	return out
}

// separator is the line separator the case's after/ files use, "" when
// neither package file has two lines.
func separator(c buildInfoCase) string {
	for _, f := range []string{legacy.LastBuildPackagesFile, legacy.LatestPackagesFile} {
		if i := bytes.IndexByte(c.After[f], '\n'); i >= 0 {
			if i > 0 && c.After[f][i-1] == '\r' {
				return "\r\n"
			}
			return "\n"
		}
	}
	return ""
}

// TestBuildInfoFixtures writes each case's build onto its before/ files and
// compares the result with after/ byte for byte. The build's list is
// after/Last_Build_Packages.txt, whose separator (when it has two lines or
// more) is the one the output uses; for the lists of zero or one line,
// which do not show it, the case's after/ files tell (the fixture README's
// quirk 2), as --newline does on the command line.
func TestBuildInfoFixtures(t *testing.T) {
	shownBySingleLine := 0
	for _, c := range buildInfoCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			build, sep, err := legacy.ParsePackages("build", c.After[legacy.LastBuildPackagesFile])
			require.NoError(t, err)
			if sep == "" {
				sep = separator(c)
				shownBySingleLine++
			}
			if sep == "" {
				sep = "\r\n"
			}
			got, err := legacy.BuildInfo(c.Before[legacy.LatestPackagesFile], build, c.Meta.Label, sep)
			require.NoError(t, err)
			for _, f := range []string{legacy.LatestFile, legacy.LatestPackagesFile, legacy.LastBuildPackagesFile} {
				assert.Equal(t, string(c.After[f]), string(got[f]), f)
			}
		})
	}
	t.Logf("%d cases whose build list does not show its separator", shownBySingleLine)
}

// The label defaults to the packages' common prerelease label: it is the
// subject's label in every case whose prerelease packages agree.
func TestCommonLabelFixtures(t *testing.T) {
	agree, differ := 0, 0
	for _, c := range buildInfoCases(t) {
		build, _, err := legacy.ParsePackages("build", c.After[legacy.LastBuildPackagesFile])
		require.NoError(t, err)
		label, err := legacy.CommonLabel(build)
		if err != nil {
			differ++
			assert.Contains(t, err.Error(), "give the build's label with --label")
			continue
		}
		agree++
		assert.Equal(t, c.Meta.Label, label, c.Name)
	}
	assert.Equal(t, 1030, agree)
	assert.Equal(t, 6, differ)
}

func TestCompareIDs(t *testing.T) {
	ordered := [][2]string{
		{"runtime.win10-x64.Microsoft.Private.CoreFx.UAP", "runtime.win10-x64-aot.Microsoft.Private.CoreFx.UAP"},
		{"runtime.win10-x86-aot.Microsoft.Private.CoreFx.UAP", "runtime.win-arm.Microsoft.Private.CoreFx.UAP"},
		{"runtime.freebsd.11-x64.Microsoft.NETCore.App", "runtime.freebsd-x64.Microsoft.NETCore.App"},
		{"VS.Redist.Common.NetCore.AppHostPack.x64.3.1", "VS.Redist.Common.NetCore.AppHostPack.x64_arm.3.1"},
		{"a.b", "A.C"},
		{"Microsoft.NETCore", "microsoft.netcore.app"},
		{"x9", "xa"},
		{"x", "x.a"},
		{"x_y", "x-y"}, // "-" ignored: "x_y" against "xy": '_' before 'y'
	}
	for _, p := range ordered {
		assert.Equal(t, -1, legacy.CompareIDs(p[0], p[1]), "%s < %s", p[0], p[1])
		assert.Equal(t, 1, legacy.CompareIDs(p[1], p[0]), "%s > %s", p[1], p[0])
	}
	assert.Equal(t, 0, legacy.CompareIDs("a.b", "a.b"))
}

func TestParsePackagesBad(t *testing.T) {
	tests := []struct{ in, want string }{
		{"A 1.0\r\nB\r\n", `p.txt:2: "B" is not "<Id> <Version>"`},
		{"A 1.0 extra", `p.txt:1: "A 1.0 extra" is not`},
		{"A 1.0\nB 2.0\na 3.0", `p.txt:3: package a is listed twice (first on line 1)`},
		{"A v1.0", `p.txt:1: package A: version "v1.0" does not start with a digit`},
		{"A 1.0*", `p.txt:1: package A: version "1.0*" has '*'`},
	}
	for _, tt := range tests {
		_, _, err := legacy.ParsePackages("p.txt", []byte(tt.in))
		require.Error(t, err, tt.in)
		assert.Contains(t, err.Error(), tt.want)
	}
	pkgs, sep, err := legacy.ParsePackages("p.txt", []byte("\xef\xbb\xbfA 1.0\n\nB 2.0-beta+sha\n"))
	require.NoError(t, err)
	assert.Equal(t, "\n", sep)
	assert.Equal(t, []legacy.Package{{ID: "A", Version: "1.0"}, {ID: "B", Version: "2.0-beta+sha"}}, pkgs)
	assert.Equal(t, "beta", legacy.PrereleaseLabel("2.0-beta+sha"))
}

func TestReadPackages(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.txt")
	b := filepath.Join(dir, "b.txt")
	m := filepath.Join(dir, "m.xml")
	require.NoError(t, os.WriteFile(a, []byte("A 1.0-x\r\nB 1.0-x"), 0o644))
	require.NoError(t, os.WriteFile(b, []byte("b 1.0-x\nC 1.0-x\n"), 0o644))
	require.NoError(t, os.WriteFile(m, []byte("\xef\xbb\xbf\n<Build PublishingVersion=\"3\" Name=\"r\" BuildId=\"1\" Branch=\"main\" Commit=\"0123456789abcdef0123456789abcdef01234567\">\n  <Package Id=\"D\" Version=\"1.0-x\" NonShipping=\"false\" />\n  <Package Id=\"A\" Version=\"2.0-y\" NonShipping=\"false\" />\n</Build>\n"), 0o644))

	pkgs, sep, err := legacy.ReadPackages([]string{a, b})
	require.NoError(t, err)
	assert.Equal(t, "\r\n", sep, "the first list that shows one")
	assert.Equal(t, []legacy.Package{{ID: "A", Version: "1.0-x"}, {ID: "B", Version: "1.0-x"}, {ID: "C", Version: "1.0-x"}}, pkgs)

	_, _, err = legacy.ReadPackages([]string{a, m})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "package A has two versions: "+a+": 1.0-x and "+m+": 2.0-y")

	pkgs, sep, err = legacy.ReadPackages([]string{m})
	require.NoError(t, err)
	assert.Equal(t, "", sep)
	assert.Len(t, pkgs, 2)

	_, _, err = legacy.ReadPackages([]string{filepath.Join(dir, "none.txt")})
	assert.ErrorContains(t, err, "read packages:")
}

// FuzzParsePackages: ParsePackages never panics, and what it accepts
// survives BuildInfo and a second parse unchanged (as a set, in the
// build-info order).
func FuzzParsePackages(f *testing.F) {
	f.Add([]byte("A 1.0\r\nB 2.0-beta"))
	f.Add([]byte("\xef\xbb\xbfSystem.Memory 4.5.0\n\nx.y 1.0.0+sha\n"))
	f.Add([]byte("A 1.0\nA 2.0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, _, err := legacy.ParsePackages("p.txt", data)
		if err != nil {
			return
		}
		files, err := legacy.BuildInfo(nil, pkgs, "label", "\r\n")
		require.NoError(t, err)
		again, _, err := legacy.ParsePackages("again", files[legacy.LastBuildPackagesFile])
		require.NoError(t, err)
		latest, _, err := legacy.ParsePackages("latest", files[legacy.LatestPackagesFile])
		require.NoError(t, err)
		assert.ElementsMatch(t, pkgs, again)
		assert.Equal(t, again, latest, "from nothing, the latest packages are the build's")
		for i := 1; i < len(again); i++ {
			assert.LessOrEqual(t, legacy.CompareIDs(again[i-1].ID, again[i].ID), 0)
		}
	})
}
