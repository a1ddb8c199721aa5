package git_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/test/azdo"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

func TestCloneCommitPushAuthors(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	alice := git.Runner{Author: git.Identity{Name: "Alice", Email: "alice@example.com"}}
	bot := git.Runner{Author: git.Identity{Name: "bot", Email: "bot@example.com"}}

	origin := filepath.Join(root, "origin.git")
	require.NoError(t, alice.Init(ctx, origin, true))
	seed := filepath.Join(root, "seed")
	require.NoError(t, alice.Init(ctx, seed, false))
	require.NoError(t, os.WriteFile(filepath.Join(seed, "a.txt"), []byte("one\r\n"), 0o644))
	committed, err := alice.CommitAll(ctx, seed, "first")
	require.NoError(t, err)
	assert.True(t, committed)
	require.NoError(t, alice.Push(ctx, seed, origin, "HEAD", "main", ""))

	work := filepath.Join(root, "work")
	require.NoError(t, bot.Clone(ctx, origin, work, "main"))
	base, err := bot.RevParse(ctx, work, "HEAD")
	require.NoError(t, err)
	require.NoError(t, bot.CheckoutNew(ctx, work, "darc-main-1"))
	committed, err = bot.CommitAll(ctx, work, "nothing")
	require.NoError(t, err)
	assert.False(t, committed, "no change, no commit")
	require.NoError(t, os.WriteFile(filepath.Join(work, "a.txt"), []byte("two\r\n"), 0o644))
	_, err = bot.CommitAll(ctx, work, "Update dependencies")
	require.NoError(t, err)
	require.NoError(t, bot.Push(ctx, work, "origin", "HEAD", "darc-main-1", ""))

	head, err := bot.RemoteHead(ctx, work, "origin", "darc-main-1")
	require.NoError(t, err)
	local, err := bot.RevParse(ctx, work, "HEAD")
	require.NoError(t, err)
	assert.Equal(t, local, head)
	_, err = bot.RemoteHead(ctx, work, "origin", "nope")
	assert.True(t, errors.Is(err, git.ErrNotFound))

	authors, err := bot.Authors(ctx, work, base, head)
	require.NoError(t, err)
	assert.Equal(t, []string{"bot@example.com"}, authors)
	data, err := bot.Show(ctx, origin, "darc-main-1", "a.txt")
	require.NoError(t, err)
	assert.Equal(t, "two\r\n", string(data), "line endings kept")

	// A force push with a stale lease is refused.
	require.NoError(t, os.WriteFile(filepath.Join(work, "a.txt"), []byte("three\n"), 0o644))
	_, err = bot.CommitAll(ctx, work, "again")
	require.NoError(t, err)
	assert.Error(t, bot.Push(ctx, work, "origin", "HEAD", "darc-main-1", base), "lease on the wrong old head")
	assert.NoError(t, bot.Push(ctx, work, "origin", "HEAD", "darc-main-1", head))
}

