package mirror_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/mirror"
)

func TestDecide(t *testing.T) {
	const ff, im = maestro.MirrorFastForward, maestro.MirrorInternalMerge
	tests := []struct {
		name                           string
		mode                           maestro.MirrorMode
		source, target                 string
		targetInSource, sourceInTarget bool
		want                           mirror.Action
	}{
		{"fastForward, no target branch", ff, "s", "", false, false, mirror.ActionCreate},
		{"fastForward, same head", ff, "s", "s", true, true, mirror.ActionUpToDate},
		{"fastForward, target behind", ff, "s", "t", true, false, mirror.ActionFastForward},
		{"fastForward, target ahead", ff, "s", "t", false, true, mirror.ActionRefuse},
		{"fastForward, diverged", ff, "s", "t", false, false, mirror.ActionRefuse},
		{"internalMerge, no target branch", im, "s", "", false, false, mirror.ActionCreate},
		{"internalMerge, same head", im, "s", "s", true, true, mirror.ActionUpToDate},
		{"internalMerge, source merged already", im, "s", "t", false, true, mirror.ActionUpToDate},
		{"internalMerge, target behind", im, "s", "t", true, false, mirror.ActionFastForward},
		{"internalMerge, diverged", im, "s", "t", false, false, mirror.ActionMerge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, mirror.Decide(tt.mode, tt.source, tt.target, tt.targetInSource, tt.sourceInTarget))
		})
	}
}

func TestCheckBranch(t *testing.T) {
	for _, ok := range []string{"main", "release/9.0", "feature/a-b_c.d", "v1.0"} {
		assert.NoError(t, mirror.CheckBranch(ok), ok)
	}
	for _, bad := range []string{"", "-x", "--upload-pack=touch", "refs/heads/main", "a..b", "a//b", "/a", "a/", "a.", "a.lock",
		"a/.b", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[", `a\b`, "a@{1}", "@", "a\nb", "a\x7f"} {
		err := mirror.CheckBranch(bad)
		assert.Error(t, err, "%q", bad)
		assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err), "%q", bad)
	}
}

// world is a source repository, a target repository and a work tree that
// writes to either, all on disk.
type world struct {
	t              *testing.T
	ctx            context.Context
	source, target string // bare repositories
	work           string
	dev            git.Runner
	m              mirror.Mirror
}

var bot = git.Identity{Name: "maestro-bot", Email: "maestro-bot@example.com"}

func newWorld(t *testing.T) *world {
	root := t.TempDir()
	w := &world{t: t, ctx: context.Background(), source: filepath.Join(root, "source.git"), target: filepath.Join(root, "target.git"),
		work: filepath.Join(root, "work"), dev: git.Runner{Author: git.Identity{Name: "Dev", Email: "dev@example.com"}}}
	w.m = mirror.Mirror{Git: git.Runner{Author: bot}, Now: func() time.Time { return time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC) },
		TempDir: t.TempDir()}
	require.NoError(t, w.dev.Init(w.ctx, w.source, true))
	require.NoError(t, w.dev.Init(w.ctx, w.target, true))
	require.NoError(t, w.dev.Init(w.ctx, w.work, false))
	return w
}

// commit commits files on top of base ("" for a root commit) and pushes
// the commit to branch of repo; it returns the commit.
func (w *world) commit(repo, branch, base string, files map[string]string, msg string) string {
	w.t.Helper()
	if base == "" {
		w.git("switch", "--quiet", "--orphan", fmt.Sprintf("tmp-%d", time.Now().UnixNano()))
		w.git("rm", "-rf", "--quiet", "--ignore-unmatch", ".")
	} else {
		w.git("fetch", "--quiet", repo, base)
		w.git("switch", "--quiet", "--detach", base)
	}
	for name, data := range files {
		require.NoError(w.t, os.MkdirAll(filepath.Dir(filepath.Join(w.work, name)), 0o755))
		require.NoError(w.t, os.WriteFile(filepath.Join(w.work, name), []byte(data), 0o644))
	}
	_, err := w.dev.CommitAll(w.ctx, w.work, msg)
	require.NoError(w.t, err)
	head := w.git("rev-parse", "HEAD")
	w.git("push", "--quiet", "--force", repo, "HEAD:refs/heads/"+branch)
	return head
}

