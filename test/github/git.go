package githubdouble

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// minGit is the oldest git whose `merge-tree --write-tree` the double uses
// to merge without a worktree.
var minGit = [2]int{2, 38}

// gitRunner runs the git CLI with an environment that ignores the user's and
// the system's git configuration, so that results do not depend on the machine.
type gitRunner struct {
	path string   // the git executable
	env  []string // the base environment for every command
}

func newGitRunner() (*gitRunner, error) {
	path, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("find git: %w", err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") && !strings.HasPrefix(kv, "LC_ALL=") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
	)
	g := &gitRunner{path: path, env: env}
	out, err := g.run("", nil, nil, "version")
	if err != nil {
		return nil, err
	}
	if !versionAtLeast(out, minGit) {
		return nil, fmt.Errorf("git %d.%d or newer is required, found %q", minGit[0], minGit[1], strings.TrimSpace(out))
	}
	return g, nil
}

var gitVersionRe = regexp.MustCompile(`git version (\d+)\.(\d+)`)

func versionAtLeast(out string, want [2]int) bool {
	m := gitVersionRe.FindStringSubmatch(out)
	if m == nil {
		return false
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return major > want[0] || major == want[0] && minor >= want[1]
}

// gitError is a git command that exited with a non-zero status.
type gitError struct {
	args   []string
	code   int
	stderr string
}

func (e *gitError) Error() string {
	return fmt.Sprintf("git %s: exit status %d: %s", strings.Join(e.args, " "), e.code, strings.TrimSpace(e.stderr))
}

// exitCode returns the exit status of a failed git command, or -1 when err is
// not a git exit status.
func exitCode(err error) int {
	var ge *gitError
	if errors.As(err, &ge) {
		return ge.code
	}
	return -1
}

// run runs git in dir (a bare repository or a worktree) with extra
// environment entries and stdin, and returns its standard output.
func (g *gitRunner) run(dir string, env []string, stdin []byte, args ...string) (string, error) {
	cmd := exec.Command(g.path, args...)
	cmd.Dir = dir
	cmd.Env = append(append([]string(nil), g.env...), env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return stdout.String(), &gitError{args: args, code: ee.ExitCode(), stderr: stderr.String()}
		}
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return stdout.String(), nil
}

// identity is a git author or committer.
type identity struct {
	Name, Email string
	When        time.Time
}

func (id identity) env(role string) []string {
	return []string{
		"GIT_" + role + "_NAME=" + id.Name,
		"GIT_" + role + "_EMAIL=" + id.Email,
		"GIT_" + role + "_DATE=" + id.When.Format(time.RFC3339),
	}
}

func commitEnv(author, committer identity) []string {
	return append(author.env("AUTHOR"), committer.env("COMMITTER")...)
}

var fullSHARe = regexp.MustCompile(`^[0-9a-f]{40}$`)

// objectType returns the type of the object named by a full SHA ("commit",
// "tree", ...) or "" when the repository does not have it.
func (g *gitRunner) objectType(dir, sha string) string {
	if !fullSHARe.MatchString(sha) {
		return ""
	}
	out, err := g.run(dir, nil, nil, "cat-file", "-t", sha)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// refTarget is one ref and the object it points to.
type refTarget struct {
	Name string // full name, refs/heads/main
	SHA  string
	Type string // commit, tag
}

// refs lists the refs under prefix (a full ref name prefix such as
// "refs/heads/" or "refs/heads/main"), sorted by name.
func (g *gitRunner) refs(dir, prefix string) ([]refTarget, error) {
	out, err := g.run(dir, nil, nil, "for-each-ref", "--format=%(refname)%00%(objectname)%00%(objecttype)")
	if err != nil {
		return nil, err
	}
	var refs []refTarget
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "\x00")
		if len(f) != 3 || !strings.HasPrefix(f[0], prefix) {
			continue
		}
		refs = append(refs, refTarget{Name: f[0], SHA: f[1], Type: f[2]})
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Name < refs[j].Name })
	return refs, nil
}

// ref returns the target of one full ref name, or ok=false when it does not exist.
func (g *gitRunner) ref(dir, name string) (refTarget, bool, error) {
	refs, err := g.refs(dir, name)
	if err != nil {
		return refTarget{}, false, err
	}
	for _, r := range refs {
		if r.Name == name {
			return r, true, nil
		}
	}
	return refTarget{}, false, nil
}

