// Package mirror keeps a branch of an internal copy of a repository (an
// Azure Repos mirror of a GitHub repository) current with the public one.
//
// A run fetches the source branch and the target branch, each with its
// whole history, into a scratch bare repository (no work tree, whatever the
// mode; a local source lends its objects instead of copying them), decides what to do from the two heads and their ancestry (Decide),
// and pushes at most one branch update. The push is never forced: git
// refuses it unless the target branch still holds the head the run read (or
// still does not exist), so a run that races another writer fails instead
// of losing that writer's commits; one whose push lost to a push of the
// very commit it was pushing (two runs of one head) is up to date. A run
// that refuses or fails pushes nothing. Credentials travel in the git.Runner's environment; no URL,
// argument or message of a run carries a token.
package mirror

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// Action is what a run does to the target branch.
type Action int

// Actions, as Decide chooses them.
const (
	ActionUpToDate    Action = iota // nothing: the target already holds the source head
	ActionCreate                    // create the target branch at the source head
	ActionFastForward               // move the target branch forward to the source head
	ActionMerge                     // internalMerge: push a merge commit of both heads
	ActionRefuse                    // fastForward: the target has commits of its own; push nothing
)

// Decide says what a run in mode does, given the source head, the target
// head ("" when the target branch does not exist), whether the target head
// is an ancestor of the source head, and whether the source head is an
// ancestor of the target head.
//
// fastForward: a missing branch is created, an ancestor moved forward, and
// a target with commits the source lacks refused. internalMerge: a missing
// branch is created at the source head, a target that already contains the
// source head is left alone, a target the source head contains is moved
// forward (a merge commit would add nothing), and any other is merged.
func Decide(mode maestro.MirrorMode, source, target string, targetInSource, sourceInTarget bool) Action {
	switch {
	case target == "":
		return ActionCreate
	case target == source:
		return ActionUpToDate
	case mode == maestro.MirrorInternalMerge && sourceInTarget:
		return ActionUpToDate
	case targetInSource:
		return ActionFastForward
	case mode == maestro.MirrorInternalMerge:
		return ActionMerge
	}
	return ActionRefuse
}

// Request names one mirror run.
type Request struct {
	Source string // repository URL (or local path) to read
	Branch string // branch of Source
	Target string // repository URL (or local path) to update
	Mode   maestro.MirrorMode
}

// MaxListed bounds the commits a refusal and the paths a conflict list.
const MaxListed = 20

// Mirror runs mirrors with Git (its credentials and author).
type Mirror struct {
	Git git.Runner
	Now func() time.Time
	// TempDir holds the scratch repositories ("" means os.TempDir()).
	TempDir string
}

// The refs the source and target heads are fetched into.
const (
	sourceRef = "refs/mirror/source"
	targetRef = "refs/mirror/target"
)