func (w *world) git(args ...string) string {
	w.t.Helper()
	out, err := exec.Command("git", append([]string{"-C", w.work}, args...)...).CombinedOutput()
	require.NoError(w.t, err, "git %v: %s", args, out)
	return strings.TrimSpace(string(out))
}

// head is branch's commit in repo, "" when it does not exist.
func (w *world) head(repo, branch string) string {
	out, err := exec.Command("git", "-C", repo, "rev-parse", "--verify", "--quiet", "refs/heads/"+branch).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func (w *world) run(mode maestro.MirrorMode) (maestro.MirrorOutcome, error) {
	return w.m.Run(w.ctx, mirror.Request{Source: w.source, Branch: "main", Target: "file://" + w.target, Mode: mode})
}

// TestFastForward: a missing branch is created with the whole history; a
// target behind moves forward; a current one stays; a target with commits
// of its own is refused, listing them, and keeps its head.
func TestFastForward(t *testing.T) {
	w := newWorld(t)
	one := w.commit(w.source, "main", "", map[string]string{"a.txt": "1\n"}, "one")
	two := w.commit(w.source, "main", one, map[string]string{"a.txt": "2\n"}, "two")

	out, err := w.run(maestro.MirrorFastForward)
	require.NoError(t, err)
	assert.Equal(t, maestro.MirrorOutcome{Time: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC), SourceRepository: w.source, Branch: "main",
		TargetRepository: "file://" + w.target, TargetBranch: "main", Mode: maestro.MirrorFastForward, SourceHead: two,
		TargetHeadAfter: two, Commits: 2, Result: maestro.MirrorCreated,
		Message: "created main of file://" + w.target + ": nothing → " + two[:12] + ", 2 commits"}, out)
	assert.Equal(t, two, w.head(w.target, "main"))

	three := w.commit(w.source, "main", two, map[string]string{"b.txt": "3\n"}, "three")
	four := w.commit(w.source, "main", three, map[string]string{"b.txt": "4\n"}, "four")
	five := w.commit(w.source, "main", four, map[string]string{"b.txt": "5\n"}, "five")
	out, err = w.run(maestro.MirrorFastForward)
	require.NoError(t, err)
	assert.Equal(t, maestro.MirrorFastForwarded, out.Result)
	assert.Equal(t, [3]any{two, five, 3}, [3]any{out.TargetHeadBefore, out.TargetHeadAfter, out.Commits})
	assert.Equal(t, five, w.head(w.target, "main"))

	out, err = w.run(maestro.MirrorFastForward)
	require.NoError(t, err)
	assert.Equal(t, maestro.MirrorUpToDate, out.Result)
	assert.Equal(t, [3]any{five, five, 0}, [3]any{out.TargetHeadBefore, out.TargetHeadAfter, out.Commits})

	// The target gets commits of its own; the source moves on too.
	own1 := w.commit(w.target, "main", five, map[string]string{"internal.txt": "x\n"}, "internal fix")
	own2 := w.commit(w.target, "main", own1, map[string]string{"internal.txt": "y\n"}, "second internal fix")
	w.commit(w.source, "main", five, map[string]string{"a.txt": "6\n"}, "six")
	out, err = w.run(maestro.MirrorFastForward)
	require.Error(t, err)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err))
	assert.Equal(t, maestro.MirrorRefused, out.Result)
	assert.Equal(t, err.Error(), out.Message)
	assert.Contains(t, err.Error(), "has 2 commits that main of "+w.source)
	assert.Contains(t, err.Error(), "nothing was pushed")
	assert.Contains(t, err.Error(), "\n"+own2[:12]+" second internal fix\n"+own1[:12]+" internal fix")
	assert.Equal(t, own2, w.head(w.target, "main"), "never force-pushed")
	assert.Empty(t, out.TargetHeadAfter)
}