// TestNamesThatLookLikeOptions: branch, revision and path names starting with
// "--" are names in every call, never options.
func TestNamesThatLookLikeOptions(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	bot := git.Runner{Author: git.Identity{Name: "bot", Email: "bot@example.com"}}
	const branch, path = "--upload-pack=touch", "--output=x.txt"

	origin := filepath.Join(root, "--origin.git")
	require.NoError(t, bot.Init(ctx, origin, true))
	seed := filepath.Join(root, "--seed")
	require.NoError(t, bot.Init(ctx, seed, false))
	require.NoError(t, os.WriteFile(filepath.Join(seed, path), []byte("one\n"), 0o644))
	_, err := bot.CommitAll(ctx, seed, "--amend")
	require.NoError(t, err)
	require.NoError(t, bot.Push(ctx, seed, origin, "HEAD", branch, ""))
	base, err := bot.RemoteHead(ctx, seed, origin, branch)
	require.NoError(t, err)

	work := filepath.Join(root, "work")
	require.NoError(t, bot.Clone(ctx, origin, work, branch))
	head, err := bot.RevParse(ctx, work, branch)
	require.NoError(t, err)
	assert.Equal(t, base, head)
	data, err := bot.Show(ctx, work, branch, path)
	require.NoError(t, err)
	assert.Equal(t, "one\n", string(data))

	require.NoError(t, bot.CheckoutNew(ctx, work, "darc-"+branch))
	require.NoError(t, os.WriteFile(filepath.Join(work, path), []byte("two\n"), 0o644))
	_, err = bot.CommitAll(ctx, work, "--help")
	require.NoError(t, err)
	authors, err := bot.Authors(ctx, work, branch, "HEAD")
	require.NoError(t, err)
	assert.Equal(t, []string{"bot@example.com"}, authors)
	diff, err := bot.Diff(ctx, work, branch, "HEAD")
	require.NoError(t, err)
	assert.Contains(t, diff, "+two")
	require.NoError(t, bot.PushLeased(ctx, work, "origin", "HEAD", branch, base))
	moved, err := bot.RemoteHead(ctx, work, "origin", branch)
	require.NoError(t, err)
	assert.NotEqual(t, base, moved)
	require.NoError(t, os.WriteFile(filepath.Join(work, path), []byte("three\n"), 0o644))
	_, err = bot.CommitAll(ctx, work, "-m")
	require.NoError(t, err)
	assert.ErrorIs(t, bot.PushLeased(ctx, work, "origin", "HEAD", branch, base), git.ErrStale)

	require.NoError(t, bot.CheckoutNew(ctx, work, "main"))
	require.NoError(t, bot.DeleteBranch(ctx, work, "darc-"+branch))
	_, err = bot.RevParse(ctx, work, "darc-"+branch)
	assert.ErrorIs(t, err, git.ErrNotFound)
	msg, err := bot.Show(ctx, origin, branch, path)
	require.NoError(t, err)
	assert.Equal(t, "two\n", string(msg))
	_, err = os.Stat(filepath.Join(work, "x.txt"))
	assert.True(t, os.IsNotExist(err), "no option took effect")
}

// TestPushLeased: a push leased on a head that moved, or on a branch that
// must not exist, fails with ErrStale and leaves the remote alone.
func TestPushLeased(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	bot := git.Runner{Author: git.Identity{Name: "bot", Email: "bot@example.com"}}
	origin := filepath.Join(root, "origin.git")
	require.NoError(t, bot.Init(ctx, origin, true))
	work := filepath.Join(root, "work")
	require.NoError(t, bot.Init(ctx, work, false))
	require.NoError(t, os.WriteFile(filepath.Join(work, "a.txt"), []byte("one\n"), 0o644))
	_, err := bot.CommitAll(ctx, work, "one")
	require.NoError(t, err)

	require.NoError(t, bot.PushLeased(ctx, work, origin, "HEAD", "b", ""), "a new branch")
	one, err := bot.RevParse(ctx, work, "HEAD")
	require.NoError(t, err)

	require.NoError(t, os.WriteFile(filepath.Join(work, "a.txt"), []byte("two\n"), 0o644))
	_, err = bot.CommitAll(ctx, work, "two")
	require.NoError(t, err)
	assert.ErrorIs(t, bot.PushLeased(ctx, work, origin, "HEAD", "b", ""), git.ErrStale, "exists already")
	require.NoError(t, bot.PushLeased(ctx, work, origin, "HEAD", "b", one))
	two, err := bot.RevParse(ctx, work, "HEAD")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(work, "a.txt"), []byte("three\n"), 0o644))
	_, err = bot.CommitAll(ctx, work, "three")
	require.NoError(t, err)
	assert.ErrorIs(t, bot.PushLeased(ctx, work, origin, "HEAD", "b", one), git.ErrStale, "moved since read")
	head, err := bot.RemoteHead(ctx, work, origin, "b")
	require.NoError(t, err)
	assert.Equal(t, two, head, "the remote is untouched")
}

