package registry

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Keys of the small configuration documents; each is rewritten whole under an ETag.
const (
	channelsKey        = "config/channels.json"
	defaultChannelsKey = "config/default-channels.json"
	repoPoliciesKey    = "config/repository-policies.json"
)

type channelsDoc struct {
	NextID   int               `json:"nextId"`
	Channels []maestro.Channel `json:"channels"`
	// Deleting marks the channels a DeleteChannel is removing, with when it
	// started (see DeleteChannel).
	Deleting map[int]time.Time `json:"deleting,omitempty"`
}

type defaultChannelsDoc struct {
	NextID          int                      `json:"nextId"`
	DefaultChannels []maestro.DefaultChannel `json:"defaultChannels"`
}

type repoPoliciesDoc struct {
	Policies []maestro.RepositoryBranchPolicy `json:"policies"`
}

func readDoc[T any](ctx context.Context, st store.Store, key string) (T, error) {
	var v T
	_, err := getJSON(ctx, st, key, &v)
	if err != nil && !errors.Is(err, store.ErrNotExist) {
		return v, err
	}
	return v, nil
}

// AddChannel creates a channel; names are unique, compared case-insensitively.
func (r *Registry) AddChannel(ctx context.Context, name, classification string) (maestro.Channel, error) {
	name = strings.TrimSpace(name)
	if err := ValidateName(name); err != nil {
		return maestro.Channel{}, invalid("channel name", err, "")
	}
	if classification == "" {
		classification = "dev"
	}
	if err := ValidateName(classification); err != nil {
		return maestro.Channel{}, invalid("channel classification", err, "")
	}
	var added maestro.Channel
	_, err := update(ctx, r.st, channelsKey, func(d *channelsDoc, _ bool) error {
		for _, c := range d.Channels {
			if strings.EqualFold(c.Name, name) {
				return maestro.Errorf(maestro.KindConflict, "channel %q exists already (id %d)", c.Name, c.ID)
			}
		}
		d.NextID = max(d.NextID, 1)
		added = maestro.Channel{ID: d.NextID, Name: name, Classification: classification}
		d.NextID++
		d.Channels = append(d.Channels, added)
		return nil
	})
	return added, err
}

// Channels lists every channel by id.
func (r *Registry) Channels(ctx context.Context) ([]maestro.Channel, error) {
	d, err := readDoc[channelsDoc](ctx, r.st, channelsKey)
	return d.Channels, err
}

// Channel returns the channel with id.
func (r *Registry) Channel(ctx context.Context, id int) (maestro.Channel, error) {
	all, err := r.Channels(ctx)
	if err != nil {
		return maestro.Channel{}, err
	}
	for _, c := range all {
		if c.ID == id {
			return c, nil
		}
	}
	return maestro.Channel{}, maestro.Errorf(maestro.KindNotFound, "channel %d does not exist; `maestro channel list` shows the channels", id)
}

// ChannelByName returns the channel named name (case-insensitive).
func (r *Registry) ChannelByName(ctx context.Context, name string) (maestro.Channel, error) {
	all, err := r.Channels(ctx)
	if err != nil {
		return maestro.Channel{}, err
	}
	for _, c := range all {
		if strings.EqualFold(c.Name, name) {
			return c, nil
		}
	}
	return maestro.Channel{}, maestro.Errorf(maestro.KindNotFound, "channel %q does not exist; `maestro channel list` shows the channels", name)
}