// branchSHA returns the commit a branch points to, or "" when there is no such branch.
func (g *gitRunner) branchSHA(dir, branch string) (string, error) {
	r, ok, err := g.ref(dir, "refs/heads/"+branch)
	if err != nil || !ok {
		return "", err
	}
	return r.SHA, nil
}

// validRefName reports whether git accepts name as a full ref name: the
// rules of `git check-ref-format` (without --allow-onelevel), in Go because
// the double checks names on nearly every request.
func validRefName(name string) bool {
	if name == "@" || !strings.Contains(name, "/") || strings.HasSuffix(name, ".") ||
		strings.Contains(name, "..") || strings.Contains(name, "@{") {
		return false
	}
	for _, comp := range strings.Split(name, "/") {
		if comp == "" || strings.HasPrefix(comp, ".") || strings.HasSuffix(comp, ".lock") {
			return false
		}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x20 || c == 0x7f || strings.IndexByte(" ~^:?*[\\", c) >= 0 {
			return false
		}
	}
	return true
}

// validBranchName reports whether git accepts name as a branch name.
func validBranchName(name string) bool {
	return !strings.HasPrefix(name, "-") && validRefName("refs/heads/"+name)
}

// updateRef moves a ref to sha. It fails unless the ref points to old; old
// zeroSHA means the ref must not exist, old "" means no check.
func (g *gitRunner) updateRef(dir, name, sha, old string) error {
	args := []string{"update-ref", "--no-deref", name, sha}
	if old != "" {
		args = append(args, old)
	}
	_, err := g.run(dir, nil, nil, args...)
	return err
}

// deleteRef deletes a ref, failing if it no longer points to old.
func (g *gitRunner) deleteRef(dir, name, old string) error {
	_, err := g.run(dir, nil, nil, "update-ref", "--no-deref", "-d", name, old)
	return err
}

const zeroSHA = "0000000000000000000000000000000000000000"

// isAncestor reports whether commit a is an ancestor of (or equal to) commit b.
func (g *gitRunner) isAncestor(dir, a, b string) (bool, error) {
	_, err := g.run(dir, nil, nil, "merge-base", "--is-ancestor", a, b)
	if err == nil {
		return true, nil
	}
	if exitCode(err) == 1 {
		return false, nil
	}
	return false, err
}

// mergeTree merges two commits without a worktree and returns the resulting
// tree, or clean=false when the merge has conflicts.
func (g *gitRunner) mergeTree(dir, ours, theirs string) (tree string, clean bool, err error) {
	out, err := g.run(dir, nil, nil, "merge-tree", "--write-tree", "--no-messages", ours, theirs)
	switch exitCode(err) {
	case -1:
		if err != nil {
			return "", false, err
		}
		return firstLine(out), true, nil
	case 1:
		return firstLine(out), false, nil
	default:
		return "", false, err
	}
}

// commitTree creates a commit object and returns its SHA.
func (g *gitRunner) commitTree(dir, tree, message string, author, committer identity, parents ...string) (string, error) {
	args := []string{"commit-tree", tree}
	for _, p := range parents {
		args = append(args, "-p", p)
	}
	out, err := g.run(dir, commitEnv(author, committer), []byte(message), args...)
	if err != nil {
		return "", err
	}
	return firstLine(out), nil
}

// commitInfo is one commit as `git log` describes it.
type commitInfo struct {
	SHA, Tree string
	Parents   []string
	Author    identity
	Committer identity
	Message   string
}

// log lists the commits reachable from head and not from base (all commits
// of head when base is ""), oldest first.
func (g *gitRunner) log(dir, base, head string) ([]commitInfo, error) {
	args := []string{"log", "--reverse", "-z", "--format=%H%x01%T%x01%P%x01%an%x01%ae%x01%aI%x01%cn%x01%ce%x01%cI%x01%B"}
	if base != "" {
		args = append(args, "^"+base)
	}
	args = append(args, head, "--")
	out, err := g.run(dir, nil, nil, args...)
	if err != nil {
		return nil, err
	}
	var commits []commitInfo
	for _, rec := range strings.Split(out, "\x00") {
		if rec == "" {
			continue
		}
		f := strings.SplitN(rec, "\x01", 10)
		if len(f) != 10 {
			return nil, fmt.Errorf("git log: unexpected record %q", rec)
		}
		ad, _ := time.Parse(time.RFC3339, f[5])
		cd, _ := time.Parse(time.RFC3339, f[8])
		commits = append(commits, commitInfo{
			SHA: f[0], Tree: f[1], Parents: strings.Fields(f[2]),
			Author:    identity{Name: f[3], Email: f[4], When: ad},
			Committer: identity{Name: f[6], Email: f[7], When: cd},
			Message:   f[9],
		})
	}
	return commits, nil
}

