package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Every question below is answered from an index whose read cost does not
// grow with the registry: docs/registry.md lists the reads of each.

// channelNames maps channel ids to channels, read once per question.
type channelNames map[int]maestro.Channel

func (r *Registry) channelMap(ctx context.Context) (channelNames, error) {
	all, err := r.Channels(ctx)
	if err != nil {
		return nil, err
	}
	m := make(channelNames, len(all))
	for _, c := range all {
		m[c.ID] = c
	}
	return m, nil
}

// buildInfo assembles a build (without assets) from its record and state.
func (r *Registry) buildInfo(ctx context.Context, rec buildRecord, chans channelNames) (maestro.Build, error) {
	s, err := r.state(ctx, rec)
	if err != nil {
		return maestro.Build{}, err
	}
	return assemble(rec, s, chans), nil
}

// assemble is a build (without assets) from its record and state.
func assemble(rec buildRecord, s buildState, chans channelNames) maestro.Build {
	b := rec.Build
	b.Released = s.Released
	b.Assets = nil
	b.Channels = []maestro.Channel{}
	for _, id := range s.Channels {
		if c, ok := chans[id]; ok {
			b.Channels = append(b.Channels, c)
		}
	}
	return b
}

// recordAndState reads a build's record and state side by side (a list of
// builds waits for one round trip per build, not two); a missing state is
// the record's initial channels.
func (r *Registry) recordAndState(ctx context.Context, id int) (buildRecord, buildState, error) {
	type result struct {
		s   buildState
		err error
	}
	got := make(chan result, 1)
	go func() {
		var s buildState
		_, err := getJSON(ctx, r.st, buildStateKey(id), &s)
		got <- result{s, err}
	}()
	rec, err := r.readRecord(ctx, id)
	st := <-got
	if err != nil {
		return rec, buildState{}, err
	}
	switch {
	case errors.Is(st.err, store.ErrNotExist):
		st.s = buildState{Channels: slices.Clone(rec.InitialChannels)}
	case st.err != nil:
		return rec, buildState{}, fmt.Errorf("read state of build %d: %w", id, st.err)
	}
	return rec, st.s, nil
}

// BuildInfo returns a build with its channels but without its assets.
func (r *Registry) BuildInfo(ctx context.Context, id int) (maestro.Build, error) {
	rec, err := r.visibleRecord(ctx, id)
	if err != nil {
		return maestro.Build{}, err
	}
	chans, err := r.channelMap(ctx)
	if err != nil {
		return maestro.Build{}, err
	}
	return r.buildInfo(ctx, rec, chans)
}

// Build returns a build with its assets and channels.
func (r *Registry) Build(ctx context.Context, id int) (maestro.Build, error) {
	rec, err := r.visibleRecord(ctx, id)
	if err != nil {
		return maestro.Build{}, err
	}
	chans, err := r.channelMap(ctx)
	if err != nil {
		return maestro.Build{}, err
	}
	return r.fullBuild(ctx, rec, chans)
}

func (r *Registry) fullBuild(ctx context.Context, rec buildRecord, chans channelNames) (maestro.Build, error) {
	b, err := r.buildInfo(ctx, rec, chans)
	if err != nil {
		return b, err
	}
	if b.Assets, err = r.buildAssets(ctx, rec); err != nil {
		return b, err
	}
	return b, nil
}

// BuildFilter selects builds; zero fields match everything.
type BuildFilter struct {
	Repository string
	Commit     string // needs Repository
	ChannelID  int
	// Before, when set, pages: only builds with a smaller id.
	Before int
	Limit  int // newest first; 0 means 50
}

// candidates yields up to n ids below before (0: no bound), newest first; an
// empty result ends the walk.
type candidates func(ctx context.Context, before, n int) ([]int, error)