// DeleteChannel removes a channel that no default channel or subscription
// uses. It cannot race an add into a dangling reference:
//
//  1. it marks the channel deleting in config/channels.json (under ETag);
//  2. it looks for default channels and subscriptions of the channel; if
//     there is one, it takes the mark away and refuses (exit 4);
//  3. it removes the channel and the mark, if its own mark is still there.
//
// An add of a subscription or default channel writes its document and then
// reads config/channels.json again (checkChannelLive): when the channel is
// marked or gone, it removes what it wrote and refuses. An add whose re-read
// came before step 1 wrote its document before step 2 looked, so step 2
// sees it; an add whose re-read came after step 1 takes itself back. Channel
// ids are never reused, so a late reference cannot point at a new channel.
// A delete that dies after step 1 leaves the mark: adds to the channel are
// refused until `maestro channel delete` runs again and finishes (or takes
// the mark away). An add killed between its write and its re-read while a
// delete runs is the one way to leave a dangling reference; `maestro
// registry check` lists it and `registry repair` removes it.
func (r *Registry) DeleteChannel(ctx context.Context, id int) error {
	mark := r.now().UTC()
	_, err := update(ctx, r.st, channelsKey, func(d *channelsDoc, _ bool) error {
		if !slices.ContainsFunc(d.Channels, func(c maestro.Channel) bool { return c.ID == id }) {
			return maestro.Errorf(maestro.KindNotFound, "channel %d does not exist", id)
		}
		if d.Deleting == nil {
			d.Deleting = map[int]time.Time{}
		}
		d.Deleting[id] = mark
		return nil
	})
	if err != nil {
		return err
	}
	if err := r.channelUnused(ctx, id); err != nil {
		_, uerr := update(ctx, r.st, channelsKey, func(d *channelsDoc, _ bool) error {
			if t, ok := d.Deleting[id]; !ok || !t.Equal(mark) {
				return errUnchanged
			}
			delete(d.Deleting, id)
			return nil
		})
		return errors.Join(err, uerr)
	}
	_, err = update(ctx, r.st, channelsKey, func(d *channelsDoc, _ bool) error {
		i := slices.IndexFunc(d.Channels, func(c maestro.Channel) bool { return c.ID == id })
		if i < 0 {
			return maestro.Errorf(maestro.KindNotFound, "channel %d does not exist", id)
		}
		if t, ok := d.Deleting[id]; !ok || !t.Equal(mark) {
			return maestro.Errorf(maestro.KindConflict, "channel %d: another delete of it ran meanwhile; run `maestro channel delete` again", id)
		}
		d.Channels = slices.Delete(d.Channels, i, i+1)
		delete(d.Deleting, id)
		return nil
	})
	return err
}

// channelUnused returns a conflict naming a default channel or subscription
// of the channel, if there is one.
func (r *Registry) channelUnused(ctx context.Context, id int) error {
	dcs, err := r.DefaultChannels(ctx)
	if err != nil {
		return err
	}
	for _, dc := range dcs {
		if dc.ChannelID == id {
			return maestro.Errorf(maestro.KindConflict, "channel %d is used by default channel %d; delete that first", id, dc.ID)
		}
	}
	subs, err := r.Subscriptions(ctx, SubscriptionFilter{ChannelID: id})
	if err != nil {
		return err
	}
	if len(subs) > 0 {
		return maestro.Errorf(maestro.KindConflict, "channel %d is used by %d subscription(s), e.g. %s; delete them first", id, len(subs), subs[0].ID)
	}
	return nil
}

// checkChannelLive returns an error unless the channel exists and no
// DeleteChannel has marked it: not found, or a conflict.
func (r *Registry) checkChannelLive(ctx context.Context, id int) error {
	d, err := readDoc[channelsDoc](ctx, r.st, channelsKey)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(d.Channels, func(c maestro.Channel) bool { return c.ID == id }) {
		return maestro.Errorf(maestro.KindNotFound, "channel %d does not exist; `maestro channel list` shows the channels", id)
	}
	if t, ok := d.Deleting[id]; ok {
		return maestro.Errorf(maestro.KindConflict, "channel %d is being deleted (since %s); if that delete was interrupted, run `maestro channel delete --name %d` again", id, t.Format(time.RFC3339), id)
	}
	return nil
}

// ChannelHasBuilds reports whether any build is in the channel.
func (r *Registry) ChannelHasBuilds(ctx context.Context, id int) (bool, error) {
	bs, err := r.Builds(ctx, BuildFilter{ChannelID: id, Limit: 1})
	return len(bs) > 0, err
}

// ValidateBranchPattern checks a default channel branch: a git branch name,
// or -regex: and a regular expression that compiles.
func ValidateBranchPattern(branch string) error {
	if strings.TrimSpace(branch) == "" {
		return maestro.Errorf(maestro.KindInvalid, "branch is empty")
	}
	if pattern, ok := strings.CutPrefix(branch, maestro.RegexBranchPrefix); ok {
		if err := validateText(pattern, maxBranchLen); err != nil {
			return invalid("branch", err, "")
		}
		if _, err := regexp.Compile(pattern); err != nil {
			return maestro.Errorf(maestro.KindInvalid, "branch %q: bad regular expression: %v", branch, err)
		}
		return nil
	}
	if err := ValidateBranch(branch); err != nil {
		return invalid("branch", err, "")
	}
	return nil
}

