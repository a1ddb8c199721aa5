package flow

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/service"
)

// TickOptions are the parsed flags of `maestro flow tick`.
type TickOptions struct {
	Now  time.Time // zero: the clock
	JSON bool
}

// NewCmdTick returns `maestro flow tick`; runF does the work (nil: tickRun).
func NewCmdTick(f *cmdutil.Factory, runF func(*cli.Context, *TickOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *TickOptions) error { return tickRun(c, f, o) }
	}
	return &cli.Command{
		Name:  "tick",
		Usage: "run the flow that is due, then check and merge the pull requests that are due",
		Description: `Runs the flow that is due, as of --now (default: the clock):
- pending work whose next attempt has come: updates that waited for a pull
  request's checks, or for a host that answered 429 or 5xx or timed out
  (retried with backoff, at most 5 attempts), always with the newest build;
- scheduled subscriptions (twiceDaily, everyDay, everyWeek, everyTwoWeeks,
  everyMonth) whose calendar slot (UTC; see README) passed since they last
  ran, with the newest build of their source in their channel when it is
  newer than the build applied last;
- speculative pull requests whose work has come (docs/speculative.md): a
  newer speculative build of their parent to carry, an ancestor that merged
  (move to the mainline build of the merged commit) or closed (close them).
Then evaluates the merge policies of the dependency pull requests that are
due and merges those that pass, as ` + "`maestro pr check`" + ` does.
Meant for a scheduled pipeline (pipelines/flow-tick.yml) or the server.
Every attempt is in ` + "`maestro flow history`" + `.
`,
		Flags: []cli.Flag{
			&cli.TimestampFlag{Name: "now", Layout: time.RFC3339, Usage: "the moment to decide for (`RFC3339`; default: the clock)"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			o := &TickOptions{JSON: asJSON}
			if t := c.Timestamp("now"); t != nil {
				o.Now = *t
			}
			return runF(c, o)
		},
	}
}

func tickRun(c *cli.Context, f *cmdutil.Factory, o *TickOptions) error {
	svc, err := f.Service(c)
	if err != nil {
		return err
	}
	now := o.Now
	if now.IsZero() {
		now = f.Now()
	}
	// A subscription that fails (its outcomes are still listed) does not
	// keep the due pull requests from their check, nor a failed check the
	// outcomes from being shown: every error is reported at the end.
	outcomes, terr := svc.Tick(c.Context, now)
	if outcomes == nil {
		outcomes = []maestro.FlowOutcome{}
	}
	// Speculative pull requests whose work is due (docs/speculative.md).
	spec, serr := svc.TickSpeculative(c.Context, now)
	outcomes, terr = append(outcomes, spec...), errors.Join(terr, serr)
	checks, cerr := svc.CheckPullRequests(c.Context, now, service.CheckRequest{})
	if checks == nil {
		checks = []service.CheckResult{}
	}
	rerr := f.Render(o.JSON, TickResult{Outcomes: outcomes, PullRequests: checks}, func(w io.Writer) {
		if len(outcomes) == 0 && terr == nil {
			fmt.Fprintln(w, "nothing is due: no pending work, no scheduled subscription with a newer build")
		}
		for _, o := range outcomes {
			fmt.Fprintln(w, cmdutil.DescribeOutcome(o))
		}
		for _, r := range checks {
			fmt.Fprintln(w, cmdutil.DescribeCheck(r))
		}
	})
	return errors.Join(rerr, terr, cerr)
}

// TickResult is what `maestro flow tick --output json` prints: the flow's
// attempts and the pull requests whose merge policies were evaluated.
type TickResult struct {
	Outcomes     []maestro.FlowOutcome `json:"outcomes"`
	PullRequests []service.CheckResult `json:"pullRequests"`
}
