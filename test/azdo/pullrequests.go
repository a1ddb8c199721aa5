package azdo

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/webapi"
)

// maxDescription is the longest pull request description the service
// accepts.
const maxDescription = 4000

// pullRequest is a pull request's state. Its merge (the preview merge commit
// at refs/pull/{id}/merge and mergeStatus) is recomputed whenever the source
// or target branch has moved, as the service does after every push.
type pullRequest struct {
	id          int
	repo        *Repository
	title       string
	description string
	source      string
	target      string
	status      git.PullRequestStatus
	isDraft     bool
	createdBy   Identity
	created     time.Time
	closedBy    *Identity
	closed      time.Time
	mergeID     uuid.UUID

	mergeStatus     git.PullRequestAsyncStatus
	mergeFailure    string
	lastSource      string
	lastTarget      string
	lastMergeCommit string
	iterations      []string // source commit of each iteration

	completionOptions   *git.GitPullRequestCompletionOptions
	autoCompleteSetBy   *Identity
	completionQueueTime time.Time
	reviewers           []git.IdentityRefWithVote

	statuses   []*git.GitPullRequestStatus
	lastStatus int // the last status ID given; IDs are not reused after a delete
	threads    []*git.GitPullRequestCommentThread
	policies   []*policyState
	labels     []*tagDefinition // assigned, oldest first
}

// findPR finds a pull request by ID, within a repository when r is not nil.
func (s *Server) findPR(r *Repository, id int) *pullRequest {
	for _, pr := range s.prs {
		if pr.id == id && (r == nil || pr.repo == r) {
			return pr
		}
	}
	return nil
}

// pullRequestOf resolves the repository and {pullRequestId} route values.
func (c *call) pullRequestOf() (*pullRequest, error) {
	r, err := c.repository()
	if err != nil {
		return nil, err
	}
	id, err := strconv.Atoi(c.values["pullRequestId"])
	if err != nil {
		return nil, badRequest("The pull request ID '%s' is not valid.", c.values["pullRequestId"])
	}
	pr := c.s.findPR(r, id)
	if pr == nil {
		return nil, pullRequestNotFound()
	}
	if err := c.s.refreshMerge(pr); err != nil {
		return nil, err
	}
	return pr, nil
}

// refreshMerge brings an active pull request's merge up to date with its
// branches: a new iteration when the source moved, and a new preview merge.
func (s *Server) refreshMerge(pr *pullRequest) error {
	if pr.status != git.PullRequestStatusValues.Active {
		return nil
	}
	g := pr.repo.git
	source, err := g.resolve(pr.source)
	if err != nil {
		return err
	}
	target, err := g.resolve(pr.target)
	if err != nil {
		return err
	}
	if source == pr.lastSource && target == pr.lastTarget && pr.mergeStatus != "" {
		return nil
	}
	if source != "" && (len(pr.iterations) == 0 || pr.iterations[len(pr.iterations)-1] != source) {
		pr.iterations = append(pr.iterations, source)
	}
	pr.lastSource, pr.lastTarget = source, target
	pr.mergeFailure = ""
	if source == "" || target == "" {
		pr.mergeStatus = git.PullRequestAsyncStatusValues.Failure
		pr.mergeFailure = "The source or target branch no longer exists."
		pr.lastMergeCommit = ""
		return nil
	}
	res, err := g.merge(target, source)
	if err != nil {
		pr.mergeStatus = git.PullRequestAsyncStatusValues.Failure
		pr.mergeFailure = err.Error()
		pr.lastMergeCommit = ""
		return nil
	}
	if len(res.conflicts) > 0 {
		pr.mergeStatus = git.PullRequestAsyncStatusValues.Conflicts
		pr.lastMergeCommit = ""
		return nil
	}
	who := signature{name: pr.createdBy.DisplayName, email: pr.createdBy.UniqueName, when: s.now()}
	message := fmt.Sprintf("Merge pull request %d from %s into %s", pr.id, shortRef(pr.source), shortRef(pr.target))
	merge, err := g.commitTree(res.tree, []string{target, source}, message, who, who)
	if err != nil {
		return err
	}
	if _, err := g.run(nil, nil, "update-ref", fmt.Sprintf("refs/pull/%d/merge", pr.id), merge); err != nil {
		return err
	}
	pr.lastMergeCommit = merge
	pr.mergeStatus = git.PullRequestAsyncStatusValues.Succeeded
	return nil
}

func shortRef(name string) string { return strings.TrimPrefix(name, "refs/heads/") }

// createPRBody is the part of a GitPullRequest a create request may carry.
type createPRBody struct {
	SourceRefName string `json:"sourceRefName"`
	TargetRefName string `json:"targetRefName"`
	Title         string `json:"title"`
	Description   string `json:"description"`
	IsDraft       *bool  `json:"isDraft"`
	Repository    *struct {
		ID string `json:"id"`
	} `json:"repository"`
	Reviewers []*struct {
		ID         string `json:"id"`
		Vote       int    `json:"vote"`
		IsRequired bool   `json:"isRequired"`
	} `json:"reviewers"`
	ForkSource   *struct{} `json:"forkSource"`
	MergeOptions *git.GitPullRequestMergeOptions
}

