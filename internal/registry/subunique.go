package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Subscription uniqueness is create-only on a natural key, not
// check-then-act. A subscription's natural key is its channel, source
// repository, target repository, target branch and directories; the claim
// document index/subscriptions/unique/{hash}.json names the one subscription
// that holds the key. The claim is the commit point of an add:
//
//  1. the add creates the claim (create-only): of any number of concurrent
//     identical adds exactly one succeeds; the others read the claim and
//     exit 4 (conflict);
//  2. it writes the index entries, the flow state and the subscription
//     document (create-only under its new id);
//  3. it reads the claim again and, if another add has taken it over
//     meanwhile (possible only when this add stalled for longer than
//     claimGrace, see below), removes what it wrote and exits 4.
//
// A claim whose subscription document is missing is either an add in
// progress or the remains of a crash (or of a delete, which marks the claim
// deleted before it removes the subscription). A later add takes such a
// claim over, under the ETag it read, when the claim is marked deleted or is
// older than claimGrace; a claim whose subscription now has another natural
// key (an update moved it) is taken over at once. So a crash at any point
// leaves at most a stale claim, which the next add of that key reclaims, and
// never two subscriptions with one key.
const (
	subUniquePrefix = "index/subscriptions/unique/"
	claimGrace      = time.Minute
)

type subClaim struct {
	ID      string    `json:"id"`
	Claimed time.Time `json:"claimed"`
	Deleted bool      `json:"deleted,omitempty"`
}

// naturalKey identifies what a subscription flows, whatever its id.
func naturalKey(s maestro.Subscription) string {
	sum := sha256.Sum256([]byte(strconv.Itoa(s.ChannelID) + "\x00" + repourl.Key(s.SourceRepository) + "\x00" +
		repourl.Key(s.TargetRepository) + "\x00" + trimRefsHeads(s.TargetBranch) + "\x00" + s.SourceDirectory + "\x00" + s.TargetDirectory))
	return subUniquePrefix + hex.EncodeToString(sum[:16]) + ".json"
}

func duplicateError(o maestro.Subscription) error {
	return maestro.Errorf(maestro.KindConflict, "subscription %s already flows channel %d from %s to %s@%s", o.ID, o.ChannelID, o.SourceRepository, o.TargetRepository, o.TargetBranch)
}

// claimKey makes s the holder of its natural key, or returns a conflict
// naming the subscription that holds it.
func (r *Registry) claimKey(ctx context.Context, s maestro.Subscription) error {
	key := naturalKey(s)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		err := putJSON(ctx, r.st, key, subClaim{ID: s.ID, Claimed: r.now().UTC()}, store.Condition{CreateOnly: true})
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrPrecondition) {
			return fmt.Errorf("claim subscription key: %w", err)
		}
		var c subClaim
		etag, err := getJSON(ctx, r.st, key, &c)
		if errors.Is(err, store.ErrNotExist) {
			continue // released meanwhile: try to create it again
		}
		if err != nil {
			return fmt.Errorf("read subscription key claim: %w", err)
		}
		if c.ID == s.ID {
			return nil
		}
		holder, err := r.Subscription(ctx, c.ID)
		switch {
		case err == nil && naturalKey(holder) == key:
			return duplicateError(holder)
		case err == nil:
			// The holder was updated to another key: the claim is stale.
		case maestro.KindOf(err) != maestro.KindNotFound:
			return err
		case !c.Deleted && r.now().Sub(c.Claimed) < claimGrace:
			return maestro.Errorf(maestro.KindConflict, "subscription %s with the same channel, source, target, branch and directories is being added right now; if that add failed, try again in a minute", c.ID)
		}
		err = putJSON(ctx, r.st, key, subClaim{ID: s.ID, Claimed: r.now().UTC()}, store.Condition{IfMatch: etag})
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrPrecondition) {
			return fmt.Errorf("claim subscription key: %w", err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
	return maestro.Errorf(maestro.KindConflict, "subscription key of %s: gave up after %d concurrent changes; try again", s.ID, maxAttempts)
}

// holdsKey reports whether s's natural key is still claimed by s.
func (r *Registry) holdsKey(ctx context.Context, s maestro.Subscription) (bool, error) {
	var c subClaim
	_, err := getJSON(ctx, r.st, naturalKey(s), &c)
	if errors.Is(err, store.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read subscription key claim: %w", err)
	}
	return c.ID == s.ID, nil
}

// markKeyDeleted marks s's claim deleted (when s holds it), so that an add
// of the same key may take it over once s's document is gone.
func (r *Registry) markKeyDeleted(ctx context.Context, s maestro.Subscription) error {
	_, err := update(ctx, r.st, naturalKey(s), func(c *subClaim, exists bool) error {
		if !exists || c.ID != s.ID || c.Deleted {
			return errUnchanged
		}
		c.Deleted = true
		return nil
	})
	return err
}

// releaseKey deletes s's claim when s still holds it.
func (r *Registry) releaseKey(ctx context.Context, s maestro.Subscription) error {
	key := naturalKey(s)
	var c subClaim
	etag, err := getJSON(ctx, r.st, key, &c)
	if errors.Is(err, store.ErrNotExist) || (err == nil && c.ID != s.ID) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read subscription key claim: %w", err)
	}
	err = r.st.Delete(ctx, key, etag)
	if err != nil && !errors.Is(err, store.ErrNotExist) && !errors.Is(err, store.ErrPrecondition) {
		return fmt.Errorf("release subscription key: %w", err)
	}
	return nil
}
