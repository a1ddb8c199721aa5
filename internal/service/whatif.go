package service

import (
	"context"
	"fmt"
	"slices"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/flow"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/updater"
)

// ActionNoBuild is a what-if's action when the subscription's channel holds
// no build of its source: there is nothing to flow.
const ActionNoBuild flow.Action = "no-build"

// BuildRef names a build in a what-if.
type BuildRef struct {
	ID                     int    `json:"id"`
	Repository             string `json:"repository"`
	Branch                 string `json:"branch"`
	Commit                 string `json:"commit"`
	AzureDevOpsBuildNumber string `json:"azureDevOpsBuildNumber,omitempty"`
}

// WhatIf is what a subscription — as it is, or as a change would make it —
// would flow right now.
type WhatIf struct {
	Subscription maestro.Subscription `json:"subscription"`
	// Build is the build it would apply: the newest build of its source in
	// its channel, which the flow takes (nil: none).
	Build *BuildRef `json:"build,omitempty"`
	// Action and Reason are the flow engine's decision for Build (flow.Decide):
	// trigger, schedule, on-demand or skip; ActionNoBuild without a build.
	Action flow.Action `json:"action"`
	Reason string      `json:"reason"`
	// Assets is the fate of each of the build's assets in the target.
	Assets []flow.AssetFate `json:"assets"`
	// Changes are the dependencies the update would move in the target
	// branch, and Files the files it would change (none when skipped).
	Changes  []deps.Change `json:"changes"`
	Files    []string      `json:"files"`
	Warnings []string      `json:"warnings,omitempty"`
	// TargetError says why the target branch could not be read or updated.
	TargetError string `json:"targetError,omitempty"`
}

// WhatIf says what sub would flow right now, writing nothing: the build the
// flow would take for it (the newest of its source in its channel, as
// Trigger and Tick take it), the engine's decision for that build (its
// channel, source, enabled flag, last applied build and update frequency,
// as a publish decides), and — unless the decision skips the build — a dry
// run of the update on the target branch's real dependency files
// (updater.Preview: the same code Apply runs). sub need not be in the
// registry; ChannelID 0 stands for a channel that does not exist yet.
// A target that cannot be read is reported in TargetError, not as an error.
func (s *Service) WhatIf(ctx context.Context, sub maestro.Subscription) (WhatIf, error) {
	w := WhatIf{Subscription: sub, Action: ActionNoBuild, Assets: []flow.AssetFate{}, Changes: []deps.Change{}, Files: []string{}}
	if sub.ChannelID == 0 {
		w.Reason = "the channel is new: it holds no builds yet"
		return w, nil
	}
	b, err := s.Registry.LatestBuild(ctx, sub.SourceRepository, sub.ChannelID)
	if maestro.KindOf(err) == maestro.KindNotFound {
		w.Reason = fmt.Sprintf("no build of %s in the channel yet", sub.SourceRepository)
		return w, nil
	}
	if err != nil {
		return w, err
	}
	w.Build = &BuildRef{ID: b.ID, Repository: b.Repository, Branch: b.Branch, Commit: b.Commit, AzureDevOpsBuildNumber: b.AzureDevOpsBuildNumber}
	d := flow.Decide(b, sub.ChannelID, []maestro.Subscription{sub})[0]
	w.Action, w.Reason = d.Action, d.Reason
	if d.Action == flow.ActionSkip {
		return w, nil
	}
	pv, err := s.Updater.Preview(ctx, sub, b)
	if err != nil {
		w.TargetError = err.Error()
		return w, nil
	}
	w.Assets = append(w.Assets, pv.Plan.Fates...)
	w.Changes = append(w.Changes, pv.Changed...)
	w.Files = append(w.Files, pv.Files...)
	w.Warnings = pv.Warnings
	return w, nil
}

// Orphan is an open pull request that deleting a subscription would leave
// without the subscription that keeps it up to date.
type Orphan struct {
	PullRequest maestro.PullRequest `json:"pullRequest"`
	// BuildID is the build of the subscription's part of the pull request.
	BuildID int `json:"buildId"`
	// OtherSubscriptions are the subscriptions whose parts share the pull
	// request (batchable subscriptions); they keep updating it.
	OtherSubscriptions []string `json:"otherSubscriptions"`
}

// Orphans returns the pull requests the flow keeps open for sub (its tracked
// pull request, or the batched one of its target branch when it holds sub's
// part), which deleting sub would orphan. It reads the registry only.
func (s *Service) Orphans(ctx context.Context, sub maestro.Subscription) ([]Orphan, error) {
	t, _, err := s.Registry.TrackedPullRequest(ctx, sub.TargetRepository, sub.TargetBranch, updater.TrackKey(sub))
	if err != nil {
		return nil, err
	}
	out := []Orphan{}
	if t == nil || t.PullRequest.Number == 0 {
		return out, nil
	}
	i := slices.IndexFunc(t.Updates, func(x maestro.SubscriptionUpdate) bool { return x.SubscriptionID == sub.ID })
	if i < 0 {
		return out, nil
	}
	o := Orphan{PullRequest: t.PullRequest, BuildID: t.Updates[i].BuildID, OtherSubscriptions: []string{}}
	for _, x := range t.Updates {
		if x.SubscriptionID != sub.ID {
			o.OtherSubscriptions = append(o.OtherSubscriptions, x.SubscriptionID)
		}
	}
	return append(out, o), nil
}
