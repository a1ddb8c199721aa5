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

func TestDue(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	assert.True(t, flow.Due(maestro.FrequencyEveryDay, time.Time{}, now), "never run")
	assert.False(t, flow.Due(maestro.FrequencyEveryDay, now.Add(-23*time.Hour), now))
	assert.True(t, flow.Due(maestro.FrequencyEveryDay, now.Add(-24*time.Hour), now))
	assert.True(t, flow.Due(maestro.FrequencyTwiceDaily, now.Add(-12*time.Hour), now))
	assert.False(t, flow.Due(maestro.FrequencyEveryWeek, now.Add(-6*24*time.Hour), now))
	assert.False(t, flow.Due(maestro.FrequencyEveryBuild, time.Time{}, now))
	assert.False(t, flow.Due(maestro.FrequencyNone, time.Time{}, now))
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

// TestPlanUpdateCoherentChild: a build that carries an asset named like a
// coherent dependency does not update it by name; its fate says whom it follows.
func TestPlanUpdateCoherentChild(t *testing.T) {
	target := &deps.Listing{Dependencies: []deps.Dependency{
		{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "1.0.0", Sha: "old"},
		{Name: "Microsoft.DotNet.XliffTasks", Version: "1.0.0", Sha: "x", CoherentParent: "Microsoft.DotNet.Arcade.Sdk"},
	}}
	b := maestro.Build{Repository: "https://github.com/dotnet/arcade", Commit: "new", Assets: []maestro.Asset{
		{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "2.0.0"},
		{Name: "Microsoft.DotNet.XliffTasks", Version: "2.0.0"},
	}}
	p := flow.PlanUpdate(b, maestro.Subscription{}, target)
	assert.Len(t, p.Update.Updates, 1)
	assert.Equal(t, "Microsoft.DotNet.Arcade.Sdk", p.Update.Updates[0].Name)
	if assert.Len(t, p.Fates, 2) {
		assert.Equal(t, "Microsoft.DotNet.XliffTasks", p.Fates[1].Dependency)
		assert.Empty(t, p.Fates[1].To)
		assert.Contains(t, p.Fates[1].Reason, "follows Microsoft.DotNet.Arcade.Sdk")
	}
}