// handleCreatePullRequest serves POST .../repositories/{repositoryId}/pullRequests.
// The checks run in the service's order: both refs given, a title, the
// repository, the description length (4,000), source ≠ target, reviewers
// without votes, both branches existing, and no other active pull request
// for the same source and target (409 GitPullRequestExistsException).
func handleCreatePullRequest(c *call) (int, any, error) {
	var body createPRBody
	ok := c.decode(&body)
	if !ok || body.SourceRefName == "" || body.TargetRefName == "" {
		return 0, nil, badRequest("The source and target refs of the pull request must be specified.")
	}
	if strings.TrimSpace(body.Title) == "" {
		return 0, nil, badRequest("The pull request title must not be empty.")
	}
	r, err := c.repository()
	if err != nil {
		return 0, nil, err
	}
	if body.Repository != nil && body.Repository.ID != "" && body.Repository.ID != uuid.Nil.String() && !strings.EqualFold(body.Repository.ID, r.ID.String()) {
		return 0, nil, badRequest("The repository ID in the pull request does not match the repository of the request.")
	}
	if len(body.Description) > maxDescription {
		return 0, nil, badRequest("The pull request description is too long. The maximum length is %d characters.", maxDescription)
	}
	if body.ForkSource != nil {
		return 0, nil, badRequest("Pull requests from forks are not supported by this server.")
	}
	if body.SourceRefName == body.TargetRefName {
		return 0, nil, badRequest("The source and target branches of a pull request must be different.")
	}
	var reviewers []git.IdentityRefWithVote
	for _, rv := range body.Reviewers {
		if rv == nil {
			continue
		}
		if rv.Vote != 0 {
			return 0, nil, badRequest("A pull request cannot be created with reviewer votes.")
		}
		if _, err := uuid.Parse(rv.ID); err != nil {
			return 0, nil, badRequest("The identity '%s' is not valid.", rv.ID)
		}
		reviewers = append(reviewers, git.IdentityRefWithVote{Id: ptr(rv.ID), Vote: ptr(0), IsRequired: ptr(rv.IsRequired)})
	}
	source, err := r.git.resolve(body.SourceRefName)
	if err != nil {
		return 0, nil, err
	}
	target, err := r.git.resolve(body.TargetRefName)
	if err != nil {
		return 0, nil, err
	}
	if source == "" || target == "" || !strings.HasPrefix(body.SourceRefName, "refs/heads/") || !strings.HasPrefix(body.TargetRefName, "refs/heads/") {
		return 0, nil, cannotActivate()
	}
	if c.s.activeDuplicate(r, body.SourceRefName, body.TargetRefName, 0) {
		return 0, nil, newError(http.StatusConflict, "GitPullRequestExistsException",
			"TF401179: An active pull request for the source and target branch already exists.")
	}
	pr := &pullRequest{
		id:          c.s.nextPRID,
		repo:        r,
		title:       body.Title,
		description: body.Description,
		source:      body.SourceRefName,
		target:      body.TargetRefName,
		status:      git.PullRequestStatusValues.Active,
		isDraft:     body.IsDraft != nil && *body.IsDraft,
		createdBy:   c.who.Identity,
		created:     c.s.now(),
		reviewers:   reviewers,
	}
	c.s.nextPRID++
	pr.mergeID = stableID("merge", r.ID.String(), strconv.Itoa(pr.id))
	c.s.prs = append(c.s.prs, pr)
	if err := c.s.refreshMerge(pr); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, c.s.prModel(pr, true), nil
}

func cannotActivate() *apiError {
	return newError(http.StatusBadRequest, "GitPullRequestCannotBeActivated",
		"TF401398: The pull request cannot be activated because the source and/or the target branch no longer exists, or the requested refs are not branches")
}

// activeDuplicate reports whether another active pull request has the same
// source and target.
func (s *Server) activeDuplicate(r *Repository, source, target string, except int) bool {
	for _, pr := range s.prs {
		if pr.repo == r && pr.id != except && pr.status == git.PullRequestStatusValues.Active && pr.source == source && pr.target == target {
			return true
		}
	}
	return false
}

var prStatusFilters = map[string]git.PullRequestStatus{
	"notset":    git.PullRequestStatusValues.NotSet,
	"active":    git.PullRequestStatusValues.Active,
	"abandoned": git.PullRequestStatusValues.Abandoned,
	"completed": git.PullRequestStatusValues.Completed,
	"all":       git.PullRequestStatusValues.All,
}