// TestPushLeasedReadsTheRemoteHead: whether a failed push lost a race is
// decided by the remote head after it, whatever git or the server printed. A
// server that moves the branch while the push is under way and refuses it in
// its own words (Azure Repos: TF401028) is a lost race (ErrStale); a refusal
// of a branch that did not move is the server's error; a branch that exists
// when it must not is ErrStale.
func TestPushLeasedReadsTheRemoteHead(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	bot := git.Runner{Author: git.Identity{Name: "bot", Email: "bot@example.com"}}
	origin := filepath.Join(root, "origin.git")
	require.NoError(t, bot.Init(ctx, origin, true))
	work := filepath.Join(root, "work")
	require.NoError(t, bot.Init(ctx, work, false))
	commit := func(text string) string {
		require.NoError(t, os.WriteFile(filepath.Join(work, "a.txt"), []byte(text), 0o644))
		_, err := bot.CommitAll(ctx, work, text)
		require.NoError(t, err)
		id, err := bot.RevParse(ctx, work, "HEAD")
		require.NoError(t, err)
		return id
	}
	one := commit("one\n")
	require.NoError(t, bot.PushLeased(ctx, work, origin, "HEAD", "b", ""))
	two := commit("two\n")
	require.NoError(t, bot.Push(ctx, work, origin, "HEAD", "other", ""))
	commit("three\n")
	// The other client's update lands while this push is under way.
	require.NoError(t, os.WriteFile(filepath.Join(origin, "hooks", "pre-receive"), []byte("#!/bin/sh\n"+
		"[ -f race ] && env -u GIT_QUARANTINE_PATH git update-ref refs/heads/b "+two+"\n"+
		"echo \"TF401028: The reference 'refs/heads/b' has already been updated by another client, so you cannot update it.\" >&2\n"+
		"exit 1\n"), 0o755))

	err := bot.PushLeased(ctx, work, origin, "HEAD", "b", one)
	require.Error(t, err)
	assert.NotErrorIs(t, err, git.ErrStale, "b did not move: the refusal stands")
	assert.Contains(t, err.Error(), "TF401028")
	require.NoError(t, os.WriteFile(filepath.Join(origin, "race"), nil, 0o644))
	err = bot.PushLeased(ctx, work, origin, "HEAD", "b", one)
	assert.ErrorIs(t, err, git.ErrStale, "b moved during the push: %v", err)
	assert.ErrorIs(t, bot.PushLeased(ctx, work, origin, "HEAD", "b", ""), git.ErrStale, "b exists")
	head, err := bot.RemoteHead(ctx, work, origin, "b")
	require.NoError(t, err)
	assert.Equal(t, two, head, "the other client's update stays")
}

// TestFetchTipsOnly: Fetch brings the named branches' tips, shallow, into
// refs of the caller's choosing; their files read with Show. A missing
// branch is an error.
func TestFetchTipsOnly(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	g := git.Runner{Author: git.Identity{Name: "Alice", Email: "alice@example.com"}}
	origin, seed := filepath.Join(root, "origin.git"), filepath.Join(root, "seed")
	require.NoError(t, g.Init(ctx, origin, true))
	require.NoError(t, g.Init(ctx, seed, false))
	for i, text := range []string{"one\n", "two\n"} {
		require.NoError(t, os.WriteFile(filepath.Join(seed, "a.txt"), []byte(text), 0o644))
		_, err := g.CommitAll(ctx, seed, "commit")
		require.NoError(t, err)
		require.NoError(t, g.Push(ctx, seed, origin, "HEAD", []string{"main", "topic"}[i], ""))
	}

	work := filepath.Join(root, "work.git")
	require.NoError(t, g.Init(ctx, work, true))
	require.NoError(t, g.Fetch(ctx, work, "file://"+origin, "refs/heads/main:refs/x/main", "refs/heads/topic:refs/x/topic"))
	for ref, want := range map[string]string{"refs/x/main": "one\n", "refs/x/topic": "two\n"} {
		got, err := g.Show(ctx, work, ref, "a.txt")
		require.NoError(t, err)
		assert.Equal(t, want, string(got), ref)
	}
	_, err := g.RevParse(ctx, work, "refs/x/topic~1")
	assert.ErrorIs(t, err, git.ErrNotFound, "only the tips are fetched")
	assert.Error(t, g.Fetch(ctx, work, "file://"+origin, "refs/heads/gone:refs/x/gone"))
}

