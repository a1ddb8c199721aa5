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

// AddOptions are the parsed flags of `maestro channel add`.
type AddOptions struct {
	Name           string
	Classification string
	JSON           bool
}

// ListOptions are the parsed flags of `maestro channel list`.
type ListOptions struct {
	JSON bool
}

// DeleteOptions are the parsed flags of `maestro channel delete`.
type DeleteOptions struct {
	Name string // name or id
}

// NewCmd returns `maestro channel`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:        "channel",
		Usage:       "manage channels",
		Subcommands: []*cli.Command{NewCmdAdd(f, nil), NewCmdList(f, nil), NewCmdDelete(f, nil)},
	}
}

// NewCmdAdd returns `maestro channel add`; runF does the work (nil: addRun).
func NewCmdAdd(f *cmdutil.Factory, runF func(*cli.Context, *AddOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *AddOptions) error { return addRun(c, f, o) }
	}
	return &cli.Command{
		Name:      "add",
		Usage:     "create a channel",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Required: true, Usage: "channel `NAME`, e.g. \".NET 10\""},
			&cli.StringFlag{Name: "classification", Value: "dev", Usage: "free-text classification, e.g. product, tools, dev"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &AddOptions{Name: c.String("name"), Classification: c.String("classification"), JSON: asJSON})
		},
	}
}

func addRun(c *cli.Context, f *cmdutil.Factory, o *AddOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	ch, err := reg.AddChannel(c.Context, o.Name, o.Classification)
	if err != nil {
		return err
	}
	return f.Render(o.JSON, ch, func(w io.Writer) { fmt.Fprintf(w, "added channel %d %q\n", ch.ID, ch.Name) })
}

// NewCmdList returns `maestro channel list`; runF does the work (nil: listRun).
func NewCmdList(f *cmdutil.Factory, runF func(*cli.Context, *ListOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *ListOptions) error { return listRun(c, f, o) }
	}
	return &cli.Command{
		Name:  "list",
		Usage: "list channels",
		Flags: []cli.Flag{cmdutil.StoreFlag, cmdutil.OutputFlag},
		Action: func(c *cli.Context) error {
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &ListOptions{JSON: asJSON})
		},
	}
}

func listRun(c *cli.Context, f *cmdutil.Factory, o *ListOptions) error {
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
	return f.Render(o.JSON, chs, func(w io.Writer) {
		cmdutil.Row(w, "ID", "NAME", "CLASSIFICATION")
		for _, ch := range chs {
			cmdutil.Row(w, ch.ID, ch.Name, ch.Classification)
		}
	})
}

// NewCmdDelete returns `maestro channel delete`; runF does the work (nil: deleteRun).
func NewCmdDelete(f *cmdutil.Factory, runF func(*cli.Context, *DeleteOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *DeleteOptions) error { return deleteRun(c, f, o) }
	}
	return &cli.Command{
		Name:      "delete",
		Usage:     "delete a channel that no default channel or subscription uses",
		ArgsUsage: " ",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "name", Required: true, Usage: "channel `NAME` or id"}, cmdutil.StoreFlag},
		Action: func(c *cli.Context) error {
			return runF(c, &DeleteOptions{Name: c.String("name")})
		},
	}
}

func deleteRun(c *cli.Context, f *cmdutil.Factory, o *DeleteOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	ch, err := Resolve(c, reg, o.Name)
	if err != nil {
		return err
	}
	if err := reg.DeleteChannel(c.Context, ch.ID); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "deleted channel %d %q\n", ch.ID, ch.Name)
	return nil
}

// OptionalFlag is the value of a command's optional --channel flag, "" when
// not given; given, it must name something.
func OptionalFlag(c *cli.Context) (string, error) {
	v := c.String("channel")
	if c.IsSet("channel") && strings.TrimSpace(v) == "" {
		return "", cmdutil.UsageErrorf("--channel is empty; give a channel name or id (`maestro channel list` shows them)")
	}
	return v, nil
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

// DefaultAddOptions are the parsed flags of `maestro default-channel add`.
type DefaultAddOptions struct {
	Repository string
	Branch     string // name, or -regex:PATTERN
	Channel    string // name or id
	Disabled   bool
	JSON       bool
}

// DefaultListOptions are the parsed flags of `maestro default-channel list`.
type DefaultListOptions struct {
	Repository string // "" for every repository
	JSON       bool
}

// DefaultDeleteOptions are the parsed flags of `maestro default-channel delete`.
type DefaultDeleteOptions struct {
	ID int
}

// DefaultEnableOptions are the parsed flags of `maestro default-channel
// enable` (Enabled) and `disable`.
type DefaultEnableOptions struct {
	ID      int
	Enabled bool
}

// NewDefaultCmd returns `maestro default-channel`.
func NewDefaultCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:  "default-channel",
		Usage: "manage default channels: which channel a repository branch's builds go to",
		Subcommands: []*cli.Command{
			NewCmdDefaultAdd(f, nil),
			NewCmdDefaultList(f, nil),
			NewCmdDefaultDelete(f, nil),
			NewCmdDefaultEnable(f, nil),
			NewCmdDefaultDisable(f, nil),
		},
	}
}

