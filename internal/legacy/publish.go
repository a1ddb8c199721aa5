package legacy

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/redact"
)

// DefaultPublishAttempts is how many times Publish fetches, re-applies and
// pushes when other publishers keep moving the branch.
const DefaultPublishAttempts = 10

// Publisher writes build-info into a versions repository.
type Publisher struct {
	Git      git.Runner
	Attempts int // 0: DefaultPublishAttempts
}

// PublisherFromEnv is the Publisher of the command line: commits authored
// by MAESTRO_BOT_NAME <MAESTRO_BOT_EMAIL> (default maestro-bot), an HTTPS
// versions repository authenticated with MAESTRO_VERSIONS_TOKEN (Publish
// sends it to that repository only, see RepoRunner).
func PublisherFromEnv(getenv func(string) string) Publisher {
	id := git.Identity{Name: getenv("MAESTRO_BOT_NAME"), Email: getenv("MAESTRO_BOT_EMAIL")}
	if id.Name == "" {
		id.Name = "maestro-bot"
	}
	if id.Email == "" {
		id.Email = "maestro-bot@users.noreply.localhost"
	}
	return Publisher{Git: git.Runner{Author: id, Token: getenv("MAESTRO_VERSIONS_TOKEN")}}
}

// PublishRequest is one build to record in build-info/dotnet/{Name}/{Channel}.
type PublishRequest struct {
	Repo     string // the versions repository: a path or URL git can push to
	Branch   string // "": the repository's default branch
	Name     string // e.g. coreclr
	Channel  string // e.g. master, release/3.1
	Packages []Package
	Label    string // "": CommonLabel(Packages)
	Newline  string // "\r\n" or "\n"; "": "\r\n"
}

// PublishResult is what Publish did.
type PublishResult struct {
	Folder   string `json:"folder"` // build-info/dotnet/{name}/{channel}
	Label    string `json:"label"`
	Branch   string `json:"branch"`
	Commit   string `json:"commit"`   // the pushed commit
	Attempts int    `json:"attempts"` // 1 unless other publishers moved the branch meanwhile
}

// Message is the commit message of a build-info update.
func Message(name, channel, label string) string {
	return fmt.Sprintf("Updating build-info/dotnet/%s/%s for %s", name, channel, label)
}

// Check checks a request without touching the repository, and fills in its
// label; Publish calls it first.
func (r *PublishRequest) Check() error {
	if err := CheckRepository("--repo", r.Repo); err != nil {
		return err
	}
	if err := checkSegments("--name", r.Name, false); err != nil {
		return err
	}
	if err := checkSegments("--channel", r.Channel, true); err != nil {
		return err
	}
	if r.Branch != "" {
		if err := CheckBranch("--branch", r.Branch); err != nil {
			return err
		}
	}
	switch r.Newline {
	case "":
		r.Newline = "\r\n"
	case "\r\n", "\n":
	default:
		return maestro.Errorf(maestro.KindInvalid, "line separator %q: use CRLF or LF", r.Newline)
	}
	if r.Label == "" {
		label, err := CommonLabel(r.Packages)
		if err != nil {
			return err
		}
		r.Label = label
	}
	if strings.ContainsAny(r.Label, " \t\r\n") || strings.ContainsFunc(r.Label, isControl) {
		return maestro.Errorf(maestro.KindInvalid, "--label %q: a label is one word (letters, digits, '.', '-'), e.g. preview1-25324-02", r.Label)
	}
	seen := map[string]bool{}
	for _, p := range r.Packages {
		if strings.TrimSpace(p.ID) == "" || strings.ContainsAny(p.ID, " \t\r\n") || strings.ContainsFunc(p.ID, isControl) {
			return maestro.Errorf(maestro.KindInvalid, "package id %q: an id has no spaces or control characters", p.ID)
		}
		if err := checkVersion(p.Version); err != nil {
			return maestro.Errorf(maestro.KindInvalid, "package %s: %v", p.ID, err)
		}
		if seen[strings.ToLower(p.ID)] {
			return maestro.Errorf(maestro.KindInvalid, "package %s is listed twice; list each package once", p.ID)
		}
		seen[strings.ToLower(p.ID)] = true
	}
	return nil
}

