// Package flow is the dependency-flow engine's pure logic: which
// subscriptions a build in a channel triggers and why, when a scheduled
// subscription is due (the UTC calendar of NextDue), what update a build
// brings to a target repository, and what is unhealthy in the flow (Health). It does no I/O; callers hand it what the registry and the
// target repository hold.
package flow

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// Action is what a new build means for a subscription.
type Action string

// Actions.
const (
	// ActionTrigger: apply the build now (everyBuild).
	ActionTrigger Action = "trigger"
	// ActionSchedule: the subscription takes builds on its schedule.
	ActionSchedule Action = "schedule"
	// ActionOnDemand: update frequency none; only `subscription trigger` applies it.
	ActionOnDemand Action = "on-demand"
	// ActionSkip: the subscription does not take this build.
	ActionSkip Action = "skip"
)

// Decision is the engine's answer for one subscription.
type Decision struct {
	Subscription maestro.Subscription `json:"subscription"`
	Action       Action               `json:"action"`
	Reason       string               `json:"reason"`
}

// Decide says, for every subscription on a channel the build was added to,
// what the build means for it. subs may hold subscriptions of any channel and
// source; those that cannot take the build are skipped with the reason.
func Decide(b maestro.Build, channelID int, subs []maestro.Subscription) []Decision {
	out := make([]Decision, 0, len(subs))
	for _, s := range subs {
		out = append(out, decide(b, channelID, s))
	}
	return out
}

func decide(b maestro.Build, channelID int, s maestro.Subscription) Decision {
	d := Decision{Subscription: s, Action: ActionSkip}
	switch {
	case s.ChannelID != channelID:
		d.Reason = fmt.Sprintf("subscribed to channel %d, not %d", s.ChannelID, channelID)
	case !repourl.SameRepository(s.SourceRepository, b.Repository):
		d.Reason = fmt.Sprintf("takes builds of %s, not %s", s.SourceRepository, b.Repository)
	case !s.Enabled:
		d.Reason = "the subscription is disabled"
	case s.LastAppliedBuildID >= b.ID && s.LastAppliedBuildID != 0:
		d.Reason = fmt.Sprintf("build %d (as new or newer) was applied already", s.LastAppliedBuildID)
	default:
		switch s.Policy.UpdateFrequency {
		case maestro.FrequencyEveryBuild:
			d.Action, d.Reason = ActionTrigger, "update frequency everyBuild"
		case maestro.FrequencyNone:
			d.Action, d.Reason = ActionOnDemand, "update frequency none: only `maestro subscription trigger` applies it"
		default:
			d.Action, d.Reason = ActionSchedule, fmt.Sprintf("update frequency %s: applied when the schedule is next due", s.Policy.UpdateFrequency)
		}
	}
	return d
}

// The calendar of scheduled subscriptions, in UTC (no daylight saving).
// Production Maestro triggers them with cron schedules at 5:00 (and, twice
// daily, 19:00) Pacific Standard Time; these are the same instants in UTC.
const (
	// ScheduleHour is the hour (UTC) of everyDay, everyWeek, everyTwoWeeks and everyMonth.
	ScheduleHour = 13
	// TwiceDailyHours are the hours (UTC) of twiceDaily.
	twiceDailyFirst, twiceDailySecond = 3, 13
)

// twoWeeksEpoch is the Monday that starts the everyTwoWeeks cadence: every
// second Monday from it on.
var twoWeeksEpoch = time.Date(2024, time.January, 1, ScheduleHour, 0, 0, 0, time.UTC)

// Scheduled reports whether f runs on the calendar (not everyBuild or none).
func Scheduled(f maestro.UpdateFrequency) bool {
	switch f {
	case maestro.FrequencyTwiceDaily, maestro.FrequencyEveryDay, maestro.FrequencyEveryWeek,
		maestro.FrequencyEveryTwoWeeks, maestro.FrequencyEveryMonth:
		return true
	}
	return false
}

