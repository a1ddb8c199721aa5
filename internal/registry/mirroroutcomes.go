package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Mirror history: every mirror run leaves one document,
// mirror/outcomes/{repo}/{branch}/{nanoseconds}-{seq}.json, where {repo} is
// repourl.Key of the source and {branch} 16 hex digits of the SHA-256 of the
// branch name. "What happened to this source" and "to this branch" are each
// one prefix listing, and names sort by time. The document is the only
// write, create-only, so it is there whole or not at all; two runs at one
// instant take different sequence numbers.

func mirrorOutcomePrefix(source, branch string) string {
	p := "mirror/outcomes/"
	if source == "" {
		return p
	}
	p += repourl.Key(source) + "/"
	if branch == "" {
		return p
	}
	sum := sha256.Sum256([]byte(branch))
	return p + hex.EncodeToString(sum[:8]) + "/"
}

// RecordMirrorOutcome adds one record to the mirror history. A zero Time is now.
func (r *Registry) RecordMirrorOutcome(ctx context.Context, o maestro.MirrorOutcome) (maestro.MirrorOutcome, error) {
	if err := ValidateMirrorURL(o.SourceRepository); err != nil {
		return o, invalid("mirror outcome: sourceRepository", err, "")
	}
	if err := ValidateBranch(o.Branch); err != nil {
		return o, invalid("mirror outcome: branch", err, "")
	}
	if o.TargetRepository != "" {
		// The history is printed: a URL with a password must not get in.
		if err := ValidateMirrorURL(o.TargetRepository); err != nil {
			return o, invalid("mirror outcome: targetRepository", err, "")
		}
	}
	if o.Time.IsZero() {
		o.Time = r.now().UTC()
	}
	prefix := mirrorOutcomePrefix(o.SourceRepository, o.Branch)
	for seq := 0; seq < maxOutcomesPerInstant; seq++ {
		key := fmt.Sprintf("%s%020d-%03d.json", prefix, o.Time.UnixNano(), seq)
		err := putJSON(ctx, r.st, key, o, store.Condition{CreateOnly: true})
		if errors.Is(err, store.ErrPrecondition) {
			continue
		}
		if err != nil {
			return o, fmt.Errorf("record the mirror outcome of %s %s: %w", o.SourceRepository, o.Branch, err)
		}
		return o, nil
	}
	return o, fmt.Errorf("record the mirror outcome of %s %s: all %d names at %s are taken (%s); the clock that dates outcomes is probably stuck: check the host's clock", o.SourceRepository, o.Branch, maxOutcomesPerInstant, o.Time.Format(time.RFC3339Nano), prefix)
}