// TestRefusalListsAtMostMaxListed: a long list of the target's commits is cut.
func TestRefusalListsAtMostMaxListed(t *testing.T) {
	w := newWorld(t)
	head := w.commit(w.source, "main", "", map[string]string{"a.txt": "1\n"}, "one")
	_, err := w.run(maestro.MirrorFastForward)
	require.NoError(t, err)
	for i := range mirror.MaxListed + 5 {
		head = w.commit(w.target, "main", head, map[string]string{"b.txt": fmt.Sprint(i)}, fmt.Sprintf("own %d", i))
	}
	_, err = w.run(maestro.MirrorFastForward)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "has 25 commits")
	assert.Equal(t, mirror.MaxListed, strings.Count(err.Error(), " own "))
	assert.Contains(t, err.Error(), "own 24")
	assert.NotContains(t, err.Error(), "own 4\n")
	assert.True(t, strings.HasSuffix(err.Error(), "\n... and 5 more"), err.Error())
}

// TestInternalMerge: the source branch lands in internal/main — created at
// the source head, moved forward while it has nothing of its own, merged
// with a bot commit naming both heads once it has; a conflict lists the
// paths and pushes nothing.
func TestInternalMerge(t *testing.T) {
	w := newWorld(t)
	one := w.commit(w.source, "main", "", map[string]string{"a.txt": "1\n", "c.txt": "c\n"}, "one")
	out, err := w.run(maestro.MirrorInternalMerge)
	require.NoError(t, err)
	assert.Equal(t, maestro.MirrorCreated, out.Result)
	assert.Equal(t, "internal/main", out.TargetBranch)
	assert.Equal(t, one, w.head(w.target, "internal/main"))
	assert.Empty(t, w.head(w.target, "main"), "only internal/main is written")

	two := w.commit(w.source, "main", one, map[string]string{"a.txt": "2\n"}, "two")
	out, err = w.run(maestro.MirrorInternalMerge)
	require.NoError(t, err)
	assert.Equal(t, maestro.MirrorFastForwarded, out.Result)
	assert.Equal(t, two, w.head(w.target, "internal/main"))

	own := w.commit(w.target, "internal/main", two, map[string]string{"internal.txt": "x\n"}, "internal only")
	three := w.commit(w.source, "main", two, map[string]string{"a.txt": "3\n"}, "three")
	out, err = w.run(maestro.MirrorInternalMerge)
	require.NoError(t, err)
	assert.Equal(t, maestro.MirrorMerged, out.Result)
	merge := w.head(w.target, "internal/main")
	assert.Equal(t, merge, out.TargetHeadAfter)
	assert.Equal(t, [3]any{own, 2, three}, [3]any{out.TargetHeadBefore, out.Commits, out.SourceHead}, "the source commit and the merge")
	show := func(format string) string {
		o, err := exec.Command("git", "-C", w.target, "log", "-1", "--format="+format, merge).Output()
		require.NoError(t, err)
		return strings.TrimSpace(string(o))
	}
	assert.Equal(t, own+" "+three, show("%P"), "first parent the internal branch, then the source")
	assert.Equal(t, "maestro-bot <maestro-bot@example.com> maestro-bot <maestro-bot@example.com>", show("%an <%ae> %cn <%ce>"))
	msg := show("%B")
	assert.Contains(t, msg, "Merge main "+three[:12]+" into internal/main")
	assert.Contains(t, msg, "Source: "+w.source+" main at "+three)
	assert.Contains(t, msg, "Target: file://"+w.target+" internal/main at "+own)
	files, err := exec.Command("git", "-C", w.target, "show", merge+":a.txt", merge+":internal.txt").Output()
	require.NoError(t, err)
	assert.Equal(t, "3\nx\n", string(files))

	out, err = w.run(maestro.MirrorInternalMerge)
	require.NoError(t, err)
	assert.Equal(t, maestro.MirrorUpToDate, out.Result, "the source head is in internal/main already")

	// Both sides change c.txt and a.txt: a conflict, nothing pushed.
	w.commit(w.target, "internal/main", merge, map[string]string{"c.txt": "internal\n", "a.txt": "i\n", "d.txt": "d\n"}, "internal c")
	before := w.head(w.target, "internal/main")
	w.commit(w.source, "main", three, map[string]string{"c.txt": "public\n", "a.txt": "p\n", "e.txt": "e\n"}, "public c")
	out, err = w.run(maestro.MirrorInternalMerge)
	require.Error(t, err)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err))
	assert.Equal(t, maestro.MirrorConflict, out.Result)
	assert.Contains(t, err.Error(), "nothing was pushed")
	assert.True(t, strings.HasSuffix(err.Error(), "conflicting paths (2):\na.txt\nc.txt"), err.Error())
	assert.Equal(t, before, w.head(w.target, "internal/main"), "nothing pushed")
	refs, err := exec.Command("git", "-C", w.target, "for-each-ref", "--format=%(refname)").Output()
	require.NoError(t, err)
	assert.Equal(t, "refs/heads/internal/main\n", string(refs), "no other ref appeared")
}

