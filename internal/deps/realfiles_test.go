package deps_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/deps/globaljson"
	"github.com/maestroplusplus/maestro/internal/deps/internal/sharedfixtures"
	"github.com/maestroplusplus/maestro/internal/deps/props"
	"github.com/maestroplusplus/maestro/internal/deps/versiondetails"
)

// realRepoLayout maps the flat files of fixtures/dependency-files/<repo> to
// their places in a repository.
var realRepoLayout = map[string]string{
	"Version.Details.xml":   "eng/Version.Details.xml",
	"Versions.props":        "eng/Versions.props",
	"Version.Details.props": "eng/Version.Details.props",
	"global.json":           "global.json",
}

// inconsistency is what a real repository's committed files genuinely get
// wrong: `deps verify` must report problems at exactly these places.
type inconsistency struct {
	reason string
	at     []string // "file:line" of each expected problem
	// drifted are dependencies whose property was edited by hand away from
	// Version.Details.xml; an update rightly resets it.
	drifted []string
}

var knownInconsistencies = map[string]inconsistency{
	"core-setup.release-3.0-preview9": {
		reason: "the properties SystemDiagnosticsPerformanceCounter and SystemIOPipesAccessControl lack the Version suffix, so no update ever reaches them",
		at:     []string{"eng/Version.Details.xml:44", "eng/Version.Details.xml:68"},
	},
	"installer.release-8.0.1xx": {
		reason: "18 dependencies (source-build intermediates, templates, tools consumed through other properties) have no version property, " +
			"and MicrosoftDotNetDarcLibVersion and SystemTextJsonPackageVersion were bumped by hand past Version.Details.xml",
		at: []string{
			"eng/Version.Details.xml:92", "eng/Version.Details.xml:105", "eng/Version.Details.xml:109", "eng/Version.Details.xml:113",
			"eng/Version.Details.xml:117", "eng/Version.Details.xml:135", "eng/Version.Details.xml:139", "eng/Version.Details.xml:149",
			"eng/Version.Details.xml:162", "eng/Version.Details.xml:172", "eng/Version.Details.xml:180", "eng/Version.Details.xml:185",
			"eng/Version.Details.xml:196", "eng/Version.Details.xml:201", "eng/Version.Details.xml:206", "eng/Version.Details.xml:211",
			"eng/Version.Details.xml:215", "eng/Version.Details.xml:235", "eng/Versions.props:47", "eng/Versions.props:106",
			"eng/Version.Details.xml:251", "eng/Version.Details.xml:256",
		},
		drifted: []string{"Microsoft.DotNet.DarcLib", "System.Text.Json"},
	},
}

