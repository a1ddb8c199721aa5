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
			TargetBranch: branch, Mode: maestro.MirrorFastForward, Result: r, Message: string(r) + " message\nsecond line"}
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
		Branch: "release/7.0", TargetBranch: "internal/release/7.0", Mode: maestro.MirrorInternalMerge, Result: maestro.MirrorFailure, Message: "unreachable"})

	got := mirror.Health(now, 24*time.Hour, []maestro.Mirror{m}, history)
	require.Len(t, got, 2)
	assert.Equal(t, mirror.ProblemFailing, got[0].Kind)
	assert.Equal(t, [2]string{dst, "main"}, [2]string{got[0].Repository, got[0].Branch})
	assert.Equal(t, "the mirror of "+src+" main has not been current since 2026-12-04T10:00:00Z (2 runs); the last one: refused — refused message", got[0].Message)
	assert.Contains(t, got[0].Action, "maestro mirror history --source "+src+" --branch main")
	assert.Equal(t, "internal/release/7.0", got[1].Branch)
	assert.Contains(t, got[1].Message, "since 2026-12-04T11:00:00Z (1 runs)")

	assert.Len(t, mirror.Health(now, 30*time.Hour, []maestro.Mirror{m}, history), 0, "within a longer limit")

	// Runs of main into internal/main are another mirror than main into main.
	merged := run(1, "main", maestro.MirrorMerged)
	merged.TargetBranch = "internal/main"
	got = mirror.Health(now, 24*time.Hour, []maestro.Mirror{m}, append(history, merged))
	require.Len(t, got, 2, "a current internal/main does not make main current")
	assert.Equal(t, "main", got[0].Branch)
	assert.Empty(t, mirror.Health(now, time.Hour, nil, history), "no configured mirror")
}
