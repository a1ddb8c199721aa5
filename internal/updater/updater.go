// Package updater applies a subscription's update to its target repository:
// it clones the target, edits the dependency files with internal/deps, commits
// in the production bot's style, pushes a branch and opens or updates the
// pull request, following the rules for pull requests that are already open.
// Every attempt leaves a flow outcome in the registry.
package updater

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/flow"
	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/prbody"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// Updater applies updates.
type Updater struct {
	Registry *registry.Registry
	// Platform returns the git host of a repository.
	Platform func(repo string) (platform.Platform, error)
	Now      func() time.Time
	// NewID makes the unique part of a new pull request branch.
	NewID func() string
	// BotEmail is the author email of the bot's commits; a pull request
	// branch with commits by anyone else is never pushed to.
	BotEmail string
	// BodyLimit, when set, is how the host of a repository limits pull
	// request bodies (GitHub: 65,536 characters; Azure Repos: 4,000); a
	// longer body is cut and links the full list of changes (prbody.Truncate).
	// The zero Limit means no limit.
	BodyLimit func(repo string) prbody.Limit
	// Queue hands an update to the target's update pipeline (Subscription.UpdatePipeline).
	Queue func(ctx context.Context, up maestro.UpdatePipeline, subscriptionID string, buildID int) (url string, err error)
	// LockWait is how long an update waits while another update of the same
	// pull request runs (registry.LockTracked); zero means DefaultLockWait.
	LockWait time.Duration
	// Retry, when set, decides whether an attempt that failed with err is
	// tried again later: it returns the message to record and true, and the
	// attempt is recorded as rescheduled (no error returned); false records a
	// failure. The flow service keeps the pending work.
	Retry func(err error) (message string, ok bool)
}

// ErrRace is returned (wrapped) to Retry, and by Apply when nobody retries,
// when another writer won a race with this update: the pull request branch
// moved under the leased push, the tracked record changed under its
// compare-and-swap, the lock was lost, or another update held the lock for
// longer than LockWait. Nothing of this update was pushed, or what was
// pushed is recorded; the update is worth another attempt, which starts
// from the branch's new head and the record's new version.
var ErrRace = errors.New("another update of this pull request won a race")

// raced marks err as a lost race (ErrRace) when it is a conflict of the
// tracked record or its lock (the registry's KindConflict).
func raced(err error) error {
	if err != nil && maestro.KindOf(err) == maestro.KindConflict && !errors.Is(err, ErrRace) {
		return raceError{err}
	}
	return err
}

// raceError is a lost race: errors.Is(ErrRace) and the cause's message.
type raceError struct{ err error }

func (e raceError) Error() string   { return e.err.Error() }
func (e raceError) Unwrap() []error { return []error{ErrRace, e.err} }

// failed is the outcome of an attempt that ended in err: rescheduled when
// Retry takes it (err consumed), a failure otherwise — or a conflict when
// the attempt lost a race that nobody retries (its message says why).
func (u *Updater) failed(err error) (maestro.FlowOutcome, error) {
	if u.Retry != nil {
		if msg, ok := u.Retry(err); ok {
			return maestro.FlowOutcome{Result: maestro.ResultRescheduled, Message: msg}, nil
		}
	}
	if errors.Is(err, ErrRace) {
		return maestro.FlowOutcome{Result: maestro.ResultConflict, Message: err.Error()}, nil
	}
	return maestro.FlowOutcome{Result: maestro.ResultFailure, Message: err.Error()}, err
}

// DefaultLockWait is how long an update waits for another update of the
// same pull request to finish.
const DefaultLockWait = 10 * time.Minute

// Flow flows a build through a subscription the way the subscription asks:
// it queues the subscription's update pipeline when it has one (outcome
// "queued"; the pipeline then runs `maestro subscription apply`), and applies
// the update itself otherwise.
func (u *Updater) Flow(ctx context.Context, subID string, buildID int) (maestro.FlowOutcome, error) {
	s, err := u.Registry.Subscription(ctx, subID)
	if err != nil {
		return maestro.FlowOutcome{}, err
	}
	if s.UpdatePipeline == nil {
		return u.Apply(ctx, subID, buildID)
	}
	if u.Queue == nil {
		return maestro.FlowOutcome{}, maestro.Errorf(maestro.KindInvalid, "subscription %s has an update pipeline, but no Azure DevOps token is set (MAESTRO_AZDO_TOKEN or SYSTEM_ACCESSTOKEN)", s.ID)
	}
	o := maestro.FlowOutcome{Result: maestro.ResultQueued}
	url, err := u.Queue(ctx, *s.UpdatePipeline, s.ID, buildID)
	if err != nil {
		o, err = u.failed(err)
	} else {
		o.Message = "queued the update pipeline " + url
	}
	o.SubscriptionID, o.BuildID, o.Time = s.ID, buildID, u.Now().UTC()
	if _, rerr := u.Registry.RecordOutcome(ctx, o); rerr != nil {
		return o, errors.Join(err, rerr)
	}
	return o, err
}

