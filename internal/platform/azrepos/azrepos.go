// Package azrepos is the platform of Azure Repos (Azure DevOps git
// repositories), through azure-devops-go-api: pull requests, statuses and branch-policy
// evaluations, comment threads, labels, completion and ref deletion. Checks reads
// both statuses and policy evaluations (production darc reads only the
// evaluations); a status that a Status policy evaluates counts once. Git operations use the same
// token over HTTPS. Pull request descriptions stay under the service's limit
// of 4,000 characters (see MaxDescription).
package azrepos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/core"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/policy"

	gitcli "github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/prbody"
	"github.com/maestroplusplus/maestro/internal/redact"
)

var _ platform.Platform = (*Platform)(nil)

// MaxDescription is the longest pull request description, in bytes, that
// this platform sends: the service refuses 4,000 characters or more.
const MaxDescription = 3999

// BodyLimit is how long a pull request description may be: MaxDescription
// UTF-8 bytes (the service counts .NET characters, UTF-16 code units, which
// are never more than the bytes), linking the Azure Repos branch comparison
// when cut.
var BodyLimit = prbody.Limit{Max: MaxDescription, Unit: prbody.Bytes, FullList: prbody.AzureReposCompareURL}

// Platform talks to one Azure DevOps organization.
type Platform struct {
	org    string // https://dev.azure.com/{org}
	conn   *azuredevops.Connection
	runner gitcli.Runner
}

// New returns the platform of the organization at orgURL, authenticated by conn
// for the API and by token for git.
func New(orgURL string, conn *azuredevops.Connection, token string, author gitcli.Identity) *Platform {
	return &Platform{org: strings.TrimSuffix(orgURL, "/"), conn: conn, runner: gitcli.Runner{Token: token, Author: author}}
}

// split returns the project and repository names of a repository URL.
func (p *Platform) split(repo string) (project, name string, err error) {
	rest, ok := strings.CutPrefix(repo, p.org+"/")
	parts := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	if !ok || len(parts) != 3 || parts[1] != "_git" {
		return "", "", fmt.Errorf("repository %q is not %s/PROJECT/_git/REPO", repo, p.org)
	}
	if project, err = url.PathUnescape(parts[0]); err != nil {
		return "", "", err
	}
	name, err = url.PathUnescape(parts[2])
	return project, name, err
}

func (p *Platform) client(ctx context.Context) (git.Client, error) {
	c, err := git.NewClient(ctx, p.conn)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", p.org, redact.Error(err, redact.AuthorizationSecrets(p.conn.AuthorizationString)...))
	}
	return c, nil
}

// wrap turns the service's 404 into platform.ErrNotFound. The client returns
// its WrappedError both as a value and as a pointer, so both are checked.
// Its message passes through redact so that no token the service echoes
// reaches a log or the terminal.
func (p *Platform) wrap(op string, err error) error {
	err = redact.Error(err, redact.AuthorizationSecrets(p.conn.AuthorizationString)...)
	var e azuredevops.WrappedError
	if errors.As(err, &e) && e.StatusCode != nil && *e.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%s: %w: %w", op, platform.ErrNotFound, err)
	}
	var ep *azuredevops.WrappedError
	if errors.As(err, &ep) && ep.StatusCode != nil && *ep.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%s: %w: %w", op, platform.ErrNotFound, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// CloneURL implements platform.Platform.
func (p *Platform) CloneURL(repo string) (string, error) {
	if _, _, err := p.split(repo); err != nil {
		return "", err
	}
	return repo, nil
}

// Git implements platform.Platform.
func (p *Platform) Git() gitcli.Runner { return p.runner }

