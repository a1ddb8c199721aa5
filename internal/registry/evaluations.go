package registry

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Merge states of a PolicyEvaluation.
const (
	// MergeWaiting: some policy is pending or failing; nothing merges yet.
	MergeWaiting = "waiting"
	// MergeOff: every policy succeeded, and auto-merge is off for the
	// target branch: a person merges.
	MergeOff = "auto-merge-off"
	// MergeNative: every policy succeeded and the host's own auto-merge
	// (GitHub auto-merge, Azure DevOps auto-complete) was turned on for
	// NativeHead; the host merges once its own requirements are met.
	MergeNative = "native"
	// MergeRefused: the host refused the merge (MergeMessage says why); the
	// next evaluation tries again.
	MergeRefused = "refused"
	// MergeNoPolicies: the pull request names no merge policy; a person
	// merges.
	MergeNoPolicies = "no-policies"
)

// PolicyEvaluation is where the merge policy evaluation of one tracked pull
// request stands: what was judged on which head commit and what became of
// merging it. It lives beside the tracked record (same target branch and
// key), in a document of its own, so that evaluating never races the
// updates that write the tracked record; it is written only when it
// changes. When the pull request is checked next is kept apart, for all
// pull requests in one document (CheckSchedule), so that a check that
// changes nothing writes nothing per pull request.
type PolicyEvaluation struct {
	Repository string `json:"repository"`
	Branch     string `json:"branch"`
	Key        string `json:"key"`
	// Number is the pull request judged; a record for another number (the
	// pull request ended and a new one is tracked) is stale.
	Number int `json:"number"`
	// HeadCommit is the head commit judged last.
	HeadCommit string `json:"headCommit"`
	// FirstCheck is when the pull request was first judged.
	FirstCheck time.Time `json:"firstCheck"`
	// Policies are the results on HeadCommit, as reported on the pull request.
	Policies []maestro.PolicyResult `json:"policies,omitempty"`
	// CacheKey is set when the results hold a decisive failure
	// (policy.CacheKey): while the head and the policies give the same key,
	// the results stand without reading files or reporting again.
	CacheKey string `json:"cacheKey,omitempty"`
	// Merge is one of the Merge* states; MergeMessage says more.
	Merge        string `json:"merge,omitempty"`
	MergeMessage string `json:"mergeMessage,omitempty"`
	// MergeAttempts counts refused merges in a row.
	MergeAttempts int `json:"mergeAttempts,omitempty"`
	// NativeHead is the head commit the host's auto-merge was turned on
	// for; RefusedHead the one whose refusal was reported on the pull
	// request (once per head).
	NativeHead  string `json:"nativeHead,omitempty"`
	RefusedHead string `json:"refusedHead,omitempty"`
}

const evaluationPrefix = "flow/evaluations/"

func evaluationKey(repo, branch, key string) string {
	return fmt.Sprintf("%s%s/%s/%s.json", evaluationPrefix, repourl.Key(repo), url.PathEscape(branch), key)
}

// PolicyEvaluation returns the evaluation state kept for key in a target
// branch; ok is false when there is none.
func (r *Registry) PolicyEvaluation(ctx context.Context, repo, branch, key string) (PolicyEvaluation, bool, error) {
	var e PolicyEvaluation
	_, err := getJSON(ctx, r.st, evaluationKey(repo, branch, key), &e)
	if errors.Is(err, store.ErrNotExist) {
		return PolicyEvaluation{}, false, nil
	}
	if err != nil {
		return PolicyEvaluation{}, false, fmt.Errorf("policy evaluation of the pull request of %s@%s: %w", repo, branch, err)
	}
	return e, true, nil
}

// UpdatePolicyEvaluation changes the evaluation state kept for key with
// compare-and-swap: fn sees the current state (exists false: none yet) and
// changes it, and runs again on a newer state if another evaluator wrote
// meanwhile. Returning ErrUnchanged skips the write.
func (r *Registry) UpdatePolicyEvaluation(ctx context.Context, repo, branch, key string, fn func(e *PolicyEvaluation, exists bool) error) (PolicyEvaluation, error) {
	e, err := update(ctx, r.st, evaluationKey(repo, branch, key), func(e *PolicyEvaluation, exists bool) error {
		e.Repository, e.Branch, e.Key = repo, branch, key
		return fn(e, exists)
	})
	if err != nil {
		return e, fmt.Errorf("record the policy evaluation of the pull request of %s@%s: %w", repo, branch, err)
	}
	return e, nil
}

// DeletePolicyEvaluation forgets the evaluation state kept for key (the
// pull request ended); one that is gone already is success.
func (r *Registry) DeletePolicyEvaluation(ctx context.Context, repo, branch, key string) error {
	err := r.st.Delete(ctx, evaluationKey(repo, branch, key), "")
	if err != nil && !errors.Is(err, store.ErrNotExist) {
		return fmt.Errorf("forget the policy evaluation of the pull request of %s@%s: %w", repo, branch, err)
	}
	return nil
}

