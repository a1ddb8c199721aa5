package graph

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// Flows is what the flow graph reads. FlowState's ok is false for a
// subscription the flow has not seen yet.
type Flows interface {
	Channels(ctx context.Context) ([]maestro.Channel, error)
	Subscriptions(ctx context.Context, f registry.SubscriptionFilter) ([]maestro.Subscription, error)
	FlowState(ctx context.Context, id string) (registry.FlowState, bool, error)
}

var _ Flows = (*registry.Registry)(nil)

// FlowGraph is the repositories and the subscriptions between them.
type FlowGraph struct {
	// Channel is the channel the graph was limited to, "" for all.
	Channel string `json:"channel,omitempty"`
	// Repositories are the nodes, sorted.
	Repositories []Repository `json:"repositories"`
	// Flows are the edges, one per subscription, by source, target, branch, channel.
	Flows []Flow `json:"flows"`
	// Cycles are the sets of repositories that flow into each other through
	// enabled subscriptions, each sorted.
	Cycles [][]string `json:"cycles"`
}

// Repository is one node of the flow graph.
type Repository struct {
	Repository string `json:"repository"`
	InCycle    bool   `json:"inCycle,omitempty"`
}

// Flow is one subscription as an edge.
type Flow struct {
	SubscriptionID string                  `json:"subscriptionId"`
	Source         string                  `json:"source"`
	Target         string                  `json:"target"`
	TargetBranch   string                  `json:"targetBranch"`
	Channel        string                  `json:"channel"`
	Frequency      maestro.UpdateFrequency `json:"updateFrequency"`
	Enabled        bool                    `json:"enabled"`
	// LastResult is the flow state's last outcome, "" before the first.
	LastResult  maestro.FlowResult `json:"lastResult,omitempty"`
	LastBuildID int                `json:"lastBuildId,omitempty"`
	// Failing: the last attempt ended in failure or conflict.
	Failing bool `json:"failing,omitempty"`
	// InCycle: the subscription is enabled and part of a cycle.
	InCycle bool `json:"inCycle,omitempty"`
}

// FlowSubscriptions reads the subscriptions (of one channel when channelID
// is not 0) with their flow state and returns the flow graph.
func FlowSubscriptions(ctx context.Context, r Flows, channelID int) (*FlowGraph, error) {
	chans, err := r.Channels(ctx)
	if err != nil {
		return nil, fmt.Errorf("read channels: %w", err)
	}
	names := map[int]string{}
	for _, c := range chans {
		names[c.ID] = c.Name
	}
	subs, err := r.Subscriptions(ctx, registry.SubscriptionFilter{ChannelID: channelID})
	if err != nil {
		return nil, fmt.Errorf("read subscriptions: %w", err)
	}
	states, err := parallel(ctx, subs, func(ctx context.Context, s maestro.Subscription) (registry.FlowState, error) {
		st, _, err := r.FlowState(ctx, s.ID)
		if err != nil {
			return st, fmt.Errorf("read flow state of subscription %s: %w", s.ID, err)
		}
		return st, nil
	})
	if err != nil {
		return nil, err
	}
	g := &FlowGraph{Channel: names[channelID], Repositories: []Repository{}, Flows: []Flow{}, Cycles: [][]string{}}
	seen := map[string]bool{}
	addRepo := func(r string) {
		if !seen[strings.ToLower(r)] {
			seen[strings.ToLower(r)] = true
			g.Repositories = append(g.Repositories, Repository{Repository: r})
		}
	}
	for i, s := range subs {
		f := Flow{SubscriptionID: s.ID, Source: repourl.Normalize(s.SourceRepository), Target: repourl.Normalize(s.TargetRepository),
			TargetBranch: s.TargetBranch, Channel: names[s.ChannelID], Frequency: s.Policy.UpdateFrequency, Enabled: s.Enabled,
			LastResult: states[i].LastResult, LastBuildID: states[i].LastBuildID}
		if f.Channel == "" {
			f.Channel = fmt.Sprint(s.ChannelID)
		}
		f.Failing = f.LastResult == maestro.ResultFailure || f.LastResult == maestro.ResultConflict
		addRepo(f.Source)
		addRepo(f.Target)
		g.Flows = append(g.Flows, f)
	}
	slices.SortFunc(g.Repositories, func(a, b Repository) int { return strings.Compare(a.Repository, b.Repository) })
	slices.SortFunc(g.Flows, func(a, b Flow) int {
		for _, c := range [][2]string{{a.Source, b.Source}, {a.Target, b.Target}, {a.TargetBranch, b.TargetBranch}, {a.Channel, b.Channel}, {a.SubscriptionID, b.SubscriptionID}} {
			if d := strings.Compare(c[0], c[1]); d != 0 {
				return d
			}
		}
		return 0
	})
	g.markCycles()
	return g, nil
}

// markCycles finds the strongly connected components of the enabled
// subscriptions (Tarjan) and marks the repositories and flows inside those
// that loop: more than one repository, or a repository flowing into itself.
func (g *FlowGraph) markCycles() {
	index := map[string]int{}
	for i, r := range g.Repositories {
		index[strings.ToLower(r.Repository)] = i
	}
	n := len(g.Repositories)
	adj := make([][]int, n)
	self := make([]bool, n)
	for _, f := range g.Flows {
		if !f.Enabled {
			continue
		}
		a, b := index[strings.ToLower(f.Source)], index[strings.ToLower(f.Target)]
		adj[a] = append(adj[a], b)
		if a == b {
			self[a] = true
		}
	}
	comp := make([]int, n)
	low := make([]int, n)
	order := make([]int, n)
	onStack := make([]bool, n)
	for i := range order {
		order[i], comp[i] = -1, -1
	}
	var stack []int
	next, ncomp := 0, 0
	var visit func(v int)
	visit = func(v int) {
		order[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range adj[v] {
			if order[w] < 0 {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], order[w])
			}
		}
		if low[v] == order[v] {
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp[w] = ncomp
				if w == v {
					break
				}
			}
			ncomp++
		}
	}
	for v := range n {
		if order[v] < 0 {
			visit(v)
		}
	}
	members := make([][]int, ncomp)
	for v, c := range comp {
		members[c] = append(members[c], v)
	}
	looping := func(c int) bool { return len(members[c]) > 1 || self[members[c][0]] }
	for _, m := range members {
		if !looping(comp[m[0]]) {
			continue
		}
		var cycle []string
		for _, v := range m {
			g.Repositories[v].InCycle = true
			cycle = append(cycle, g.Repositories[v].Repository)
		}
		slices.Sort(cycle)
		g.Cycles = append(g.Cycles, cycle)
	}
	slices.SortFunc(g.Cycles, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	for i, f := range g.Flows {
		a, b := index[strings.ToLower(f.Source)], index[strings.ToLower(f.Target)]
		g.Flows[i].InCycle = f.Enabled && comp[a] == comp[b] && looping(comp[a])
	}
}