// Apply flows build buildID through subscription subID and records the outcome.
func (u *Updater) Apply(ctx context.Context, subID string, buildID int) (maestro.FlowOutcome, error) {
	return u.applyBuild(ctx, subID, buildID, nil)
}

// Speculative says which speculative pull request an update goes to.
type Speculative struct {
	// Key is the pull request's tracking key (registry.SpeculativeKey).
	Key  string
	Mark maestro.SpeculativeMark
	// adopted: a mainline build of the subscription's own flow, going to
	// the open speculative pull request that moved (movedPullRequest).
	adopted bool
}

// ApplySpeculative flows build buildID (a speculative build of the parent
// pull request, or once the parent merged and spec.Mark.Moved, the
// mainline build of the merged commit) through subscription subID into
// the speculative pull request tracked under spec.Key, and records the
// outcome. The pull request is opened, or updated in place, like every
// dependency pull request; its title starts with [speculative] and its
// body names the chain until it moved. It never sets the subscription's
// lastAppliedBuildId. A speculative pull request that ended (merged or
// closed) is not reopened: the outcome says so.
func (u *Updater) ApplySpeculative(ctx context.Context, subID string, buildID int, spec Speculative) (maestro.FlowOutcome, error) {
	if !registry.IsSpeculativeKey(spec.Key) {
		return maestro.FlowOutcome{}, maestro.Errorf(maestro.KindInvalid, "speculative update of subscription %s: %q is not a speculative tracking key", subID, spec.Key)
	}
	return u.applyBuild(ctx, subID, buildID, &spec)
}

// build reads build id, speculative or not.
func (u *Updater) build(ctx context.Context, id int) (maestro.Build, error) {
	if !registry.IsSpeculativeID(id) {
		return u.Registry.Build(ctx, id)
	}
	spec, err := u.Registry.Speculative(ctx)
	if err != nil {
		return maestro.Build{}, err
	}
	return spec.Build(ctx, id)
}

func (u *Updater) applyBuild(ctx context.Context, subID string, buildID int, spec *Speculative) (maestro.FlowOutcome, error) {
	s, err := u.Registry.Subscription(ctx, subID)
	if err != nil {
		return maestro.FlowOutcome{}, err
	}
	if registry.IsSpeculativeID(buildID) && spec == nil {
		return maestro.FlowOutcome{}, maestro.Errorf(maestro.KindInvalid, "build %d is speculative: it flows only into speculative pull requests of subscriptions that opt in (`subscription update --speculative`)", buildID)
	}
	b, err := u.build(ctx, buildID)
	if err != nil {
		return maestro.FlowOutcome{}, err
	}
	if !repourl.SameRepository(s.SourceRepository, b.Repository) {
		return maestro.FlowOutcome{}, maestro.Errorf(maestro.KindInvalid, "subscription %s takes builds of %s; build %d is of %s", s.ID, s.SourceRepository, b.ID, b.Repository)
	}
	if spec == nil && s.Speculative {
		if spec, err = u.movedPullRequest(ctx, s); err != nil {
			return maestro.FlowOutcome{}, err
		}
	}
	var done pushed
	o, err := u.apply(ctx, s, b, &done, spec)
	if err != nil {
		url := o.PullRequestURL
		o, err = u.failed(err)
		o.PullRequestURL = cmp.Or(o.PullRequestURL, url)
	}
	if spec != nil && spec.adopted && err == nil && o.Result == maestro.ResultUpdated {
		// The moved pull request carries b now: its document says so
		// (`speculative status`). Only a report: a crash before this write
		// leaves the earlier build named until the next update.
		_, err = u.Registry.UpdateSpeculativePullRequest(ctx, s.ID, spec.Key, func(sp *maestro.SpeculativePullRequest, exists bool) error {
			if !exists || sp.MainlineBuildID >= b.ID {
				return registry.ErrUnchanged
			}
			sp.MainlineBuildID = b.ID
			return nil
		})
	}
	o.SubscriptionID, o.BuildID = s.ID, b.ID
	if o.Time.IsZero() {
		o.Time = u.Now().UTC()
	}
	if _, rerr := u.Registry.RecordOutcome(ctx, o); rerr != nil {
		return o, errors.Join(err, rerr)
	}
	// A host with CI of its own (the local platform's check command) checks
	// the pushed head now, after the pull request's lock is released: the
	// update is done and recorded whatever the check finds.
	if cc, ok := done.p.(platform.CommitChecker); ok && err == nil {
		if cerr := cc.RunChecks(ctx, done.pr, done.head); cerr != nil {
			return o, fmt.Errorf("pull request #%d was updated, but its check command could not be run: %w", done.pr.Number, cerr)
		}
	}
	return o, err
}

// TrackKey is the key under which the flow tracks the pull request of s in
// its target branch (registry.TrackedPullRequest): BatchedKey for a
// batchable subscription, which shares it, else the subscription's id.
func TrackKey(s maestro.Subscription) string {
	if s.Policy.Batchable {
		return registry.BatchedKey
	}
	return s.ID
}

// pushed is the pull request and head commit an update pushed.
type pushed struct {
	p    platform.Platform
	pr   maestro.PullRequest
	head string
}

