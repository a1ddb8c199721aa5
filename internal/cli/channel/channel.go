// Package channel implements `maestro channel` and `maestro default-channel`:
// the channels builds are published to and the repository branches whose
// builds go to a channel automatically.
package channel

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// NewCmd returns `maestro channel`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:  "channel",
		Usage: "manage channels",
		Subcommands: []*cli.Command{
			{
				Name:      "add",
				Usage:     "create a channel",
				ArgsUsage: " ",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "name", Required: true, Usage: "channel `NAME`, e.g. \".NET 10\""},
					&cli.StringFlag{Name: "classification", Value: "dev", Usage: "free-text classification, e.g. product, tools, dev"},
					cmdutil.StoreFlag, cmdutil.OutputFlag,
				},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					ch, err := reg.AddChannel(c.Context, c.String("name"), c.String("classification"))
					if err != nil {
						return err
					}
					return f.Print(c, ch, func(w io.Writer) { fmt.Fprintf(w, "added channel %d %q\n", ch.ID, ch.Name) })
				},
			},
			{
				Name:  "list",
				Usage: "list channels",
				Flags: []cli.Flag{cmdutil.StoreFlag, cmdutil.OutputFlag},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					chs, err := reg.Channels(c.Context)
					if err != nil {
						return err
					}
					if chs == nil {
						chs = []maestro.Channel{}
					}
					return f.Print(c, chs, func(w io.Writer) {
						cmdutil.Row(w, "ID", "NAME", "CLASSIFICATION")
						for _, ch := range chs {
							cmdutil.Row(w, ch.ID, ch.Name, ch.Classification)
						}
					})
				},
			},
			{
				Name:      "delete",
				Usage:     "delete a channel that no default channel or subscription uses",
				ArgsUsage: " ",
				Flags:     []cli.Flag{&cli.StringFlag{Name: "name", Required: true, Usage: "channel `NAME` or id"}, cmdutil.StoreFlag},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					ch, err := Resolve(c, reg, c.String("name"))
					if err != nil {
						return err
					}
					if err := reg.DeleteChannel(c.Context, ch.ID); err != nil {
						return err
					}
					fmt.Fprintf(f.IO.Out, "deleted channel %d %q\n", ch.ID, ch.Name)
					return nil
				},
			},
		},
	}
}

// FromFlag resolves the command's --channel flag (see ResolveFlag).
func FromFlag(c *cli.Context, reg *registry.Registry) (maestro.Channel, error) {
	return ResolveFlag(c, reg, c.String("channel"))
}

// ResolveFlag resolves nameOrID, the value of a --channel flag, as Resolve
// does. A channel that does not exist is bad input (the flag's value), not a
// missing object.
func ResolveFlag(c *cli.Context, reg *registry.Registry, nameOrID string) (maestro.Channel, error) {
	ch, err := Resolve(c, reg, nameOrID)
	if maestro.KindOf(err) == maestro.KindNotFound {
		return ch, maestro.Errorf(maestro.KindInvalid, "--channel: %w", err)
	}
	if err != nil {
		return ch, fmt.Errorf("--channel: %w", err)
	}
	return ch, nil
}

// Resolve finds a channel by name, and only when no channel has that name,
// by numeric id: a channel named "11" is chosen by "11" even when another
// channel has id 11 (whose name then selects it).
func Resolve(c *cli.Context, reg *registry.Registry, nameOrID string) (maestro.Channel, error) {
	ch, err := reg.ChannelByName(c.Context, nameOrID)
	if maestro.KindOf(err) != maestro.KindNotFound {
		return ch, err
	}
	id, perr := strconv.Atoi(strings.TrimSpace(nameOrID))
	if perr != nil || id <= 0 {
		return ch, err
	}
	byID, err := reg.Channel(c.Context, id)
	if maestro.KindOf(err) == maestro.KindNotFound {
		return byID, maestro.Errorf(maestro.KindNotFound, "no channel is named %q or has id %d; `maestro channel list` shows the channels", nameOrID, id)
	}
	return byID, err
}

