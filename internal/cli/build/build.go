// Package build implements `maestro build` and `maestro asset`: reading
// recorded builds, moving them between channels, marking them released, and
// finding the builds that produced an asset.
package build

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/channel"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// NewCmd returns `maestro build`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	idFlag := &cli.IntFlag{Name: "id", Required: true, Usage: "BAR build `ID`"}
	channelFlag := &cli.StringFlag{Name: "channel", Required: true, Usage: "channel `NAME` or id"}
	show := func(c *cli.Context, b maestro.Build) error {
		return f.Print(c, b, func(w io.Writer) { Describe(w, b) })
	}
	return &cli.Command{
		Name:  "build",
		Usage: "read and manage recorded builds",
		Subcommands: []*cli.Command{
			{
				Name: "show", Usage: "show a build with its assets", ArgsUsage: " ",
				Flags: []cli.Flag{idFlag, cmdutil.StoreFlag, cmdutil.OutputFlag},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					b, err := reg.Build(c.Context, c.Int("id"))
					if err != nil {
						return err
					}
					return show(c, b)
				},
			},
			{
				Name: "list", Usage: "list the newest builds",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "repository", Usage: "only builds of this repository `URL`"},
					&cli.StringFlag{Name: "commit", Usage: "only builds of this commit (needs --repository)"},
					&cli.StringFlag{Name: "channel", Usage: "only builds in this channel (`NAME` or id)"},
					&cli.IntFlag{Name: "limit", Value: 50, Usage: "at most `N` builds"},
					&cli.IntFlag{Name: "before", Usage: "only builds with an id below `ID` (the next page: the last id listed)"},
					cmdutil.StoreFlag, cmdutil.OutputFlag,
				},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					if c.Int("limit") < 0 || c.Int("before") < 0 {
						return cmdutil.UsageErrorf("--limit and --before must not be negative")
					}
					filter := registry.BuildFilter{Repository: c.String("repository"), Commit: c.String("commit"), Limit: c.Int("limit"), Before: c.Int("before")}
					if c.IsSet("channel") {
						ch, err := channel.FromFlag(c, reg)
						if err != nil {
							return err
						}
						filter.ChannelID = ch.ID
					}
					bs, err := reg.Builds(c.Context, filter)
					if err != nil {
						return err
					}
					if bs == nil {
						bs = []maestro.Build{}
					}
					return f.Print(c, bs, func(w io.Writer) {
						cmdutil.Row(w, "ID", "REPOSITORY", "BRANCH", "COMMIT", "NUMBER", "CHANNELS")
						for _, b := range bs {
							cmdutil.Row(w, b.ID, b.Repository, b.Branch, cmdutil.ShortSHA(b.Commit), b.AzureDevOpsBuildNumber, channelNames(b))
						}
					})
				},
			},
			{
				Name: "latest", Usage: "show the newest build of a repository (in a channel)", ArgsUsage: " ",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "repository", Required: true, Usage: "repository `URL`"},
					&cli.StringFlag{Name: "channel", Usage: "channel `NAME` or id"},
					cmdutil.StoreFlag, cmdutil.OutputFlag,
				},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					channelID := 0
					if c.IsSet("channel") {
						ch, err := channel.FromFlag(c, reg)
						if err != nil {
							return err
						}
						channelID = ch.ID
					}
					b, err := reg.LatestBuild(c.Context, c.String("repository"), channelID)
					if err != nil {
						return err
					}
					return show(c, b)
				},
			},
			{
				Name: "dependents", Usage: "list the builds that recorded a dependency on a build", ArgsUsage: " ",
				Flags: []cli.Flag{idFlag, cmdutil.StoreFlag, cmdutil.OutputFlag},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					if _, err := reg.BuildInfo(c.Context, c.Int("id")); err != nil {
						return err
					}
					ids, err := reg.Dependents(c.Context, c.Int("id"))
					if err != nil {
						return err
					}
					bs := []maestro.Build{}
					for _, id := range ids {
						b, err := reg.BuildInfo(c.Context, id)
						if err != nil {
							return err
						}
						bs = append(bs, b)
					}
					return f.Print(c, bs, func(w io.Writer) {
						cmdutil.Row(w, "ID", "REPOSITORY", "BRANCH", "COMMIT", "NUMBER", "CHANNELS")
						for _, b := range bs {
							cmdutil.Row(w, b.ID, b.Repository, b.Branch, cmdutil.ShortSHA(b.Commit), b.AzureDevOpsBuildNumber, channelNames(b))
						}
					})
				},
			},
			{
				Name: "add-to-channel", Usage: "add a build to a channel", ArgsUsage: " ",
				Flags: []cli.Flag{idFlag, channelFlag, cmdutil.StoreFlag},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					ch, err := channel.FromFlag(c, reg)
					if err != nil {
						return err
					}
					added, err := reg.AddBuildToChannel(c.Context, c.Int("id"), ch.ID)
					if err != nil {
						return err
					}
					if !added {
						fmt.Fprintf(f.IO.Out, "build %d is already in channel %q\n", c.Int("id"), ch.Name)
						return nil
					}
					fmt.Fprintf(f.IO.Out, "added build %d to channel %q\n", c.Int("id"), ch.Name)
					return nil
				},
			},
			{
				Name: "remove-from-channel", Usage: "take a build out of a channel", ArgsUsage: " ",
				Flags: []cli.Flag{idFlag, channelFlag, cmdutil.StoreFlag},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					ch, err := channel.FromFlag(c, reg)
					if err != nil {
						return err
					}
					if err := reg.RemoveBuildFromChannel(c.Context, c.Int("id"), ch.ID); err != nil {
						return err
					}
					fmt.Fprintf(f.IO.Out, "removed build %d from channel %q\n", c.Int("id"), ch.Name)
					return nil
				},
			},
			{
				Name: "update", Usage: "mark a build released or not", ArgsUsage: " ",
				Flags: []cli.Flag{idFlag, &cli.BoolFlag{Name: "released", Usage: "released (--released=false to undo)"}, cmdutil.StoreFlag, cmdutil.OutputFlag},
				Action: func(c *cli.Context) error {
					if !c.IsSet("released") {
						return cmdutil.UsageErrorf("build update: nothing to change; pass --released or --released=false")
					}
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					b, err := reg.SetReleased(c.Context, c.Int("id"), c.Bool("released"))
					if err != nil {
						return err
					}
					return show(c, b)
				},
			},
		},
	}
}

