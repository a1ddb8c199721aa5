//go:build unix

package deps_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// TestRepositoryEdges: an update or add never reads or writes through a
// symbolic link that leaves the repository, and refuses a FIFO in place of a
// dependency file instead of blocking on it. Each case checks that nothing
// inside or outside the repository changed.
func TestRepositoryEdges(t *testing.T) {
	good := map[string]string{
		"eng/Version.Details.xml": goodVDX,
		"eng/Versions.props":      goodProps,
		"global.json":             goodGlobal,
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, repo, outside string)
	}{
		{"eng is a link outside", func(t *testing.T, repo, outside string) {
			must(t, os.Rename(filepath.Join(repo, "eng"), filepath.Join(outside, "eng")))
			must(t, os.Symlink(filepath.Join(outside, "eng"), filepath.Join(repo, "eng")))
		}},
		{"eng/common is a link outside", func(t *testing.T, repo, outside string) {
			must(t, os.MkdirAll(filepath.Join(outside, "common"), 0o755))
			must(t, os.WriteFile(filepath.Join(outside, "common", "build.sh"), []byte("echo\n"), 0o755))
			must(t, os.Symlink(filepath.Join(outside, "common"), filepath.Join(repo, "eng", "common")))
		}},
		{"Versions.props is a link outside", func(t *testing.T, repo, outside string) {
			must(t, os.Rename(filepath.Join(repo, "eng", "Versions.props"), filepath.Join(outside, "Versions.props")))
			must(t, os.Symlink(filepath.Join(outside, "Versions.props"), filepath.Join(repo, "eng", "Versions.props")))
		}},
		{"Versions.props is a relative link outside", func(t *testing.T, repo, outside string) {
			must(t, os.Rename(filepath.Join(repo, "eng", "Versions.props"), filepath.Join(outside, "Versions.props")))
			rel, err := filepath.Rel(filepath.Join(repo, "eng"), filepath.Join(outside, "Versions.props"))
			must(t, err)
			must(t, os.Symlink(rel, filepath.Join(repo, "eng", "Versions.props")))
		}},
		{"Versions.props is a FIFO", func(t *testing.T, repo, outside string) {
			must(t, os.Remove(filepath.Join(repo, "eng", "Versions.props")))
			must(t, syscall.Mkfifo(filepath.Join(repo, "eng", "Versions.props"), 0o644))
		}},
		{"Version.Details.xml is a FIFO", func(t *testing.T, repo, outside string) {
			must(t, os.Remove(filepath.Join(repo, "eng", "Version.Details.xml")))
			must(t, syscall.Mkfifo(filepath.Join(repo, "eng", "Version.Details.xml"), 0o644))
		}},
	}
	ops := []struct {
		name string
		run  func(dir string) error
	}{
		{"update", func(dir string) error {
			u, err := deps.ParseUpdateFile("updates.json", []byte(goodUpdate))
			if err != nil {
				return err
			}
			_, err = deps.ApplyUpdateFile(context.Background(), dir, u, deps.Options{})
			return err
		}},
		{"add", func(dir string) error {
			_, err := deps.Add(dir, deps.NewDependency{Name: "Microsoft.Extensions.Logging", Version: "9.0.1",
				Sha: "3333333333333333333333333333333333333333", URI: "https://github.com/dotnet/runtime", Type: deps.Product}, false)
			return err
		}},
	}
	for _, tc := range tests {
		for _, op := range ops {
			t.Run(tc.name+"/"+op.name, func(t *testing.T) {
				repo := writeTree(t, good)
				outside := t.TempDir()
				tc.setup(t, repo, outside)
				beforeRepo, beforeOutside := snapshotLinks(t, repo), snapshotLinks(t, outside)
				done := make(chan error, 1)
				go func() { done <- op.run(repo) }()
				var err error
				select {
				case err = <-done:
				case <-time.After(20 * time.Second):
					t.Fatal("blocked on a non-regular file")
				}
				if err == nil {
					t.Fatal("no error")
				}
				if k := maestro.KindOf(err); k != maestro.KindInvalid {
					t.Errorf("error kind %v, want KindInvalid: %v", k, err)
				}
				assertSameTree(t, beforeRepo, snapshotLinks(t, repo))
				assertSameTree(t, beforeOutside, snapshotLinks(t, outside))
			})
		}
	}
}

// TestLinkInsideRepository: a link that stays inside the repository is fine.
func TestLinkInsideRepository(t *testing.T) {
	repo := writeTree(t, map[string]string{
		"eng/Version.Details.xml": goodVDX,
		"props/Versions.props":    goodProps,
		"global.json":             goodGlobal,
	})
	must(t, os.Symlink("../props/Versions.props", filepath.Join(repo, "eng", "Versions.props")))
	u, err := deps.ParseUpdateFile("updates.json", []byte(goodUpdate))
	must(t, err)
	res, err := deps.ApplyUpdateFile(context.Background(), repo, u, deps.Options{})
	must(t, err)
	if len(res.Changed) != 1 {
		t.Fatalf("changed %v, want one dependency", res.Changed)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// snapshotLinks records every file's bytes, a link's target and a FIFO's
// presence, without following links or opening FIFOs.
func snapshotLinks(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			out[filepath.ToSlash(rel)] = []byte("link → " + target)
			return err
		case !d.Type().IsRegular():
			out[filepath.ToSlash(rel)] = []byte("special " + d.Type().String())
			return nil
		}
		data, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
