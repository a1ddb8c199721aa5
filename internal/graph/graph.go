// Package graph builds the dependency graph of a build and the flow graph of
// the subscriptions from what the registry recorded — the dependencies each
// build recorded at publish, the subscriptions and their flow state — without
// reading any repository, and renders them as a table, JSON, Graphviz DOT,
// Mermaid or SVG.
//
// Building a graph reads through two small interfaces, Builds and Flows,
// that *registry.Registry implements; rendering is pure (render.go), except
// SVG, which lays the DOT text out with Graphviz compiled to WebAssembly
// (svg.go), so no Graphviz binary is needed on the user's machine.
package graph

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// Builds is what the dependency graph reads. BuildInfo returns an error of
// kind maestro.KindNotFound for an id that is not a build; Builds lists the
// newest builds matching a filter, newest first.
type Builds interface {
	BuildInfo(ctx context.Context, id int) (maestro.Build, error)
	Builds(ctx context.Context, f registry.BuildFilter) ([]maestro.Build, error)
}

var _ Builds = (*registry.Registry)(nil)

// BuildGraph is the dependency graph of one build: the build, the builds it
// recorded as dependencies, theirs, and so on down to Depth levels.
type BuildGraph struct {
	Root int `json:"root"`
	// Depth is the number of levels read below the root; 0 means all.
	Depth     int        `json:"depth"`
	Nodes     []Node     `json:"nodes"` // by level, then id
	Edges     []Edge     `json:"edges"` // by dependent, then dependency id
	Conflicts []Conflict `json:"conflicts"`
}

// Node is one build of a dependency graph.
type Node struct {
	ID           int       `json:"id"`
	Repository   string    `json:"repository"`
	Branch       string    `json:"branch"`
	Commit       string    `json:"commit"`
	DateProduced time.Time `json:"dateProduced,omitzero"`
	AgeMinutes   int       `json:"ageMinutes"`
	Channels     []string  `json:"channels"`
	// Level is the length of the shortest path from the root.
	Level int `json:"level"`
	// Conflict: another build of the same repository at another commit is in
	// the graph.
	Conflict bool `json:"conflict,omitempty"`
	// Missing: a dependency was recorded on this id, but the registry holds
	// no such build (it was collected); the other fields are empty.
	Missing bool `json:"missing,omitempty"`
	// Truncated: the node has dependencies that --depth left out.
	Truncated bool `json:"truncated,omitempty"`
	// Newer lists, per channel the build is in, a newer build of the same
	// repository in that channel (dependencies only, not the root).
	Newer []Newer `json:"newer,omitempty"`
}

// Newer is the newest build of a dependency's repository in one of its
// channels, when that is not the dependency.
type Newer struct {
	Channel string `json:"channel"`
	BuildID int    `json:"buildId"`
	Commit  string `json:"commit"`
}

// Edge says that From recorded a dependency on To.
type Edge struct {
	From    int  `json:"from"`
	To      int  `json:"to"`
	Product bool `json:"isProduct"`
}

// Kind is "product" or "toolset".
func (e Edge) Kind() string {
	if e.Product {
		return "product"
	}
	return "toolset"
}

// Conflict is one repository that appears at more than one commit.
type Conflict struct {
	Repository string   `json:"repository"`
	Commits    []string `json:"commits"`
	Builds     []int    `json:"builds"`
}

// parallelism bounds the reads in flight while building a graph.
const parallelism = 8

// BuildDependencies reads the dependency graph of build id, depth levels deep
// (0: all levels), and for every dependency whether a newer build of its
// repository is in one of its channels. An unknown id is an error of kind
// maestro.KindNotFound; a recorded dependency on a build that is gone is a
// Missing node.
func BuildDependencies(ctx context.Context, r Builds, id, depth int, now time.Time) (*BuildGraph, error) {
	g, builds, err := walk(ctx, r, id, depth, now)
	if err != nil {
		return nil, err
	}
	if err := g.findNewer(ctx, r, builds); err != nil {
		return nil, err
	}
	g.findConflicts()
	return g, nil
}

// Walk reads the dependency graph of build id, depth levels deep (0: all
// levels), as BuildDependencies does, without asking for newer builds or
// marking conflicts: the nodes and edges only, for a caller that follows the
// recorded dependencies (gather-drop). Errors are BuildDependencies' errors.
func Walk(ctx context.Context, r Builds, id, depth int, now time.Time) (*BuildGraph, error) {
	g, _, err := walk(ctx, r, id, depth, now)
	return g, err
}

// Closure returns the ids of the builds reachable from the root through
// product dependencies, and through toolset ones too with toolset, root
// first and then by level and id; missing lists the reachable ids the
// registry no longer holds (Missing nodes), which ids leaves out.
func (g *BuildGraph) Closure(toolset bool) (ids, missing []int) {
	reach := map[int]bool{g.Root: true}
	for changed := true; changed; {
		changed = false
		for _, e := range g.Edges {
			if reach[e.From] && !reach[e.To] && (e.Product || toolset) {
				reach[e.To], changed = true, true
			}
		}
	}
	for _, n := range g.Nodes {
		switch {
		case !reach[n.ID]:
		case n.Missing:
			missing = append(missing, n.ID)
		default:
			ids = append(ids, n.ID)
		}
	}
	return ids, missing
}

