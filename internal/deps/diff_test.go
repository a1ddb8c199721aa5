package deps_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps"
)

func TestUnifiedDiff(t *testing.T) {
	old := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\n"
	new := strings.Replace(strings.Replace(old, "b\n", "B\n", 1), "l\n", "l\nL2\n", 1)
	want := `--- a/f
+++ b/f
@@ -1,5 +1,5 @@
 a
-b
+B
 c
 d
 e
@@ -10,4 +10,5 @@
 j
 k
 l
+L2
 m
`
	if got := deps.UnifiedDiff("f", []byte(old), []byte(new)); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := deps.UnifiedDiff("f", []byte("x"), []byte("y")); got != "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+y\n\\ No newline at end of file\n" {
		t.Errorf("no-newline diff:\n%s", got)
	}
	if deps.UnifiedDiff("f", []byte(old), []byte(old)) != "" {
		t.Error("equal files must give no diff")
	}
}

// FuzzUnifiedDiff: applying the hunks of the diff to old gives new.
func FuzzUnifiedDiff(f *testing.F) {
	f.Add("a\nb\nc\n", "a\nc\nd\n")
	f.Add("", "x\n")
	f.Fuzz(func(t *testing.T, old, new string) {
		d := deps.UnifiedDiff("f", []byte(old), []byte(new))
		if old == new {
			if d != "" {
				t.Fatal("diff of equal files")
			}
			return
		}
		if got := applyDiff(t, old, d); got != new {
			t.Fatalf("patched %q, want %q\n%s", got, new, d)
		}
	})
}

// applyDiff applies a unified diff produced by UnifiedDiff.
func applyDiff(t *testing.T, old, d string) string {
	t.Helper()
	var oldLines []string
	for rest := old; rest != ""; {
		i := strings.IndexByte(rest, '\n')
		if i < 0 {
			oldLines = append(oldLines, rest)
			break
		}
		oldLines = append(oldLines, rest[:i+1])
		rest = rest[i+1:]
	}
	lines := strings.SplitAfter(d, "\n")
	var out []string
	at := 0
	for i := 2; i < len(lines) && lines[i] != ""; i++ {
		l := lines[i]
		if strings.HasPrefix(l, "@@") {
			// "@@ -start[,count] ..." — with a count of 0, start is the line
			// before the hunk.
			from := strings.TrimPrefix(strings.Fields(l)[1], "-")
			n, count, _ := strings.Cut(from, ",")
			start, _ := strconv.Atoi(n)
			if count == "0" {
				start++
			}
			for at < start-1 {
				out = append(out, oldLines[at])
				at++
			}
			continue
		}
		switch l[0] {
		case ' ':
			out = append(out, oldLines[at])
			at++
		case '-':
			at++
		case '+':
			text := l[1:]
			if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "\\") {
				text = strings.TrimSuffix(text, "\n")
			}
			out = append(out, text)
		case '\\':
		}
	}
	out = append(out, oldLines[at:]...)
	return strings.Join(out, "")
}
