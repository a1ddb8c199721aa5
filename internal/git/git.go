// Package git runs the git command line on local repositories: clone, branch,
// commit, push, and the read-only questions the flow asks (refs, authors of a
// branch's commits, file contents at a revision). Credentials for HTTP
// remotes travel in an http.extraHeader set in the environment of each call
// (GIT_CONFIG_*), never in argv, a URL, a config file or an error message.
package git

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/procgroup"
)

// ErrNotFound is returned when a revision or path does not exist.
var ErrNotFound = errors.New("not found")

// Identity is a commit author.
type Identity struct {
	Name  string
	Email string
}

// Runner runs git. The zero Runner uses "git" from PATH without credentials.
type Runner struct {
	// Token, when set, authenticates HTTP(S) remotes with Basic auth
	// (x-access-token and the token), as GitHub and Azure Repos accept.
	Token string
	// Credentials authenticate the HTTP(S) remotes at or below their URL
	// (git's http.<url>.extraHeader), so that one run can read from one host
	// and push to another, each with its own token. Use them instead of
	// Token: a remote that both match gets only the more specific header.
	Credentials []Credential
	// Author signs commits.
	Author Identity
}

// Credential is a token for the remotes whose URL lies at or below URL
// (same scheme and host, path on a segment boundary), sent as Basic auth
// (x-access-token and the token), as GitHub and Azure Repos accept.
type Credential struct {
	URL   string
	Token string
}

func basicHeader(token string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:"+token))
}

// redact replaces every token of the runner, and the header that carries
// it, in text by ***.
func (r Runner) redact(text string) string {
	tokens := []string{r.Token}
	for _, c := range r.Credentials {
		tokens = append(tokens, c.Token)
	}
	for _, t := range tokens {
		if t != "" {
			text = strings.ReplaceAll(text, base64.StdEncoding.EncodeToString([]byte("x-access-token:"+t)), "***")
			text = strings.ReplaceAll(text, t, "***")
		}
	}
	return text
}

// run runs git with args in dir and returns its standard output.
func (r Runner) run(ctx context.Context, dir string, args ...string) (string, error) {
	// Configuration travels in GIT_CONFIG_* variables: unlike -c arguments,
	// the environment is not visible to other users in the process list.
	config := [][2]string{{"core.autocrlf", "false"}, {"init.defaultBranch", "main"}}
	if r.Token != "" {
		config = append(config, [2]string{"http.extraHeader", basicHeader(r.Token)})
	}
	for _, c := range r.Credentials {
		if c.Token != "" {
			// A URL cannot end the key early: git splits the key at its
			// first and last dot, and everything between is the URL.
			config = append(config, [2]string{"http." + strings.TrimSuffix(c.URL, "/") + ".extraHeader", basicHeader(c.Token)})
		}
	}
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	// When ctx ends (a request's or an event's bound, or its caller gone),
	// git is killed with the transport helper it started (git-remote-https,
	// which may wait for good on a server that never answers) and their
	// children: they run in a process group of their own, killed whole.
	// WaitDelay stops waiting for pipes that a process out of the group
	// still holds open.
	procgroup.Own(cmd)
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = append(os.Environ(),
		"GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1", "LC_ALL=C",
		"GIT_AUTHOR_NAME="+r.Author.Name, "GIT_AUTHOR_EMAIL="+r.Author.Email,
		"GIT_COMMITTER_NAME="+r.Author.Name, "GIT_COMMITTER_EMAIL="+r.Author.Email,
		fmt.Sprintf("GIT_CONFIG_COUNT=%d", len(config)),
	)
	for i, kv := range config {
		cmd.Env = append(cmd.Env, fmt.Sprintf("GIT_CONFIG_KEY_%d=%s", i, kv[0]), fmt.Sprintf("GIT_CONFIG_VALUE_%d=%s", i, kv[1]))
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		msg := r.redact(strings.TrimSpace(errOut.String()))
		if ctx.Err() != nil {
			// Killed because ctx ended: say so, so that callers can tell
			// (errors.Is(err, context.DeadlineExceeded)) work cut short from
			// a git that failed.
			return out.String(), fmt.Errorf("git %s stopped: %w (%v): %s", args[0], ctx.Err(), err, msg)
		}
		return out.String(), fmt.Errorf("git %s: %w: %s", args[0], err, msg)
	}
	return out.String(), nil
}