// handleGetPullRequests serves GET .../repositories/{repositoryId}/pullRequests[/{pullRequestId}].
// The list is filtered by searchCriteria (status defaults to active), newest
// first, paged by $skip and $top (default 101, at most 1,000).
func handleGetPullRequests(c *call) (int, any, error) {
	if c.values["pullRequestId"] != "" {
		pr, err := c.pullRequestOf()
		if err != nil {
			return 0, nil, err
		}
		m := c.s.prModel(pr, true)
		if c.query.Get("includeCommits") == "true" {
			commits, err := c.s.prCommits(pr)
			if err != nil {
				return 0, nil, err
			}
			m.Commits = &commits
		}
		return http.StatusOK, m, nil
	}
	r, err := c.repository()
	if err != nil {
		return 0, nil, err
	}
	q := c.query
	status := git.PullRequestStatusValues.Active
	if v := q.Get("searchCriteria.status"); v != "" {
		st, ok := prStatusFilters[strings.ToLower(v)]
		if !ok {
			return 0, nil, badRequest("Status")
		}
		if st != git.PullRequestStatusValues.NotSet {
			status = st
		}
	}
	top, skip := 101, 0
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, nil, newError(http.StatusBadRequest, "ArgumentException", "The value '%s' is not valid for $top.", v)
		}
		top = min(n, 1000)
	}
	if v := q.Get("$skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, nil, newError(http.StatusBadRequest, "ArgumentException", "The value '%s' is not valid for $skip.", v)
		}
		skip = max(n, 0)
	}
	var matched []*pullRequest
	for _, pr := range c.s.prs {
		if pr.repo != r {
			continue
		}
		if status != git.PullRequestStatusValues.All && pr.status != status {
			continue
		}
		if v := q.Get("searchCriteria.sourceRefName"); v != "" && pr.source != v {
			continue
		}
		if v := q.Get("searchCriteria.targetRefName"); v != "" && pr.target != v {
			continue
		}
		if v := q.Get("searchCriteria.creatorId"); v != "" && !strings.EqualFold(v, pr.createdBy.ID.String()) {
			continue
		}
		if v := q.Get("searchCriteria.reviewerId"); v != "" && !pr.hasReviewer(v) {
			continue
		}
		if v := q.Get("searchCriteria.sourceRepositoryId"); v != "" && !strings.EqualFold(v, r.ID.String()) {
			continue
		}
		matched = append(matched, pr)
	}
	sort.Slice(matched, func(i, j int) bool { return matched[i].id > matched[j].id })
	if skip > len(matched) {
		skip = len(matched)
	}
	matched = matched[skip:]
	if top >= 0 && len(matched) > top {
		matched = matched[:top]
	}
	links := q.Get("searchCriteria.includeLinks") == "true"
	out := make([]git.GitPullRequest, 0, len(matched))
	for _, pr := range matched {
		if err := c.s.refreshMerge(pr); err != nil {
			return 0, nil, err
		}
		m := c.s.prModel(pr, links)
		if labels := c.s.labelsOf(pr); len(labels) > 0 {
			m.Labels = &labels
		}
		out = append(out, *m)
	}
	return http.StatusOK, list(out), nil
}

func (pr *pullRequest) hasReviewer(id string) bool {
	for _, rv := range pr.reviewers {
		if strings.EqualFold(deref(rv.Id), id) {
			return true
		}
	}
	return false
}

// handleGetPullRequestByID serves GET {project}/_apis/git/pullRequests/{pullRequestId}.
func handleGetPullRequestByID(c *call) (int, any, error) {
	p, err := c.project()
	if err != nil {
		return 0, nil, err
	}
	id, err := strconv.Atoi(c.values["pullRequestId"])
	if err != nil {
		return 0, nil, badRequest("The pull request ID '%s' is not valid.", c.values["pullRequestId"])
	}
	pr := c.s.findPR(nil, id)
	if pr == nil || pr.repo.Project != p {
		return 0, nil, pullRequestNotFound()
	}
	if err := c.s.refreshMerge(pr); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, c.s.prModel(pr, false), nil
}

// updatePRBody is a PATCH of a pull request. Fields the service refuses to
// update are kept as raw presence markers.
type updatePRBody struct {
	Title                 *string                              `json:"title"`
	Description           *string                              `json:"description"`
	Status                *git.PullRequestStatus               `json:"status"`
	IsDraft               *bool                                `json:"isDraft"`
	TargetRefName         *string                              `json:"targetRefName"`
	CompletionOptions     *git.GitPullRequestCompletionOptions `json:"completionOptions"`
	MergeOptions          *git.GitPullRequestMergeOptions      `json:"mergeOptions"`
	AutoCompleteSetBy     *struct{ ID *string }                `json:"autoCompleteSetBy"`
	LastMergeSourceCommit *struct {
		CommitID string `json:"commitId"`
	} `json:"lastMergeSourceCommit"`
	MergeStatus *git.PullRequestAsyncStatus `json:"mergeStatus"`

	CreationDate          *azuredevops.Time `json:"creationDate"`
	ClosedDate            *azuredevops.Time `json:"closedDate"`
	CreatedBy             *struct{}         `json:"createdBy"`
	LastMergeCommit       *struct{}         `json:"lastMergeCommit"`
	LastMergeTargetCommit *struct{}         `json:"lastMergeTargetCommit"`
	MergeID               *uuid.UUID        `json:"mergeId"`
	PullRequestID         *int              `json:"pullRequestId"`
	Repository            *struct{}         `json:"repository"`
	SourceRefName         *string           `json:"sourceRefName"`
	Reviewers             *[]struct{}       `json:"reviewers"`
}

func invalidUpdate() *apiError {
	return badRequest("The pull request update is not valid: only the title, description, status, draft state, target branch, merge and completion options and auto-complete can be updated.")
}

func notEditable() *apiError {
	return newError(http.StatusBadRequest, "GitPullRequestNotEditableException", "TF401181: The pull request cannot be edited due to its state.")
}

