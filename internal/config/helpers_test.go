package config_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/config"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/local"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// sequentialIDs makes subscription ids 00000000-0000-4000-8000-000000000001, ...
func sequentialIDs() func() string {
	n := 0
	return func() string {
		n++
		return fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
	}
}

func newRegistryOn(st store.Store) *registry.Registry {
	return registry.New(st,
		registry.WithIDGenerator(sequentialIDs()),
		registry.WithClock(func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }))
}

// memRegistry is a registry in memory, for tests of logic.
func memRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	return newRegistryOn(mem.New())
}

// localRegistry is a registry on the local-directory store in a temporary directory.
func localRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	st, err := local.Open(t.TempDir())
	require.NoError(t, err)
	return newRegistryOn(st)
}

func parse(t *testing.T, name, text string) *config.File {
	t.Helper()
	f, err := config.Parse(name, []byte(text))
	require.NoError(t, err)
	return f
}

// plan parses text and plans it against reg.
func plan(t *testing.T, reg config.Registry, text string, opts config.Options) (*config.Plan, error) {
	t.Helper()
	ctx := context.Background()
	st, err := config.Load(ctx, reg)
	require.NoError(t, err)
	return config.NewPlan(parse(t, "maestro.yaml", text), st, opts)
}

// apply parses, plans and applies text to reg, failing the test on any error.
func apply(t *testing.T, reg config.Registry, text string, opts config.Options) *config.Plan {
	t.Helper()
	p, err := plan(t, reg, text, opts)
	require.NoError(t, err)
	_, err = p.Apply(context.Background(), reg)
	require.NoError(t, err)
	return p
}

// export returns the registry's configuration as YAML.
func export(t *testing.T, reg config.Registry) string {
	t.Helper()
	st, err := config.Load(context.Background(), reg)
	require.NoError(t, err)
	f, err := config.Export(st)
	require.NoError(t, err)
	data, err := f.Marshal()
	require.NoError(t, err)
	return string(data)
}

// diff renders a plan.
func diff(t *testing.T, p *config.Plan) string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, p.Write(&b))
	return b.String()
}

// mustSub returns a subscription on ".NET 10" from source into dotnet/runtime main.
func mustSub(t *testing.T, reg *registry.Registry, id, source string) maestro.Subscription {
	t.Helper()
	ch, err := reg.ChannelByName(context.Background(), ".NET 10")
	require.NoError(t, err)
	return maestro.Subscription{
		ID: id, ChannelID: ch.ID, SourceRepository: source,
		TargetRepository: "https://github.com/dotnet/runtime", TargetBranch: "main", Enabled: true,
	}
}
