package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// Results of a pull request build, for maestro_pull_request_builds_total.
const (
	prBuildPublished      = "published"
	prBuildRecordedBefore = "recorded-before"
	prBuildNotOptedIn     = "not-opted-in"
	prBuildNotPublished   = "not-published"
)

// countPullRequestBuild counts a pull request build the publish trigger
// handled, by result.
func (s *Server) countPullRequestBuild(result string) {
	s.metrics.prBuilds.WithLabelValues(result).Inc()
}

// publishPullRequestBuild records a completed pull request build of a
// pipeline whose pull request builds opted in (maestro.PublishTrigger
// PullRequests) as a speculative build of its pull request, exactly as
// `maestro publish --speculative --pull-request URL` in the build's job
// records it: rec is the build its manifests and job variables give
// (service.PipelineBuild), the pull request is the one the build names
// (azdo.PullRequestOf: its URL from the build's repository and number, its
// head commit, its target branch, as the job's SYSTEM_PULLREQUEST_*
// variables give them to the task), and registry.PublishSpeculative
// validates and records it — idempotent on the Azure DevOps build, so the
// task's own speculative publish and this one record it once. Then the
// speculative flow runs (service.FlowSpeculative).
//
// Crash safety is the official trigger's (publishTrigger): the record is
// PublishSpeculative's, whose commit point is the build's record in the
// speculative registry; a worker that dies after it leaves the event
// queued, and the next attempt finds the build recorded and, being a
// retry, flows it again. FlowSpeculative is safe to repeat: each
// speculative pull request's document takes a build only when it is newer
// than the one it holds, and an attempt at one is claimed under its ETag
// (docs/speculative.md, "Crashes and races"). A first attempt that finds
// the build recorded (by the task, which flowed it) flows nothing.
//
// It returns the event's result, the result for
// maestro_pull_request_builds_total, and an error to retry.
func (s *Server) publishPullRequestBuild(ctx context.Context, ev registry.Event, what string, b *build.Build, rec maestro.Build) (string, string, error) {
	pr, err := azdo.PullRequestOf(b)
	if err != nil {
		return "not published: " + err.Error(), prBuildNotPublished, nil
	}
	res, err := s.reg.PublishSpeculative(ctx, rec, registry.SpeculativeOptions{
		PullRequest: &maestro.BuildPullRequest{URL: pr.URL, HeadCommit: pr.HeadCommit, TargetBranch: pr.TargetBranch},
	})
	switch maestro.KindOf(err) {
	case maestro.KindInvalid, maestro.KindConflict, maestro.KindNotFound:
		return "not published: " + err.Error(), prBuildNotPublished, nil
	}
	if err != nil {
		return "", "", fmt.Errorf("publish %s as a speculative build of %s: %w", what, pr.URL, err)
	}
	var out []string
	outcome := prBuildPublished
	flow := true
	if res.Existing {
		outcome = prBuildRecordedBefore
		out = append(out, fmt.Sprintf("%s was recorded before as speculative build %d of %s", what, res.Build.ID, pr.URL))
		flow = ev.Attempts > 1
	} else {
		var twins []int
		for _, c := range res.Build.Channels {
			twins = append(twins, c.ID)
		}
		out = append(out, fmt.Sprintf("published %s as speculative build %d of %s at %s (channels %s)", what, res.Build.ID, pr.URL, pr.HeadCommit, ints(twins)))
	}
	if flow {
		var errs []error
		for _, f := range s.svc.FlowSpeculative(ctx, res.Build) {
			if f.Err != nil {
				out = append(out, f.Err.Error())
				errs = append(errs, f.Err)
				continue
			}
			s.countFlow(f.Outcome)
			out = append(out, fmt.Sprintf("subscription %s: %s", f.Outcome.SubscriptionID, f.Outcome.Result))
		}
		if len(errs) > 0 {
			// Nothing else flows the build to a subscription whose
			// document it could not write (flow tick and newer builds
			// visit documents that exist): the event is tried again, and
			// its next attempt, a retry, flows the build recorded now.
			return strings.Join(out, "; "), outcome, fmt.Errorf("flow speculative build %d: %w", res.Build.ID, errors.Join(errs...))
		}
	}
	return strings.Join(out, "; "), outcome, nil
}