// AddDefaultChannel records that builds of repository+branch go to a channel.
func (r *Registry) AddDefaultChannel(ctx context.Context, dc maestro.DefaultChannel) (maestro.DefaultChannel, error) {
	if err := ValidateURL(dc.Repository); err != nil {
		return dc, invalid("default channel: repository", err, "")
	}
	dc.Branch = trimRefsHeads(dc.Branch)
	if err := ValidateBranchPattern(dc.Branch); err != nil {
		return dc, err
	}
	if err := r.checkChannelLive(ctx, dc.ChannelID); err != nil {
		return dc, err
	}
	_, err := update(ctx, r.st, defaultChannelsKey, func(d *defaultChannelsDoc, _ bool) error {
		for _, o := range d.DefaultChannels {
			if o.ChannelID == dc.ChannelID && o.Branch == dc.Branch && repourl.Equal(o.Repository, dc.Repository) {
				return maestro.Errorf(maestro.KindConflict, "default channel %d already maps %s@%s to channel %d", o.ID, o.Repository, o.Branch, o.ChannelID)
			}
		}
		d.NextID = max(d.NextID, 1)
		dc.ID = d.NextID
		d.NextID++
		d.DefaultChannels = append(d.DefaultChannels, dc)
		return nil
	})
	if err != nil {
		return dc, err
	}
	// Written; now the channel must still be live (see DeleteChannel).
	if err := r.checkChannelLive(ctx, dc.ChannelID); err != nil {
		if derr := r.DeleteDefaultChannel(ctx, dc.ID); derr != nil && maestro.KindOf(derr) != maestro.KindNotFound {
			return dc, errors.Join(err, derr)
		}
		return dc, err
	}
	return dc, nil
}

// DefaultChannels lists every default channel by id.
func (r *Registry) DefaultChannels(ctx context.Context) ([]maestro.DefaultChannel, error) {
	d, err := readDoc[defaultChannelsDoc](ctx, r.st, defaultChannelsKey)
	return d.DefaultChannels, err
}

// DeleteDefaultChannel removes a default channel.
func (r *Registry) DeleteDefaultChannel(ctx context.Context, id int) error {
	_, err := update(ctx, r.st, defaultChannelsKey, func(d *defaultChannelsDoc, _ bool) error {
		i := slices.IndexFunc(d.DefaultChannels, func(dc maestro.DefaultChannel) bool { return dc.ID == id })
		if i < 0 {
			return maestro.Errorf(maestro.KindNotFound, "default channel %d does not exist", id)
		}
		d.DefaultChannels = slices.Delete(d.DefaultChannels, i, i+1)
		return nil
	})
	return err
}

// SetDefaultChannelEnabled enables or disables a default channel.
func (r *Registry) SetDefaultChannelEnabled(ctx context.Context, id int, enabled bool) error {
	_, err := update(ctx, r.st, defaultChannelsKey, func(d *defaultChannelsDoc, _ bool) error {
		for i := range d.DefaultChannels {
			if d.DefaultChannels[i].ID == id {
				if d.DefaultChannels[i].Enabled == enabled {
					return errUnchanged
				}
				d.DefaultChannels[i].Enabled = enabled
				return nil
			}
		}
		return maestro.Errorf(maestro.KindNotFound, "default channel %d does not exist", id)
	})
	return err
}

// MatchDefaultChannels returns the ids of channels whose enabled default
// channels match repository and branch, sorted.
func MatchDefaultChannels(dcs []maestro.DefaultChannel, repository, branch string) []int {
	branch = trimRefsHeads(branch)
	var ids []int
	for _, dc := range dcs {
		if !dc.Enabled || !repourl.Equal(dc.Repository, repository) || !branchMatches(dc.Branch, branch) {
			continue
		}
		if !slices.Contains(ids, dc.ChannelID) {
			ids = append(ids, dc.ChannelID)
		}
	}
	sort.Ints(ids)
	return ids
}

func branchMatches(pattern, branch string) bool {
	if expr, ok := strings.CutPrefix(pattern, maestro.RegexBranchPrefix); ok {
		re, err := regexp.Compile(expr)
		return err == nil && re.MatchString(branch)
	}
	return trimRefsHeads(pattern) == branch
}

func trimRefsHeads(branch string) string {
	return strings.TrimPrefix(strings.TrimSpace(branch), "refs/heads/")
}

