package flow_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/flow"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

func TestDecide(t *testing.T) {
	b := maestro.Build{ID: 10, Repository: "https://dev.azure.com/dnceng/internal/_git/dotnet-arcade"}
	sub := func(mut func(*maestro.Subscription)) maestro.Subscription {
		s := maestro.Subscription{ID: "s", ChannelID: 1, SourceRepository: "https://github.com/dotnet/arcade", Enabled: true,
			Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild}}
		mut(&s)
		return s
	}
	tests := []struct {
		name   string
		s      maestro.Subscription
		action flow.Action
		reason string
	}{
		{"everyBuild from the GitHub repository of an Azure DevOps mirror build", sub(func(*maestro.Subscription) {}), flow.ActionTrigger, "everyBuild"},
		{"daily", sub(func(s *maestro.Subscription) { s.Policy.UpdateFrequency = maestro.FrequencyEveryDay }), flow.ActionSchedule, "everyDay"},
		{"none", sub(func(s *maestro.Subscription) { s.Policy.UpdateFrequency = maestro.FrequencyNone }), flow.ActionOnDemand, "subscription trigger"},
		{"disabled", sub(func(s *maestro.Subscription) { s.Enabled = false }), flow.ActionSkip, "disabled"},
		{"other channel", sub(func(s *maestro.Subscription) { s.ChannelID = 2 }), flow.ActionSkip, "channel 2"},
		{"other source", sub(func(s *maestro.Subscription) { s.SourceRepository = "https://github.com/dotnet/runtime" }), flow.ActionSkip, "dotnet/runtime"},
		{"applied already", sub(func(s *maestro.Subscription) { s.LastAppliedBuildID = 10 }), flow.ActionSkip, "applied already"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := flow.Decide(b, 1, []maestro.Subscription{tt.s})
			assert.Equal(t, tt.action, d[0].Action)
			assert.Contains(t, d[0].Reason, tt.reason)
		})
	}
}

// TestNextDue pins the calendar in UTC, across day, month and year ends,
// a leap day, and both sides of every slot.
func TestNextDue(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		f     maestro.UpdateFrequency
		after string
		want  string
	}{
		{maestro.FrequencyTwiceDaily, "2026-11-25T00:00:00Z", "2026-11-25T03:00:00Z"},
		{maestro.FrequencyTwiceDaily, "2026-11-25T03:00:00Z", "2026-11-25T13:00:00Z"},
		{maestro.FrequencyTwiceDaily, "2026-11-25T12:59:59Z", "2026-11-25T13:00:00Z"},
		{maestro.FrequencyTwiceDaily, "2026-11-30T13:00:00Z", "2026-12-01T03:00:00Z"},
		{maestro.FrequencyTwiceDaily, "2026-12-31T20:00:00Z", "2027-01-01T03:00:00Z"},
		{maestro.FrequencyEveryDay, "2026-11-25T12:00:00Z", "2026-11-25T13:00:00Z"},
		{maestro.FrequencyEveryDay, "2026-11-25T13:00:00Z", "2026-11-26T13:00:00Z"},
		{maestro.FrequencyEveryDay, "2026-11-30T14:00:00Z", "2026-12-01T13:00:00Z"},
		{maestro.FrequencyEveryDay, "2028-02-28T14:00:00Z", "2028-02-29T13:00:00Z"},
		{maestro.FrequencyEveryDay, "2026-12-31T13:30:00+02:00", "2026-12-31T13:00:00Z"},
		{maestro.FrequencyEveryWeek, "2026-11-25T12:00:00Z", "2026-11-30T13:00:00Z"},
		{maestro.FrequencyEveryWeek, "2026-11-30T12:59:00Z", "2026-11-30T13:00:00Z"},
		{maestro.FrequencyEveryWeek, "2026-11-30T13:00:00Z", "2026-12-07T13:00:00Z"},
		{maestro.FrequencyEveryWeek, "2026-12-31T00:00:00Z", "2027-01-04T13:00:00Z"},
		{maestro.FrequencyEveryWeek, "2023-12-30T00:00:00Z", "2024-01-01T13:00:00Z"},
		{maestro.FrequencyEveryTwoWeeks, "2024-01-01T12:00:00Z", "2024-01-01T13:00:00Z"},
		{maestro.FrequencyEveryTwoWeeks, "2024-01-01T13:00:00Z", "2024-01-15T13:00:00Z"},
		{maestro.FrequencyEveryTwoWeeks, "2024-01-08T13:00:00Z", "2024-01-15T13:00:00Z"},
		{maestro.FrequencyEveryTwoWeeks, "2026-11-25T12:00:00Z", "2026-11-30T13:00:00Z"},
		{maestro.FrequencyEveryTwoWeeks, "2026-12-07T13:00:00Z", "2026-12-14T13:00:00Z"}, // an off-week Monday
		{maestro.FrequencyEveryTwoWeeks, "2026-12-22T00:00:00Z", "2026-12-28T13:00:00Z"},
		{maestro.FrequencyEveryTwoWeeks, "2026-12-28T13:00:00Z", "2027-01-11T13:00:00Z"},
		{maestro.FrequencyEveryTwoWeeks, "2023-12-20T00:00:00Z", "2024-01-01T13:00:00Z"},
		{maestro.FrequencyEveryTwoWeeks, "2023-12-10T00:00:00Z", "2023-12-18T13:00:00Z"},
		{maestro.FrequencyEveryMonth, "2026-11-25T12:00:00Z", "2026-12-01T13:00:00Z"},
		{maestro.FrequencyEveryMonth, "2026-12-01T12:59:59Z", "2026-12-01T13:00:00Z"},
		{maestro.FrequencyEveryMonth, "2026-12-01T13:00:00Z", "2027-01-01T13:00:00Z"},
		{maestro.FrequencyEveryMonth, "2027-01-31T23:00:00Z", "2027-02-01T13:00:00Z"},
		{maestro.FrequencyEveryMonth, "2028-02-29T13:00:00Z", "2028-03-01T13:00:00Z"},
		{maestro.FrequencyEveryMonth, "2027-03-31T13:00:00Z", "2027-04-01T13:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(string(tt.f)+" after "+tt.after, func(t *testing.T) {
			got := flow.NextDue(tt.f, at(tt.after))
			assert.Equal(t, at(tt.want).UTC(), got)
			assert.Equal(t, time.UTC, got.Location())
		})
	}
	assert.True(t, flow.NextDue(maestro.FrequencyEveryBuild, at("2026-11-25T00:00:00Z")).IsZero())
	assert.True(t, flow.NextDue(maestro.FrequencyNone, at("2026-11-25T00:00:00Z")).IsZero())
}

