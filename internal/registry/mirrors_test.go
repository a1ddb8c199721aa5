package registry_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

func runtimeMirror() maestro.Mirror {
	return maestro.Mirror{
		SourceRepository: "https://github.com/dotnet/runtime",
		TargetRepository: "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime",
		Branches:         []maestro.MirrorBranch{{Pattern: "main", Mode: maestro.MirrorFastForward}, {Pattern: `release/\d+\.\d+`, Mode: maestro.MirrorInternalMerge}},
		Pipeline:         maestro.UpdatePipeline{Organization: "https://dev.azure.com/dnceng", Project: "internal", PipelineID: 42},
	}
}

// TestMirrorsCRUD: a mirror is added once per source (compared as
// normalized URLs), read, changed, listed and deleted; each missing one is
// not found.
func TestMirrorsCRUD(t *testing.T) {
	ctx := context.Background()
	r := registry.New(mem.New())
	m := runtimeMirror()
	require.NoError(t, r.AddMirror(ctx, m))
	other := m
	other.SourceRepository = "https://github.com/DotNet/Runtime.git"
	err := r.AddMirror(ctx, other)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err), "%v", err)
	got, err := r.Mirror(ctx, "https://github.com/dotnet/runtime/")
	require.NoError(t, err)
	assert.Equal(t, m, got)

	updated, err := r.UpdateMirror(ctx, "https://github.com/dotnet/runtime", func(m *maestro.Mirror) {
		m.Branches = append(m.Branches, maestro.MirrorBranch{Pattern: "feature/.*", Mode: maestro.MirrorFastForward})
		m.SourceRepository = "https://github.com/dotnet/other" // the key stays
	})
	require.NoError(t, err)
	assert.Equal(t, m.SourceRepository, updated.SourceRepository)
	assert.Len(t, updated.Branches, 3)
	all, err := r.Mirrors(ctx)
	require.NoError(t, err)
	assert.Equal(t, []maestro.Mirror{updated}, all)

	_, err = r.UpdateMirror(ctx, m.SourceRepository, func(m *maestro.Mirror) { m.Branches[0].Mode = "force" })
	assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
	got, _ = r.Mirror(ctx, m.SourceRepository)
	assert.Equal(t, updated, got, "a bad update writes nothing")

	require.NoError(t, r.DeleteMirror(ctx, m.SourceRepository))
	for _, err := range []error{r.DeleteMirror(ctx, m.SourceRepository), func() error { _, err := r.Mirror(ctx, m.SourceRepository); return err }(),
		func() error { _, err := r.UpdateMirror(ctx, m.SourceRepository, func(*maestro.Mirror) {}); return err }()} {
		assert.Equal(t, maestro.KindNotFound, maestro.KindOf(err), "%v", err)
	}
}

// TestMirrorBranchMatch: patterns match whole branch names, first match wins.
func TestMirrorBranchMatch(t *testing.T) {
	m := runtimeMirror()
	for branch, want := range map[string]maestro.MirrorMode{"main": maestro.MirrorFastForward, "release/9.0": maestro.MirrorInternalMerge,
		"mainline": "", "x/main": "", "release/9.0-preview": "", "release/9": ""} {
		b, ok := m.Branch(branch)
		assert.Equal(t, want != "", ok, branch)
		assert.Equal(t, want, b.Mode, branch)
	}
}

// TestValidateMirror: every bad field is refused naming it, before anything
// is written; with the composition root's hosts, a target that is not Azure
// Repos is refused too.
func TestValidateMirror(t *testing.T) {
	hosts := wire.Env{Getenv: func(string) string { return "" }}
	tests := []struct {
		name   string
		change func(m *maestro.Mirror)
		want   string
	}{
		{"bad regex", func(m *maestro.Mirror) { m.Branches[1].Pattern = "release/(" }, `branches[1].pattern "release/(": bad regular expression`},
		{"empty pattern", func(m *maestro.Mirror) { m.Branches[0].Pattern = "" }, "branches[0].pattern: is empty"},
		{"unknown mode", func(m *maestro.Mirror) { m.Branches[0].Mode = "mirror" }, `branches[0].mode: mirror mode "mirror": use fastForward or internalMerge`},
		{"no branches", func(m *maestro.Mirror) { m.Branches = nil }, "branches: name at least one branch pattern"},
		{"GitHub target", func(m *maestro.Mirror) { m.TargetRepository = "https://github.com/dotnet/runtime-copy" },
			"targetRepository: https://github.com/dotnet/runtime-copy is not an Azure Repos repository"},
		{"target on no host", func(m *maestro.Mirror) { m.TargetRepository = "https://evil.example/a/_git/b" }, "targetRepository: repository https://evil.example/a/_git/b: no configured host serves it"},
		{"target with a password", func(m *maestro.Mirror) { m.TargetRepository = "https://u:secret@dev.azure.com/a/b/_git/c" }, "targetRepository"},
		{"bad source", func(m *maestro.Mirror) { m.SourceRepository = "not a url" }, "mirror: sourceRepository"},
		{"no pipeline", func(m *maestro.Mirror) { m.Pipeline = maestro.UpdatePipeline{} }, "pipeline: name the mirror pipeline"},
		{"pipeline elsewhere", func(m *maestro.Mirror) { m.Pipeline.Organization = "https://evil.example/org" }, "pipeline: Azure DevOps organization https://evil.example/org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			r := registry.New(mem.New(), registry.WithHostChecker(hosts))
			m := runtimeMirror()
			tt.change(&m)
			err := r.AddMirror(ctx, m)
			require.Error(t, err)
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "secret")
			all, err := r.Mirrors(ctx)
			require.NoError(t, err)
			assert.Empty(t, all, "nothing written")
		})
	}
	assert.NoError(t, registry.ValidateMirror(runtimeMirror(), hosts))
}