func (p *Platform) fromAzDO(repo string, pr *git.GitPullRequest) maestro.PullRequest {
	state := maestro.PullRequestOpen
	if pr.Status != nil {
		switch *pr.Status {
		case git.PullRequestStatusValues.Completed:
			state = maestro.PullRequestMerged
		case git.PullRequestStatusValues.Abandoned:
			state = maestro.PullRequestClosed
		}
	}
	out := maestro.PullRequest{
		Repository: repo, State: state,
		HeadBranch: strings.TrimPrefix(deref(pr.SourceRefName), "refs/heads/"),
		BaseBranch: strings.TrimPrefix(deref(pr.TargetRefName), "refs/heads/"),
		Title:      deref(pr.Title), Body: deref(pr.Description),
	}
	if pr.PullRequestId != nil {
		out.Number = *pr.PullRequestId
		out.URL = fmt.Sprintf("%s/pullrequest/%d", repo, out.Number)
	}
	if pr.CreationDate != nil {
		out.CreatedAt = pr.CreationDate.Time
	}
	if state == maestro.PullRequestMerged && pr.LastMergeCommit != nil && pr.LastMergeCommit.CommitId != nil {
		out.MergeCommit = *pr.LastMergeCommit.CommitId
	}
	return out
}

var (
	_ platform.Closer  = (*Platform)(nil)
	_ platform.Labeler = (*Platform)(nil)
)

// SetLabel implements platform.Labeler with the Pull Request Labels API
// (https://learn.microsoft.com/rest/api/azure/devops/git/pull-request-labels):
// the pull request's labels are read first, then the label is added
// (POST .../labels, which creates the project's tag when it has none) only
// when missing, and removed (DELETE .../labels/{name}; the tag stays) only
// when present — so repeating either changes nothing. Names compare
// case-insensitively, as the service's tags do.
func (p *Platform) SetLabel(ctx context.Context, pr maestro.PullRequest, label string, on bool) error {
	project, name, err := p.split(pr.Repository)
	if err != nil {
		return err
	}
	c, err := p.client(ctx)
	if err != nil {
		return err
	}
	labels, err := c.GetPullRequestLabels(ctx, git.GetPullRequestLabelsArgs{Project: &project, RepositoryId: &name, PullRequestId: &pr.Number})
	if err != nil {
		return p.wrap("labels of "+pr.URL, err)
	}
	has := labels != nil && slices.ContainsFunc(*labels, func(t core.WebApiTagDefinition) bool { return strings.EqualFold(deref(t.Name), label) })
	switch {
	case on && !has:
		if _, err := c.CreatePullRequestLabel(ctx, git.CreatePullRequestLabelArgs{Project: &project, RepositoryId: &name, PullRequestId: &pr.Number,
			Label: &core.WebApiCreateTagRequestData{Name: &label}}); err != nil {
			return p.wrap(fmt.Sprintf("label %s %s", pr.URL, label), err)
		}
	case !on && has:
		err := c.DeletePullRequestLabels(ctx, git.DeletePullRequestLabelsArgs{Project: &project, RepositoryId: &name, PullRequestId: &pr.Number, LabelIdOrName: &label})
		if err != nil {
			if err = p.wrap(fmt.Sprintf("remove label %s of %s", label, pr.URL), err); !errors.Is(err, platform.ErrNotFound) {
				return err
			} // not found: removed meanwhile
		}
	}
	return nil
}

// Close implements platform.Closer: the pull request's status set to
// abandoned.
func (p *Platform) Close(ctx context.Context, pr maestro.PullRequest) error {
	cur, err := p.PullRequest(ctx, pr.Repository, pr.Number)
	if err != nil {
		return err
	}
	switch cur.State {
	case maestro.PullRequestClosed:
		return nil
	case maestro.PullRequestMerged:
		return maestro.Errorf(maestro.KindConflict, "close %s: it completed", pr.URL)
	}
	project, name, err := p.split(pr.Repository)
	if err != nil {
		return err
	}
	c, err := p.client(ctx)
	if err != nil {
		return err
	}
	abandoned := git.PullRequestStatusValues.Abandoned
	if _, err := c.UpdatePullRequest(ctx, git.UpdatePullRequestArgs{Project: &project, RepositoryId: &name, PullRequestId: &pr.Number,
		GitPullRequestToUpdate: &git.GitPullRequest{Status: &abandoned}}); err != nil {
		return p.wrap(fmt.Sprintf("abandon pull request %d of %s", pr.Number, pr.Repository), err)
	}
	return nil
}