func (u *Updater) apply(ctx context.Context, s maestro.Subscription, b maestro.Build, done *pushed, spec *Speculative) (maestro.FlowOutcome, error) {
	p, err := u.Platform(s.TargetRepository)
	if err != nil {
		return maestro.FlowOutcome{}, err
	}
	// One update of a pull request at a time: the record is read, the
	// branch pushed and the record written under one lock, so concurrent
	// updates of a batched pull request queue up instead of opening two pull
	// requests or dropping each other's part. The record's version (ETag) and
	// the leased push still guard every write should the lock be lost.
	key := TrackKey(s)
	if spec != nil {
		key = spec.Key
	}
	wait := u.LockWait
	if wait == 0 {
		wait = DefaultLockWait
	}
	ctx, lock, err := u.Registry.LockTracked(ctx, s.TargetRepository, s.TargetBranch, key, wait)
	if err != nil {
		return maestro.FlowOutcome{}, raced(err)
	}
	defer lock.Unlock()
	tracked, version, err := u.Registry.TrackedPullRequest(ctx, s.TargetRepository, s.TargetBranch, key)
	if err != nil {
		return maestro.FlowOutcome{}, err
	}
	if spec != nil && spec.adopted {
		// The moved pull request must still be open: had it ended since it
		// was chosen, the build goes to a pull request of the
		// subscription's own, at the next attempt.
		open := tracked != nil && tracked.PullRequest.Number != 0
		if open {
			pr, err := p.PullRequest(ctx, s.TargetRepository, tracked.PullRequest.Number)
			if err != nil {
				return maestro.FlowOutcome{}, err
			}
			open = pr.State == maestro.PullRequestOpen
		}
		if !open {
			return maestro.FlowOutcome{}, raceError{fmt.Errorf("the moved speculative pull request of %s@%s ended while this update started; the update is tried again", s.TargetRepository, s.TargetBranch)}
		}
	}
	if tracked != nil {
		o, done, err := u.existing(ctx, p, s, key, tracked, version, spec != nil)
		if err != nil || done {
			return o, err
		}
		// existing may have stopped tracking a merged or closed pull request.
		if tracked, version, err = u.Registry.TrackedPullRequest(ctx, s.TargetRepository, s.TargetBranch, key); err != nil {
			return o, err
		}
	}

	work, err := os.MkdirTemp("", "maestro-apply-")
	if err != nil {
		return maestro.FlowOutcome{}, err
	}
	defer os.RemoveAll(work)
	url, err := p.CloneURL(s.TargetRepository)
	if err != nil {
		return maestro.FlowOutcome{}, err
	}
	g := p.Git()
	clone := filepath.Join(work, "repo")
	branch := s.TargetBranch
	if tracked != nil {
		branch = tracked.PullRequest.HeadBranch
	}
	if err := g.Clone(ctx, url, clone, branch); err != nil {
		return maestro.FlowOutcome{}, fmt.Errorf("clone %s at %s: %w", s.TargetRepository, branch, err)
	}
	// The head the update builds on; the push succeeds only if the branch
	// is still there (a new branch: only if it does not exist).
	readHead := ""
	if tracked != nil {
		if o, conflict, err := u.foreignCommits(ctx, p, g, clone, tracked); err != nil || conflict {
			return o, err
		}
		if readHead, err = g.RevParse(ctx, clone, "HEAD"); err != nil {
			return maestro.FlowOutcome{}, err
		}
	}

	plan, res, err := u.update(ctx, clone, s, b, false)
	if err != nil {
		return maestro.FlowOutcome{}, err
	}
	// A pull request moved to the mainline build loses its speculative
	// marks even when that build changes no more files.
	unmark := spec != nil && spec.Mark.Moved && tracked != nil && tracked.Speculative != nil && !tracked.Speculative.Moved
	if len(res.Files) == 0 && carried(tracked, s.ID, plan) && !unmark {
		// The open pull request's branch carries the build already; the
		// target branch does not until it merges, so the build is not applied.
		return maestro.FlowOutcome{Result: maestro.ResultNoUpdate, PullRequestURL: tracked.PullRequest.URL,
			Message: fmt.Sprintf("the update is in open pull request #%d, which already carries this build; it reaches %s when that pull request merges", tracked.PullRequest.Number, s.TargetBranch)}, nil
	}
	if len(res.Files) == 0 && spec != nil && tracked == nil {
		return maestro.FlowOutcome{Result: maestro.ResultNoUpdate, Message: noUpdateMessage(plan) + "; no speculative pull request is opened"}, nil
	}
	if len(res.Files) == 0 && spec != nil && !unmark {
		return maestro.FlowOutcome{Result: maestro.ResultNoUpdate, PullRequestURL: tracked.PullRequest.URL, Message: noUpdateMessage(plan)}, nil
	}
	if len(res.Files) == 0 && spec == nil {
		if _, err := u.Registry.UpdateSubscription(ctx, s.ID, func(cur *maestro.Subscription) error {
			cur.LastAppliedBuildID = max(cur.LastAppliedBuildID, b.ID)
			return nil
		}); err != nil {
			return maestro.FlowOutcome{}, err
		}
		return maestro.FlowOutcome{Result: maestro.ResultNoUpdate, Message: noUpdateMessage(plan)}, nil
	}

	if tracked == nil {
		if err := u.reserve(ctx, s, key); err != nil {
			return maestro.FlowOutcome{}, err
		}
		branch = fmt.Sprintf("darc-%s-%s", s.TargetBranch, u.NewID())
		if spec != nil {
			branch = fmt.Sprintf("darc-speculative-%s-%s", s.TargetBranch, u.NewID())
		}
		if err := g.CheckoutNew(ctx, clone, branch); err != nil {
			return maestro.FlowOutcome{}, err
		}
	}
	if len(res.Files) > 0 {
		if _, err := g.CommitAll(ctx, clone, prbody.CommitMessage(b, res.Changed)); err != nil {
			return maestro.FlowOutcome{}, err
		}
	}
	head, err := g.RevParse(ctx, clone, "HEAD")
	if err != nil {
		return maestro.FlowOutcome{}, err
	}
	// Nothing leaves this process unless it still holds the lock and the
	// record is still the one it read: a push made without them could land
	// a commit that no record (and no merge) ever accounts for.
	if err := lock.Held(ctx); err != nil {
		return maestro.FlowOutcome{}, raced(err)
	}
	if _, now, err := u.Registry.TrackedPullRequest(ctx, s.TargetRepository, s.TargetBranch, key); err != nil {
		return maestro.FlowOutcome{}, err
	} else if now != version {
		return maestro.FlowOutcome{}, raceError{fmt.Errorf("the tracked pull request of %s@%s changed while this update prepared its commit (another update wrote it); nothing was pushed, and the update is tried again from the new record", s.TargetRepository, s.TargetBranch)}
	}
	t := maestro.TrackedPullRequest{}
	if tracked == nil {
		// The branch is claimed (a record without a number) before it is
		// pushed and the pull request opens: should this process die after
		// the claim, the next update finds the record and adopts the pull
		// request or, when none opened, deletes the branch (if it was pushed)
		// and starts over (existing). A claim that loses its create-only
		// write pushed nothing.
		t.PullRequest = maestro.PullRequest{Repository: s.TargetRepository, HeadBranch: branch, BaseBranch: s.TargetBranch}
		t.HeadCommit = head
		if spec != nil {
			t.Speculative = &spec.Mark
		}
		if version, err = u.Registry.Track(ctx, s.TargetRepository, s.TargetBranch, key, t, ""); err != nil {
			return maestro.FlowOutcome{}, raced(err)
		}
	}
	if am, ok := p.(platform.AutoMerger); ok && tracked != nil {
		// Neither host turns its auto-merge off when the bot pushes, so a
		// head the merge policies judged would hand the new, unjudged one
		// to the host, which merges it once its own checks pass. The next
		// evaluation turns it on again if the new head passes (pr check
		// turns it on under this lock, so it cannot come back in between).
		if err := am.DisableAutoMerge(ctx, tracked.PullRequest); err != nil {
			return maestro.FlowOutcome{}, fmt.Errorf("turn off the host's auto-merge of pull request #%d before pushing a new head to it (nothing was pushed; the update is tried again): %w", tracked.PullRequest.Number, err)
		}
	}
	if head == readHead {
		// Nothing to push (a moved pull request losing its marks only).
	} else if err := g.PushLeased(ctx, clone, "origin", "HEAD", branch, readHead); err != nil {
		if tracked == nil {
			// Nothing was pushed: give the claim up (should that fail, the
			// next update repairs it like one whose process died).
			err = errors.Join(err, u.Registry.Untrack(ctx, s.TargetRepository, s.TargetBranch, key, version))
		}
		if errors.Is(err, git.ErrStale) {
			return u.lostRace(ctx, p, tracked, branch, err)
		}
		return maestro.FlowOutcome{}, fmt.Errorf("push %s to %s: %w", branch, s.TargetRepository, err)
	}

	section := prbody.Section{SubscriptionID: s.ID, Build: b, Changes: res.Changed}
	var pr maestro.PullRequest
	if tracked != nil {
		t = *tracked
		pr, err = p.PullRequest(ctx, s.TargetRepository, tracked.PullRequest.Number)
		if err != nil {
			return maestro.FlowOutcome{}, err
		}
	}
	var prevMoved []maestro.DependencyUpdate
	t.Updates = slices.DeleteFunc(t.Updates, func(x maestro.SubscriptionUpdate) bool {
		if x.SubscriptionID == s.ID {
			prevMoved = x.Dependencies
		}
		return x.SubscriptionID == s.ID
	})
	moved := movedDependencies(prevMoved, res.Changed)
	t.Updates = append(t.Updates, maestro.SubscriptionUpdate{SubscriptionID: s.ID, BuildID: b.ID, SourceRepository: b.Repository, Dependencies: moved})
	var sources []string
	for _, x := range t.Updates {
		sources = append(sources, x.SourceRepository)
	}
	pr.Title = prbody.Title(s.TargetBranch, sources)
	body := prbody.Merge(pr.Body, section)
	if spec != nil {
		mark := spec.Mark
		t.Speculative = &mark
		body = prbody.WithSpeculative(body, &mark)
		if !mark.Moved {
			pr.Title = prbody.SpeculativeTitle(pr.Title)
		}
	}
	pr.Body = u.limit(s.TargetRepository, body, s.TargetBranch, branch)
	t.HeadCommit = head
	if tracked == nil {
		pr.Repository, pr.HeadBranch, pr.BaseBranch = s.TargetRepository, branch, s.TargetBranch
		pr, err = p.CreatePullRequest(ctx, pr)
	} else {
		err = p.UpdatePullRequest(ctx, pr)
	}
	if err != nil {
		return maestro.FlowOutcome{}, err
	}
	if l, ok := p.(platform.Labeler); ok && spec != nil {
		if err := l.SetLabel(ctx, pr, prbody.SpeculativeLabel, !spec.Mark.Moved); err != nil {
			return maestro.FlowOutcome{PullRequestURL: pr.URL}, fmt.Errorf("label pull request #%d %s: %w", pr.Number, prbody.SpeculativeLabel, err)
		}
	}
	t.PullRequest = pr
	if err := u.record(ctx, s, key, t, version, tracked); err != nil {
		return maestro.FlowOutcome{PullRequestURL: pr.URL}, raced(err)
	}
	*done = pushed{p: p, pr: pr, head: head}
	verb := "opened"
	if tracked != nil {
		verb = "updated"
	}
	return maestro.FlowOutcome{Result: maestro.ResultUpdated, PullRequestURL: pr.URL,
		Message: fmt.Sprintf("%s pull request #%d: %d dependencies", verb, pr.Number, len(res.Changed))}, nil
}