// TestSquashMerge: the changes of a branch of two commits land on main as
// one commit whose only parent is main's head and whose message is the one
// given; a branch whose changes conflict is ErrConflict and leaves the work
// tree clean.
func TestSquashMerge(t *testing.T) {
	ctx := context.Background()
	bot := git.Runner{Author: git.Identity{Name: "bot", Email: "bot@example.com"}}
	work := filepath.Join(t.TempDir(), "work")
	require.NoError(t, bot.Init(ctx, work, false))
	write := func(name, data string) {
		t.Helper()
		require.NoError(t, os.WriteFile(filepath.Join(work, name), []byte(data), 0o644))
	}
	commit := func(msg string) string {
		t.Helper()
		_, err := bot.CommitAll(ctx, work, msg)
		require.NoError(t, err)
		sha, err := bot.RevParse(ctx, work, "HEAD")
		require.NoError(t, err)
		return sha
	}
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-C", work}, args...)...).CombinedOutput()
		require.NoError(t, err, "%s", out)
		return strings.TrimSpace(string(out))
	}
	write("a.txt", "one\n")
	base := commit("first")
	require.NoError(t, bot.CheckoutNew(ctx, work, "darc-main-1"))
	write("a.txt", "two\n")
	commit("update a")
	write("b.txt", "new\n")
	head := commit("add b")
	require.NoError(t, bot.CheckoutNew(ctx, work, "conflicting"))
	run("reset", "--quiet", "--hard", base)
	write("a.txt", "other\n")
	conflicting := commit("change a otherwise")
	run("switch", "--quiet", "main")

	require.NoError(t, bot.SquashMerge(ctx, work, "darc-main-1", "Update dependencies\n\nFrom build 1"))
	squashed, err := bot.RevParse(ctx, work, "HEAD")
	require.NoError(t, err)
	assert.Equal(t, base, run("rev-parse", squashed+"^"), "one commit on main")
	assert.Equal(t, squashed, run("rev-list", "--max-parents=1", "-n1", squashed), "not a merge commit")
	assert.Equal(t, "Update dependencies\n\nFrom build 1", run("log", "-1", "--format=%B", squashed))
	assert.Equal(t, run("rev-parse", head+"^{tree}"), run("rev-parse", squashed+"^{tree}"), "the branch's changes")

	err = bot.SquashMerge(ctx, work, conflicting, "conflict")
	require.ErrorIs(t, err, git.ErrConflict)
	assert.Empty(t, run("status", "--porcelain"), "the work tree is left clean")
	after, err := bot.RevParse(ctx, work, "HEAD")
	require.NoError(t, err)
	assert.Equal(t, squashed, after, "nothing committed")
}