// NewAssetCmd returns `maestro asset`.
func NewAssetCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:  "asset",
		Usage: "find assets",
		Subcommands: []*cli.Command{
			{
				Name: "find", Usage: "find the builds that produced an asset", ArgsUsage: " ",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "name", Required: true, Usage: "asset `NAME` (case-insensitive)"},
					&cli.StringFlag{Name: "version", Usage: "only this `VERSION`"},
					&cli.IntFlag{Name: "limit", Value: 20, Usage: "at most `N` results, newest first"},
					cmdutil.StoreFlag, cmdutil.OutputFlag,
				},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					ms, err := reg.FindAssets(c.Context, c.String("name"), c.String("version"), c.Int("limit"))
					if err != nil {
						return err
					}
					if ms == nil {
						ms = []registry.AssetMatch{}
					}
					return f.Print(c, ms, func(w io.Writer) {
						cmdutil.Row(w, "NAME", "VERSION", "BUILD", "REPOSITORY", "COMMIT", "LOCATIONS")
						for _, m := range ms {
							var locs []string
							for _, l := range m.Asset.Locations {
								locs = append(locs, l.Location)
							}
							cmdutil.Row(w, m.Asset.Name, m.Asset.Version, m.Build.ID, m.Build.Repository, cmdutil.ShortSHA(m.Build.Commit), strings.Join(locs, " "))
						}
					})
				},
			},
		},
	}
}

// Describe writes a build for a person.
func Describe(w io.Writer, b maestro.Build) {
	cmdutil.Row(w, "id:", b.ID)
	cmdutil.Row(w, "repository:", b.Repository)
	cmdutil.Row(w, "branch:", b.Branch)
	cmdutil.Row(w, "commit:", b.Commit)
	if b.AzureDevOpsBuildID != 0 {
		cmdutil.Row(w, "azure devops build:", fmt.Sprintf("%s/%s #%d (%s)", b.AzureDevOpsAccount, b.AzureDevOpsProject, b.AzureDevOpsBuildID, b.AzureDevOpsBuildNumber))
	}
	cmdutil.Row(w, "produced:", b.DateProduced.Format("2006-01-02 15:04:05Z07:00"))
	cmdutil.Row(w, "released:", b.Released)
	cmdutil.Row(w, "channels:", channelNames(b))
	if len(b.Dependencies) > 0 {
		var ds []string
		for _, d := range b.Dependencies {
			ds = append(ds, fmt.Sprint(d.BuildID))
		}
		cmdutil.Row(w, "depends on builds:", strings.Join(ds, ", "))
	}
	if b.Assets != nil {
		cmdutil.Row(w, "assets:", len(b.Assets))
		for _, a := range b.Assets {
			cmdutil.Row(w, "", a.Name, a.Version)
		}
	}
}

func channelNames(b maestro.Build) string {
	var names []string
	for _, c := range b.Channels {
		names = append(names, c.Name)
	}
	return strings.Join(names, ", ")
}
