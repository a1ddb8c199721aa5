package graph_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/graph"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// now is the clock of every seeded registry and graph.
var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// seeder publishes builds into a registry with one channel.
type seeder struct {
	t       testing.TB
	ctx     context.Context
	reg     *registry.Registry
	channel maestro.Channel
	ids     map[string]int
	n       int
}

func newSeeder(t testing.TB, st store.Store) *seeder {
	ctx := context.Background()
	subs := 0
	reg := registry.New(st, registry.WithClock(func() time.Time { return now }),
		registry.WithIDGenerator(func() string { subs++; return fmt.Sprintf("00000000-0000-0000-0000-%012d", subs) }))
	_, _, err := reg.Init(ctx)
	require.NoError(t, err)
	ch, err := reg.AddChannel(ctx, ".NET 11", "product")
	require.NoError(t, err)
	return &seeder{t: t, ctx: ctx, reg: reg, channel: ch, ids: map[string]int{}}
}

// sha is a commit id made from n.
func sha(n int) string { return fmt.Sprintf("%x", sha1.Sum([]byte(fmt.Sprint(n)))) }

func repo(name string) string { return "https://github.com/contoso/" + name }

// dep is a dependency on the build seeded under name.
type dep struct {
	name    string
	product bool
}

// publish records a build of repository name at commit, hours old, in the
// channel, depending on the builds seeded before under deps; key names it
// for later deps.
func (s *seeder) publish(key, name string, commit, hours int, deps ...dep) int {
	s.n++
	b := maestro.Build{Repository: repo(name), Branch: "main", Commit: sha(commit),
		AzureDevOpsAccount: "contoso", AzureDevOpsProject: "internal", AzureDevOpsBuildID: s.n,
		DateProduced: now.Add(-time.Duration(hours) * time.Hour),
		Assets:       []maestro.Asset{{Name: "Contoso." + name, Version: fmt.Sprintf("1.0.%d", s.n)}}}
	for _, d := range deps {
		id, ok := s.ids[d.name]
		require.True(s.t, ok, "seed %s before %s", d.name, key)
		b.Dependencies = append(b.Dependencies, maestro.BuildDependency{BuildID: id, IsProduct: d.product})
	}
	res, err := s.reg.PublishBuild(s.ctx, b, registry.PublishOptions{Channels: []int{s.channel.ID}})
	require.NoError(s.t, err)
	s.ids[key] = res.Build.ID
	return res.Build.ID
}

// seedDiamond: sdk takes runtime and aspnetcore, both take the same
// core-setup build (the diamond); sdk takes arcade at one commit and
// aspnetcore at another (the conflict); runtime has a newer build in the
// channel, and so has arcade (the commit aspnetcore took).
func seedDiamond(t testing.TB) (*seeder, int) {
	s := newSeeder(t, mem.New())
	s.publish("core-setup", "core-setup", 1, 72)
	s.publish("arcade-old", "arcade", 2, 400)
	s.publish("arcade-new", "arcade", 3, 50)
	s.publish("runtime", "runtime", 4, 30, dep{"core-setup", true})
	s.publish("aspnetcore", "aspnetcore", 5, 20, dep{"core-setup", true}, dep{"arcade-new", false})
	sdk := s.publish("sdk", "sdk", 6, 2, dep{"runtime", true}, dep{"aspnetcore", true}, dep{"arcade-old", false})
	s.publish("runtime-next", "runtime", 7, 1)
	return s, sdk
}

