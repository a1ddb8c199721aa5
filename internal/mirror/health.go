package mirror

import (
	"fmt"
	"slices"
	"time"

	"github.com/maestroplusplus/maestro/internal/flow"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// ProblemFailing is the `flow health` kind of a mirrored branch whose
// target has not been current for longer than the limit.
const ProblemFailing = "failing-mirror"

// Health judges the mirror history of the configured mirrors: a branch
// that a mirror's patterns select, whose newest run did not leave the
// target current (refused, conflict, failure) and whose runs have not left
// it current since a moment longer than maxAge before now, is a problem. A
// branch whose runs fail for less than maxAge, or that no pattern selects any
// more, is not; nor are the runs of a mode the branch's pattern no longer
// has, or into a target the mirror no longer names (no run will ever end
// their streak). outcomes may hold any history; it is grouped by source and
// branch, and must be oldest first within each.
func Health(now time.Time, maxAge time.Duration, mirrors []maestro.Mirror, outcomes []maestro.MirrorOutcome) []flow.Problem {
	var out []flow.Problem
	for _, m := range mirrors {
		key := repourl.Key(m.SourceRepository)
		byBranch := map[string][]maestro.MirrorOutcome{}
		var branches []string
		for _, o := range outcomes {
			if repourl.Key(o.SourceRepository) != key {
				continue
			}
			// Only runs of the configured mode into the configured target:
			// those of a mode or target the mirror has left will never be
			// followed by another, so their streak would never end.
			if !judged(m, o) {
				continue
			}
			k := o.Branch
			if byBranch[k] == nil {
				branches = append(branches, k)
			}
			byBranch[k] = append(byBranch[k], o)
		}
		slices.Sort(branches)
		for _, k := range branches {
			runs := byBranch[k]
			branch := runs[0].Branch
			last := runs[len(runs)-1]
			if last.Result.Current() {
				continue
			}
			// The first run of the streak that has not left the target current.
			since := runs[0].Time
			for i := len(runs) - 1; i >= 0; i-- {
				if runs[i].Result.Current() {
					since = runs[i+1].Time
					break
				}
			}
			if now.Sub(since) <= maxAge {
				continue
			}
			out = append(out, flow.Problem{Kind: ProblemFailing, Repository: m.TargetRepository, Branch: last.TargetBranch,
				Message: fmt.Sprintf("the mirror of %s %s has not been current since %s (%d runs); the last one: %s — %s",
					m.SourceRepository, branch, since.UTC().Format(time.RFC3339), countSince(runs, since), last.Result, firstLine(last.Message)),
				Action: fmt.Sprintf("see `maestro mirror history --source %s --branch %s`; fix the cause, then `maestro mirror run --source %s --branch %s --target %s --mode %s`",
					m.SourceRepository, branch, m.SourceRepository, branch, m.TargetRepository, last.Mode)})
		}
	}
	return out
}

// judged reports whether o is a run of m as configured: of a branch a
// pattern selects, in that pattern's mode, into m's target.
func judged(m maestro.Mirror, o maestro.MirrorOutcome) bool {
	b, ok := m.Branch(o.Branch)
	return ok && o.TargetBranch == b.Mode.TargetBranch(o.Branch) && repourl.Equal(o.TargetRepository, m.TargetRepository)
}

// Settled reports whether Health needs no run of o's branch older than o:
// o is a run of m as configured that left the target current, or its
// branch is not mirrored by m. Read newest first, a branch's history up to
// its first settled run is all Health judges it by.
func Settled(m maestro.Mirror, o maestro.MirrorOutcome) bool {
	if _, ok := m.Branch(o.Branch); !ok {
		return true
	}
	return judged(m, o) && o.Result.Current()
}

func countSince(runs []maestro.MirrorOutcome, since time.Time) int {
	n := 0
	for _, r := range runs {
		if !r.Time.Before(since) {
			n++
		}
	}
	return n
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
