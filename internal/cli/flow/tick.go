package flow

import (
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
)

func newTickCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:  "tick",
		Usage: "apply the scheduled subscriptions that are due",
		Description: `For every enabled subscription with a schedule (twiceDaily, everyDay,
everyWeek, everyTwoWeeks, everyMonth) whose last completed run is at least one
interval old: apply the newest build of its source in its channel, if it is
newer than the build applied last. Meant for a scheduled pipeline
(pipelines/flow-tick.yml) or the server. --now replays a given moment.`,
		Flags: []cli.Flag{
			&cli.TimestampFlag{Name: "now", Layout: time.RFC3339, Usage: "the moment to decide for (`RFC3339`; default: the clock)"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			svc, err := f.Service(c)
			if err != nil {
				return err
			}
			now := f.Now()
			if t := c.Timestamp("now"); t != nil {
				now = *t
			}
			outcomes, err := svc.Tick(c.Context, now)
			if err != nil {
				return err
			}
			return f.Print(c, outcomes, func(w io.Writer) {
				if len(outcomes) == 0 {
					fmt.Fprintln(w, "no scheduled subscription is due with a newer build")
				}
				for _, o := range outcomes {
					fmt.Fprintln(w, cmdutil.DescribeOutcome(o))
				}
			})
		},
	}
}