// SetRepositoryPolicy creates or replaces the merge policies of a repository branch.
func (r *Registry) SetRepositoryPolicy(ctx context.Context, p maestro.RepositoryBranchPolicy) error {
	if err := ValidateURL(p.Repository); err != nil {
		return invalid("repository policy: repository", err, "")
	}
	p.Branch = trimRefsHeads(p.Branch)
	if err := ValidateBranch(p.Branch); err != nil {
		return invalid("repository policy: branch", err, "")
	}
	if err := ValidateMergePolicies(p.MergePolicies); err != nil {
		return err
	}
	if err := ValidatePullRequestCaps(p); err != nil {
		return err
	}
	if err := ValidateCheckCommand(p); err != nil {
		return err
	}
	if err := ValidateBuildCommands(p); err != nil {
		return err
	}
	if err := ValidateMergeMethod(p); err != nil {
		return err
	}
	p.MergeMethod = p.EffectiveMergeMethod()
	_, err := update(ctx, r.st, repoPoliciesKey, func(d *repoPoliciesDoc, _ bool) error {
		i := slices.IndexFunc(d.Policies, func(o maestro.RepositoryBranchPolicy) bool {
			return o.Branch == p.Branch && repourl.Equal(o.Repository, p.Repository)
		})
		if i >= 0 {
			d.Policies[i] = p
		} else {
			d.Policies = append(d.Policies, p)
		}
		return nil
	})
	return err
}

// RepositoryPolicy returns the policy of a repository branch.
func (r *Registry) RepositoryPolicy(ctx context.Context, repository, branch string) (maestro.RepositoryBranchPolicy, error) {
	all, err := r.RepositoryPolicies(ctx)
	if err != nil {
		return maestro.RepositoryBranchPolicy{}, err
	}
	branch = trimRefsHeads(branch)
	for _, p := range all {
		if p.Branch == branch && repourl.Equal(p.Repository, repository) {
			return p, nil
		}
	}
	return maestro.RepositoryBranchPolicy{}, maestro.Errorf(maestro.KindNotFound, "no merge policies set for %s@%s", repository, branch)
}

// RepositoryPolicies lists every repository branch policy. Each has its
// merge method spelled out: a policy written before merge methods existed
// reads as MergeMethodSquash.
func (r *Registry) RepositoryPolicies(ctx context.Context) ([]maestro.RepositoryBranchPolicy, error) {
	d, err := readDoc[repoPoliciesDoc](ctx, r.st, repoPoliciesKey)
	for i := range d.Policies {
		d.Policies[i].MergeMethod = d.Policies[i].EffectiveMergeMethod()
	}
	return d.Policies, err
}

// ValidateMergeMethod checks a repository policy's merge method: empty
// (squash) or one of maestro.MergeMethods, spelled exactly. Native with
// auto-merge off is valid: the method is kept for when auto-merge is on.
func ValidateMergeMethod(p maestro.RepositoryBranchPolicy) error {
	if p.MergeMethod == "" || slices.Contains(maestro.MergeMethods, p.MergeMethod) {
		return nil
	}
	return maestro.Errorf(maestro.KindInvalid, "repository policy %s@%s: mergeMethod %q is unknown; use %s", p.Repository, p.Branch, p.MergeMethod, strings.Join(maestro.MergeMethods, " or "))
}

// DeleteRepositoryPolicy removes the policy of a repository branch.
func (r *Registry) DeleteRepositoryPolicy(ctx context.Context, repository, branch string) error {
	branch = trimRefsHeads(branch)
	_, err := update(ctx, r.st, repoPoliciesKey, func(d *repoPoliciesDoc, _ bool) error {
		i := slices.IndexFunc(d.Policies, func(o maestro.RepositoryBranchPolicy) bool {
			return o.Branch == branch && repourl.Equal(o.Repository, repository)
		})
		if i < 0 {
			return maestro.Errorf(maestro.KindNotFound, "no merge policies set for %s@%s", repository, branch)
		}
		d.Policies = slices.Delete(d.Policies, i, i+1)
		return nil
	})
	return err
}

// ValidateMergePolicies applies the rules the production service enforces:
// known names only, and Standard never beside a policy it already contains.
func ValidateMergePolicies(ps []maestro.MergePolicy) error {
	seen := map[string]bool{}
	for _, p := range ps {
		if !slices.Contains(maestro.MergePolicyNames, p.Name) {
			return maestro.Errorf(maestro.KindInvalid, "unknown merge policy %q; valid ones: %s", p.Name, strings.Join(maestro.MergePolicyNames, ", "))
		}
		if seen[p.Name] {
			return maestro.Errorf(maestro.KindInvalid, "merge policy %q is listed twice", p.Name)
		}
		seen[p.Name] = true
	}
	if seen[maestro.PolicyStandard] {
		for _, m := range maestro.StandardPolicyMembers {
			if seen[m] {
				return maestro.Errorf(maestro.KindInvalid, "merge policy Standard already contains %s; list one or the other", m)
			}
		}
	}
	return nil
}
