package registry_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// TestUpdateSubscriptionValidatesBeforeWriting: an update that moves a
// subscription to another natural key (channel or source repository) and
// is not valid is refused before anything is written — before, the new
// key was claimed first (a write, left behind by a crash before its
// release) and the update checked only after (PATCH /api/subscriptions).
func TestUpdateSubscriptionValidatesBeforeWriting(t *testing.T) {
	ctx := context.Background()
	r, st := newFaultRegistry(t)
	ch, err := r.AddChannel(ctx, "c", "")
	require.NoError(t, err)
	other, err := r.AddChannel(ctx, "d", "")
	require.NoError(t, err)
	s, err := r.AddSubscription(ctx, sub(ch.ID, "https://github.com/dotnet/a"))
	require.NoError(t, err)
	st.failOn(func(string) bool { return true }) // any write now fails the test's way
	for name, fn := range map[string]func(*maestro.Subscription) error{
		"source repository not a URL": func(s *maestro.Subscription) error {
			s.SourceRepository = "not a url"
			return nil
		},
		"another channel, an unknown update frequency": func(s *maestro.Subscription) error {
			s.ChannelID = other.ID
			s.Policy.UpdateFrequency = "sometimes"
			return nil
		},
		"a channel that does not exist": func(s *maestro.Subscription) error {
			s.ChannelID = 99
			return nil
		},
		"speculative with an update pipeline": func(s *maestro.Subscription) error {
			s.Speculative = true
			s.UpdatePipeline = &maestro.UpdatePipeline{Organization: "https://dev.azure.com/dnceng", Project: "internal", PipelineID: 7}
			return nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := r.UpdateSubscription(ctx, s.ID, fn)
			require.Error(t, err)
			assert.False(t, errors.Is(err, errInjected), "the update wrote before it found the input bad: %v", err)
			assert.Contains(t, []maestro.ErrorKind{maestro.KindInvalid, maestro.KindNotFound}, maestro.KindOf(err), err)
		})
	}
	st.fail.Store(nil)
	got, err := r.Subscription(ctx, s.ID)
	require.NoError(t, err)
	assert.Equal(t, s, got)
	mustClean(t, r)
}
