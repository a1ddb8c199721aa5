package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Speculative version flow (docs/speculative.md): one document per
// speculative pull request, speculative/flow/pullrequests/{subscription}/
// {key}.json in the speculative registry, holding the work (the newest
// speculative build of the parent pull request to carry) and where the
// pull request stands. The pull request itself is tracked like every other
// (flow/tracked/..., under the key SpeculativeKey), written by the updater
// under the pull request's lock; this document is the queue in front of
// it. Each is changed by one read-modify-write under its ETag, so:
//   - a new speculative build of the parent raises BuildID; an attempt
//     that finishes records AppliedBuildID as the build it applied, so a
//     newer build that arrived meanwhile stays due (never lost, never a
//     second pull request: the key is fixed by subscription and parent);
//   - an attempt claims the document before it works (Claim, lapsing), so
//     two processes do not work on one pull request at once, and a
//     process that dies leaves a claim that lapses;
//   - a crash between the updater's push and this document's update
//     leaves AppliedBuildID behind: the next attempt applies the same
//     build again, which finds the pull request carrying it (no change).
const specFlowPrefix = "flow/pullrequests/"

// SpeculativeKey is the tracking key of the speculative pull request that
// subscription subID keeps for parent pull request parentURL.
func SpeculativeKey(subID, parentURL string) string {
	sum := sha256.Sum256([]byte(subID + "\n" + strings.ToLower(strings.TrimSpace(parentURL))))
	return "speculative-" + hex.EncodeToString(sum[:8])
}

// IsSpeculativeKey reports whether a tracking key is a speculative pull
// request's.
func IsSpeculativeKey(key string) bool { return strings.HasPrefix(key, "speculative-") }

func specFlowKey(subID, key string) string {
	return specFlowPrefix + subID + "/" + key + ".json"
}

// UpdateSpeculativePullRequest changes the document of a speculative pull
// request by one read-modify-write under its ETag (create-only when
// absent); fn returning ErrUnchanged writes nothing.
func (r *Registry) UpdateSpeculativePullRequest(ctx context.Context, subID, key string, fn func(sp *maestro.SpeculativePullRequest, exists bool) error) (maestro.SpeculativePullRequest, error) {
	if subID == "" || strings.Contains(subID, "/") || !IsSpeculativeKey(key) || store.ValidateKey(specFlowKey(subID, key)) != nil {
		return maestro.SpeculativePullRequest{}, maestro.Errorf(maestro.KindInvalid, "speculative pull request %s/%s: not a subscription id and speculative key", subID, key)
	}
	spec, err := r.Speculative(ctx)
	if err != nil {
		return maestro.SpeculativePullRequest{}, err
	}
	sp, err := update(ctx, spec.st, specFlowKey(subID, key), fn)
	if err != nil && !errors.Is(err, errUnchanged) {
		return sp, fmt.Errorf("speculative pull request %s of subscription %s: %w", key, subID, err)
	}
	return sp, nil
}

// SpeculativePullRequests lists every speculative pull request the flow
// knows of, ended ones included, ordered by target repository and key.
// Its cost grows with the speculative pull requests, not with the
// registry.
func (r *Registry) SpeculativePullRequests(ctx context.Context) ([]maestro.SpeculativePullRequest, error) {
	spec, err := r.Speculative(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := spec.st.List(ctx, specFlowPrefix)
	if err != nil {
		return nil, fmt.Errorf("list speculative pull requests: %w", err)
	}
	found, err := parallelMap(ctx, keys, func(ctx context.Context, k string) (*maestro.SpeculativePullRequest, error) {
		var sp maestro.SpeculativePullRequest
		if _, err := getJSON(ctx, spec.st, k, &sp); err != nil {
			if errors.Is(err, store.ErrNotExist) {
				return nil, nil
			}
			return nil, fmt.Errorf("read speculative pull request %s: %w", k, err)
		}
		return &sp, nil
	})
	if err != nil {
		return nil, err
	}
	out := []maestro.SpeculativePullRequest{}
	for _, sp := range found {
		if sp != nil {
			out = append(out, *sp)
		}
	}
	slices.SortFunc(out, func(a, b maestro.SpeculativePullRequest) int {
		return strings.Compare(a.TargetRepository+"\x00"+a.SubscriptionID+"\x00"+a.Key, b.TargetRepository+"\x00"+b.SubscriptionID+"\x00"+b.Key)
	})
	return out, nil
}