// update edits the dependency files of s's target in the checkout clone
// (in its TargetDirectory) for build b: the plan of which dependencies the
// build moves, then the update with the coherency pass. A dry run computes
// the result and writes nothing.
func (u *Updater) update(ctx context.Context, clone string, s maestro.Subscription, b maestro.Build, dryRun bool) (flow.Plan, *deps.Result, error) {
	dir := clone
	if s.TargetDirectory != "" {
		dir = filepath.Join(clone, filepath.FromSlash(s.TargetDirectory))
	}
	return UpdateDir(ctx, u.Registry, dir, s, b, dryRun)
}

// UpdateDir writes the update that flowing build b through subscription s
// makes into the dependency files of the repository checked out at dir
// (flow.PlanUpdate, then deps.ApplyUpdateFile with coherency looked up in
// reg); with dryRun it writes nothing. Every update of a subscription goes
// through it, and so does `maestro speculative build`, which applies the
// builds made upstream in a product build with it.
func UpdateDir(ctx context.Context, reg *registry.Registry, dir string, s maestro.Subscription, b maestro.Build, dryRun bool) (flow.Plan, *deps.Result, error) {
	listing, err := deps.List(dir)
	if err != nil {
		return flow.Plan{}, nil, err
	}
	plan := flow.PlanUpdate(b, s, listing)
	res, err := deps.ApplyUpdateFile(ctx, dir, plan.Update, deps.Options{DryRun: dryRun, Coherency: registry.Lookup{Reg: reg}})
	if err != nil {
		return flow.Plan{}, nil, err
	}
	return plan, res, nil
}

