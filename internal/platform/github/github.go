// Package github is the platform of repositories on github.com or a GitHub
// Enterprise Server, through go-github: pull requests, issue comments, check
// runs and commit statuses, merges and branch deletion. Git operations use
// the same token over HTTPS. The token is a person's (GITHUB_TOKEN) or a
// GitHub App's installation token (New with AsApp); merge policies are
// reported as commit statuses or check runs accordingly.
package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/prbody"
)

var _ platform.Platform = (*Platform)(nil)

// MaxBody is the longest pull request body or issue comment GitHub accepts,
// in characters (Unicode code points): a longer one is refused with 422
// "body is too long (maximum is 65536 characters)". The REST description
// states no maxLength; the limit is GitHub's validation message, the same on
// POST /repos/{owner}/{repo}/pulls, PATCH .../pulls/{pull_number} and
// POST .../issues/{issue_number}/comments
// (https://docs.github.com/rest/pulls/pulls#create-a-pull-request).
const MaxBody = 65536

// BodyLimit is how long a pull request body or comment may be on GitHub,
// linking the branch comparison (GitHub's compare page) when cut.
var BodyLimit = prbody.Limit{Max: MaxBody, Unit: prbody.Characters, FullList: prbody.GitHubCompareURL}

// commentCut ends a comment that was too long for GitHub.
const commentCut = "\n\n... This comment was too long for GitHub and was cut here.\n"

// Platform talks to one GitHub host.
type Platform struct {
	client *gh.Client
	web    string // https://github.com, or a GitHub Enterprise Server's address
	runner git.Runner
	app    bool // the token is a GitHub App's installation token (AsApp)
}

// Option sets how a Platform acts, for New.
type Option func(*Platform)

// AsApp says that the token is a GitHub App's installation token
// (InstallationToken), not a person's. Only a GitHub App may write check
// runs, so merge policies are reported as check runs with AsApp and as
// commit statuses without it (see ReportPolicies); nothing else changes.
func AsApp() Option { return func(p *Platform) { p.app = true } }

// New returns the platform for the host at web (https://github.com for
// github.com), using client for the API and token for git. Without AsApp
// the token is taken for a person's (a personal access token, GITHUB_TOKEN).
func New(client *gh.Client, web, token string, author git.Identity, opts ...Option) *Platform {
	p := &Platform{client: client, web: strings.TrimSuffix(web, "/"), runner: git.Runner{Token: token, Author: author}}
	for _, o := range opts {
		o(p)
	}
	return p
}

// ownerRepo splits a repository URL of this host into owner and name.
func (p *Platform) ownerRepo(repo string) (string, string, error) {
	rest, ok := strings.CutPrefix(strings.TrimSuffix(strings.TrimSuffix(repo, "/"), ".git"), p.web+"/")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "", "", fmt.Errorf("repository %q is not %s/OWNER/REPO", repo, p.web)
	}
	return parts[0], parts[1], nil
}

// CloneURL implements platform.Platform.
func (p *Platform) CloneURL(repo string) (string, error) {
	owner, name, err := p.ownerRepo(repo)
	if err != nil {
		return "", err
	}
	return p.web + "/" + url.PathEscape(owner) + "/" + url.PathEscape(name) + ".git", nil
}

// Git implements platform.Platform.
func (p *Platform) Git() git.Runner { return p.runner }

