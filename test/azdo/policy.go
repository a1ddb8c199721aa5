package azdo

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/policy"
)

// PolicyEvaluation is the state of one branch policy on a pull request, as a
// test sets it.
type PolicyEvaluation struct {
	// Type is the policy type's display name: "Build", "Minimum number of
	// reviewers", "Required reviewers", "Comment requirements", "Work item
	// linking", "Status", or any other name.
	Type string
	// Status is queued, running, approved, rejected, notApplicable or broken.
	Status policy.PolicyEvaluationStatus
	// Blocking policies must approve before the pull request can complete.
	Blocking bool
	// Settings are the policy configuration's settings.
	Settings map[string]any
	// Context is the evaluation's context, as the service fills it for the
	// policy type (a build policy: buildId, buildDefinitionId,
	// isExpired...); none when nil.
	Context map[string]any
}

// policyTypeIDs are the IDs of the built-in policy types.
var policyTypeIDs = map[string]uuid.UUID{
	"Build":                       uuid.MustParse("0609b952-1397-4640-95ec-e00a01b2c241"),
	"Minimum number of reviewers": uuid.MustParse("fa4e907d-c16b-4a4c-9dfa-4906e5d171dd"),
	"Required reviewers":          uuid.MustParse("fd2167ab-b0be-447a-8ec8-39368250530e"),
	"Comment requirements":        uuid.MustParse("c6a1889d-b943-4856-b76f-9e46bb6b0df2"),
	"Work item linking":           uuid.MustParse("40e92b44-2fe1-4dd6-b3d8-74a9c21d0c6e"),
	"Status":                      uuid.MustParse("cbdc66da-9728-4af8-aada-9a5a32e4a226"),
}

// policyState is a policy evaluation on one pull request.
type policyState struct {
	eval      PolicyEvaluation
	id        uuid.UUID
	configID  int
	started   time.Time
	completed time.Time
}

// SetPolicyEvaluations sets the branch policy evaluations of a pull request,
// replacing earlier ones; evaluation IDs stay the same for the same policy
// type and position. A pull request with auto-complete set completes as soon
// as its blocking policies have approved.
func (s *Server) SetPolicyEvaluations(prID int, evals ...PolicyEvaluation) {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.findPR(nil, prID)
	if pr == nil {
		s.tb.Fatalf("azdo: SetPolicyEvaluations: no pull request %d", prID)
	}
	now := s.now()
	var states []*policyState
	for i, e := range evals {
		switch e.Status {
		case policy.PolicyEvaluationStatusValues.Queued, policy.PolicyEvaluationStatusValues.Running,
			policy.PolicyEvaluationStatusValues.Approved, policy.PolicyEvaluationStatusValues.Rejected,
			policy.PolicyEvaluationStatusValues.NotApplicable, policy.PolicyEvaluationStatusValues.Broken:
		default:
			s.tb.Fatalf("azdo: SetPolicyEvaluations: policy %q has status %q, want queued, running, approved, rejected, notApplicable or broken", e.Type, e.Status)
		}
		id := stableID("evaluation", strconv.Itoa(prID), strconv.Itoa(i), e.Type)
		st := &policyState{eval: e, id: id, configID: i + 1, started: now}
		for _, old := range pr.policies {
			if old.id == id {
				st.started = old.started
			}
		}
		if e.Status != policy.PolicyEvaluationStatusValues.Queued && e.Status != policy.PolicyEvaluationStatusValues.Running {
			st.completed = now
		}
		states = append(states, st)
	}
	pr.policies = states
	if err := s.refreshMerge(pr); err != nil {
		s.tb.Errorf("azdo: refresh pull request %d: %v", prID, err)
		return
	}
	if err := s.tryAutoComplete(pr); err != nil {
		s.tb.Errorf("azdo: auto-complete pull request %d: %v", prID, err)
	}
}

// codeReviewArtifact parses vstfs:///CodeReview/CodeReviewId/{projectId}/{pullRequestId},
// the artifact ID of a pull request's policy evaluations.
func codeReviewArtifact(artifact string) (uuid.UUID, int, bool) {
	const prefix = "vstfs:///codereview/codereviewid/"
	if !strings.HasPrefix(strings.ToLower(artifact), prefix) {
		return uuid.Nil, 0, false
	}
	project, pr, ok := strings.Cut(artifact[len(prefix):], "/")
	if !ok {
		return uuid.Nil, 0, false
	}
	projectID, err := uuid.Parse(project)
	if err != nil {
		return uuid.Nil, 0, false
	}
	id, err := strconv.Atoi(pr)
	if err != nil || id <= 0 {
		return uuid.Nil, 0, false
	}
	return projectID, id, true
}

