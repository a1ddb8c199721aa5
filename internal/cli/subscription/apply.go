package subscription

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/service"
)

// newApplyCmd returns `maestro subscription apply`: what a dependency-update
// pipeline runs.
func newApplyCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "apply a build to a subscription's target now: edit, commit, push, open or update the pull request",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "id", Required: true, Usage: "subscription `ID`"},
			&cli.IntFlag{Name: "build", Required: true, Usage: "BAR build `ID`"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			svc, err := f.Service(c)
			if err != nil {
				return err
			}
			o, err := svc.Apply(c.Context, c.String("id"), c.Int("build"))
			return report(c, f, o, err)
		},
	}
}

// newTriggerCmd returns `maestro subscription trigger`.
func newTriggerCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:  "trigger",
		Usage: "flow a build through a subscription now, whatever its update frequency",
		Description: `Without --build, the newest build of the source repository in the
subscription's channel. A disabled subscription, or a build no newer than the
one applied last, needs --force.`,
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "id", Required: true, Usage: "subscription `ID`"},
			&cli.IntFlag{Name: "build", Usage: "BAR build `ID` (default: the newest in the channel)"},
			&cli.BoolFlag{Name: "force", Usage: "also when disabled or already applied"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			svc, err := f.Service(c)
			if err != nil {
				return err
			}
			o, err := svc.Trigger(c.Context, service.TriggerRequest{SubscriptionID: c.String("id"), BuildID: c.Int("build"), Force: c.Bool("force")})
			return report(c, f, o, err)
		},
	}
}

func report(c *cli.Context, f *cmdutil.Factory, o maestro.FlowOutcome, err error) error {
	if o.SubscriptionID == "" {
		return err
	}
	if perr := f.Print(c, o, func(w io.Writer) { fmt.Fprintln(w, cmdutil.DescribeOutcome(o)) }); perr != nil {
		return perr
	}
	return err
}
