package azdo

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
)

// Pull request builds and pull request service hook events.
//
// A pipeline whose repository's branch policy (build validation) or pr:
// trigger covers a pull request builds it as the service does: reason
// pullRequest, sourceBranch refs/pull/{id}/merge, sourceVersion the preview
// merge commit, triggerInfo {pr.number, pr.isFork} and the
// system.pullRequest.* values in parameters, as the Builds API shows an
// Azure Repos pull request build.

// AddPullRequestBuild records a build of pipeline pl for the active pull
// request id of pl's repository at its current merge, as build validation
// queues it, and returns its ID. It is not started: move it on with
// SetBuildStatus.
func (s *Server) AddPullRequestBuild(pl *Pipeline, id int) int {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.findPR(pl.repository(), id)
	if pr == nil {
		s.tb.Fatalf("azdo: AddPullRequestBuild: no pull request %d in repository %s", id, pl.repository().Name)
	}
	if err := s.refreshMerge(pr); err != nil {
		s.tb.Fatalf("azdo: AddPullRequestBuild: %v", err)
	}
	if pr.status != git.PullRequestStatusValues.Active || pr.lastMergeCommit == "" {
		s.tb.Fatalf("azdo: AddPullRequestBuild: pull request %d is %s with merge status %s: the service builds only an active pull request that merges", id, pr.status, pr.mergeStatus)
	}
	b := s.newBuild(pl, Identity{ID: stableID("identity", "ci"), DisplayName: "Microsoft.VisualStudio.Services.TFS",
		UniqueName: "00000002-0000-8888-8000-000000000000@2c895908-04e0-4952-89fd-54b0046d6288"},
		"refs/pull/"+strconv.Itoa(id)+"/merge", pr.lastMergeCommit)
	b.reason = build.BuildReasonValues.PullRequest
	b.triggerInfo = map[string]string{"pr.number": strconv.Itoa(id), "pr.isFork": "False"}
	params, err := json.Marshal(map[string]string{
		"system.pullRequest.pullRequestId":       strconv.Itoa(id),
		"system.pullRequest.sourceBranch":        pr.source,
		"system.pullRequest.targetBranch":        pr.target,
		"system.pullRequest.sourceCommitId":      pr.lastSource,
		"system.pullRequest.sourceRepositoryUri": pr.repo.RemoteURL(),
	})
	if err != nil {
		s.tb.Fatalf("azdo: AddPullRequestBuild: %v", err)
	}
	b.parameters = string(params)
	return b.id
}

// GitHubPullRequest is a pull request of a GitHub repository, as a
// pipeline whose source is that repository (through a GitHub service
// connection) builds it.
type GitHubPullRequest struct {
	// Repository is the repository's URL, https://github.com/{owner}/{repo}
	// (or a GitHub Enterprise Server's, or a double's).
	Repository string
	Number     int
	// Head is the pull request's head commit; Merge the merge commit
	// GitHub made of it (refs/pull/{n}/merge), which the build builds.
	Head, Merge string
	// SourceBranch and TargetBranch are branch names, without refs/heads/.
	SourceBranch, TargetBranch string
}

// AddGitHubPullRequestBuild records a build of pipeline pl for a GitHub pull
// request, as the service queues it on the pull request's pr: trigger, and
// returns its ID: repository type GitHub (id {owner}/{repo}), reason
// pullRequest, sourceBranch refs/pull/{n}/merge at the merge commit, and the
// triggerInfo and parameters dnceng-public's Builds API shows for one (see
// internal/azdo/testdata/github-pr-build.json). It is not started: move it
// on with SetBuildStatus.
func (s *Server) AddGitHubPullRequestBuild(pl *Pipeline, pr GitHubPullRequest) int {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := url.Parse(pr.Repository)
	if err != nil || u.Host == "" {
		s.tb.Fatalf("azdo: AddGitHubPullRequestBuild: repository %q is not a URL", pr.Repository)
	}
	id := strings.TrimSuffix(strings.Trim(u.Path, "/"), ".git") // {owner}/{repo}
	b := s.newBuild(pl, Identity{ID: stableID("identity", "github"), DisplayName: "GitHub", UniqueName: "GitHub"},
		"refs/pull/"+strconv.Itoa(pr.Number)+"/merge", pr.Merge)
	b.reason = build.BuildReasonValues.PullRequest
	b.repository = &build.BuildRepository{Id: ptr(id), Type: ptr("GitHub"), Url: ptr(pr.Repository), CheckoutSubmodules: ptr(false)}
	nodeID := strconv.Itoa(4745200000 + pr.Number) // GitHub's id of the pull request, not its number
	b.triggerInfo = map[string]string{
		"pr.sourceBranch": pr.SourceBranch, "pr.sourceSha": pr.Head, "pr.id": nodeID,
		"pr.number": strconv.Itoa(pr.Number), "pr.isFork": "False", "pr.draft": "False",
		"pr.providerId": "github", "pr.autoCancel": "true",
	}
	params, err := json.Marshal(map[string]string{
		"system.pullRequest.pullRequestId":       nodeID,
		"system.pullRequest.pullRequestNumber":   strconv.Itoa(pr.Number),
		"system.pullRequest.mergedAt":            "",
		"system.pullRequest.sourceBranch":        pr.SourceBranch,
		"system.pullRequest.targetBranch":        pr.TargetBranch,
		"system.pullRequest.targetBranchName":    pr.TargetBranch,
		"system.pullRequest.sourceRepositoryUri": pr.Repository,
		"system.pullRequest.sourceCommitId":      pr.Head,
		"system.pullRequest.isFork":              "False",
	})
	if err != nil {
		s.tb.Fatalf("azdo: AddGitHubPullRequestBuild: %v", err)
	}
	b.parameters = string(params)
	return b.id
}