// NextDue is the first calendar slot of f strictly after t, in UTC:
//
//	twiceDaily     03:00 and 13:00 every day
//	everyDay       13:00 every day
//	everyWeek      13:00 every Monday
//	everyTwoWeeks  13:00 every second Monday (2024-01-01, 2024-01-15, …)
//	everyMonth     13:00 on the 1st of every month
//
// It is the zero time for everyBuild and none.
func NextDue(f maestro.UpdateFrequency, t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	at := func(d time.Time, hour int) time.Time { return d.Add(time.Duration(hour) * time.Hour) }
	switch f {
	case maestro.FrequencyTwiceDaily:
		for d := day; ; d = d.AddDate(0, 0, 1) {
			for _, h := range []int{twiceDailyFirst, twiceDailySecond} {
				if s := at(d, h); s.After(t) {
					return s
				}
			}
		}
	case maestro.FrequencyEveryDay:
		if s := at(day, ScheduleHour); s.After(t) {
			return s
		}
		return at(day.AddDate(0, 0, 1), ScheduleHour)
	case maestro.FrequencyEveryWeek, maestro.FrequencyEveryTwoWeeks:
		step := 7
		if f == maestro.FrequencyEveryTwoWeeks {
			step = 14
		}
		// Whole days from the epoch's Monday to t's day, rounded down to the cadence.
		days := int(day.Sub(time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)).Hours() / 24)
		k := days / step
		if days < 0 && days%step != 0 {
			k--
		}
		for s := twoWeeksEpoch.AddDate(0, 0, k*step); ; s = s.AddDate(0, 0, step) {
			if s.After(t) {
				return s
			}
		}
	case maestro.FrequencyEveryMonth:
		first := time.Date(t.Year(), t.Month(), 1, ScheduleHour, 0, 0, 0, time.UTC)
		if first.After(t) {
			return first
		}
		return first.AddDate(0, 1, 0)
	}
	return time.Time{}
}

// AssetFate says what became of one dependency of the target in an update.
type AssetFate struct {
	Dependency string `json:"dependency"`
	From       string `json:"from"`
	To         string `json:"to,omitempty"`
	Reason     string `json:"reason"`
}

const reasonPinned = "pinned in eng/Version.Details.xml"

// ReasonCurrent is the fate of a dependency the target already has at the
// build's version.
const ReasonCurrent = "already at this version"

// Plan is the update a build brings to a target repository.
type Plan struct {
	Update deps.UpdateFile `json:"update"`
	// Fates explains every dependency the build produced: updated, or why not.
	Fates []AssetFate `json:"fates"`
}

// PlanUpdate matches the build's assets to the target's dependencies by name
// and leaves out excluded assets (the subscription's patterns, `*` a
// wildcard, case-insensitive) and pinned dependencies. A dependency with a
// CoherentParentDependency is never matched by name, as in production: it
// follows its parent through the coherency pass, and its fate says so. An
// empty Update means nothing would change by name (the coherency pass may
// still move coherent dependencies).
func PlanUpdate(b maestro.Build, s maestro.Subscription, target *deps.Listing) Plan {
	all := deps.UpdateFromBuild(target, b)
	byName := map[string]deps.Dependency{}
	for _, d := range target.Dependencies {
		byName[strings.ToLower(d.Name)] = d
	}
	var p Plan
	for _, d := range deps.CoherentCarried(target, b) {
		reason := "follows " + d.CoherentParent + " (CoherentParentDependency): the coherency pass moves it to the version " + d.CoherentParent + "'s build depended on"
		if d.Pinned {
			reason = reasonPinned
		}
		p.Fates = append(p.Fates, AssetFate{Dependency: d.Name, From: d.Version, Reason: reason})
	}
	for _, up := range all.Updates {
		d := byName[strings.ToLower(up.Name)]
		fate := AssetFate{Dependency: d.Name, From: d.Version}
		switch {
		case deps.Excluded(s.ExcludedAssets, up.Name):
			fate.Reason = "excluded by the subscription"
		case d.Pinned:
			fate.Reason = reasonPinned
		case d.Version == up.Version && strings.EqualFold(d.Sha, up.Sha):
			fate.Reason = ReasonCurrent
		default:
			fate.To, fate.Reason = up.Version, "updated"
			p.Update.Updates = append(p.Update.Updates, up)
		}
		p.Fates = append(p.Fates, fate)
	}
	slices.SortFunc(p.Fates, func(a, b AssetFate) int {
		return strings.Compare(strings.ToLower(a.Dependency), strings.ToLower(b.Dependency))
	})
	// The package source mapping of each feed the update brings maps every
	// package the build published there.
	for _, up := range p.Update.Updates {
		for _, feed := range up.Locations {
			if pkgs, ok := all.FeedPackages[feed]; ok {
				if p.Update.FeedPackages == nil {
					p.Update.FeedPackages = map[string][]string{}
				}
				p.Update.FeedPackages[feed] = pkgs
			}
		}
	}
	return p
}