// Builds returns the newest builds that match f, without assets.
func (r *Registry) Builds(ctx context.Context, f BuildFilter) ([]maestro.Build, error) {
	if f.Commit != "" && f.Repository == "" {
		return nil, maestro.Errorf(maestro.KindInvalid, "a commit filter needs a repository")
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	var next candidates
	switch {
	case f.Commit != "":
		next = r.setCandidates(commitSetKey(f.Repository, f.Commit))
	case f.Repository != "" && f.ChannelID != 0:
		next = r.listCandidates(channelRepoListPrefix(f.ChannelID, f.Repository))
	case f.Repository != "":
		next = r.listCandidates(repoListPrefix(f.Repository))
	case f.ChannelID != 0:
		next = r.listCandidates(channelListPrefix(f.ChannelID))
	default:
		next = r.counterCandidates
	}
	return r.collect(ctx, next, f, f.Limit, false)
}

// LatestBuild returns the newest build of repo in a channel (any channel when
// channelID is 0), with its assets.
func (r *Registry) LatestBuild(ctx context.Context, repo string, channelID int) (maestro.Build, error) {
	f := BuildFilter{Repository: repo, ChannelID: channelID}
	next := r.listCandidates(repoListPrefix(repo))
	if channelID != 0 {
		next = r.listCandidates(channelRepoListPrefix(channelID, repo))
	}
	bs, err := r.collect(ctx, next, f, 1, true)
	if err != nil {
		return maestro.Build{}, fmt.Errorf("latest build of %s: %w", repo, err)
	}
	if len(bs) == 0 {
		if channelID != 0 {
			return maestro.Build{}, maestro.Errorf(maestro.KindNotFound, "no build of %s in channel %d", repo, channelID)
		}
		return maestro.Build{}, maestro.Errorf(maestro.KindNotFound, "no build of %s", repo)
	}
	return bs[0], nil
}

// collect walks candidate ids newest first and returns the first limit
// builds that are visible and match f. Ids without a build (unfinished or
// collected publishes) and ids an index holds beyond the build's state are
// skipped; they cost one read each, never a wrong answer.
func (r *Registry) collect(ctx context.Context, next candidates, f BuildFilter, limit int, withAssets bool) ([]maestro.Build, error) {
	chans, err := r.channelMap(ctx)
	if err != nil {
		return nil, err
	}
	var out []maestro.Build
	before := f.Before
	for len(out) < limit {
		want := limit - len(out)
		ids, err := next(ctx, before, want+want/4)
		if err != nil {
			return nil, fmt.Errorf("list builds: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		before = ids[len(ids)-1]
		bs, err := parallelMap(ctx, ids, func(ctx context.Context, id int) (*maestro.Build, error) {
			rec, st, err := r.recordAndState(ctx, id)
			if errors.Is(err, store.ErrNotExist) || (err == nil && (rec.Collected || !recordMatches(rec, f))) {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			if f.ChannelID != 0 && !slices.Contains(st.Channels, f.ChannelID) {
				return nil, nil
			}
			b := assemble(rec, st, chans)
			if withAssets {
				if b.Assets, err = r.buildAssets(ctx, rec); err != nil {
					return nil, err
				}
			}
			return &b, nil
		})
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			if b != nil && len(out) < limit {
				out = append(out, *b)
			}
		}
		if before <= 1 {
			break
		}
	}
	return out, nil
}

func recordMatches(rec buildRecord, f BuildFilter) bool {
	if f.Repository != "" && !repourl.Equal(rec.Repository, f.Repository) {
		return false
	}
	return f.Commit == "" || strings.EqualFold(rec.Commit, f.Commit)
}

// listCandidates pages through an id list.
func (r *Registry) listCandidates(prefix string) candidates {
	return func(ctx context.Context, before, n int) ([]int, error) {
		return r.listIDs(ctx, prefix, before, n)
	}
}

// counterCandidates counts down from the newest allocated build id: ids are
// dense, so the newest builds overall need no index but the counter; an id
// that never became a build costs one read.
func (r *Registry) counterCandidates(ctx context.Context, before, n int) ([]int, error) {
	top := before - 1
	if before == 0 {
		var c counterDoc
		if _, err := getJSON(ctx, r.st, buildCounterKey, &c); err != nil && !errors.Is(err, store.ErrNotExist) {
			return nil, err
		}
		top = c.Next - 1
	}
	var ids []int
	for id := top; id >= max(r.firstID, 1) && len(ids) < n; id-- {
		ids = append(ids, id)
	}
	return ids, nil
}

// Dependents returns the ids of builds that recorded a dependency on build
// id, newest first.
func (r *Registry) Dependents(ctx context.Context, id int) ([]int, error) {
	cand, err := r.setIDs(ctx, dependentsSetKey(id))
	if err != nil {
		return nil, fmt.Errorf("dependents of build %d: %w", id, err)
	}
	found, err := parallelMap(ctx, cand, func(ctx context.Context, d int) (bool, error) {
		rec, err := r.readRecord(ctx, d)
		if errors.Is(err, store.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return !rec.Collected && slices.ContainsFunc(rec.Dependencies, func(x maestro.BuildDependency) bool { return x.BuildID == id }), nil
	})
	if err != nil {
		return nil, err
	}
	var ids []int
	for i, ok := range found {
		if ok {
			ids = append(ids, cand[i])
		}
	}
	return ids, nil
}
