// Package service is the flow service: the one place that flows builds
// through subscriptions — after a publish, on demand, on a schedule — and
// answers "did it flow, and why not?". The command line, the pipeline task
// and `maestro serve` hold a *Service and only parse and render; package
// wire assembles one from the environment.
package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/flow"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/updater"
)

// Service flows builds through subscriptions on one registry.
type Service struct {
	Registry *registry.Registry
	// Updater applies and queues updates; its clock is the service's.
	Updater *updater.Updater
	// Platform returns the git host of a repository (explain reads targets through it).
	Platform func(repo string) (platform.Platform, error)
	Now      func() time.Time
}

// Triggered is what flowing a new build did to one everyBuild subscription.
// Err is set when the flow could not even record an outcome.
type Triggered struct {
	Subscription maestro.Subscription
	Outcome      maestro.FlowOutcome
	Err          error
}

// FlowBuild flows a newly published build to the everyBuild subscriptions of
// the channels it joined (channels). The build stays recorded whatever
// happens; failures are flow outcomes, or Err for the caller to warn about.
func (s *Service) FlowBuild(ctx context.Context, b maestro.Build, channels []int) []Triggered {
	return s.flowBuild(ctx, b, channels, nil)
}

// flowBuild is FlowBuild, skipping the subscriptions in done.
func (s *Service) flowBuild(ctx context.Context, b maestro.Build, channels []int, done map[string]bool) []Triggered {
	var out []Triggered
	for _, ch := range channels {
		subs, err := s.Registry.Subscriptions(ctx, registry.SubscriptionFilter{ChannelID: ch})
		if err != nil {
			out = append(out, Triggered{Err: fmt.Errorf("build %d: subscriptions of channel %d: %w", b.ID, ch, err)})
			continue
		}
		for _, d := range flow.Decide(b, ch, subs) {
			if d.Action != flow.ActionTrigger || done[d.Subscription.ID] {
				continue
			}
			if d.Subscription.Speculative {
				// The mainline build of a merged parent goes into the
				// speculative pull requests waiting for it, not a new one.
				if moved, ok, err := s.moveSpeculative(ctx, d.Subscription, b); ok || err != nil {
					for _, o := range moved {
						out = append(out, Triggered{Subscription: d.Subscription, Outcome: o})
					}
					if err != nil {
						out = append(out, Triggered{Subscription: d.Subscription, Err: fmt.Errorf("build %d: speculative pull requests of %s@%s: %w", b.ID, d.Subscription.TargetRepository, d.Subscription.TargetBranch, err)})
					}
					continue
				}
			}
			o, err := s.flowOne(ctx, d.Subscription, b.ID, s.Now(), attemptFlow)
			if err != nil {
				err = fmt.Errorf("build %d did not flow to %s@%s: %w", b.ID, d.Subscription.TargetRepository, d.Subscription.TargetBranch, err)
			}
			out = append(out, Triggered{Subscription: d.Subscription, Outcome: o, Err: err})
		}
	}
	return out
}

// TriggerRequest asks to flow one build through one subscription now.
type TriggerRequest struct {
	SubscriptionID string
	// BuildID 0 is the newest build of the source in the subscription's channel.
	BuildID int
	// Force flows also when the subscription is disabled or applied the build already.
	Force bool
}

// Trigger flows a build through a subscription now, whatever its update
// frequency. A zero outcome (no SubscriptionID) means nothing was attempted.
func (s *Service) Trigger(ctx context.Context, req TriggerRequest) (maestro.FlowOutcome, error) {
	sub, err := s.Registry.Subscription(ctx, req.SubscriptionID)
	if err != nil {
		return maestro.FlowOutcome{}, err
	}
	if !sub.Enabled && !req.Force {
		return maestro.FlowOutcome{}, maestro.Errorf(maestro.KindConflict, "subscription %s is disabled; enable it or pass --force", sub.ID)
	}
	id := req.BuildID
	if id == 0 {
		b, err := s.Registry.LatestBuild(ctx, sub.SourceRepository, sub.ChannelID)
		if err != nil {
			return maestro.FlowOutcome{}, err
		}
		id = b.ID
	}
	if id <= sub.LastAppliedBuildID && !req.Force {
		return maestro.FlowOutcome{}, maestro.Errorf(maestro.KindConflict, "subscription %s applied build %d already; pass --force to apply build %d again", sub.ID, sub.LastAppliedBuildID, id)
	}
	return s.flowOne(ctx, sub, id, s.Now(), attemptFlow)
}

