package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// PromoteRequest asks to promote a speculative build to a mainline build
// (`maestro build promote`).
type PromoteRequest struct {
	// BuildID is the speculative build.
	BuildID int
	// Channels restricts the channels the mainline build joins (ids; each
	// one's twin must hold the speculative build); empty: all of them.
	Channels []int
	// NoTrigger records the promotion without flowing it.
	NoTrigger bool
}

// PromoteResult is what a promotion did.
type PromoteResult struct {
	registry.PublishResult
	// Flowed are the flow's attempts with the promoted build.
	Flowed []Triggered
}

// Promote makes speculative build req.BuildID a mainline build, when its
// pull request merged as exactly the commit it was built from (a
// fast-forward or rebase merge of the head it built, or a build of the
// merge commit). Everything — that the build is speculative and of a pull
// request, the host's word that the pull request merged and as which
// commit, the channels, its dependencies — is checked before the first
// write (KindInvalid when the build or its pull request does not allow a
// promotion). The mainline build is recorded by registry.Promote (its
// commit point is its build.json; see docs/registry.md), then flowed like
// a published one: everyBuild subscriptions of its channels, and the
// speculative pull requests whose parent merged as its commit move to it.
// A rerun returns the same mainline build and flows it to the
// subscriptions that have no outcome with it yet, so a promotion killed at
// any point is finished by running it again (and the speculative pull
// requests waiting for it move at the next `flow tick` in any case).
func (s *Service) Promote(ctx context.Context, req PromoteRequest) (PromoteResult, error) {
	if !registry.IsSpeculativeID(req.BuildID) {
		if _, err := s.Registry.BuildInfo(ctx, req.BuildID); err != nil {
			return PromoteResult{}, err
		}
		return PromoteResult{}, maestro.Errorf(maestro.KindInvalid, "build %d is a mainline build, not a speculative one: there is nothing to promote", req.BuildID)
	}
	spec, err := s.Registry.Speculative(ctx)
	if err != nil {
		return PromoteResult{}, err
	}
	b, err := spec.Build(ctx, req.BuildID)
	if err != nil {
		return PromoteResult{}, err
	}
	if b.PullRequest == nil {
		return PromoteResult{}, maestro.Errorf(maestro.KindInvalid,
			"speculative build %d was made from no pull request (a branch or a speculative product build): only the build of a merged pull request is promoted", b.ID)
	}
	pr, err := s.hostPullRequest(ctx, b.PullRequest.URL)
	if err != nil {
		return PromoteResult{}, fmt.Errorf("speculative build %d: %w", b.ID, err)
	}
	switch {
	case pr.State != maestro.PullRequestMerged:
		return PromoteResult{}, maestro.Errorf(maestro.KindInvalid,
			"speculative build %d: its pull request %s is %s, not merged; promote it once it merged as the commit the build was made from", b.ID, b.PullRequest.URL, pr.State)
	case pr.MergeCommit == "":
		return PromoteResult{}, maestro.Errorf(maestro.KindInvalid,
			"speculative build %d: the host does not say which commit merged %s, so it cannot tell that the build is of it; publish the mainline build instead", b.ID, b.PullRequest.URL)
	case !strings.EqualFold(pr.MergeCommit, b.Commit):
		return PromoteResult{}, maestro.Errorf(maestro.KindInvalid,
			"speculative build %d was made from commit %s, but %s merged as commit %s: only a build of exactly the merged commit is promoted; the mainline build of %s (`maestro publish`) moves its dependents instead",
			b.ID, b.Commit, b.PullRequest.URL, pr.MergeCommit, cutSHA(pr.MergeCommit))
	}
	branch := pr.BaseBranch
	if branch == "" {
		branch = b.PullRequest.TargetBranch
	}
	res, err := s.Registry.Promote(ctx, b, registry.PromoteOptions{Branch: branch, Channels: req.Channels})
	if err != nil {
		return PromoteResult{}, err
	}
	out := PromoteResult{PublishResult: res}
	if req.NoTrigger {
		return out, nil
	}
	var channels []int
	for _, c := range res.Build.Channels {
		channels = append(channels, c.ID)
	}
	out.Flowed, err = s.FlowBuildPending(ctx, res.Build, channels)
	return out, err
}

// hostPullRequest reads a pull request, by its web URL, from its host.
func (s *Service) hostPullRequest(ctx context.Context, url string) (maestro.PullRequest, error) {
	repo, num, err := repourl.PullRequest(url)
	if err != nil {
		return maestro.PullRequest{}, maestro.Errorf(maestro.KindInvalid, "pull request %s: %v", url, err)
	}
	p, err := s.Platform(repo)
	if err != nil {
		return maestro.PullRequest{}, err
	}
	pr, err := p.PullRequest(ctx, repo, num)
	if err != nil {
		return maestro.PullRequest{}, fmt.Errorf("read pull request %s: %w", url, err)
	}
	return pr, nil
}

func cutSHA(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