// handleUpdatePullRequest serves PATCH .../pullRequests/{pullRequestId}:
// edit, retarget, abandon, reactivate, set auto-complete, or complete.
// Completing needs lastMergeSourceCommit equal to the source branch's head
// (else 409 GitPullRequestStaleException); it merges for real in the
// repository unless blocking policies have not approved or the merge
// conflicts, in which case the pull request stays active.
func handleUpdatePullRequest(c *call) (int, any, error) {
	var body updatePRBody
	if !c.decode(&body) {
		return 0, nil, badRequest("The pull request update must not be empty.")
	}
	if body.Title != nil && strings.TrimSpace(*body.Title) == "" {
		return 0, nil, badRequest("The pull request title must not be empty.")
	}
	pr, err := c.pullRequestOf()
	if err != nil {
		return 0, nil, err
	}
	completing := body.Status != nil && *body.Status == git.PullRequestStatusValues.Completed
	if (body.CreationDate != nil && !body.CreationDate.Time.IsZero()) || (body.ClosedDate != nil && !body.ClosedDate.Time.IsZero()) ||
		body.CreatedBy != nil || body.LastMergeCommit != nil || (body.LastMergeSourceCommit != nil && !completing) ||
		body.LastMergeTargetCommit != nil || (body.MergeID != nil && *body.MergeID != uuid.Nil) ||
		(body.PullRequestID != nil && *body.PullRequestID != 0) || body.Repository != nil || body.SourceRefName != nil || body.Reviewers != nil {
		return 0, nil, invalidUpdate()
	}
	if body.TargetRefName != nil {
		return c.s.retarget(c, pr, *body.TargetRefName)
	}
	if opts := body.CompletionOptions; opts != nil && opts.MergeStrategy != nil {
		switch *opts.MergeStrategy {
		case git.GitPullRequestMergeStrategyValues.NoFastForward, git.GitPullRequestMergeStrategyValues.Squash:
		default:
			return 0, nil, newError(http.StatusBadRequest, "NotSupportedException", "The merge strategy '%s' is not supported by this server.", *opts.MergeStrategy)
		}
	}
	if body.MergeStatus != nil && *body.MergeStatus != git.PullRequestAsyncStatusValues.NotSet {
		if *body.MergeStatus != git.PullRequestAsyncStatusValues.Queued {
			return 0, nil, badRequest("The merge status can only be set to queued.")
		}
		pr.lastSource, pr.mergeStatus = "", ""
		if err := c.s.refreshMerge(pr); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, c.s.prModel(pr, true), nil
	}
	if completing {
		if pr.status != git.PullRequestStatusValues.Active {
			return 0, nil, notEditable()
		}
		if body.LastMergeSourceCommit == nil || len(body.LastMergeSourceCommit.CommitID) != 40 {
			return 0, nil, badRequest("The last merge source commit must be specified to complete a pull request.")
		}
		if !strings.EqualFold(body.LastMergeSourceCommit.CommitID, pr.lastSource) {
			// The service's answer, as it gives it live: no commit ids.
			return 0, nil, newError(http.StatusConflict, "GitPullRequestStaleException",
				"TF401192: The source branch has been modified since the last merge attempt.")
		}
		if body.CompletionOptions != nil {
			// Only an accepted completion request keeps its options.
			pr.completionOptions = body.CompletionOptions
		}
		if err := c.s.complete(pr, c.who.Identity); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, c.s.prModel(pr, true), nil
	}
	if pr.status == git.PullRequestStatusValues.Completed {
		return 0, nil, notEditable()
	}
	if body.Description != nil && len(*body.Description) > maxDescription {
		return 0, nil, badRequest("The pull request description is too long. The maximum length is %d characters.", maxDescription)
	}
	if body.AutoCompleteSetBy != nil {
		id := deref(body.AutoCompleteSetBy.ID)
		switch {
		case id == "" || strings.EqualFold(id, uuid.Nil.String()):
			pr.autoCompleteSetBy = nil
		case strings.EqualFold(id, c.who.Identity.ID.String()):
			if body.CompletionOptions != nil && body.CompletionOptions.BypassPolicy != nil && *body.CompletionOptions.BypassPolicy {
				return 0, nil, badRequest("Bypassing policies is not allowed with auto-complete.")
			}
			who := c.who.Identity
			pr.autoCompleteSetBy = &who
		default:
			return 0, nil, badRequest("Auto-complete can only be set by the caller (%s).", c.who.Identity.ID)
		}
	}
	if body.Status != nil {
		switch *body.Status {
		case git.PullRequestStatusValues.Abandoned:
			if pr.status == git.PullRequestStatusValues.Active {
				who := c.who.Identity
				pr.status, pr.closedBy, pr.closed = git.PullRequestStatusValues.Abandoned, &who, c.s.now()
				pr.autoCompleteSetBy = nil
			}
		case git.PullRequestStatusValues.Active:
			if pr.status == git.PullRequestStatusValues.Abandoned {
				if s, _ := pr.repo.git.resolve(pr.source); s == "" {
					return 0, nil, cannotActivate()
				}
				if t, _ := pr.repo.git.resolve(pr.target); t == "" {
					return 0, nil, cannotActivate()
				}
				if c.s.activeDuplicate(pr.repo, pr.source, pr.target, pr.id) {
					return 0, nil, newError(http.StatusConflict, "GitPullRequestExistsException",
						"TF401179: An active pull request for the source and target branch already exists.")
				}
				pr.status, pr.closedBy, pr.closed = git.PullRequestStatusValues.Active, nil, time.Time{}
				pr.mergeStatus = ""
			}
		case git.PullRequestStatusValues.NotSet:
		default:
			return 0, nil, badRequest("The pull request status '%s' cannot be set.", *body.Status)
		}
	}
	if body.Title != nil {
		pr.title = *body.Title
	}
	if body.Description != nil {
		pr.description = *body.Description
	}
	if body.IsDraft != nil {
		pr.isDraft = *body.IsDraft
	}
	if body.CompletionOptions != nil {
		pr.completionOptions = body.CompletionOptions
	}
	if err := c.s.refreshMerge(pr); err != nil {
		return 0, nil, err
	}
	if err := c.s.tryAutoComplete(pr); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, c.s.prModel(pr, true), nil
}