// MirrorOutcomes returns the mirror history of source ("" for every source)
// and, with a source, of branch ("" for every branch), oldest first.
func (r *Registry) MirrorOutcomes(ctx context.Context, source, branch string) ([]maestro.MirrorOutcome, error) {
	keys, err := r.st.List(ctx, mirrorOutcomePrefix(source, branch))
	if err != nil {
		return nil, fmt.Errorf("mirror history: %w", err)
	}
	found, err := parallelMap(ctx, keys, func(ctx context.Context, k string) (*maestro.MirrorOutcome, error) {
		var o maestro.MirrorOutcome
		if _, err := getJSON(ctx, r.st, k, &o); err != nil {
			if errors.Is(err, store.ErrNotExist) {
				return nil, nil
			}
			return nil, err
		}
		return &o, nil
	})
	if err != nil {
		return nil, err
	}
	out := []maestro.MirrorOutcome{}
	for _, o := range found {
		// The hashes only narrow the listing: the document says what it is about.
		if o != nil && (source == "" || repourl.Equal(o.SourceRepository, source)) && (branch == "" || o.Branch == branch) {
			out = append(out, *o)
		}
	}
	slices.SortStableFunc(out, func(a, b maestro.MirrorOutcome) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// RecentMirrorOutcomes returns, for each branch of source, the newest part
// of its mirror history: its outcomes read newest first up to and
// including the first for which enough returns true (all of them when none
// does), oldest first. A judgement that needs only the latest streak of a
// branch (flow health) so reads that streak, not a history that grows with
// every run.
func (r *Registry) RecentMirrorOutcomes(ctx context.Context, source string, enough func(maestro.MirrorOutcome) bool) ([]maestro.MirrorOutcome, error) {
	prefix := mirrorOutcomePrefix(source, "")
	keys, err := r.st.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("mirror history: %w", err)
	}
	byBranch := map[string][]string{}
	var branches []string
	for _, k := range keys {
		branch, _, _ := strings.Cut(strings.TrimPrefix(k, prefix), "/")
		if byBranch[branch] == nil {
			branches = append(branches, branch)
		}
		byBranch[branch] = append(byBranch[branch], k)
	}
	found, err := parallelMap(ctx, branches, func(ctx context.Context, branch string) ([]maestro.MirrorOutcome, error) {
		ks := byBranch[branch]
		slices.Sort(ks) // names sort by time
		var out []maestro.MirrorOutcome
		for i := len(ks) - 1; i >= 0; i-- {
			var o maestro.MirrorOutcome
			if _, err := getJSON(ctx, r.st, ks[i], &o); err != nil {
				if errors.Is(err, store.ErrNotExist) {
					continue
				}
				return nil, err
			}
			// The hashes only narrow the listing: the document says what it is about.
			if !repourl.Equal(o.SourceRepository, source) {
				continue
			}
			out = append(out, o)
			if enough(o) {
				break
			}
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	out := []maestro.MirrorOutcome{}
	for _, os := range found {
		out = append(out, os...)
	}
	slices.SortStableFunc(out, func(a, b maestro.MirrorOutcome) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// The mirror run last queued for a branch: mirror/runs/{repo}/{branch hash}.json,
// one document per branch rewritten under its ETag (see mirror.Trigger).
func mirrorRunKey(source, branch string) string {
	return "mirror/runs/" + strings.TrimPrefix(mirrorOutcomePrefix(source, branch), "mirror/outcomes/") + "run.json"
}

// MirrorRun returns the run last queued for branch of source and its ETag;
// none is the zero record and "".
func (r *Registry) MirrorRun(ctx context.Context, source, branch string) (maestro.MirrorQueuedRun, string, error) {
	var run maestro.MirrorQueuedRun
	etag, err := getJSON(ctx, r.st, mirrorRunKey(source, branch), &run)
	if errors.Is(err, store.ErrNotExist) {
		return maestro.MirrorQueuedRun{}, "", nil
	}
	if err != nil {
		return run, "", fmt.Errorf("read the mirror run of %s %s: %w", source, branch, err)
	}
	return run, etag, nil
}

// PutMirrorRun writes the run of a branch if its record is still at etag
// ("": if there is none) and returns the new ETag. A record that changed
// meanwhile is an error of kind KindConflict wrapping store.ErrPrecondition.
func (r *Registry) PutMirrorRun(ctx context.Context, run maestro.MirrorQueuedRun, etag string) (string, error) {
	data, err := json.Marshal(run)
	if err != nil {
		return "", err
	}
	cond := store.Condition{IfMatch: etag}
	if etag == "" {
		cond = store.Condition{CreateOnly: true}
	}
	tag, err := r.st.Put(ctx, mirrorRunKey(run.SourceRepository, run.Branch), data, cond)
	if errors.Is(err, store.ErrPrecondition) {
		return "", maestro.Errorf(maestro.KindConflict, "the mirror run of %s %s changed meanwhile: %w", run.SourceRepository, run.Branch, err)
	}
	if err != nil {
		return "", fmt.Errorf("write the mirror run of %s %s: %w", run.SourceRepository, run.Branch, err)
	}
	return tag, nil
}
