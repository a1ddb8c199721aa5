package legacy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
)

// ClaimTTL is how long a watcher owns a pending action it is queueing;
// after it, another watcher may take the action over (and first looks for
// the build the first one may have queued).
const ClaimTTL = 5 * time.Minute

// maxQueuedHistory is how many queued builds a watch state remembers.
const maxQueuedHistory = 100

// Queuer queues the build of a trigger in Azure DevOps, and finds one an
// earlier attempt queued.
type Queuer interface {
	// Queue queues the build of t carrying marker (as its triggerInfo
	// MarkerKey), which Find matches.
	Queue(ctx context.Context, t Trigger, marker string) (QueuedBuild, error)
	// Find looks for the build of t queued at or after since that carries
	// marker (any build of t when marker is ""), other than the builds skip
	// names (already recorded as queued for other commits).
	Find(ctx context.Context, t Trigger, marker string, since time.Time, skip []int) (QueuedBuild, bool, error)
}

// MarkerKey is the triggerInfo entry of a build a watcher queues: the
// marker of the pending action (Claim.Marker), so the retry of an attempt
// whose result is unknown takes only that action's build, never one queued
// for another action with the same definition, branch and parameters.
const MarkerKey = "maestro.legacyWatch.action"

// QueuedBuild is a build an action queued.
type QueuedBuild struct {
	ID  int    `json:"id"`
	URL string `json:"url,omitempty"`
}

// Watcher processes the commits of one branch of a versions repository
// against a subscriptions file: each new commit is matched once, and the
// actions it triggers are kept as pending work in the store until they are
// due, then queued once.
// `maestro serve`'s POST /CommitPushed feeds the same state with delivered
// pushes instead of polling (TakePush, then QueueDue); such a Watcher needs
// no Git, Repo or WorkDir.
//
// All of a watch's state is one document, legacy/watch/{id}.json ({id}: 32
// hex digits of the SHA-256 of the GitHub repository and branch), changed
// only by compare-and-swap under its ETag:
//
//   - taking new commits — setting lastCommit to the new head and adding
//     their actions to pending (coalesced with a pending action of the same
//     subscription handler that no attempt has sent) — is one write, so of
//     two watchers exactly one takes a commit, and a crash before the write
//     leaves the commits for the next poll;
//   - queueing a due action is three writes: claim it (owner, until now +
//     ClaimTTL), queue the build (the requests are given up after half the
//     ClaimTTL), then remove it and record the build. A
//     watcher that dies after the claim leaves the action claimed; after
//     the claim lapses another watcher takes it over and first asks Azure
//     DevOps for the build carrying the action's marker (its triggerInfo
//     MarkerKey, fixed by the first claim) queued since the first claim, so
//     a build queued just before the crash is recorded, not queued again,
//     and a build queued for another action (for other commits, with the
//     same parameters when they do not name the commits) is never taken for
//     it.
type Watcher struct {
	Store      store.Store
	Git        git.Runner
	File       *File
	Repo       string // path or URL git fetches from
	GitHubRepo string // OWNER/REPO, for the trigger URLs
	Branch     string
	WorkDir    string // a git repository the watcher fetches into
	Queuer     Queuer
	Now        func() time.Time
	NewID      func() string
	// Since, for the first poll of a branch, is the commit after which
	// commits are processed; "" starts at the branch's current head.
	Since string
	// ClaimTTL is how long this watcher owns an action it queues (0:
	// ClaimTTL).
	ClaimTTL time.Duration
	// FetchTimeout bounds one fetch of the branch (0: DefaultFetchTimeout):
	// a server that never answers fails the poll, and the next one tries
	// again.
	FetchTimeout time.Duration
}

// DefaultFetchTimeout is how long a poll waits for its fetch: long enough
// for the first fetch of a large versions repository.
const DefaultFetchTimeout = 30 * time.Minute

