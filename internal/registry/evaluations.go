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
// request stands: what was judged on which head commit, when it is looked
// at next, and what became of merging it. It lives beside the tracked
// record (same target branch and key), in a document of its own, so that
// evaluating never races the updates that write the tracked record.
type PolicyEvaluation struct {
	Repository string `json:"repository"`
	Branch     string `json:"branch"`
	Key        string `json:"key"`
	// Number is the pull request judged; a record for another number (the
	// pull request ended and a new one is tracked) is stale.
	Number int `json:"number"`
	// HeadCommit is the head commit judged last.
	HeadCommit string    `json:"headCommit"`
	FirstCheck time.Time `json:"firstCheck"`
	LastCheck  time.Time `json:"lastCheck"`
	NextCheck  time.Time `json:"nextCheck"`
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
	Repository string
	Branch     string
	Key        string
	Version    string
	Record     maestro.TrackedPullRequest
	// Evaluation is the record's policy evaluation state (zero when none).
	Evaluation PolicyEvaluation
}

// TrackedEntries lists every tracked pull request with its evaluation state
// (for `maestro pr check`; the cost grows with the open pull requests: two
// reads each, side by side). An evaluation document left behind by a crash
// between forgetting a pull request and its evaluation is harmless: it
// names the old pull request's number, and the next pull request tracked
// under the same key starts afresh.
func (r *Registry) TrackedEntries(ctx context.Context) ([]TrackedEntry, error) {
	keys, err := r.st.List(ctx, "flow/tracked/")
	if err != nil {
		return nil, fmt.Errorf("tracked pull requests: %w", err)
	}
	evalKeys, err := r.st.List(ctx, evaluationPrefix)
	if err != nil {
		return nil, fmt.Errorf("policy evaluations: %w", err)
	}
	var jsonKeys []string
	for _, k := range keys {
		if strings.HasSuffix(k, ".json") {
			jsonKeys = append(jsonKeys, k)
		}
	}
	hasEval := map[string]bool{}
	for _, k := range evalKeys {
		hasEval[k] = true
	}
	found, err := parallelMap(ctx, jsonKeys, func(ctx context.Context, k string) (*TrackedEntry, error) {
		var t maestro.TrackedPullRequest
		version, err := getJSON(ctx, r.st, k, &t)
		if errors.Is(err, store.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		e := &TrackedEntry{Repository: t.PullRequest.Repository, Branch: t.PullRequest.BaseBranch,
			Key: strings.TrimSuffix(k[strings.LastIndexByte(k, '/')+1:], ".json"), Version: version, Record: t}
		if trackedKey(e.Repository, e.Branch, e.Key) != k {
			// Not a record the updater wrote for its pull request's target
			// branch (one of an update that died before opening it has
			// none): the updater finishes it.
			return nil, nil
		}
		ek := evaluationKey(e.Repository, e.Branch, e.Key)
		if hasEval[ek] {
			if _, err := getJSON(ctx, r.st, ek, &e.Evaluation); err != nil && !errors.Is(err, store.ErrNotExist) {
				return nil, err
			}
		}
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	out := []TrackedEntry{}
	for _, e := range found {
		if e != nil {
			out = append(out, *e)
		}
	}
	return out, nil
}
