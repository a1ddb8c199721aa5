package registry_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// TestCheckSubscription: a what-if's check refuses what an add or update
// would refuse — a duplicate, a changed target or batchable, bad fields —
// returns the subscription with the defaults an add fills in, and writes
// nothing.
func TestCheckSubscription(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	reg := registry.New(st)
	ch, err := reg.AddChannel(ctx, "dev", "")
	require.NoError(t, err)
	first, err := reg.AddSubscription(ctx, sub(ch.ID, "https://github.com/dotnet/runtime"))
	require.NoError(t, err)
	before, err := st.List(ctx, "")
	require.NoError(t, err)

	got, err := reg.CheckSubscription(ctx, sub(ch.ID, "https://github.com/dotnet/sdk"), nil)
	require.NoError(t, err)
	assert.Equal(t, maestro.FrequencyEveryDay, got.Policy.UpdateFrequency, "the default an add fills in")

	_, err = reg.CheckSubscription(ctx, sub(ch.ID, "https://github.com/dotnet/runtime"), nil)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err), "a duplicate: %v", err)

	changed := first
	changed.Enabled = false
	_, err = reg.CheckSubscription(ctx, changed, &first)
	assert.NoError(t, err, "an update that keeps its own key is no duplicate")
	changed.TargetBranch = "release"
	_, err = reg.CheckSubscription(ctx, changed, &first)
	assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err), "the target branch is fixed: %v", err)
	changed = first
	changed.Policy.Batchable = true
	_, err = reg.CheckSubscription(ctx, changed, &first)
	assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err), "batchable is fixed: %v", err)
	bad := sub(ch.ID, "https://github.com/dotnet/sdk")
	bad.Policy.UpdateFrequency = "hourly"
	_, err = reg.CheckSubscription(ctx, bad, nil)
	assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err), "%v", err)
	_, err = reg.CheckSubscription(ctx, sub(ch.ID+1, "https://github.com/dotnet/sdk"), nil)
	assert.Equal(t, maestro.KindNotFound, maestro.KindOf(err), "a channel that does not exist: %v", err)

	after, err := st.List(ctx, "")
	require.NoError(t, err)
	assert.Equal(t, before, after, "CheckSubscription wrote to the store")
}
