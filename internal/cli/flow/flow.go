// Package flow implements `maestro flow`: the flow history ("why didn't it
// flow?") and, for a build, what every subscription on its channels does
// with it.
package flow

import (
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service"
)

// HistoryOptions are the parsed flags of `maestro flow history`.
type HistoryOptions struct {
	SubscriptionID string // "" for every subscription
	BuildID        int    // 0 for every build
	JSON           bool
}

// ExplainOptions are the parsed flags of `maestro flow explain`.
type ExplainOptions struct {
	BuildID int
	JSON    bool
}

// NewCmd returns `maestro flow`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:  "flow",
		Usage: "dependency flow: tick, history, explanations, health",
		Subcommands: []*cli.Command{
			NewCmdTick(f, nil),
			NewCmdHealth(f, nil),
			NewCmdHistory(f, nil),
			NewCmdExplain(f, nil),
		},
	}
}

// NewCmdHistory returns `maestro flow history`; runF does the work (nil: historyRun).
func NewCmdHistory(f *cmdutil.Factory, runF func(*cli.Context, *HistoryOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *HistoryOptions) error { return historyRun(c, f, o) }
	}
	return &cli.Command{
		Name:  "history",
		Usage: "every flow outcome with its reason, oldest first",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "subscription", Usage: "only this subscription `ID`"},
			&cli.IntFlag{Name: "build", Usage: "only this BAR build `ID`"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &HistoryOptions{SubscriptionID: c.String("subscription"), BuildID: c.Int("build"), JSON: asJSON})
		},
	}
}

func historyRun(c *cli.Context, f *cmdutil.Factory, o *HistoryOptions) error {
	svc, err := f.Service(c)
	if err != nil {
		return err
	}
	outcomes, err := svc.History(c.Context, registry.OutcomeFilter{SubscriptionID: o.SubscriptionID, BuildID: o.BuildID})
	if err != nil {
		return err
	}
	return f.Render(o.JSON, outcomes, func(w io.Writer) {
		cmdutil.Row(w, "TIME", "SUBSCRIPTION", "BUILD", "RESULT", "PULL REQUEST", "MESSAGE")
		for _, o := range outcomes {
			cmdutil.Row(w, o.Time.Format("2006-01-02 15:04:05Z07:00"), o.SubscriptionID, o.BuildID, o.Result, o.PullRequestURL, o.Message)
		}
	})
}

// NewCmdExplain returns `maestro flow explain`; runF does the work (nil: explainRun).
func NewCmdExplain(f *cmdutil.Factory, runF func(*cli.Context, *ExplainOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *ExplainOptions) error { return explainRun(c, f, o) }
	}
	return &cli.Command{
		Name:      "explain",
		Usage:     "say, for each subscription on a build's channels, what the build means for it",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "build", Required: true, Usage: "BAR build `ID`"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &ExplainOptions{BuildID: c.Int("build"), JSON: asJSON})
		},
	}
}

func explainRun(c *cli.Context, f *cmdutil.Factory, o *ExplainOptions) error {
	svc, err := f.Service(c)
	if err != nil {
		return err
	}
	ex, err := svc.Explain(c.Context, o.BuildID)
	if err != nil {
		return err
	}
	return f.Render(o.JSON, ex, func(w io.Writer) { writeExplanation(w, ex) })
}

func writeExplanation(w io.Writer, ex service.Explanation) {
	b := ex.Build
	fmt.Fprintf(w, "build %d of %s@%s (%s)\n", b.ID, b.Repository, b.Branch, b.Commit)
	if len(ex.Channels) == 0 {
		fmt.Fprintln(w, "  in no channel: nothing flows until `maestro build add-to-channel` or a default channel assigns it")
	}
	for _, ce := range ex.Channels {
		fmt.Fprintf(w, "channel %q:\n", ce.Channel.Name)
		if len(ce.Subscriptions) == 0 {
			fmt.Fprintf(w, "  no subscription takes builds of %s from this channel\n", b.Repository)
		}
		for _, se := range ce.Subscriptions {
			s := se.Subscription
			fmt.Fprintf(w, "  %s → %s@%s (subscription %s): %s — %s\n", s.SourceRepository, s.TargetRepository, s.TargetBranch, s.ID, se.Action, se.Reason)
			if se.TargetError != "" {
				fmt.Fprintf(w, "    (the target's dependencies could not be read: %s)\n", se.TargetError)
			}
			for _, a := range se.Assets {
				to := ""
				if a.To != "" {
					to = " → " + a.To
				}
				fmt.Fprintf(w, "    %s %s%s: %s\n", a.Dependency, a.From, to, a.Reason)
			}
			writeState(w, se.State)
			for _, o := range se.Outcomes {
				pr := ""
				if o.PullRequestURL != "" {
					pr = " " + o.PullRequestURL
				}
				fmt.Fprintf(w, "    %s %s%s %s\n", o.Time.Format("2006-01-02 15:04"), o.Result, pr, o.Message)
			}
		}
	}
}

// writeState prints a subscription's pending work and next due time.
func writeState(w io.Writer, st registry.FlowState) {
	if p := st.Pending; p != nil {
		fmt.Fprintf(w, "    pending: build %d (%s) since %s, %d attempts; next attempt at %s — %s\n",
			p.BuildID, p.Reason, p.Since.UTC().Format(time.RFC3339), p.Attempts, p.NextAttempt.UTC().Format(time.RFC3339), p.Message)
	}
	switch {
	case st.NextDue.IsZero():
	case !st.NextDue.After(registry.DueAtOnce):
		fmt.Fprintln(w, "    next due: at the next `maestro flow tick` (scheduled)")
	default:
		fmt.Fprintf(w, "    next due: %s (scheduled)\n", st.NextDue.UTC().Format(time.RFC3339))
	}
}
