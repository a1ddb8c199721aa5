package subscription

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// Only the fields whose flags were given change; the rest of the
// subscription is kept.
func TestFieldsApplyChangesOnlyWhatWasGiven(t *testing.T) {
	pipeline := &maestro.UpdatePipeline{Organization: "https://dev.azure.com/dnceng", Project: "internal", PipelineID: 42}
	old := maestro.Subscription{
		ID: "s1", ChannelID: 3, SourceRepository: "src", TargetRepository: "dst", TargetBranch: "main",
		Enabled: true, ExcludedAssets: []string{"a"}, SourceDirectory: "sd", TargetDirectory: "td",
		PullRequestFailureNotificationTags: "@t", UpdatePipeline: pipeline,
		Policy: maestro.SubscriptionPolicy{UpdateFrequency: "everyDay", Batchable: true, MergePolicies: []maestro.MergePolicy{{Name: "Standard"}}},
	}
	tests := []struct {
		name    string
		fields  Fields
		want    func(s *maestro.Subscription)
		wantErr string
	}{
		{"nothing", Fields{Set: map[string]bool{}}, func(*maestro.Subscription) {}, ""},
		{"values not given are ignored", Fields{Set: map[string]bool{}, SourceRepository: "other", Batchable: false, UpdateFrequency: "none"},
			func(*maestro.Subscription) {}, ""},
		{"strings", Fields{Set: map[string]bool{"source-repo": true, "target-directory": true, "failure-notification-tags": true},
			SourceRepository: "src2", TargetDirectory: "", FailureNotificationTags: "@u"},
			func(s *maestro.Subscription) {
				s.SourceRepository, s.TargetDirectory, s.PullRequestFailureNotificationTags = "src2", "", "@u"
			}, ""},
		{"policy", Fields{Set: map[string]bool{"update-frequency": true, "batchable": true, "merge-policy": true, "excluded-asset": true},
			UpdateFrequency: "none", MergePolicies: []maestro.MergePolicy{{Name: "NoRequestedChanges"}}, ExcludedAssets: []string{"b", "c"}},
			func(s *maestro.Subscription) {
				s.Policy = maestro.SubscriptionPolicy{UpdateFrequency: "none", MergePolicies: []maestro.MergePolicy{{Name: "NoRequestedChanges"}}}
				s.ExcludedAssets = []string{"b", "c"}
			}, ""},
		{"speculative", Fields{Set: map[string]bool{"speculative": true}, Speculative: true},
			func(s *maestro.Subscription) { s.Speculative = true }, ""},
		{"pipeline none", Fields{Set: map[string]bool{"update-pipeline": true}}, func(s *maestro.Subscription) { s.UpdatePipeline = nil }, ""},
		{"classic on the pipeline it has", Fields{Set: map[string]bool{"update-pipeline-classic": true}, UpdatePipelineClassic: true},
			func(s *maestro.Subscription) {
				s.UpdatePipeline = &maestro.UpdatePipeline{Organization: pipeline.Organization, Project: "internal", PipelineID: 42, Classic: true}
			}, ""},
		{"classic without a pipeline", Fields{Set: map[string]bool{"update-pipeline": true, "update-pipeline-classic": true}, UpdatePipelineClassic: true},
			nil, "--update-pipeline-classic needs --update-pipeline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := old
			s.UpdatePipeline = &maestro.UpdatePipeline{}
			*s.UpdatePipeline = *pipeline
			err := tt.fields.apply(nil, nil, &s)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
				return
			}
			require.NoError(t, err)
			want := old
			want.UpdatePipeline = &maestro.UpdatePipeline{}
			*want.UpdatePipeline = *pipeline
			tt.want(&want)
			assert.Equal(t, want, s)
			assert.Equal(t, *pipeline, maestro.UpdatePipeline{Organization: "https://dev.azure.com/dnceng", Project: "internal", PipelineID: 42}, "the options' pipeline is not shared")
		})
	}
}
