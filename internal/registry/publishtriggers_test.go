package registry_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// TestPublishTriggersCRUD: a pipeline is opted in once (organizations
// compared without trailing slashes, *.visualstudio.com as dev.azure.com,
// projects ignoring case), listed, matched by project name or id, and
// opted out; a missing one is not found.
func TestPublishTriggersCRUD(t *testing.T) {
	ctx := context.Background()
	r := registry.New(mem.New())
	tr := maestro.PublishTrigger{Organization: "https://dev.azure.com/dnceng/", Project: "internal", DefinitionID: 679}
	added, err := r.SetPublishTrigger(ctx, tr, nil)
	require.NoError(t, err)
	assert.True(t, added)
	added, err = r.SetPublishTrigger(ctx, maestro.PublishTrigger{Organization: "https://DNCENG.visualstudio.com", Project: "Internal", DefinitionID: 679}, nil)
	require.NoError(t, err)
	assert.False(t, added, "the same pipeline")
	_, err = r.SetPublishTrigger(ctx, maestro.PublishTrigger{Organization: "https://dev.azure.com/dnceng", Project: "internal", DefinitionID: 680}, nil)
	require.NoError(t, err)
	ts, err := r.PublishTriggers(ctx)
	require.NoError(t, err)
	assert.Equal(t, []maestro.PublishTrigger{
		{Organization: "https://dev.azure.com/dnceng", Project: "internal", DefinitionID: 679},
		{Organization: "https://dev.azure.com/dnceng", Project: "internal", DefinitionID: 680},
	}, ts)

	got, ok := registry.MatchPublishTrigger(ts, "https://dev.azure.com/dnceng/", []string{"7ea9116e-9fac-403d-b258-b31fcf1bb293", "INTERNAL"}, 680)
	assert.True(t, ok)
	assert.Equal(t, 680, got.DefinitionID)
	_, ok = registry.MatchPublishTrigger(ts, "https://dev.azure.com/dnceng", []string{"public"}, 680)
	assert.False(t, ok, "another project")
	_, ok = registry.MatchPublishTrigger(ts, "https://dev.azure.com/other", []string{"internal"}, 680)
	assert.False(t, ok, "another organization")
	_, ok = registry.MatchPublishTrigger(ts, "https://dev.azure.com/dnceng", []string{"internal"}, 681)
	assert.False(t, ok, "another definition")

	require.NoError(t, r.DeletePublishTrigger(ctx, maestro.PublishTrigger{Organization: "https://dev.azure.com/dnceng", Project: "INTERNAL", DefinitionID: 679}))
	err = r.DeletePublishTrigger(ctx, tr)
	assert.Equal(t, maestro.KindNotFound, maestro.KindOf(err), "%v", err)
	ts, err = r.PublishTriggers(ctx)
	require.NoError(t, err)
	assert.Len(t, ts, 1)
}

// TestPublishTriggerValidation: bad input names its field and writes
// nothing; with the wiring's host checker an organization that no token
// would be sent to is refused.
func TestPublishTriggerValidation(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	r := registry.New(st)
	hosts := wire.Env{Getenv: func(string) string { return "" }}
	tests := []struct {
		name    string
		t       maestro.PublishTrigger
		wantErr string
	}{
		{"no organization", maestro.PublishTrigger{Project: "p", DefinitionID: 1}, "organization: give the organization's URL"},
		{"not a URL", maestro.PublishTrigger{Organization: "dnceng", Project: "p", DefinitionID: 1}, `organization "dnceng": use the organization's URL`},
		{"password", maestro.PublishTrigger{Organization: "https://u:secret@dev.azure.com/dnceng", Project: "p", DefinitionID: 1}, "no user name, password"},
		{"query", maestro.PublishTrigger{Organization: "https://dev.azure.com/dnceng?token=x", Project: "p", DefinitionID: 1}, "no user name, password, query"},
		{"no project", maestro.PublishTrigger{Organization: "https://dev.azure.com/dnceng", DefinitionID: 1}, "project \"\": give the project's name"},
		{"no definition", maestro.PublishTrigger{Organization: "https://dev.azure.com/dnceng", Project: "p"}, "definitionId 0"},
		{"unknown host", maestro.PublishTrigger{Organization: "https://tfs.example.com/tfs", Project: "p", DefinitionID: 1}, "MAESTRO_AZDO_SERVER_URLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.SetPublishTrigger(ctx, tt.t, hosts)
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err), "%v", err)
			assert.ErrorContains(t, err, tt.wantErr)
			assert.NotContains(t, err.Error(), "secret")
			keys, _ := st.List(ctx, "config/")
			assert.Empty(t, keys, "nothing written")
		})
	}
}

// TestPublishTriggersConcurrent: concurrent writers lose none of each
// other's triggers.
func TestPublishTriggersConcurrent(t *testing.T) {
	ctx := context.Background()
	r := registry.New(mem.New())
	var wg sync.WaitGroup
	for i := 1; i <= 16; i++ {
		wg.Go(func() {
			_, err := r.SetPublishTrigger(ctx, maestro.PublishTrigger{Organization: "https://dev.azure.com/dnceng", Project: "internal", DefinitionID: i}, nil)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	ts, err := r.PublishTriggers(ctx)
	require.NoError(t, err)
	assert.Len(t, ts, 16)
}
