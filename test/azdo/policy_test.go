package azdo_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/maestroplusplus/maestro/test/azdo"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/policy"
)

func TestPolicyEvaluations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pr := openPR(t, e, "darc-main-1", "x\n")
	id := *pr.PullRequestId
	e.s.SetPolicyEvaluations(id,
		azdo.PolicyEvaluation{Type: "Build", Status: policy.PolicyEvaluationStatusValues.Running, Blocking: true, Settings: map[string]any{"buildDefinitionId": 12}},
		azdo.PolicyEvaluation{Type: "Minimum number of reviewers", Status: policy.PolicyEvaluationStatusValues.Approved, Blocking: true},
		azdo.PolicyEvaluation{Type: "Work item linking", Status: policy.PolicyEvaluationStatusValues.NotApplicable, Blocking: false},
	)
	artifact := fmt.Sprintf("vstfs:///CodeReview/CodeReviewId/%s/%d", e.project.ID, id)
	list := func(args policy.GetPolicyEvaluationsArgs) []policy.PolicyEvaluationRecord {
		t.Helper()
		args.Project = ptr("dnceng")
		got, err := e.policy.GetPolicyEvaluations(e.ctx, args)
		if err != nil {
			t.Fatalf("GetPolicyEvaluations: %v", err)
		}
		return *got
	}
	tests := []struct {
		name string
		args policy.GetPolicyEvaluationsArgs
		want []string
	}{
		{name: "applicable", args: policy.GetPolicyEvaluationsArgs{ArtifactId: ptr(artifact)}, want: []string{"Build:running", "Minimum number of reviewers:approved"}},
		{name: "with not applicable", args: policy.GetPolicyEvaluationsArgs{ArtifactId: ptr(artifact), IncludeNotApplicable: ptr(true)},
			want: []string{"Build:running", "Minimum number of reviewers:approved", "Work item linking:notApplicable"}},
		{name: "top and skip", args: policy.GetPolicyEvaluationsArgs{ArtifactId: ptr(artifact), Top: ptr(1), Skip: ptr(1)}, want: []string{"Minimum number of reviewers:approved"}},
		{name: "other pull request", args: policy.GetPolicyEvaluationsArgs{ArtifactId: ptr(fmt.Sprintf("vstfs:///CodeReview/CodeReviewId/%s/99", e.project.ID))}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range list(tt.args) {
				got = append(got, *r.Configuration.Type.DisplayName+":"+string(*r.Status))
				if *r.ArtifactId != *tt.args.ArtifactId || r.EvaluationId == nil || r.Configuration.IsBlocking == nil {
					t.Errorf("record %+v", r)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("evaluations = %v, want %v", got, tt.want)
			}
		})
	}
	build := list(policy.GetPolicyEvaluationsArgs{ArtifactId: ptr(artifact)})[0]
	if build.Configuration.Type.Id.String() != "0609b952-1397-4640-95ec-e00a01b2c241" || build.CompletedDate != nil {
		t.Errorf("build policy = type %s completed %v", build.Configuration.Type.Id, build.CompletedDate)
	}
	if settings, _ := build.Configuration.Settings.(map[string]any); settings["buildDefinitionId"] != float64(12) {
		t.Errorf("settings = %v", build.Configuration.Settings)
	}

	// The evaluation keeps its ID when its status changes.
	e.s.SetPolicyEvaluations(id,
		azdo.PolicyEvaluation{Type: "Build", Status: policy.PolicyEvaluationStatusValues.Rejected, Blocking: true},
		azdo.PolicyEvaluation{Type: "Minimum number of reviewers", Status: policy.PolicyEvaluationStatusValues.Approved, Blocking: true},
	)
	one, err := e.policy.GetPolicyEvaluation(e.ctx, policy.GetPolicyEvaluationArgs{Project: ptr("dnceng"), EvaluationId: build.EvaluationId})
	if err != nil {
		t.Fatalf("GetPolicyEvaluation: %v", err)
	}
	if *one.Status != policy.PolicyEvaluationStatusValues.Rejected || one.CompletedDate == nil {
		t.Errorf("evaluation after rejection = %s", *one.Status)
	}

	t.Run("unknown evaluation", func(t *testing.T) {
		_, err := e.policy.GetPolicyEvaluation(e.ctx, policy.GetPolicyEvaluationArgs{Project: ptr("dnceng"), EvaluationId: ptr(e.repo.ID)})
		wantError(t, err, http.StatusNotFound, "PolicyEvaluationNotFoundException")
	})
	t.Run("not a pull request artifact", func(t *testing.T) {
		_, err := e.policy.GetPolicyEvaluations(e.ctx, policy.GetPolicyEvaluationsArgs{Project: ptr("dnceng"), ArtifactId: ptr("vstfs:///Git/PullRequestId/1")})
		wantError(t, err, http.StatusBadRequest, "ArgumentException")
	})
	t.Run("unknown project", func(t *testing.T) {
		_, err := e.policy.GetPolicyEvaluations(e.ctx, policy.GetPolicyEvaluationsArgs{Project: ptr("nope"), ArtifactId: ptr(artifact)})
		wantError(t, err, http.StatusNotFound, "ProjectDoesNotExistWithNameException")
	})
}
