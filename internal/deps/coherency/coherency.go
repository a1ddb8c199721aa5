// Package coherency keeps a repository's coherent dependencies coherent. A
// dependency with CoherentParentDependency="P" must carry the version that P's
// own build depended on: P's build is looked up in the Build Asset Registry by
// P's name, version, repository and commit, and among the builds it recorded
// as dependencies at publish time, the one that produced the child's asset
// gives the child's version, repository and commit.
//
// This is the "strict" algorithm: one level deep per link, no version
// guessing. Chains (A → B → C) are resolved from the leaf upward — a parent
// before its children, so a child follows its parent's new build. A pinned
// dependency stops the walk: it is not moved, and its children follow its
// current version. When a parent's build did not depend on a child, that is a
// Problem naming the parent's repository and commit, the child, and the fixes.
package coherency

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// Registry is what the coherency pass needs from the Build Asset Registry.
// Both methods return (nil, nil) when there is no such build; any error is a
// failure to look, not an answer.
type Registry interface {
	// AssetBuild returns the build that produced an asset with this name
	// (case-insensitive) and version. repository and commit, when not
	// empty, say which build is meant when several produced it; an
	// implementation should prefer one that matches them.
	AssetBuild(ctx context.Context, name, version, repository, commit string) (*maestro.Build, error)
	// Build returns the build with this BAR id.
	Build(ctx context.Context, id int) (*maestro.Build, error)
}

// Dependency is what the pass needs of a dependency in Version.Details.xml.
type Dependency struct {
	Name           string
	Version        string
	URI            string
	Sha            string
	CoherentParent string
	Pinned         bool
}

// Update moves a dependency to the version its coherent parent's build used.
type Update struct {
	Name      string // the asset's spelling of the name
	Version   string
	URI       string
	Sha       string
	Locations []string // feeds the asset was published to
	Parent    string   // the coherent parent it follows
	BuildID   int      // the build that produced the asset
}

// Problem is one coherency link that cannot be resolved.
type Problem struct {
	Dependency string
	Parent     string
	Repository string // the parent's repository
	Commit     string // the parent's commit
	Message    string
	Fixes      []string
}

// Error reports every coherency problem found in one pass.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "coherency check failed for %d dependenc%s:", len(e.Problems), plural(len(e.Problems), "y", "ies"))
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n- %s", p.Message)
		if len(p.Fixes) > 0 {
			b.WriteString("\n  To fix it, do one of:")
			for _, f := range p.Fixes {
				fmt.Fprintf(&b, "\n  - %s", f)
			}
		}
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Resolve returns the updates that make every coherent dependency follow its
// parent, in the order they were resolved (parents first). deps is the
// repository's whole dependency list, with any direct updates already
// applied. A non-nil error is an *Error listing the problems (wrapped in a
// maestro.KindInvalid error), or a registry failure.
func Resolve(ctx context.Context, reg Registry, deps []Dependency) ([]Update, error) {
	index := map[string]int{}
	for i, d := range deps {
		index[strings.ToLower(d.Name)] = i
	}
	for _, d := range deps {
		if d.CoherentParent == "" {
			continue
		}
		if _, ok := index[strings.ToLower(d.CoherentParent)]; !ok {
			return nil, maestro.Errorf(maestro.KindInvalid, "dependency %s has CoherentParentDependency=%q, but no dependency of that name exists; add it, fix the name or remove the attribute", d.Name, d.CoherentParent)
		}
	}
	if cycle := findCycle(deps, index); cycle != "" {
		return nil, maestro.Errorf(maestro.KindInvalid, "CoherentParentDependency attributes form a cycle (%s); remove one of them", cycle)
	}

	r := &resolver{ctx: ctx, reg: reg, deps: deps, index: index, updated: map[string]Update{}, builds: map[int]*maestro.Build{}}
	for _, leaf := range leaves(deps, index) {
		// Walk from the leaf to the head of its chain; a pinned dependency is
		// a head, since it does not move.
		var stack []Dependency
		cur := deps[leaf]
		for cur.CoherentParent != "" && !cur.Pinned {
			stack = append(stack, cur)
			cur = deps[index[strings.ToLower(cur.CoherentParent)]]
		}
		for len(stack) > 0 {
			child := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if _, done := r.updated[strings.ToLower(child.Name)]; done {
				continue
			}
			ok, err := r.resolve(child)
			if err != nil {
				return nil, err
			}
			if !ok {
				// Everything further down the chain depends on this link.
				stack = nil
			}
		}
	}
	if len(r.problems) > 0 {
		e := &Error{Problems: r.problems}
		return nil, &maestro.Error{Kind: maestro.KindInvalid, Msg: e.Error(), Err: e}
	}
	return r.order, nil
}

type resolver struct {
	ctx      context.Context
	reg      Registry
	deps     []Dependency
	index    map[string]int
	updated  map[string]Update
	order    []Update
	builds   map[int]*maestro.Build
	problems []Problem
	reported map[string]bool
}

// current returns a dependency as it stands after the updates made so far.
func (r *resolver) current(name string) Dependency {
	d := r.deps[r.index[strings.ToLower(name)]]
	if u, ok := r.updated[strings.ToLower(name)]; ok {
		d.Name, d.Version, d.URI, d.Sha = u.Name, u.Version, u.URI, u.Sha
	}
	return d
}

func (r *resolver) build(id int) (*maestro.Build, error) {
	if b, ok := r.builds[id]; ok {
		return b, nil
	}
	b, err := r.reg.Build(r.ctx, id)
	if err != nil {
		return nil, fmt.Errorf("look up build %d: %w", id, err)
	}
	r.builds[id] = b
	return b, nil
}

