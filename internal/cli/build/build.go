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

// ShowOptions are the parsed flags of `maestro build show`.
type ShowOptions struct {
	ID   int
	JSON bool
}

// ListOptions are the parsed flags of `maestro build list`.
type ListOptions struct {
	Repository string
	Commit     string
	Channel    string // name or id; "" for every channel
	Limit      int
	Before     int
	JSON       bool
}

// LatestOptions are the parsed flags of `maestro build latest`.
type LatestOptions struct {
	Repository string
	Channel    string // name or id; "" for any channel
	JSON       bool
}

// DependentsOptions are the parsed flags of `maestro build dependents`.
type DependentsOptions struct {
	ID   int
	JSON bool
}

// ChannelOptions are the parsed flags of `maestro build add-to-channel` and
// `maestro build remove-from-channel`.
type ChannelOptions struct {
	ID      int
	Channel string // name or id
}

// UpdateOptions are the parsed flags of `maestro build update`.
type UpdateOptions struct {
	ID       int
	Released bool
	JSON     bool
}

// FindOptions are the parsed flags of `maestro asset find`.
type FindOptions struct {
	Name    string
	Version string // "" for every version
	Limit   int
	JSON    bool
}

// NewCmd returns `maestro build`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:  "build",
		Usage: "read and manage recorded builds",
		Subcommands: []*cli.Command{
			NewCmdShow(f, nil),
			NewCmdList(f, nil),
			NewCmdLatest(f, nil),
			NewCmdDependents(f, nil),
			NewCmdAddToChannel(f, nil),
			NewCmdRemoveFromChannel(f, nil),
			NewCmdUpdate(f, nil),
			NewCmdGatherDrop(f, nil),
			NewCmdPromote(f, nil),
		},
	}
}

func idFlag() cli.Flag {
	return &cli.IntFlag{Name: "id", Required: true, Usage: "BAR build `ID`"}
}

func channelFlag() cli.Flag {
	return &cli.StringFlag{Name: "channel", Required: true, Usage: "channel `NAME` or id"}
}

// show writes one build as a table or JSON.
func show(f *cmdutil.Factory, asJSON bool, b maestro.Build) error {
	return f.Render(asJSON, b, func(w io.Writer) { Describe(w, b) })
}

// NewCmdShow returns `maestro build show`; runF does the work (nil: showRun).
func NewCmdShow(f *cmdutil.Factory, runF func(*cli.Context, *ShowOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *ShowOptions) error { return showRun(c, f, o) }
	}
	return &cli.Command{
		Name: "show", Usage: "show a build with its assets", ArgsUsage: " ",
		Flags: []cli.Flag{idFlag(), cmdutil.StoreFlag, cmdutil.OutputFlag},
		Action: func(c *cli.Context) error {
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &ShowOptions{ID: c.Int("id"), JSON: asJSON})
		},
	}
}

func showRun(c *cli.Context, f *cmdutil.Factory, o *ShowOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	// Speculative builds have ids of their own and are kept apart
	// (docs/registry.md, "Speculative builds"); AnyBuild reads either.
	b, err := reg.AnyBuild(c.Context, o.ID)
	if err != nil {
		return err
	}
	return show(f, o.JSON, b)
}

// NewCmdList returns `maestro build list`; runF does the work (nil: listRun).
func NewCmdList(f *cmdutil.Factory, runF func(*cli.Context, *ListOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *ListOptions) error { return listRun(c, f, o) }
	}
	return &cli.Command{
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
			if c.Int("limit") < 0 || c.Int("before") < 0 {
				return cmdutil.UsageErrorf("--limit and --before must not be negative")
			}
			ch, err := channel.OptionalFlag(c)
			if err != nil {
				return err
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &ListOptions{
				Repository: c.String("repository"), Commit: c.String("commit"), Channel: ch,
				Limit: c.Int("limit"), Before: c.Int("before"), JSON: asJSON,
			})
		},
	}
}

