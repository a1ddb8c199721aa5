package azrepos

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/prbody"
)

var _ platform.PolicyReporter = (*Platform)(nil)

// Merge policies are reported as production Maestro reports them on Azure
// DevOps: a pull request status per policy (genre platform.PolicyStatusGenre,
// name the policy's) and one summary comment that starts with
// SummaryHeading, edited in place. The service cannot change a status, only
// add one (the newest of a context is the one shown) and delete one, so a
// policy whose state or message changed gets a new status and its older
// ones are deleted: one status per policy remains. A crash between the two
// leaves an extra older status, which the next report deletes. A policy no
// longer evaluated gets state notApplicable, which Checks ignores. Both
// comment threads (summary, notification) are created closed, so that a
// "Check for comment resolution" branch policy never blocks the merge on
// them.

// SummaryHeading starts the summary comment.
const SummaryHeading = "## Auto-Merge Status"

// maxStatusDescription bounds a status's description; longer messages are cut.
const maxStatusDescription = 4000

// maxComment is the longest comment the service takes, in bytes (its limit
// is 150,000 UTF-16 code units).
const maxComment = 150000

func statusState(s platform.CheckState) git.GitStatusState {
	switch s {
	case platform.CheckSuccess:
		return git.GitStatusStateValues.Succeeded
	case platform.CheckFailure:
		return git.GitStatusStateValues.Failed
	case platform.CheckSkipped:
		return git.GitStatusStateValues.NotApplicable
	}
	return git.GitStatusStateValues.Pending
}

func checkState(s git.GitStatusState) platform.CheckState {
	switch s {
	case git.GitStatusStateValues.Succeeded:
		return platform.CheckSuccess
	case git.GitStatusStateValues.Failed, git.GitStatusStateValues.Error:
		return platform.CheckFailure
	case git.GitStatusStateValues.NotApplicable:
		return platform.CheckSkipped
	}
	return platform.CheckPending
}

func describe(r platform.PolicyResult) string {
	d := r.Message
	if strings.TrimSpace(d) == "" {
		d = r.Name + ": " + string(r.State)
	}
	return prbody.Cut(d, prbody.Limit{Max: maxStatusDescription, Unit: prbody.Bytes}, "\n…")
}

// policyStatuses reads the pull request's statuses of our genre, grouped by
// policy name, oldest first.
func (p *Platform) policyStatuses(ctx context.Context, c git.Client, project, name string, pr maestro.PullRequest) (map[string][]git.GitPullRequestStatus, error) {
	statuses, err := c.GetPullRequestStatuses(ctx, git.GetPullRequestStatusesArgs{Project: &project, RepositoryId: &name, PullRequestId: &pr.Number})
	if err != nil {
		return nil, p.wrap("statuses of "+pr.URL, err)
	}
	out := map[string][]git.GitPullRequestStatus{}
	if statuses == nil {
		return out, nil
	}
	for _, s := range *statuses {
		if s.Context == nil || !strings.EqualFold(deref(s.Context.Genre), platform.PolicyStatusGenre) || s.Id == nil {
			continue
		}
		n := deref(s.Context.Name)
		out[n] = append(out[n], s)
	}
	for _, list := range out {
		slices.SortFunc(list, func(a, b git.GitPullRequestStatus) int { return *a.Id - *b.Id })
	}
	return out, nil
}

