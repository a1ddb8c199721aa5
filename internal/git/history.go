package git

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// What a mirror needs beside the flow's calls: whole branches fetched into
// a bare repository, questions about their history, and a merge made
// without a work tree.

// FetchBranch fetches branch of url with its whole history (and no tags)
// into ref of the repository in dir, replacing what ref held. A branch
// that does not exist is an error; RemoteHead tells the two apart first.
func (r Runner) FetchBranch(ctx context.Context, dir, url, branch, ref string) error {
	_, err := r.run(ctx, dir, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--end-of-options", url, "+refs/heads/"+branch+":"+ref)
	return err
}

// commitsRemote is the remote FetchBranchCommits names for the duration of
// its fetch: git filters only a fetch from a named remote.
const commitsRemote = "maestro-commits"

// FetchBranchCommits fetches branch of url with its commits and trees but
// not its file contents (a blobless fetch, --filter=blob:none; a server
// that does not filter sends them too) into ref of the bare repository in
// dir: enough for HasCommit and IsAncestor, not for reading files. The
// remote is forgotten afterwards, so that no later call fetches a missing
// object on its own. A branch that does not exist is an error; RemoteHead
// tells the two apart first.
func (r Runner) FetchBranchCommits(ctx context.Context, dir, url, branch, ref string) error {
	if strings.HasPrefix(url, "-") {
		return fmt.Errorf("fetch %q: not a repository URL", url)
	}
	if _, err := r.run(ctx, dir, "config", "remote."+commitsRemote+".url", url); err != nil {
		return err
	}
	_, err := r.run(ctx, dir, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--filter=blob:none",
		"--end-of-options", commitsRemote, "+refs/heads/"+branch+":"+ref)
	if _, rerr := r.run(ctx, dir, "config", "--remove-section", "remote."+commitsRemote); err == nil {
		err = rerr
	}
	return err
}

// HasCommit reports whether the repository in dir holds commit (a commit
// id, possibly abbreviated). It never fetches.
func (r Runner) HasCommit(ctx context.Context, dir, commit string) (bool, error) {
	_, err := r.run(ctx, dir, "rev-parse", "--verify", "--quiet", "--end-of-options", commit+"^{commit}")
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return false, nil
	}
	return err == nil, err
}

// IsAncestor reports whether commit a is an ancestor of commit b (a commit
// is its own ancestor).
func (r Runner) IsAncestor(ctx context.Context, dir, a, b string) (bool, error) {
	_, err := r.run(ctx, dir, "merge-base", "--is-ancestor", "--end-of-options", a, b)
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return false, nil
	}
	return err == nil, err
}

// Count returns the number of commits in base..head; an empty base counts
// every commit reachable from head.
func (r Runner) Count(ctx context.Context, dir, base, head string) (int, error) {
	rng := head
	if base != "" {
		rng = base + ".." + head
	}
	out, err := r.run(ctx, dir, "rev-list", "--count", "--end-of-options", rng, "--")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(out))
}

// LogEntry is one commit and the first line of its message.
type LogEntry struct {
	SHA, Subject string
}

// Log returns at most max commits of base..head, newest first.
func (r Runner) Log(ctx context.Context, dir, base, head string, max int) ([]LogEntry, error) {
	out, err := r.run(ctx, dir, "log", "--format=%H%x00%s%x00", "--max-count="+strconv.Itoa(max), "--end-of-options", base+".."+head, "--")
	if err != nil {
		return nil, err
	}
	var entries []LogEntry
	f := strings.Split(out, "\x00")
	for i := 0; i+1 < len(f); i += 2 {
		entries = append(entries, LogEntry{SHA: strings.TrimSpace(f[i]), Subject: f[i+1]})
	}
	return entries, nil
}

// MergeTree merges commits ours and theirs without a work tree (`git
// merge-tree --write-tree`, git 2.38 or later) and returns the merged tree.
// When they conflict it returns ErrConflict (wrapped) and the conflicting
// paths; nothing else changes in the repository that callers see (the
// merged objects are written but no ref points at them).
func (r Runner) MergeTree(ctx context.Context, dir, ours, theirs string) (tree string, conflicts []string, err error) {
	out, err := r.run(ctx, dir, "merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", "--end-of-options", ours, theirs)
	var exit *exec.ExitError
	conflicted := errors.As(err, &exit) && exit.ExitCode() == 1
	if err != nil && !conflicted {
		return "", nil, err
	}
	f := strings.Split(strings.TrimSuffix(out, "\x00"), "\x00")
	if conflicted {
		return "", f[1:], fmt.Errorf("merge %s into %s: %w", theirs, ours, ErrConflict)
	}
	return f[0], nil, nil
}

// CommitTree writes a commit of tree with the given parents and message,
// by the runner's Author, and returns its id; no ref moves.
func (r Runner) CommitTree(ctx context.Context, dir, tree, message string, parents ...string) (string, error) {
	args := []string{"commit-tree", "-m" + message}
	for _, p := range parents {
		args = append(args, "-p"+p)
	}
	out, err := r.run(ctx, dir, append(args, "--end-of-options", tree)...)
	return strings.TrimSpace(out), err
}

// BorrowObjects lets the repository in dir read the objects of the local
// repository at from without copying them (an alternate object directory,
// as `git clone --reference` sets up): a fetch from there then only moves
// refs. dir must not outlive from's objects, and from must not be pruned
// meanwhile; a scratch repository used for one run meets both.
func (r Runner) BorrowObjects(ctx context.Context, dir, from string) error {
	out, err := r.run(ctx, from, "rev-parse", "--path-format=absolute", "--git-path", "objects")
	if err != nil {
		return err
	}
	objects := strings.TrimSpace(out)
	if strings.ContainsAny(objects, "\n\r") {
		return fmt.Errorf("borrow objects of %s: unusable path %q", from, objects)
	}
	info, err := r.run(ctx, dir, "rev-parse", "--path-format=absolute", "--git-path", "objects/info")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(strings.TrimSpace(info), 0o755); err != nil {
		return fmt.Errorf("borrow objects of %s: %w", from, err)
	}
	f, err := os.OpenFile(filepath.Join(strings.TrimSpace(info), "alternates"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("borrow objects of %s: %w", from, err)
	}
	if _, err := f.WriteString(objects + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("borrow objects of %s: %w", from, err)
	}
	return f.Close()
}