// WatchState is the stored state of one watched branch.
type WatchState struct {
	Repository string          `json:"repository"` // OWNER/REPO
	Branch     string          `json:"branch"`
	LastCommit string          `json:"lastCommit"`
	Pending    []PendingAction `json:"pending"`
	Queued     []QueuedAction  `json:"queued"` // the last ones, newest last
	// Deliveries are the ids of the last push deliveries taken (TakePush),
	// oldest first.
	Deliveries []string `json:"deliveries,omitempty"`
}

// PendingAction is a triggered action waiting for its delay or being queued.
type PendingAction struct {
	Trigger Trigger   `json:"trigger"`
	Due     time.Time `json:"due"`
	Claim   *Claim    `json:"claim,omitempty"`
	// Attempts counts failed queue attempts; the next is due 1, 2, 4, ...
	// minutes (at most 30) later.
	Attempts  int    `json:"attempts,omitempty"`
	LastError string `json:"lastError,omitempty"`
}

// Claim marks a pending action a watcher is queueing.
type Claim struct {
	Owner string    `json:"owner"`
	Since time.Time `json:"since"` // when the first claim of this action was taken
	Until time.Time `json:"until"`
	// Marker, fixed by the first claim, is carried by every build an
	// attempt queues for this action (triggerInfo MarkerKey). "" in a
	// claim taken before markers existed: the retry then takes any build
	// with the action's parameters.
	Marker string `json:"marker,omitempty"`
}

// QueuedAction is a build a pending action queued.
type QueuedAction struct {
	Subscription int         `json:"subscription"`
	Action       string      `json:"action"`
	Commits      []string    `json:"commits"`
	Build        QueuedBuild `json:"build"`
	At           time.Time   `json:"at"`
	// Found is set when the build was found queued by an earlier attempt
	// that died before recording it.
	Found bool `json:"found,omitempty"`
}

// PollReport is what one poll did.
type PollReport struct {
	Head      string         // the branch's head
	Processed int            // new commits matched
	Triggered []Trigger      // actions they triggered (before coalescing)
	Queued    []QueuedAction // builds queued (or found queued)
	Waiting   int            // pending actions not yet due
	Errors    []error        // queue failures, kept as pending work
	NextDue   time.Time      // QueueDue: when the first pending action left is due
}

// StateKey is the store key of the watch state of repo (OWNER/REPO) and branch.
func StateKey(repo, branch string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(repo) + "\x00" + branch))
	return "legacy/watch/" + hex.EncodeToString(sum[:16]) + ".json"
}

// State reads the watch state, or nil when the branch was never polled.
func (w *Watcher) State(ctx context.Context) (*WatchState, string, error) {
	data, etag, err := w.Store.Get(ctx, StateKey(w.GitHubRepo, w.Branch))
	if errors.Is(err, store.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read the watch state: %w", err)
	}
	var st WatchState
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, "", fmt.Errorf("watch state %s: %w; delete it to start again from the branch's head", StateKey(w.GitHubRepo, w.Branch), err)
	}
	return &st, etag, nil
}

func (w *Watcher) put(ctx context.Context, st *WatchState, etag string) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	cond := store.Condition{IfMatch: etag, CreateOnly: etag == ""}
	_, err = w.Store.Put(ctx, StateKey(w.GitHubRepo, w.Branch), data, cond)
	return err
}

// maxCAS bounds the compare-and-swap retries of one step.
const maxCAS = 50

// Poll fetches the branch, takes the commits since the last processed one
// and queues the pending actions that are due.
func (w *Watcher) Poll(ctx context.Context) (PollReport, error) {
	var rep PollReport
	ref := "refs/heads/" + w.Branch
	timeout := w.FetchTimeout
	if timeout <= 0 {
		timeout = DefaultFetchTimeout
	}
	fctx, cancel := context.WithTimeout(ctx, timeout)
	err := w.Git.FetchBranch(fctx, w.WorkDir, w.Repo, w.Branch, ref)
	stalled := errors.Is(fctx.Err(), context.DeadlineExceeded)
	cancel()
	if stalled {
		return rep, maestro.Errorf(maestro.KindUnavailable, "fetch %s of %s: no answer within %s; the next poll tries again", w.Branch, w.Repo, timeout)
	}
	if err != nil {
		return rep, maestro.Errorf(maestro.KindUnavailable, "fetch %s of %s: %w", w.Branch, w.Repo, err)
	}
	head, err := w.Git.RevParse(ctx, w.WorkDir, ref)
	if err != nil {
		return rep, fmt.Errorf("fetch %s of %s: %w", w.Branch, w.Repo, err)
	}
	rep.Head = head
	if err := w.take(ctx, head, &rep); err != nil {
		return rep, err
	}
	if err := w.queueDue(ctx, &rep); err != nil {
		return rep, err
	}
	return rep, nil
}

