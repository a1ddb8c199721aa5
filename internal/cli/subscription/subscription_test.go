package subscription_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/clitest"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/cli/subscription"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/service"
)

// capture returns a run function that records the options it is given.
func capture[O any](got *any) func(*cli.Context, *O) error {
	return func(_ *cli.Context, o *O) error { *got = o; return nil }
}

// parse runs `maestro subscription ARGS...` with run functions that capture
// the options instead of doing the work.
func parse(args ...string) (clitest.Result, any) {
	var got any
	res := clitest.Run(func(f *cmdutil.Factory) *cli.Command {
		return clitest.Noun("subscription",
			subscription.NewCmdAdd(f, capture[subscription.AddOptions](&got)),
			subscription.NewCmdList(f, capture[subscription.ListOptions](&got)),
			subscription.NewCmdShow(f, capture[subscription.ShowOptions](&got)),
			subscription.NewCmdUpdate(f, capture[subscription.UpdateOptions](&got)),
			subscription.NewCmdDelete(f, capture[subscription.DeleteOptions](&got)),
			subscription.NewCmdApply(f, capture[subscription.ApplyOptions](&got)),
			subscription.NewCmdTrigger(f, capture[subscription.TriggerOptions](&got)),
			subscription.NewCmdEnable(f, capture[subscription.EnableOptions](&got)),
			subscription.NewCmdDisable(f, capture[subscription.EnableOptions](&got)))
	}, append([]string{"subscription"}, args...)...)
	return res, got
}

const (
	arcade  = "https://github.com/dotnet/arcade"
	runtime = "https://github.com/dotnet/runtime"
)