// OpenPullRequest implements platform.Platform.
func (p *Platform) OpenPullRequest(ctx context.Context, repo, head, base string) (*maestro.PullRequest, error) {
	project, name, err := p.split(repo)
	if err != nil {
		return nil, err
	}
	c, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	src, dst, active := "refs/heads/"+head, "refs/heads/"+base, git.PullRequestStatusValues.Active
	prs, err := c.GetPullRequests(ctx, git.GetPullRequestsArgs{Project: &project, RepositoryId: &name,
		SearchCriteria: &git.GitPullRequestSearchCriteria{SourceRefName: &src, TargetRefName: &dst, Status: &active}})
	if err != nil {
		return nil, p.wrap("list pull requests of "+repo, err)
	}
	if prs == nil || len(*prs) == 0 {
		return nil, nil
	}
	pr := p.fromAzDO(repo, &(*prs)[0])
	return &pr, nil
}

// CreatePullRequest implements platform.Platform.
func (p *Platform) CreatePullRequest(ctx context.Context, pr maestro.PullRequest) (maestro.PullRequest, error) {
	project, name, err := p.split(pr.Repository)
	if err != nil {
		return pr, err
	}
	c, err := p.client(ctx)
	if err != nil {
		return pr, err
	}
	src, dst := "refs/heads/"+pr.HeadBranch, "refs/heads/"+pr.BaseBranch
	created, err := c.CreatePullRequest(ctx, git.CreatePullRequestArgs{Project: &project, RepositoryId: &name,
		GitPullRequestToCreate: &git.GitPullRequest{SourceRefName: &src, TargetRefName: &dst, Title: &pr.Title, Description: &pr.Body}})
	if err != nil {
		return pr, p.wrap("open pull request in "+pr.Repository, err)
	}
	return p.fromAzDO(pr.Repository, created), nil
}

// PullRequest implements platform.Platform.
func (p *Platform) PullRequest(ctx context.Context, repo string, number int) (maestro.PullRequest, error) {
	project, name, err := p.split(repo)
	if err != nil {
		return maestro.PullRequest{}, err
	}
	c, err := p.client(ctx)
	if err != nil {
		return maestro.PullRequest{}, err
	}
	pr, err := c.GetPullRequest(ctx, git.GetPullRequestArgs{Project: &project, RepositoryId: &name, PullRequestId: &number})
	if err != nil {
		return maestro.PullRequest{}, p.wrap(fmt.Sprintf("pull request %d of %s", number, repo), err)
	}
	return p.fromAzDO(repo, pr), nil
}

// UpdatePullRequest implements platform.Platform.
func (p *Platform) UpdatePullRequest(ctx context.Context, pr maestro.PullRequest) error {
	project, name, err := p.split(pr.Repository)
	if err != nil {
		return err
	}
	c, err := p.client(ctx)
	if err != nil {
		return err
	}
	_, err = c.UpdatePullRequest(ctx, git.UpdatePullRequestArgs{Project: &project, RepositoryId: &name, PullRequestId: &pr.Number,
		GitPullRequestToUpdate: &git.GitPullRequest{Title: &pr.Title, Description: &pr.Body}})
	if err != nil {
		return p.wrap(fmt.Sprintf("update pull request %d of %s", pr.Number, pr.Repository), err)
	}
	return nil
}

// Checks implements platform.Platform. It reads both the pull request's
// statuses and its branch-policy evaluations (production darc reads only the
// evaluations; a status that no policy requires would go unseen there); see
// ChecksOf.
func (p *Platform) Checks(ctx context.Context, pr maestro.PullRequest) ([]platform.Check, error) {
	project, name, err := p.split(pr.Repository)
	if err != nil {
		return nil, err
	}
	c, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	full, err := c.GetPullRequest(ctx, git.GetPullRequestArgs{Project: &project, RepositoryId: &name, PullRequestId: &pr.Number})
	if err != nil {
		return nil, p.wrap("pull request "+pr.URL, err)
	}
	statuses, evals, err := p.checkSources(ctx, c, project, name, full)
	if err != nil {
		return nil, err
	}
	return ChecksOf(p.projectURL(project), statuses, evals), nil
}

