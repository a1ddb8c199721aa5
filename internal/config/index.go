package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// index answers the lookups that planning and exporting make over and over,
// so that both stay linear in the size of the registry: channels by id and
// by name, and repository identities (normalizing a URL parses it, so each
// distinct URL is normalized once).
type index struct {
	st       *State
	byID     map[int]*maestro.Channel
	byName   map[string]*maestro.Channel
	repoKeys map[string]string
}

func newIndex(st *State) *index {
	ix := &index{st: st, byID: map[int]*maestro.Channel{}, byName: map[string]*maestro.Channel{}, repoKeys: map[string]string{}}
	for i := range st.Channels {
		c := &st.Channels[i]
		ix.byID[c.ID] = c
		ix.byName[fold(c.Name)] = c
	}
	return ix
}

// fold is the identity of a channel name.
func fold(name string) string { return strings.ToLower(name) }

// channelName returns the name of the channel with id, or "#id" when there is none.
func (ix *index) channelName(id int) string {
	if c := ix.byID[id]; c != nil {
		return c.Name
	}
	return fmt.Sprintf("#%d", id)
}

// repo is the identity of a repository URL: equal for repourl.Equal URLs.
func (ix *index) repo(url string) string {
	k, ok := ix.repoKeys[url]
	if !ok {
		k = strings.ToLower(repourl.Normalize(url))
		ix.repoKeys[url] = k
	}
	return k
}

func join(parts ...string) string { return strings.Join(parts, "\x00") }

// defaultChannelKey is the identity of a default channel.
func (ix *index) defaultChannelKey(repo, branch, channel string) string {
	return join(ix.repo(repo), branch, fold(channel))
}

// policyKey is the identity of a repository policy.
func (ix *index) policyKey(repo, branch string) string { return join(ix.repo(repo), branch) }

// subscriptionKey is the identity of a subscription listed without an id:
// channel, source, target, target branch and both directories.
func (ix *index) subscriptionKey(s *Subscription) string {
	return join(fold(s.Channel), ix.repo(s.SourceRepository), ix.repo(s.TargetRepository), s.TargetBranch, s.SourceDirectory, s.TargetDirectory)
}

// registrySubscriptionKey is subscriptionKey of a registry subscription.
func (ix *index) registrySubscriptionKey(s *maestro.Subscription) string {
	return join(fold(ix.channelName(s.ChannelID)), ix.repo(s.SourceRepository), ix.repo(s.TargetRepository), s.TargetBranch, s.SourceDirectory, s.TargetDirectory)
}

// The registry's objects in export order, as pointers into the State so that
// callers can tell them apart by identity.

func (ix *index) sortedChannels() []*maestro.Channel {
	return sortedBy(ix.st.Channels, func(c *maestro.Channel) []string { return []string{fold(c.Name), c.Name} })
}

func (ix *index) sortedDefaultChannels() []*maestro.DefaultChannel {
	return sortedBy(ix.st.DefaultChannels, func(dc *maestro.DefaultChannel) []string {
		return []string{ix.repo(dc.Repository), dc.Branch, fold(ix.channelName(dc.ChannelID)), dc.Repository, fmt.Sprintf("%012d", dc.ID)}
	})
}

func (ix *index) sortedSubscriptions() []*maestro.Subscription {
	return sortedBy(ix.st.Subscriptions, func(s *maestro.Subscription) []string {
		return []string{ix.repo(s.TargetRepository), s.TargetBranch, ix.repo(s.SourceRepository), fold(ix.channelName(s.ChannelID)), s.SourceDirectory, s.TargetDirectory, s.ID}
	})
}

func (ix *index) sortedPolicies() []*maestro.RepositoryBranchPolicy {
	return sortedBy(ix.st.RepositoryPolicies, func(p *maestro.RepositoryBranchPolicy) []string {
		return []string{ix.repo(p.Repository), p.Branch, p.Repository}
	})
}

func (ix *index) sortedMirrors() []*maestro.Mirror {
	return sortedBy(ix.st.Mirrors, func(m *maestro.Mirror) []string { return []string{ix.repo(m.SourceRepository), m.SourceRepository} })
}

func (ix *index) sortedPublishTriggers() []*maestro.PublishTrigger {
	return sortedBy(ix.st.PublishTriggers, func(t *maestro.PublishTrigger) []string {
		return []string{publishTriggerKey(*t), t.Organization, t.Project}
	})
}

// publishTriggerKey identifies a publish trigger as the registry compares
// them: organization and project ignoring case, the definition id, and the
// builds it takes (official, then pull requests).
func publishTriggerKey(t maestro.PublishTrigger) string {
	return fold(registry.NormalizeOrganization(t.Organization)) + "\x00" + fold(t.Project) + "\x00" + fmt.Sprintf("%012d", t.DefinitionID) +
		"\x00" + map[bool]string{false: "0", true: "1"}[t.PullRequests]
}

// sortedBy returns pointers to the elements of s ordered by key, computing
// each element's key once.
func sortedBy[T any](s []T, key func(*T) []string) []*T {
	type item struct {
		p *T
		k []string
	}
	items := make([]item, len(s))
	for i := range s {
		items[i] = item{&s[i], key(&s[i])}
	}
	slices.SortStableFunc(items, func(a, b item) int { return slices.Compare(a.k, b.k) })
	out := make([]*T, len(items))
	for i, it := range items {
		out[i] = it.p
	}
	return out
}