// Run mirrors req.Branch of req.Source into req.Target and returns the
// outcome. A refusal and a conflict are errors of kind KindConflict; any
// other failure is returned wrapped. Whatever happens the outcome is filled
// in as far as the run got, its Message saying what happened.
func (m Mirror) Run(ctx context.Context, req Request) (maestro.MirrorOutcome, error) {
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	out := maestro.MirrorOutcome{
		Time: now().UTC(), SourceRepository: req.Source, Branch: req.Branch, TargetRepository: req.Target,
		TargetBranch: req.Mode.TargetBranch(req.Branch), Mode: req.Mode, Result: maestro.MirrorFailure,
	}
	fail := func(result maestro.MirrorResult, err error) (maestro.MirrorOutcome, error) {
		out.Result, out.Message = result, err.Error()
		return out, err
	}
	if _, err := maestro.ParseMirrorMode(string(req.Mode)); err != nil {
		return fail(maestro.MirrorFailure, err)
	}
	if err := CheckBranch(req.Branch); err != nil {
		return fail(maestro.MirrorFailure, err)
	}
	g := m.Git
	scratch, err := os.MkdirTemp(m.TempDir, "maestro-mirror-")
	if err != nil {
		return fail(maestro.MirrorFailure, fmt.Errorf("mirror: scratch repository: %w", err))
	}
	defer os.RemoveAll(scratch)
	repo := filepath.Join(scratch, "repo.git")
	if err := g.Init(ctx, repo, true); err != nil {
		return fail(maestro.MirrorFailure, fmt.Errorf("mirror: scratch repository: %w", err))
	}

	if dir, ok := localPath(req.Source); ok {
		// A local source lends its objects: the fetch then moves only the
		// ref, and the push reads the source's packs directly.
		if err := g.BorrowObjects(ctx, repo, dir); err != nil {
			return fail(maestro.MirrorFailure, fmt.Errorf("read %s: %w", req.Source, err))
		}
	}
	if err := g.FetchBranch(ctx, repo, req.Source, req.Branch, sourceRef); err != nil {
		return fail(maestro.MirrorFailure, fmt.Errorf("fetch branch %s of %s: %w", req.Branch, req.Source, err))
	}
	if out.SourceHead, err = g.RevParse(ctx, repo, sourceRef); err != nil {
		return fail(maestro.MirrorFailure, fmt.Errorf("fetch branch %s of %s: %w", req.Branch, req.Source, err))
	}
	switch _, err := g.RemoteHead(ctx, repo, req.Target, out.TargetBranch); {
	case errors.Is(err, git.ErrNotFound):
	case err != nil:
		return fail(maestro.MirrorFailure, fmt.Errorf("read branch %s of %s: %w", out.TargetBranch, req.Target, err))
	default:
		if err := g.FetchBranch(ctx, repo, req.Target, out.TargetBranch, targetRef); err != nil {
			return fail(maestro.MirrorFailure, fmt.Errorf("fetch branch %s of %s: %w", out.TargetBranch, req.Target, err))
		}
		if out.TargetHeadBefore, err = g.RevParse(ctx, repo, targetRef); err != nil {
			return fail(maestro.MirrorFailure, fmt.Errorf("fetch branch %s of %s: %w", out.TargetBranch, req.Target, err))
		}
	}

	var targetInSource, sourceInTarget bool
	if before := out.TargetHeadBefore; before != "" && before != out.SourceHead {
		if targetInSource, err = g.IsAncestor(ctx, repo, before, out.SourceHead); err == nil {
			sourceInTarget, err = g.IsAncestor(ctx, repo, out.SourceHead, before)
		}
		if err != nil {
			return fail(maestro.MirrorFailure, fmt.Errorf("mirror %s: compare the heads: %w", req.Branch, err))
		}
	}

	var result maestro.MirrorResult
	after := out.SourceHead
	switch Decide(req.Mode, out.SourceHead, out.TargetHeadBefore, targetInSource, sourceInTarget) {
	case ActionUpToDate:
		out.TargetHeadAfter, out.Result = out.TargetHeadBefore, maestro.MirrorUpToDate
		out.Message = fmt.Sprintf("%s of %s is up to date at %s", out.TargetBranch, req.Target, short(out.TargetHeadBefore))
		return out, nil
	case ActionRefuse:
		return fail(maestro.MirrorRefused, m.refusal(ctx, repo, req, out))
	case ActionCreate:
		result = maestro.MirrorCreated
	case ActionFastForward:
		result = maestro.MirrorFastForwarded
	case ActionMerge:
		tree, conflicts, err := g.MergeTree(ctx, repo, out.TargetHeadBefore, out.SourceHead)
		if errors.Is(err, git.ErrConflict) {
			return fail(maestro.MirrorConflict, conflictError(req, out, conflicts))
		}
		if err != nil {
			return fail(maestro.MirrorFailure, fmt.Errorf("merge %s into %s: %w", req.Branch, out.TargetBranch, err))
		}
		msg := fmt.Sprintf("Merge %s %s into %s\n\nSource: %s %s at %s\nTarget: %s %s at %s\n",
			req.Branch, short(out.SourceHead), out.TargetBranch,
			req.Source, req.Branch, out.SourceHead, req.Target, out.TargetBranch, out.TargetHeadBefore)
		if after, err = g.CommitTree(ctx, repo, tree, msg, out.TargetHeadBefore, out.SourceHead); err != nil {
			return fail(maestro.MirrorFailure, fmt.Errorf("merge %s into %s: %w", req.Branch, out.TargetBranch, err))
		}
		result = maestro.MirrorMerged
	}
	if out.Commits, err = g.Count(ctx, repo, out.TargetHeadBefore, after); err != nil {
		return fail(maestro.MirrorFailure, fmt.Errorf("mirror %s: count the commits: %w", req.Branch, err))
	}
	if err := g.Push(ctx, repo, req.Target, after, out.TargetBranch, ""); err != nil {
		// A push that lost the race to another push of the very same commit
		// (two runs of one head) leaves the target current: up to date.
		if head, herr := g.RemoteHead(ctx, repo, req.Target, out.TargetBranch); herr == nil && head == after {
			out.TargetHeadAfter, out.Result, out.Commits = head, maestro.MirrorUpToDate, 0
			out.Message = fmt.Sprintf("%s of %s is up to date at %s (another run pushed it meanwhile)", out.TargetBranch, req.Target, short(head))
			return out, nil
		}
		return fail(maestro.MirrorFailure, fmt.Errorf("push %s to %s: %w (if the branch moved during the run, run the mirror again)", out.TargetBranch, req.Target, err))
	}
	out.TargetHeadAfter, out.Result = after, result
	from := short(out.TargetHeadBefore)
	if from == "" {
		from = "nothing"
	}
	out.Message = fmt.Sprintf("%s %s of %s: %s → %s, %d commit%s", result, out.TargetBranch, req.Target, from, short(after), out.Commits, plural(out.Commits))
	return out, nil
}

