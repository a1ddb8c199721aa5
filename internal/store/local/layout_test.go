package local_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestroplusplus/maestro/internal/store"
)

func TestLayout(t *testing.T) {
	cases := []struct {
		key  string
		path string // relative to the root, slash-separated
	}{
		{"builds/12.json", "data/builds@/12.json"},
		{"a", "data/a"},
		{"a/b", "data/a@/b"},
		{"Microsoft.NETCore.App/1.0.0+abc", "data/!microsoft.!n!e!t!core.!app@/1.0.0+abc"},
		{"with space", "data/with%20space"},
		{"100%", "data/100%25"},
		{"a@b", "data/a%40b"},
		{"bang!", "data/bang%21"},
		{"colon:star*", "data/colon%3astar%2a"},
		{"trailing.", "data/trailing%2e"},
		{"con", "data/%63on"},
		{"nul.txt/x", "data/%6eul.txt@/x"},
		{"console", "data/console"},
		{"ü", "data/%c3%bc"},
	}
	s := open(t, t.TempDir())
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			if _, err := s.Put(t.Context(), c.key, []byte(c.key), store.Condition{}); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(s.Dir(), filepath.FromSlash(c.path)))
			if err != nil {
				t.Fatalf("object for key %q is not at %s: %v", c.key, c.path, err)
			}
			if string(got) != c.key {
				t.Fatalf("%s holds %q, want %q", c.path, got, c.key)
			}
		})
	}
}

// TestListIgnoresOtherFiles checks that temporary, lock and lease files, and
// files that no key maps to, never show up as keys.
func TestListIgnoresOtherFiles(t *testing.T) {
	s := open(t, t.TempDir())
	ctx := t.Context()
	if _, err := s.Put(ctx, "k", []byte("x"), store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcquireLease(ctx, "lock", store.MinLeaseDuration); err != nil {
		t.Fatal(err)
	}
	for _, stray := range []string{"data/UPPER", "data/.DS_Store", "data/a%zz", "data/x!", "data/dir/y", "data/z@", "tmp/put-123"} {
		p := filepath.Join(s.Dir(), filepath.FromSlash(stray))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("stray"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"k", "lock"}; !slices.Equal(keys, want) {
		t.Fatalf("List = %q, want %q", keys, want)
	}
}

func TestSegmentTooLong(t *testing.T) {
	s := open(t, t.TempDir())
	ok := strings.Repeat("a", 255)
	if _, err := s.Put(t.Context(), ok, []byte("x"), store.Condition{}); err != nil {
		t.Fatalf("Put of a 255-byte segment: %v", err)
	}
	for _, key := range []string{strings.Repeat("a", 256), strings.Repeat("A", 128), strings.Repeat("a", 255) + "/x", strings.Repeat("ü", 50)} {
		_, err := s.Put(t.Context(), key, []byte("x"), store.Condition{})
		if !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("Put(%.20q...) error = %v, want ErrInvalidKey", key, err)
		}
	}
}

func TestOpenRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	stale := filepath.Join(s.Dir(), "tmp", "put-stale")
	fresh := filepath.Join(s.Dir(), "tmp", "put-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	open(t, dir)
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temporary file survived Open: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("Open removed a fresh temporary file that a live writer may own: %v", err)
	}
}
