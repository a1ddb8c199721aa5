package local_test

import (
	"context"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/platform/local"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// checked is a local repository with pull request #1 from darc-main-1,
// whose head holds ok.txt, and a platform whose clock the test sets.
type checked struct {
	ctx   context.Context
	g     git.Runner
	reg   *registry.Registry
	p     *local.Platform
	bare  string
	seed  string
	pr    maestro.PullRequest
	head  string
	clock time.Time
}

func newChecked(t *testing.T) *checked {
	c := &checked{ctx: context.Background(), g: git.Runner{Author: git.Identity{Name: "bot", Email: "bot@example.com"}},
		reg: registry.New(mem.New()), clock: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	c.p = local.New(c.reg, c.g, local.WithClock(func() time.Time { return c.clock }))
	root := t.TempDir()
	c.bare, c.seed = filepath.Join(root, "repo.git"), filepath.Join(root, "seed")
	require.NoError(t, c.g.Init(c.ctx, c.bare, true))
	require.NoError(t, c.g.Init(c.ctx, c.seed, false))
	require.NoError(t, os.WriteFile(filepath.Join(c.seed, "README.md"), []byte("hello\n"), 0o644))
	_, err := c.g.CommitAll(c.ctx, c.seed, "initial")
	require.NoError(t, err)
	require.NoError(t, c.g.Push(c.ctx, c.seed, c.bare, "HEAD", "main", ""))
	c.head = c.push(t, "ok.txt", "ok\n")
	c.pr, err = c.p.CreatePullRequest(c.ctx, maestro.PullRequest{Repository: c.bare, Title: "t", HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	return c
}

// push commits file to darc-main-1 and returns the new head.
func (c *checked) push(t *testing.T, file, content string) string {
	require.NoError(t, os.WriteFile(filepath.Join(c.seed, file), []byte(content), 0o644))
	_, err := c.g.CommitAll(c.ctx, c.seed, "update")
	require.NoError(t, err)
	require.NoError(t, c.g.Push(c.ctx, c.seed, c.bare, "HEAD", "darc-main-1", ""))
	head, err := c.g.RevParse(c.ctx, c.seed, "HEAD")
	require.NoError(t, err)
	return head
}

func (c *checked) policy(t *testing.T, command string, timeout int) {
	require.NoError(t, c.reg.SetRepositoryPolicy(c.ctx, maestro.RepositoryBranchPolicy{Repository: c.bare, Branch: "main",
		MergePolicies: []maestro.MergePolicy{}, CheckCommand: command, CheckTimeoutSeconds: timeout}))
}

func (c *checked) run(t *testing.T) *maestro.CheckRun {
	require.NoError(t, c.p.RunChecks(c.ctx, c.pr, c.head))
	rec, err := c.reg.PullRequest(c.ctx, c.bare, c.pr.Number)
	require.NoError(t, err)
	return rec.CheckRun
}

// TestCheckCommand: the command runs in a worktree of the head commit and
// its exit status is the check on that commit; output is kept; the same
// commit is not checked twice; a new head has no check until it runs.
func TestCheckCommand(t *testing.T) {
	c := newChecked(t)
	counter := filepath.Join(t.TempDir(), "runs")
	c.policy(t, "echo run >> "+counter+"; cat ok.txt && test ! -e README.md.orig", 0)

	run := c.run(t)
	require.NotNil(t, run)
	assert.Equal(t, c.head, run.Commit)
	assert.Equal(t, maestro.CheckSuccess, run.State, run.Message)
	assert.Equal(t, "ok\n", run.Output, "ran in a checkout of the head")
	assert.Equal(t, c.clock.Add(maestro.DefaultCheckTimeout+time.Minute), run.Deadline)
	checks, err := c.p.Checks(c.ctx, c.pr)
	require.NoError(t, err)
	assert.Equal(t, []platform.Check{{Name: "check-command", State: maestro.CheckSuccess}}, checks)
	st, err := c.p.Status(c.ctx, c.pr)
	require.NoError(t, err)
	assert.Equal(t, checks, st.Checks, "the merge policies see the check command's run")

	c.run(t)
	data, err := os.ReadFile(counter)
	require.NoError(t, err)
	assert.Equal(t, "run\n", string(data), "one run per commit")

	c.head = c.push(t, "other.txt", "x\n")
	checks, err = c.p.Checks(c.ctx, c.pr)
	require.NoError(t, err)
	assert.Empty(t, checks, "the old commit's check is not the new head's")
	st, err = c.p.Status(c.ctx, c.pr)
	require.NoError(t, err)
	assert.Empty(t, st.Checks, "nor in the status the policies judge")
	run = c.run(t)
	assert.Equal(t, c.head, run.Commit)
	assert.Equal(t, maestro.CheckSuccess, run.State)

	out, err := exec(c.bare, "worktree", "list")
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(out, "\n"), "the worktrees are removed: %s", out)
}

func exec(dir string, args ...string) (string, error) {
	out, err := gitCmd(dir, args...).Output()
	return string(out), err
}

// TestCheckCommandFails: a non-zero exit, a command that outlives its time
// limit (stopped with its children), and Maestro++'s credentials kept out
// of the command's environment.
func TestCheckCommandFails(t *testing.T) {
	t.Setenv("GITHUB_TOKEN", "ghp_secret")
	t.Setenv("MAESTRO_AZDO_TOKEN", "azdo_secret")
	tests := []struct {
		name, command   string
		timeout         int
		message, output string
		state           maestro.CheckState
	}{
		{"exit status", "echo broken >&2; exit 3", 0, "`echo broken >&2; exit 3` exited with status 3", "broken\n", maestro.CheckFailure},
		{"missing file", "cat missing.txt", 0, "`cat missing.txt` exited with status 1", "cat: missing.txt: No such file or directory\n", maestro.CheckFailure},
		{"time limit", "sleep 30 & sleep 30; echo late", 1, "`sleep 30 & sleep 30; echo late` did not finish within 1s and was stopped", "", maestro.CheckFailure},
		{"no credentials", "echo \"[$GITHUB_TOKEN][$MAESTRO_AZDO_TOKEN]\"", 0, "`echo \"[$GITHUB_TOKEN][$MAESTRO_AZDO_TOKEN]\"` succeeded", "[][]\n", maestro.CheckSuccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChecked(t)
			c.policy(t, tt.command, tt.timeout)
			start := time.Now()
			run := c.run(t)
			assert.Less(t, time.Since(start), 4*time.Second, "stopped at its time limit, children too (their pipe would hold the run 5 s more)")
			assert.Equal(t, tt.state, run.State)
			assert.Equal(t, tt.message, run.Message)
			assert.Equal(t, tt.output, run.Output)
			checks, err := c.p.Checks(c.ctx, c.pr)
			require.NoError(t, err)
			assert.Equal(t, []platform.Check{{Name: "check-command", State: tt.state}}, checks)
		})
	}
}

// TestCheckCommandClaim: a run claimed by another process is left alone
// until its deadline; after it (the process died) the next request runs the
// command again; without a check command nothing runs.
func TestCheckCommandClaim(t *testing.T) {
	c := newChecked(t)
	require.NoError(t, c.p.RunChecks(c.ctx, c.pr, c.head), "no policy: nothing to run")
	rec, err := c.reg.PullRequest(c.ctx, c.bare, c.pr.Number)
	require.NoError(t, err)
	assert.Nil(t, rec.CheckRun)

	c.policy(t, "true", 60)
	_, err = c.reg.UpdatePullRequest(c.ctx, c.bare, c.pr.Number, func(r *maestro.PullRequest) error {
		r.CheckRun = &maestro.CheckRun{Commit: c.head, Command: "true", State: maestro.CheckPending, Started: c.clock, Deadline: c.clock.Add(2 * time.Minute)}
		return nil
	})
	require.NoError(t, err)
	c.clock = c.clock.Add(time.Minute)
	assert.Equal(t, maestro.CheckPending, c.run(t).State, "another process is running it")
	checks, err := c.p.Checks(c.ctx, c.pr)
	require.NoError(t, err)
	assert.Equal(t, []platform.Check{{Name: "check-command", State: maestro.CheckPending}}, checks)

	c.clock = c.clock.Add(2 * time.Minute)
	run := c.run(t)
	assert.Equal(t, maestro.CheckSuccess, run.State, "the dead run is run again")
	assert.Equal(t, c.clock, run.Started)
}

// TestCheckCommandValidation: a check command only for local repositories,
// on one line, with a sane time limit.
func TestCheckCommandValidation(t *testing.T) {
	for _, p := range []maestro.RepositoryBranchPolicy{
		{Repository: "https://github.com/dotnet/runtime", Branch: "main", CheckCommand: "make test"},
		{Repository: "/src/app.git", Branch: "main", CheckCommand: "make\ntest"},
		{Repository: "/src/app.git", Branch: "main", CheckTimeoutSeconds: 10},
		{Repository: "/src/app.git", Branch: "main", CheckCommand: "make", CheckTimeoutSeconds: 25 * 3600},
		{Repository: "/src/app.git", Branch: "main", CheckCommand: "  "},
	} {
		err := registry.ValidateCheckCommand(p)
		assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err), "%+v: %v", p, err)
	}
	assert.NoError(t, registry.ValidateCheckCommand(maestro.RepositoryBranchPolicy{Repository: "file:///src/app.git", Branch: "main", CheckCommand: "make test", CheckTimeoutSeconds: 600}))
}

func gitCmd(dir string, args ...string) *osexec.Cmd {
	cmd := osexec.Command("git", args...)
	cmd.Dir = dir
	return cmd
}