func TestBuildDependenciesDiamond(t *testing.T) {
	s, sdk := seedDiamond(t)
	g, err := graph.BuildDependencies(s.ctx, s.reg, sdk, 0, now)
	require.NoError(t, err)

	var ids []int
	for _, n := range g.Nodes {
		ids = append(ids, n.ID)
	}
	id := s.ids
	assert.Equal(t, []int{sdk, id["arcade-old"], id["runtime"], id["aspnetcore"], id["core-setup"], id["arcade-new"]},
		[]int{ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]}[:len(ids)], "nodes by level, then id")
	require.Len(t, g.Nodes, 6, "core-setup once, though two builds take it")
	assert.Equal(t, []graph.Edge{
		{From: id["runtime"], To: id["core-setup"], Product: true},
		{From: id["aspnetcore"], To: id["core-setup"], Product: true},
		{From: id["aspnetcore"], To: id["arcade-new"]},
		{From: sdk, To: id["arcade-old"]},
		{From: sdk, To: id["runtime"], Product: true},
		{From: sdk, To: id["aspnetcore"], Product: true},
	}, g.Edges)
	assert.Equal(t, []graph.Conflict{{Repository: repo("arcade"),
		Commits: []string{sha(2), sha(3)}, Builds: []int{id["arcade-old"], id["arcade-new"]}}}, g.Conflicts)
	for _, n := range g.Nodes {
		assert.Equal(t, strings.HasSuffix(n.Repository, "/arcade"), n.Conflict, "build %d", n.ID)
		switch n.ID {
		case id["runtime"]:
			assert.Equal(t, []graph.Newer{{Channel: ".NET 11", BuildID: id["runtime-next"], Commit: sha(7)}}, n.Newer)
		case id["arcade-old"]:
			assert.Equal(t, []graph.Newer{{Channel: ".NET 11", BuildID: id["arcade-new"], Commit: sha(3)}}, n.Newer)
		default:
			assert.Empty(t, n.Newer, "build %d", n.ID)
		}
	}
	root := g.Nodes[0]
	assert.Equal(t, 2*60, root.AgeMinutes)
	assert.Equal(t, []string{".NET 11"}, root.Channels)

	golden(t, "diamond", g.Render)
}

func TestBuildDependenciesDepth(t *testing.T) {
	s, sdk := seedDiamond(t)
	g, err := graph.BuildDependencies(s.ctx, s.reg, sdk, 1, now)
	require.NoError(t, err)
	require.Len(t, g.Nodes, 4, "the root and its three dependencies")
	for _, n := range g.Nodes[1:] {
		assert.Equal(t, n.ID != s.ids["arcade-old"], n.Truncated, "build %d: truncated when it has dependencies", n.ID)
	}
	assert.Len(t, g.Edges, 3)
	assert.Empty(t, g.Conflicts, "the second arcade commit is below the depth")
}

// TestBuildDependenciesMissing: publish accepts a dependency on any positive
// id; one that is not a build is a node marked missing, not an error.
func TestBuildDependenciesMissing(t *testing.T) {
	s := newSeeder(t, mem.New())
	s.ids["gone"] = 999
	app := s.publish("app", "app", 1, 1, dep{"gone", true})
	g, err := graph.BuildDependencies(s.ctx, s.reg, app, 0, now)
	require.NoError(t, err)
	require.Len(t, g.Nodes, 2)
	assert.Equal(t, graph.Node{ID: 999, Level: 1, Missing: true, Channels: []string{}}, g.Nodes[1])
	assert.Equal(t, []graph.Edge{{From: app, To: 999, Product: true}}, g.Edges)
	var table, dot bytes.Buffer
	require.NoError(t, g.Render(&table, graph.Table))
	assert.Contains(t, table.String(), "999    1      (missing from the registry)")
	require.NoError(t, g.Render(&dot, graph.DOT))
	assert.Contains(t, dot.String(), `b999 [label="BAR 999\nmissing from the registry", color="gray50", style="rounded,dashed"];`)
}

func TestBuildDependenciesErrors(t *testing.T) {
	s, sdk := seedDiamond(t)
	_, err := graph.BuildDependencies(s.ctx, s.reg, 999, 0, now)
	assert.Equal(t, maestro.KindNotFound, maestro.KindOf(err))
	assert.ErrorContains(t, err, "build 999 does not exist")
	_, err = graph.BuildDependencies(s.ctx, s.reg, sdk, -1, now)
	assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
}

