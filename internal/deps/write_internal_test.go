package deps

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWriteAllRollsBack makes the third of four writes fail: the files
// written before it are restored (a created one removed, a deleted one back).
func TestWriteAllRollsBack(t *testing.T) {
	dir := t.TempDir()
	for p, c := range map[string]string{"a.txt": "a-old\n", "blocker": "a file where a folder is needed\n", "gone.txt": "gone\n"} {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	changes := []FileChange{
		{Path: "a.txt", Old: []byte("a-old\n"), New: []byte("a-new\n"), Mode: 0o644},
		{Path: "new/b.txt", New: []byte("b\n"), Created: true},
		{Path: "blocker/c.txt", New: []byte("c\n"), Created: true},
		{Path: "gone.txt", Old: []byte("gone\n"), Deleted: true},
	}
	if err := writeAll(dir, changes); err == nil {
		t.Fatal("writing under a file should fail")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "a.txt")); string(b) != "a-old\n" {
		t.Errorf("a.txt = %q, want it restored", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); !os.IsNotExist(err) {
		t.Errorf("new/ should be removed again, stat err %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "gone.txt")); string(b) != "gone\n" {
		t.Errorf("gone.txt = %q, it was never to be deleted", b)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if filepath.Ext(e.Name()) == "" && e.Name()[0] == '.' {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestWriteAllDeletesAndPrunes(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "eng/common/old"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "eng/common/old/x.sh"), []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeAll(dir, []FileChange{{Path: "eng/common/old/x.sh", Old: []byte("x"), Deleted: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "eng/common/old")); !os.IsNotExist(err) {
		t.Errorf("empty folder left behind: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "eng")); !os.IsNotExist(err) {
		t.Errorf("empty parents should go too: %v", err)
	}
}