func listRun(c *cli.Context, f *cmdutil.Factory, o *ListOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	filter := registry.BuildFilter{Repository: o.Repository, Commit: o.Commit, Limit: o.Limit, Before: o.Before}
	if o.Channel != "" {
		ch, err := channel.ResolveFlag(c, reg, o.Channel)
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
	return f.Render(o.JSON, bs, func(w io.Writer) { buildRows(w, bs) })
}

// buildRows writes builds as table rows under a header.
func buildRows(w io.Writer, bs []maestro.Build) {
	cmdutil.Row(w, "ID", "REPOSITORY", "BRANCH", "COMMIT", "NUMBER", "CHANNELS")
	for _, b := range bs {
		cmdutil.Row(w, b.ID, b.Repository, b.Branch, cmdutil.ShortSHA(b.Commit), b.AzureDevOpsBuildNumber, channelNames(b))
	}
}

// NewCmdLatest returns `maestro build latest`; runF does the work (nil: latestRun).
func NewCmdLatest(f *cmdutil.Factory, runF func(*cli.Context, *LatestOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *LatestOptions) error { return latestRun(c, f, o) }
	}
	return &cli.Command{
		Name: "latest", Usage: "show the newest build of a repository (in a channel)", ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "repository", Required: true, Usage: "repository `URL`"},
			&cli.StringFlag{Name: "channel", Usage: "channel `NAME` or id"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			ch, err := channel.OptionalFlag(c)
			if err != nil {
				return err
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &LatestOptions{Repository: c.String("repository"), Channel: ch, JSON: asJSON})
		},
	}
}

func latestRun(c *cli.Context, f *cmdutil.Factory, o *LatestOptions) error {
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
	b, err := reg.LatestBuild(c.Context, o.Repository, channelID)
	if err != nil {
		return err
	}
	return show(f, o.JSON, b)
}

// NewCmdDependents returns `maestro build dependents`; runF does the work (nil: dependentsRun).
func NewCmdDependents(f *cmdutil.Factory, runF func(*cli.Context, *DependentsOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *DependentsOptions) error { return dependentsRun(c, f, o) }
	}
	return &cli.Command{
		Name: "dependents", Usage: "list the builds that recorded a dependency on a build", ArgsUsage: " ",
		Flags: []cli.Flag{idFlag(), cmdutil.StoreFlag, cmdutil.OutputFlag},
		Action: func(c *cli.Context) error {
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &DependentsOptions{ID: c.Int("id"), JSON: asJSON})
		},
	}
}

func dependentsRun(c *cli.Context, f *cmdutil.Factory, o *DependentsOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	if _, err := reg.BuildInfo(c.Context, o.ID); err != nil {
		return err
	}
	ids, err := reg.Dependents(c.Context, o.ID)
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
	return f.Render(o.JSON, bs, func(w io.Writer) { buildRows(w, bs) })
}

// NewCmdAddToChannel returns `maestro build add-to-channel`; runF does the
// work (nil: addToChannelRun).
func NewCmdAddToChannel(f *cmdutil.Factory, runF func(*cli.Context, *ChannelOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *ChannelOptions) error { return addToChannelRun(c, f, o) }
	}
	return &cli.Command{
		Name: "add-to-channel", Usage: "add a build to a channel", ArgsUsage: " ",
		Flags: []cli.Flag{idFlag(), channelFlag(), cmdutil.StoreFlag},
		Action: func(c *cli.Context) error {
			return runF(c, &ChannelOptions{ID: c.Int("id"), Channel: c.String("channel")})
		},
	}
}

func addToChannelRun(c *cli.Context, f *cmdutil.Factory, o *ChannelOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	ch, err := channel.ResolveFlag(c, reg, o.Channel)
	if err != nil {
		return err
	}
	added, err := reg.AddBuildToChannel(c.Context, o.ID, ch.ID)
	if err != nil {
		return err
	}
	if !added {
		fmt.Fprintf(f.IO.Out, "build %d is already in channel %q\n", o.ID, ch.Name)
		return nil
	}
	fmt.Fprintf(f.IO.Out, "added build %d to channel %q\n", o.ID, ch.Name)
	return nil
}

// NewCmdRemoveFromChannel returns `maestro build remove-from-channel`; runF
// does the work (nil: removeFromChannelRun).
func NewCmdRemoveFromChannel(f *cmdutil.Factory, runF func(*cli.Context, *ChannelOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *ChannelOptions) error { return removeFromChannelRun(c, f, o) }
	}
	return &cli.Command{
		Name: "remove-from-channel", Usage: "take a build out of a channel", ArgsUsage: " ",
		Flags: []cli.Flag{idFlag(), channelFlag(), cmdutil.StoreFlag},
		Action: func(c *cli.Context) error {
			return runF(c, &ChannelOptions{ID: c.Int("id"), Channel: c.String("channel")})
		},
	}
}