// Every name that comes from outside — a URL, a directory, a branch, a
// revision, a path, a message — is passed so that git cannot read it as an
// option: after `--end-of-options` (or `--`), or glued to its option
// (`--branch=NAME`). A branch called `--upload-pack=...` is a branch.

// Clone clones url into dir (which must not exist) at branch.
func (r Runner) Clone(ctx context.Context, url, dir, branch string) error {
	_, err := r.run(ctx, "", "clone", "--quiet", "--branch="+branch, "--", url, dir)
	return err
}

// Init creates a repository in dir with branch main.
func (r Runner) Init(ctx context.Context, dir string, bare bool) error {
	args := []string{"init", "--quiet"}
	if bare {
		args = append(args, "--bare")
	}
	_, err := r.run(ctx, "", append(args, "--", dir)...)
	return err
}

// CheckoutNew creates branch at the current HEAD and checks it out.
func (r Runner) CheckoutNew(ctx context.Context, dir, branch string) error {
	_, err := r.run(ctx, dir, "switch", "--quiet", "--force-create="+branch)
	return err
}

// CommitAll stages every change in the work tree and commits it. It reports
// false, and commits nothing, when there is no change.
func (r Runner) CommitAll(ctx context.Context, dir, message string) (bool, error) {
	if _, err := r.run(ctx, dir, "add", "--all", "--", "."); err != nil {
		return false, err
	}
	status, err := r.run(ctx, dir, "status", "--porcelain")
	if err != nil {
		return false, err
	}
	if strings.TrimSpace(status) == "" {
		return false, nil
	}
	_, err = r.run(ctx, dir, "commit", "--quiet", "--no-verify", "--message="+message)
	return err == nil, err
}

// Push pushes local ref src to branch dst of remote; force only with lease
// on the expected old head when expectOld is set.
func (r Runner) Push(ctx context.Context, dir, remote, src, dst, expectOld string) error {
	args := []string{"push", "--quiet", "--porcelain"}
	if expectOld != "" {
		args = append(args, "--force-with-lease=refs/heads/"+dst+":"+expectOld)
	}
	_, err := r.run(ctx, dir, append(args, "--end-of-options", remote, src+":refs/heads/"+dst)...)
	return err
}

// ErrStale is returned (wrapped) by PushLeased when the remote branch is not
// at the head the caller read: someone else pushed (or created it) first.
var ErrStale = errors.New("the remote branch moved since it was read")

// PushLeased pushes local ref src to branch dst of remote only if dst is
// still at expectOld there — or, with an empty expectOld, only if dst does
// not exist. The check and the update are one step on the remote (git's
// --force-with-lease), so of two writers that read the same head exactly one
// wins; the other gets ErrStale.
//
// Which failure was a lost race is not read from git's messages (they differ
// between versions, hosts and hooks): after any failed push the remote head
// is read again (`git ls-remote`). A branch that is not at expectOld (or
// exists when it must not) is ErrStale; one already at src's commit means
// the push did land (only its answer was lost), so that is success; anything
// else returns the push's own error.
func (r Runner) PushLeased(ctx context.Context, dir, remote, src, dst, expectOld string) error {
	_, err := r.run(ctx, dir, "push", "--porcelain", "--force-with-lease=refs/heads/"+dst+":"+expectOld,
		"--end-of-options", remote, src+":refs/heads/"+dst)
	if err == nil {
		return nil
	}
	head, herr := r.RemoteHead(ctx, dir, remote, dst)
	switch {
	case errors.Is(herr, ErrNotFound):
		if expectOld != "" {
			return fmt.Errorf("push %s: the branch was deleted: %w", dst, ErrStale)
		}
		return err
	case herr != nil:
		return errors.Join(err, fmt.Errorf("read the remote head of %s after the failed push: %w", dst, herr))
	}
	if mine, merr := r.RevParse(ctx, dir, src); merr == nil && mine == head {
		return nil
	}
	if head != expectOld {
		return fmt.Errorf("push %s: the remote branch is at %s, not at %q as read: %w", dst, head, expectOld, ErrStale)
	}
	return err
}

