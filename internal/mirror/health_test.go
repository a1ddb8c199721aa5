package mirror_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/mirror"
)

func TestHealth(t *testing.T) {
	const src, dst = "https://github.com/dotnet/runtime", "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime"
	m := maestro.Mirror{SourceRepository: src, TargetRepository: dst,
		Branches: []maestro.MirrorBranch{{Pattern: "main", Mode: maestro.MirrorFastForward}, {Pattern: `release/.*`, Mode: maestro.MirrorInternalMerge}}}
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	run := func(hoursAgo int, branch string, r maestro.MirrorResult) maestro.MirrorOutcome {
		return maestro.MirrorOutcome{Time: now.Add(-time.Duration(hoursAgo) * time.Hour), SourceRepository: src, Branch: branch,
			TargetRepository: dst, TargetBranch: branch, Mode: maestro.MirrorFastForward, Result: r, Message: string(r) + " message\nsecond line"}
	}
	history := []maestro.MirrorOutcome{
		// main: current 30h ago, failing since 26h ago.
		run(30, "main", maestro.MirrorFastForwarded), run(26, "main", maestro.MirrorRefused), run(2, "main", maestro.MirrorRefused),
		// release/9.0: failing for 3 hours only.
		run(40, "release/9.0", maestro.MirrorMerged), run(3, "release/9.0", maestro.MirrorConflict),
		// release/8.0: failed long ago, current since.
		run(50, "release/8.0", maestro.MirrorConflict), run(1, "release/8.0", maestro.MirrorUpToDate),
		// feature/x: no pattern selects it.
		run(60, "feature/x", maestro.MirrorFailure),
		// another source, not configured.
		{Time: now.Add(-70 * time.Hour), SourceRepository: "https://github.com/dotnet/other", Branch: "main", Result: maestro.MirrorFailure},
	}
	// Under another spelling of the source, never current.
	history = append(history, maestro.MirrorOutcome{Time: now.Add(-25 * time.Hour), SourceRepository: "https://github.com/DotNet/Runtime.git",
		Branch: "release/7.0", TargetRepository: dst + ".git", TargetBranch: "internal/release/7.0", Mode: maestro.MirrorInternalMerge, Result: maestro.MirrorFailure, Message: "unreachable"})

	got := mirror.Health(now, 24*time.Hour, []maestro.Mirror{m}, history)
	require.Len(t, got, 2)
	assert.Equal(t, mirror.ProblemFailing, got[0].Kind)
	assert.Equal(t, [2]string{dst, "main"}, [2]string{got[0].Repository, got[0].Branch})
	assert.Equal(t, "the mirror of "+src+" main has not been current since 2026-12-04T10:00:00Z (2 runs); the last one: refused — refused message", got[0].Message)
	assert.Contains(t, got[0].Action, "maestro mirror history --source "+src+" --branch main")
	assert.Equal(t, "internal/release/7.0", got[1].Branch)
	assert.Contains(t, got[1].Message, "since 2026-12-04T11:00:00Z (1 runs)")

	assert.Len(t, mirror.Health(now, 30*time.Hour, []maestro.Mirror{m}, history), 0, "within a longer limit")

	// Runs of main into internal/main are not the configured mirror of main into main.
	merged := run(1, "main", maestro.MirrorMerged)
	merged.TargetBranch, merged.Mode = "internal/main", maestro.MirrorInternalMerge
	got = mirror.Health(now, 24*time.Hour, []maestro.Mirror{m}, append(history, merged))
	require.Len(t, got, 2, "a current internal/main does not make main current")
	assert.Equal(t, "main", got[0].Branch)
	assert.Empty(t, mirror.Health(now, time.Hour, nil, history), "no configured mirror")
}