// Preview is what flowing a build through a subscription would change in
// the target branch now.
type Preview struct {
	// Plan is the fate of each of the build's assets among the target's dependencies.
	Plan flow.Plan
	// Changed are the dependencies the update would move (coherency included).
	Changed []deps.Change
	// Files are the files it would change, slash-separated from the repository root.
	Files []string
	// Warnings are what the update would warn about.
	Warnings []string
}

// Preview is a dry run of Apply's update of s's target branch with build b:
// it clones the target branch into a temporary folder, reads its real
// dependency files and runs the same update Apply runs, writing nothing —
// no file outside the temporary clone, no push, no pull request, no
// outcome. s need not be in the registry (a subscription being planned);
// the target branch is read as it is, without an open pull request's
// branch, which an update of that pull request would start from.
func (u *Updater) Preview(ctx context.Context, s maestro.Subscription, b maestro.Build) (Preview, error) {
	p, err := u.Platform(s.TargetRepository)
	if err != nil {
		return Preview{}, err
	}
	url, err := p.CloneURL(s.TargetRepository)
	if err != nil {
		return Preview{}, err
	}
	work, err := os.MkdirTemp("", "maestro-preview-")
	if err != nil {
		return Preview{}, err
	}
	defer os.RemoveAll(work)
	clone := filepath.Join(work, "repo")
	if err := p.Git().Clone(ctx, url, clone, s.TargetBranch); err != nil {
		return Preview{}, fmt.Errorf("clone %s at %s: %w", s.TargetRepository, s.TargetBranch, err)
	}
	plan, res, err := u.update(ctx, clone, s, b, true)
	if err != nil {
		return Preview{}, fmt.Errorf("update %s@%s with build %d (dry run): %w", s.TargetRepository, s.TargetBranch, b.ID, err)
	}
	pv := Preview{Plan: plan, Changed: res.Changed, Files: make([]string, 0, len(res.Files)), Warnings: res.Warnings}
	for _, f := range res.Files {
		pv.Files = append(pv.Files, f.Path)
	}
	return pv, nil
}

