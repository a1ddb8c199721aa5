// Package flow implements `maestro flow`: the flow history ("why didn't it
// flow?") and, for a build, what every subscription on its channels does
// with it.
package flow

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/deps"
	engine "github.com/maestroplusplus/maestro/internal/flow"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// NewCmd returns `maestro flow`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:  "flow",
		Usage: "dependency flow: history and explanations",
		Subcommands: []*cli.Command{
			newTickCmd(f),
			{
				Name:  "history",
				Usage: "every flow outcome with its reason, oldest first",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "subscription", Usage: "only this subscription `ID`"},
					&cli.IntFlag{Name: "build", Usage: "only this BAR build `ID`"},
					cmdutil.StoreFlag, cmdutil.OutputFlag,
				},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					outcomes, err := reg.Outcomes(c.Context, registry.OutcomeFilter{SubscriptionID: c.String("subscription"), BuildID: c.Int("build")})
					if err != nil {
						return err
					}
					return f.Print(c, outcomes, func(w io.Writer) {
						cmdutil.Row(w, "TIME", "SUBSCRIPTION", "BUILD", "RESULT", "PULL REQUEST", "MESSAGE")
						for _, o := range outcomes {
							cmdutil.Row(w, o.Time.Format("2006-01-02 15:04:05Z07:00"), o.SubscriptionID, o.BuildID, o.Result, o.PullRequestURL, o.Message)
						}
					})
				},
			},
			{
				Name:      "explain",
				Usage:     "say, for each subscription on a build's channels, what the build means for it",
				ArgsUsage: " ",
				Flags: []cli.Flag{
					&cli.IntFlag{Name: "build", Required: true, Usage: "BAR build `ID`"},
					cmdutil.StoreFlag, cmdutil.OutputFlag,
				},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					ex, err := Explain(c, f, reg, c.Int("build"))
					if err != nil {
						return err
					}
					return f.Print(c, ex, func(w io.Writer) { writeExplanation(w, ex) })
				},
			},
		},
	}
}

// Explanation is what `flow explain` reports for one build.
type Explanation struct {
	Build    maestro.Build        `json:"build"`
	Channels []ChannelExplanation `json:"channels"`
}

// ChannelExplanation covers the subscriptions on one channel of the build.
type ChannelExplanation struct {
	Channel       maestro.Channel           `json:"channel"`
	Subscriptions []SubscriptionExplanation `json:"subscriptions"`
}

// SubscriptionExplanation is the decision for one subscription, what the
// build's assets would do to the target's dependencies, and what the flow
// history recorded for it and this build.
type SubscriptionExplanation struct {
	engine.Decision
	Assets []engine.AssetFate `json:"assets"`
	// TargetError says why the target's dependencies could not be read.
	TargetError string                `json:"targetError,omitempty"`
	Outcomes    []maestro.FlowOutcome `json:"outcomes"`
}

// Explain gathers, for every channel the build is in, the subscriptions from
// the build's repository (or its mirror), the engine's decision for each, the
// fate of each of the build's assets in the target (read from the target
// branch), and their recorded outcomes for the build.
func Explain(c *cli.Context, f *cmdutil.Factory, reg *registry.Registry, id int) (Explanation, error) {
	b, err := reg.Build(c.Context, id)
	if err != nil {
		return Explanation{}, err
	}
	ex := Explanation{Build: b, Channels: []ChannelExplanation{}}
	for _, ch := range b.Channels {
		subs, err := reg.Subscriptions(c.Context, registry.SubscriptionFilter{ChannelID: ch.ID})
		if err != nil {
			return ex, err
		}
		ce := ChannelExplanation{Channel: ch, Subscriptions: []SubscriptionExplanation{}}
		for _, d := range engine.Decide(b, ch.ID, subs) {
			if !repourl.SameRepository(d.Subscription.SourceRepository, b.Repository) {
				continue
			}
			outcomes, err := reg.Outcomes(c.Context, registry.OutcomeFilter{SubscriptionID: d.Subscription.ID, BuildID: b.ID})
			if err != nil {
				return ex, err
			}
			se := SubscriptionExplanation{Decision: d, Assets: []engine.AssetFate{}, Outcomes: outcomes}
			if listing, err := targetDependencies(c.Context, f, reg, d.Subscription); err != nil {
				se.TargetError = err.Error()
			} else {
				se.Assets = engine.PlanUpdate(b, d.Subscription, listing).Fates
			}
			ce.Subscriptions = append(ce.Subscriptions, se)
		}
		ex.Channels = append(ex.Channels, ce)
	}
	return ex, nil
}

func writeExplanation(w io.Writer, ex Explanation) {
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

// targetDependencies reads the dependencies of a subscription's target
// branch from a fresh clone.
func targetDependencies(ctx context.Context, f *cmdutil.Factory, reg *registry.Registry, s maestro.Subscription) (*deps.Listing, error) {
	p, err := f.Platform(reg, s.TargetRepository)
	if err != nil {
		return nil, err
	}
	url, err := p.CloneURL(s.TargetRepository)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "maestro-explain-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	clone := filepath.Join(work, "repo")
	if err := p.Git().Clone(ctx, url, clone, s.TargetBranch); err != nil {
		return nil, err
	}
	if s.TargetDirectory != "" {
		clone = filepath.Join(clone, filepath.FromSlash(s.TargetDirectory))
	}
	return deps.List(clone)
}