func removeFromChannelRun(c *cli.Context, f *cmdutil.Factory, o *ChannelOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	ch, err := channel.ResolveFlag(c, reg, o.Channel)
	if err != nil {
		return err
	}
	if err := reg.RemoveBuildFromChannel(c.Context, o.ID, ch.ID); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "removed build %d from channel %q\n", o.ID, ch.Name)
	return nil
}

// NewCmdUpdate returns `maestro build update`; runF does the work (nil: updateRun).
func NewCmdUpdate(f *cmdutil.Factory, runF func(*cli.Context, *UpdateOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *UpdateOptions) error { return updateRun(c, f, o) }
	}
	return &cli.Command{
		Name: "update", Usage: "mark a build released or not", ArgsUsage: " ",
		Flags: []cli.Flag{idFlag(), &cli.BoolFlag{Name: "released", Usage: "released (--released=false to undo)"}, cmdutil.StoreFlag, cmdutil.OutputFlag},
		Action: func(c *cli.Context) error {
			if !c.IsSet("released") {
				return cmdutil.UsageErrorf("build update: nothing to change; pass --released or --released=false")
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &UpdateOptions{ID: c.Int("id"), Released: c.Bool("released"), JSON: asJSON})
		},
	}
}

func updateRun(c *cli.Context, f *cmdutil.Factory, o *UpdateOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	b, err := reg.SetReleased(c.Context, o.ID, o.Released)
	if err != nil {
		return err
	}
	return show(f, o.JSON, b)
}

// NewAssetCmd returns `maestro asset`.
func NewAssetCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:        "asset",
		Usage:       "find assets",
		Subcommands: []*cli.Command{NewCmdAssetFind(f, nil)},
	}
}

// NewCmdAssetFind returns `maestro asset find`; runF does the work (nil: findRun).
func NewCmdAssetFind(f *cmdutil.Factory, runF func(*cli.Context, *FindOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *FindOptions) error { return findRun(c, f, o) }
	}
	return &cli.Command{
		Name: "find", Usage: "find the builds that produced an asset", ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Required: true, Usage: "asset `NAME` (case-insensitive)"},
			&cli.StringFlag{Name: "version", Usage: "only this `VERSION`"},
			&cli.IntFlag{Name: "limit", Value: 20, Usage: "at most `N` results, newest first"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &FindOptions{Name: c.String("name"), Version: c.String("version"), Limit: c.Int("limit"), JSON: asJSON})
		},
	}
}

func findRun(c *cli.Context, f *cmdutil.Factory, o *FindOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	ms, err := reg.FindAssets(c.Context, o.Name, o.Version, o.Limit)
	if err != nil {
		return err
	}
	if ms == nil {
		ms = []registry.AssetMatch{}
	}
	return f.Render(o.JSON, ms, func(w io.Writer) {
		cmdutil.Row(w, "NAME", "VERSION", "BUILD", "REPOSITORY", "COMMIT", "LOCATIONS")
		for _, m := range ms {
			var locs []string
			for _, l := range m.Asset.Locations {
				locs = append(locs, l.Location)
			}
			cmdutil.Row(w, m.Asset.Name, m.Asset.Version, m.Build.ID, m.Build.Repository, cmdutil.ShortSHA(m.Build.Commit), strings.Join(locs, " "))
		}
	})
}

// Describe writes a build for a person.
func Describe(w io.Writer, b maestro.Build) {
	cmdutil.Row(w, "id:", b.ID)
	cmdutil.Row(w, "repository:", b.Repository)
	cmdutil.Row(w, "branch:", b.Branch)
	cmdutil.Row(w, "commit:", b.Commit)
	if b.Speculative {
		cmdutil.Row(w, "speculative:", true)
	}
	if b.ProductBuild != "" {
		cmdutil.Row(w, "product build:", b.ProductBuild)
	}
	if pr := b.PullRequest; pr != nil {
		cmdutil.Row(w, "pull request:", fmt.Sprintf("%s (head %s)", pr.URL, pr.HeadCommit))
	}
	if b.PromotedFrom != 0 {
		cmdutil.Row(w, "promoted from:", fmt.Sprintf("speculative build %d", b.PromotedFrom))
	}
	if b.PromotedTo != 0 {
		cmdutil.Row(w, "promoted to:", fmt.Sprintf("build %d", b.PromotedTo))
	}
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