// retarget moves an active pull request to another target branch.
func (s *Server) retarget(c *call, pr *pullRequest, target string) (int, any, error) {
	if pr.status != git.PullRequestStatusValues.Active {
		return 0, nil, notEditable()
	}
	oid, err := pr.repo.git.resolve(target)
	if err != nil {
		return 0, nil, err
	}
	if oid == "" || !strings.HasPrefix(target, "refs/heads/") || target == pr.source {
		return 0, nil, cannotActivate()
	}
	if s.activeDuplicate(pr.repo, pr.source, target, pr.id) {
		return 0, nil, newError(http.StatusConflict, "GitPullRequestExistsException",
			"TF401179: An active pull request for the source and target branch already exists.")
	}
	pr.target = target
	pr.mergeStatus = ""
	if err := s.refreshMerge(pr); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.prModel(pr, true), nil
}

// policiesApproved reports whether every enabled blocking policy on the pull
// request has approved (or does not apply).
func (pr *pullRequest) policiesApproved() bool {
	for _, p := range pr.policies {
		if !p.eval.Blocking {
			continue
		}
		switch p.eval.Status {
		case "approved", "notApplicable":
		default:
			return false
		}
	}
	return true
}

// complete merges an active pull request into its target if its blocking
// policies allow it (or completionOptions.bypassPolicy says so) and its
// merge is clean. Otherwise it stays active with completionQueueTime set,
// as a completion request that the service has queued but not carried out.
func (s *Server) complete(pr *pullRequest, by Identity) error {
	bypass := pr.completionOptions != nil && pr.completionOptions.BypassPolicy != nil && *pr.completionOptions.BypassPolicy
	if pr.isDraft || (!bypass && !pr.policiesApproved()) || pr.mergeStatus != git.PullRequestAsyncStatusValues.Succeeded {
		pr.completionQueueTime = s.now()
		return nil
	}
	g := pr.repo.git
	squash := false
	message := fmt.Sprintf("Merged PR %d: %s", pr.id, pr.title)
	if o := pr.completionOptions; o != nil {
		squash = (o.SquashMerge != nil && *o.SquashMerge) || (o.MergeStrategy != nil && *o.MergeStrategy == git.GitPullRequestMergeStrategyValues.Squash)
		if o.MergeCommitMessage != nil && *o.MergeCommitMessage != "" {
			message = *o.MergeCommitMessage
		}
	}
	merged, err := g.readCommit(pr.lastMergeCommit)
	if err != nil {
		return err
	}
	parents := []string{pr.lastTarget, pr.lastSource}
	if squash {
		parents = parents[:1]
	}
	sig := signature{name: by.DisplayName, email: by.UniqueName, when: s.now()}
	commit, err := g.commitTree(merged.tree, parents, message, sig, sig)
	if err != nil {
		return err
	}
	if err := g.updateRef(pr.target, commit, pr.lastTarget); err != nil {
		// The target moved since the merge was computed: the service
		// recomputes the merge and leaves the completion queued.
		pr.mergeStatus = ""
		pr.completionQueueTime = s.now()
		return s.refreshMerge(pr)
	}
	s.refUpdates = append(s.refUpdates, RefUpdate{Repository: pr.repo.Name, Name: pr.target, OldObjectID: pr.lastTarget, NewObjectID: commit, Status: git.GitRefUpdateStatusValues.Succeeded, Via: "pullRequest"})
	if o := pr.completionOptions; o != nil && o.DeleteSourceBranch != nil && *o.DeleteSourceBranch {
		if err := g.updateRef(pr.source, zeroOID, pr.lastSource); err == nil {
			s.refUpdates = append(s.refUpdates, RefUpdate{Repository: pr.repo.Name, Name: pr.source, OldObjectID: pr.lastSource, NewObjectID: zeroOID, Status: git.GitRefUpdateStatusValues.Succeeded, Via: "pullRequest"})
		}
	}
	who := by
	pr.status, pr.closedBy, pr.closed = git.PullRequestStatusValues.Completed, &who, s.now()
	pr.lastMergeCommit = commit
	pr.completionQueueTime = time.Time{}
	return nil
}

// tryAutoComplete completes a pull request whose auto-complete is set once
// nothing blocks it any more, as the service does in the background.
func (s *Server) tryAutoComplete(pr *pullRequest) error {
	if pr.status != git.PullRequestStatusValues.Active || pr.autoCompleteSetBy == nil || pr.isDraft {
		return nil
	}
	if !pr.policiesApproved() || pr.mergeStatus != git.PullRequestAsyncStatusValues.Succeeded {
		return nil
	}
	return s.complete(pr, *pr.autoCompleteSetBy)
}

