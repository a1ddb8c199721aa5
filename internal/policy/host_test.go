package policy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gh "github.com/google/go-github/v60/github"
	azgit "github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	azpolicy "github.com/microsoft/azure-devops-go-api/azuredevops/v7/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/platform/azrepos"
	"github.com/maestroplusplus/maestro/internal/platform/github"
	"github.com/maestroplusplus/maestro/internal/policy"
	"github.com/maestroplusplus/maestro/test/github/ghspec"
)

// githubRecord is a pull request's state as GitHub answers it: the bodies
// of GET .../commits/{ref}/check-runs, GET .../commits/{ref}/status, GET
// .../pulls/{n}/reviews and GET .../pulls/{n}/commits.
type githubRecord struct {
	Head      string          `json:"head"`
	CheckRuns json.RawMessage `json:"checkRuns"`
	Status    json.RawMessage `json:"status"`
	Reviews   json.RawMessage `json:"reviews"`
	Commits   json.RawMessage `json:"commits"`
}

func readGitHub(t *testing.T, name string) githubRecord {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "github", name+".json"))
	require.NoError(t, err)
	var r githubRecord
	require.NoError(t, json.Unmarshal(data, &r))
	return r
}

// githubStatus reads a recorded GitHub state through go-github's types and
// the GitHub platform's mapping.
func githubStatus(t *testing.T, name string) platform.Status {
	t.Helper()
	r := readGitHub(t, name)
	var runs gh.ListCheckRunsResults
	var combined gh.CombinedStatus
	var reviews []*gh.PullRequestReview
	var commits []*gh.RepositoryCommit
	require.NoError(t, json.Unmarshal(r.CheckRuns, &runs))
	require.NoError(t, json.Unmarshal(r.Status, &combined))
	require.NoError(t, json.Unmarshal(r.Reviews, &reviews))
	require.NoError(t, json.Unmarshal(r.Commits, &commits))
	return github.StatusOf(r.Head, runs.CheckRuns, combined.Statuses, reviews, commits)
}

// azdoRecord is a pull request's state as Azure DevOps answers it: GET
// .../pullRequests/{id}/statuses, GET _apis/policy/evaluations, GET
// .../pullRequests/{id} (its reviewers) and GET .../pullRequests/{id}/commits.
type azdoRecord struct {
	Statuses struct {
		Count int
		Value []azgit.GitPullRequestStatus
	} `json:"statuses"`
	Evaluations struct {
		Count int
		Value []azpolicy.PolicyEvaluationRecord
	} `json:"evaluations"`
	PullRequest azgit.GitPullRequest `json:"pullRequest"`
	Commits     struct {
		Count int
		Value []azgit.GitCommitRef
	} `json:"commits"`
}

// azdoStatus reads a recorded Azure DevOps state through
// azure-devops-go-api's types (refusing fields they do not know) and the
// Azure Repos platform's mapping.
func azdoStatus(t *testing.T, name string) platform.Status {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "azdo", name+".json"))
	require.NoError(t, err)
	var r azdoRecord
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&r), "testdata/azdo/%s.json has the service's shapes", name)
	return azrepos.StatusOf("https://dev.azure.com/dnceng/internal", *r.PullRequest.LastMergeSourceCommit.CommitId, r.Statuses.Value, r.Evaluations.Value, *r.PullRequest.Reviewers, r.Commits.Value)
}