func TestPlanUpdate(t *testing.T) {
	target := &deps.Listing{Dependencies: []deps.Dependency{
		{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "1.0.0", Sha: "old"},
		{Name: "Microsoft.DotNet.Helix.Sdk", Version: "1.0.0", Sha: "old"},
		{Name: "Microsoft.DotNet.SignTool", Version: "1.0.0", Sha: "old", Pinned: true},
		{Name: "Microsoft.DotNet.XUnitExtensions", Version: "2.0.0", Sha: "new"},
		{Name: "Microsoft.NETCore.App.Ref", Version: "9.0.0", Sha: "x"},
	}}
	b := maestro.Build{Repository: "https://github.com/dotnet/arcade", Commit: "new", Assets: []maestro.Asset{
		{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "2.0.0"},
		{Name: "Microsoft.DotNet.Helix.Sdk", Version: "2.0.0"},
		{Name: "Microsoft.DotNet.SignTool", Version: "2.0.0"},
		{Name: "Microsoft.DotNet.XUnitExtensions", Version: "2.0.0"},
		{Name: "Microsoft.DotNet.Build.Tasks.Feed", Version: "2.0.0"},
	}}
	s := maestro.Subscription{ExcludedAssets: []string{"microsoft.dotnet.helix.*"}}
	p := flow.PlanUpdate(b, s, target)
	assert.Len(t, p.Update.Updates, 1)
	assert.Equal(t, "Microsoft.DotNet.Arcade.Sdk", p.Update.Updates[0].Name)
	assert.Equal(t, []flow.AssetFate{
		{Dependency: "Microsoft.DotNet.Arcade.Sdk", From: "1.0.0", To: "2.0.0", Reason: "updated"},
		{Dependency: "Microsoft.DotNet.Helix.Sdk", From: "1.0.0", Reason: "excluded by the subscription"},
		{Dependency: "Microsoft.DotNet.SignTool", From: "1.0.0", Reason: "pinned in eng/Version.Details.xml"},
		{Dependency: "Microsoft.DotNet.XUnitExtensions", From: "2.0.0", Reason: "already at this version"},
	}, p.Fates)
}