// TestResetHardCommitAllowEmptyDefaultBranch: an empty commit is made and
// returned, a reset drops local changes, and the remote's HEAD names its
// default branch.
func TestResetHardCommitAllowEmptyDefaultBranch(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	bot := git.Runner{Author: git.Identity{Name: "bot", Email: "bot@example.com"}}
	work := filepath.Join(root, "work")
	require.NoError(t, bot.Init(ctx, work, false))
	require.NoError(t, os.WriteFile(filepath.Join(work, "a.txt"), []byte("one"), 0o644))
	first, err := bot.CommitAllowEmpty(ctx, work, "first")
	require.NoError(t, err)
	second, err := bot.CommitAllowEmpty(ctx, work, "--empty")
	require.NoError(t, err)
	assert.NotEqual(t, first, second, "an empty commit is a commit")
	diff, err := bot.Diff(ctx, work, first, second)
	require.NoError(t, err)
	assert.Empty(t, diff)

	require.NoError(t, os.WriteFile(filepath.Join(work, "a.txt"), []byte("changed"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(work, "b.txt"), []byte("new"), 0o644))
	assert.Error(t, bot.ResetHard(ctx, work, "--hard"), "only a commit id")
	require.NoError(t, bot.ResetHard(ctx, work, first))
	head, err := bot.RevParse(ctx, work, "HEAD")
	require.NoError(t, err)
	assert.Equal(t, first, head)
	data, err := os.ReadFile(filepath.Join(work, "a.txt"))
	require.NoError(t, err)
	assert.Equal(t, "one", string(data))

	branch, err := bot.DefaultBranch(ctx, "", work)
	require.NoError(t, err)
	assert.Equal(t, "main", branch)
	require.NoError(t, bot.CheckoutNew(ctx, work, "release/1.0"))
	branch, err = bot.DefaultBranch(ctx, "", work)
	require.NoError(t, err)
	assert.Equal(t, "release/1.0", branch)
	bare := filepath.Join(root, "empty.git")
	require.NoError(t, exec.Command("git", "init", "--quiet", "--bare", bare).Run())
	_, err = bot.DefaultBranch(ctx, "", bare)
	assert.ErrorIs(t, err, git.ErrNotFound, "an empty repository's HEAD points nowhere")
}

// TestCredentialsPerURL: one runner reads from one host and pushes to
// another, each remote getting its own token and no other; a refused token
// appears in no error, neither as itself nor in its Basic header.
func TestCredentialsPerURL(t *testing.T) {
	ctx := context.Background()
	const ghToken, pat = "ghp_perUrlSecret0000000000000000000000", "azdo-per-url-secret"
	gh := githubdouble.NewServer(t)
	gh.AddToken(githubdouble.DefaultLogin, ghToken)
	src := gh.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"a.txt": "one\n"}})
	az := azdo.NewServer(t, azdo.WithPAT(pat))
	dst := az.AddRepository(az.AddProject("internal"), "dotnet-runtime")
	source := gh.URL() + "/dotnet/runtime"

	g := git.Runner{Credentials: []git.Credential{{URL: source, Token: ghToken}, {URL: dst.WebURL(), Token: pat}}}
	work := filepath.Join(t.TempDir(), "work.git")
	require.NoError(t, g.Init(ctx, work, true))
	require.NoError(t, g.FetchBranch(ctx, work, source, "main", "refs/x/main"))
	require.NoError(t, g.Push(ctx, work, dst.WebURL(), "refs/x/main", "main", ""))
	assert.Equal(t, src.Branch("main"), dst.Head("main"))
	require.NotEmpty(t, az.Requests())
	for _, r := range az.UnauthorizedRequests() {
		assert.NotContains(t, r.Path, "_git", "the PAT went with the first request")
	}

	// Each token goes only to its own URL: swapped, both hosts refuse.
	swapped := git.Runner{Credentials: []git.Credential{{URL: source, Token: pat}, {URL: dst.WebURL(), Token: ghToken}}}
	err := swapped.FetchBranch(ctx, work, source, "main", "refs/x/again")
	require.Error(t, err)
	_, err2 := swapped.RemoteHead(ctx, work, dst.WebURL(), "main")
	require.Error(t, err2)
	for _, e := range []error{err, err2} {
		for _, secret := range []string{pat, ghToken, base64.StdEncoding.EncodeToString([]byte("x-access-token:" + pat)), base64.StdEncoding.EncodeToString([]byte("x-access-token:" + ghToken))} {
			assert.NotContains(t, e.Error(), secret)
		}
	}
}