// TestGitHubRecordsMatchTheDescription: every recorded GitHub answer is a
// valid 200 response of its operation in GitHub's REST description.
func TestGitHubRecordsMatchTheDescription(t *testing.T) {
	doc := ghspec.REST(t)
	files, err := filepath.Glob(filepath.Join("testdata", "github", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	routes := map[string]string{
		"checkRuns": "/repos/{owner}/{repo}/commits/{ref}/check-runs",
		"status":    "/repos/{owner}/{repo}/commits/{ref}/status",
		"reviews":   "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
		"commits":   "/repos/{owner}/{repo}/pulls/{pull_number}/commits",
	}
	for _, f := range files {
		r := readGitHub(t, strings.TrimSuffix(filepath.Base(f), ".json"))
		bodies := map[string]json.RawMessage{"checkRuns": r.CheckRuns, "status": r.Status, "reviews": r.Reviews, "commits": r.Commits}
		for part, route := range routes {
			op, err := doc.Operation("GET", route)
			require.NoError(t, err)
			assert.NoError(t, op.CheckResponse(200, nil, bodies[part]), "%s: %s", f, part)
		}
	}
}

const bot = "dotnet-maestro[bot]@users.noreply.github.com"

// TestHostPolicies judges recorded GitHub and Azure DevOps pull request
// states by the policies that read the host's report.
func TestHostPolicies(t *testing.T) {
	std := []maestro.MergePolicy{{Name: maestro.PolicyStandard}}
	checks := []maestro.MergePolicy{{Name: maestro.PolicyAllChecksSuccessful}}
	reviews := []maestro.MergePolicy{{Name: maestro.PolicyNoRequestedChanges}}
	commits := []maestro.MergePolicy{{Name: maestro.PolicyNoExtraCommits}}
	tests := []struct {
		name     string
		status   func(*testing.T, string) platform.Status
		file     string
		policies []maestro.MergePolicy
		policy   string
		want     policy.Outcome
		decisive bool
		contains []string
		excludes []string
	}{
		{"github green under Standard", githubStatus, "green", std, maestro.PolicyAllChecksSuccessful, policy.Success, false, []string{"3 checks succeeded"}, nil},
		{"github green without the default ignores", githubStatus, "green", checks, maestro.PolicyAllChecksSuccessful, policy.Pending, false,
			[]string{"Build Analysis", "license/cla: https://cla.opensource.microsoft.com", "WIP"}, []string{"Maestro auto-merge"}},
		{"github ignoreChecks", githubStatus, "green", []maestro.MergePolicy{{Name: maestro.PolicyAllChecksSuccessful,
			Properties: map[string]any{"ignoreChecks": []any{"build analysis", "license/cla", "WIP"}}}}, maestro.PolicyAllChecksSuccessful, policy.Success, false, nil, nil},
		{"github failed checks list their links", githubStatus, "failing-checks", std, maestro.PolicyAllChecksSuccessful, policy.Failure, false,
			[]string{"dotnet-aspnetcore-ci: https://github.com/dotnet/aspnetcore/runs/31", "helix-tests: https://github.com/dotnet/aspnetcore/runs/32", "security/brakeman: https://ci.example.com/2000/output"}, []string{"docs-lint"}},
		{"github pending checks", githubStatus, "pending-checks", std, maestro.PolicyAllChecksSuccessful, policy.Pending, false, []string{"dotnet-aspnetcore-ci"}, []string{"docs-lint"}},
		{"github no checks yet", githubStatus, "no-checks", std, maestro.PolicyAllChecksSuccessful, policy.Pending, false, []string{"No checks"}, nil},
		{"github our own checks never count", githubStatus, "only-own-checks", checks, maestro.PolicyAllChecksSuccessful, policy.Pending, false, []string{"No checks"}, nil},
		{"github approved", githubStatus, "green", reviews, maestro.PolicyNoRequestedChanges, policy.Success, false, nil, nil},
		{"github changes requested", githubStatus, "changes-requested", reviews, maestro.PolicyNoRequestedChanges, policy.Failure, false,
			[]string{"hubot: https://github.com/dotnet/aspnetcore/pull/1234#pullrequestreview-82"}, []string{"octocat", "monalisa"}},
		{"github latest review per reviewer", githubStatus, "changes-requested-then-approved", reviews, maestro.PolicyNoRequestedChanges, policy.Success, false, nil, nil},
		{"github bot commits only", githubStatus, "green", commits, maestro.PolicyNoExtraCommits, policy.Success, false, nil, nil},
		{"github commit by another author", githubStatus, "commit-by-other", commits, maestro.PolicyNoExtraCommits, policy.Failure, true,
			[]string{"3f1c2a9 by Mona Lisa <mona@example.com> (@monalisa)"}, []string{"9c7b5a3"}},

		{"azdo green under Standard", azdoStatus, "green", std, maestro.PolicyAllChecksSuccessful, policy.Success, false, []string{"2 checks succeeded"}, nil},
		{"azdo green without the default ignores", azdoStatus, "green", checks, maestro.PolicyAllChecksSuccessful, policy.Failure, false,
			[]string{"policy/Comment requirements"}, []string{"maestro/", "AllChecksSuccessful"}},
		{"azdo failed policy and latest failed status", azdoStatus, "failing-checks", std, maestro.PolicyAllChecksSuccessful, policy.Failure, false,
			[]string{"policy/Build (runtime-ci): https://dev.azure.com/dnceng/internal/_build/results?buildId=2606", "dotnet-ci/build: https://dev.azure.com/dnceng/internal/_build/results?buildId=2603"}, []string{"buildId=2602", "codeql"}},
		{"azdo a status that recovered", azdoStatus, "status-recovered", std, maestro.PolicyAllChecksSuccessful, policy.Success, false, nil, nil},
		{"azdo queued policy", azdoStatus, "pending-policy", std, maestro.PolicyAllChecksSuccessful, policy.Pending, false, []string{"policy/Build (runtime-ci)"}, nil},
		{"azdo no checks yet", azdoStatus, "no-checks", std, maestro.PolicyAllChecksSuccessful, policy.Pending, false, nil, nil},
		{"azdo approving vote; a team's rolled-up vote does not count", azdoStatus, "green", reviews, maestro.PolicyNoRequestedChanges, policy.Success, false, nil, nil},
		{"azdo rejecting vote", azdoStatus, "rejected-vote", reviews, maestro.PolicyNoRequestedChanges, policy.Failure, false, []string{"bob@contoso.com"}, []string{"alice"}},
		{"azdo waiting for the author", azdoStatus, "waiting-for-author", reviews, maestro.PolicyNoRequestedChanges, policy.Failure, false, []string{"bob@contoso.com"}, nil},
		{"azdo commit by another author", azdoStatus, "commit-by-other", commits, maestro.PolicyNoExtraCommits, policy.Failure, true, []string{"Alice Smith <alice@contoso.com>"}, []string{"0e9d8c7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := policy.PullRequestState{Host: tt.status(t, tt.file), BotEmails: []string{bot}, BotLogins: []string{"dotnet-maestro[bot]"}}
			res := policy.Evaluate(tt.policies, s)
			r := find(t, res, tt.policy)
			assert.Equal(t, tt.want, r.Outcome, "%s: %s", r.Title, r.Message)
			assert.Equal(t, tt.decisive, r.Decisive)
			for _, c := range tt.contains {
				assert.Contains(t, r.Title+"\n"+r.Message, c)
			}
			for _, c := range tt.excludes {
				assert.NotContains(t, r.Message, c)
			}
		})
	}
}

func find(t *testing.T, res policy.Result, name string) policy.PolicyResult {
	t.Helper()
	for _, r := range res.Policies {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no result for %s in %+v", name, res.Policies)
	return policy.PolicyResult{}
}