// prModel is the pull request as the REST API shows it.
func (s *Server) prModel(pr *pullRequest, links bool) *git.GitPullRequest {
	r := pr.repo
	mergeID := pr.mergeID
	url := r.apiURL() + "/pullRequests/" + strconv.Itoa(pr.id)
	m := &git.GitPullRequest{
		Repository:         r.model(),
		PullRequestId:      ptr(pr.id),
		CodeReviewId:       ptr(pr.id),
		Status:             ptr(pr.status),
		CreatedBy:          s.identityRef(pr.createdBy),
		CreationDate:       &azuredevops.Time{Time: pr.created},
		Title:              ptr(pr.title),
		SourceRefName:      ptr(pr.source),
		TargetRefName:      ptr(pr.target),
		IsDraft:            ptr(pr.isDraft),
		MergeId:            &mergeID,
		Url:                ptr(url),
		SupportsIterations: ptr(true),
		ArtifactId:         ptr(fmt.Sprintf("vstfs:///Git/PullRequestId/%s%%2f%s%%2f%d", r.Project.ID, r.ID, pr.id)),
		CompletionOptions:  pr.completionOptions,
	}
	if pr.description != "" {
		m.Description = ptr(pr.description)
	}
	if pr.mergeStatus != "" {
		m.MergeStatus = ptr(pr.mergeStatus)
	}
	if pr.mergeFailure != "" {
		m.MergeFailureMessage = ptr(pr.mergeFailure)
	}
	if pr.lastSource != "" {
		m.LastMergeSourceCommit = &git.GitCommitRef{CommitId: ptr(pr.lastSource), Url: ptr(r.apiURL() + "/commits/" + pr.lastSource)}
	}
	if pr.lastTarget != "" {
		m.LastMergeTargetCommit = &git.GitCommitRef{CommitId: ptr(pr.lastTarget), Url: ptr(r.apiURL() + "/commits/" + pr.lastTarget)}
	}
	if pr.lastMergeCommit != "" {
		if meta, err := r.git.readCommit(pr.lastMergeCommit); err == nil {
			m.LastMergeCommit = commitRef(r, meta)
		}
	}
	if pr.closedBy != nil {
		m.ClosedBy = s.identityRef(*pr.closedBy)
		m.ClosedDate = &azuredevops.Time{Time: pr.closed}
	}
	if pr.autoCompleteSetBy != nil {
		m.AutoCompleteSetBy = s.identityRef(*pr.autoCompleteSetBy)
	}
	if !pr.completionQueueTime.IsZero() {
		m.CompletionQueueTime = &azuredevops.Time{Time: pr.completionQueueTime}
	}
	reviewers := append([]git.IdentityRefWithVote{}, pr.reviewers...)
	m.Reviewers = &reviewers
	if links {
		href := func(u string) map[string]string { return map[string]string{"href": u} }
		l := map[string]any{
			"self":         href(url),
			"repository":   href(r.apiURL()),
			"workItems":    href(url + "/workitems"),
			"sourceBranch": href(r.apiURL() + "/refs/" + strings.TrimPrefix(pr.source, "refs/")),
			"targetBranch": href(r.apiURL() + "/refs/" + strings.TrimPrefix(pr.target, "refs/")),
			"statuses":     href(url + "/statuses"),
			"createdBy":    href(*m.CreatedBy.Url),
			"iterations":   href(url + "/iterations"),
		}
		if pr.lastSource != "" {
			l["sourceCommit"] = href(r.apiURL() + "/commits/" + pr.lastSource)
		}
		if pr.lastTarget != "" {
			l["targetCommit"] = href(r.apiURL() + "/commits/" + pr.lastTarget)
		}
		m.Links = l
	}
	return m
}

// prCommits lists the commits the pull request brings: reachable from its
// source but not from its target, newest first.
func (s *Server) prCommits(pr *pullRequest) ([]git.GitCommitRef, error) {
	if pr.lastSource == "" {
		return []git.GitCommitRef{}, nil
	}
	oids, err := pr.repo.git.revList(pr.lastSource, pr.lastTarget)
	if err != nil {
		return nil, err
	}
	out := make([]git.GitCommitRef, 0, len(oids))
	for _, oid := range oids {
		meta, err := pr.repo.git.readCommit(oid)
		if err != nil {
			return nil, err
		}
		out = append(out, *commitRef(pr.repo, meta))
	}
	return out, nil
}

// handleGetPRCommits serves GET .../pullRequests/{pullRequestId}/commits.
func handleGetPRCommits(c *call) (int, any, error) {
	pr, err := c.pullRequestOf()
	if err != nil {
		return 0, nil, err
	}
	commits, err := c.s.prCommits(pr)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, list(commits), nil
}

// statusBody is a CreatePullRequestStatus request.
type statusBody struct {
	State       *git.GitStatusState   `json:"state"`
	Description *string               `json:"description"`
	Context     *git.GitStatusContext `json:"context"`
	TargetURL   *string               `json:"targetUrl"`
	IterationID *int                  `json:"iterationId"`
	Properties  any                   `json:"properties"`
}

var statusStates = map[git.GitStatusState]bool{
	git.GitStatusStateValues.NotSet: true, git.GitStatusStateValues.Pending: true, git.GitStatusStateValues.Succeeded: true,
	git.GitStatusStateValues.Failed: true, git.GitStatusStateValues.Error: true, git.GitStatusStateValues.NotApplicable: true,
}

