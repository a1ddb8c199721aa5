package azdo

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// zeroOID is the object ID Azure Repos and git use for "no object": the old
// value of a ref being created, the new value of a ref being deleted.
const zeroOID = "0000000000000000000000000000000000000000"

var oidPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)

// validOID reports whether s is a full SHA-1 object ID in lower-case hex, the
// only form Azure Repos accepts in ref updates and pushes.
func validOID(s string) bool { return oidPattern.MatchString(strings.ToLower(s)) }

// signature is the author or committer of a commit.
type signature struct {
	name, email string
	when        time.Time
}

// gitRepo is one bare repository on disk, driven through the git CLI. All
// methods are safe for concurrent use because git's own ref locking makes
// each ref update atomic; callers that need read-then-write consistency hold
// the server's lock.
type gitRepo struct {
	dir string
}

// gitEnv is the environment every git command runs with: the machine's and
// the user's configuration are ignored so results do not depend on them.
func gitEnv(extra ...string) []string {
	env := make([]string, 0, len(os.Environ())+8)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GIT_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
	)
	return append(env, extra...)
}

// initBareRepo creates an empty bare repository whose HEAD names
// refs/heads/<branch>.
func initBareRepo(dir, branch string) (*gitRepo, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	g := &gitRepo{dir: dir}
	if _, err := g.run(nil, nil, "init", "--bare", "--quiet", "--initial-branch="+branch); err != nil {
		return nil, err
	}
	// http-backend serves only repositories that allow it, and receive-pack
	// needs an authenticated REMOTE_USER, which the double sets.
	if _, err := g.run(nil, nil, "config", "http.receivepack", "true"); err != nil {
		return nil, err
	}
	return g, nil
}

var (
	gitCheckOnce sync.Once
	gitCheckErr  error
)

// checkGit makes sure git is installed and new enough for
// `merge-tree --write-tree` (git 2.38).
func checkGit() error {
	gitCheckOnce.Do(func() {
		out, err := exec.Command("git", "version").Output()
		if err != nil {
			gitCheckErr = fmt.Errorf("run git version: %w (the Azure DevOps double needs the git CLI)", err)
			return
		}
		var major, minor int
		if _, err := fmt.Sscanf(string(out), "git version %d.%d", &major, &minor); err != nil {
			gitCheckErr = fmt.Errorf("read %q: %w", strings.TrimSpace(string(out)), err)
			return
		}
		if major < 2 || major == 2 && minor < 38 {
			gitCheckErr = fmt.Errorf("%s is too old: the Azure DevOps double needs git 2.38 or later (merge-tree --write-tree)", strings.TrimSpace(string(out)))
		}
	})
	return gitCheckErr
}

// gitError is a failed git command with its stderr.
type gitError struct {
	args   []string
	code   int
	stderr string
}

func (e *gitError) Error() string {
	return fmt.Sprintf("git %s: exit %d: %s", strings.Join(e.args, " "), e.code, strings.TrimSpace(e.stderr))
}

// run runs git in the repository with stdin and extra environment variables
// and returns its stdout.
func (g *gitRepo) run(stdin []byte, extraEnv []string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = g.dir
	cmd.Env = gitEnv(append([]string{"GIT_DIR=" + g.dir}, extraEnv...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return stdout.Bytes(), &gitError{args: args, code: exit.ExitCode(), stderr: stderr.String()}
		}
		return nil, fmt.Errorf("run git %s: %w", strings.Join(args, " "), err)
	}
	return stdout.Bytes(), nil
}

// ref is one ref and the object it points at.
type ref struct {
	name string
	oid  string
}

// refs lists the refs whose names start with prefix ("refs/" for all), sorted
// by name as git sorts them.
func (g *gitRepo) refs(prefix string) ([]ref, error) {
	out, err := g.run(nil, nil, "for-each-ref", "--format=%(objectname) %(refname)", prefix)
	if err != nil {
		return nil, err
	}
	var refs []ref
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		oid, name, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if strings.HasPrefix(name, prefix) {
			refs = append(refs, ref{name: name, oid: oid})
		}
	}
	return refs, nil
}

// resolve returns the object a full ref name points at, or "" if the ref
// does not exist.
func (g *gitRepo) resolve(name string) (string, error) {
	out, err := g.run(nil, nil, "for-each-ref", "--format=%(objectname)", name)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if validOID(line) {
			return line, nil
		}
	}
	return "", nil
}