// ErrCapped is returned (wrapped, with a *registry.CapError saying which
// cap and until when) when an update would open a pull request that the
// target branch's repository policy caps (MaxOpenPullRequests,
// MaxNewPullRequestsPerHour). Nothing was pushed; the update is worth
// another attempt once the cap frees.
var ErrCapped = errors.New("the repository policy caps new pull requests")

// reserve takes a slot for a new pull request under the caps of the target
// branch's repository policy (none: no caps).
func (u *Updater) reserve(ctx context.Context, s maestro.Subscription, key string) error {
	pol, err := u.Registry.RepositoryPolicy(ctx, s.TargetRepository, s.TargetBranch)
	if maestro.KindOf(err) == maestro.KindNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	err = u.Registry.ReservePullRequest(ctx, pol, s.TargetRepository, s.TargetBranch, key, u.Now())
	var capErr *registry.CapError
	if errors.As(err, &capErr) {
		return fmt.Errorf("%w: %w", ErrCapped, err)
	}
	return err
}

// movedDependencies records what an update of a subscription's part moved,
// for the merge policies: each dependency from the version the target branch
// had (the earlier part's FromVersion, when the pull request already moved
// it) to the version it has now. A dependency the earlier part moved and
// this update did not stays as the earlier part recorded it.
func movedDependencies(prev []maestro.DependencyUpdate, changed []deps.Change) []maestro.DependencyUpdate {
	out := make([]maestro.DependencyUpdate, 0, len(prev)+len(changed))
	at := map[string]int{}
	for _, d := range prev {
		at[strings.ToLower(d.Name)] = len(out)
		out = append(out, d)
	}
	for _, c := range changed {
		if i, ok := at[strings.ToLower(c.Name)]; ok {
			out[i].ToVersion = c.ToVersion
			continue
		}
		at[strings.ToLower(c.Name)] = len(out)
		out = append(out, maestro.DependencyUpdate{Name: c.Name, FromVersion: c.FromVersion, ToVersion: c.ToVersion})
	}
	return out
}

// recordAttempts bounds how often record re-reads a record that keeps changing.
const recordAttempts = 5

// record writes the tracked record t after the push and the pull request
// request succeeded. The commit is on the branch and the pull request's text
// changed by then, so a write that loses its compare-and-swap (another update
// wrote meanwhile, having lost the lock) does not give up: it re-reads the
// record and merges this subscription's part into it, so the part — and the
// LastAppliedBuildID it sets when the pull request merges — is not lost.
// prev is the record the update started from (nil for a new pull request).
func (u *Updater) record(ctx context.Context, s maestro.Subscription, key string, t maestro.TrackedPullRequest, version string, prev *maestro.TrackedPullRequest) error {
	for range recordAttempts {
		_, err := u.Registry.Track(ctx, s.TargetRepository, s.TargetBranch, key, t, version)
		if maestro.KindOf(err) != maestro.KindConflict {
			return err
		}
		cur, curVersion, rerr := u.Registry.TrackedPullRequest(ctx, s.TargetRepository, s.TargetBranch, key)
		if rerr != nil {
			return rerr
		}
		if cur == nil || cur.PullRequest.HeadBranch != t.PullRequest.HeadBranch {
			// The pull request ended and another update stopped tracking
			// it (or replaced it): this part is not in a tracked pull
			// request any more; the retry flows the build afresh.
			return err
		}
		mine := t.Updates[slices.IndexFunc(t.Updates, func(x maestro.SubscriptionUpdate) bool { return x.SubscriptionID == s.ID })]
		merged := *cur
		merged.Updates = append(slices.DeleteFunc(slices.Clone(cur.Updates), func(x maestro.SubscriptionUpdate) bool { return x.SubscriptionID == s.ID }), mine)
		if merged.PullRequest.Number == 0 {
			merged.PullRequest = t.PullRequest
		}
		if prev == nil || cur.HeadCommit == prev.HeadCommit {
			// Nobody pushed after this update: its commit is the head.
			merged.HeadCommit = t.HeadCommit
		}
		t, version = merged, curVersion
	}
	return maestro.Errorf(maestro.KindConflict, "the tracked pull request of %s@%s kept changing while this update recorded its part (%d attempts); the flow service retries the update", s.TargetRepository, s.TargetBranch, recordAttempts)
}