// ReportPolicies implements platform.PolicyReporter.
func (p *Platform) ReportPolicies(ctx context.Context, pr maestro.PullRequest, head string, results []platform.PolicyResult) error {
	if err := platform.ValidatePolicyResults(results); err != nil {
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
	existing, err := p.policyStatuses(ctx, c, project, name, pr)
	if err != nil {
		return err
	}
	all := slices.Clone(results)
	evaluated := map[string]bool{}
	for _, r := range results {
		evaluated[r.Name] = true
	}
	for policy := range existing {
		if !evaluated[policy] {
			all = append(all, platform.PolicyResult{Name: policy, State: platform.CheckSkipped, Message: policy + " is no longer evaluated for this pull request."})
		}
	}
	for _, r := range all {
		if err := p.showStatus(ctx, c, project, name, pr, existing[r.Name], r); err != nil {
			return fmt.Errorf("report policy %s on %s: %w", r.Name, pr.URL, err)
		}
	}
	return p.showSummary(ctx, c, project, name, pr, results)
}

// showStatus makes the policy's statuses (oldest first) one status showing r.
func (p *Platform) showStatus(ctx context.Context, c git.Client, project, name string, pr maestro.PullRequest, have []git.GitPullRequestStatus, r platform.PolicyResult) error {
	state, desc := statusState(r.State), describe(r)
	keep := len(have)
	if n := len(have); n > 0 && have[n-1].State != nil && *have[n-1].State == state && deref(have[n-1].Description) == desc {
		keep = n - 1
	} else {
		genre := platform.PolicyStatusGenre
		if _, err := c.CreatePullRequestStatus(ctx, git.CreatePullRequestStatusArgs{Project: &project, RepositoryId: &name, PullRequestId: &pr.Number,
			Status: &git.GitPullRequestStatus{State: &state, Description: &desc, Context: &git.GitStatusContext{Genre: &genre, Name: &r.Name}}}); err != nil {
			return p.wrap("create status", err)
		}
	}
	for i, old := range have {
		if i == keep {
			continue
		}
		if err := c.DeletePullRequestStatus(ctx, git.DeletePullRequestStatusArgs{Project: &project, RepositoryId: &name, PullRequestId: &pr.Number, StatusId: old.Id}); err != nil {
			return p.wrap(fmt.Sprintf("delete superseded status %d", *old.Id), err)
		}
	}
	return nil
}

// Summary is the summary comment's text for results.
func Summary(results []platform.PolicyResult) string {
	var b strings.Builder
	b.WriteString(SummaryHeading + "\n\n")
	done := !slices.ContainsFunc(results, func(r platform.PolicyResult) bool { return r.State != platform.CheckSuccess })
	if done {
		b.WriteString("Every merge policy succeeds.\n\n")
	} else {
		b.WriteString("This pull request has not been merged because Maestro++ is waiting on the following merge policies.\n\n")
	}
	for _, r := range results {
		mark, word := "⏳", "Pending"
		switch r.State {
		case platform.CheckSuccess:
			mark, word = "✔️", "Succeeded"
		case platform.CheckFailure:
			mark, word = "❌", "Failed"
		}
		fmt.Fprintf(&b, "- %s **%s** %s", mark, r.Name, word)
		if msg := strings.TrimSpace(r.Message); msg != "" {
			fmt.Fprintf(&b, " - %s", strings.ReplaceAll(msg, "\n", " "))
		}
		b.WriteString("\n")
	}
	return prbody.Cut(b.String(), prbody.Limit{Max: maxComment, Unit: prbody.Bytes}, "\n…\n")
}

// comments lists the first comment of every thread of the pull request.
func (p *Platform) comments(ctx context.Context, c git.Client, project, name string, pr maestro.PullRequest) ([]threadComment, error) {
	threads, err := c.GetThreads(ctx, git.GetThreadsArgs{Project: &project, RepositoryId: &name, PullRequestId: &pr.Number})
	if err != nil {
		return nil, p.wrap("comment threads of "+pr.URL, err)
	}
	var out []threadComment
	if threads == nil {
		return nil, nil
	}
	for _, th := range *threads {
		if th.Id == nil || th.Comments == nil || len(*th.Comments) == 0 || (*th.Comments)[0].Id == nil {
			continue
		}
		first := (*th.Comments)[0]
		out = append(out, threadComment{thread: *th.Id, comment: *first.Id, content: deref(first.Content)})
	}
	return out, nil
}

type threadComment struct {
	thread, comment int
	content         string
}

// showSummary edits the summary comment to list results, or creates it.
func (p *Platform) showSummary(ctx context.Context, c git.Client, project, name string, pr maestro.PullRequest, results []platform.PolicyResult) error {
	text := Summary(results)
	comments, err := p.comments(ctx, c, project, name, pr)
	if err != nil {
		return err
	}
	for _, cm := range comments {
		if !strings.HasPrefix(cm.content, SummaryHeading+"\n") {
			continue
		}
		if cm.content == text {
			return nil
		}
		_, err := c.UpdateComment(ctx, git.UpdateCommentArgs{Project: &project, RepositoryId: &name, PullRequestId: &pr.Number,
			ThreadId: &cm.thread, CommentId: &cm.comment, Comment: &git.Comment{Content: &text}})
		if err != nil {
			return p.wrap("update the auto-merge status comment on "+pr.URL, err)
		}
		return nil
	}
	return p.closedThread(ctx, c, project, name, pr, text)
}

func (p *Platform) closedThread(ctx context.Context, c git.Client, project, name string, pr maestro.PullRequest, text string) error {
	closed := git.CommentThreadStatusValues.Closed
	_, err := c.CreateThread(ctx, git.CreateThreadArgs{Project: &project, RepositoryId: &name, PullRequestId: &pr.Number,
		CommentThread: &git.GitPullRequestCommentThread{Status: &closed, Comments: &[]git.Comment{{Content: &text}}}})
	if err != nil {
		return p.wrap("comment on "+pr.URL, err)
	}
	return nil
}

// PolicyResults implements platform.PolicyReporter: the newest status of
// each policy. Statuses belong to the pull request, not to a commit, so
// head does not narrow them.
func (p *Platform) PolicyResults(ctx context.Context, pr maestro.PullRequest, head string) ([]platform.PolicyResult, error) {
	project, name, err := p.split(pr.Repository)
	if err != nil {
		return nil, err
	}
	c, err := p.client(ctx)
	if err != nil {
		return nil, err
	}
	existing, err := p.policyStatuses(ctx, c, project, name, pr)
	if err != nil {
		return nil, err
	}
	var out []platform.PolicyResult
	for policy, list := range existing {
		s := list[len(list)-1]
		state := platform.CheckPending
		if s.State != nil {
			state = checkState(*s.State)
		}
		out = append(out, platform.PolicyResult{Name: policy, State: state, Message: deref(s.Description)})
	}
	slices.SortFunc(out, func(a, b platform.PolicyResult) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Notify implements platform.PolicyReporter: a comment thread whose first
// comment starts with platform.NotificationMarker(head), created unless one
// is there. Two calls for one pull request at once could both post; the
// flow's checks call it under the pull request's lock.
func (p *Platform) Notify(ctx context.Context, pr maestro.PullRequest, head, body string) (bool, error) {
	project, name, err := p.split(pr.Repository)
	if err != nil {
		return false, err
	}
	c, err := p.client(ctx)
	if err != nil {
		return false, err
	}
	comments, err := p.comments(ctx, c, project, name, pr)
	if err != nil {
		return false, err
	}
	marker := platform.NotificationMarker(head)
	if slices.ContainsFunc(comments, func(cm threadComment) bool { return strings.HasPrefix(cm.content, marker) }) {
		return false, nil
	}
	text := prbody.Cut(marker+"\n"+body, prbody.Limit{Max: maxComment, Unit: prbody.Bytes}, "\n…\n")
	if err := p.closedThread(ctx, c, project, name, pr, text); err != nil {
		return false, err
	}
	return true, nil
}
