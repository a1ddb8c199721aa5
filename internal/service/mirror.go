package service

import (
	"context"
	"fmt"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/mirror"
)

// MirrorHosts is what MirrorBuild needs from the composition root: the
// queue of mirror pipelines, and the head of a target branch (read with
// the target's token).
type MirrorHosts interface {
	MirrorQueue() (mirror.Queuer, error)
	MirrorTargetHead(ctx context.Context, source, target, branch string) (string, error)
}

// MirrorBuild mirrors the branch of a newly published build when its
// repository is mirrored, a branch pattern selects the branch, and the
// target branch's head is not the build's commit: it triggers the mirror
// (mirror.Trigger, so it coalesces with a run queued or running). ok is
// false when there was nothing to mirror.
func (s *Service) MirrorBuild(ctx context.Context, b maestro.Build, hosts MirrorHosts) (res mirror.Triggered, ok bool, err error) {
	m, err := s.Registry.Mirror(ctx, b.Repository)
	if maestro.KindOf(err) == maestro.KindNotFound {
		return res, false, nil
	}
	if err != nil {
		return res, false, err
	}
	mb, selected := m.Branch(b.Branch)
	if !selected {
		return res, false, nil
	}
	head, err := hosts.MirrorTargetHead(ctx, m.SourceRepository, m.TargetRepository, mb.Mode.TargetBranch(b.Branch))
	if err != nil && maestro.KindOf(err) != maestro.KindNotFound {
		return res, false, fmt.Errorf("mirror of build %d: read %s: %w", b.ID, m.TargetRepository, err)
	}
	if head != "" && head == b.Commit {
		return res, false, nil
	}
	q, err := hosts.MirrorQueue()
	if err != nil {
		return res, false, fmt.Errorf("mirror of build %d: %w", b.ID, err)
	}
	res, err = mirror.Trigger{Runs: s.Registry, Queue: q, Now: s.Now}.Trigger(ctx, m, b.Branch, b.Commit)
	return res, err == nil, err
}
