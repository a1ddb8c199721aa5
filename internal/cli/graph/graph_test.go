package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	maestrocli "github.com/maestroplusplus/maestro/internal/cli"
	"github.com/maestroplusplus/maestro/internal/cli/clitest"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	graphcmd "github.com/maestroplusplus/maestro/internal/cli/graph"
	"github.com/maestroplusplus/maestro/internal/graph"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store/local"
	"github.com/maestroplusplus/maestro/internal/store/storeurl"
)

func capture[O any](got *any) func(*cli.Context, *O) error {
	return func(_ *cli.Context, o *O) error { *got = o; return nil }
}

// parse runs `maestro ARGS...` with graph commands that capture their options.
func parse(args string) (clitest.Result, any) {
	var got any
	res := clitest.RunAll(func(f *cmdutil.Factory) []*cli.Command {
		return []*cli.Command{clitest.Noun("graph",
			graphcmd.NewCmdBuild(f, capture[graphcmd.BuildOptions](&got)),
			graphcmd.NewCmdFlow(f, capture[graphcmd.FlowOptions](&got)))}
	}, strings.Fields(args)...)
	return res, got
}

func TestParse(t *testing.T) {
	tests := []struct {
		args string
		want any
	}{
		{"graph build --id 7", &graphcmd.BuildOptions{ID: 7, Format: graph.Table}},
		{"graph build --id 7 --depth 2 --format dot", &graphcmd.BuildOptions{ID: 7, Depth: 2, Format: graph.DOT}},
		{"graph build --format mermaid --id 7 --depth 0", &graphcmd.BuildOptions{ID: 7, Format: graph.Mermaid}},
		{"graph build --format svg --id 7", &graphcmd.BuildOptions{ID: 7, Format: graph.SVG}},
		{"graph flow", &graphcmd.FlowOptions{Format: graph.Table}},
		{"graph flow --channel .NET --format mermaid", &graphcmd.FlowOptions{Channel: ".NET", Format: graph.Mermaid}},
		{"graph flow --format json --channel 3", &graphcmd.FlowOptions{Channel: "3", Format: graph.JSON}},
		{"graph flow --format svg", &graphcmd.FlowOptions{Format: graph.SVG}},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			res, got := parse(tt.args)
			assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseBadInput(t *testing.T) {
	tests := []struct{ args, wantErr string }{
		{"graph build", `Required flag "id" not set`},
		{"graph build --id x", `invalid value "x" for flag -id`},
		{"graph build --id 0", "--id 0: give a BAR build id"},
		{"graph build --id 3 --depth -1", "--depth -1: give 0 for every level"},
		{"graph build --id 3 --format png", `--format "png": use one of table, json, dot, mermaid, svg`},
		{"graph flow --format yaml", `--format "yaml": use one of table, json, dot, mermaid, svg`},
		{"graph flow --channel=", "--channel is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			res, got := parse(tt.args)
			assert.Equal(t, cmdutil.ExitInvalid, res.Code)
			assert.Contains(t, res.ErrOut, tt.wantErr)
			assert.Nil(t, got, "the command did not run")
		})
	}
}

// run runs `maestro graph ARGS...` on the registry in the local store at dir.
func run(dir string, args ...string) clitest.Result {
	var out, errOut bytes.Buffer
	f := &cmdutil.Factory{
		IO:          cmdutil.IO{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut},
		Getenv:      func(string) string { return "" },
		Now:         func() time.Time { return time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) },
		OpenStore:   storeurl.Open,
		CreateStore: storeurl.Create,
	}
	app := maestrocli.NewApp(f)
	app.Commands = []*cli.Command{graphcmd.NewCmd(f)}
	argv := append([]string{"maestro", "graph"}, args...)
	argv = append(argv, "--store", "file://"+filepath.ToSlash(dir))
	code := maestrocli.RunApp(context.Background(), app, argv, f)
	return clitest.Result{Code: code, Out: out.String(), ErrOut: errOut.String()}
}

// TestRun: the commands read a registry on the local store; an unknown build
// is exit 3 naming it, an unknown channel exit 2.
func TestRun(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := local.Open(dir)
	require.NoError(t, err)
	reg := registry.New(st)
	_, _, err = reg.Init(ctx)
	require.NoError(t, err)
	ch, err := reg.AddChannel(ctx, ".NET 11", "")
	require.NoError(t, err)
	publish := func(name string, n int, deps ...int) int {
		b := maestro.Build{Repository: "https://github.com/contoso/" + name, Branch: "main", Commit: fmt.Sprintf("%040x", n),
			DateProduced: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
		for _, d := range deps {
			b.Dependencies = append(b.Dependencies, maestro.BuildDependency{BuildID: d, IsProduct: true})
		}
		res, err := reg.PublishBuild(ctx, b, registry.PublishOptions{Channels: []int{ch.ID}})
		require.NoError(t, err)
		return res.Build.ID
	}
	runtime := publish("runtime", 1)
	sdk := publish("sdk", 2, runtime)
	_, err = reg.AddSubscription(ctx, maestro.Subscription{ChannelID: ch.ID, SourceRepository: "https://github.com/contoso/runtime",
		TargetRepository: "https://github.com/contoso/sdk", TargetBranch: "main", Enabled: true,
		Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild}})
	require.NoError(t, err)

	res := run(dir, "build", "--id", fmt.Sprint(sdk), "--format", "json")
	require.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	var g graph.BuildGraph
	require.NoError(t, json.Unmarshal([]byte(res.Out), &g))
	assert.Equal(t, []graph.Edge{{From: sdk, To: runtime, Product: true}}, g.Edges)
	assert.Equal(t, 120, g.Nodes[0].AgeMinutes, "the age is from the command's clock")

	res = run(dir, "build", "--id", fmt.Sprint(sdk), "--format", "dot")
	require.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	assert.Contains(t, res.Out, fmt.Sprintf("b%d -> b%d [label=\"product\"", sdk, runtime))

	res = run(dir, "flow", "--format", "svg")
	require.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	assert.True(t, strings.HasPrefix(res.Out, "<?xml"), "an SVG document: %.80s", res.Out)
	assert.Contains(t, res.Out, "<title>r0&#45;&gt;r1</title>", "runtime → sdk")

	res = run(dir, "build", "--id", fmt.Sprint(sdk), "--format", "svg")
	require.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	assert.Contains(t, res.Out, fmt.Sprintf("<title>b%d&#45;&gt;b%d</title>", sdk, runtime))

	res = run(dir, "build", "--id", "99")
	assert.Equal(t, cmdutil.ExitNotFound, res.Code)
	assert.Contains(t, res.ErrOut, "build 99 does not exist; `maestro build list` shows the builds")

	res = run(dir, "flow", "--channel", ".NET 11")
	require.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	assert.Contains(t, res.Out, "https://github.com/contoso/runtime  https://github.com/contoso/sdk  main    .NET 11  everyBuild")

	res = run(dir, "flow", "--channel", "nope")
	assert.Equal(t, cmdutil.ExitInvalid, res.Code)
	assert.Contains(t, res.ErrOut, "--channel:")
}
