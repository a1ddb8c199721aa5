// Package graph implements `maestro graph build` and `maestro graph flow`:
// the dependency graph of a build and the flow graph of the subscriptions,
// read from the registry alone (see internal/graph).
package graph

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/channel"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/graph"
)

// BuildOptions are the parsed flags of `maestro graph build`.
type BuildOptions struct {
	ID     int
	Depth  int // 0: every level
	Format graph.Format
}

// FlowOptions are the parsed flags of `maestro graph flow`.
type FlowOptions struct {
	Channel string // name or id; "" for every channel
	Format  graph.Format
}

// NewCmd returns `maestro graph`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:  "graph",
		Usage: "draw a build's dependency graph or the flow between repositories, from the registry alone",
		Subcommands: []*cli.Command{
			NewCmdBuild(f, nil),
			NewCmdFlow(f, nil),
		},
	}
}

func formatFlag() cli.Flag {
	names := make([]string, len(graph.Formats))
	for i, f := range graph.Formats {
		names[i] = string(f)
	}
	return &cli.StringFlag{Name: "format", Value: string(graph.Table), Usage: "output `FORMAT`: " + strings.Join(names, ", ")}
}

// NewCmdBuild returns `maestro graph build`; runF does the work (nil: buildRun).
func NewCmdBuild(f *cmdutil.Factory, runF func(*cli.Context, *BuildOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *BuildOptions) error { return buildRun(c, f, o) }
	}
	return &cli.Command{
		Name:  "build",
		Usage: "the dependency graph of a build, from the dependencies recorded at publish",
		Description: `Each node is a build (repository, commit, BAR id, age); each edge a product or
toolset dependency. A repository present at two commits is a conflict, drawn
in red. For every dependency, a newer build of its repository in one of its
channels is named. Nothing is read from the repositories themselves.`,
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "id", Required: true, Usage: "BAR build `ID`"},
			&cli.IntFlag{Name: "depth", Usage: "read at most `D` levels of dependencies (0: all)"},
			formatFlag(), cmdutil.StoreFlag,
		},
		Action: func(c *cli.Context) error {
			if c.Int("depth") < 0 {
				return cmdutil.UsageErrorf("--depth %d: give 0 for every level, or a positive number of levels", c.Int("depth"))
			}
			if c.Int("id") <= 0 {
				return cmdutil.UsageErrorf("--id %d: give a BAR build id (`maestro build list` shows them)", c.Int("id"))
			}
			format, err := graph.ParseFormat(c.String("format"))
			if err != nil {
				return err
			}
			return runF(c, &BuildOptions{ID: c.Int("id"), Depth: c.Int("depth"), Format: format})
		},
	}
}

func buildRun(c *cli.Context, f *cmdutil.Factory, o *BuildOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	g, err := graph.BuildDependencies(c.Context, reg, o.ID, o.Depth, f.Now())
	if err != nil {
		return err
	}
	return g.Render(f.IO.Out, o.Format)
}

// NewCmdFlow returns `maestro graph flow`; runF does the work (nil: flowRun).
func NewCmdFlow(f *cmdutil.Factory, runF func(*cli.Context, *FlowOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *FlowOptions) error { return flowRun(c, f, o) }
	}
	return &cli.Command{
		Name:  "flow",
		Usage: "repositories and the subscriptions between them",
		Description: `Each node is a repository; each edge a subscription from its source to its
target, labelled with its frequency, channel and target branch, thicker the
more often it flows. Disabled subscriptions are dashed, those whose last
attempt failed (or conflicted) are red, and enabled subscriptions that form a
cycle are marked.`,
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "channel", Usage: "only subscriptions on this channel (`NAME` or id)"},
			formatFlag(), cmdutil.StoreFlag,
		},
		Action: func(c *cli.Context) error {
			ch, err := channel.OptionalFlag(c)
			if err != nil {
				return err
			}
			format, err := graph.ParseFormat(c.String("format"))
			if err != nil {
				return err
			}
			return runF(c, &FlowOptions{Channel: ch, Format: format})
		},
	}
}

func flowRun(c *cli.Context, f *cmdutil.Factory, o *FlowOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	channelID := 0
	if o.Channel != "" {
		ch, err := channel.ResolveFlag(c, reg, o.Channel)
		if err != nil {
			return err
		}
		channelID = ch.ID
	}
	g, err := graph.FlowSubscriptions(c.Context, reg, channelID)
	if err != nil {
		return err
	}
	return g.Render(f.IO.Out, o.Format)
}