// TestHistory: FetchBranch brings a branch's whole history; IsAncestor,
// Count and Log answer about it; MergeTree and CommitTree merge without a
// work tree, or name the conflicting paths.
func TestHistory(t *testing.T) {
	ctx := context.Background()
	g := git.Runner{Author: git.Identity{Name: "bot", Email: "bot@example.com"}}
	root := t.TempDir()
	origin, work := filepath.Join(root, "origin.git"), filepath.Join(root, "work")
	require.NoError(t, g.Init(ctx, origin, true))
	require.NoError(t, g.Init(ctx, work, false))
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-C", work}, args...)...).CombinedOutput()
		require.NoError(t, err, "%s", out)
		return strings.TrimSpace(string(out))
	}
	commit := func(files map[string]string, msg string) string {
		t.Helper()
		for name, data := range files {
			require.NoError(t, os.WriteFile(filepath.Join(work, name), []byte(data), 0o644))
		}
		_, err := g.CommitAll(ctx, work, msg)
		require.NoError(t, err)
		return run("rev-parse", "HEAD")
	}
	base := commit(map[string]string{"a.txt": "a\n", "b.txt": "b\n"}, "base")
	left1 := commit(map[string]string{"a.txt": "left\n"}, "left one")
	left2 := commit(map[string]string{"c.txt": "c\n"}, "left two")
	require.NoError(t, g.Push(ctx, work, origin, "HEAD", "left", ""))
	run("switch", "--quiet", "--detach", base)
	right := commit(map[string]string{"b.txt": "right\n"}, "right")
	require.NoError(t, g.Push(ctx, work, origin, "HEAD", "right", ""))
	run("switch", "--quiet", "--detach", base)
	clash := commit(map[string]string{"a.txt": "clash\n", "c.txt": "clash\n"}, "clash")
	require.NoError(t, g.Push(ctx, work, origin, "HEAD", "--clash", ""))

	scratch := filepath.Join(root, "scratch.git")
	require.NoError(t, g.Init(ctx, scratch, true))
	for ref, branch := range map[string]string{"refs/m/left": "left", "refs/m/right": "right", "refs/m/clash": "--clash"} {
		require.NoError(t, g.FetchBranch(ctx, scratch, "file://"+origin, branch, ref))
	}
	got, err := g.RevParse(ctx, scratch, "refs/m/left~2")
	require.NoError(t, err)
	assert.Equal(t, base, got, "the whole history")
	assert.Error(t, g.FetchBranch(ctx, scratch, "file://"+origin, "gone", "refs/m/gone"))

	for _, tt := range []struct {
		a, b string
		want bool
	}{{base, left2, true}, {left2, left2, true}, {left2, base, false}, {right, left2, false}} {
		ok, err := g.IsAncestor(ctx, scratch, tt.a, tt.b)
		require.NoError(t, err)
		assert.Equal(t, tt.want, ok, "%s in %s", tt.a, tt.b)
	}
	_, err = g.IsAncestor(ctx, scratch, "0000000000000000000000000000000000000001", left2)
	assert.Error(t, err, "an unknown commit is an error, not a no")

	n, err := g.Count(ctx, scratch, base, left2)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	n, err = g.Count(ctx, scratch, "", left2)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	log, err := g.Log(ctx, scratch, base, left2, 10)
	require.NoError(t, err)
	assert.Equal(t, []git.LogEntry{{SHA: left2, Subject: "left two"}, {SHA: left1, Subject: "left one"}}, log)
	log, err = g.Log(ctx, scratch, base, left2, 1)
	require.NoError(t, err)
	assert.Equal(t, []git.LogEntry{{SHA: left2, Subject: "left two"}}, log)

	tree, conflicts, err := g.MergeTree(ctx, scratch, left2, right)
	require.NoError(t, err)
	assert.Empty(t, conflicts)
	merge, err := g.CommitTree(ctx, scratch, tree, "--merge left and right", left2, right)
	require.NoError(t, err)
	for path, want := range map[string]string{"a.txt": "left\n", "b.txt": "right\n", "c.txt": "c\n"} {
		data, err := g.Show(ctx, scratch, merge, path)
		require.NoError(t, err)
		assert.Equal(t, want, string(data), path)
	}
	out, err := exec.Command("git", "-C", scratch, "log", "-1", "--format=%P|%an|%B", merge).Output()
	require.NoError(t, err)
	assert.Equal(t, left2+" "+right+"|bot|--merge left and right", strings.TrimSpace(string(out)))

	_, conflicts, err = g.MergeTree(ctx, scratch, left2, clash)
	assert.ErrorIs(t, err, git.ErrConflict)
	assert.Equal(t, []string{"a.txt", "c.txt"}, conflicts)
}

