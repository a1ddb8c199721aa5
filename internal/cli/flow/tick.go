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
		Description: `Runs the flow that is due, as of --now (default: the clock):
- pending work whose next attempt has come: updates that waited for a pull
  request's checks, or for a host that answered 429 or 5xx or timed out
  (retried with backoff, at most 5 attempts), always with the newest build;
- scheduled subscriptions (twiceDaily, everyDay, everyWeek, everyTwoWeeks,
  everyMonth) whose calendar slot (UTC; see README) passed since they last
  ran, with the newest build of their source in their channel when it is
  newer than the build applied last.
Meant for a scheduled pipeline (pipelines/flow-tick.yml) or the server.
Every attempt is in ` + "`maestro flow history`" + `.
`,
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
					fmt.Fprintln(w, "nothing is due: no pending work, no scheduled subscription with a newer build")
				}
				for _, o := range outcomes {
					fmt.Fprintln(w, cmdutil.DescribeOutcome(o))
				}
			})
		},
	}
}