// CheckRepository checks the versions repository flag names: a path or a
// URL git can reach, without a password in it, nor a user name in an HTTP(S)
// URL, where it is often a token (ssh://git@host/... is fine). Credentials come
// from MAESTRO_VERSIONS_TOKEN; a password in the URL would be repeated by
// every error that names the repository.
func CheckRepository(flag, repo string) error {
	if strings.TrimSpace(repo) == "" {
		return maestro.Errorf(maestro.KindInvalid, "%s is empty; give the versions repository's path or URL", flag)
	}
	if u, err := url.Parse(repo); err == nil && u.User != nil && (hasPassword(u.User) || u.Scheme == "http" || u.Scheme == "https") {
		return maestro.Errorf(maestro.KindInvalid, "%s %s: remove the user name and password from the URL; git authenticates with MAESTRO_VERSIONS_TOKEN", flag, redact.String(repo))
	}
	return nil
}

func hasPassword(u *url.Userinfo) bool { _, ok := u.Password(); return ok }

// RepoRunner returns g with its Token sent only to repo, and only when repo
// is an https:// URL: git sends a Runner's Token to every HTTP remote,
// plain http:// included, where anyone on the way could read it.
func RepoRunner(g git.Runner, repo string) git.Runner {
	if g.Token == "" {
		return g
	}
	token := g.Token
	g.Token = ""
	if u, err := url.Parse(repo); err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil {
		g.Credentials = append(slices.Clone(g.Credentials), git.Credential{URL: repo, Token: token})
	}
	return g
}

