package mirror

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Template parameters (YAML pipelines) and variables (classic definitions)
// a mirror pipeline run is queued with; pipelines/mirror.yml declares them.
const (
	ParamSource = "sourceRepository"
	ParamBranch = "branch"
	ParamTarget = "targetRepository"
	ParamMode   = "mode"
)

// Runs keeps, per mirrored branch, the run last queued for it.
// *registry.Registry implements it.
type Runs interface {
	// MirrorRun returns the record and its ETag; none is the zero record and "".
	MirrorRun(ctx context.Context, source, branch string) (maestro.MirrorQueuedRun, string, error)
	// PutMirrorRun writes run if its record is still at etag ("": none);
	// otherwise it fails wrapping store.ErrPrecondition.
	PutMirrorRun(ctx context.Context, run maestro.MirrorQueuedRun, etag string) (string, error)
}

// Queuer queues mirror pipeline runs and reads their state back (the
// Azure DevOps Pipelines and Builds APIs).
type Queuer interface {
	Queue(ctx context.Context, p maestro.UpdatePipeline, params [][2]string) (id int, url string, err error)
	// Active reports whether run id is queued or running.
	Active(ctx context.Context, p maestro.UpdatePipeline, id int) (bool, error)
}

// ClaimTTL is how long a trigger's claim to queue a run holds off other
// triggers of the branch without a run id: one that died in between is
// taken over after it.
const ClaimTTL = time.Minute

// Trigger queues mirror runs, at most one queued or running per branch.
type Trigger struct {
	Runs  Runs
	Queue Queuer
	Now   func() time.Time
}

// Triggered says what a trigger did.
type Triggered struct {
	// Mode is the mode of the branch pattern that selected the branch; ""
	// when no pattern selects it (nothing was queued).
	Mode maestro.MirrorMode `json:"mode,omitempty"`
	// Queued: a new run was queued; otherwise the trigger coalesced into
	// run RunID (0: one another trigger is queueing right now).
	Queued bool   `json:"queued"`
	RunID  int    `json:"runId,omitempty"`
	URL    string `json:"url,omitempty"`
}

// Trigger asks for branch of mirror m to be mirrored (commit, if known, is
// the head that prompted it, kept for the record): when a run for the
// branch is queued or running, or another trigger is queueing one, the
// request coalesces into it — the run mirrors the branch head when it
// starts; otherwise it queues the mirror pipeline with the source, branch,
// target and mode.
//
// Two triggers at once cannot both queue: the record of the branch is
// claimed first, under the ETag it was read with, and only the claim's
// winner queues; the loser reads the record again and coalesces. The
// winner writes the run id over its claim after queueing. A trigger that
// dies between claim and queue, or between queue and record, leaves a
// claim without a run id, which holds off others for ClaimTTL and is then
// taken over: at worst one extra run, which mirrors nothing new.
func (t Trigger) Trigger(ctx context.Context, m maestro.Mirror, branch, commit string) (Triggered, error) {
	b, ok := m.Branch(branch)
	if !ok {
		return Triggered{}, nil
	}
	res := Triggered{Mode: b.Mode}
	for attempt := 0; attempt < 5; attempt++ {
		rec, etag, err := t.Runs.MirrorRun(ctx, m.SourceRepository, branch)
		if err != nil {
			return res, err
		}
		now := t.Now().UTC()
		switch {
		case rec.RunID != 0:
			active, err := t.Queue.Active(ctx, m.Pipeline, rec.RunID)
			if err != nil {
				return res, fmt.Errorf("mirror %s %s: read the state of run %d: %w", m.SourceRepository, branch, rec.RunID, err)
			}
			if active {
				res.RunID, res.URL = rec.RunID, rec.URL
				return res, nil
			}
		case etag != "" && now.Sub(rec.ClaimedAt) < ClaimTTL:
			return res, nil // another trigger is queueing a run
		}
		claim := maestro.MirrorQueuedRun{SourceRepository: m.SourceRepository, Branch: branch, ClaimedAt: now, Commit: commit}
		claimTag, err := t.Runs.PutMirrorRun(ctx, claim, etag)
		if errors.Is(err, store.ErrPrecondition) {
			continue // someone else moved first: read what they did
		}
		if err != nil {
			return res, err
		}
		id, url, err := t.Queue.Queue(ctx, m.Pipeline, [][2]string{
			{ParamSource, m.SourceRepository}, {ParamBranch, branch}, {ParamTarget, m.TargetRepository}, {ParamMode, string(b.Mode)},
		})
		if err != nil {
			// Let the next trigger queue at once instead of after ClaimTTL.
			claim.ClaimedAt = time.Time{}
			_, _ = t.Runs.PutMirrorRun(ctx, claim, claimTag)
			return res, fmt.Errorf("mirror %s %s: %w", m.SourceRepository, branch, err)
		}
		claim.RunID, claim.URL = id, url
		res.Queued, res.RunID, res.URL = true, id, url
		if _, err := t.Runs.PutMirrorRun(ctx, claim, claimTag); err != nil && !errors.Is(err, store.ErrPrecondition) {
			return res, fmt.Errorf("mirror %s %s: run %d was queued, but not recorded (a trigger within %s may queue another): %w", m.SourceRepository, branch, id, ClaimTTL, err)
		}
		return res, nil
	}
	return res, maestro.Errorf(maestro.KindConflict, "mirror %s %s: the branch's run record kept changing; try again", m.SourceRepository, branch)
}
