package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/procgroup"
	"github.com/maestroplusplus/maestro/internal/registry"
)

var _ platform.CommitChecker = (*Platform)(nil)

// The local platform's CI: a repository policy's check command
// (maestro.RepositoryBranchPolicy.CheckCommand) runs with `sh -c` in a
// detached worktree of the pushed head commit, in its own process group,
// within the policy's time limit, without the credentials Maestro++ itself
// holds in its environment. The run is claimed in the pull request's record
// (CheckRun pending, with a deadline) before it starts, so a second process
// asked to check the same commit meanwhile leaves it alone; a run whose
// process died stays pending until its deadline, after which the next
// request runs it again. The result lands in the same record with a
// compare-and-swap write, only if the run is still the one claimed.

// maxCheckOutput bounds the output kept of a check command: its end.
const maxCheckOutput = 64 << 10

// claimGrace is how long past its time limit a pending run counts as alive.
const claimGrace = time.Minute

// secretEnv are variables a check command does not inherit: Maestro++'s own
// credentials.
var secretEnv = []string{"GITHUB_TOKEN", "MAESTRO_AZDO_TOKEN", "SYSTEM_ACCESSTOKEN", "MAESTRO_GITHUB_APP_PRIVATE_KEY", "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_KEY"}

// RunChecks implements platform.CommitChecker.
func (p *Platform) RunChecks(ctx context.Context, pr maestro.PullRequest, head string) error {
	pol, err := p.reg.RepositoryPolicy(ctx, pr.Repository, pr.BaseBranch)
	if maestro.KindOf(err) == maestro.KindNotFound || err == nil && strings.TrimSpace(pol.CheckCommand) == "" {
		return nil
	}
	if err != nil {
		return err
	}
	dir, err := path(pr.Repository)
	if err != nil {
		return err
	}
	now, limit := p.now(), pol.CheckTimeout()
	run := maestro.CheckRun{Commit: head, Command: pol.CheckCommand, State: maestro.CheckPending, Started: now.UTC(), Deadline: now.Add(limit + claimGrace).UTC()}
	claimed := false
	if _, err := p.reg.UpdatePullRequest(ctx, pr.Repository, pr.Number, func(r *maestro.PullRequest) error {
		claimed = false
		if c := r.CheckRun; c != nil && c.Commit == head && (c.State != maestro.CheckPending || c.Deadline.After(now)) {
			return registry.ErrUnchanged // checked, or being checked
		}
		r.CheckRun, claimed = &run, true
		return nil
	}); err != nil {
		return fmt.Errorf("check pull request #%d: %w", pr.Number, err)
	}
	if !claimed {
		return nil
	}
	done := p.execute(ctx, dir, head, pol.CheckCommand, limit)
	done.Commit, done.Command, done.Started, done.Deadline = head, pol.CheckCommand, run.Started, run.Deadline
	done.Finished = p.now().UTC()
	_, err = p.reg.UpdatePullRequest(ctx, pr.Repository, pr.Number, func(r *maestro.PullRequest) error {
		if c := r.CheckRun; c == nil || c.Commit != run.Commit || c.State != maestro.CheckPending || !c.Started.Equal(run.Started) {
			return registry.ErrUnchanged // given up as dead and claimed again meanwhile
		}
		r.CheckRun = &done
		return nil
	})
	if err != nil {
		return fmt.Errorf("record the check of pull request #%d: %w", pr.Number, err)
	}
	return nil
}

// execute runs command in a worktree of commit and returns its outcome.
func (p *Platform) execute(ctx context.Context, repo, commit, command string, limit time.Duration) maestro.CheckRun {
	failed := func(msg string) maestro.CheckRun {
		return maestro.CheckRun{State: maestro.CheckFailure, Message: msg}
	}
	tmp, err := os.MkdirTemp("", "maestro-check-")
	if err != nil {
		return failed(fmt.Sprintf("could not make a worktree: %v", err))
	}
	defer os.RemoveAll(tmp)
	work := filepath.Join(tmp, "work")
	if err := p.runner.AddWorktree(ctx, repo, work, commit); err != nil {
		return failed(fmt.Sprintf("could not check out %s: %v", commit, err))
	}
	defer p.runner.RemoveWorktree(context.WithoutCancel(ctx), repo, work)

	runCtx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(runCtx, "sh", "-c", command)
	cmd.Dir = work
	cmd.Env = checkEnv()
	var out tailBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	procgroup.Own(cmd)
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	res := maestro.CheckRun{State: maestro.CheckSuccess, Output: out.String()}
	var exit *exec.ExitError
	switch {
	case runCtx.Err() == context.DeadlineExceeded:
		res.State, res.Message = maestro.CheckFailure, fmt.Sprintf("`%s` did not finish within %s and was stopped", command, limit)
	case errors.As(err, &exit):
		res.State, res.Message = maestro.CheckFailure, fmt.Sprintf("`%s` exited with status %d", command, exit.ExitCode())
	case err != nil:
		res.State, res.Message = maestro.CheckFailure, fmt.Sprintf("`%s` could not run: %v", command, err)
	default:
		res.Message = fmt.Sprintf("`%s` succeeded", command)
	}
	return res
}

// checkEnv is this process's environment without Maestro++'s credentials.
func checkEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		secret := false
		for _, s := range secretEnv {
			secret = secret || k == s
		}
		if !secret {
			env = append(env, kv)
		}
	}
	return env
}

// tailBuffer keeps the last maxCheckOutput bytes written to it.
type tailBuffer struct{ b bytes.Buffer }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b.Write(p)
	if extra := t.b.Len() - maxCheckOutput; extra > 0 {
		t.b.Next(extra) // the buffer reuses the space it drops
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return t.b.String() }