// projectURL is the web address of a project of the organization.
func (p *Platform) projectURL(project string) string {
	return p.org + "/" + url.PathEscape(project)
}

// checkSources reads the statuses and policy evaluations of a pull request.
func (p *Platform) checkSources(ctx context.Context, c git.Client, project, repo string, full *git.GitPullRequest) ([]git.GitPullRequestStatus, []policy.PolicyEvaluationRecord, error) {
	url := deref(full.Url)
	if full.Repository == nil || full.Repository.Project == nil || full.Repository.Project.Id == nil || full.PullRequestId == nil {
		return nil, nil, fmt.Errorf("pull request %s: the service did not say which project it belongs to", url)
	}
	pc, err := policy.NewClient(ctx, p.conn)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", p.org, redact.Error(err, redact.AuthorizationSecrets(p.conn.AuthorizationString)...))
	}
	artifact := fmt.Sprintf("vstfs:///CodeReview/CodeReviewId/%s/%d", full.Repository.Project.Id, *full.PullRequestId)
	evals, err := pc.GetPolicyEvaluations(ctx, policy.GetPolicyEvaluationsArgs{Project: &project, ArtifactId: &artifact})
	if err != nil {
		return nil, nil, p.wrap("policy evaluations of "+url, err)
	}
	statuses, err := c.GetPullRequestStatuses(ctx, git.GetPullRequestStatusesArgs{Project: &project, RepositoryId: &repo, PullRequestId: full.PullRequestId})
	if err != nil {
		return nil, nil, p.wrap("statuses of "+url, err)
	}
	var st []git.GitPullRequestStatus
	if statuses != nil {
		st = *statuses
	}
	var ev []policy.PolicyEvaluationRecord
	if evals != nil {
		ev = *evals
	}
	return st, ev, nil
}

// ChecksOf turns a pull request's statuses and branch-policy evaluations
// into checks, as production darc reads evaluations: every enabled policy
// counts, blocking or not; queued and running are pending, approved is
// success, rejected and broken are failures, and a policy that does not
// apply (notApplicable, which the service leaves out unless asked) is no
// check at all. A status counts once, at its latest state (the last one
// posted for its genre and name), unless a Status policy evaluates it: then
// it counts as that policy's evaluation. A status whose state is
// notApplicable is no check. A build policy's check links the build's
// results page under projectURL (https://dev.azure.com/{org}/{project}); a
// Status policy's check also answers to its status's genre/name and name.
func ChecksOf(projectURL string, statuses []git.GitPullRequestStatus, evals []policy.PolicyEvaluationRecord) []platform.Check {
	policies, covered := policyChecks(projectURL, evals)
	checks := []platform.Check{}
	at := map[string]int{}
	for _, s := range statuses {
		var genre, sname string
		if s.Context != nil {
			genre, sname = deref(s.Context.Genre), deref(s.Context.Name)
		}
		key := statusKey(genre, sname)
		if covered[key] {
			continue
		}
		state := platform.CheckPending
		if s.State != nil {
			switch *s.State {
			case git.GitStatusStateValues.NotApplicable:
				state = ""
			case git.GitStatusStateValues.Succeeded:
				state = platform.CheckSuccess
			case git.GitStatusStateValues.Failed, git.GitStatusStateValues.Error:
				state = platform.CheckFailure
			}
		}
		check := platform.Check{Name: strings.TrimPrefix(genre+"/"+sname, "/"), State: state, URL: deref(s.TargetUrl), Genre: genre}
		if genre != "" {
			check.AltNames = []string{sname}
		}
		if i, ok := at[key]; ok {
			checks[i] = check // a later status replaces an earlier one
			continue
		}
		at[key] = len(checks)
		checks = append(checks, check)
	}
	checks = slices.DeleteFunc(checks, func(c platform.Check) bool { return c.State == "" })
	return append(checks, policies...)
}

