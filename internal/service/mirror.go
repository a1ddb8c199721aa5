package service

import (
	"context"
	"fmt"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/mirror"
)

// MirrorHosts is what MirrorBuild needs from the composition root: the
// queue of mirror pipelines, and whether a commit is on a target branch
// (asked of the target with its token, see mirror.Mirror.OnTarget).
type MirrorHosts interface {
	MirrorQueue() (mirror.Queuer, error)
	MirrorOnTarget(ctx context.Context, target, branch, commit string) (bool, error)
}

// MirroredBuild says what MirrorBuild did.
type MirroredBuild struct {
	// Triggered: the mirror was triggered, and Run says how; false when
	// there was nothing to mirror.
	Triggered bool
	Run       mirror.Triggered
	// Unchecked, when set, says why MirrorBuild could not tell whether the
	// commit is on the target; it triggered the mirror anyway (a run that
	// finds the target current changes nothing).
	Unchecked error
}

// MirrorBuild mirrors the branch of a newly published build when its
// repository is mirrored, a branch pattern selects the branch, and the
// build's commit is not on the target branch yet (the branch itself for
// fastForward, internal/{branch} for internalMerge): not its head nor an
// ancestor of its head, or the branch does not exist. It triggers the
// mirror (mirror.Trigger, so it coalesces with a run queued or running).
func (s *Service) MirrorBuild(ctx context.Context, b maestro.Build, hosts MirrorHosts) (res MirroredBuild, err error) {
	m, err := s.Registry.Mirror(ctx, b.Repository)
	if maestro.KindOf(err) == maestro.KindNotFound {
		return res, nil
	}
	if err != nil {
		return res, err
	}
	mb, selected := m.Branch(b.Branch)
	if !selected {
		return res, nil
	}
	if b.Commit != "" {
		branch := mb.Mode.TargetBranch(b.Branch)
		on, err := hosts.MirrorOnTarget(ctx, m.TargetRepository, branch, b.Commit)
		if err != nil {
			res.Unchecked = fmt.Errorf("mirror of build %d: could not tell whether commit %s is on %s of %s, so the mirror is queued anyway: %w",
				b.ID, b.Commit, branch, m.TargetRepository, err)
		}
		if on {
			return res, nil
		}
	}
	q, err := hosts.MirrorQueue()
	if err != nil {
		return res, fmt.Errorf("mirror of build %d: %w", b.ID, err)
	}
	res.Run, err = mirror.Trigger{Runs: s.Registry, Queue: q, Now: s.Now}.Trigger(ctx, m, b.Branch, b.Commit)
	res.Triggered = err == nil
	return res, err
}