// wrap turns GitHub's 404 into platform.ErrNotFound.
func wrap(op string, err error) error {
	var e *gh.ErrorResponse
	if errors.As(err, &e) && e.Response != nil && e.Response.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%s: %w: %w", op, platform.ErrNotFound, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// StateOf is where a GitHub pull request stands: merged (merged, or
// merged_at set), closed without merging, or open.
func StateOf(pr *gh.PullRequest) maestro.PullRequestState {
	switch {
	case pr.GetMerged() || pr.MergedAt != nil:
		return maestro.PullRequestMerged
	case pr.GetState() == "closed":
		return maestro.PullRequestClosed
	}
	return maestro.PullRequestOpen
}

func (p *Platform) fromGitHub(repo string, pr *gh.PullRequest) maestro.PullRequest {
	return maestro.PullRequest{
		Repository: repo, Number: pr.GetNumber(), URL: pr.GetHTMLURL(), Title: pr.GetTitle(), Body: pr.GetBody(),
		HeadBranch: pr.GetHead().GetRef(), BaseBranch: pr.GetBase().GetRef(), State: StateOf(pr),
		CreatedAt: pr.GetCreatedAt().Time, UpdatedAt: pr.GetUpdatedAt().Time,
		MergeCommit: mergeCommit(pr),
	}
}

// mergeCommit is the commit a merged pull request left on its base
// (merge_commit_sha; GitHub gives a test merge commit's while it is open,
// which is no merge).
func mergeCommit(pr *gh.PullRequest) string {
	if StateOf(pr) != maestro.PullRequestMerged {
		return ""
	}
	return pr.GetMergeCommitSHA()
}

var (
	_ platform.Closer  = (*Platform)(nil)
	_ platform.Labeler = (*Platform)(nil)
)

// Close implements platform.Closer: PATCH .../pulls/{n} with state closed.
func (p *Platform) Close(ctx context.Context, pr maestro.PullRequest) error {
	owner, name, err := p.ownerRepo(pr.Repository)
	if err != nil {
		return err
	}
	cur, _, err := p.client.PullRequests.Get(ctx, owner, name, pr.Number)
	if err != nil {
		return wrap(fmt.Sprintf("pull request #%d of %s", pr.Number, pr.Repository), err)
	}
	switch StateOf(cur) {
	case maestro.PullRequestClosed:
		return nil
	case maestro.PullRequestMerged:
		return maestro.Errorf(maestro.KindConflict, "close %s: it merged", pr.URL)
	}
	closed := "closed"
	if _, _, err := p.client.PullRequests.Edit(ctx, owner, name, pr.Number, &gh.PullRequest{State: &closed}); err != nil {
		return wrap("close "+pr.URL, err)
	}
	return nil
}

// SetLabel implements platform.Labeler with the issue labels API
// (https://docs.github.com/rest/issues/labels).
func (p *Platform) SetLabel(ctx context.Context, pr maestro.PullRequest, label string, on bool) error {
	owner, name, err := p.ownerRepo(pr.Repository)
	if err != nil {
		return err
	}
	if on {
		if _, _, err := p.client.Issues.AddLabelsToIssue(ctx, owner, name, pr.Number, []string{label}); err != nil {
			return wrap(fmt.Sprintf("label %s %s", pr.URL, label), err)
		}
		return nil
	}
	resp, err := p.client.Issues.RemoveLabelForIssue(ctx, owner, name, pr.Number, label)
	if err != nil && (resp == nil || resp.StatusCode != http.StatusNotFound) {
		return wrap(fmt.Sprintf("remove label %s of %s", label, pr.URL), err)
	}
	return nil
}

// OpenPullRequest implements platform.Platform.
func (p *Platform) OpenPullRequest(ctx context.Context, repo, head, base string) (*maestro.PullRequest, error) {
	owner, name, err := p.ownerRepo(repo)
	if err != nil {
		return nil, err
	}
	prs, _, err := p.client.PullRequests.List(ctx, owner, name, &gh.PullRequestListOptions{State: "open", Head: owner + ":" + head, Base: base})
	if err != nil {
		return nil, wrap("list pull requests of "+repo, err)
	}
	if len(prs) == 0 {
		return nil, nil
	}
	pr := p.fromGitHub(repo, prs[0])
	return &pr, nil
}

// CreatePullRequest implements platform.Platform.
func (p *Platform) CreatePullRequest(ctx context.Context, pr maestro.PullRequest) (maestro.PullRequest, error) {
	owner, name, err := p.ownerRepo(pr.Repository)
	if err != nil {
		return pr, err
	}
	created, _, err := p.client.PullRequests.Create(ctx, owner, name, &gh.NewPullRequest{
		Title: &pr.Title, Body: &pr.Body, Head: &pr.HeadBranch, Base: &pr.BaseBranch,
	})
	if err != nil {
		return pr, wrap("open pull request in "+pr.Repository, err)
	}
	return p.fromGitHub(pr.Repository, created), nil
}

// PullRequest implements platform.Platform.
func (p *Platform) PullRequest(ctx context.Context, repo string, number int) (maestro.PullRequest, error) {
	owner, name, err := p.ownerRepo(repo)
	if err != nil {
		return maestro.PullRequest{}, err
	}
	pr, _, err := p.client.PullRequests.Get(ctx, owner, name, number)
	if err != nil {
		return maestro.PullRequest{}, wrap(fmt.Sprintf("pull request #%d of %s", number, repo), err)
	}
	return p.fromGitHub(repo, pr), nil
}

// UpdatePullRequest implements platform.Platform.
func (p *Platform) UpdatePullRequest(ctx context.Context, pr maestro.PullRequest) error {
	owner, name, err := p.ownerRepo(pr.Repository)
	if err != nil {
		return err
	}
	_, _, err = p.client.PullRequests.Edit(ctx, owner, name, pr.Number, &gh.PullRequest{Title: &pr.Title, Body: &pr.Body})
	if err != nil {
		return wrap(fmt.Sprintf("update pull request #%d of %s", pr.Number, pr.Repository), err)
	}
	return nil
}

// Checks implements platform.Platform: the check runs and commit statuses of
// the pull request's head commit.
func (p *Platform) Checks(ctx context.Context, pr maestro.PullRequest) ([]platform.Check, error) {
	owner, name, err := p.ownerRepo(pr.Repository)
	if err != nil {
		return nil, err
	}
	head := pr.HeadBranch
	runs, _, err := p.client.Checks.ListCheckRunsForRef(ctx, owner, name, head, &gh.ListCheckRunsOptions{ListOptions: gh.ListOptions{PerPage: 100}})
	if err != nil {
		return nil, wrap("check runs of "+pr.URL, err)
	}
	combined, _, err := p.client.Repositories.GetCombinedStatus(ctx, owner, name, head, &gh.ListOptions{PerPage: 100})
	if err != nil {
		return nil, wrap("statuses of "+pr.URL, err)
	}
	return ChecksOf(runs.CheckRuns, combined.Statuses), nil
}

// Comment implements platform.Platform. A comment longer than BodyLimit is
// cut to fit, ending with a line that says so.
func (p *Platform) Comment(ctx context.Context, pr maestro.PullRequest, body string) error {
	owner, name, err := p.ownerRepo(pr.Repository)
	if err != nil {
		return err
	}
	body = prbody.Cut(body, BodyLimit, commentCut)
	if _, _, err := p.client.Issues.CreateComment(ctx, owner, name, pr.Number, &gh.IssueComment{Body: &body}); err != nil {
		return wrap("comment on "+pr.URL, err)
	}
	return nil
}

// Merge implements platform.Platform: PUT .../pulls/{n}/merge with
// merge_method squash, sha opts.Head (GitHub merges only while that is the
// head) and the message's first line as commit_title, the rest as
// commit_message (empty, not GitHub's list of the squashed commits, when
// there is no rest); then the head branch is deleted
// (https://docs.github.com/rest/pulls/pulls#merge-a-pull-request). A merge
// GitHub refuses is a maestro.KindConflict error wrapping
// platform.ErrMergeRefused, whose message is GitHub's reason.
func (p *Platform) Merge(ctx context.Context, pr maestro.PullRequest, opts platform.MergeOptions) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	owner, name, err := p.ownerRepo(pr.Repository)
	if err != nil {
		return err
	}
	title, body := platform.SplitMessage(opts.Message)
	if _, _, err := p.client.PullRequests.Merge(ctx, owner, name, pr.Number, body,
		&gh.PullRequestOptions{MergeMethod: "squash", SHA: opts.Head, CommitTitle: title, DontDefaultIfBlank: true}); err != nil {
		var e *gh.ErrorResponse
		if errors.As(err, &e) && e.Response != nil && (e.Response.StatusCode == http.StatusMethodNotAllowed || e.Response.StatusCode == http.StatusConflict) {
			// https://docs.github.com/rest/pulls/pulls#merge-a-pull-request:
			// 405 "if merge cannot be performed", 409 "if sha was provided
			// and pull request head did not match".
			return refused(fmt.Sprintf("merge %s", pr.URL), e.Message, err)
		}
		return wrap("merge "+pr.URL, err)
	}
	if err := p.DeleteBranch(ctx, pr.Repository, pr.HeadBranch); err != nil {
		return fmt.Errorf("merged %s, but its head branch stays: %w", pr.URL, err)
	}
	return nil
}