// handleGetEvaluations serves GET {project}/_apis/policy/evaluations?artifactId=...
func handleGetEvaluations(c *call) (int, any, error) {
	p, err := c.project()
	if err != nil {
		return 0, nil, err
	}
	artifact := c.query.Get("artifactId")
	if artifact == "" {
		return 0, nil, argumentNull("artifactId")
	}
	projectID, prID, ok := codeReviewArtifact(artifact)
	if !ok {
		return 0, nil, newError(http.StatusBadRequest, "ArgumentException",
			"The artifact ID '%s' is not a valid pull request artifact (vstfs:///CodeReview/CodeReviewId/{projectId}/{pullRequestId}).\r\nParameter name: artifactId", artifact)
	}
	top, skip := -1, 0
	if v := c.query.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, nil, newError(http.StatusBadRequest, "ArgumentException", "The value '%s' is not valid for $top.", v)
		}
		top = n
	}
	if v := c.query.Get("$skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, nil, newError(http.StatusBadRequest, "ArgumentException", "The value '%s' is not valid for $skip.", v)
		}
		skip = n
	}
	includeNA := c.query.Get("includeNotApplicable") == "true"
	var out []policy.PolicyEvaluationRecord
	pr := c.s.findPR(nil, prID)
	if pr != nil && projectID == p.ID && pr.repo.Project == p {
		for _, st := range pr.policies {
			if st.eval.Status == policy.PolicyEvaluationStatusValues.NotApplicable && !includeNA {
				continue
			}
			out = append(out, c.s.evaluationModel(p, artifact, st))
		}
	}
	if skip > len(out) {
		skip = len(out)
	}
	out = out[skip:]
	if top >= 0 && len(out) > top {
		out = out[:top]
	}
	return http.StatusOK, list(out), nil
}

// handleGetEvaluation serves GET {project}/_apis/policy/evaluations/{evaluationId}.
func handleGetEvaluation(c *call) (int, any, error) {
	p, err := c.project()
	if err != nil {
		return 0, nil, err
	}
	id, err := uuid.Parse(c.values["evaluationId"])
	if err != nil {
		return 0, nil, newError(http.StatusBadRequest, "ArgumentException", "The evaluation ID '%s' is not a GUID.", c.values["evaluationId"])
	}
	for _, pr := range c.s.prs {
		if pr.repo.Project != p {
			continue
		}
		for _, st := range pr.policies {
			if st.id == id {
				artifact := "vstfs:///CodeReview/CodeReviewId/" + p.ID.String() + "/" + strconv.Itoa(pr.id)
				return http.StatusOK, c.s.evaluationModel(p, artifact, st), nil
			}
		}
	}
	return 0, nil, newError(http.StatusNotFound, "PolicyEvaluationNotFoundException", "The policy evaluation %s was not found.", id)
}

func (s *Server) evaluationModel(p *Project, artifact string, st *policyState) policy.PolicyEvaluationRecord {
	typeID, ok := policyTypeIDs[st.eval.Type]
	if !ok {
		typeID = stableID("policy-type", st.eval.Type)
	}
	base := s.http.URL + "/" + s.org + "/" + p.ID.String() + "/_apis/policy"
	configURL := base + "/configurations/" + strconv.Itoa(st.configID)
	settings := st.eval.Settings
	if settings == nil {
		settings = map[string]any{}
	}
	id := st.id
	rec := policy.PolicyEvaluationRecord{
		EvaluationId: &id,
		ArtifactId:   ptr(artifact),
		Status:       ptr(st.eval.Status),
		StartedDate:  &azuredevops.Time{Time: st.started},
		Configuration: &policy.PolicyConfiguration{
			Id:                  ptr(st.configID),
			Revision:            ptr(1),
			Url:                 ptr(configURL),
			IsBlocking:          ptr(st.eval.Blocking),
			IsEnabled:           ptr(true),
			IsDeleted:           ptr(false),
			IsEnterpriseManaged: ptr(false),
			CreatedDate:         &azuredevops.Time{Time: st.started},
			Settings:            settings,
			Type: &policy.PolicyTypeRef{
				Id:          &typeID,
				DisplayName: ptr(st.eval.Type),
				Url:         ptr(base + "/types/" + typeID.String()),
			},
			Links: map[string]any{
				"self":       map[string]string{"href": configURL},
				"policyType": map[string]string{"href": base + "/types/" + typeID.String()},
			},
		},
		Links: map[string]any{
			"self": map[string]string{"href": base + "/evaluations/" + id.String()},
		},
	}
	if !st.completed.IsZero() {
		rec.CompletedDate = &azuredevops.Time{Time: st.completed}
	}
	if st.eval.Context != nil {
		rec.Context = st.eval.Context
	}
	return rec
}