// RevParse resolves rev to a commit id, or ErrNotFound.
func (r Runner) RevParse(ctx context.Context, dir, rev string) (string, error) {
	out, err := r.run(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("%s: %w", rev, ErrNotFound)
	}
	return strings.TrimSpace(out), nil
}

// RemoteHead returns the commit of branch on remote, or ErrNotFound.
func (r Runner) RemoteHead(ctx context.Context, dir, remote, branch string) (string, error) {
	out, err := r.run(ctx, dir, "ls-remote", "--heads", "--end-of-options", remote, "refs/heads/"+branch)
	if err != nil {
		return "", err
	}
	f := strings.Fields(out)
	if len(f) == 0 {
		return "", fmt.Errorf("branch %s of %s: %w", branch, remote, ErrNotFound)
	}
	return f[0], nil
}

// Authors returns the distinct author emails of the commits in base..head.
func (r Runner) Authors(ctx context.Context, dir, base, head string) ([]string, error) {
	out, err := r.run(ctx, dir, "log", "--format=%ae", "--end-of-options", base+".."+head, "--")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var emails []string
	for _, e := range strings.Fields(out) {
		if !seen[e] {
			seen[e] = true
			emails = append(emails, e)
		}
	}
	return emails, nil
}

// Commit is one commit and its author.
type Commit struct {
	SHA, AuthorName, AuthorEmail string
}

// Commits returns the commits in base..head, oldest first.
func (r Runner) Commits(ctx context.Context, dir, base, head string) ([]Commit, error) {
	out, err := r.run(ctx, dir, "log", "--reverse", "--format=%H%x00%an%x00%ae", "--end-of-options", base+".."+head, "--")
	if err != nil {
		return nil, err
	}
	var commits []Commit
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "\x00")
		if len(f) == 3 {
			commits = append(commits, Commit{SHA: f[0], AuthorName: f[1], AuthorEmail: f[2]})
		}
	}
	return commits, nil
}

// Show returns the contents of path at rev, or ErrNotFound.
func (r Runner) Show(ctx context.Context, dir, rev, path string) ([]byte, error) {
	out, err := r.run(ctx, dir, "show", "--end-of-options", rev+":"+path)
	if err != nil {
		return nil, fmt.Errorf("%s:%s: %w", rev, path, ErrNotFound)
	}
	return []byte(out), nil
}

// Fetch fetches refspecs (SRC:DST) from url into the repository in dir,
// shallow (the tips only) and without tags.
func (r Runner) Fetch(ctx context.Context, dir, url string, refspecs ...string) error {
	_, err := r.run(ctx, dir, append([]string{"fetch", "--quiet", "--depth=1", "--no-tags", "--end-of-options", url}, refspecs...)...)
	return err
}

// Diff returns the diff between two revisions.
func (r Runner) Diff(ctx context.Context, dir, from, to string) (string, error) {
	return r.run(ctx, dir, "diff", "--end-of-options", from, to, "--")
}

// Merge merges rev into the checked-out branch with a merge commit.
func (r Runner) Merge(ctx context.Context, dir, rev, message string) error {
	_, err := r.run(ctx, dir, "merge", "--no-ff", "--quiet", "--message="+message, "--end-of-options", rev)
	return err
}

// ErrConflict is returned (wrapped) by SquashMerge when the changes do not
// merge cleanly.
var ErrConflict = errors.New("the changes conflict")

// SquashMerge applies the changes of rev (since its merge base with the
// checked-out branch) to the checked-out branch as one new commit whose
// message is message (`git merge --squash`, then `git commit`). When they
// conflict it returns ErrConflict and leaves the work tree as it was.
func (r Runner) SquashMerge(ctx context.Context, dir, rev, message string) error {
	if _, err := r.run(ctx, dir, "merge", "--squash", "--quiet", "--end-of-options", rev); err != nil {
		unmerged, uerr := r.run(ctx, dir, "ls-files", "--unmerged")
		if uerr == nil && strings.TrimSpace(unmerged) != "" {
			if _, rerr := r.run(ctx, dir, "reset", "--hard", "--quiet", "HEAD"); rerr != nil {
				return errors.Join(fmt.Errorf("squash-merge %s: %w", rev, ErrConflict), rerr)
			}
			return fmt.Errorf("squash-merge %s: %w: %w", rev, ErrConflict, err)
		}
		return err
	}
	_, err := r.run(ctx, dir, "commit", "--quiet", "--no-verify", "--message="+message)
	return err
}

