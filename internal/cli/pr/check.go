package pr

import (
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/service"
)

// CheckOptions are the parsed flags of `maestro pr check`.
type CheckOptions struct {
	Repository string
	ID         int       // 0: every tracked pull request that is due
	Now        time.Time // zero: the clock
	JSON       bool
}

// NewCmdCheck returns `maestro pr check`; runF does the work (nil: checkRun).
func NewCmdCheck(f *cmdutil.Factory, runF func(*cli.Context, *CheckOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *CheckOptions) error { return checkRun(c, f, o) }
	}
	return &cli.Command{
		Name:  "check",
		Usage: "evaluate the merge policies of the dependency pull requests that are due, and merge those that pass",
		Description: `Evaluates the merge policies of every tracked dependency pull request (on GitHub,
Azure Repos or a local repository) whose next check has come — or of the one
--id names, due or not — as of --now (default: the clock):
- the results are reported on the pull request (GitHub: a check run
  "Maestro auto-merge - POLICY" each; Azure DevOps: a status of genre maestro
  each and one "Auto-Merge Status" comment; local: ` + "`maestro pr show`" + `), and a
  failing pull request notifies its subscription's
  pullRequestFailureNotificationTags once per head commit;
- when every policy passes and auto-merge is on for the target branch
  (` + "`maestro repository-policy set --auto-merge on|off --merge-method squash|native`" + `),
  it is squash-merged and its branch deleted, or with --merge-method native
  the host's auto-merge (GitHub) / auto-complete (Azure DevOps) is turned on;
  a merge the host refuses is reported on the pull request and tried again
  at the next check, 5 minutes later;
- a pull request found merged sets its subscriptions' lastAppliedBuildId and
  makes the updates waiting for it due.
Checks space out as a pull request ages: every 5 minutes; 15 after 2 days;
30 after 14; an hour after 21; 12 hours after 30. ` + "`maestro flow tick`" + ` runs
this too.`,
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "id", Usage: "only pull request `NUMBER`, whether due or not"},
			&cli.StringFlag{Name: "repository", Usage: "with --id: the pull request's repository `URL` (needed when two repositories have a tracked pull request of that number)"},
			&cli.TimestampFlag{Name: "now", Layout: time.RFC3339, Usage: "the moment to decide for (`RFC3339`; default: the clock)"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			o := &CheckOptions{Repository: c.String("repository"), ID: c.Int("id"), JSON: asJSON}
			if o.ID < 0 {
				return cmdutil.UsageErrorf("--id %d: a pull request number is positive", o.ID)
			}
			if o.Repository != "" && o.ID == 0 {
				return cmdutil.UsageErrorf("--repository selects the pull request --id names; give --id too")
			}
			if t := c.Timestamp("now"); t != nil {
				o.Now = *t
			}
			return runF(c, o)
		},
	}
}

func checkRun(c *cli.Context, f *cmdutil.Factory, o *CheckOptions) error {
	svc, err := f.Service(c)
	if err != nil {
		return err
	}
	now := o.Now
	if now.IsZero() {
		now = f.Now()
	}
	results, err := svc.CheckPullRequests(c.Context, now, service.CheckRequest{Repository: o.Repository, Number: o.ID})
	if results == nil && err != nil {
		return err
	}
	if rerr := RenderChecks(f, o.JSON, results); rerr != nil {
		return rerr
	}
	return err
}

// RenderChecks prints evaluation results, as `maestro pr check` and
// `maestro flow tick` show them.
func RenderChecks(f *cmdutil.Factory, asJSON bool, results []service.CheckResult) error {
	if results == nil {
		results = []service.CheckResult{}
	}
	return f.Render(asJSON, results, func(w io.Writer) {
		if len(results) == 0 {
			fmt.Fprintln(w, "no pull request is due for a check")
		}
		for _, r := range results {
			fmt.Fprintln(w, cmdutil.DescribeCheck(r))
		}
	})
}
