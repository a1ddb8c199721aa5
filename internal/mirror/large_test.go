package mirror_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/mirror"
)

// largeRepo writes a bare repository at dir whose branch main has commits
// commits, each changing one of 50 files to size bytes of incompressible
// content (git fast-import), and returns main's head.
func largeRepo(tb testing.TB, dir string, commits, size int) string {
	tb.Helper()
	if out, err := exec.Command("git", "init", "--quiet", "--bare", dir).CombinedOutput(); err != nil {
		tb.Fatalf("git init: %v\n%s", err, out)
	}
	cmd := exec.Command("git", "-C", dir, "fast-import", "--quiet")
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if out, err := os.CreateTemp(tb.TempDir(), "fast-import"); err == nil {
		cmd.Stdout, cmd.Stderr = out, out
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(in, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	blob := make([]byte, size)
	when := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for i := 1; i <= commits; i++ {
		for j := range blob {
			blob[j] = byte(rng.Uint32())
		}
		msg := fmt.Sprintf("commit %d\n", i)
		fmt.Fprintf(w, "commit refs/heads/main\nmark :%d\ncommitter Dev <dev@example.com> %d +0000\ndata %d\n%s", i, when+int64(i), len(msg), msg)
		fmt.Fprintf(w, "M 100644 inline src/file%02d.bin\ndata %d\n", i%50, len(blob))
		w.Write(blob)
		w.WriteString("\n")
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		tb.Fatalf("git fast-import: %v", err)
	}
	out, err := exec.Command("git", "-C", dir, "rev-parse", "refs/heads/main").Output()
	if err != nil {
		tb.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// TestLargeSourceInOneRun: a 5,000-commit branch is mirrored into an empty
// target in one run, every commit moved.
func TestLargeSourceInOneRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 5,000-commit repository")
	}
	root := t.TempDir()
	source, target := filepath.Join(root, "source.git"), filepath.Join(root, "target.git")
	head := largeRepo(t, source, 5000, 256)
	if out, err := exec.Command("git", "init", "--quiet", "--bare", target).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	m := mirror.Mirror{Git: git.Runner{Author: bot}, TempDir: t.TempDir()}
	out, err := m.Run(context.Background(), mirror.Request{Source: "file://" + source, Branch: "main", Target: target, Mode: maestro.MirrorFastForward})
	if err != nil {
		t.Fatal(err)
	}
	if out.Result != maestro.MirrorCreated || out.Commits != 5000 || out.TargetHeadAfter != head {
		t.Errorf("outcome %+v; want created, 5000 commits, head %s", out, head)
	}
	got, err := exec.Command("git", "-C", target, "rev-list", "--count", "main").Output()
	if err != nil || strings.TrimSpace(string(got)) != "5000" {
		t.Errorf("target main has %q commits (%v)", got, err)
	}
	if err := exec.Command("git", "-C", target, "fsck", "--connectivity-only", "--no-progress").Run(); err != nil {
		t.Errorf("the target is not whole: %v", err)
	}
}

// BenchmarkMirror5000Commits mirrors a 5,000-commit, 20 MB branch into an
// empty target (mirror.Run, through a scratch repository), and in the same
// iteration times a plain `git push --mirror` of a clone holding only that
// branch into another empty repository, the baseline; it reports both and
// their ratio (goal: ≤ 1.5).
func BenchmarkMirror5000Commits(b *testing.B) {
	root := b.TempDir()
	source := filepath.Join(root, "source.git")
	largeRepo(b, source, 5000, 4096)
	clone := filepath.Join(root, "clone.git")
	if out, err := exec.Command("git", "clone", "--quiet", "--bare", "--single-branch", "--branch", "main", "--no-local", source, clone).CombinedOutput(); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	ctx := context.Background()
	m := mirror.Mirror{Git: git.Runner{Author: bot}, TempDir: b.TempDir()}
	var mirrorTime, pushTime time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		t1, t2 := filepath.Join(root, fmt.Sprintf("t%d-mirror.git", i)), filepath.Join(root, fmt.Sprintf("t%d-push.git", i))
		for _, d := range []string{t1, t2} {
			if out, err := exec.Command("git", "init", "--quiet", "--bare", d).CombinedOutput(); err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
		}
		b.StartTimer()
		start := time.Now()
		out, err := m.Run(ctx, mirror.Request{Source: "file://" + source, Branch: "main", Target: "file://" + t1, Mode: maestro.MirrorFastForward})
		mirrorTime += time.Since(start)
		b.StopTimer()
		if err != nil || out.Commits != 5000 {
			b.Fatalf("mirror: %v, %d commits", err, out.Commits)
		}
		start = time.Now()
		if out, err := exec.Command("git", "-C", clone, "push", "--quiet", "--mirror", "file://"+t2).CombinedOutput(); err != nil {
			b.Fatalf("git push --mirror: %v\n%s", err, out)
		}
		pushTime += time.Since(start)
		os.RemoveAll(t1)
		os.RemoveAll(t2)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(mirrorTime.Milliseconds())/float64(b.N), "mirror-ms/op")
	b.ReportMetric(float64(pushTime.Milliseconds())/float64(b.N), "push-mirror-ms/op")
	b.ReportMetric(float64(mirrorTime)/float64(pushTime), "ratio")
}