func TestParseFormat(t *testing.T) {
	for _, f := range graph.Formats {
		got, err := graph.ParseFormat(string(f))
		assert.NoError(t, err)
		assert.Equal(t, f, got)
	}
	_, err := graph.ParseFormat("png")
	assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
	assert.EqualError(t, err, `--format "png": use one of table, json, dot, mermaid, svg`)
}

// seedCycle: arcade → runtime → aspnetcore → runtime (a cycle, with
// aspnetcore → runtime failing), sdk → arcade disabled, runtime → sdk weekly,
// and a subscription on another channel.
func seedCycle(t testing.TB) (*seeder, maestro.Channel) {
	s := newSeeder(t, mem.New())
	other, err := s.reg.AddChannel(s.ctx, ".NET Eng - Latest", "")
	require.NoError(t, err)
	add := func(ch maestro.Channel, from, to string, freq maestro.UpdateFrequency, enabled bool) string {
		sub, err := s.reg.AddSubscription(s.ctx, maestro.Subscription{ChannelID: ch.ID, SourceRepository: repo(from),
			TargetRepository: repo(to), TargetBranch: "main", Enabled: enabled,
			Policy: maestro.SubscriptionPolicy{UpdateFrequency: freq}})
		require.NoError(t, err)
		return sub.ID
	}
	add(s.channel, "arcade", "runtime", maestro.FrequencyEveryBuild, true)
	add(s.channel, "runtime", "aspnetcore", maestro.FrequencyEveryDay, true)
	failing := add(s.channel, "aspnetcore", "runtime", maestro.FrequencyEveryBuild, true)
	add(s.channel, "sdk", "arcade", maestro.FrequencyEveryBuild, false)
	add(s.channel, "runtime", "sdk", maestro.FrequencyEveryWeek, true)
	add(other, "arcade", "sdk", maestro.FrequencyNone, true)
	_, err = s.reg.UpdateFlowState(s.ctx, failing, func(st *registry.FlowState, _ bool) error {
		st.LastResult, st.LastBuildID = maestro.ResultFailure, 12
		return nil
	})
	require.NoError(t, err)
	return s, other
}

func TestFlowSubscriptionsCycle(t *testing.T) {
	s, _ := seedCycle(t)
	g, err := graph.FlowSubscriptions(s.ctx, s.reg, 0)
	require.NoError(t, err)
	assert.Len(t, g.Repositories, 4)
	assert.Equal(t, [][]string{{repo("aspnetcore"), repo("runtime")}}, g.Cycles,
		"sdk → arcade is disabled, so arcade → runtime → sdk does not loop")
	require.Len(t, g.Flows, 6)
	for _, f := range g.Flows {
		name := fmt.Sprintf("%s → %s", f.Source, f.Target)
		inCycle := strings.HasSuffix(f.Source, "aspnetcore") && strings.HasSuffix(f.Target, "runtime") ||
			strings.HasSuffix(f.Source, "runtime") && strings.HasSuffix(f.Target, "aspnetcore")
		assert.Equal(t, inCycle, f.InCycle, name)
		assert.Equal(t, strings.HasSuffix(f.Source, "aspnetcore"), f.Failing, name)
	}
	golden(t, "cycle", g.Render)
}

func TestFlowSubscriptionsChannel(t *testing.T) {
	s, other := seedCycle(t)
	g, err := graph.FlowSubscriptions(s.ctx, s.reg, other.ID)
	require.NoError(t, err)
	assert.Equal(t, ".NET Eng - Latest", g.Channel)
	require.Len(t, g.Flows, 1)
	assert.Equal(t, maestro.FrequencyNone, g.Flows[0].Frequency)
	assert.Len(t, g.Repositories, 2)
	assert.Empty(t, g.Cycles)
}

