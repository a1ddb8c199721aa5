package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
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
	if err := ValidateURL(o.SourceRepository); err != nil {
		return o, invalid("mirror outcome: sourceRepository", err, "")
	}
	if err := ValidateBranch(o.Branch); err != nil {
		return o, invalid("mirror outcome: branch", err, "")
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
