package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Promotion (`maestro build promote`, docs/registry.md "Promoting a
// speculative build"): a speculative build made from exactly the commit its
// pull request merged as becomes a mainline build. The speculative record
// never changes; the promotion publishes a new official build from it —
// its repository, commit, assets (shipping as its manifests said:
// Promotable), dependencies and the channels whose twins it was in —
// under the claim index/builds/promoted/{speculative id}.json. That claim
// works as an Azure DevOps build's does: one official build per
// speculative build, a rerun finishes the same id or finds it recorded, and
// the official build.json, create-only, is the commit point. No other
// document is written, so a kill leaves either no mainline build (an
// unfinished one `registry check` names and the rerun finishes) or the
// whole of it.

// ShippingRanges returns the positions of the shipping assets of as, as
// ranges [first, last], ascending (what Promotable.Shipping keeps).
func ShippingRanges(as []maestro.Asset) [][2]int {
	out := [][2]int{}
	for i, a := range as {
		if a.NonShipping {
			continue
		}
		if n := len(out); n > 0 && out[n-1][1] == i-1 {
			out[n-1][1] = i
		} else {
			out = append(out, [2]int{i, i})
		}
	}
	return out
}

// PromoteOptions are the choices of a promotion.
type PromoteOptions struct {
	// Branch is the mainline branch the pull request merged into: the
	// promoted build's branch. Required.
	Branch string
	// Channels are channel ids the promoted build joins; each one's twin
	// must hold the speculative build. Empty: every channel whose twin
	// holds it.
	Channels []int
}

// PromotedBuild returns the id of the mainline build promoted from
// speculative build specID, or 0 when there is none (yet: a promotion
// killed before its commit point has none either).
func (r *Registry) PromotedBuild(ctx context.Context, specID int) (int, error) {
	if r.firstID >= SpeculativeIDBase {
		return 0, errors.New("PromotedBuild: call it on the registry, not on its speculative registry")
	}
	var c claimDoc
	key := claimKey(maestro.Build{PromotedFrom: specID})
	if _, err := getJSON(ctx, r.st, key, &c); errors.Is(err, store.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("read %s: %w", key, err)
	}
	rec, err := r.readRecord(ctx, c.ID)
	switch {
	case errors.Is(err, store.ErrNotExist):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("read build %d: %w", c.ID, err)
	case rec.Collected || rec.PromotedFrom != specID:
		return 0, nil
	}
	return c.ID, nil
}

// Promote records the mainline build promoted from speculative build spec
// (as the speculative registry returns it, with its assets), after
// checking, before any write, everything the registry can tell: spec is a
// speculative build of a pull request that kept its shipping flags, the
// channels, that each speculative build it depends on was promoted (the
// dependency names the promoted build instead), and that no other mainline
// build of its commit exists. That the pull request merged as spec's commit
// is the caller's to check (the host knows it). A second promotion of the
// same build returns the first (Existing), adding any channel asked for.
func (r *Registry) Promote(ctx context.Context, spec maestro.Build, opts PromoteOptions) (PublishResult, error) {
	b, channels, err := r.promotion(ctx, spec, opts)
	if err != nil {
		return PublishResult{}, err
	}
	res, err := r.PublishBuild(ctx, b, PublishOptions{Channels: channels, NoDefaultChannels: true})
	if err != nil {
		return res, fmt.Errorf("promote speculative build %d: %w", spec.ID, err)
	}
	return res, nil
}

// promotion is the mainline build a promotion of spec records, and its channels.
func (r *Registry) promotion(ctx context.Context, spec maestro.Build, opts PromoteOptions) (maestro.Build, []int, error) {
	if r.firstID >= SpeculativeIDBase {
		return maestro.Build{}, nil, errors.New("Promote: call it on the registry, not on its speculative registry")
	}
	if !spec.Speculative || !IsSpeculativeID(spec.ID) {
		return maestro.Build{}, nil, maestro.Errorf(maestro.KindInvalid, "build %d is not a speculative build: only a speculative build is promoted", spec.ID)
	}
	if spec.PullRequest == nil {
		return maestro.Build{}, nil, maestro.Errorf(maestro.KindInvalid,
			"speculative build %d was made from no pull request (a branch or a speculative product build): only the build of a merged pull request is promoted", spec.ID)
	}
	if spec.Promotable == nil {
		return maestro.Build{}, nil, maestro.Errorf(maestro.KindInvalid,
			"speculative build %d was recorded before maestro kept its assets' shipping flags: it cannot be promoted; publish the mainline build of commit %s instead", spec.ID, spec.Commit)
	}
	if err := ValidateBranch(opts.Branch); err != nil {
		return maestro.Build{}, nil, invalid("branch", err, "the branch the pull request merged into")
	}
	// The assets, shipping as the manifests said.
	assets := slices.Clone(spec.Assets)
	for i := range assets {
		assets[i].ID, assets[i].NonShipping = 0, true
	}
	last := -1
	for _, rg := range spec.Promotable.Shipping {
		if rg[0] <= last || rg[1] < rg[0] || rg[1] >= len(assets) {
			return maestro.Build{}, nil, fmt.Errorf("speculative build %d: its record's promotable.shipping %v does not fit its %d assets; `maestro registry check` the store", spec.ID, spec.Promotable.Shipping, len(assets))
		}
		for i := rg[0]; i <= rg[1]; i++ {
			assets[i].NonShipping = false
		}
		last = rg[1]
	}
	// The channels: those whose twins hold it, or the ones asked for.
	chans, err := r.channelMap(ctx)
	if err != nil {
		return maestro.Build{}, nil, err
	}
	var twins []int
	for _, c := range spec.Channels {
		if IsSpeculativeID(c.ID) {
			twins = append(twins, c.ID-SpeculativeIDBase)
		}
	}
	channels := opts.Channels
	if len(channels) == 0 {
		for _, id := range twins {
			if _, ok := chans[id]; ok {
				channels = append(channels, id)
			}
		}
		if len(channels) == 0 {
			return maestro.Build{}, nil, maestro.Errorf(maestro.KindInvalid,
				"speculative build %d is in the twin of no channel that exists: there is no channel to promote it into", spec.ID)
		}
	}
	for _, id := range channels {
		c, ok := chans[id]
		if !ok {
			return maestro.Build{}, nil, maestro.Errorf(maestro.KindNotFound, "channel %d does not exist; `maestro channel list` shows the channels", id)
		}
		if !slices.Contains(twins, id) {
			return maestro.Build{}, nil, maestro.Errorf(maestro.KindInvalid,
				"--channel %s: speculative build %d is not in %s, so it never flowed as a build of that channel; give channels whose twins hold it (`maestro build show --id %d`)",
				c.Name, spec.ID, SpeculativeTwinName(c.Name), spec.ID)
		}
	}
	slices.Sort(channels)
	channels = slices.Compact(channels)
	// The dependencies: a mainline build depends on mainline builds only.
	deps := slices.Clone(spec.Dependencies)
	for i, d := range deps {
		if !IsSpeculativeID(d.BuildID) {
			continue
		}
		m, err := r.PromotedBuild(ctx, d.BuildID)
		if err != nil {
			return maestro.Build{}, nil, err
		}
		if m == 0 {
			return maestro.Build{}, nil, maestro.Errorf(maestro.KindInvalid,
				"speculative build %d depends on speculative build %d, which is not promoted: a mainline build depends on mainline builds only; promote %d first",
				spec.ID, d.BuildID, d.BuildID)
		}
		deps[i].BuildID = m
	}
	// No second mainline build of the commit — unless this promotion is
	// recorded already: a rerun (maybe of a promote killed after its
	// commit point, before its flow) gets the promoted build back, also
	// when a mainline build of the commit was published since.
	promoted, err := r.PromotedBuild(ctx, spec.ID)
	if err != nil {
		return maestro.Build{}, nil, err
	}
	if promoted == 0 {
		same, err := r.Builds(ctx, BuildFilter{Repository: spec.Repository, Commit: spec.Commit})
		if err != nil {
			return maestro.Build{}, nil, err
		}
		for _, o := range same {
			if o.PromotedFrom != spec.ID {
				return maestro.Build{}, nil, maestro.Errorf(maestro.KindConflict,
					"commit %s of %s has a mainline build already, build %d: its dependents move to that one; a promotion would record a second",
					spec.Commit, spec.Repository, o.ID)
			}
		}
	}
	b := spec
	b.ID, b.Speculative, b.PullRequest, b.Promotable, b.PromotedTo = 0, false, nil, nil, 0
	b.PromotedFrom = spec.ID
	b.Branch = opts.Branch
	b.Released = false
	b.Assets, b.Dependencies, b.Channels = assets, deps, nil
	return b, channels, nil
}