// TestFetchBranchCommits: a blobless fetch brings a branch's commits and
// trees but no file contents, forgets its remote (so that asking about an
// unknown commit fetches nothing), and answers HasCommit and IsAncestor.
func TestFetchBranchCommits(t *testing.T) {
	ctx := context.Background()
	g := git.Runner{Author: git.Identity{Name: "bot", Email: "bot@example.com"}}
	root := t.TempDir()
	origin, work, scratch := filepath.Join(root, "origin.git"), filepath.Join(root, "work"), filepath.Join(root, "scratch.git")
	require.NoError(t, g.Init(ctx, origin, true))
	require.NoError(t, g.Init(ctx, work, false))
	require.NoError(t, g.Init(ctx, scratch, true))
	gitC := func(dir string, args ...string) string {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
		require.NoError(t, err, "%s", out)
		return strings.TrimSpace(string(out))
	}
	gitC(origin, "config", "uploadpack.allowFilter", "true")
	var commits []string
	for i := range 3 {
		require.NoError(t, os.WriteFile(filepath.Join(work, "a.txt"), []byte(fmt.Sprintf("%d\n", i)), 0o644))
		_, err := g.CommitAll(ctx, work, fmt.Sprintf("c%d", i))
		require.NoError(t, err)
		commits = append(commits, gitC(work, "rev-parse", "HEAD"))
	}
	require.NoError(t, g.Push(ctx, work, origin, commits[1], "--main", ""))
	require.NoError(t, g.Push(ctx, work, origin, commits[2], "other", ""))

	require.NoError(t, g.FetchBranchCommits(ctx, scratch, "file://"+origin, "--main", "refs/m/target"))
	assert.Equal(t, commits[1], gitC(scratch, "rev-parse", "refs/m/target"))
	blob := gitC(work, "rev-parse", commits[0]+":a.txt")
	assert.Error(t, exec.Command("git", "-C", scratch, "cat-file", "-e", blob).Run(), "no file contents")
	assert.NotContains(t, gitC(scratch, "config", "--local", "--list"), "remote.", "the remote is forgotten")

	for _, tt := range []struct {
		commit string
		want   bool
	}{{commits[0], true}, {commits[1][:12], true}, {commits[2], false}, {blob, false}, {"--output=x", false}} {
		ok, err := g.HasCommit(ctx, scratch, tt.commit)
		require.NoError(t, err, tt.commit)
		assert.Equal(t, tt.want, ok, tt.commit)
	}
	assert.NoFileExists(t, filepath.Join(scratch, "x"))
	ok, err := g.IsAncestor(ctx, scratch, commits[0], "refs/m/target")
	require.NoError(t, err)
	assert.True(t, ok)
	_, err = g.HasCommit(ctx, filepath.Join(root, "none"), commits[0])
	assert.Error(t, err, "a missing repository is an error, not a no")
	assert.Error(t, g.FetchBranchCommits(ctx, scratch, "file://"+origin, "gone", "refs/m/gone"))
}