// TestHealthFollowsTheConfiguration: after a branch's mode or the
// mirror's target changes (say, because fastForward kept being refused),
// the runs of the old mode or into the old target are no longer the
// mirror's: their failing streak, which no run will ever end, is not a
// problem; the runs of the configured mode into the configured target are.
func TestHealthFollowsTheConfiguration(t *testing.T) {
	const src, oldDst, dst = "https://github.com/dotnet/runtime", "https://dev.azure.com/dnceng/internal/_git/old", "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime"
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	at := func(hoursAgo int, target string, mode maestro.MirrorMode, r maestro.MirrorResult) maestro.MirrorOutcome {
		return maestro.MirrorOutcome{Time: now.Add(-time.Duration(hoursAgo) * time.Hour), SourceRepository: src, Branch: "main", TargetRepository: target,
			TargetBranch: mode.TargetBranch("main"), Mode: mode, Result: r}
	}
	history := []maestro.MirrorOutcome{
		at(50, dst, maestro.MirrorFastForward, maestro.MirrorFastForwarded),
		at(48, dst, maestro.MirrorFastForward, maestro.MirrorRefused), // then main became internalMerge
		at(47, dst, maestro.MirrorInternalMerge, maestro.MirrorCreated),
		at(40, oldDst, maestro.MirrorInternalMerge, maestro.MirrorFailure), // the target moved away from old
		at(1, dst, maestro.MirrorInternalMerge, maestro.MirrorMerged),
	}
	m := maestro.Mirror{SourceRepository: src, TargetRepository: dst, Branches: []maestro.MirrorBranch{{Pattern: "main", Mode: maestro.MirrorInternalMerge}}}
	assert.Empty(t, mirror.Health(now, 24*time.Hour, []maestro.Mirror{m}, history))

	// Back to fastForward: the old refusal is the configured mode's last run again.
	m.Branches[0].Mode = maestro.MirrorFastForward
	got := mirror.Health(now, 24*time.Hour, []maestro.Mirror{m}, history)
	require.Len(t, got, 1)
	assert.Equal(t, [2]string{dst, "main"}, [2]string{got[0].Repository, got[0].Branch})
}

// TestHealthOnSettledHistory: Health judges each branch by its runs back to
// the newest settled one (mirror.Settled), so reading only that part of the
// history, newest first, gives the same problems as reading it whole.
func TestHealthOnSettledHistory(t *testing.T) {
	const src, dst = "https://github.com/dotnet/runtime", "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime"
	m := maestro.Mirror{SourceRepository: src, TargetRepository: dst,
		Branches: []maestro.MirrorBranch{{Pattern: "main", Mode: maestro.MirrorFastForward}, {Pattern: `release/.*`, Mode: maestro.MirrorInternalMerge}}}
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	var history []maestro.MirrorOutcome
	results := []maestro.MirrorResult{maestro.MirrorFastForwarded, maestro.MirrorRefused, maestro.MirrorFailure, maestro.MirrorUpToDate, maestro.MirrorConflict, maestro.MirrorMerged}
	for i := range 300 {
		branch := []string{"main", "release/9.0", "feature/x"}[i%3]
		mode := []maestro.MirrorMode{maestro.MirrorFastForward, maestro.MirrorInternalMerge}[(i/7)%2]
		history = append(history, maestro.MirrorOutcome{Time: now.Add(time.Duration(i-300) * time.Hour), SourceRepository: src, Branch: branch,
			TargetRepository: dst, TargetBranch: mode.TargetBranch(branch), Mode: mode, Result: results[(i*i/5)%len(results)]})
	}
	// Newest first per branch, up to the first settled run.
	recent := map[string][]maestro.MirrorOutcome{}
	done := map[string]bool{}
	for i := len(history) - 1; i >= 0; i-- {
		o := history[i]
		if done[o.Branch] {
			continue
		}
		recent[o.Branch] = append([]maestro.MirrorOutcome{o}, recent[o.Branch]...)
		done[o.Branch] = mirror.Settled(m, o)
	}
	var truncated []maestro.MirrorOutcome
	for _, b := range []string{"main", "release/9.0", "feature/x"} {
		truncated = append(truncated, recent[b]...)
	}
	require.Less(t, len(truncated), len(history))
	for _, age := range []time.Duration{time.Hour, 10 * time.Hour, 24 * time.Hour, 100 * time.Hour} {
		assert.Equal(t, mirror.Health(now, age, []maestro.Mirror{m}, history), mirror.Health(now, age, []maestro.Mirror{m}, truncated), "max age %s", age)
	}
}