// movedPullRequest returns where a mainline build of speculative
// subscription s goes when the subscription has no pull request of its own
// open (none tracked, or the tracked one closed or merged on the host and
// not untracked yet) and one of its speculative pull requests moved to a mainline build
// and is still open: that pull request is now the subscription's ordinary
// dependency pull request, and is updated in place rather than joined by a
// second one. Nil when there is none (or s is batched: its pull request is
// the branch's).
func (u *Updater) movedPullRequest(ctx context.Context, s maestro.Subscription) (*Speculative, error) {
	if TrackKey(s) != s.ID {
		return nil, nil
	}
	own, _, err := u.Registry.TrackedPullRequest(ctx, s.TargetRepository, s.TargetBranch, s.ID)
	if err != nil || own != nil && own.PullRequest.Number == 0 {
		return nil, err // an own pull request being opened
	}
	docs, err := u.Registry.SpeculativePullRequests(ctx)
	if err != nil {
		return nil, err
	}
	var p platform.Platform
	for _, sp := range docs {
		if sp.SubscriptionID != s.ID || sp.State != maestro.SpeculativeMoved || sp.Number == 0 {
			continue
		}
		t, _, err := u.Registry.TrackedPullRequest(ctx, s.TargetRepository, s.TargetBranch, sp.Key)
		if err != nil {
			return nil, err
		}
		if t == nil || t.Speculative == nil || !t.Speculative.Moved || t.PullRequest.Number == 0 {
			continue
		}
		if p == nil {
			if p, err = u.Platform(s.TargetRepository); err != nil {
				return nil, err
			}
		}
		open, err := isOpen(ctx, p, s.TargetRepository, t.PullRequest.Number)
		if err != nil {
			return nil, err
		}
		if !open {
			continue
		}
		if own != nil {
			// The own pull request is tracked, but maybe closed on the
			// host and not untracked yet (a person closed it before a
			// check saw it): only an open one keeps the build.
			if open, err = isOpen(ctx, p, s.TargetRepository, own.PullRequest.Number); err != nil || open {
				return nil, err
			}
		}
		return &Speculative{Key: sp.Key, Mark: *t.Speculative, adopted: true}, nil
	}
	return nil, nil
}

// isOpen reports whether pull request number of repo is open on the host.
func isOpen(ctx context.Context, p platform.Platform, repo string, number int) (bool, error) {
	pr, err := p.PullRequest(ctx, repo, number)
	return err == nil && pr.State == maestro.PullRequestOpen, err
}

// existing applies the rules for a tracked pull request. done means the
// attempt ends here with o; otherwise the update goes on (to the same
// branch while the pull request is open, to a new one after it ended).
//
// A speculative pull request (speculative) that ended is not replaced: the
// attempt ends, and the speculative flow records the end.
func (u *Updater) existing(ctx context.Context, p platform.Platform, s maestro.Subscription, key string, t *maestro.TrackedPullRequest, version string, speculative bool) (o maestro.FlowOutcome, done bool, err error) {
	if t.PullRequest.Number == 0 {
		// An update died between claiming the branch and opening the pull
		// request (or recording its number).
		open, err := p.OpenPullRequest(ctx, s.TargetRepository, t.PullRequest.HeadBranch, s.TargetBranch)
		if err != nil {
			return o, true, err
		}
		if open == nil {
			if err := p.DeleteBranch(ctx, s.TargetRepository, t.PullRequest.HeadBranch); err != nil {
				return o, true, fmt.Errorf("delete branch %s of an unfinished update: %w", t.PullRequest.HeadBranch, err)
			}
			return o, false, raced(u.Registry.Untrack(ctx, s.TargetRepository, s.TargetBranch, key, version))
		}
		t.PullRequest = *open
		if version, err = u.Registry.Track(ctx, s.TargetRepository, s.TargetBranch, key, *t, version); err != nil {
			return o, true, raced(err)
		}
	}
	pr, err := p.PullRequest(ctx, s.TargetRepository, t.PullRequest.Number)
	if errors.Is(err, platform.ErrNotFound) {
		return o, false, raced(u.Registry.Untrack(ctx, s.TargetRepository, s.TargetBranch, key, version))
	}
	if err != nil {
		return o, true, err
	}
	if speculative && pr.State != maestro.PullRequestOpen {
		return maestro.FlowOutcome{Result: maestro.ResultNoUpdate, PullRequestURL: pr.URL,
			Message: fmt.Sprintf("speculative pull request #%d is %s; it is not reopened", pr.Number, pr.State)}, true, nil
	}
	switch pr.State {
	case maestro.PullRequestMerged:
		for _, x := range t.Updates {
			if registry.IsSpeculativeID(x.BuildID) {
				continue // a speculative build is never a subscription's applied build
			}
			if _, err := u.Registry.UpdateSubscription(ctx, x.SubscriptionID, func(cur *maestro.Subscription) error {
				cur.LastAppliedBuildID = max(cur.LastAppliedBuildID, x.BuildID)
				return nil
			}); err != nil && maestro.KindOf(err) != maestro.KindNotFound {
				return o, true, err
			}
		}
		// Finished as a check finishes it (each step idempotent, the record
		// last, so a crash part-way is finished by the next update or
		// check): once untracked, nothing would delete the branch of a pull
		// request the host merged by its auto-merge.
		if err := p.DeleteBranch(ctx, s.TargetRepository, pr.HeadBranch); err != nil {
			return o, true, fmt.Errorf("delete branch %s of merged pull request #%d: %w", pr.HeadBranch, pr.Number, err)
		}
		if err := u.Registry.DeletePolicyEvaluation(ctx, s.TargetRepository, s.TargetBranch, key); err != nil {
			return o, true, err
		}
		return o, false, raced(u.Registry.Untrack(ctx, s.TargetRepository, s.TargetBranch, key, version))
	case maestro.PullRequestClosed:
		if err := u.Registry.Untrack(ctx, s.TargetRepository, s.TargetBranch, key, version); err != nil {
			return o, true, raced(err)
		}
		if err := p.DeleteBranch(ctx, s.TargetRepository, pr.HeadBranch); err != nil {
			return o, true, fmt.Errorf("delete branch %s of closed pull request #%d: %w", pr.HeadBranch, pr.Number, err)
		}
		return o, false, nil
	}
	checks, err := p.Checks(ctx, pr)
	if err != nil {
		return o, true, err
	}
	var pending []string
	for _, c := range checks {
		// Our own policy reports, pending while a policy is, never hold an update back.
		if c.State == platform.CheckPending && !platform.IsPolicyCheck(c.Name) {
			pending = append(pending, c.Name)
		}
	}
	if len(pending) > 0 {
		return maestro.FlowOutcome{Result: maestro.ResultRescheduled, PullRequestURL: pr.URL,
			Message: fmt.Sprintf("pull request #%d still has pending checks (%s); the update waits", pr.Number, strings.Join(pending, ", "))}, true, nil
	}
	return maestro.FlowOutcome{}, false, nil
}