// TestFailures: a missing source branch, an unreachable target and a bad
// request fail with the outcome saying why, and push nothing.
func TestFailures(t *testing.T) {
	w := newWorld(t)
	w.commit(w.source, "main", "", map[string]string{"a.txt": "1\n"}, "one")
	out, err := w.m.Run(w.ctx, mirror.Request{Source: w.source, Branch: "gone", Target: w.target, Mode: maestro.MirrorFastForward})
	require.Error(t, err)
	assert.Equal(t, maestro.MirrorFailure, out.Result)
	assert.Contains(t, out.Message, "fetch branch gone of "+w.source)

	out, err = w.m.Run(w.ctx, mirror.Request{Source: w.source, Branch: "main", Target: filepath.Join(t.TempDir(), "none.git"), Mode: maestro.MirrorFastForward})
	require.Error(t, err)
	assert.Equal(t, maestro.MirrorFailure, out.Result)
	assert.Contains(t, out.Message, "read branch main of ")

	out, err = w.m.Run(w.ctx, mirror.Request{Source: w.source, Branch: "main", Target: w.target, Mode: "mirror"})
	require.Error(t, err)
	assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
	assert.Equal(t, maestro.MirrorFailure, out.Result)
	assert.Empty(t, w.head(w.target, "main"))
	entries, err := os.ReadDir(w.m.TempDir)
	require.NoError(t, err)
	assert.Empty(t, entries, "scratch repositories are removed")
}

// TestConcurrentRunsOfOneHead: runs of the same source head at once (a
// pipeline run and one by hand, say) all read the target branch missing
// and push; the target's pre-receive hook holds every push until all are
// in. One creates the branch; the others lose the race to a push of the
// very head they were pushing, so the target is current: they are up to
// date, not failures (which flow health would report).
func TestConcurrentRunsOfOneHead(t *testing.T) {
	w := newWorld(t)
	head := w.commit(w.source, "main", "", map[string]string{"a.txt": "1\n"}, "one")
	hook := filepath.Join(w.target, "hooks", "pre-receive")
	require.NoError(t, os.WriteFile(hook, []byte("#!/bin/sh\ncat >/dev/null\nsleep 1\n"), 0o755))
	const n = 3
	outs, errs := make([]maestro.MirrorOutcome, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = w.run(maestro.MirrorFastForward)
		}()
	}
	wg.Wait()
	results := map[maestro.MirrorResult]int{}
	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, head, outs[i].TargetHeadAfter)
		results[outs[i].Result]++
	}
	assert.Equal(t, map[maestro.MirrorResult]int{maestro.MirrorCreated: 1, maestro.MirrorUpToDate: n - 1}, results)
	assert.Equal(t, head, w.head(w.target, "main"))
}
