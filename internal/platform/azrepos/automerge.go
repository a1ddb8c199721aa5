package azrepos

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/location"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/webapi"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/redact"
)

var _ platform.AutoMerger = (*Platform)(nil)

// EnableAutoMerge implements platform.AutoMerger with Azure DevOps
// auto-complete: PATCH autoCompleteSetBy {id} — the authenticated identity,
// read from the organization's connection data — with completionOptions
// squash, deleteSourceBranch and mergeCommitMessage opts.Message. The
// service completes the pull request as soon as its blocking policies
// approve (at once, when they have).
//
// Auto-complete carries no expected source commit, so the head is checked
// before (an active pull request whose lastMergeSourceCommit is opts.Head)
// and after: when the answer shows another source commit, auto-complete is
// cancelled again and the call refused. Refusals — a pull request that is
// not active, a head that is not opts.Head — are maestro.KindConflict
// errors wrapping platform.ErrMergeRefused.
func (p *Platform) EnableAutoMerge(ctx context.Context, pr maestro.PullRequest, opts platform.MergeOptions) error {
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
	op := "enable auto-complete of " + pr.URL
	cur, err := c.GetPullRequest(ctx, git.GetPullRequestArgs{Project: &project, RepositoryId: &name, PullRequestId: &pr.Number})
	if err != nil {
		return p.wrap(op, err)
	}
	if why := judged(cur, opts.Head); why != "" {
		return refused(op, why, errors.New(why))
	}
	me, err := p.identity(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	id := me.String()
	res, err := c.UpdatePullRequest(ctx, git.UpdatePullRequestArgs{Project: &project, RepositoryId: &name, PullRequestId: &pr.Number,
		GitPullRequestToUpdate: &git.GitPullRequest{AutoCompleteSetBy: &webapi.IdentityRef{Id: &id}, CompletionOptions: completionOptions(opts)}})
	if err != nil {
		if reason, ok := p.refusal(err); ok {
			return refused(op, reason, err)
		}
		return p.wrap(op, err)
	}
	if res.Status != nil && *res.Status == git.PullRequestStatusValues.Completed {
		// Completed at once: nothing blocked it.
		if res.LastMergeSourceCommit != nil && deref(res.LastMergeSourceCommit.CommitId) != opts.Head {
			return fmt.Errorf("%s: the service completed the pull request at source commit %s, which moved from %s, the commit the merge policies judged, while auto-complete was set; review the merge on %s",
				op, deref(res.LastMergeSourceCommit.CommitId), opts.Head, pr.BaseBranch)
		}
		return nil
	}
	if why := judged(res, opts.Head); why != "" {
		// The source moved while auto-complete was set: take it back.
		if _, cerr := cancelAutoComplete(ctx, c, project, name, pr.Number); cerr != nil {
			return fmt.Errorf("%s: %s, and cancelling auto-complete failed (cancel it on the pull request's page): %w", op, why, p.wrap("cancel auto-complete", cerr))
		}
		return refused(op, why, errors.New(why))
	}
	return nil
}

// DisableAutoMerge implements platform.AutoMerger: it cancels Azure
// DevOps auto-complete with a PATCH of autoCompleteSetBy {id:
// "00000000-0000-0000-0000-000000000000"}, the empty identity, as the
// Azure CLI does for `az repos pr update --auto-complete false`. A pull
// request that is not active, or whose auto-complete is not set, is
// success without a request.
//
// When the service refuses the update because the pull request completed
// (auto-complete fired) or was abandoned between the read and the PATCH
// (TF401181, not editable), the pull request is read again: no longer
// active is success, and Status tells whether it merged. An answer that
// still shows auto-complete set on an active pull request is an error.
func (p *Platform) DisableAutoMerge(ctx context.Context, pr maestro.PullRequest) error {
	project, name, err := p.split(pr.Repository)
	if err != nil {
		return err
	}
	c, err := p.client(ctx)
	if err != nil {
		return err
	}
	op := "cancel auto-complete of " + pr.URL
	args := git.GetPullRequestArgs{Project: &project, RepositoryId: &name, PullRequestId: &pr.Number}
	cur, err := c.GetPullRequest(ctx, args)
	if err != nil {
		return p.wrap(op, err)
	}
	if !autoCompleting(cur) {
		return nil
	}
	res, err := cancelAutoComplete(ctx, c, project, name, pr.Number)
	if err != nil {
		if _, ok := p.refusal(err); ok {
			now, rerr := c.GetPullRequest(ctx, args)
			if rerr != nil {
				return fmt.Errorf("%s: %w, and reading the pull request again failed: %w", op, p.wrap("update", err), p.wrap("pull request "+pr.URL, rerr))
			}
			if !autoCompleting(now) {
				return nil
			}
		}
		return fmt.Errorf("%w; cancel auto-complete on the pull request's page, or give the token Contribute to pull requests on the repository", p.wrap(op, err))
	}
	if autoCompleting(res) {
		return fmt.Errorf("%s: the service answered with auto-complete still set by %s; cancel it on the pull request's page", op, deref(res.AutoCompleteSetBy.DisplayName))
	}
	return nil
}

// cancelAutoComplete clears pull request number's auto-complete: a PATCH
// of autoCompleteSetBy with the empty identity.
func cancelAutoComplete(ctx context.Context, c git.Client, project, name string, number int) (*git.GitPullRequest, error) {
	none := uuid.Nil.String()
	return c.UpdatePullRequest(ctx, git.UpdatePullRequestArgs{Project: &project, RepositoryId: &name, PullRequestId: &number,
		GitPullRequestToUpdate: &git.GitPullRequest{AutoCompleteSetBy: &webapi.IdentityRef{Id: &none}}})
}

// autoCompleting reports whether pr is active with auto-complete set
// (autoCompleteSetBy names an identity other than the empty one).
func autoCompleting(pr *git.GitPullRequest) bool {
	active := pr.Status == nil || *pr.Status == git.PullRequestStatusValues.Active
	return active && autoCompleteSet(pr)
}

// autoCompleteSet reports whether pr's autoCompleteSetBy names an
// identity: auto-complete is set.
func autoCompleteSet(pr *git.GitPullRequest) bool {
	if pr.AutoCompleteSetBy == nil {
		return false
	}
	id := deref(pr.AutoCompleteSetBy.Id)
	return id != "" && id != uuid.Nil.String()
}

// judged says why pr may not be auto-completed for head commit head, or ""
// when it may: it is active and its last merge source commit is head.
func judged(pr *git.GitPullRequest, head string) string {
	if pr.Status != nil && *pr.Status != git.PullRequestStatusValues.Active {
		return fmt.Sprintf("the pull request is %s", *pr.Status)
	}
	var source string
	if pr.LastMergeSourceCommit != nil {
		source = deref(pr.LastMergeSourceCommit.CommitId)
	}
	if source != head {
		return fmt.Sprintf("the source branch is at %s, not at %s, the commit the merge policies judged", source, head)
	}
	return ""
}

// identity is the id of the identity the connection authenticates as
// (GET _apis/connectionData, authenticatedUser).
func (p *Platform) identity(ctx context.Context) (uuid.UUID, error) {
	lc := location.NewClient(ctx, p.conn)
	data, err := lc.GetConnectionData(ctx, location.GetConnectionDataArgs{})
	if err != nil {
		return uuid.Nil, fmt.Errorf("who the token of %s belongs to (connection data): %w", p.org, redact.Error(err, redact.AuthorizationSecrets(p.conn.AuthorizationString)...))
	}
	if data.AuthenticatedUser == nil || data.AuthenticatedUser.Id == nil || *data.AuthenticatedUser.Id == uuid.Nil {
		return uuid.Nil, fmt.Errorf("the connection data of %s names no authenticated identity; use a token of a user or service principal", p.org)
	}
	return *data.AuthenticatedUser.Id, nil
}