// carried reports whether the open pull request t is why the update changes
// nothing: it carries this subscription's part, and the build's dependencies
// are already at its versions on the pull request's branch (the target
// branch gets them only when the pull request merges).
func carried(t *maestro.TrackedPullRequest, subID string, p flow.Plan) bool {
	if t == nil || !slices.ContainsFunc(t.Updates, func(x maestro.SubscriptionUpdate) bool { return x.SubscriptionID == subID }) {
		return false
	}
	return slices.ContainsFunc(p.Fates, func(f flow.AssetFate) bool { return f.Reason == flow.ReasonCurrent })
}

// lostRace ends an update whose leased push found the branch moved since it
// was cloned: someone pushed to it meanwhile. Nothing was pushed; the pull
// request says why, and the next update starts from the branch's new head
// (where foreignCommits looks at who made the new commits).
func (u *Updater) lostRace(ctx context.Context, p platform.Platform, t *maestro.TrackedPullRequest, branch string, cause error) (maestro.FlowOutcome, error) {
	msg := fmt.Sprintf("Branch %s moved while Maestro++ prepared this dependency update (someone pushed to it at the same time), so the update was not pushed. The next attempt starts from the branch's new head.", branch)
	lost := raceError{fmt.Errorf("%s: %w", msg, cause)}
	if t == nil {
		return maestro.FlowOutcome{}, lost
	}
	if err := p.Comment(ctx, t.PullRequest, msg); err != nil {
		return maestro.FlowOutcome{}, errors.Join(lost, err)
	}
	return maestro.FlowOutcome{PullRequestURL: t.PullRequest.URL}, lost
}

// foreignCommits reports whether the pull request branch has commits that
// the bot did not make since it last pushed; if so it comments on the pull
// request and the update ends as a conflict.
func (u *Updater) foreignCommits(ctx context.Context, p platform.Platform, g git.Runner, clone string, t *maestro.TrackedPullRequest) (maestro.FlowOutcome, bool, error) {
	authors, err := g.Authors(ctx, clone, t.HeadCommit, "HEAD")
	if err != nil {
		return maestro.FlowOutcome{}, false, fmt.Errorf("read the commits of %s: %w", t.PullRequest.HeadBranch, err)
	}
	var others []string
	for _, a := range authors {
		if !strings.EqualFold(a, u.BotEmail) {
			others = append(others, a)
		}
	}
	if len(others) == 0 {
		return maestro.FlowOutcome{}, false, nil
	}
	msg := fmt.Sprintf("This pull request has commits by %s since the last dependency update, so Maestro++ did not push the newer update to it. Merge or close it to let dependency updates continue.", strings.Join(others, ", "))
	if err := p.Comment(ctx, t.PullRequest, msg); err != nil {
		return maestro.FlowOutcome{}, true, err
	}
	return maestro.FlowOutcome{Result: maestro.ResultConflict, PullRequestURL: t.PullRequest.URL, Message: msg}, true, nil
}

// limit fits a pull request body from head into base of repo into its
// host's limit.
func (u *Updater) limit(repo, body, base, head string) string {
	if u.BodyLimit == nil {
		return body
	}
	l := u.BodyLimit(repo)
	if l.Max <= 0 {
		return body
	}
	full := repo // a Limit without FullList links the repository
	if l.FullList != nil {
		full = l.FullList(repo, base, head)
	}
	return prbody.Truncate(body, l, full)
}

func noUpdateMessage(p flow.Plan) string {
	if len(p.Fates) == 0 {
		return "the build produced none of the target's dependencies"
	}
	var parts []string
	for _, f := range p.Fates {
		parts = append(parts, f.Dependency+": "+f.Reason)
	}
	return "nothing to change: " + strings.Join(parts, "; ")
}
