package speculative

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// mainlinePages bounds the builds Mainline reads per repository: 10 pages
// of 100, newest first.
const mainlinePages = 10

// Mainline sets the mainline times of report pb (docs/registry.md,
// "Product build reports"): how long the same change took to flow through
// mainline, from what the registry records now. For each injected change
// REPO@SHA, its mainline build is REPO's first official build of SHA on the
// branch built (by date produced), and the builds that contain it are
// REPO's builds of that branch produced since. A build of a repository
// downstream contains a change when one of its recorded dependencies is a
// build of an upstream repository of the run that contains it. A
// repository's mainline build is its first official build on its branch
// that contains every injected change upstream of it; its mainline time
// runs from the publication of the earliest of those changes' mainline
// builds to that build's publication. The run's is the longest, when every
// repository's is known. What the registry cannot tell (a change not
// merged, or not flowed that far yet) is left unset, and any value set
// before is cleared. It only reads.
func Mainline(ctx context.Context, r Reader, pb *maestro.ProductBuild) error {
	pb.MainlineSeconds = nil
	branch := map[string]string{}
	for i := range pb.Repositories {
		e := &pb.Repositories[i]
		e.MainlineBuildID, e.MainlineSeconds = 0, nil
		branch[key(e.Repository)] = e.Branch
	}
	type change struct {
		repo string
		t0   time.Time
	}
	var changes []change
	// contains[c][repo] are the ids of repo's builds that contain change c.
	var contains []map[string]map[int]bool
	for _, raw := range pb.Inject {
		in, err := ParseInject(raw)
		if err != nil {
			return fmt.Errorf("product build %s: %w", pb.ID, err)
		}
		k := key(in.Repository)
		bs, err := r.Builds(ctx, registry.BuildFilter{Repository: in.Repository, Commit: in.Commit})
		if err != nil {
			return fmt.Errorf("official builds of %s: %w", raw, err)
		}
		var first *maestro.Build
		for i, b := range bs {
			if b.Branch == branch[k] && (first == nil || b.DateProduced.Before(first.DateProduced)) {
				first = &bs[i]
			}
		}
		if first == nil {
			return nil // not built on mainline (yet): unknown
		}
		changes = append(changes, change{repo: k, t0: first.DateProduced})
		contains = append(contains, map[string]map[int]bool{})
	}
	if len(changes) == 0 {
		return nil
	}
	since := changes[0].t0
	for _, c := range changes[1:] {
		if c.t0.Before(since) {
			since = c.t0
		}
	}
	// Each repository's builds since the earliest change, oldest first.
	read := make([][]maestro.Build, len(pb.Repositories))
	if err := parallel(ctx, len(pb.Repositories), func(ctx context.Context, i int) error {
		e := pb.Repositories[i]
		bs, err := buildsSince(ctx, r, e.Repository, e.Branch, since)
		read[i] = bs
		return err
	}); err != nil {
		return err
	}
	builds := map[string][]maestro.Build{}
	for i, e := range pb.Repositories {
		builds[key(e.Repository)] = read[i]
	}
	// reached[c][repo]: change c is injected into repo or upstream of it.
	reached := make([]map[string]bool, len(changes))
	for c := range reached {
		reached[c] = map[string]bool{}
	}
	var longest float64
	known := true
	for i := range pb.Repositories {
		e := &pb.Repositories[i]
		k := key(e.Repository)
		var reach []int // the changes upstream of (or injected into) e
		for c, ch := range changes {
			set := map[int]bool{}
			if ch.repo == k {
				for _, b := range builds[k] {
					if !b.DateProduced.Before(ch.t0) {
						set[b.ID] = true
					}
				}
			} else {
				for _, b := range builds[k] {
					if slices.ContainsFunc(b.Dependencies, func(d maestro.BuildDependency) bool {
						return slices.ContainsFunc(e.Upstream, func(u string) bool { return contains[c][key(u)][d.BuildID] })
					}) {
						set[b.ID] = true
					}
				}
			}
			contains[c][k] = set
			if ch.repo == k || slices.ContainsFunc(e.Upstream, func(u string) bool { return reached[c][key(u)] }) {
				reached[c][k] = true
				reach = append(reach, c)
			}
		}
		found := false
		for _, b := range builds[k] {
			all := len(reach) > 0
			for _, c := range reach {
				all = all && contains[c][k][b.ID]
			}
			if !all {
				continue
			}
			t0 := changes[reach[0]].t0
			for _, c := range reach[1:] {
				if changes[c].t0.Before(t0) {
					t0 = changes[c].t0
				}
			}
			secs := b.DateProduced.Sub(t0).Seconds()
			e.MainlineBuildID, e.MainlineSeconds = b.ID, &secs
			longest = max(longest, secs)
			found = true
			break
		}
		known = known && found
	}
	if known {
		pb.MainlineSeconds = &longest
	}
	return nil
}

// buildsSince returns repo's official builds of branch produced at or
// after since, oldest first, reading at most mainlinePages pages.
func buildsSince(ctx context.Context, r Reader, repo, branch string, since time.Time) ([]maestro.Build, error) {
	var out []maestro.Build
	before := 0
	for range mainlinePages {
		bs, err := r.Builds(ctx, registry.BuildFilter{Repository: repo, Before: before, Limit: 100})
		if err != nil {
			return nil, fmt.Errorf("official builds of %s: %w", repo, err)
		}
		older := true
		for _, b := range bs {
			if b.DateProduced.Before(since) {
				continue
			}
			older = false
			if strings.EqualFold(b.Branch, branch) {
				out = append(out, b)
			}
		}
		if len(bs) < 100 || older {
			break
		}
		before = bs[len(bs)-1].ID
	}
	slices.SortFunc(out, func(a, b maestro.Build) int { // by date produced, then id
		if c := a.DateProduced.Compare(b.DateProduced); c != 0 {
			return c
		}
		return a.ID - b.ID
	})
	return out, nil
}