// TrackedEntry is one tracked pull request with what Track and Untrack
// need: its target branch, its key and the record's version.
type TrackedEntry struct {
	// ID names the pull request's tracking in CheckSchedule.
	ID         string
	Repository string
	Branch     string
	Key        string
	Version    string
	Record     maestro.TrackedPullRequest
	// Evaluation is the record's policy evaluation state (zero when none).
	Evaluation PolicyEvaluation
	// Scheduled is its entry in the check schedule (zero when none).
	Scheduled ScheduledCheck
}

// ScheduledCheck is when a tracked pull request is checked next.
type ScheduledCheck struct {
	// Number is the pull request the entry is for: a new pull request
	// tracked under the same key is due at once.
	Number    int       `json:"number"`
	LastCheck time.Time `json:"lastCheck"`
	NextCheck time.Time `json:"nextCheck"`
}

// CheckSchedule holds the ScheduledCheck of every tracked pull request by
// TrackedEntry.ID, in one document (flow/evaluations/schedule.json).
type CheckSchedule map[string]ScheduledCheck

const checkScheduleKey = evaluationPrefix + "schedule.json"

type checkScheduleDoc struct {
	Checks CheckSchedule `json:"checks"`
}

// TrackedForCheck lists the tracked pull requests due for a check as of now
// (every one when all is true), with their evaluation state, and the IDs
// of every tracked pull request (due or not). A pull request that is not
// due costs nothing but its key in one listing: the schedule is one
// document; the due ones cost two reads each, side by side.
//
// An evaluation document or schedule entry left behind by a pull request
// that ended (a crash between forgetting it and its evaluation, or the
// updater finding it ended first) is harmless: it names the old pull
// request's number, and the next pull request tracked under the same key
// starts afresh — at the latest when the old entry falls due.
func (r *Registry) TrackedForCheck(ctx context.Context, now time.Time, all bool) (due []TrackedEntry, tracked []string, err error) {
	keys, err := r.st.List(ctx, "flow/tracked/")
	if err != nil {
		return nil, nil, fmt.Errorf("tracked pull requests: %w", err)
	}
	sched, err := readDoc[checkScheduleDoc](ctx, r.st, checkScheduleKey)
	if err != nil {
		return nil, nil, fmt.Errorf("check schedule: %w", err)
	}
	var todo []string
	for _, k := range keys {
		if !strings.HasSuffix(k, ".json") {
			continue
		}
		tracked = append(tracked, k)
		if all || !sched.Checks[k].NextCheck.After(now) {
			todo = append(todo, k)
		}
	}
	found, err := parallelMap(ctx, todo, func(ctx context.Context, k string) (*TrackedEntry, error) {
		var t maestro.TrackedPullRequest
		version, err := getJSON(ctx, r.st, k, &t)
		if errors.Is(err, store.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		e := &TrackedEntry{ID: k, Repository: t.PullRequest.Repository, Branch: t.PullRequest.BaseBranch,
			Key: strings.TrimSuffix(k[strings.LastIndexByte(k, '/')+1:], ".json"), Version: version, Record: t, Scheduled: sched.Checks[k]}
		if trackedKey(e.Repository, e.Branch, e.Key) != k {
			// An update died before opening its pull request (the record
			// names none yet): the updater finishes it.
			return nil, nil
		}
		if e.Scheduled.Number != t.PullRequest.Number {
			e.Scheduled = ScheduledCheck{} // the entry of a pull request that ended
		}
		if _, err := getJSON(ctx, r.st, evaluationKey(e.Repository, e.Branch, e.Key), &e.Evaluation); err != nil && !errors.Is(err, store.ErrNotExist) {
			return nil, err
		}
		return e, nil
	})
	if err != nil {
		return nil, nil, err
	}
	for _, e := range found {
		if e != nil {
			due = append(due, *e)
		}
	}
	return due, tracked, nil
}

// ScheduleChecks records when the pull requests just checked are checked
// next (checked, by TrackedEntry.ID) in one compare-and-swap write of the
// schedule, and drops the entries of pull requests no longer tracked:
// ended lists those that ended; an entry whose ID is not in tracked (the
// IDs TrackedForCheck listed) and was not just checked is dropped too.
// A crash before this write leaves the pull requests due: they are checked
// again at the next run, which costs a host read each and changes nothing.
func (r *Registry) ScheduleChecks(ctx context.Context, checked CheckSchedule, ended, tracked []string) error {
	live := map[string]bool{}
	for _, k := range tracked {
		live[k] = true
	}
	_, err := update(ctx, r.st, checkScheduleKey, func(d *checkScheduleDoc, _ bool) error {
		if d.Checks == nil {
			d.Checks = CheckSchedule{}
		}
		for k, c := range checked {
			if cur, ok := d.Checks[k]; ok && cur.Number == c.Number && cur.LastCheck.After(c.LastCheck) {
				continue // a later check wrote already
			}
			d.Checks[k] = c
		}
		for _, k := range ended {
			delete(d.Checks, k)
		}
		for k := range d.Checks {
			if _, just := checked[k]; !just && !live[k] {
				delete(d.Checks, k)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record when the pull requests are checked next (%s): %w", checkScheduleKey, err)
	}
	return nil
}