// TestChangedFiles: each commit of a fetched branch lists its files (a
// merge against its first parent), parents before children.
func TestChangedFiles(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	bot := git.Runner{Author: git.Identity{Name: "bot", Email: "bot@example.com"}}
	src := filepath.Join(root, "src")
	require.NoError(t, bot.Init(ctx, src, false))
	write := func(name, content string) {
		p := filepath.Join(src, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	write("a.txt", "1")
	c1, err := bot.CommitAllowEmpty(ctx, src, "one")
	require.NoError(t, err)
	write("dir/b é.txt", "2")
	write("a.txt", "2")
	c2, err := bot.CommitAllowEmpty(ctx, src, "two")
	require.NoError(t, err)
	require.NoError(t, bot.CheckoutNew(ctx, src, "side"))
	write("side.txt", "s")
	_, err = bot.CommitAllowEmpty(ctx, src, "side")
	require.NoError(t, err)
	require.NoError(t, bot.CheckoutNew(ctx, src, "main2"))
	require.NoError(t, bot.ResetHard(ctx, src, c2))
	require.NoError(t, bot.Merge(ctx, src, "side", "merge side"))
	merge, err := bot.RevParse(ctx, src, "HEAD")
	require.NoError(t, err)

	work := filepath.Join(root, "work.git")
	require.NoError(t, bot.Init(ctx, work, true))
	require.NoError(t, bot.FetchBranch(ctx, work, src, "main2", "refs/heads/main2"))
	head, err := bot.RevParse(ctx, work, "refs/heads/main2")
	require.NoError(t, err)
	assert.Equal(t, merge, head)

	commits, err := bot.ChangedFiles(ctx, work, c1, head)
	require.NoError(t, err)
	require.Len(t, commits, 3)
	assert.Equal(t, git.ChangedCommit{SHA: c2, Paths: []string{"a.txt", "dir/b é.txt"}}, commits[0])
	assert.Equal(t, []string{"side.txt"}, commits[1].Paths)
	assert.Equal(t, git.ChangedCommit{SHA: merge, Paths: []string{"side.txt"}}, commits[2], "a merge against its first parent")
	first, err := bot.ChangedFiles(ctx, work, "", c1)
	require.NoError(t, err)
	assert.Equal(t, []git.ChangedCommit{{SHA: c1, Paths: []string{"a.txt"}}}, first)

	// Names git would quote ("q\"uote.txt") or that white space begins or
	// ends come back as they are; an empty commit lists no file.
	odd := []string{" lead.txt", "dir/tab\there.txt", "q\"uote.txt", "back\\slash.txt", "trail.txt "}
	for _, name := range odd {
		write(name, "o")
	}
	c3, err := bot.CommitAllowEmpty(ctx, src, "odd names")
	require.NoError(t, err)
	c4, err := bot.CommitAllowEmpty(ctx, src, "empty")
	require.NoError(t, err)
	require.NoError(t, bot.FetchBranch(ctx, work, src, "main2", "refs/heads/main2"))
	commits, err = bot.ChangedFiles(ctx, work, merge, c4)
	require.NoError(t, err)
	require.Len(t, commits, 2)
	assert.Equal(t, c3, commits[0].SHA)
	assert.ElementsMatch(t, odd, commits[0].Paths)
	assert.Equal(t, git.ChangedCommit{SHA: c4}, commits[1])
}

// TestBorrowObjects: a repository that borrows another's objects reads
// them without a fetch, whether the lender is bare or has a work tree.
func TestBorrowObjects(t *testing.T) {
	ctx := context.Background()
	g := git.Runner{Author: git.Identity{Name: "bot", Email: "bot@example.com"}}
	root := t.TempDir()
	work, bare := filepath.Join(root, "work"), filepath.Join(root, "bare.git")
	require.NoError(t, g.Init(ctx, work, false))
	require.NoError(t, os.WriteFile(filepath.Join(work, "a.txt"), []byte("one\n"), 0o644))
	_, err := g.CommitAll(ctx, work, "one")
	require.NoError(t, err)
	head, err := g.RevParse(ctx, work, "HEAD")
	require.NoError(t, err)
	require.NoError(t, g.Init(ctx, bare, true))
	require.NoError(t, g.Push(ctx, work, bare, "HEAD", "main", ""))

	for _, lender := range []string{work, bare} {
		scratch := filepath.Join(t.TempDir(), "scratch.git")
		require.NoError(t, g.Init(ctx, scratch, true))
		_, err := g.Show(ctx, scratch, head, "a.txt")
		require.ErrorIs(t, err, git.ErrNotFound, "nothing before")
		require.NoError(t, g.BorrowObjects(ctx, scratch, lender))
		data, err := g.Show(ctx, scratch, head, "a.txt")
		require.NoError(t, err, lender)
		assert.Equal(t, "one\n", string(data))
	}
	assert.Error(t, g.BorrowObjects(ctx, filepath.Join(root, "scratch-none"), filepath.Join(root, "none")), "no lender")
}
