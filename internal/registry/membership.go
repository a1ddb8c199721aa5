package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Channel membership has one source of truth: the build's state.json (or,
// until the first change, the channels its build.json was published to). The
// two channel lists (builds in channel C; builds of repository R in channel C)
// are derived from it, and readers check every id they take from them
// against the state, so an extra id is skipped, never shown.
//
// Adding a build writes the lists first, then the state: a crash in between
// leaves an extra id, never a missing one. Both add and remove end with
// reconcileMembership, which makes the lists agree with the state and reads
// the state again to see that nobody changed it meanwhile. Whatever order
// concurrent adds and removes finish in, the lists end up as the last state
// write says: the operation that wrote the state last reconciles after it, and
// any list write that lands later belongs to a reconcile that read the state
// before and after its write, so it read that final state too (see
// docs/registry.md, "Channel membership").

// state returns the build's channels and released flag.
func (r *Registry) state(ctx context.Context, rec buildRecord) (buildState, error) {
	var s buildState
	_, err := getJSON(ctx, r.st, buildStateKey(rec.ID), &s)
	if errors.Is(err, store.ErrNotExist) {
		return buildState{Channels: slices.Clone(rec.InitialChannels)}, nil
	}
	if err != nil {
		return s, fmt.Errorf("read state of build %d: %w", rec.ID, err)
	}
	return s, nil
}

// updateState changes the build's state under its ETag; fn returning
// errUnchanged skips the write.
func (r *Registry) updateState(ctx context.Context, rec buildRecord, fn func(s *buildState) error) error {
	_, err := update(ctx, r.st, buildStateKey(rec.ID), func(s *buildState, exists bool) error {
		if !exists {
			*s = buildState{Channels: slices.Clone(rec.InitialChannels)}
		}
		if err := fn(s); err != nil {
			return err
		}
		if s.Channels == nil {
			s.Channels = []int{}
		}
		slices.Sort(s.Channels)
		return nil
	})
	return err
}

// indexMembership makes both channel lists hold (in) or not hold the build.
func (r *Registry) indexMembership(ctx context.Context, rec buildRecord, channelID int, in bool) error {
	change := r.listRemove
	if in {
		change = r.listAdd
	}
	for _, p := range []string{channelListPrefix(channelID), channelRepoListPrefix(channelID, rec.Repository)} {
		if err := change(ctx, p, rec.ID); err != nil {
			return fmt.Errorf("index build %d in channel %d: %w", rec.ID, channelID, err)
		}
	}
	return nil
}

// reconcileMembership makes the channel lists agree with the state.
func (r *Registry) reconcileMembership(ctx context.Context, rec buildRecord, channelID int) error {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		before, err := r.state(ctx, rec)
		if err != nil {
			return err
		}
		in := slices.Contains(before.Channels, channelID)
		if err := r.indexMembership(ctx, rec, channelID, in); err != nil {
			return err
		}
		after, err := r.state(ctx, rec)
		if err != nil {
			return err
		}
		if slices.Contains(after.Channels, channelID) == in {
			return nil
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
	return maestro.Errorf(maestro.KindConflict, "build %d in channel %d: gave up after %d concurrent changes; try again", rec.ID, channelID, maxAttempts)
}

// AddBuildToChannel adds a recorded build to a channel; it reports whether the
// build was not in the channel before.
func (r *Registry) AddBuildToChannel(ctx context.Context, buildID, channelID int) (bool, error) {
	rec, err := r.visibleRecord(ctx, buildID)
	if err != nil {
		return false, err
	}
	if _, err := r.Channel(ctx, channelID); err != nil {
		return false, err
	}
	return r.addBuildToChannel(ctx, rec, channelID)
}

func (r *Registry) addBuildToChannel(ctx context.Context, rec buildRecord, channelID int) (bool, error) {
	if err := r.indexMembership(ctx, rec, channelID, true); err != nil {
		return false, err
	}
	added := false
	err := r.updateState(ctx, rec, func(s *buildState) error {
		if slices.Contains(s.Channels, channelID) {
			added = false
			return errUnchanged
		}
		s.Channels = append(s.Channels, channelID)
		added = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("assign build %d to channel %d: %w", rec.ID, channelID, err)
	}
	return added, r.reconcileMembership(ctx, rec, channelID)
}

// RemoveBuildFromChannel takes a build out of a channel.
func (r *Registry) RemoveBuildFromChannel(ctx context.Context, buildID, channelID int) error {
	rec, err := r.visibleRecord(ctx, buildID)
	if err != nil {
		return err
	}
	removed := false
	err = r.updateState(ctx, rec, func(s *buildState) error {
		i := slices.Index(s.Channels, channelID)
		if i < 0 {
			removed = false
			return errUnchanged
		}
		s.Channels = slices.Delete(s.Channels, i, i+1)
		removed = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("take build %d out of channel %d: %w", buildID, channelID, err)
	}
	if err := r.reconcileMembership(ctx, rec, channelID); err != nil {
		return err
	}
	if !removed {
		return maestro.Errorf(maestro.KindNotFound, "build %d is not in channel %d", buildID, channelID)
	}
	return nil
}

// SetReleased marks a build released or not.
func (r *Registry) SetReleased(ctx context.Context, buildID int, released bool) (maestro.Build, error) {
	rec, err := r.visibleRecord(ctx, buildID)
	if err != nil {
		return maestro.Build{}, err
	}
	err = r.updateState(ctx, rec, func(s *buildState) error {
		if s.Released == released {
			return errUnchanged
		}
		s.Released = released
		return nil
	})
	if err != nil {
		return maestro.Build{}, err
	}
	return r.BuildInfo(ctx, buildID)
}
