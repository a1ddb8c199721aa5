package deps_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/deps/internal/sharedfixtures"
	"github.com/maestroplusplus/maestro/test/testenv"
)

// oracleCase is one commit the production bot made (fixtures/maestro-updates).
type oracleCase struct {
	name    string
	dir     string
	update  deps.UpdateFile
	checked []string
}

func loadOracleCases(tb testing.TB) []oracleCase {
	tb.Helper()
	root := filepath.Join(sharedfixtures.Dir(tb, "maestro-updates"), "cases")
	entries, err := os.ReadDir(root)
	if err != nil {
		tb.Fatalf("read cases: %v", err)
	}
	var out []oracleCase
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		data, err := os.ReadFile(filepath.Join(dir, "updates.json"))
		if err != nil {
			tb.Fatalf("%s: %v", e.Name(), err)
		}
		u, err := deps.ParseUpdateFile(filepath.Join(dir, "updates.json"), data)
		if err != nil {
			tb.Fatalf("%s: %v", e.Name(), err)
		}
		var meta struct {
			Checked []string `json:"checked"`
		}
		data, err = os.ReadFile(filepath.Join(dir, "meta.json"))
		if err != nil {
			tb.Fatalf("%s: %v", e.Name(), err)
		}
		if err := json.Unmarshal(data, &meta); err != nil {
			tb.Fatalf("%s: meta.json: %v", e.Name(), err)
		}
		out = append(out, oracleCase{name: e.Name(), dir: dir, update: u, checked: meta.Checked})
	}
	if len(out) == 0 {
		tb.Fatalf("no cases under %s", root)
	}
	return out
}

// loadExceptions reads test/maestro-updates-exceptions.txt: "case reason" per
// line, '#' comments.
func loadExceptions(tb testing.TB) map[string]string {
	tb.Helper()
	p := filepath.Join(testenv.RepoRoot(tb), "test", "maestro-updates-exceptions.txt")
	f, err := os.Open(p)
	if err != nil {
		tb.Fatalf("open %s: %v", p, err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		name, reason, _ := strings.Cut(text, " ")
		if strings.TrimSpace(reason) == "" {
			tb.Fatalf("%s:%d: case %s has no reason", p, line, name)
		}
		out[name] = strings.TrimSpace(reason)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("read %s: %v", p, err)
	}
	return out
}

// copyTree copies a fixture's before/ folder.
func copyTree(tb testing.TB, from, to string) {
	tb.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		target := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		tb.Fatalf("copy %s: %v", from, err)
	}
}

// mismatches returns the checked files of dir that differ from the case's after/.
func (c oracleCase) mismatches(tb testing.TB, dir string) []string {
	tb.Helper()
	var bad []string
	for _, f := range c.checked {
		want, err := os.ReadFile(filepath.Join(c.dir, "after", filepath.FromSlash(f)))
		if err != nil {
			tb.Fatalf("%s: %v", c.name, err)
		}
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			tb.Fatalf("%s: %v", c.name, err)
		}
		if !bytes.Equal(got, want) {
			bad = append(bad, f)
		}
	}
	return bad
}

// TestOracle replays every commit the production bot made through
// ApplyUpdateFile — the code path of `maestro deps update --from-file` — on a
// copy of before/ and compares every checked file with after/, byte for byte.
func TestOracle(t *testing.T) {
	cases := loadOracleCases(t)
	exceptions := loadExceptions(t)
	known := map[string]bool{}
	passed, excepted := 0, 0
	for _, c := range cases {
		known[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			copyTree(t, filepath.Join(c.dir, "before"), dir)
			_, err := deps.ApplyUpdateFile(context.Background(), dir, c.update, deps.Options{})
			var bad []string
			if err != nil {
				bad = []string{"error: " + err.Error()}
			} else {
				bad = c.mismatches(t, dir)
			}
			reason, excepted := exceptions[c.name]
			switch {
			case len(bad) == 0 && excepted:
				t.Errorf("passes now; remove it from test/maestro-updates-exceptions.txt (listed as %q)", reason)
			case len(bad) > 0 && !excepted:
				for _, f := range bad {
					t.Errorf("%s differs from after/", f)
					if !strings.HasPrefix(f, "error: ") {
						got, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
						want, _ := os.ReadFile(filepath.Join(c.dir, "after", filepath.FromSlash(f)))
						t.Log(deps.UnifiedDiff(f, want, got))
					}
				}
			}
		})
		if _, ok := exceptions[c.name]; ok {
			excepted++
		} else {
			passed++
		}
	}
	var stale []string
	for name := range exceptions {
		if !known[name] {
			stale = append(stale, name)
		}
	}
	sort.Strings(stale)
	for _, name := range stale {
		t.Errorf("exceptions list names %s, which is not a fixture case", name)
	}
	rate := float64(passed) / float64(len(cases))
	t.Logf("%d cases: %d expected to match exactly (%.1f%%), %d listed exceptions", len(cases), passed, 100*rate, excepted)
	if rate < 0.98 {
		t.Errorf("only %.1f%% of cases are expected to match; the bar is 98%%", 100*rate)
	}
}
