package config

import (
	"context"
	"fmt"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// Registry is the part of the Build Asset Registry that configuration reads
// and writes. *registry.Registry implements it; errors are the registry's.
type Registry interface {
	Channels(ctx context.Context) ([]maestro.Channel, error)
	AddChannel(ctx context.Context, name, classification string) (maestro.Channel, error)
	DeleteChannel(ctx context.Context, id int) error

	DefaultChannels(ctx context.Context) ([]maestro.DefaultChannel, error)
	AddDefaultChannel(ctx context.Context, dc maestro.DefaultChannel) (maestro.DefaultChannel, error)
	SetDefaultChannelEnabled(ctx context.Context, id int, enabled bool) error
	DeleteDefaultChannel(ctx context.Context, id int) error

	Subscriptions(ctx context.Context, f registry.SubscriptionFilter) ([]maestro.Subscription, error)
	AddSubscription(ctx context.Context, s maestro.Subscription) (maestro.Subscription, error)
	UpdateSubscription(ctx context.Context, id string, fn func(s *maestro.Subscription) error) (maestro.Subscription, error)
	DeleteSubscription(ctx context.Context, id string) error

	RepositoryPolicies(ctx context.Context) ([]maestro.RepositoryBranchPolicy, error)
	ChannelHasBuilds(ctx context.Context, id int) (bool, error)
	SetRepositoryPolicy(ctx context.Context, p maestro.RepositoryBranchPolicy) error
	DeleteRepositoryPolicy(ctx context.Context, repository, branch string) error

	Mirrors(ctx context.Context) ([]maestro.Mirror, error)
	AddMirror(ctx context.Context, m maestro.Mirror) error
	UpdateMirror(ctx context.Context, source string, change func(m *maestro.Mirror)) (maestro.Mirror, error)
	DeleteMirror(ctx context.Context, source string) error

	PublishTriggers(ctx context.Context) ([]maestro.PublishTrigger, error)
	SetPublishTrigger(ctx context.Context, t maestro.PublishTrigger, hosts maestro.HostChecker) (bool, error)
	DeletePublishTrigger(ctx context.Context, t maestro.PublishTrigger) error
}

var _ Registry = (*registry.Registry)(nil)

// State is what a registry holds that a configuration file describes.
type State struct {
	Channels           []maestro.Channel
	DefaultChannels    []maestro.DefaultChannel
	Subscriptions      []maestro.Subscription
	RepositoryPolicies []maestro.RepositoryBranchPolicy
	Mirrors            []maestro.Mirror
	PublishTriggers    []maestro.PublishTrigger
	// ChannelsWithBuilds holds the ids of the channels that hold builds
	// (filled by LoadChannelBuilds, for plans that prune).
	ChannelsWithBuilds map[int]bool
}

// Load reads the configuration part of a registry.
func Load(ctx context.Context, reg Registry) (*State, error) {
	var st State
	var err error
	if st.Channels, err = reg.Channels(ctx); err != nil {
		return nil, fmt.Errorf("read channels: %w", err)
	}
	if st.DefaultChannels, err = reg.DefaultChannels(ctx); err != nil {
		return nil, fmt.Errorf("read default channels: %w", err)
	}
	if st.Subscriptions, err = reg.Subscriptions(ctx, registry.SubscriptionFilter{}); err != nil {
		return nil, fmt.Errorf("read subscriptions: %w", err)
	}
	if st.RepositoryPolicies, err = reg.RepositoryPolicies(ctx); err != nil {
		return nil, fmt.Errorf("read repository policies: %w", err)
	}
	if st.Mirrors, err = reg.Mirrors(ctx); err != nil {
		return nil, fmt.Errorf("read mirrors: %w", err)
	}
	if st.PublishTriggers, err = reg.PublishTriggers(ctx); err != nil {
		return nil, fmt.Errorf("read publish triggers: %w", err)
	}
	return &st, nil
}

// LoadChannelBuilds fills st.ChannelsWithBuilds, which a plan that prunes
// needs: one bounded question per channel, so Load (and export) leave it out.
func LoadChannelBuilds(ctx context.Context, reg Registry, st *State) error {
	st.ChannelsWithBuilds = map[int]bool{}
	for _, c := range st.Channels {
		has, err := reg.ChannelHasBuilds(ctx, c.ID)
		if err != nil {
			return fmt.Errorf("read builds of channel %q: %w", c.Name, err)
		}
		if has {
			st.ChannelsWithBuilds[c.ID] = true
		}
	}
	return nil
}