// PullRequestHookEvent is the payload a service hook subscription delivers
// for pull request id: eventType git.pullrequest.created,
// git.pullrequest.updated or git.pullrequest.merged (resourceVersion 1.0:
// the resource is the pull request as GetPullRequest shows it, with its
// links), with a new event id and the organization and project in
// resourceContainers. The service sends git.pullrequest.merged ("merge
// attempted") after each merge it computes, so an active pull request's
// event of that type is normal; one completed or abandoned says it ended.
func (s *Server) PullRequestHookEvent(eventType string, id int) []byte {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.findPR(nil, id)
	if pr == nil {
		s.tb.Fatalf("azdo: PullRequestHookEvent: no pull request %d", id)
	}
	if err := s.refreshMerge(pr); err != nil {
		s.tb.Fatalf("azdo: PullRequestHookEvent: %v", err)
	}
	var verb string
	switch eventType {
	case "git.pullrequest.created":
		verb = "created"
	case "git.pullrequest.updated":
		verb = "updated"
		switch pr.status {
		case git.PullRequestStatusValues.Completed:
			verb = "completed"
		case git.PullRequestStatusValues.Abandoned:
			verb = "abandoned"
		}
	case "git.pullrequest.merged":
		verb = "has a merge attempt for"
	default:
		s.tb.Fatalf("azdo: PullRequestHookEvent: event type %q is not a pull request event", eventType)
	}
	base := s.http.URL + "/" + s.org + "/"
	proj := pr.repo.Project
	containers := map[string]any{
		"collection": map[string]string{"id": stableID("collection", s.org).String(), "baseUrl": base},
		"account":    map[string]string{"id": stableID("account", s.org).String(), "baseUrl": base},
		"project":    map[string]string{"id": proj.ID.String(), "baseUrl": base},
	}
	who := pr.createdBy
	if pr.closedBy != nil {
		who = *pr.closedBy
	}
	text := fmt.Sprintf("%s %s pull request %d (%s) in %s", who.DisplayName, verb, pr.id, pr.title, pr.repo.Name)
	msg := map[string]string{"text": text, "html": text, "markdown": text}
	ev := map[string]any{
		"subscriptionId":     stableID("subscription", eventType).String(),
		"notificationId":     1,
		"id":                 uuid.NewString(),
		"eventType":          eventType,
		"publisherId":        "tfs",
		"message":            msg,
		"detailedMessage":    msg,
		"resource":           s.prModel(pr, true),
		"resourceVersion":    "1.0",
		"resourceContainers": containers,
		"createdDate":        s.now().Format(time.RFC3339Nano),
	}
	data, err := json.Marshal(ev)
	if err != nil {
		s.tb.Fatalf("azdo: PullRequestHookEvent: %v", err)
	}
	return data
}

// PullRequestURL is the web URL of pull request id of r, as people and
// maestro name it: {organization}/{project}/_git/{repository}/pullrequest/{id}.
func (r *Repository) PullRequestURL(id int) string {
	return strings.TrimSuffix(r.Project.s.OrganizationURL(), "/") + "/" + r.Project.Name + "/_git/" + r.Name + "/pullrequest/" + strconv.Itoa(id)
}
