package flow

import (
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	engine "github.com/maestroplusplus/maestro/internal/flow"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
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
			reg, err := f.Registry(c)
			if err != nil {
				return err
			}
			now := f.Now()
			if t := c.Timestamp("now"); t != nil {
				now = *t
			}
			outcomes, err := Tick(c, f, reg, now)
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

// Tick applies every due scheduled subscription that has a newer build.
func Tick(c *cli.Context, f *cmdutil.Factory, reg *registry.Registry, now time.Time) ([]maestro.FlowOutcome, error) {
	subs, err := reg.Subscriptions(c.Context, registry.SubscriptionFilter{})
	if err != nil {
		return nil, err
	}
	upd := f.Updater(reg)
	upd.Now = func() time.Time { return now }
	outcomes := []maestro.FlowOutcome{}
	for _, s := range subs {
		if !s.Enabled || engine.Interval(s.Policy.UpdateFrequency) == 0 {
			continue
		}
		last, err := lastCompletedRun(c, reg, s.ID)
		if err != nil {
			return outcomes, err
		}
		if !engine.Due(s.Policy.UpdateFrequency, last, now) {
			continue
		}
		b, err := reg.LatestBuild(c.Context, s.SourceRepository, s.ChannelID)
		if maestro.KindOf(err) == maestro.KindNotFound {
			continue
		}
		if err != nil {
			return outcomes, err
		}
		if b.ID <= s.LastAppliedBuildID {
			continue
		}
		o, err := upd.Flow(c.Context, s.ID, b.ID)
		if o.SubscriptionID == "" {
			return outcomes, err
		}
		outcomes = append(outcomes, o)
	}
	return outcomes, nil
}

// lastCompletedRun is the time of the subscription's last outcome that
// finished the work (updated, no-update, conflict); rescheduled and failed
// attempts are tried again at the next tick.
func lastCompletedRun(c *cli.Context, reg *registry.Registry, subID string) (time.Time, error) {
	history, err := reg.Outcomes(c.Context, registry.OutcomeFilter{SubscriptionID: subID})
	if err != nil {
		return time.Time{}, err
	}
	for i := len(history) - 1; i >= 0; i-- {
		switch history[i].Result {
		case maestro.ResultUpdated, maestro.ResultNoUpdate, maestro.ResultConflict:
			return history[i].Time, nil
		}
	}
	return time.Time{}, nil
}