// handleCreatePRStatus serves POST .../pullRequests/{pullRequestId}/statuses.
// A missing body is answered 400 with a bare JSON string, as the service
// does; the response of a created status is 200.
func handleCreatePRStatus(c *call) (int, any, error) {
	var body statusBody
	if !c.decode(&body) {
		return http.StatusBadRequest, "The pull request status is malformed.", nil
	}
	if body.State != nil && *body.State == "partiallySucceeded" {
		return 0, nil, badRequest("The status state 'partiallySucceeded' is not valid here.\r\nParameter name: State")
	}
	if body.State != nil && !statusStates[*body.State] {
		return http.StatusBadRequest, "The pull request status is malformed.", nil
	}
	pr, err := c.pullRequestOf()
	if err != nil {
		return 0, nil, err
	}
	if body.Context == nil || deref(body.Context.Name) == "" {
		return 0, nil, argumentNull("Context.Name")
	}
	iteration := 0
	if body.IterationID != nil {
		iteration = *body.IterationID
		if iteration < 1 || iteration > len(pr.iterations) {
			return 0, nil, newError(http.StatusNotFound, "GitPullRequestIterationNotFoundException",
				"The iteration %d of pull request %d was not found.", iteration, pr.id)
		}
	}
	now := &azuredevops.Time{Time: c.s.now()}
	pr.lastStatus++
	st := &git.GitPullRequestStatus{
		Id:           ptr(pr.lastStatus),
		State:        body.State,
		Description:  body.Description,
		Context:      body.Context,
		TargetUrl:    body.TargetURL,
		CreatedBy:    c.s.identityRef(c.who.Identity),
		CreationDate: now,
		UpdatedDate:  now,
		Properties:   body.Properties,
	}
	if st.State == nil {
		st.State = ptr(git.GitStatusStateValues.NotSet)
	}
	if iteration > 0 {
		st.IterationId = ptr(iteration)
	}
	pr.statuses = append(pr.statuses, st)
	return http.StatusOK, st, nil
}

// statusOf finds the status of the {statusId} route value.
func (c *call) statusOf(pr *pullRequest) (int, error) {
	id, err := strconv.Atoi(c.values["statusId"])
	if err == nil {
		for i, st := range pr.statuses {
			if *st.Id == id {
				return i, nil
			}
		}
	}
	return 0, newError(http.StatusNotFound, "GitPullRequestStatusNotFoundException",
		"The status %s of pull request %d was not found.", c.values["statusId"], pr.id)
}

// handleDeletePRStatus serves DELETE .../pullRequests/{pullRequestId}/statuses/{statusId}:
// the status is gone from the list (answered 204 without a body).
func handleDeletePRStatus(c *call) (int, any, error) {
	pr, err := c.pullRequestOf()
	if err != nil {
		return 0, nil, err
	}
	i, err := c.statusOf(pr)
	if err != nil {
		return 0, nil, err
	}
	pr.statuses = append(pr.statuses[:i], pr.statuses[i+1:]...)
	return http.StatusNoContent, nil, nil
}

// handleGetPRStatuses serves GET .../pullRequests/{pullRequestId}/statuses,
// and .../statuses/{statusId} for one.
func handleGetPRStatuses(c *call) (int, any, error) {
	pr, err := c.pullRequestOf()
	if err != nil {
		return 0, nil, err
	}
	if c.values["statusId"] != "" {
		i, err := c.statusOf(pr)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, pr.statuses[i], nil
	}
	out := make([]git.GitPullRequestStatus, 0, len(pr.statuses))
	for _, st := range pr.statuses {
		out = append(out, *st)
	}
	return http.StatusOK, list(out), nil
}

// threadBody is a CreateThread request.
type threadBody struct {
	ID       int `json:"id"`
	Comments []*struct {
		Content         *string          `json:"content"`
		CommentType     *git.CommentType `json:"commentType"`
		ParentCommentID *int             `json:"parentCommentId"`
	} `json:"comments"`
	Status        *git.CommentThreadStatus  `json:"status"`
	Properties    any                       `json:"properties"`
	ThreadContext *git.CommentThreadContext `json:"threadContext"`
}

// handleCreateThread serves POST .../pullRequests/{pullRequestId}/threads.
func handleCreateThread(c *call) (int, any, error) {
	var body threadBody
	if !c.decode(&body) {
		return 0, nil, argumentNull("commentThread")
	}
	if len(body.Comments) == 0 {
		return 0, nil, argumentNull("comments")
	}
	if body.ID > 0 {
		return 0, nil, newError(http.StatusBadRequest, "GitPullRequestCommentThreadCreateIdException",
			"A comment thread cannot be created with an ID (%d).", body.ID)
	}
	pr, err := c.pullRequestOf()
	if err != nil {
		return 0, nil, err
	}
	now := &azuredevops.Time{Time: c.s.now()}
	threadID := len(pr.threads) + 1
	threadURL := pr.repo.apiURL() + "/pullRequests/" + strconv.Itoa(pr.id) + "/threads/" + strconv.Itoa(threadID)
	var comments []git.Comment
	for i, cm := range body.Comments {
		if cm == nil {
			return 0, nil, argumentNull("comment")
		}
		kind := git.CommentTypeValues.Text
		if cm.CommentType != nil && *cm.CommentType != git.CommentTypeValues.Unknown {
			kind = *cm.CommentType
		}
		parent := 0
		if cm.ParentCommentID != nil {
			parent = *cm.ParentCommentID
		}
		comments = append(comments, git.Comment{
			Id:                     ptr(i + 1),
			ParentCommentId:        ptr(parent),
			Author:                 c.s.identityRef(c.who.Identity),
			Content:                cm.Content,
			CommentType:            ptr(kind),
			PublishedDate:          now,
			LastUpdatedDate:        now,
			LastContentUpdatedDate: now,
			UsersLiked:             &[]webapi.IdentityRef{},
			Links: map[string]any{
				"self":       map[string]string{"href": threadURL + "/comments/" + strconv.Itoa(i+1)},
				"repository": map[string]string{"href": pr.repo.apiURL()},
				"threads":    map[string]string{"href": threadURL},
			},
		})
	}
	th := &git.GitPullRequestCommentThread{
		Id:              ptr(threadID),
		Comments:        &comments,
		PublishedDate:   now,
		LastUpdatedDate: now,
		Status:          body.Status,
		ThreadContext:   body.ThreadContext,
		Properties:      body.Properties,
		IsDeleted:       ptr(false),
		Links: map[string]any{
			"self":       map[string]string{"href": threadURL},
			"repository": map[string]string{"href": pr.repo.apiURL()},
		},
	}
	pr.threads = append(pr.threads, th)
	return http.StatusOK, th, nil
}