// NewDefaultCmd returns `maestro default-channel`.
func NewDefaultCmd(f *cmdutil.Factory) *cli.Command {
	idFlag := &cli.IntFlag{Name: "id", Required: true, Usage: "default channel `ID` (see `maestro default-channel list`)"}
	setEnabled := func(enabled bool) cli.ActionFunc {
		return func(c *cli.Context) error {
			reg, err := f.Registry(c)
			if err != nil {
				return err
			}
			if err := reg.SetDefaultChannelEnabled(c.Context, c.Int("id"), enabled); err != nil {
				return err
			}
			word := map[bool]string{true: "enabled", false: "disabled"}[enabled]
			fmt.Fprintf(f.IO.Out, "%s default channel %d\n", word, c.Int("id"))
			return nil
		}
	}
	return &cli.Command{
		Name:  "default-channel",
		Usage: "manage default channels: which channel a repository branch's builds go to",
		Subcommands: []*cli.Command{
			{
				Name:      "add",
				Usage:     "send builds of a repository branch to a channel",
				ArgsUsage: " ",
				Description: `A --branch that starts with -regex: is a regular expression over branch names,
e.g. --branch '-regex:^release/10\.0\.\d+xx$'.`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "repository", Required: true, Usage: "repository `URL`"},
					&cli.StringFlag{Name: "branch", Required: true, Usage: "`BRANCH` name or -regex:PATTERN"},
					&cli.StringFlag{Name: "channel", Required: true, Usage: "channel `NAME` or id"},
					&cli.BoolFlag{Name: "disabled", Usage: "create it disabled"},
					cmdutil.StoreFlag, cmdutil.OutputFlag,
				},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					ch, err := Resolve(c, reg, c.String("channel"))
					if err != nil {
						return err
					}
					dc, err := reg.AddDefaultChannel(c.Context, maestro.DefaultChannel{
						Repository: c.String("repository"), Branch: c.String("branch"),
						ChannelID: ch.ID, Enabled: !c.Bool("disabled"),
					})
					if err != nil {
						return err
					}
					return f.Print(c, dc, func(w io.Writer) {
						fmt.Fprintf(w, "added default channel %d: %s@%s → %q\n", dc.ID, dc.Repository, dc.Branch, ch.Name)
					})
				},
			},
			{
				Name:  "list",
				Usage: "list default channels",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "repository", Usage: "only this repository"},
					cmdutil.StoreFlag, cmdutil.OutputFlag,
				},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					dcs, err := reg.DefaultChannels(c.Context)
					if err != nil {
						return err
					}
					chs, err := reg.Channels(c.Context)
					if err != nil {
						return err
					}
					names := map[int]string{}
					for _, ch := range chs {
						names[ch.ID] = ch.Name
					}
					out := []maestro.DefaultChannel{}
					for _, dc := range dcs {
						if c.String("repository") == "" || repourl.Equal(dc.Repository, c.String("repository")) {
							out = append(out, dc)
						}
					}
					return f.Print(c, out, func(w io.Writer) {
						cmdutil.Row(w, "ID", "REPOSITORY", "BRANCH", "CHANNEL", "ENABLED")
						for _, dc := range out {
							cmdutil.Row(w, dc.ID, dc.Repository, dc.Branch, names[dc.ChannelID], dc.Enabled)
						}
					})
				},
			},
			{
				Name: "delete", Usage: "delete a default channel", ArgsUsage: " ",
				Flags: []cli.Flag{idFlag, cmdutil.StoreFlag},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					if err := reg.DeleteDefaultChannel(c.Context, c.Int("id")); err != nil {
						return err
					}
					fmt.Fprintf(f.IO.Out, "deleted default channel %d\n", c.Int("id"))
					return nil
				},
			},
			{Name: "enable", Usage: "enable a default channel", ArgsUsage: " ", Flags: []cli.Flag{idFlag, cmdutil.StoreFlag}, Action: setEnabled(true)},
			{Name: "disable", Usage: "disable a default channel", ArgsUsage: " ", Flags: []cli.Flag{idFlag, cmdutil.StoreFlag}, Action: setEnabled(false)},
		},
	}
}