// DeleteBranch deletes a local branch of the repository in dir.
func (r Runner) DeleteBranch(ctx context.Context, dir, branch string) error {
	_, err := r.run(ctx, dir, "branch", "--quiet", "--delete", "--force", "--end-of-options", branch)
	return err
}

// ResetHard points the checked-out branch at commit (a full commit id, as
// RevParse returns: git reset takes no --end-of-options) and makes the index
// and the work tree match it, dropping every local change.
func (r Runner) ResetHard(ctx context.Context, dir, commit string) error {
	if !isCommitID(commit) {
		return fmt.Errorf("reset to %q: not a commit id (40 or 64 hexadecimal digits)", commit)
	}
	_, err := r.run(ctx, dir, "reset", "--hard", "--quiet", commit, "--")
	return err
}

func isCommitID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// CommitAllowEmpty stages every change in the work tree and commits it,
// also when nothing changed (an empty commit), and returns the commit.
func (r Runner) CommitAllowEmpty(ctx context.Context, dir, message string) (string, error) {
	if _, err := r.run(ctx, dir, "add", "--all", "--", "."); err != nil {
		return "", err
	}
	if _, err := r.run(ctx, dir, "commit", "--quiet", "--no-verify", "--allow-empty", "--message="+message); err != nil {
		return "", err
	}
	return r.RevParse(ctx, dir, "HEAD")
}

// DefaultBranch returns the branch the remote's HEAD points to, or
// ErrNotFound when the remote has none.
func (r Runner) DefaultBranch(ctx context.Context, dir, remote string) (string, error) {
	out, err := r.run(ctx, dir, "ls-remote", "--symref", "--end-of-options", remote, "HEAD")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "ref: refs/heads/"); ok {
			if branch, _, ok := strings.Cut(rest, "\t"); ok && branch != "" {
				return branch, nil
			}
		}
	}
	return "", fmt.Errorf("the default branch of %s: %w", remote, ErrNotFound)
}

// ChangedCommit is a commit and the files it changed.
type ChangedCommit struct {
	SHA   string
	Paths []string // added, modified and deleted files (renames as a deletion and an addition)
}

// ChangedFiles returns the commits in base..head, oldest first, each with
// the files it changed (a merge: against its first parent). An empty base
// lists head alone.
func (r Runner) ChangedFiles(ctx context.Context, dir, base, head string) ([]ChangedCommit, error) {
	// -z: names as they are (not C-quoted, white space kept), each ended by
	// NUL. A commit is "\x00SHA\x00", then "\n" and its names, each ended by
	// NUL, then the NUL that starts the next commit.
	args := []string{"log", "-z", "--reverse", "--topo-order", "--no-renames", "--name-only", "--diff-merges=first-parent", "--format=%x00%H", "--end-of-options", base + ".." + head, "--"}
	if base == "" {
		args = []string{"log", "-z", "-1", "--no-renames", "--name-only", "--diff-merges=first-parent", "--format=%x00%H", "--end-of-options", head, "--"}
	}
	out, err := r.run(ctx, dir, args...)
	if err != nil {
		return nil, err
	}
	var commits []ChangedCommit
	tokens := strings.Split(out, "\x00")
	for i := 0; i < len(tokens); i++ {
		if tokens[i] != "" || i+1 >= len(tokens) || tokens[i+1] == "" {
			continue
		}
		i++
		c := ChangedCommit{SHA: strings.TrimSpace(tokens[i])}
		for first := true; i+1 < len(tokens) && tokens[i+1] != ""; first = false {
			i++
			name := tokens[i]
			if first {
				name = strings.TrimPrefix(name, "\n")
			}
			if name != "" {
				c.Paths = append(c.Paths, name)
			}
		}
		commits = append(commits, c)
	}
	return commits, nil
}
