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
		none := uuid.Nil.String()
		if _, cerr := c.UpdatePullRequest(ctx, git.UpdatePullRequestArgs{Project: &project, RepositoryId: &name, PullRequestId: &pr.Number,
			GitPullRequestToUpdate: &git.GitPullRequest{AutoCompleteSetBy: &webapi.IdentityRef{Id: &none}}}); cerr != nil {
			return fmt.Errorf("%s: %s, and cancelling auto-complete failed (cancel it on the pull request's page): %w", op, why, p.wrap("cancel auto-complete", cerr))
		}
		return refused(op, why, errors.New(why))
	}
	return nil
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