// TestMirrorsConcurrentAdds: adds of 16 sources at once all land; adds of
// one source at once land exactly once.
func TestMirrorsConcurrentAdds(t *testing.T) {
	ctx := context.Background()
	r := registry.New(mem.New())
	var wg sync.WaitGroup
	errs := make([]error, 32)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := runtimeMirror()
			m.SourceRepository = fmt.Sprintf("https://github.com/dotnet/repo%d", i%16)
			errs[i] = r.AddMirror(ctx, m)
		}()
	}
	wg.Wait()
	var conflicts int
	for _, err := range errs {
		if err != nil {
			assert.Equal(t, maestro.KindConflict, maestro.KindOf(err), "%v", err)
			conflicts++
		}
	}
	assert.Equal(t, 16, conflicts)
	all, err := r.Mirrors(ctx)
	require.NoError(t, err)
	assert.Len(t, all, 16)
}

// TestMirrorHostsOnUpdate: a mirror recorded while its host was configured
// stays editable after the host left the configuration; moving its target
// or pipeline onto an unconfigured host is refused.
func TestMirrorHostsOnUpdate(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	server := func(k string) string {
		if k == wire.EnvAzdoServerURLs {
			return "https://tfs.contoso.com/coll"
		}
		return ""
	}
	m := runtimeMirror()
	m.TargetRepository = "https://tfs.contoso.com/coll/internal/_git/dotnet-runtime"
	m.Pipeline.Organization = "https://tfs.contoso.com/coll"
	require.NoError(t, registry.New(st, registry.WithHostChecker(wire.Env{Getenv: server})).AddMirror(ctx, m))

	r := registry.New(st, registry.WithHostChecker(wire.Env{Getenv: func(string) string { return "" }}))
	got, err := r.UpdateMirror(ctx, m.SourceRepository, func(m *maestro.Mirror) { m.Branches = m.Branches[:1] })
	require.NoError(t, err, "editable")
	assert.Len(t, got.Branches, 1)
	_, err = r.UpdateMirror(ctx, m.SourceRepository, func(m *maestro.Mirror) {
		m.TargetRepository = "https://tfs.contoso.com/coll/internal/_git/runtime"
	})
	assert.ErrorContains(t, err, "targetRepository: repository https://tfs.contoso.com/coll/internal/_git/runtime: no configured host serves it")
	_, err = r.UpdateMirror(ctx, m.SourceRepository, func(m *maestro.Mirror) { m.Pipeline.Organization = "https://tfs.contoso.com/other" })
	assert.ErrorContains(t, err, "pipeline: Azure DevOps organization https://tfs.contoso.com/other")
}

// TestMirrorOutcomes: mirror history is kept per source and branch, oldest
// first; two runs at one instant are both kept; a source is found under
// any spelling of its URL.
func TestMirrorOutcomes(t *testing.T) {
	ctx := context.Background()
	r := registry.New(mem.New())
	at := func(min int) time.Time { return time.Date(2026, 12, 5, 8, min, 0, 0, time.UTC) }
	const rt, arcade = "https://github.com/dotnet/runtime", "https://github.com/dotnet/arcade"
	for _, o := range []maestro.MirrorOutcome{
		{Time: at(3), SourceRepository: rt, Branch: "main", Result: maestro.MirrorRefused},
		{Time: at(1), SourceRepository: rt, Branch: "main", Result: maestro.MirrorCreated},
		{Time: at(3), SourceRepository: rt, Branch: "main", Result: maestro.MirrorUpToDate},
		{Time: at(2), SourceRepository: rt, Branch: "release/9.0", Result: maestro.MirrorMerged},
		{Time: at(2), SourceRepository: arcade, Branch: "main", Result: maestro.MirrorFailure},
	} {
		_, err := r.RecordMirrorOutcome(ctx, o)
		require.NoError(t, err)
	}
	results := func(os []maestro.MirrorOutcome) []maestro.MirrorResult {
		var out []maestro.MirrorResult
		for _, o := range os {
			out = append(out, o.Result)
		}
		return out
	}
	got, err := r.MirrorOutcomes(ctx, "https://github.com/DotNet/Runtime.git", "main")
	require.NoError(t, err)
	assert.Equal(t, []maestro.MirrorResult{maestro.MirrorCreated, maestro.MirrorRefused, maestro.MirrorUpToDate}, results(got))
	got, err = r.MirrorOutcomes(ctx, rt, "")
	require.NoError(t, err)
	assert.Len(t, got, 4)
	got, err = r.MirrorOutcomes(ctx, "", "")
	require.NoError(t, err)
	assert.Len(t, got, 5)
	got, err = r.MirrorOutcomes(ctx, arcade, "release/9.0")
	require.NoError(t, err)
	assert.Empty(t, got)

	_, err = r.RecordMirrorOutcome(ctx, maestro.MirrorOutcome{SourceRepository: rt, Branch: "a b"})
	assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
	n, err := r.RecordMirrorOutcome(ctx, maestro.MirrorOutcome{SourceRepository: rt, Branch: "main", Result: maestro.MirrorUpToDate})
	require.NoError(t, err)
	assert.False(t, n.Time.IsZero(), "a zero time is now")
}

