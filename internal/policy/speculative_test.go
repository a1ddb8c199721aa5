package policy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/policy"
)

func TestSpeculativeParentsMerged(t *testing.T) {
	const a, b = "https://github.com/dotnet/arcade/pull/1", "https://github.com/dotnet/runtime/pull/2"
	for _, tc := range []struct {
		name      string
		ancestors []policy.Ancestor
		unmoved   bool
		want      policy.Outcome
		decisive  bool
		says      string
	}{
		{"not speculative", nil, false, policy.Success, false, "no ancestor"},
		{"every ancestor merged", []policy.Ancestor{{URL: a, State: maestro.PullRequestMerged}, {URL: b, State: maestro.PullRequestMerged}}, false, policy.Success, false, "Every pull request above"},
		{"every ancestor merged, not moved yet", []policy.Ancestor{{URL: a, State: maestro.PullRequestMerged}, {URL: b, State: maestro.PullRequestMerged}}, true, policy.Pending, false, "still carries the speculative build of " + b},
		{"one open", []policy.Ancestor{{URL: a, State: maestro.PullRequestMerged}, {URL: b, State: maestro.PullRequestOpen}}, true, policy.Pending, false, "waits for " + b + " to merge"},
		{"one closed", []policy.Ancestor{{URL: a, State: maestro.PullRequestClosed}, {URL: b, State: maestro.PullRequestOpen}}, true, policy.Failure, true, a + ", which this speculative pull request takes changes from, was closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := policy.Evaluate([]maestro.MergePolicy{{Name: maestro.PolicySpeculativeParentsMerged}}, policy.PullRequestState{Ancestors: tc.ancestors, Unmoved: tc.unmoved})
			assert.Len(t, r.Policies, 1)
			p := r.Policies[0]
			assert.Equal(t, maestro.PolicySpeculativeParentsMerged, p.Name)
			assert.Equal(t, tc.want, p.Outcome)
			assert.Equal(t, tc.decisive, p.Decisive)
			assert.Contains(t, p.Message, tc.says)
			assert.Equal(t, tc.want == policy.Success, r.AllSucceeded)
		})
	}
}