// CheckBranch checks a branch name given on the command line: what
// checkSegments accepts, and a name git accepts for a branch.
func CheckBranch(flag, branch string) error {
	if err := checkSegments(flag, branch, true); err != nil {
		return err
	}
	if strings.Contains(branch, "..") || strings.Contains(branch, "@{") || strings.HasSuffix(branch, ".") || branch == "@" {
		return maestro.Errorf(maestro.KindInvalid, "%s %q is not a branch name git accepts (no \"..\", \"@{\" or final '.'); give a branch such as master or release/3.1", flag, branch)
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// checkSegments accepts a name of one path segment (or several with slashes
// when multi) that stays inside its folder and that git accepts.
func checkSegments(flag, v string, multi bool) error {
	if v == "" {
		return maestro.Errorf(maestro.KindInvalid, "%s is empty", flag)
	}
	if !multi && strings.Contains(v, "/") {
		return maestro.Errorf(maestro.KindInvalid, "%s %q: give one name without '/'", flag, v)
	}
	if strings.ContainsAny(v, "\\:*?\"<>| ~^[") || strings.ContainsFunc(v, isControl) || strings.HasPrefix(v, "-") {
		return maestro.Errorf(maestro.KindInvalid, "%s %q: use letters, digits, '.', '-', '_' and '/' (not first)", flag, v)
	}
	for _, s := range strings.Split(v, "/") {
		if s == "" || s == "." || s == ".." || strings.HasSuffix(s, ".lock") || strings.HasPrefix(s, ".") {
			return maestro.Errorf(maestro.KindInvalid, "%s %q: segment %q is not allowed; give names like release/3.1", flag, v, s)
		}
	}
	return nil
}

// Publish records the build in the versions repository as the old tooling
// did: it fetches the branch's tip into a scratch repository, rewrites the
// three build-info files of the folder (BuildInfo), commits them — an empty
// commit when nothing changed, as the old tooling made — with Message, and
// pushes without force. When the push is refused because another publisher
// moved the branch (non-fast-forward, or a ref update that lost the race),
// it fetches the new tip and applies the build again on top, up to Attempts
// times. Every input is checked before the first git command. Publish is
// Prepare, then Push.
func (p Publisher) Publish(ctx context.Context, req PublishRequest) (PublishResult, error) {
	pr, err := p.Prepare(ctx, req)
	if err != nil {
		return pr.result(), err
	}
	defer pr.Close()
	return pr.Push(ctx)
}

// Prepared is a publish fetched, applied and committed in a scratch
// repository and not yet pushed: everything that can go wrong with the
// versions repository before the push (no such repository or branch, a
// symbolic link or a file where build-info goes, a LatestPackages.txt it
// cannot read) has been found. Close removes the scratch repository.
type Prepared struct {
	p        Publisher
	req      PublishRequest
	scratch  string
	tracking string
	base     string
	res      PublishResult
}

func (pr *Prepared) result() PublishResult {
	if pr == nil {
		return PublishResult{}
	}
	return pr.res
}

// Prepare checks req, fetches the branch's tip and applies the build on it
// (the first attempt of Publish, without its push), so that a caller can
// find a versions repository it cannot write to before it writes anything
// else. The returned Prepared is to be pushed (Push) and closed.
func (p Publisher) Prepare(ctx context.Context, req PublishRequest) (_ *Prepared, err error) {
	if err := req.Check(); err != nil {
		return nil, err
	}
	p.Git = RepoRunner(p.Git, req.Repo)
	pr := &Prepared{p: p, req: req, res: PublishResult{Folder: path.Join("build-info", "dotnet", req.Name, req.Channel), Label: req.Label, Branch: req.Branch}}
	if pr.scratch, err = os.MkdirTemp("", "maestro-legacy-publish-"); err != nil {
		return nil, fmt.Errorf("publish: scratch folder: %w", err)
	}
	defer func() {
		if err != nil {
			pr.Close()
		}
	}()
	if err := p.Git.Init(ctx, pr.scratch, false); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if pr.res.Branch == "" {
		if pr.res.Branch, err = p.Git.DefaultBranch(ctx, pr.scratch, req.Repo); err != nil {
			return nil, maestro.Errorf(maestro.KindInvalid, "publish to %s: %w; give --branch", req.Repo, err)
		}
	}
	pr.tracking = "refs/remotes/origin/" + pr.res.Branch
	pr.res.Attempts = 1
	if err := pr.apply(ctx); err != nil {
		return nil, err
	}
	return pr, nil
}

// Close removes the scratch repository.
func (pr *Prepared) Close() {
	if pr != nil && pr.scratch != "" {
		os.RemoveAll(pr.scratch)
	}
}

// apply fetches the branch's tip and commits the build on it.
func (pr *Prepared) apply(ctx context.Context) error {
	p, req, res := pr.p, pr.req, &pr.res
	if err := p.Git.Fetch(ctx, pr.scratch, req.Repo, "+refs/heads/"+res.Branch+":"+pr.tracking); err != nil {
		if _, herr := p.Git.RemoteHead(ctx, pr.scratch, req.Repo, res.Branch); errors.Is(herr, git.ErrNotFound) {
			return maestro.Errorf(maestro.KindInvalid, "publish: %s has no branch %s; give the versions repository's branch with --branch", req.Repo, res.Branch)
		}
		return maestro.Errorf(maestro.KindUnavailable, "publish: fetch %s from %s: %w", res.Branch, req.Repo, err)
	}
	base, err := p.Git.RevParse(ctx, pr.scratch, pr.tracking)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	pr.base = base
	res.Commit, err = p.apply(ctx, pr.scratch, base, res.Folder, req)
	return err
}

// Push pushes the prepared commit without force. When another publisher
// moved the branch meanwhile, it fetches the new tip and applies the build
// again on top, up to the Publisher's Attempts in all.
func (pr *Prepared) Push(ctx context.Context) (PublishResult, error) {
	p, req, res := pr.p, pr.req, &pr.res
	attempts := p.Attempts
	if attempts <= 0 {
		attempts = DefaultPublishAttempts
	}
	for {
		pushErr := p.Git.Push(ctx, pr.scratch, req.Repo, "HEAD", res.Branch, "")
		if pushErr == nil {
			return *res, nil
		}
		head, herr := p.Git.RemoteHead(ctx, pr.scratch, req.Repo, res.Branch)
		switch {
		case herr != nil:
			return *res, maestro.Errorf(maestro.KindUnavailable, "publish: push to %s: %w (and reading its head again: %v)", req.Repo, pushErr, herr)
		case head == res.Commit:
			return *res, nil // the push landed; only its answer was lost
		case head == pr.base:
			return *res, maestro.Errorf(maestro.KindUnavailable, "publish: push to %s %s: %w", req.Repo, res.Branch, pushErr)
		}
		if res.Attempts >= attempts {
			return *res, maestro.Errorf(maestro.KindConflict, "publish: %s %s moved under %d attempts in a row (other publishers); run the publish again", req.Repo, res.Branch, attempts)
		}
		res.Attempts++
		if err := pr.apply(ctx); err != nil {
			return *res, err
		}
	}
}

// apply writes the build onto base in the scratch work tree and commits it.
func (p Publisher) apply(ctx context.Context, scratch, base, folder string, req PublishRequest) (string, error) {
	if err := p.Git.ResetHard(ctx, scratch, base); err != nil {
		return "", fmt.Errorf("publish: %w", err)
	}
	if err := checkPlain(scratch, folder, req.Repo); err != nil {
		return "", err
	}
	dir := filepath.Join(scratch, filepath.FromSlash(folder))
	prev, err := os.ReadFile(filepath.Join(dir, LatestPackagesFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("publish: %w", err)
	}
	files, err := BuildInfo(prev, req.Packages, req.Label, req.Newline)
	if err != nil {
		return "", fmt.Errorf("publish: %s/%s of %s: %w", folder, LatestPackagesFile, req.Repo, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("publish: %w", err)
	}
	for _, name := range []string{LatestFile, LatestPackagesFile, LastBuildPackagesFile} {
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o644); err != nil {
			return "", fmt.Errorf("publish: %w", err)
		}
	}
	commit, err := p.Git.CommitAllowEmpty(ctx, scratch, Message(req.Name, req.Channel, req.Label))
	if err != nil {
		return "", fmt.Errorf("publish: commit: %w", err)
	}
	return commit, nil
}

// checkPlain makes sure that the build-info folder and its files, as the
// versions repository holds them in the scratch work tree, are plain folders
// and files. The repository is outside input: a symbolic link committed at
// build-info/dotnet/NAME, at the channel's folder or at one of the three
// files would make Publish read a file of the machine it runs on into an
// error message, or write build-info over a file or into a folder outside the
// scratch repository.
func checkPlain(scratch, folder, repo string) error {
	refuse := func(rel, what string) error {
		return maestro.Errorf(maestro.KindInvalid, "publish: %s in %s is %s, not a plain %s; build-info is written only to plain folders and files: replace it in the versions repository and publish again",
			rel, repo, what, map[bool]string{true: "folder", false: "file"}[strings.HasSuffix(rel, "/")])
	}
	rel := ""
	for _, seg := range strings.Split(folder, "/") {
		rel = path.Join(rel, seg)
		fi, err := os.Lstat(filepath.Join(scratch, filepath.FromSlash(rel)))
		if errors.Is(err, os.ErrNotExist) {
			return nil // MkdirAll creates the rest as plain folders
		}
		if err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			return refuse(rel+"/", "a symbolic link")
		case !fi.IsDir():
			return refuse(rel+"/", "a file")
		}
	}
	for _, name := range []string{LatestFile, LatestPackagesFile, LastBuildPackagesFile} {
		rel := path.Join(folder, name)
		fi, err := os.Lstat(filepath.Join(scratch, filepath.FromSlash(rel)))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			return refuse(rel, "a symbolic link")
		case fi.IsDir():
			return refuse(rel, "a folder")
		case !fi.Mode().IsRegular():
			return refuse(rel, "a special file")
		}
	}
	return nil
}