// seedProduct seeds a product of 60 repositories in 6 levels of 10: each
// repository of a level takes three of the next level's (products) and the
// last level's first repository (toolset), and each has an older build
// besides, so that newer-build lookups have something to pass over.
func seedProduct(t testing.TB, st store.Store) (*seeder, int) {
	s := newSeeder(t, st)
	const levels, width = 6, 10
	name := func(l, i int) string { return fmt.Sprintf("repo-%d-%d", l, i) }
	commit := 0
	for l := levels - 1; l >= 0; l-- {
		for i := range width {
			var deps []dep
			if l < levels-1 {
				for k := range 3 {
					deps = append(deps, dep{name(l+1, (i+k)%width), true})
				}
				if l < levels-2 {
					deps = append(deps, dep{name(levels-1, 0), false})
				}
			}
			commit++
			s.publish(name(l, i)+"-old", name(l, i), commit, 48, deps...)
			commit++
			s.publish(name(l, i), name(l, i), commit, 24, deps...)
		}
	}
	var top []dep
	for i := range width {
		top = append(top, dep{name(0, i), true})
	}
	root := s.publish("product", "product", commit+1, 1, top...)
	return s, root
}

func TestBuildDependenciesProduct(t *testing.T) {
	s, root := seedProduct(t, mem.New())
	g, err := graph.BuildDependencies(s.ctx, s.reg, root, 0, now)
	require.NoError(t, err)
	assert.Len(t, g.Nodes, 61, "the product and its 60 repositories")
	assert.Len(t, g.Edges, 10+4*(3+1)*10+3*10, "the product's 10, three products and a toolset from levels 0-3, three from level 4")
	assert.Equal(t, 6, slices.MaxFunc(g.Nodes, func(a, b graph.Node) int { return a.Level - b.Level }).Level)
	assert.Empty(t, g.Conflicts)
	for _, n := range g.Nodes[1:] {
		assert.Empty(t, n.Newer, "build %d is its repository's newest", n.ID)
	}
}

// golden compares the DOT, Mermaid and table renderings with
// testdata/NAME.{dot,mmd,txt}; -update rewrites them.
func golden(t *testing.T, name string, render func(io.Writer, graph.Format) error) {
	t.Helper()
	for _, c := range []struct {
		f   graph.Format
		ext string
	}{{graph.DOT, "dot"}, {graph.Mermaid, "mmd"}, {graph.Table, "txt"}} {
		var buf bytes.Buffer
		require.NoError(t, render(&buf, c.f))
		path := filepath.Join("testdata", name+"."+c.ext)
		if *update {
			require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
			continue
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "run go test -update to create it")
		assert.Equal(t, string(want), buf.String(), "%s differs; run go test -update if the change is meant", path)
	}
}

// TestClosure: gather-drop's builds are those reachable through product
// dependencies only — a product dependency of a toolset dependency is not one
// — unless toolset ones are followed too; Walk reads what BuildDependencies
// reads, without the newer-build lookups.
func TestClosure(t *testing.T) {
	s, sdk := seedDiamond(t)
	id := s.ids
	s.ids["gone"] = 999
	tool := s.publish("tool", "tool", 8, 1, dep{"gone", true})
	s.publish("arcade-next", "arcade", 9, 1, dep{"tool", true})
	app := s.publish("app", "app", 10, 1, dep{"sdk", true}, dep{"arcade-next", false})
	g, err := graph.Walk(s.ctx, s.reg, app, 0, now)
	require.NoError(t, err)
	for _, n := range g.Nodes {
		assert.Empty(t, n.Newer, "Walk asks for no newer builds")
	}

	ids, missing := g.Closure(false)
	assert.Equal(t, []int{app, sdk, id["runtime"], id["aspnetcore"], id["core-setup"]}, ids)
	assert.Empty(t, missing)

	ids, missing = g.Closure(true)
	assert.Equal(t, []int{app, sdk, id["arcade-next"], id["arcade-old"], id["runtime"], id["aspnetcore"], tool, id["core-setup"], id["arcade-new"]}, ids)
	assert.Equal(t, []int{999}, missing, "the toolset's product dependency the registry lost")

	g, err = graph.Walk(s.ctx, s.reg, sdk, 0, now)
	require.NoError(t, err)
	ids, _ = g.Closure(false)
	assert.Equal(t, []int{sdk, id["runtime"], id["aspnetcore"], id["core-setup"]}, ids)
}