// Apply applies a build to a subscription's target now (what an update
// pipeline runs). A zero outcome means nothing was attempted.
func (s *Service) Apply(ctx context.Context, subID string, buildID int) (maestro.FlowOutcome, error) {
	sub, err := s.Registry.Subscription(ctx, subID)
	if err != nil {
		return maestro.FlowOutcome{}, err
	}
	return s.flowOne(ctx, sub, buildID, s.Now(), attemptApply)
}

// History is the flow history that matches f, oldest first.
func (s *Service) History(ctx context.Context, f registry.OutcomeFilter) ([]maestro.FlowOutcome, error) {
	return s.Registry.Outcomes(ctx, f)
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
	flow.Decision
	Assets []flow.AssetFate `json:"assets"`
	// TargetError says why the target's dependencies could not be read.
	TargetError string                `json:"targetError,omitempty"`
	Outcomes    []maestro.FlowOutcome `json:"outcomes"`
	// State is the subscription's flow state: pending work, next due time.
	State registry.FlowState `json:"state"`
}

// Explain gathers, for every channel the build is in, the subscriptions from
// the build's repository (or its mirror), the engine's decision for each, the
// fate of each of the build's assets in the target (read from the target
// branch), and their recorded outcomes for the build.
func (s *Service) Explain(ctx context.Context, id int) (Explanation, error) {
	b, err := s.Registry.Build(ctx, id)
	if err != nil {
		return Explanation{}, err
	}
	ex := Explanation{Build: b, Channels: []ChannelExplanation{}}
	for _, ch := range b.Channels {
		subs, err := s.Registry.Subscriptions(ctx, registry.SubscriptionFilter{ChannelID: ch.ID})
		if err != nil {
			return ex, err
		}
		ce := ChannelExplanation{Channel: ch, Subscriptions: []SubscriptionExplanation{}}
		for _, d := range flow.Decide(b, ch.ID, subs) {
			if !repourl.SameRepository(d.Subscription.SourceRepository, b.Repository) {
				continue
			}
			outcomes, err := s.Registry.Outcomes(ctx, registry.OutcomeFilter{SubscriptionID: d.Subscription.ID, BuildID: b.ID})
			if err != nil {
				return ex, err
			}
			st, _, err := s.Registry.FlowState(ctx, d.Subscription.ID)
			if err != nil {
				return ex, err
			}
			se := SubscriptionExplanation{Decision: d, Assets: []flow.AssetFate{}, Outcomes: outcomes, State: st}
			if listing, err := s.targetDependencies(ctx, d.Subscription); err != nil {
				if err := cutShort(ctx, fmt.Sprintf("explain build %d: read the dependencies of %s (%s)", b.ID, d.Subscription.TargetRepository, d.Subscription.TargetBranch), err); err != nil {
					return ex, err
				}
				se.TargetError = err.Error()
			} else {
				se.Assets = flow.PlanUpdate(b, d.Subscription, listing).Fates
			}
			ce.Subscriptions = append(ce.Subscriptions, se)
		}
		ex.Channels = append(ex.Channels, ce)
	}
	return ex, nil
}

// cutShort returns err, wrapped with what and ctx's error, when ctx
// ended: work cut short by its bound (or its caller gone) is an error the
// caller answers as such (a 503 from the server), not a target that could
// not be read. It returns nil while ctx is live.
func cutShort(ctx context.Context, what string, err error) error {
	if ctx.Err() == nil {
		return nil
	}
	if errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w: %w", what, ctx.Err(), err)
}

// targetDependencies reads the dependencies of a subscription's target
// branch from a fresh clone.
func (s *Service) targetDependencies(ctx context.Context, sub maestro.Subscription) (*deps.Listing, error) {
	p, err := s.Platform(sub.TargetRepository)
	if err != nil {
		return nil, err
	}
	url, err := p.CloneURL(sub.TargetRepository)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "maestro-explain-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	clone := filepath.Join(work, "repo")
	if err := p.Git().Clone(ctx, url, clone, sub.TargetBranch); err != nil {
		return nil, err
	}
	if sub.TargetDirectory != "" {
		clone = filepath.Join(clone, filepath.FromSlash(sub.TargetDirectory))
	}
	return deps.List(clone)
}