func (r *resolver) problem(p Problem) {
	if r.reported == nil {
		r.reported = map[string]bool{}
	}
	key := strings.ToLower(p.Repository + "@" + p.Commit + "/" + p.Dependency)
	if r.reported[key] {
		return
	}
	r.reported[key] = true
	r.problems = append(r.problems, p)
}

// resolve moves child to the version its parent's build depended on. It
// reports false when the link cannot be resolved (a Problem is recorded).
func (r *resolver) resolve(child Dependency) (bool, error) {
	parent := r.current(child.CoherentParent)
	pb, err := r.reg.AssetBuild(r.ctx, parent.Name, parent.Version, parent.URI, parent.Sha)
	if err != nil {
		return false, fmt.Errorf("look up the build of %s %s: %w", parent.Name, parent.Version, err)
	}
	if pb == nil {
		r.problem(Problem{
			Dependency: child.Name, Parent: parent.Name, Repository: parent.URI, Commit: parent.Sha,
			Message: fmt.Sprintf("%s follows %s %s, but no build of %s %s from %s @ %s is in the Build Asset Registry",
				child.Name, parent.Name, parent.Version, parent.Name, parent.Version, parent.URI, parent.Sha),
			Fixes: []string{
				fmt.Sprintf("Make sure the build of %s that produced %s was published to the Build Asset Registry.", parent.URI, parent.Version),
				fmt.Sprintf("Pin %s (Pinned=\"true\") so it does not follow %s.", child.Name, parent.Name),
				fmt.Sprintf("Remove the CoherentParentDependency attribute from %s.", child.Name),
			},
		})
		return false, nil
	}
	type match struct {
		build *maestro.Build
		asset maestro.Asset
	}
	var matches []match
	for _, bd := range pb.Dependencies {
		b, err := r.build(bd.BuildID)
		if err != nil {
			return false, err
		}
		if b == nil {
			continue
		}
		for _, a := range b.Assets {
			if strings.EqualFold(a.Name, child.Name) {
				matches = append(matches, match{b, a})
				break
			}
		}
	}
	if len(matches) == 0 {
		repo, commit := pb.Repository, pb.Commit
		r.problem(Problem{
			Dependency: child.Name, Parent: parent.Name, Repository: repo, Commit: commit,
			Message: fmt.Sprintf("%s @ %s does not contain dependency %s: build %d (%s %s), the coherent parent of %s, did not depend on a build that produced it",
				repo, commit, child.Name, pb.ID, parent.Name, parent.Version, child.Name),
			Fixes: []string{
				fmt.Sprintf("Add the dependency %s to %s (its eng/Version.Details.xml), so its builds record it.", child.Name, repo),
				fmt.Sprintf("Pin the dependency %s (Pinned=\"true\").", child.Name),
				fmt.Sprintf("Remove the CoherentParentDependency attribute from %s.", child.Name),
			},
		})
		return false, nil
	}
	// Several of the parent's dependency builds may carry the asset (a
	// repository and its internal mirror): prefer the child's own repository,
	// then the newest build.
	sort.SliceStable(matches, func(i, j int) bool {
		mi := sameRepo(matches[i].build, child.URI)
		mj := sameRepo(matches[j].build, child.URI)
		if mi != mj {
			return mi
		}
		return matches[i].build.ID > matches[j].build.ID
	})
	m := matches[0]
	uri := m.build.Repository
	if uri == "" {
		uri = child.URI
	}
	if m.asset.Name == child.Name && m.asset.Version == child.Version && m.build.Commit == child.Sha && uri == child.URI {
		return true, nil
	}
	u := Update{Name: m.asset.Name, Version: m.asset.Version, URI: uri, Sha: m.build.Commit, Parent: parent.Name, BuildID: m.build.ID}
	for _, l := range m.asset.Locations {
		if l.Type == maestro.LocationNuGetFeed || l.Type == "" {
			u.Locations = append(u.Locations, l.Location)
		}
	}
	r.updated[strings.ToLower(child.Name)] = u
	r.order = append(r.order, u)
	return true, nil
}

func sameRepo(b *maestro.Build, uri string) bool {
	for _, r := range []string{b.Repository, b.GitHubRepository, b.AzureDevOpsRepository} {
		if r != "" && strings.EqualFold(strings.TrimSuffix(r, "/"), strings.TrimSuffix(uri, "/")) {
			return true
		}
	}
	return false
}

// leaves returns the dependencies that start a walk: those with a coherent
// parent that no unpinned dependency names as its own parent.
func leaves(deps []Dependency, index map[string]int) []int {
	pointed := map[string]bool{}
	for _, d := range deps {
		if d.CoherentParent != "" && !d.Pinned {
			pointed[strings.ToLower(d.CoherentParent)] = true
		}
	}
	var out []int
	for i, d := range deps {
		if d.CoherentParent != "" && !pointed[strings.ToLower(d.Name)] {
			out = append(out, i)
		}
	}
	return out
}

// findCycle returns a description of a CoherentParentDependency cycle, or "".
func findCycle(deps []Dependency, index map[string]int) string {
	state := make([]int, len(deps)) // 0 new, 1 on path, 2 done
	for start := range deps {
		var path []int
		i := start
		for state[i] == 0 {
			state[i] = 1
			path = append(path, i)
			p := deps[i].CoherentParent
			if p == "" {
				break
			}
			i = index[strings.ToLower(p)]
		}
		if state[i] == 1 && deps[i].CoherentParent != "" {
			var names []string
			on := false
			for _, k := range path {
				if k == i {
					on = true
				}
				if on {
					names = append(names, deps[k].Name)
				}
			}
			return strings.Join(append(names, deps[i].Name), " → ")
		}
		for _, k := range path {
			state[k] = 2
		}
	}
	return ""
}