// handleGetThreads serves GET .../pullRequests/{pullRequestId}/threads.
func handleGetThreads(c *call) (int, any, error) {
	pr, err := c.pullRequestOf()
	if err != nil {
		return 0, nil, err
	}
	if id := c.values["threadId"]; id != "" {
		n, err := strconv.Atoi(id)
		if err != nil || n < 1 || n > len(pr.threads) {
			return 0, nil, newError(http.StatusNotFound, "GitPullRequestCommentThreadNotFoundException", "The comment thread %s was not found.", id)
		}
		return http.StatusOK, pr.threads[n-1], nil
	}
	out := make([]git.GitPullRequestCommentThread, 0, len(pr.threads))
	for _, th := range pr.threads {
		out = append(out, *th)
	}
	return http.StatusOK, list(out), nil
}

// threadOf finds the thread of the {threadId} route value.
func (c *call) threadOf(pr *pullRequest) (*git.GitPullRequestCommentThread, error) {
	n, err := strconv.Atoi(c.values["threadId"])
	if err != nil || n < 1 || n > len(pr.threads) {
		return nil, newError(http.StatusNotFound, "GitPullRequestCommentThreadNotFoundException", "The comment thread %s was not found.", c.values["threadId"])
	}
	return pr.threads[n-1], nil
}

// commentOf finds the thread and comment of the {threadId} and {commentId}
// route values.
func (c *call) commentOf(pr *pullRequest) (*git.GitPullRequestCommentThread, *git.Comment, error) {
	th, err := c.threadOf(pr)
	if err != nil {
		return nil, nil, err
	}
	id, err := strconv.Atoi(c.values["commentId"])
	if err == nil {
		for i := range *th.Comments {
			if cm := &(*th.Comments)[i]; *cm.Id == id {
				return th, cm, nil
			}
		}
	}
	return nil, nil, newError(http.StatusNotFound, "GitPullRequestCommentNotFoundException", "The comment %s was not found.", c.values["commentId"])
}

// handleGetComments serves GET .../threads/{threadId}/comments, and
// .../comments/{commentId} for one.
func handleGetComments(c *call) (int, any, error) {
	pr, err := c.pullRequestOf()
	if err != nil {
		return 0, nil, err
	}
	if c.values["commentId"] == "" {
		th, err := c.threadOf(pr)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, list(*th.Comments), nil
	}
	_, cm, err := c.commentOf(pr)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, cm, nil
}

// handleUpdateComment serves PATCH .../threads/{threadId}/comments/{commentId}:
// the content is replaced and the comment's update dates move.
func handleUpdateComment(c *call) (int, any, error) {
	var body struct {
		Content *string `json:"content"`
	}
	if !c.decode(&body) {
		return 0, nil, argumentNull("comment")
	}
	pr, err := c.pullRequestOf()
	if err != nil {
		return 0, nil, err
	}
	th, cm, err := c.commentOf(pr)
	if err != nil {
		return 0, nil, err
	}
	now := &azuredevops.Time{Time: c.s.now()}
	if body.Content != nil {
		cm.Content = body.Content
		cm.LastContentUpdatedDate = now
	}
	cm.LastUpdatedDate, th.LastUpdatedDate = now, now
	return http.StatusOK, cm, nil
}

// PullRequest is a snapshot of a pull request with its statuses, comment
// threads, commits and labels (their names, oldest first).
type PullRequest struct {
	git.GitPullRequest
	Labels   []string
	Statuses []git.GitPullRequestStatus
	Threads  []git.GitPullRequestCommentThread
	Commits  []git.GitCommitRef
}

// PullRequests returns every pull request, oldest first.
func (s *Server) PullRequests() []PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PullRequest, 0, len(s.prs))
	for _, pr := range s.prs {
		out = append(out, s.snapshot(pr))
	}
	return out
}

// PullRequest returns a snapshot of a pull request by ID.
func (s *Server) PullRequest(id int) (PullRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.findPR(nil, id)
	if pr == nil {
		return PullRequest{}, false
	}
	return s.snapshot(pr), true
}

func (s *Server) snapshot(pr *pullRequest) PullRequest {
	if err := s.refreshMerge(pr); err != nil {
		s.tb.Errorf("azdo: refresh pull request %d: %v", pr.id, err)
	}
	snap := PullRequest{GitPullRequest: *s.prModel(pr, false)}
	for _, t := range pr.labels {
		snap.Labels = append(snap.Labels, t.name)
	}
	for _, st := range pr.statuses {
		snap.Statuses = append(snap.Statuses, *st)
	}
	for _, th := range pr.threads {
		snap.Threads = append(snap.Threads, *th)
	}
	commits, err := s.prCommits(pr)
	if err != nil {
		s.tb.Errorf("azdo: commits of pull request %d: %v", pr.id, err)
	}
	snap.Commits = commits
	return snap
}
