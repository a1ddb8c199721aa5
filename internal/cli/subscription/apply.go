package subscription

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/service"
)

// ApplyOptions are the parsed flags of `maestro subscription apply`.
type ApplyOptions struct {
	ID      string
	BuildID int
	JSON    bool
}

// TriggerOptions are the parsed flags of `maestro subscription trigger`.
type TriggerOptions struct {
	Request service.TriggerRequest
	JSON    bool
}

// NewCmdApply returns `maestro subscription apply`, what a dependency-update
// pipeline runs; runF does the work (nil: applyRun).
func NewCmdApply(f *cmdutil.Factory, runF func(*cli.Context, *ApplyOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *ApplyOptions) error { return applyRun(c, f, o) }
	}
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
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &ApplyOptions{ID: c.String("id"), BuildID: c.Int("build"), JSON: asJSON})
		},
	}
}

func applyRun(c *cli.Context, f *cmdutil.Factory, o *ApplyOptions) error {
	svc, err := f.Service(c)
	if err != nil {
		return err
	}
	out, err := svc.Apply(c.Context, o.ID, o.BuildID)
	return report(f, o.JSON, out, err)
}

// NewCmdTrigger returns `maestro subscription trigger`; runF does the work
// (nil: triggerRun).
func NewCmdTrigger(f *cmdutil.Factory, runF func(*cli.Context, *TriggerOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *TriggerOptions) error { return triggerRun(c, f, o) }
	}
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
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &TriggerOptions{
				Request: service.TriggerRequest{SubscriptionID: c.String("id"), BuildID: c.Int("build"), Force: c.Bool("force")},
				JSON:    asJSON,
			})
		},
	}
}

func triggerRun(c *cli.Context, f *cmdutil.Factory, o *TriggerOptions) error {
	svc, err := f.Service(c)
	if err != nil {
		return err
	}
	out, err := svc.Trigger(c.Context, o.Request)
	return report(f, o.JSON, out, err)
}

// report writes the outcome of a flow, when there is one, and returns err.
func report(f *cmdutil.Factory, asJSON bool, o maestro.FlowOutcome, err error) error {
	if o.SubscriptionID == "" {
		return err
	}
	if perr := f.Render(asJSON, o, func(w io.Writer) { fmt.Fprintln(w, cmdutil.DescribeOutcome(o)) }); perr != nil {
		return perr
	}
	return err
}