// TestMirrorSecretsInURLs: the registry neither records a mirror outcome
// whose target URL carries a password nor repeats one a caller looks up.
func TestMirrorSecretsInURLs(t *testing.T) {
	ctx := context.Background()
	r := registry.New(mem.New())
	const secret = "S3cretPassw0rd"
	_, err := r.RecordMirrorOutcome(ctx, maestro.MirrorOutcome{SourceRepository: "/src", Branch: "main",
		TargetRepository: "https://u:" + secret + "@dev.azure.com/o/p/_git/r", Result: maestro.MirrorFailure})
	require.Error(t, err)
	assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
	assert.Contains(t, err.Error(), "mirror outcome: targetRepository")
	assert.NotContains(t, err.Error(), secret)
	_, err = r.RecordMirrorOutcome(ctx, maestro.MirrorOutcome{SourceRepository: "https://github.com/dotnet/runtime?access_token=" + secret, Branch: "main",
		TargetRepository: "/t", Result: maestro.MirrorFailure})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secret)
	all, err := r.MirrorOutcomes(ctx, "", "")
	require.NoError(t, err)
	assert.Empty(t, all, "nothing recorded")
	err = r.AddMirror(ctx, maestro.Mirror{SourceRepository: "https://github.com/dotnet/runtime", TargetRepository: "https://dev.azure.com/o/p/_git/r?token=" + secret,
		Branches: []maestro.MirrorBranch{{Pattern: "main", Mode: maestro.MirrorFastForward}}, Pipeline: maestro.UpdatePipeline{Organization: "https://dev.azure.com/o", Project: "p", PipelineID: 1}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "targetRepository")
	assert.NotContains(t, err.Error(), secret)

	for _, lookup := range []func(string) error{
		func(s string) error { _, err := r.Mirror(ctx, s); return err },
		func(s string) error { return r.DeleteMirror(ctx, s) },
		func(s string) error {
			_, err := r.UpdateMirror(ctx, s, func(*maestro.Mirror) {})
			return err
		},
	} {
		err := lookup("https://u:" + secret + "@github.com/dotnet/runtime")
		require.Error(t, err)
		assert.NotContains(t, err.Error(), secret)
	}
}

// TestRecentMirrorOutcomes: each branch's history is read newest first up
// to the first outcome that is enough, so a long history before it is
// listed but not read; a branch with no such outcome is read whole.
func TestRecentMirrorOutcomes(t *testing.T) {
	ctx := context.Background()
	r, st := newFaultRegistry(t)
	const rt = "https://github.com/dotnet/runtime"
	at := func(min int) time.Time {
		return time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC).Add(time.Duration(min) * time.Minute)
	}
	record := func(min int, branch string, res maestro.MirrorResult) {
		_, err := r.RecordMirrorOutcome(ctx, maestro.MirrorOutcome{Time: at(min), SourceRepository: rt, Branch: branch, Result: res})
		require.NoError(t, err)
	}
	for i := range 100 {
		record(i, "main", maestro.MirrorFastForwarded)
	}
	record(100, "main", maestro.MirrorRefused)
	record(101, "main", maestro.MirrorRefused)
	record(5, "release/9.0", maestro.MirrorConflict)
	record(6, "release/9.0", maestro.MirrorConflict)
	record(7, "other", maestro.MirrorFailure)
	_, err := r.RecordMirrorOutcome(ctx, maestro.MirrorOutcome{Time: at(8), SourceRepository: "https://github.com/dotnet/arcade", Branch: "main", Result: maestro.MirrorFailure})
	require.NoError(t, err)

	st.gets.Store(0)
	got, err := r.RecentMirrorOutcomes(ctx, "https://github.com/DotNet/Runtime.git", func(o maestro.MirrorOutcome) bool {
		return o.Branch == "other" || o.Result.Current()
	})
	require.NoError(t, err)
	var brief []string
	for _, o := range got {
		brief = append(brief, fmt.Sprintf("%s %s %s", o.Time.Format("15:04"), o.Branch, o.Result))
	}
	assert.Equal(t, []string{"00:05 release/9.0 conflict", "00:06 release/9.0 conflict", "00:07 other failure",
		"01:39 main fastForwarded", "01:40 main refused", "01:41 main refused"}, brief)
	assert.Equal(t, int64(3+2+1), st.gets.Load(), "main read back to its last current run only")
}