// refused is GitHub's refusal to merge: a maestro.KindConflict error
// wrapping platform.ErrMergeRefused and the host's answer err, if any.
func refused(op, reason string, err error) error {
	wrapped := platform.ErrMergeRefused
	if err != nil {
		wrapped = fmt.Errorf("%w: %w", platform.ErrMergeRefused, err)
	}
	return &maestro.Error{Kind: maestro.KindConflict, Msg: fmt.Sprintf("%s: GitHub refused the merge: %s", op, reason), Err: wrapped}
}

// DeleteBranch implements platform.Platform.
func (p *Platform) DeleteBranch(ctx context.Context, repo, branch string) error {
	owner, name, err := p.ownerRepo(repo)
	if err != nil {
		return err
	}
	if _, err := p.client.Git.DeleteRef(ctx, owner, name, "heads/"+branch); err != nil && !refMissing(err) {
		return wrap("delete branch "+branch+" of "+repo, err)
	}
	return nil
}

// refMissing reports whether GitHub answered that the reference does not
// exist: 422 "Reference does not exist" (what api.github.com answers to
// deleting a missing ref), or a 404 with that message.
func refMissing(err error) bool {
	var e *gh.ErrorResponse
	if !errors.As(err, &e) || e.Response == nil {
		return false
	}
	switch e.Response.StatusCode {
	case http.StatusUnprocessableEntity, http.StatusNotFound:
		return e.Message == "Reference does not exist"
	}
	return false
}