// statusPolicyType is the ID of the built-in "Status" policy type, which
// requires a pull request status (its settings name the status's genre and
// name).
const statusPolicyType = "cbdc66da-9728-4af8-aada-9a5a32e4a226"

// statusKey identifies a status by genre and name, as the service compares
// them (case-insensitively).
func statusKey(genre, name string) string {
	return strings.ToLower(genre) + "/" + strings.ToLower(name)
}

// policyChecks turns branch-policy evaluations (build validation, reviewers,
// status policies...) into checks named "policy/{type}" or
// "policy/{type} ({display name})"; covered holds the statuses (statusKey)
// that enabled Status policies evaluate.
func policyChecks(projectURL string, evals []policy.PolicyEvaluationRecord) (checks []platform.Check, covered map[string]bool) {
	covered = map[string]bool{}
	for _, e := range evals {
		cfg := e.Configuration
		if cfg == nil || cfg.IsEnabled == nil || !*cfg.IsEnabled || e.Status == nil {
			continue
		}
		settings, _ := cfg.Settings.(map[string]any)
		var alt []string
		if cfg.Type != nil && cfg.Type.Id != nil && strings.EqualFold(cfg.Type.Id.String(), statusPolicyType) {
			genre, _ := settings["statusGenre"].(string)
			name, _ := settings["statusName"].(string)
			if name != "" {
				covered[statusKey(genre, name)] = true
				alt = append(alt, strings.TrimPrefix(genre+"/"+name, "/"), name)
			}
		}
		state, ok := policyState(*e.Status)
		if !ok {
			continue
		}
		label := "policy"
		if cfg.Type != nil && cfg.Type.DisplayName != nil {
			label += "/" + *cfg.Type.DisplayName
			alt = append(alt, *cfg.Type.DisplayName)
		}
		if n, ok := settings["displayName"].(string); ok && n != "" {
			label += " (" + n + ")"
			alt = append(alt, n)
		}
		check := platform.Check{Name: label, State: state, AltNames: alt}
		if ctx, _ := e.Context.(map[string]any); ctx != nil && projectURL != "" {
			if id, ok := ctx["buildId"].(float64); ok && id > 0 {
				check.URL = fmt.Sprintf("%s/_build/results?buildId=%d", projectURL, int64(id))
			}
		}
		checks = append(checks, check)
	}
	return checks, covered
}

// policyState maps a policy evaluation status; false for one that is no check.
func policyState(s policy.PolicyEvaluationStatus) (platform.CheckState, bool) {
	switch s {
	case policy.PolicyEvaluationStatusValues.Queued, policy.PolicyEvaluationStatusValues.Running:
		return platform.CheckPending, true
	case policy.PolicyEvaluationStatusValues.Approved:
		return platform.CheckSuccess, true
	case policy.PolicyEvaluationStatusValues.Rejected, policy.PolicyEvaluationStatusValues.Broken:
		return platform.CheckFailure, true
	}
	return "", false
}

// Comment implements platform.Platform: a new comment thread.
func (p *Platform) Comment(ctx context.Context, pr maestro.PullRequest, body string) error {
	project, name, err := p.split(pr.Repository)
	if err != nil {
		return err
	}
	c, err := p.client(ctx)
	if err != nil {
		return err
	}
	active := git.CommentThreadStatusValues.Active
	_, err = c.CreateThread(ctx, git.CreateThreadArgs{Project: &project, RepositoryId: &name, PullRequestId: &pr.Number,
		CommentThread: &git.GitPullRequestCommentThread{Status: &active, Comments: &[]git.Comment{{Content: &body}}}})
	if err != nil {
		return p.wrap("comment on "+pr.URL, err)
	}
	return nil
}