func walk(ctx context.Context, r Builds, id, depth int, now time.Time) (*BuildGraph, map[int]maestro.Build, error) {
	if depth < 0 {
		return nil, nil, maestro.Errorf(maestro.KindInvalid, "depth %d: must be 0 (every level) or more", depth)
	}
	root, err := r.BuildInfo(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	g := &BuildGraph{Root: id, Depth: depth, Nodes: []Node{}, Edges: []Edge{}, Conflicts: []Conflict{}}
	builds := map[int]maestro.Build{id: root}
	g.Nodes = append(g.Nodes, node(root, 0, now))
	level := []maestro.Build{root}
	for l := 1; len(level) > 0; l++ {
		if depth > 0 && l > depth {
			for _, b := range level {
				if len(b.Dependencies) > 0 {
					g.Nodes[indexOf(g.Nodes, b.ID)].Truncated = true
				}
			}
			break
		}
		var next []int
		for _, b := range level {
			for _, d := range b.Dependencies {
				if !slices.ContainsFunc(g.Edges, func(e Edge) bool { return e.From == b.ID && e.To == d.BuildID }) {
					g.Edges = append(g.Edges, Edge{From: b.ID, To: d.BuildID, Product: d.IsProduct})
				}
				if _, seen := builds[d.BuildID]; !seen && !slices.Contains(next, d.BuildID) {
					next = append(next, d.BuildID)
				}
			}
		}
		slices.Sort(next)
		read, err := parallel(ctx, next, func(ctx context.Context, id int) (*maestro.Build, error) {
			b, err := r.BuildInfo(ctx, id)
			if maestro.KindOf(err) == maestro.KindNotFound {
				return nil, nil
			}
			if err != nil {
				return nil, fmt.Errorf("read dependency build %d: %w", id, err)
			}
			return &b, nil
		})
		if err != nil {
			return nil, nil, err
		}
		level = level[:0:0]
		for i, b := range read {
			if b == nil {
				builds[next[i]] = maestro.Build{ID: next[i]}
				g.Nodes = append(g.Nodes, Node{ID: next[i], Level: l, Missing: true, Channels: []string{}})
				continue
			}
			builds[b.ID] = *b
			g.Nodes = append(g.Nodes, node(*b, l, now))
			level = append(level, *b)
		}
	}
	slices.SortFunc(g.Edges, func(a, b Edge) int {
		if a.From != b.From {
			return a.From - b.From
		}
		return a.To - b.To
	})
	return g, builds, nil
}

func node(b maestro.Build, level int, now time.Time) Node {
	n := Node{ID: b.ID, Repository: repourl.Normalize(b.Repository), Branch: b.Branch, Commit: b.Commit,
		DateProduced: b.DateProduced, Level: level, Channels: []string{}}
	if !b.DateProduced.IsZero() && now.After(b.DateProduced) {
		n.AgeMinutes = int(now.Sub(b.DateProduced) / time.Minute)
	}
	for _, c := range b.Channels {
		n.Channels = append(n.Channels, c.Name)
	}
	return n
}

func indexOf(nodes []Node, id int) int {
	return slices.IndexFunc(nodes, func(n Node) bool { return n.ID == id })
}

// findNewer asks, once per repository and channel, for the newest build and
// notes it on every dependency it is newer than.
func (g *BuildGraph) findNewer(ctx context.Context, r Builds, builds map[int]maestro.Build) error {
	type key struct {
		repo    string
		channel int
	}
	var keys []key
	for _, n := range g.Nodes[1:] {
		for _, c := range builds[n.ID].Channels {
			k := key{n.Repository, c.ID}
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	latest, err := parallel(ctx, keys, func(ctx context.Context, k key) (*maestro.Build, error) {
		bs, err := r.Builds(ctx, registry.BuildFilter{Repository: k.repo, ChannelID: k.channel, Limit: 1})
		if err != nil {
			return nil, fmt.Errorf("newest build of %s in channel %d: %w", k.repo, k.channel, err)
		}
		if len(bs) == 0 {
			return nil, nil
		}
		return &bs[0], nil
	})
	if err != nil {
		return err
	}
	for i := 1; i < len(g.Nodes); i++ {
		n := &g.Nodes[i]
		for _, c := range builds[n.ID].Channels {
			l := latest[slices.Index(keys, key{n.Repository, c.ID})]
			if l != nil && l.ID > n.ID {
				n.Newer = append(n.Newer, Newer{Channel: c.Name, BuildID: l.ID, Commit: l.Commit})
			}
		}
	}
	return nil
}

// findConflicts marks the repositories present at more than one commit.
func (g *BuildGraph) findConflicts() {
	byRepo := map[string][]int{} // repository key → node indexes
	var order []string
	for i, n := range g.Nodes {
		if n.Missing {
			continue
		}
		k := strings.ToLower(n.Repository)
		if _, ok := byRepo[k]; !ok {
			order = append(order, k)
		}
		byRepo[k] = append(byRepo[k], i)
	}
	for _, k := range order {
		idx := byRepo[k]
		var commits []string
		for _, i := range idx {
			if c := strings.ToLower(g.Nodes[i].Commit); !slices.Contains(commits, c) {
				commits = append(commits, c)
			}
		}
		if len(commits) < 2 {
			continue
		}
		c := Conflict{Repository: g.Nodes[idx[0]].Repository, Commits: commits}
		for _, i := range idx {
			g.Nodes[i].Conflict = true
			c.Builds = append(c.Builds, g.Nodes[i].ID)
		}
		slices.Sort(c.Builds)
		g.Conflicts = append(g.Conflicts, c)
	}
	slices.SortFunc(g.Conflicts, func(a, b Conflict) int { return strings.Compare(a.Repository, b.Repository) })
}

// parallel calls fn on every item, parallelism at a time, and returns the
// results in order, or the first error.
func parallel[T, R any](ctx context.Context, items []T, fn func(context.Context, T) (R, error)) ([]R, error) {
	out := make([]R, len(items))
	errs := make([]error, len(items))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, parallelism)
	var wg sync.WaitGroup
	for i, it := range items {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if out[i], errs[i] = fn(ctx, it); errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}
