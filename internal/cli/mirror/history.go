package mirror

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
)

// HistoryOptions are the parsed flags of `maestro mirror history`.
type HistoryOptions struct {
	Source, Branch string // "" for every source, branch
	JSON           bool
}

// NewCmdHistory returns `maestro mirror history`; runF does the work (nil: historyRun).
func NewCmdHistory(f *cmdutil.Factory, runF func(*cli.Context, *HistoryOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *HistoryOptions) error { return historyRun(c, f, o) }
	}
	return &cli.Command{
		Name:      "history",
		Usage:     "list mirror runs and what each did, oldest first",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "source", Usage: "only runs of this source repository (`URL`)"},
			&cli.StringFlag{Name: "branch", Usage: "only runs of this source `BRANCH` (needs --source)"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return cmdutil.UsageErrorf("mirror history takes no arguments; got %q", c.Args().First())
			}
			if err := checkRepos(c, "source"); err != nil {
				return err
			}
			if c.String("branch") != "" && c.String("source") == "" {
				return cmdutil.UsageErrorf("--branch: give --source too")
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &HistoryOptions{Source: c.String("source"), Branch: c.String("branch"), JSON: asJSON})
		},
	}
}

func historyRun(c *cli.Context, f *cmdutil.Factory, o *HistoryOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	runs, err := reg.MirrorOutcomes(c.Context, o.Source, o.Branch)
	if err != nil {
		return err
	}
	return f.Render(o.JSON, runs, func(w io.Writer) {
		if len(runs) == 0 {
			fmt.Fprintln(w, "no mirror runs recorded")
			return
		}
		cmdutil.Row(w, "TIME", "RESULT", "SOURCE", "TARGET", "HEADS", "COMMITS", "MESSAGE")
		for _, r := range runs {
			before, after := cmdutil.ShortSHA(r.TargetHeadBefore), cmdutil.ShortSHA(r.TargetHeadAfter)
			if before == "" {
				before = "-"
			}
			if after == "" {
				after = "-"
			}
			msg, _, _ := strings.Cut(r.Message, "\n")
			cmdutil.Row(w, r.Time.UTC().Format(time.RFC3339), r.Result, r.SourceRepository+" "+r.Branch+" "+cmdutil.ShortSHA(r.SourceHead),
				r.TargetRepository+" "+r.TargetBranch, before+" → "+after, r.Commits, msg)
		}
	})
}