// realRepo copies a real repository's dependency files into a temporary
// repository layout and returns its root.
func realRepo(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join(sharedfixtures.Dir(t, "dependency-files"), name)
	dir := t.TempDir()
	for from, to := range realRepoLayout {
		data, err := os.ReadFile(filepath.Join(src, from))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, to)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func realRepoNames(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(sharedfixtures.Dir(t, "dependency-files"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	if len(out) == 0 {
		t.Fatal("no real repositories in fixtures/dependency-files")
	}
	return out
}

// snapshot reads every file under dir.
func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func assertSameTree(t *testing.T, want, got map[string][]byte) {
	t.Helper()
	for p, w := range want {
		g, ok := got[p]
		if !ok {
			t.Errorf("%s was deleted", p)
			continue
		}
		if !bytes.Equal(w, g) {
			t.Errorf("%s changed:\n%s", p, deps.UnifiedDiff(p, w, g))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s was created", p)
		}
	}
}

func TestRealFilesParse(t *testing.T) {
	for _, name := range realRepoNames(t) {
		t.Run(name, func(t *testing.T) {
			dir := realRepo(t, name)
			l, err := deps.List(dir)
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			if len(l.Dependencies) == 0 {
				t.Fatal("no dependencies parsed")
			}
			for _, d := range l.Dependencies {
				if d.Name == "" || d.Version == "" || d.Line == 0 || (d.Type != deps.Product && d.Type != deps.Toolset) {
					t.Errorf("incomplete dependency %+v", d)
				}
			}
			for _, rel := range []string{"eng/Versions.props", "eng/Version.Details.props"} {
				if data, err := os.ReadFile(filepath.Join(dir, rel)); err == nil {
					if _, err := props.Parse(rel, data); err != nil {
						t.Errorf("%s: %v", rel, err)
					}
				}
			}
			data, err := os.ReadFile(filepath.Join(dir, "global.json"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := globaljson.Parse("global.json", data); err != nil {
				t.Errorf("global.json: %v", err)
			}
		})
	}
}

func TestRealFilesVerify(t *testing.T) {
	for _, name := range realRepoNames(t) {
		t.Run(name, func(t *testing.T) {
			problems, err := deps.Verify(realRepo(t, name))
			if err != nil {
				t.Fatal(err)
			}
			var got, all []string
			for _, p := range problems {
				got = append(got, fmt.Sprintf("%s:%d", p.File, p.Line))
				all = append(all, p.String())
			}
			known := knownInconsistencies[name]
			if strings.Join(got, " ") != strings.Join(known.at, " ") {
				t.Errorf("verify reported:\n%s\nwant problems at %v (%s)", strings.Join(all, "\n"), known.at, known.reason)
			}
		})
	}
}

// TestRealFilesNoOpUpdate applies an update that restates every dependency,
// the SDK version and <Source> as they are: nothing may change.
func TestRealFilesNoOpUpdate(t *testing.T) {
	for _, name := range realRepoNames(t) {
		t.Run(name, func(t *testing.T) {
			dir := realRepo(t, name)
			before := snapshot(t, dir)
			l, err := deps.List(dir)
			if err != nil {
				t.Fatal(err)
			}
			var u deps.UpdateFile
			for _, d := range l.Dependencies {
				if d.Sha == "" || d.URI == "" {
					continue // e.g. the 2018 "Will be filled by darc" placeholder
				}
				u.Updates = append(u.Updates, deps.Update{Name: d.Name, Version: d.Version, Sha: d.Sha, URI: d.URI})
			}
			if s := l.Source; s != nil {
				u.Source = &deps.Source{URI: s.URI, Mapping: s.Mapping, Sha: s.Sha, BarID: s.BarID}
			}
			g, err := globaljson.Parse("global.json", before["global.json"])
			if err != nil {
				t.Fatal(err)
			}
			if v, ok := g.ToolsDotnet(); ok {
				u.DotnetSdk = &v
			}
			res, err := deps.ApplyUpdateFile(context.Background(), dir, u, deps.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Files) != 0 || len(res.Changed) != 0 {
				t.Errorf("no-op update changed %d files, %d dependencies", len(res.Files), len(res.Changed))
			}
			assertSameTree(t, before, snapshot(t, dir))
		})
	}
}

// TestRealFilesRoundTrip moves every dependency to a new version and back:
// the files must end byte-identical.
func TestRealFilesRoundTrip(t *testing.T) {
	for _, name := range realRepoNames(t) {
		t.Run(name, func(t *testing.T) {
			dir := realRepo(t, name)
			before := snapshot(t, dir)
			l, err := deps.List(dir)
			if err != nil {
				t.Fatal(err)
			}
			var there, back deps.UpdateFile
			for _, d := range l.Dependencies {
				if d.Sha == "" || d.URI == "" || d.Pinned || slices.Contains(knownInconsistencies[name].drifted, d.Name) {
					continue
				}
				there.Updates = append(there.Updates, deps.Update{Name: d.Name, Version: d.Version + "-moved", Sha: strings.Repeat("f", 40), URI: d.URI + "-moved"})
				back.Updates = append(back.Updates, deps.Update{Name: d.Name, Version: d.Version, Sha: d.Sha, URI: d.URI})
			}
			if len(there.Updates) == 0 {
				t.Skip("no dependency has a commit and repository to move")
			}
			res, err := deps.ApplyUpdateFile(context.Background(), dir, there, deps.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Files) == 0 {
				t.Fatal("moving every dependency changed no file")
			}
			l2, err := deps.List(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range l2.Dependencies {
				if d.Sha != "" && d.URI != "" && !d.Pinned && !slices.Contains(knownInconsistencies[name].drifted, d.Name) && !strings.HasSuffix(d.Version, "-moved") {
					t.Errorf("%s is still %s", d.Name, d.Version)
				}
			}
			if _, err := deps.ApplyUpdateFile(context.Background(), dir, back, deps.Options{}); err != nil {
				t.Fatal(err)
			}
			assertSameTree(t, before, snapshot(t, dir))
		})
	}
}

// TestRealDetailsPropsGeneration regenerates every real Version.Details.props
// from its Version.Details.xml: production generated them, so the bytes must
// match.
func TestRealDetailsPropsGeneration(t *testing.T) {
	root := sharedfixtures.Dir(t, "dependency-files")
	for _, name := range realRepoNames(t) {
		want, err := os.ReadFile(filepath.Join(root, name, "Version.Details.props"))
		if os.IsNotExist(err) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join(root, name, "Version.Details.xml"))
			if err != nil {
				t.Fatal(err)
			}
			f, err := versiondetails.Parse("Version.Details.xml", src)
			if err != nil {
				t.Fatal(err)
			}
			var gen []props.GenDependency
			for _, d := range f.Dependencies() {
				if !d.SkipProperty {
					gen = append(gen, props.GenDependency{Name: d.Name, Version: d.Version, URI: d.URI})
				}
			}
			got := props.Generate(gen, "\n")
			if !bytes.Equal(got, want) {
				t.Errorf("generated Version.Details.props differs from production's:\n%s", deps.UnifiedDiff("Version.Details.props", want, got))
			}
		})
	}
}
