package flow

import (
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	engine "github.com/maestroplusplus/maestro/internal/flow"
)

// HealthOptions are the parsed flags of `maestro flow health`.
type HealthOptions struct {
	Limits engine.HealthLimits
	Now    time.Time // zero: the clock
	JSON   bool
}

// NewCmdHealth returns `maestro flow health`; runF does the work (nil: healthRun).
func NewCmdHealth(f *cmdutil.Factory, runF func(*cli.Context, *HealthOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *HealthOptions) error { return healthRun(c, f, o) }
	}
	return &cli.Command{
		Name:      "health",
		Usage:     "list what keeps dependencies from flowing; exit 1 when anything does",
		ArgsUsage: " ",
		Description: `One line per problem, with what to do:
  failing                    the last --failures attempts of a subscription failed
  stale-pull-request         a tracked pull request open longer than --pr-age
  failing-checks             a tracked pull request with failing checks
  old-pending-work           pending work waiting longer than --pending-age
  missing-subscription       a dependency in a target's eng/Version.Details.xml whose
                             source repository has no subscription into that branch
  conflicting-subscriptions  two subscriptions bring the same asset into one branch
  unused-subscription        the last --unused builds of a subscription changed nothing
  dependency-cycle           subscriptions form a cycle among repositories
  unreadable                 a pull request or target branch could not be read
  failing-mirror             a mirrored branch whose runs have not left its target current
                             for longer than --mirror-age (refused, conflict, failure)
Reads every subscription's and mirror's history and clones every target branch.`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "failures", Value: 3, Usage: "failed attempts in a row that make a subscription failing (`K`)"},
			&cli.DurationFlag{Name: "pr-age", Value: 7 * 24 * time.Hour, Usage: "age of a stale pull request (`DURATION`, e.g. 168h)"},
			&cli.DurationFlag{Name: "pending-age", Value: 24 * time.Hour, Usage: "age of old pending work (`DURATION`)"},
			&cli.IntFlag{Name: "unused", Value: 5, Usage: "outcomes without a change in a row that make a subscription unused (`N`)"},
			&cli.DurationFlag{Name: "mirror-age", Value: 24 * time.Hour, Usage: "how long a mirrored branch may stay behind its source (`DURATION`)"},
			&cli.TimestampFlag{Name: "now", Layout: time.RFC3339, Usage: "the moment to judge for (`RFC3339`; default: the clock)"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			lim := engine.HealthLimits{Failures: c.Int("failures"), PullRequestAge: c.Duration("pr-age"), PendingAge: c.Duration("pending-age"), Unused: c.Int("unused"),
				MirrorAge: c.Duration("mirror-age")}
			if lim.Failures < 1 || lim.Unused < 1 || lim.PullRequestAge <= 0 || lim.PendingAge <= 0 || lim.MirrorAge <= 0 {
				return cmdutil.UsageErrorf("--failures and --unused must be at least 1, --pr-age, --pending-age and --mirror-age positive")
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			o := &HealthOptions{Limits: lim, JSON: asJSON}
			if t := c.Timestamp("now"); t != nil {
				o.Now = *t
			}
			return runF(c, o)
		},
	}
}

func healthRun(c *cli.Context, f *cmdutil.Factory, o *HealthOptions) error {
	svc, err := f.Service(c)
	if err != nil {
		return err
	}
	now := o.Now
	if now.IsZero() {
		now = f.Now()
	}
	problems, err := svc.Health(c.Context, now, o.Limits)
	if err != nil {
		return err
	}
	if err := f.Render(o.JSON, problems, func(w io.Writer) {
		if len(problems) == 0 {
			fmt.Fprintln(w, "healthy: every subscription flows")
		}
		for _, p := range problems {
			subject := p.Repository
			if p.Branch != "" {
				subject += "@" + p.Branch
			}
			if p.PullRequest != "" {
				subject = p.PullRequest
			}
			fmt.Fprintf(w, "%s: %s: %s — %s\n", p.Kind, subject, p.Message, p.Action)
		}
	}); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("unhealthy: %d problems", len(problems))
	}
	return nil
}