// refusal is the error of a fastForward whose target has commits of its own.
func (m Mirror) refusal(ctx context.Context, repo string, req Request, out maestro.MirrorOutcome) error {
	n, err := m.Git.Count(ctx, repo, out.SourceHead, out.TargetHeadBefore)
	if err != nil {
		return fmt.Errorf("mirror %s: list the target's commits: %w", req.Branch, err)
	}
	extra, err := m.Git.Log(ctx, repo, out.SourceHead, out.TargetHeadBefore, MaxListed)
	if err != nil {
		return fmt.Errorf("mirror %s: list the target's commits: %w", req.Branch, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "fastForward refused: %s of %s (%s) has %d commit%s that %s of %s (%s) does not; nothing was pushed. "+
		"A mirror never force-pushes: bring these commits into the source, or mirror with --mode internalMerge into internal/%s",
		out.TargetBranch, req.Target, short(out.TargetHeadBefore), n, plural(n), req.Branch, req.Source, short(out.SourceHead), req.Branch)
	for _, c := range extra {
		fmt.Fprintf(&b, "\n%s %s", short(c.SHA), c.Subject)
	}
	if n > len(extra) {
		fmt.Fprintf(&b, "\n... and %d more", n-len(extra))
	}
	return maestro.Errorf(maestro.KindConflict, "%s", b.String())
}

// conflictError is the error of an internalMerge whose heads conflict.
func conflictError(req Request, out maestro.MirrorOutcome, paths []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "internalMerge conflict: %s of %s (%s) does not merge cleanly into %s of %s (%s); nothing was pushed. "+
		"Merge it by hand and push %s; conflicting paths (%d):",
		req.Branch, req.Source, short(out.SourceHead), out.TargetBranch, req.Target, short(out.TargetHeadBefore), out.TargetBranch, len(paths))
	for i, p := range paths {
		if i == MaxListed {
			fmt.Fprintf(&b, "\n... and %d more", len(paths)-MaxListed)
			break
		}
		fmt.Fprintf(&b, "\n%s", p)
	}
	return maestro.Errorf(maestro.KindConflict, "%s", b.String())
}

// CheckBranch checks that name is a branch name git accepts (the rules of
// git check-ref-format --branch), so that a bad name is refused before any
// fetch rather than by git halfway through.
func CheckBranch(name string) error {
	bad := func(why string) error {
		return maestro.Errorf(maestro.KindInvalid, "branch %q: %s", name, why)
	}
	switch {
	case name == "":
		return bad("empty")
	case strings.HasPrefix(name, "-"):
		return bad("starts with -")
	case strings.HasPrefix(name, "refs/"):
		return bad("name the branch without refs/heads/")
	case name == "@", strings.Contains(name, "@{"):
		return bad("contains @{ or is @")
	case strings.Contains(name, ".."), strings.Contains(name, "//"):
		return bad("contains .. or //")
	case strings.HasPrefix(name, "/"), strings.HasSuffix(name, "/"), strings.HasSuffix(name, "."), strings.HasSuffix(name, ".lock"):
		return bad("starts or ends with /, or ends with . or .lock")
	}
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return bad("a part starts with . or ends with .lock")
		}
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return bad(fmt.Sprintf("contains %q", r))
		}
	}
	return nil
}

// localPath returns the directory of a repository given as an absolute
// path or a file:// URL.
func localPath(repo string) (string, bool) {
	if strings.HasPrefix(repo, "file://") {
		u, err := url.Parse(repo)
		if err != nil || u.Host != "" {
			return "", false
		}
		return u.Path, filepath.IsAbs(u.Path)
	}
	return repo, filepath.IsAbs(repo)
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