// take records the commits up to head and their actions (one write).
func (w *Watcher) take(ctx context.Context, head string, rep *PollReport) error {
	for range maxCAS {
		st, etag, err := w.State(ctx)
		if err != nil {
			return err
		}
		if st == nil {
			st = &WatchState{Repository: w.GitHubRepo, Branch: w.Branch, LastCommit: head}
			if w.Since != "" {
				since, err := w.Git.RevParse(ctx, w.WorkDir, w.Since)
				if err != nil {
					return maestro.Errorf(maestro.KindInvalid, "--since %s: not a commit of %s %s", w.Since, w.Repo, w.Branch)
				}
				st.LastCommit = since
			}
			if st.LastCommit == head {
				if err := w.put(ctx, st, ""); errors.Is(err, store.ErrPrecondition) {
					continue
				} else if err != nil {
					return fmt.Errorf("write the watch state: %w", err)
				}
				return nil
			}
		}
		if st.LastCommit == head {
			return nil
		}
		ok := false
		if _, err := w.Git.RevParse(ctx, w.WorkDir, st.LastCommit); err == nil {
			if ok, err = w.Git.IsAncestor(ctx, w.WorkDir, st.LastCommit, head); err != nil {
				return fmt.Errorf("read the history of %s: %w", w.Branch, err)
			}
		}
		if !ok {
			return maestro.Errorf(maestro.KindConflict, "the last processed commit %s is not in the history of %s %s (was it force-pushed?); delete the watch state %s to start again from the head",
				st.LastCommit, w.Repo, w.Branch, StateKey(w.GitHubRepo, w.Branch))
		}
		changed, err := w.Git.ChangedFiles(ctx, w.WorkDir, st.LastCommit, head)
		if err != nil {
			return fmt.Errorf("read the commits of %s: %w", w.Branch, err)
		}
		push := Push{Repository: w.GitHubRepo, Ref: "refs/heads/" + w.Branch}
		for _, c := range changed {
			push.Commits = append(push.Commits, Commit{ID: c.SHA, Paths: c.Paths})
		}
		triggers := w.File.Match(push)
		st.addPending(triggers, w.Now())
		st.LastCommit = head
		err = w.put(ctx, st, etag)
		if errors.Is(err, store.ErrPrecondition) {
			continue // another watcher took commits; read again
		}
		if err != nil {
			return fmt.Errorf("write the watch state: %w", err)
		}
		rep.Processed, rep.Triggered = len(changed), triggers
		return nil
	}
	return maestro.Errorf(maestro.KindConflict, "the watch state %s kept changing under %d attempts; run again", StateKey(w.GitHubRepo, w.Branch), maxCAS)
}