func defaultIDFlag() cli.Flag {
	return &cli.IntFlag{Name: "id", Required: true, Usage: "default channel `ID` (see `maestro default-channel list`)"}
}

// NewCmdDefaultAdd returns `maestro default-channel add`; runF does the work
// (nil: defaultAddRun).
func NewCmdDefaultAdd(f *cmdutil.Factory, runF func(*cli.Context, *DefaultAddOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *DefaultAddOptions) error { return defaultAddRun(c, f, o) }
	}
	return &cli.Command{
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
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &DefaultAddOptions{
				Repository: c.String("repository"), Branch: c.String("branch"), Channel: c.String("channel"),
				Disabled: c.Bool("disabled"), JSON: asJSON,
			})
		},
	}
}

func defaultAddRun(c *cli.Context, f *cmdutil.Factory, o *DefaultAddOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	ch, err := Resolve(c, reg, o.Channel)
	if err != nil {
		return err
	}
	dc, err := reg.AddDefaultChannel(c.Context, maestro.DefaultChannel{
		Repository: o.Repository, Branch: o.Branch, ChannelID: ch.ID, Enabled: !o.Disabled,
	})
	if err != nil {
		return err
	}
	return f.Render(o.JSON, dc, func(w io.Writer) {
		fmt.Fprintf(w, "added default channel %d: %s@%s → %q\n", dc.ID, dc.Repository, dc.Branch, ch.Name)
	})
}

// NewCmdDefaultList returns `maestro default-channel list`; runF does the
// work (nil: defaultListRun).
func NewCmdDefaultList(f *cmdutil.Factory, runF func(*cli.Context, *DefaultListOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *DefaultListOptions) error { return defaultListRun(c, f, o) }
	}
	return &cli.Command{
		Name:  "list",
		Usage: "list default channels",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "repository", Usage: "only this repository"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &DefaultListOptions{Repository: c.String("repository"), JSON: asJSON})
		},
	}
}

func defaultListRun(c *cli.Context, f *cmdutil.Factory, o *DefaultListOptions) error {
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
		if o.Repository == "" || repourl.Equal(dc.Repository, o.Repository) {
			out = append(out, dc)
		}
	}
	return f.Render(o.JSON, out, func(w io.Writer) {
		cmdutil.Row(w, "ID", "REPOSITORY", "BRANCH", "CHANNEL", "ENABLED")
		for _, dc := range out {
			cmdutil.Row(w, dc.ID, dc.Repository, dc.Branch, names[dc.ChannelID], dc.Enabled)
		}
	})
}

// NewCmdDefaultDelete returns `maestro default-channel delete`; runF does
// the work (nil: defaultDeleteRun).
func NewCmdDefaultDelete(f *cmdutil.Factory, runF func(*cli.Context, *DefaultDeleteOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *DefaultDeleteOptions) error { return defaultDeleteRun(c, f, o) }
	}
	return &cli.Command{
		Name: "delete", Usage: "delete a default channel", ArgsUsage: " ",
		Flags: []cli.Flag{defaultIDFlag(), cmdutil.StoreFlag},
		Action: func(c *cli.Context) error {
			return runF(c, &DefaultDeleteOptions{ID: c.Int("id")})
		},
	}
}

func defaultDeleteRun(c *cli.Context, f *cmdutil.Factory, o *DefaultDeleteOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	if err := reg.DeleteDefaultChannel(c.Context, o.ID); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "deleted default channel %d\n", o.ID)
	return nil
}

// NewCmdDefaultEnable returns `maestro default-channel enable`; runF does
// the work (nil: defaultEnableRun).
func NewCmdDefaultEnable(f *cmdutil.Factory, runF func(*cli.Context, *DefaultEnableOptions) error) *cli.Command {
	return newSetEnabledCmd(f, "enable", true, runF)
}

// NewCmdDefaultDisable returns `maestro default-channel disable`; runF does
// the work (nil: defaultEnableRun).
func NewCmdDefaultDisable(f *cmdutil.Factory, runF func(*cli.Context, *DefaultEnableOptions) error) *cli.Command {
	return newSetEnabledCmd(f, "disable", false, runF)
}

func newSetEnabledCmd(f *cmdutil.Factory, name string, enabled bool, runF func(*cli.Context, *DefaultEnableOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *DefaultEnableOptions) error { return defaultEnableRun(c, f, o) }
	}
	return &cli.Command{
		Name: name, Usage: name + " a default channel", ArgsUsage: " ",
		Flags: []cli.Flag{defaultIDFlag(), cmdutil.StoreFlag},
		Action: func(c *cli.Context) error {
			return runF(c, &DefaultEnableOptions{ID: c.Int("id"), Enabled: enabled})
		},
	}
}

func defaultEnableRun(c *cli.Context, f *cmdutil.Factory, o *DefaultEnableOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	if err := reg.SetDefaultChannelEnabled(c.Context, o.ID, o.Enabled); err != nil {
		return err
	}
	word := map[bool]string{true: "enabled", false: "disabled"}[o.Enabled]
	fmt.Fprintf(f.IO.Out, "%s default channel %d\n", word, o.ID)
	return nil
}