// TestPlanUpdateFeedPackages: the plan's update carries the build's
// packages for each feed of the updates it keeps (the package source mapping
// of that feed), and none for feeds only skipped assets came from.
func TestPlanUpdateFeedPackages(t *testing.T) {
	const pub = "https://pkgs.dev.azure.com/dnceng/public/_packaging/darc-pub-dotnet-arcade-aaaaaaaa/nuget/v3/index.json"
	const other = "https://pkgs.dev.azure.com/dnceng/public/_packaging/darc-pub-dotnet-arcade-bbbbbbbb/nuget/v3/index.json"
	at := func(url string) []maestro.AssetLocation {
		return []maestro.AssetLocation{{Type: maestro.LocationNuGetFeed, Location: url}}
	}
	target := &deps.Listing{Dependencies: []deps.Dependency{
		{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "1.0.0", Sha: "old"},
		{Name: "Microsoft.DotNet.SignTool", Version: "1.0.0", Sha: "old", Pinned: true},
	}}
	b := maestro.Build{Repository: "https://github.com/dotnet/arcade", Commit: "new", Assets: []maestro.Asset{
		{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "2.0.0", Locations: at(pub)},
		{Name: "Microsoft.DotNet.Build.Tasks.Feed", Version: "2.0.0", Locations: at(pub)},
		{Name: "Microsoft.DotNet.SignTool", Version: "2.0.0", Locations: at(other)},
	}}
	p := flow.PlanUpdate(b, maestro.Subscription{}, target)
	assert.Len(t, p.Update.Updates, 1)
	assert.Equal(t, map[string][]string{pub: {"Microsoft.DotNet.Arcade.Sdk", "Microsoft.DotNet.Build.Tasks.Feed"}}, p.Update.FeedPackages)
}

// TestPlanUpdateCoherentChild: a build that carries an asset named like a
// coherent dependency does not update it by name; its fate says whom it follows.
func TestPlanUpdateCoherentChild(t *testing.T) {
	target := &deps.Listing{Dependencies: []deps.Dependency{
		{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "1.0.0", Sha: "old"},
		{Name: "Microsoft.DotNet.XliffTasks", Version: "1.0.0", Sha: "x", CoherentParent: "Microsoft.DotNet.Arcade.Sdk"},
		{Name: "Microsoft.SourceLink.GitHub", Version: "1.0.0", Sha: "x", CoherentParent: "Microsoft.DotNet.Arcade.Sdk", Pinned: true},
	}}
	b := maestro.Build{Repository: "https://github.com/dotnet/arcade", Commit: "new", Assets: []maestro.Asset{
		{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "2.0.0"},
		{Name: "Microsoft.DotNet.XliffTasks", Version: "2.0.0"},
		{Name: "Microsoft.SourceLink.GitHub", Version: "2.0.0"},
	}}
	p := flow.PlanUpdate(b, maestro.Subscription{}, target)
	assert.Len(t, p.Update.Updates, 1)
	assert.Equal(t, "Microsoft.DotNet.Arcade.Sdk", p.Update.Updates[0].Name)
	if assert.Len(t, p.Fates, 3) {
		assert.Equal(t, "Microsoft.DotNet.XliffTasks", p.Fates[1].Dependency)
		assert.Empty(t, p.Fates[1].To)
		assert.Contains(t, p.Fates[1].Reason, "follows Microsoft.DotNet.Arcade.Sdk")
		assert.Equal(t, flow.AssetFate{Dependency: "Microsoft.SourceLink.GitHub", From: "1.0.0", Reason: "pinned in eng/Version.Details.xml"}, p.Fates[2], "a pinned child stays")
	}
}

// TestNextDueProperties: for every frequency and many instants, the next
// slot lies after the instant, no slot is skipped, and slots fall on the hour.
func TestNextDueProperties(t *testing.T) {
	start := time.Date(2023, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range []maestro.UpdateFrequency{maestro.FrequencyTwiceDaily, maestro.FrequencyEveryDay, maestro.FrequencyEveryWeek, maestro.FrequencyEveryTwoWeeks, maestro.FrequencyEveryMonth} {
		for i := 0; i < 3000; i++ {
			now := start.Add(time.Duration(i) * 7 * time.Hour).Add(time.Duration(i%60) * time.Minute)
			next := flow.NextDue(f, now)
			if !next.After(now) || next.Minute() != 0 || next.Second() != 0 {
				t.Fatalf("%s: NextDue(%s) = %s", f, now, next)
			}
			if again := flow.NextDue(f, next.Add(-time.Nanosecond)); !again.Equal(next) {
				t.Fatalf("%s: NextDue(%s - 1ns) = %s, want %s", f, next, again, next)
			}
		}
	}
}