// queueDue queues every due pending action that nobody is queueing.
func (w *Watcher) queueDue(ctx context.Context, rep *PollReport) error {
	owner := w.NewID()
	for {
		st, etag, err := w.State(ctx)
		if err != nil || st == nil {
			return err
		}
		now := w.Now()
		idx := -1
		rep.Waiting = 0
		for i, p := range st.Pending {
			if p.Claim != nil && now.Before(p.Claim.Until) {
				continue
			}
			if now.Before(p.Due) {
				rep.Waiting++
				continue
			}
			if idx < 0 {
				idx = i
			}
		}
		if idx < 0 {
			return nil
		}
		p := st.Pending[idx]
		var prev *Claim
		if p.Claim != nil {
			prev = p.Claim
		}
		since, marker := now, owner
		if prev != nil {
			since, marker = prev.Since, prev.Marker
		}
		ttl := w.ClaimTTL
		if ttl <= 0 {
			ttl = ClaimTTL
		}
		st.Pending[idx].Claim = &Claim{Owner: owner, Since: since, Until: now.Add(ttl), Marker: marker}
		if err := w.put(ctx, st, etag); errors.Is(err, store.ErrPrecondition) {
			continue
		} else if err != nil {
			return fmt.Errorf("claim a pending action: %w", err)
		}
		// The requests end well before the claim lapses: a watcher still
		// waiting for Azure DevOps after another took the action over would
		// queue it twice, and one that never hears back would stop for good.
		qctx, cancel := context.WithTimeout(ctx, ttl/2)
		qa := QueuedAction{Subscription: p.Trigger.Subscription, Action: p.Trigger.Action.Name, Commits: p.Trigger.Commits}
		var qerr error
		if prev != nil {
			// An earlier attempt died after its claim or failed: it may
			// have queued. Only a build carrying this action's marker is
			// its build; one another watcher queued for another action of
			// the subscription, not yet recorded, looks the same otherwise
			// when the parameters do not name the commits. (A build the
			// state records is skipped too: it is another action's.)
			var skip []int
			for _, q := range st.Queued {
				skip = append(skip, q.Build.ID)
			}
			b, found, err := w.Queuer.Find(qctx, p.Trigger, marker, prev.Since.Add(-time.Minute), skip)
			if err != nil {
				qerr = err
			} else if found {
				qa.Build, qa.Found = b, true
			}
		}
		if qerr == nil && !qa.Found {
			qa.Build, qerr = w.Queuer.Queue(qctx, p.Trigger, marker)
		}
		cancel()
		qa.At = w.Now()
		if err := w.finish(ctx, owner, qa, qerr); err != nil {
			return err
		}
		if qerr != nil {
			rep.Errors = append(rep.Errors, fmt.Errorf("subscription %d, action %s: %w", p.Trigger.Subscription, p.Trigger.Action.Name, qerr))
		} else {
			rep.Queued = append(rep.Queued, qa)
		}
	}
}

// finish records the result of the claimed action of owner: removed and
// recorded when queued, released with its next attempt when not.
func (w *Watcher) finish(ctx context.Context, owner string, qa QueuedAction, qerr error) error {
	for range maxCAS {
		st, etag, err := w.State(ctx)
		if err != nil {
			return err
		}
		if st == nil {
			return maestro.Errorf(maestro.KindConflict, "the watch state %s was deleted while subscription %d, action %s was being queued (build %d); the next poll starts again from the branch's head",
				StateKey(w.GitHubRepo, w.Branch), qa.Subscription, qa.Action, qa.Build.ID)
		}
		idx := -1
		for i, p := range st.Pending {
			if p.Claim != nil && p.Claim.Owner == owner {
				idx = i
			}
		}
		if idx < 0 {
			return maestro.Errorf(maestro.KindConflict, "a pending action's claim was taken over while it was queued (the queue took longer than the claim timeout)")
		}
		if qerr == nil {
			st.Pending = append(st.Pending[:idx], st.Pending[idx+1:]...)
			st.Queued = append(st.Queued, qa)
			if len(st.Queued) > maxQueuedHistory {
				st.Queued = st.Queued[len(st.Queued)-maxQueuedHistory:]
			}
		} else {
			p := &st.Pending[idx]
			p.Attempts++
			p.LastError = qerr.Error()
			p.Due = w.Now().Add(min(time.Duration(1<<min(p.Attempts-1, 5))*time.Minute, 30*time.Minute))
			// Keep the claim's start: a later taker looks for a build
			// queued since then, in case this failure hid a success.
			p.Claim = &Claim{Owner: "", Since: p.Claim.Since, Until: time.Time{}, Marker: p.Claim.Marker}
		}
		err = w.put(ctx, st, etag)
		if errors.Is(err, store.ErrPrecondition) {
			continue
		}
		if err != nil {
			return fmt.Errorf("record a queued action: %w", err)
		}
		return nil
	}
	return maestro.Errorf(maestro.KindConflict, "the watch state kept changing under %d attempts; run again", maxCAS)
}