// Merge implements platform.Platform: it completes the pull request
// (PATCH status completed) with lastMergeSourceCommit opts.Head — the
// service completes only while that is the source branch's head, else 409
// GitPullRequestStaleException — and completionOptions squash,
// deleteSourceBranch and mergeCommitMessage opts.Message
// (https://learn.microsoft.com/rest/api/azure/devops/git/pull-requests/update).
// A completion the service refuses (409, or a pull request that is not
// active) or leaves active (blocking branch policies not approved, a
// draft, conflicts; see CompletionBlockers) is a maestro.KindConflict error
// wrapping platform.ErrMergeRefused with the service's reason.
func (p *Platform) Merge(ctx context.Context, pr maestro.PullRequest, opts platform.MergeOptions) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	project, name, err := p.split(pr.Repository)
	if err != nil {
		return err
	}
	c, err := p.client(ctx)
	if err != nil {
		return err
	}
	completed := git.PullRequestStatusValues.Completed
	res, err := c.UpdatePullRequest(ctx, git.UpdatePullRequestArgs{Project: &project, RepositoryId: &name, PullRequestId: &pr.Number,
		GitPullRequestToUpdate: &git.GitPullRequest{Status: &completed, LastMergeSourceCommit: &git.GitCommitRef{CommitId: &opts.Head},
			CompletionOptions: completionOptions(opts)}})
	if err != nil {
		if reason, ok := p.refusal(err); ok {
			return refused("merge "+pr.URL, reason, err)
		}
		return p.wrap("merge "+pr.URL, err)
	}
	if res.Status != nil && *res.Status == completed {
		return nil
	}
	var evals []policy.PolicyEvaluationRecord
	if res.Repository != nil && res.Repository.Project != nil && res.Repository.Project.Id != nil && res.PullRequestId != nil {
		// The evaluations name the policies that block; without them the
		// reason is the pull request's own state.
		_, evals, _ = p.checkSources(ctx, c, project, name, res)
	}
	reason := CompletionBlockers(res, evals)
	return refused("merge "+pr.URL, reason, fmt.Errorf("the pull request stays %s: %s", derefStatus(res.Status), reason))
}

// completionOptions are the options Merge and EnableAutoMerge complete
// with: squash, the source branch deleted, opts.Message as the commit's.
func completionOptions(opts platform.MergeOptions) *git.GitPullRequestCompletionOptions {
	squash, del, message := git.GitPullRequestMergeStrategyValues.Squash, true, opts.Message
	return &git.GitPullRequestCompletionOptions{MergeStrategy: &squash, DeleteSourceBranch: &del, MergeCommitMessage: &message}
}

// refused is the service's refusal to merge: a maestro.KindConflict error
// wrapping platform.ErrMergeRefused and err.
func refused(op, reason string, err error) error {
	return &maestro.Error{Kind: maestro.KindConflict, Msg: fmt.Sprintf("%s: Azure DevOps refused the merge: %s", op, reason),
		Err: fmt.Errorf("%w: %w", platform.ErrMergeRefused, err)}
}

// refusal reports the service's message when err is its refusal to
// complete a pull request as it stands: 409 (GitPullRequestStaleException:
// the source branch is not at lastMergeSourceCommit) or
// GitPullRequestNotEditableException (TF401181: not active any more).
func (p *Platform) refusal(err error) (string, bool) {
	err = redact.Error(err, redact.AuthorizationSecrets(p.conn.AuthorizationString)...)
	var e azuredevops.WrappedError
	if !errors.As(err, &e) {
		var ep *azuredevops.WrappedError
		if !errors.As(err, &ep) || ep == nil {
			return "", false
		}
		e = *ep
	}
	if (e.StatusCode != nil && *e.StatusCode == http.StatusConflict) || deref(e.TypeKey) == "GitPullRequestNotEditableException" {
		return e.Error(), true
	}
	return "", false
}