// objectType returns the type of an object ("commit", "tree", "blob",
// "tag"), or "" if the repository does not have it.
func (g *gitRepo) objectType(oid string) string {
	out, err := g.run(nil, nil, "cat-file", "-t", oid)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// isCommit reports whether oid names a commit in the repository.
func (g *gitRepo) isCommit(oid string) bool { return g.objectType(oid) == "commit" }

// validRefName reports whether name is a well-formed full ref name.
func (g *gitRepo) validRefName(name string) bool {
	if !strings.HasPrefix(name, "refs/") {
		return false
	}
	_, err := g.run(nil, nil, "check-ref-format", name)
	return err == nil
}

// errStale is returned by updateRef when the ref did not hold the expected
// old value.
var errStale = errors.New("ref is stale")

// updateRef moves name from oldOID to newOID atomically. oldOID zeroOID
// means the ref must not exist; newOID zeroOID deletes it.
func (g *gitRepo) updateRef(name, newOID, oldOID string) error {
	var args []string
	if newOID == zeroOID {
		args = []string{"update-ref", "-d", name, oldOID}
	} else {
		args = []string{"update-ref", name, newOID, oldOID}
	}
	if _, err := g.run(nil, nil, args...); err != nil {
		var ge *gitError
		if errors.As(err, &ge) {
			return fmt.Errorf("update %s: %w: %s", name, errStale, strings.TrimSpace(ge.stderr))
		}
		return err
	}
	return nil
}

// symbolicHead returns the ref HEAD names.
func (g *gitRepo) symbolicHead() (string, error) {
	out, err := g.run(nil, nil, "symbolic-ref", "HEAD")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// setHead points HEAD at a branch ref.
func (g *gitRepo) setHead(name string) error {
	_, err := g.run(nil, nil, "symbolic-ref", "HEAD", name)
	return err
}

// commitMeta is what a GitCommitRef shows of a commit.
type commitMeta struct {
	oid       string
	tree      string
	parents   []string
	author    signature
	committer signature
	message   string
}

// readCommit parses a commit object.
func (g *gitRepo) readCommit(oid string) (commitMeta, error) {
	out, err := g.run(nil, nil, "cat-file", "commit", oid)
	if err != nil {
		return commitMeta{}, err
	}
	header, message, _ := strings.Cut(string(out), "\n\n")
	c := commitMeta{oid: oid, message: message}
	for _, line := range strings.Split(header, "\n") {
		key, value, _ := strings.Cut(line, " ")
		switch key {
		case "tree":
			c.tree = value
		case "parent":
			c.parents = append(c.parents, value)
		case "author":
			c.author = parseSignature(value)
		case "committer":
			c.committer = parseSignature(value)
		}
	}
	return c, nil
}

// parseSignature parses "Name <email> 1700000000 +0100".
func parseSignature(s string) signature {
	var sig signature
	lt, gt := strings.Index(s, "<"), strings.LastIndex(s, ">")
	if lt < 0 || gt < lt {
		return sig
	}
	sig.name = strings.TrimSpace(s[:lt])
	sig.email = s[lt+1 : gt]
	fields := strings.Fields(s[gt+1:])
	if len(fields) >= 1 {
		if secs, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
			sig.when = time.Unix(secs, 0).UTC()
		}
	}
	return sig
}

// readBlob returns the content of path at a commit-ish.
func (g *gitRepo) readBlob(rev, path string) ([]byte, error) {
	return g.run(nil, nil, "cat-file", "blob", rev+":"+strings.TrimPrefix(path, "/"))
}

// treeEntry is one entry of an index or tree listing.
type treeEntry struct {
	mode, oid string
}

// fileChange is one change of a push: the content to write at path, a delete,
// or a rename from oldPath (optionally with new content).
type fileChange struct {
	kind    string // "add", "edit", "delete", "rename"
	path    string
	oldPath string
	content []byte
	hasData bool
}

// changeError is a push change that cannot be applied to the base commit.
type changeError struct{ msg string }

func (e *changeError) Error() string { return e.msg }

// commitChanges writes a commit whose tree is base's tree with changes
// applied and whose only parent is base ("" for a root commit). It does not
// move any ref.
func (g *gitRepo) commitChanges(base string, changes []fileChange, message string, author, committer signature) (string, error) {
	index, err := os.CreateTemp("", "azdo-index-*")
	if err != nil {
		return "", fmt.Errorf("create temporary index: %w", err)
	}
	indexPath := index.Name()
	index.Close()
	os.Remove(indexPath)
	defer os.Remove(indexPath)
	env := []string{"GIT_INDEX_FILE=" + indexPath}
	if base != "" {
		if _, err := g.run(nil, env, "read-tree", base); err != nil {
			return "", err
		}
	} else if _, err := g.run(nil, env, "read-tree", "--empty"); err != nil {
		return "", err
	}
	entry := func(path string) (treeEntry, bool, error) {
		out, err := g.run(nil, env, "ls-files", "--stage", "--", path)
		if err != nil {
			return treeEntry{}, false, err
		}
		line := strings.TrimSpace(string(out))
		if line == "" {
			return treeEntry{}, false, nil
		}
		meta, name, _ := strings.Cut(line, "\t")
		if name != path {
			return treeEntry{}, false, nil
		}
		fields := strings.Fields(meta)
		return treeEntry{mode: fields[0], oid: fields[1]}, true, nil
	}
	writeBlob := func(data []byte) (string, error) {
		out, err := g.run(data, env, "hash-object", "-w", "--stdin")
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(string(out)), nil
	}
	setEntry := func(mode, oid, path string) error {
		_, err := g.run(nil, env, "update-index", "--add", "--cacheinfo", mode+","+oid+","+path)
		return err
	}
	remove := func(path string) error {
		// Mode 0 in --index-info removes the path; unlike --force-remove it
		// needs no work tree.
		_, err := g.run([]byte("0 "+zeroOID+"\t"+path+"\n"), env, "update-index", "--index-info")
		return err
	}
	for _, ch := range changes {
		existing, exists, err := entry(ch.path)
		if err != nil {
			return "", err
		}
		switch ch.kind {
		case "add":
			if exists {
				return "", &changeError{fmt.Sprintf("The path '/%s' specified in the add operation already exists. Please specify a new path.", ch.path)}
			}
			oid, err := writeBlob(ch.content)
			if err != nil {
				return "", err
			}
			if err := setEntry("100644", oid, ch.path); err != nil {
				return "", err
			}
		case "edit":
			if !exists {
				return "", &changeError{fmt.Sprintf("The path '/%s' could not be found to edit.", ch.path)}
			}
			oid, err := writeBlob(ch.content)
			if err != nil {
				return "", err
			}
			if err := setEntry(existing.mode, oid, ch.path); err != nil {
				return "", err
			}
		case "delete":
			if !exists {
				return "", &changeError{fmt.Sprintf("The path '/%s' could not be found to delete.", ch.path)}
			}
			if err := remove(ch.path); err != nil {
				return "", err
			}
		case "rename":
			source, found, err := entry(ch.oldPath)
			if err != nil {
				return "", err
			}
			if !found {
				return "", &changeError{fmt.Sprintf("The path '/%s' could not be found to rename.", ch.oldPath)}
			}
			if exists {
				return "", &changeError{fmt.Sprintf("The path '/%s' specified as the rename target already exists.", ch.path)}
			}
			oid := source.oid
			if ch.hasData {
				if oid, err = writeBlob(ch.content); err != nil {
					return "", err
				}
			}
			if err := remove(ch.oldPath); err != nil {
				return "", err
			}
			if err := setEntry(source.mode, oid, ch.path); err != nil {
				return "", err
			}
		default:
			return "", &changeError{fmt.Sprintf("The change type '%s' is not supported.", ch.kind)}
		}
	}
	out, err := g.run(nil, env, "write-tree")
	if err != nil {
		return "", err
	}
	tree := strings.TrimSpace(string(out))
	var parents []string
	if base != "" {
		parents = []string{base}
	}
	return g.commitTree(tree, parents, message, author, committer)
}

// commitTree writes a commit object.
func (g *gitRepo) commitTree(tree string, parents []string, message string, author, committer signature) (string, error) {
	args := []string{"commit-tree", tree}
	for _, p := range parents {
		args = append(args, "-p", p)
	}
	env := []string{
		"GIT_AUTHOR_NAME=" + author.name,
		"GIT_AUTHOR_EMAIL=" + author.email,
		"GIT_AUTHOR_DATE=" + gitDate(author.when),
		"GIT_COMMITTER_NAME=" + committer.name,
		"GIT_COMMITTER_EMAIL=" + committer.email,
		"GIT_COMMITTER_DATE=" + gitDate(committer.when),
	}
	out, err := g.run([]byte(message), env, args...)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

func gitDate(t time.Time) string { return fmt.Sprintf("%d +0000", t.Unix()) }

// mergeResult is the outcome of merging two commits without a worktree.
type mergeResult struct {
	tree      string
	conflicts []string // paths with conflicts; empty when the merge is clean
}

// merge merges source into target (git merge-tree --write-tree) and returns
// the merged tree or the conflicting paths.
func (g *gitRepo) merge(target, source string) (mergeResult, error) {
	out, err := g.run(nil, nil, "merge-tree", "--write-tree", "--name-only", "--no-messages", target, source)
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if err != nil {
		var ge *gitError
		if errors.As(err, &ge) && ge.code == 1 && len(lines) > 0 && validOID(lines[0]) {
			res := mergeResult{tree: lines[0]}
			for _, l := range lines[1:] {
				if l != "" {
					res.conflicts = append(res.conflicts, l)
				}
			}
			return res, nil
		}
		return mergeResult{}, err
	}
	if len(lines) == 0 || !validOID(lines[0]) {
		return mergeResult{}, fmt.Errorf("git merge-tree printed no tree: %q", out)
	}
	return mergeResult{tree: lines[0]}, nil
}

// revList lists the commits reachable from include but not from exclude,
// newest first.
func (g *gitRepo) revList(include, exclude string) ([]string, error) {
	args := []string{"rev-list", include}
	if exclude != "" {
		args = append(args, "^"+exclude)
	}
	out, err := g.run(nil, nil, args...)
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(out)), nil
}

// size returns the repository's size on disk in bytes, as GitRepository.size
// reports it.
func (g *gitRepo) size() uint64 {
	var total uint64
	_ = filepath.WalkDir(filepath.Join(g.dir, "objects"), func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			total += uint64(info.Size())
		}
		return nil
	})
	return total
}
