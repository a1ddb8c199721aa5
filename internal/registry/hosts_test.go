package registry_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// servedHosts serves the URLs under https://good/.
type servedHosts struct{}

func (servedHosts) check(raw string) error {
	if strings.HasPrefix(raw, "https://good/") {
		return nil
	}
	return maestro.Errorf(maestro.KindInvalid, "%s: no configured host serves it", raw)
}
func (h servedHosts) CheckTarget(repo string) error              { return h.check(repo) }
func (h servedHosts) CheckPipelineOrganization(org string) error { return h.check(org) }

// TestHostCheckerRefusesUnservedHosts: with a host checker, AddSubscription
// refuses an unserved target or pipeline and UpdateSubscription a pipeline
// moved to an unserved host, writing nothing; a subscription recorded
// without the checker stays editable.
func TestHostCheckerRefusesUnservedHosts(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	r := registry.New(st, registry.WithHostChecker(servedHosts{}))
	ch, err := r.AddChannel(ctx, "c", "")
	require.NoError(t, err)
	sub := func(target, org string) maestro.Subscription {
		s := maestro.Subscription{ChannelID: ch.ID, SourceRepository: "https://anywhere/source", TargetRepository: target, TargetBranch: "main"}
		if org != "" {
			s.UpdatePipeline = &maestro.UpdatePipeline{Organization: org, Project: "p", PipelineID: 1}
		}
		return s
	}
	_, err = r.AddSubscription(ctx, sub("https://evil/a/b/_git/c", ""))
	assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
	assert.ErrorContains(t, err, "target repository: https://evil/a/b/_git/c: no configured host serves it")
	_, err = r.AddSubscription(ctx, sub("https://good/r", "https://evil/org"))
	assert.ErrorContains(t, err, "update pipeline: https://evil/org")
	subs, err := r.Subscriptions(ctx, registry.SubscriptionFilter{})
	require.NoError(t, err)
	assert.Empty(t, subs, "nothing was written")

	s, err := r.AddSubscription(ctx, sub("https://good/r", "https://good/org"))
	require.NoError(t, err, "the source repository is not checked")
	_, err = r.UpdateSubscription(ctx, s.ID, func(s *maestro.Subscription) error {
		s.UpdatePipeline.Organization = "https://evil/org"
		return nil
	})
	assert.ErrorContains(t, err, "update pipeline: https://evil/org")
	got, err := r.Subscription(ctx, s.ID)
	require.NoError(t, err)
	assert.Equal(t, "https://good/org", got.UpdatePipeline.Organization)

	legacy, err := registry.New(st).AddSubscription(ctx, sub("https://evil/a/b/_git/c", "https://evil/org"))
	require.NoError(t, err)
	_, err = r.UpdateSubscription(ctx, legacy.ID, func(s *maestro.Subscription) error {
		s.Enabled = false
		s.PullRequestFailureNotificationTags = "@team"
		return nil
	})
	assert.NoError(t, err, "a recorded subscription on an unserved host can still be disabled")
}