// diffStat is the size of the change between two commits.
type diffStat struct{ Additions, Deletions, Files int }

// diffStat measures the change from the merge base of base and head to head,
// as GitHub's pull request view does.
func (g *gitRunner) diffStat(dir, base, head string) (diffStat, error) {
	out, err := g.run(dir, nil, nil, "diff", "--numstat", "-z", base+"..."+head)
	if err != nil {
		return diffStat{}, err
	}
	var st diffStat
	for _, rec := range strings.Split(out, "\x00") {
		f := strings.Fields(rec)
		if len(f) < 2 {
			continue
		}
		st.Files++
		a, _ := strconv.Atoi(f[0]) // "-" for binary files counts as 0
		d, _ := strconv.Atoi(f[1])
		st.Additions += a
		st.Deletions += d
	}
	return st, nil
}

// scratchRef is the ref git fast-import writes the commits the double makes
// for tests; it is hidden from fetches, pushes and the refs API.
const scratchRef = "refs/double/scratch"

// writeCommit creates a commit whose tree is parent's tree (empty when parent
// is "") with files written and paths in remove deleted, in one run of
// `git fast-import`, and returns its SHA. marks is a scratch file path.
func (g *gitRunner) writeCommit(dir, marks, parent string, files map[string]string, remove []string, message string, author, committer identity) (string, error) {
	defer os.Remove(marks)
	var in bytes.Buffer
	data := func(s string) { fmt.Fprintf(&in, "data %d\n%s\n", len(s), s) }
	who := func(role string, id identity) {
		fmt.Fprintf(&in, "%s %s <%s> %d +0000\n", role, id.Name, id.Email, id.When.Unix())
	}
	fmt.Fprintf(&in, "commit %s\nmark :1\n", scratchRef)
	who("author", author)
	who("committer", committer)
	data(message)
	if parent != "" {
		fmt.Fprintf(&in, "from %s\n", parent)
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Fprintf(&in, "M 100644 inline %s\n", quotePath(p))
		data(files[p])
	}
	for _, p := range remove {
		fmt.Fprintf(&in, "D %s\n", quotePath(p))
	}
	in.WriteString("done\n")
	if _, err := g.run(dir, nil, in.Bytes(), "fast-import", "--quiet", "--done", "--force", "--export-marks="+marks); err != nil {
		return "", err
	}
	out, err := os.ReadFile(marks)
	if err != nil {
		return "", fmt.Errorf("read fast-import marks: %w", err)
	}
	_, sha, ok := strings.Cut(strings.TrimSpace(string(out)), " ")
	if !ok || !fullSHARe.MatchString(sha) {
		return "", fmt.Errorf("fast-import marks %q: no commit", out)
	}
	return sha, nil
}

// quotePath writes a path for fast-import, C-quoted when it needs to be.
func quotePath(p string) string {
	if !strings.ContainsAny(p, "\"\\\n") {
		return p
	}
	r := strings.NewReplacer("\\", "\\\\", "\"", "\\\"", "\n", "\\n")
	return `"` + r.Replace(p) + `"`
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

// rebase replays commits (oldest first) on top of onto in a temporary
// worktree at wtDir, keeping each commit's author and setting committer, and
// returns the new tip, or clean=false when a commit does not apply.
func (g *gitRunner) rebase(dir, wtDir, onto string, commits []commitInfo, committer identity) (tip string, clean bool, err error) {
	if _, err := g.run(dir, nil, nil, "worktree", "add", "--detach", wtDir, onto); err != nil {
		return "", false, err
	}
	defer func() {
		if _, rmErr := g.run(dir, nil, nil, "worktree", "remove", "--force", wtDir); rmErr != nil && err == nil {
			err = rmErr
		}
	}()
	env := committer.env("COMMITTER")
	for _, c := range commits {
		if _, err := g.run(wtDir, env, nil, "cherry-pick", "--allow-empty", "--keep-redundant-commits", c.SHA); err != nil {
			if _, abortErr := g.run(wtDir, nil, nil, "cherry-pick", "--abort"); abortErr != nil {
				return "", false, abortErr
			}
			return "", false, nil
		}
	}
	out, err := g.run(wtDir, nil, nil, "rev-parse", "HEAD")
	if err != nil {
		return "", false, err
	}
	return firstLine(out), true, nil
}