// CompletionBlockers says why Azure DevOps left a pull request it was asked
// to complete active: a draft, a merge with conflicts or failed, or the
// blocking branch policies (evals) that have not approved, by the names
// ChecksOf gives them ("policy/Build (CI) is rejected").
func CompletionBlockers(pr *git.GitPullRequest, evals []policy.PolicyEvaluationRecord) string {
	var why []string
	if pr.IsDraft != nil && *pr.IsDraft {
		why = append(why, "the pull request is a draft")
	}
	if pr.MergeStatus != nil {
		switch *pr.MergeStatus {
		case git.PullRequestAsyncStatusValues.Conflicts:
			why = append(why, "the merge has conflicts")
		case git.PullRequestAsyncStatusValues.Failure:
			why = append(why, "the merge failed"+prefixed(": ", deref(pr.MergeFailureMessage)))
		case git.PullRequestAsyncStatusValues.RejectedByPolicy:
			why = append(why, "the merge was rejected by policy"+prefixed(": ", deref(pr.MergeFailureMessage)))
		}
	}
	for _, e := range evals {
		cfg := e.Configuration
		if cfg == nil || cfg.IsEnabled == nil || !*cfg.IsEnabled || cfg.IsBlocking == nil || !*cfg.IsBlocking || e.Status == nil {
			continue
		}
		if *e.Status == policy.PolicyEvaluationStatusValues.Approved || *e.Status == policy.PolicyEvaluationStatusValues.NotApplicable {
			continue
		}
		checks, _ := policyChecks("", []policy.PolicyEvaluationRecord{e})
		label := "a branch policy"
		if len(checks) == 1 {
			label = checks[0].Name
		}
		why = append(why, fmt.Sprintf("%s is %s", label, *e.Status))
	}
	if len(why) == 0 {
		return "the service left the pull request active (its completion is queued)"
	}
	return strings.Join(why, "; ")
}

func derefStatus(s *git.PullRequestStatus) string {
	if s == nil {
		return "active"
	}
	return string(*s)
}

// DeleteBranch implements platform.Platform. A branch that is gone — before
// the call, or between reading its head and deleting it (the update then
// fails with staleOldObjectId) — is success.
func (p *Platform) DeleteBranch(ctx context.Context, repo, branch string) error {
	project, name, err := p.split(repo)
	if err != nil {
		return err
	}
	c, err := p.client(ctx)
	if err != nil {
		return err
	}
	head := func() (string, error) {
		filter := "heads/" + branch
		refs, err := c.GetRefs(ctx, git.GetRefsArgs{Project: &project, RepositoryId: &name, Filter: &filter})
		if err != nil {
			return "", p.wrap("branch "+branch+" of "+repo, err)
		}
		for _, r := range refs.Value {
			if deref(r.Name) == "refs/heads/"+branch {
				return deref(r.ObjectId), nil
			}
		}
		return "", nil
	}
	old, err := head()
	if err != nil || old == "" {
		return err // an empty head: deleted already
	}
	ref, zero := "refs/heads/"+branch, strings.Repeat("0", 40)
	results, err := c.UpdateRefs(ctx, git.UpdateRefsArgs{Project: &project, RepositoryId: &name,
		RefUpdates: &[]git.GitRefUpdate{{Name: &ref, OldObjectId: &old, NewObjectId: &zero}}})
	if err != nil {
		return p.wrap("delete branch "+branch+" of "+repo, err)
	}
	for _, r := range *results {
		if r.Success != nil && !*r.Success {
			if now, err := head(); err == nil && now == "" {
				return nil // someone else deleted it meanwhile
			}
			return fmt.Errorf("Azure Repos refused to delete branch %s of %s (%s%s); the token needs Contribute on the repository (Force push to delete a branch another identity created, and no lock or branch policy on it), or delete the branch in the repository's Branches page", branch, repo, refUpdateStatus(r.UpdateStatus), prefixed(": ", deref(r.CustomMessage)))
		}
	}
	return nil
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

func refUpdateStatus(s *git.GitRefUpdateStatus) string {
	if s == nil {
		return ""
	}
	return string(*s)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