func TestParse(t *testing.T) {
	required := []string{"--channel", ".NET 10", "--source-repo", arcade, "--target-repo", runtime, "--target-branch", "main"}
	requiredFields := subscription.Fields{
		Set:     map[string]bool{"channel": true, "source-repo": true, "target-repo": true, "target-branch": true},
		Channel: ".NET 10", SourceRepository: arcade, TargetRepository: runtime, TargetBranch: "main",
	}
	every := subscription.Fields{
		Set: map[string]bool{"channel": true, "source-repo": true, "target-repo": true, "target-branch": true,
			"update-frequency": true, "batchable": true, "merge-policy": true, "excluded-asset": true,
			"source-directory": true, "target-directory": true, "failure-notification-tags": true,
			"update-pipeline": true, "update-pipeline-classic": true},
		Channel: ".NET 10", SourceRepository: arcade, TargetRepository: runtime, TargetBranch: "main",
		UpdateFrequency: maestro.UpdateFrequency("everyBuild"), Batchable: true,
		MergePolicies: []maestro.MergePolicy{
			{Name: "Standard"},
			{Name: "AllChecksSuccessful", Properties: map[string]any{"ignoreChecks": []any{"license/cla"}}},
		},
		ExcludedAssets:  []string{"Microsoft.*", "x"},
		SourceDirectory: "src", TargetDirectory: "vmr/src", FailureNotificationTags: "@dotnet/team",
		UpdatePipeline:        &maestro.UpdatePipeline{Organization: "https://dev.azure.com/dnceng", Project: "internal", PipelineID: 42},
		UpdatePipelineClassic: true,
	}
	tests := []struct {
		name string
		args []string
		want any
	}{
		{"add required", append([]string{"add"}, required...), &subscription.AddOptions{Fields: requiredFields}},
		{"add every flag", append(append([]string{"add"}, required...),
			"--update-frequency", "everyBuild", "--batchable", "--merge-policy", "Standard",
			"--merge-policy", `AllChecksSuccessful:{"ignoreChecks":["license/cla"]}`,
			"--excluded-asset", "Microsoft.*", "--excluded-asset", "x", "--source-directory", "src",
			"--target-directory", "vmr/src", "--failure-notification-tags", "@dotnet/team",
			"--update-pipeline", "https://dev.azure.com/dnceng/internal/_build?definitionId=42",
			"--update-pipeline-classic", "--disabled", "--output", "json"),
			&subscription.AddOptions{Fields: every, Disabled: true, JSON: true}},
		{"update one field", []string{"update", "--id", "s1", "--update-frequency", "none"},
			&subscription.UpdateOptions{ID: "s1", Fields: subscription.Fields{Set: map[string]bool{"update-frequency": true}, UpdateFrequency: "none"}}},
		{"add what-if", append(append([]string{"add"}, required...), "--what-if", "--output", "json"),
			&subscription.AddOptions{Fields: requiredFields, WhatIf: true, JSON: true}},
		{"update what-if", []string{"update", "--id", "s1", "--excluded-asset", "System.*", "--what-if"},
			&subscription.UpdateOptions{ID: "s1", WhatIf: true, Fields: subscription.Fields{Set: map[string]bool{"excluded-asset": true}, ExcludedAssets: []string{"System.*"}}}},
		{"update pipeline none", []string{"update", "--id", "s1", "--update-pipeline", "none", "--batchable=false"},
			&subscription.UpdateOptions{ID: "s1", Fields: subscription.Fields{Set: map[string]bool{"update-pipeline": true, "batchable": true}}}},
		{"update speculative on", []string{"update", "--id", "s1", "--speculative"},
			&subscription.UpdateOptions{ID: "s1", Fields: subscription.Fields{Set: map[string]bool{"speculative": true}, Speculative: true}}},
		{"update speculative off", []string{"update", "--id", "s1", "--speculative=false"},
			&subscription.UpdateOptions{ID: "s1", Fields: subscription.Fields{Set: map[string]bool{"speculative": true}}}},
		{"list", []string{"list"}, &subscription.ListOptions{}},
		{"list filters", []string{"list", "--channel", "3", "--source-repo", arcade, "--target-repo", runtime, "--target-branch", "main", "--output", "json"},
			&subscription.ListOptions{Channel: "3", SourceRepository: arcade, TargetRepository: runtime, TargetBranch: "main", JSON: true}},
		{"show", []string{"show", "--id", "s1", "--output", "json"}, &subscription.ShowOptions{ID: "s1", JSON: true}},
		{"delete", []string{"delete", "--id", "s1"}, &subscription.DeleteOptions{ID: "s1"}},
		{"apply", []string{"apply", "--id", "s1", "--build", "7"}, &subscription.ApplyOptions{ID: "s1", BuildID: 7}},
		{"trigger", []string{"trigger", "--id", "s1"}, &subscription.TriggerOptions{Request: service.TriggerRequest{SubscriptionID: "s1"}}},
		{"trigger forced", []string{"trigger", "--id", "s1", "--build", "9", "--force", "--output", "json"},
			&subscription.TriggerOptions{Request: service.TriggerRequest{SubscriptionID: "s1", BuildID: 9, Force: true}, JSON: true}},
		{"enable", []string{"enable", "--id", "s1"}, &subscription.EnableOptions{ID: "s1", Enabled: true}},
		{"disable", []string{"disable", "--id", "s1", "--output", "json"}, &subscription.EnableOptions{ID: "s1", JSON: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, got := parse(tt.args...)
			assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseBadInput(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"add", "--channel", "c", "--source-repo", arcade, "--target-repo", runtime}, `Required flag "target-branch" not set`},
		{[]string{"add", "--channel", "c", "--source-repo", arcade, "--target-repo", runtime, "--target-branch", "main", "--merge-policy", "Standard:[1"},
			`--merge-policy "Standard:[1": properties must be a JSON object`},
		{[]string{"update", "--id", "s1", "--update-pipeline", "https://example.com/nope"}, "--update-pipeline: "},
		{[]string{"update", "--id", "s1", "--output", "yaml"}, `--output "yaml": use table or json`},
		{[]string{"update", "--update-frequency", "none"}, `Required flag "id" not set`},
		{[]string{"list", "--channel="}, "--channel is empty"},
		{[]string{"list", "--output", "x"}, `--output "x"`},
		{[]string{"show"}, `Required flag "id" not set`},
		{[]string{"delete", "--id", "s1", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"apply", "--id", "s1"}, `Required flag "build" not set`},
		{[]string{"apply", "--id", "s1", "--build", "seven"}, `invalid value "seven" for flag -build`},
		{[]string{"trigger", "--id", "s1", "--output", "yaml"}, `--output "yaml"`},
		{[]string{"enable", "--id", "s1", "--output", "yaml"}, `--output "yaml"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res, got := parse(tt.args...)
			assert.Equal(t, cmdutil.ExitInvalid, res.Code)
			assert.Contains(t, res.ErrOut, tt.wantErr)
			assert.Equal(t, 1, strings.Count(res.ErrOut, "\n"), "the usage error is printed once: %q", res.ErrOut)
			assert.Nil(t, got, "nothing ran")
		})
	}
}
