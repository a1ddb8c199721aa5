package build

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/channel"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/service"
)

// PromoteOptions are the parsed flags of `maestro build promote`.
type PromoteOptions struct {
	ID        int
	Channels  []string // names or ids; none: every channel whose twin holds the build
	NoTrigger bool
	JSON      bool
}

// NewCmdPromote returns `maestro build promote`; runF does the work (nil: promoteRun).
func NewCmdPromote(f *cmdutil.Factory, runF func(*cli.Context, *PromoteOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *PromoteOptions) error { return promoteRun(c, f, o) }
	}
	return &cli.Command{
		Name:      "promote",
		Usage:     "make a speculative build of a merged pull request a mainline build",
		ArgsUsage: " ",
		Description: `Promotes speculative build --id to a mainline build when its pull request
merged as exactly the commit the build was made from (a fast-forward or
rebase merge of the head it built, or a build of the merge commit): the host
is asked. The mainline build gets a new id and records the same repository,
commit, assets and dependencies; its branch is the one the pull request merged
into; its assets ship as the build's manifests said (a speculative build
records every asset non-shipping, and keeps the manifests' flags for this);
it joins the channels whose speculative twins hold the speculative build (or
only the --channel ones). Then it flows like a published build: the everyBuild
subscriptions of its channels, and the speculative pull requests waiting for
the mainline build of their merged parent move to it.

Refused (exit 2, nothing written): a build that is not speculative, or made
from no pull request; a pull request not merged, or merged as another commit;
a --channel whose twin does not hold the build; a dependency on a speculative
build not promoted. Exit 4 when the commit has another mainline build already.
Running it again returns the same mainline build (adding any --channel) and
flows it where it has not flowed yet. Prints the mainline build's id.

Example:
  maestro build promote --id 1000000042`,
		Flags: []cli.Flag{
			idFlag(),
			&cli.StringSliceFlag{Name: "channel", Usage: "join only this channel (`NAME` or id; its twin must hold the build); repeatable"},
			&cli.BoolFlag{Name: "no-trigger", Usage: "record the mainline build but do not flow it"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return cmdutil.UsageErrorf("build promote takes no arguments; got %q", c.Args().First())
			}
			if c.Int("id") <= 0 {
				return cmdutil.UsageErrorf("--id %d: a BAR build id is a positive number", c.Int("id"))
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &PromoteOptions{ID: c.Int("id"), Channels: c.StringSlice("channel"), NoTrigger: c.Bool("no-trigger"), JSON: asJSON})
		},
	}
}

func promoteRun(c *cli.Context, f *cmdutil.Factory, o *PromoteOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	req := service.PromoteRequest{BuildID: o.ID, NoTrigger: o.NoTrigger}
	for _, name := range o.Channels {
		ch, err := channel.ResolveFlag(c, reg, name)
		if err != nil {
			return err
		}
		req.Channels = append(req.Channels, ch.ID)
	}
	res, err := f.Wiring().Service(reg).Promote(c.Context, req)
	if res.Build.ID == 0 {
		return err
	}
	// Recorded: the flow's failures are outcomes and warnings.
	for _, t := range res.Flowed {
		if t.Err != nil {
			cmdutil.Warn(f.IO.ErrOut, t.Err.Error(), f.Getenv)
		} else {
			fmt.Fprintln(f.IO.ErrOut, cmdutil.DescribeOutcome(t.Outcome))
		}
	}
	if err != nil {
		cmdutil.Warn(f.IO.ErrOut, fmt.Sprintf("build %d is promoted, but it did not flow: %v (run the same promote again)", res.Build.ID, err), f.Getenv)
	}
	if o.JSON {
		return cmdutil.WriteJSON(f.IO.Out, res.Build)
	}
	if res.Existing {
		fmt.Fprintf(f.IO.ErrOut, "speculative build %d was promoted before, to build %d; not recorded again\n", o.ID, res.Build.ID)
	} else {
		fmt.Fprintf(f.IO.ErrOut, "promoted speculative build %d to mainline build %d\n", o.ID, res.Build.ID)
	}
	fmt.Fprintln(f.IO.Out, res.Build.ID)
	return nil
}
