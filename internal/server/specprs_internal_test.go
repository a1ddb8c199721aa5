package server

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/policy"
	"github.com/maestroplusplus/maestro/internal/service"
)

// TestSpecTreePicture: the cases the flow rarely leaves for a page to
// find — asked for in the middle of a chain (the pull requests above
// drawn from the chain, one arrow each), a pull request not opened yet,
// and ancestors that could not be read (the arrow dashed and labelled
// "gate unknown", black).
func TestSpecTreePicture(t *testing.T) {
	root, mid := "https://github.com/dotnet/arcade/pull/1", "https://github.com/dotnet/runtime/pull/2"
	nodes := []service.SpeculativeNode{
		{SpeculativePullRequest: maestro.SpeculativePullRequest{Key: "speculative-1", SubscriptionID: "s1", TargetRepository: "https://github.com/dotnet/aspnetcore",
			Parent: mid, Chain: []string{root, mid}, PullRequestURL: "https://github.com/dotnet/aspnetcore/pull/3", Number: 3, State: maestro.SpeculativeOpen, AppliedBuildID: 1_000_000_007},
			Depth: 2, Gate: "waiting", Ancestors: []policy.Ancestor{{URL: root, State: maestro.PullRequestMerged}, {URL: mid, State: maestro.PullRequestOpen}}},
		{SpeculativePullRequest: maestro.SpeculativePullRequest{Key: "speculative-2", SubscriptionID: "s2", TargetRepository: "https://github.com/dotnet/sdk",
			Parent: mid, Chain: []string{root, mid}, State: maestro.SpeculativeOpen},
			Depth: 2, GateError: "GET https://api.github.com/…: 503", Ancestors: []policy.Ancestor{}},
	}
	p, above := specTreePicture(mid, nodes)
	assert.Equal(t, []policyAncestor{{URL: root, State: maestro.PullRequestMerged}, {URL: mid, State: maestro.PullRequestOpen}}, above)
	require.Len(t, p.Nodes, 4)
	labels := map[string]string{}
	for _, n := range p.Nodes {
		labels[n.ID] = strings.Join(n.Lines, " | ")
	}
	assert.Equal(t, map[string]string{
		"p0": "dotnet/arcade | #1 · merged | root",
		"p1": "dotnet/runtime | #2 · open",
		"p2": "dotnet/aspnetcore | #3 · open | speculative build 1000000007",
		"p3": "dotnet/sdk | not opened yet · open",
	}, labels)
	assert.Equal(t, "#1a7f37", p.Nodes[0].Color, "the root merged: green")
	assert.Equal(t, "#1f5fbf", p.Nodes[1].Color, "open: blue")
	type edge struct {
		from, to, label, color string
		dashed                 bool
	}
	var edges []edge
	for _, e := range p.Edges {
		edges = append(edges, edge{e.From, e.To, e.Label, e.Color, e.Dashed})
	}
	assert.Equal(t, []edge{{"p0", "p1", "", "", false}, {"p1", "p2", "gate waiting", "#8a5a00", true}, {"p1", "p3", "gate unknown", "", true}}, edges)
	var dot strings.Builder
	require.NoError(t, p.DOT(&dot))
	assert.Contains(t, dot.String(), `p1 -> p3 [label="gate unknown", penwidth=1, style="dashed"];`)
}
