package service_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/policy"
	"github.com/maestroplusplus/maestro/internal/service"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// TestCheckInterval: re-checks space out as a pull request ages, as
// production's do.
func TestCheckInterval(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		age  time.Duration
		want time.Duration
	}{
		{-time.Hour, 5 * time.Minute}, // created "after" --now: young
		{0, 5 * time.Minute},
		{2*day - time.Second, 5 * time.Minute},
		{2 * day, 15 * time.Minute},
		{14*day - time.Second, 15 * time.Minute},
		{14 * day, 30 * time.Minute},
		{21 * day, time.Hour},
		{30*day - time.Second, time.Hour},
		{30 * day, 12 * time.Hour},
		{400 * day, 12 * time.Hour},
	} {
		assert.Equal(t, tc.want, service.CheckInterval(tc.age), "age %s", tc.age)
	}
}

// withPolicies gives the flow's subscription merge policies (and failure
// notification tags).
func (f *gitHubFlow) withPolicies(t *testing.T, tags string, names ...string) {
	var ps []maestro.MergePolicy
	for _, n := range names {
		ps = append(ps, maestro.MergePolicy{Name: n})
	}
	var err error
	f.sub, err = f.reg.UpdateSubscription(f.ctx, f.sub.ID, func(s *maestro.Subscription) error {
		s.Policy.MergePolicies, s.PullRequestFailureNotificationTags = ps, tags
		return nil
	})
	require.NoError(t, err)
}

// check advances the shared clock by d and evaluates what is due.
func (f *gitHubFlow) check(t *testing.T, d time.Duration) []service.CheckResult {
	f.clock.Advance(d)
	res, err := f.svc.CheckPullRequests(f.ctx, f.clock.Now(), service.CheckRequest{})
	require.NoError(t, err)
	return res
}

// policyReports counts our policy reports on sha by context: with a
// personal access token (as here) they are commit statuses, one posted per
// change of what a policy shows; the latest is what GitHub shows.
func (f *gitHubFlow) policyReports(t *testing.T, sha string) (count map[string]int, latest map[string]*gh.RepoStatus) {
	statuses, _, err := f.srv.Client(githubdouble.DefaultToken).Repositories.ListStatuses(f.ctx, "dotnet", "runtime", sha, &gh.ListOptions{PerPage: 100})
	require.NoError(t, err)
	count, latest = map[string]int{}, map[string]*gh.RepoStatus{}
	for _, st := range statuses { // newest first
		name, ok := strings.CutPrefix(st.GetContext(), platform.PolicyCheckPrefix)
		if !ok {
			continue
		}
		if count[name] == 0 {
			latest[name] = st
		}
		count[name]++
	}
	return count, latest
}

func (f *gitHubFlow) branchGone(t *testing.T, branch string) bool {
	_, err := git.Runner{}.RemoteHead(f.ctx, "", f.repo.Dir(), branch)
	if err != nil {
		require.ErrorIs(t, err, git.ErrNotFound)
		return true
	}
	return false
}

// TestCheckMergesWhenEveryPolicyPasses: Standard on a fresh dependency pull
// request waits while no check reported (pending, shown as an in-progress
// check run), merges — squash, branch deleted — once CI is green, sets the
// subscription's lastAppliedBuildId and stops tracking the pull request.
// Nothing is evaluated before it is due.
func TestCheckMergesWhenEveryPolicyPasses(t *testing.T) {
	f := newGitHubFlow(t)
	f.withPolicies(t, "", maestro.PolicyStandard)
	o := f.publish(t, 1)
	require.Equal(t, maestro.ResultUpdated, o.Result, o.Message)
	pr := f.repo.PullRequest(1)
	head := pr.GetHead().GetSHA()

	res := f.check(t, 0)
	require.Len(t, res, 1)
	assert.Equal(t, service.ActionWaiting, res[0].Action, res[0].Message)
	assert.Len(t, res[0].Policies, len(policy.StandardMembers))
	count, latest := f.policyReports(t, head)
	assert.Len(t, count, len(policy.StandardMembers), "one report per policy")
	assert.Equal(t, "pending", latest[maestro.PolicyAllChecksSuccessful].GetState(), "no checks yet is pending")
	for name, st := range latest {
		if name != maestro.PolicyAllChecksSuccessful {
			assert.Equal(t, "success", st.GetState(), "%s: %s", name, st.GetDescription())
		}
	}
	assert.Empty(t, f.check(t, 0), "checked: not due again at once")
	sameCount, _ := f.policyReports(t, head)
	assert.Equal(t, count, sameCount)

	assert.Empty(t, f.check(t, 4*time.Minute), "not due before five minutes")
	f.repo.AddStatus(head, gh.RepoStatus{State: gh.String("success"), Context: gh.String("ci/build")})
	res = f.check(t, time.Minute)
	require.Len(t, res, 1)
	assert.Equal(t, service.ActionMerged, res[0].Action, res[0].Message)
	assert.True(t, f.repo.PullRequest(1).GetMerged())
	assert.True(t, f.branchGone(t, pr.GetHead().GetRef()), "branch deleted")
	msg, ok := f.repo.File("main", "global.json")
	require.True(t, ok)
	assert.Contains(t, msg, "10.0.0-beta.1", "the update is on main")
	sub, err := f.reg.Subscription(f.ctx, f.sub.ID)
	require.NoError(t, err)
	assert.Equal(t, o.BuildID, sub.LastAppliedBuildID)
	entries, tracked, err := f.reg.TrackedForCheck(f.ctx, f.clock.Now(), true)
	require.NoError(t, err)
	assert.Empty(t, entries, "no longer tracked")
	assert.Empty(t, tracked)
	count, latest = f.policyReports(t, head)
	for name, n := range count {
		want := 1
		if name == maestro.PolicyAllChecksSuccessful {
			want = 2 // pending, then success
		}
		assert.Equal(t, want, n, "%s: a report only when what it shows changes", name)
	}
	assert.Equal(t, "success", latest[maestro.PolicyAllChecksSuccessful].GetState())
}

// TestCheckFailingCheckIsReportedAndNotifiedOnce: a failing CI check fails
// AllChecksSuccessful with its link; the pull request stays open; however
// often it is evaluated, it has one check run per policy and one
// notification for the head, naming the subscription's people.
func TestCheckFailingCheckIsReportedAndNotifiedOnce(t *testing.T) {
	f := newGitHubFlow(t)
	f.withPolicies(t, "alice;@dotnet/runtime-infra", maestro.PolicyAllChecksSuccessful, maestro.PolicyNoExtraCommits)
	f.publish(t, 1)
	head := f.repo.PullRequest(1).GetHead().GetSHA()
	f.repo.AddStatus(head, gh.RepoStatus{State: gh.String("failure"), Context: gh.String("ci/build"), TargetURL: gh.String("https://ci.example/build/7")})

	var res []service.CheckResult
	for i := range 3 {
		res = f.check(t, 5*time.Minute)
		require.Len(t, res, 1, "evaluation %d", i)
		assert.Equal(t, service.ActionWaiting, res[0].Action)
		assert.Contains(t, res[0].Message, "failing: AllChecksSuccessful")
		assert.False(t, res[0].Cached, "a failing check may clear: never cached")
	}
	assert.Equal(t, "open", f.repo.PullRequest(1).GetState())
	count, latest := f.policyReports(t, head)
	assert.Equal(t, map[string]int{maestro.PolicyAllChecksSuccessful: 1, maestro.PolicyNoExtraCommits: 1}, count, "one report per policy, however often checked")
	assert.Equal(t, "failure", latest[maestro.PolicyAllChecksSuccessful].GetState())
	assert.Equal(t, "1 check failed", latest[maestro.PolicyAllChecksSuccessful].GetDescription())
	assert.Contains(t, res[0].Policies[0].Message, "https://ci.example/build/7", "the failed check's link")
	var notes []string
	for _, c := range f.repo.Comments(1) {
		if strings.Contains(c.GetBody(), "Notification for subscribed users") {
			notes = append(notes, c.GetBody())
		}
	}
	require.Len(t, notes, 1, "one notification per head commit")
	assert.Contains(t, notes[0], "@alice @dotnet/runtime-infra")
}

// TestCheckKeepsDecisiveResultsPerHead: a commit by a person fails
// NoExtraCommits decisively; later evaluations of the same head reuse the
// result and only read the host (no report written again, no git fetch).
// A new head is judged afresh.
func TestCheckKeepsDecisiveResultsPerHead(t *testing.T) {
	f := newGitHubFlow(t)
	f.withPolicies(t, "", maestro.PolicyNoExtraCommits, maestro.PolicyVersionDetailsProps)
	f.publish(t, 1)
	branch := f.repo.PullRequest(1).GetHead().GetRef()
	f.repo.Commit(githubdouble.CommitSpec{Branch: branch, Files: map[string]string{"README.md": "fix\n"}, Author: githubdouble.User{Login: "octocat", Email: "octocat@example.com"}})

	res := f.check(t, 0)
	require.Len(t, res, 1)
	assert.Equal(t, service.ActionWaiting, res[0].Action)
	assert.Contains(t, res[0].Message, "failing: NoExtraCommits")
	assert.False(t, res[0].Cached)

	before := len(f.srv.Requests())
	res = f.check(t, 5*time.Minute)
	require.Len(t, res, 1)
	assert.True(t, res[0].Cached, "the same head: the decisive result stands")
	for _, r := range f.srv.Requests()[before:] {
		assert.Equal(t, "GET", r.Method, "%s %s: a cached result writes nothing on the host", r.Method, r.Path)
		assert.NotContains(t, r.Path, "git-upload-pack", "and fetches nothing")
	}
}

// TestCheckAutoMergeOff: with auto-merge off for the branch, a pull request
// whose policies pass is reported ready, not merged.
func TestCheckAutoMergeOff(t *testing.T) {
	f := newGitHubFlow(t)
	f.withPolicies(t, "", maestro.PolicyNoExtraCommits)
	require.NoError(t, f.reg.SetRepositoryPolicy(f.ctx, maestro.RepositoryBranchPolicy{Repository: f.sub.TargetRepository, Branch: "main",
		MergePolicies: []maestro.MergePolicy{}, AutoMerge: false}))
	f.publish(t, 1)
	res := f.check(t, 0)
	require.Len(t, res, 1)
	assert.Equal(t, service.ActionOff, res[0].Action)
	assert.Contains(t, res[0].Message, "auto-merge is off")
	assert.Equal(t, "open", f.repo.PullRequest(1).GetState())
}

// TestCheckRefusedMergeIsReportedAndRetried: branch protection requires a
// status that never reported (invisible to the policies); GitHub refuses
// the merge; the refusal is one comment per head and the merge is tried at
// every evaluation, five minutes apart, until it goes through.
func TestCheckRefusedMergeIsReportedAndRetried(t *testing.T) {
	f := newGitHubFlow(t)
	f.withPolicies(t, "", maestro.PolicyNoExtraCommits)
	f.publish(t, 1)
	head := f.repo.PullRequest(1).GetHead().GetSHA()
	checks := []*gh.RequiredStatusCheck{{Context: "ci/required"}}
	_, _, err := f.srv.Client(githubdouble.DefaultToken).Repositories.UpdateBranchProtection(f.ctx, "dotnet", "runtime", "main",
		&gh.ProtectionRequest{RequiredStatusChecks: &gh.RequiredStatusChecks{Checks: &checks}})
	require.NoError(t, err)

	for attempt := 1; attempt <= 2; attempt++ {
		res := f.check(t, 5*time.Minute)
		require.Len(t, res, 1)
		assert.Equal(t, service.ActionRefused, res[0].Action)
		assert.Contains(t, res[0].Message, `Required status check "ci/required" is expected`)
		assert.Equal(t, f.clock.Now().Add(5*time.Minute), res[0].NextCheck)
		ev, _, err := f.reg.PolicyEvaluation(f.ctx, f.sub.TargetRepository, "main", f.sub.ID)
		require.NoError(t, err)
		assert.Equal(t, attempt, ev.MergeAttempts)
	}
	refusals := 0
	for _, c := range f.repo.Comments(1) {
		if strings.Contains(c.GetBody(), "could not merge this pull request") {
			refusals++
		}
	}
	assert.Equal(t, 1, refusals, "reported once for the head")

	f.repo.AddStatus(head, gh.RepoStatus{State: gh.String("success"), Context: gh.String("ci/required")})
	res := f.check(t, 5*time.Minute)
	require.Len(t, res, 1)
	assert.Equal(t, service.ActionMerged, res[0].Action, res[0].Message)
}

// TestCheckFindsAPullRequestMergedByAPerson: a pull request a person merged
// sets lastAppliedBuildId at the next evaluation, and an update that waited
// for a cap on open pull requests is due at once.
func TestCheckFindsAPullRequestMergedByAPerson(t *testing.T) {
	f, sub2, ch2 := cappedFlow(t, 1, 0)
	o := f.publish(t, 1)
	require.Equal(t, maestro.ResultUpdated, o.Result)
	require.Equal(t, maestro.ResultRescheduled, f.publishTo(t, ch2, 2).Result)
	require.Equal(t, "cap", f.pendingOf(t, sub2.ID).Reason)
	_, _, err := f.srv.Client(githubdouble.DefaultToken).PullRequests.Merge(f.ctx, "dotnet", "runtime", 1, "by hand", nil)
	require.NoError(t, err)

	// The merged pull request still counts against the cap until the flow
	// sees it merged: the capped update waits for its next poll.
	outcomes := f.tick(t, 16*time.Minute)
	require.Len(t, outcomes, 1)
	require.Equal(t, maestro.ResultRescheduled, outcomes[0].Result, outcomes[0].Message)
	require.True(t, f.pendingOf(t, sub2.ID).NextAttempt.After(f.clock.Now().Add(time.Minute)))
	res := f.check(t, time.Minute)
	require.Len(t, res, 1)
	assert.Equal(t, service.ActionEnded, res[0].Action)
	assert.Contains(t, res[0].Message, "1 waiting update(s)")
	sub, err := f.reg.Subscription(f.ctx, f.sub.ID)
	require.NoError(t, err)
	assert.Equal(t, o.BuildID, sub.LastAppliedBuildID)
	assert.Equal(t, f.clock.Now(), f.pendingOf(t, sub2.ID).NextAttempt, "the capped update is due now")
	outcomes = f.tick(t, 0)
	require.Len(t, outcomes, 1)
	assert.Equal(t, maestro.ResultUpdated, outcomes[0].Result, outcomes[0].Message)
}

// TestCheckNativeTurnsOnTheHostsAutoMerge: with merge method native, a
// pull request whose policies pass gets GitHub's auto-merge (once per
// head), not a merge; GitHub merges it when the protected branch's
// required check passes, and the next evaluation finishes it.
func TestCheckNativeTurnsOnTheHostsAutoMerge(t *testing.T) {
	f := newGitHubFlowWith(t, githubdouble.RepoSpec{AllowAutoMerge: true})
	f.withPolicies(t, "", maestro.PolicyNoExtraCommits)
	require.NoError(t, f.reg.SetRepositoryPolicy(f.ctx, maestro.RepositoryBranchPolicy{Repository: f.sub.TargetRepository, Branch: "main",
		MergePolicies: []maestro.MergePolicy{}, AutoMerge: true, MergeMethod: maestro.MergeMethodNative}))
	checks := []*gh.RequiredStatusCheck{{Context: "ci/required"}}
	_, _, err := f.srv.Client(githubdouble.DefaultToken).Repositories.UpdateBranchProtection(f.ctx, "dotnet", "runtime", "main",
		&gh.ProtectionRequest{RequiredStatusChecks: &gh.RequiredStatusChecks{Checks: &checks}})
	require.NoError(t, err)
	o := f.publish(t, 1)
	head := f.repo.PullRequest(1).GetHead().GetSHA()

	res := f.check(t, 0)
	require.Len(t, res, 1)
	assert.Equal(t, service.ActionNative, res[0].Action, res[0].Message)
	pr := f.repo.PullRequest(1)
	require.NotNil(t, pr.GetAutoMerge(), "auto-merge is on")
	assert.Equal(t, "squash", pr.GetAutoMerge().GetMergeMethod())
	assert.False(t, pr.GetMerged(), "not merged directly")
	before := len(f.srv.Requests())
	res = f.check(t, 5*time.Minute)
	require.Len(t, res, 1)
	assert.Equal(t, service.ActionNative, res[0].Action)
	for _, r := range f.srv.Requests()[before:] {
		assert.NotEqual(t, "/api/graphql", r.Path, "auto-merge is turned on once per head")
	}

	f.repo.AddStatus(head, gh.RepoStatus{State: gh.String("success"), Context: gh.String("ci/required")})
	require.True(t, f.repo.PullRequest(1).GetMerged(), "GitHub merged it")
	res = f.check(t, 5*time.Minute)
	require.Len(t, res, 1)
	assert.Equal(t, service.ActionEnded, res[0].Action)
	sub, err := f.reg.Subscription(f.ctx, f.sub.ID)
	require.NoError(t, err)
	assert.Equal(t, o.BuildID, sub.LastAppliedBuildID)
	assert.True(t, f.branchGone(t, pr.GetHead().GetRef()))
}

// TestCheckNativeTurnsAutoMergeOffWhenAPolicyFails: with merge method
// native, a head whose policies pass gets GitHub's auto-merge; a later head
// with a person's commit fails NoExtraCommits, and the check turns the
// host's auto-merge off before GitHub could merge it: when the required
// check then passes, the pull request stays open.
func TestCheckNativeTurnsAutoMergeOffWhenAPolicyFails(t *testing.T) {
	f := newGitHubFlowWith(t, githubdouble.RepoSpec{AllowAutoMerge: true})
	f.withPolicies(t, "", maestro.PolicyNoExtraCommits)
	require.NoError(t, f.reg.SetRepositoryPolicy(f.ctx, maestro.RepositoryBranchPolicy{Repository: f.sub.TargetRepository, Branch: "main",
		MergePolicies: []maestro.MergePolicy{}, AutoMerge: true, MergeMethod: maestro.MergeMethodNative}))
	checks := []*gh.RequiredStatusCheck{{Context: "ci/required"}}
	_, _, err := f.srv.Client(githubdouble.DefaultToken).Repositories.UpdateBranchProtection(f.ctx, "dotnet", "runtime", "main",
		&gh.ProtectionRequest{RequiredStatusChecks: &gh.RequiredStatusChecks{Checks: &checks}})
	require.NoError(t, err)
	f.publish(t, 1)
	res := f.check(t, 0)
	require.Len(t, res, 1)
	require.Equal(t, service.ActionNative, res[0].Action, res[0].Message)
	require.NotNil(t, f.repo.PullRequest(1).GetAutoMerge())

	branch := f.repo.PullRequest(1).GetHead().GetRef()
	head := f.repo.Commit(githubdouble.CommitSpec{Branch: branch, Files: map[string]string{"README.md": "fix\n"}, Author: githubdouble.User{Login: "octocat", Email: "octocat@example.com"}})
	require.NotNil(t, f.repo.PullRequest(1).GetAutoMerge(), "a push keeps GitHub's auto-merge on")
	res = f.check(t, 5*time.Minute)
	require.Len(t, res, 1)
	assert.Equal(t, service.ActionWaiting, res[0].Action)
	assert.Contains(t, res[0].Message, "failing: NoExtraCommits")
	assert.Nil(t, f.repo.PullRequest(1).GetAutoMerge(), "turned off")

	f.repo.AddStatus(head, gh.RepoStatus{State: gh.String("success"), Context: gh.String("ci/required")})
	assert.False(t, f.repo.PullRequest(1).GetMerged(), "GitHub does not merge what the policies refuse")
}

// nativeFlow is a GitHub flow whose target branch merges natively and
// requires check ci/required, with GitHub's auto-merge turned on by a first
// evaluation of pull request #1 (NoExtraCommits passes).
func nativeFlow(t *testing.T) *gitHubFlow {
	f := newGitHubFlowWith(t, githubdouble.RepoSpec{AllowAutoMerge: true})
	f.withPolicies(t, "", maestro.PolicyNoExtraCommits)
	require.NoError(t, f.reg.SetRepositoryPolicy(f.ctx, maestro.RepositoryBranchPolicy{Repository: f.sub.TargetRepository, Branch: "main",
		MergePolicies: []maestro.MergePolicy{}, AutoMerge: true, MergeMethod: maestro.MergeMethodNative}))
	checks := []*gh.RequiredStatusCheck{{Context: "ci/required"}}
	_, _, err := f.srv.Client(githubdouble.DefaultToken).Repositories.UpdateBranchProtection(f.ctx, "dotnet", "runtime", "main",
		&gh.ProtectionRequest{RequiredStatusChecks: &gh.RequiredStatusChecks{Checks: &checks}})
	require.NoError(t, err)
	f.publish(t, 1)
	res := f.check(t, 0)
	require.Len(t, res, 1)
	require.Equal(t, service.ActionNative, res[0].Action, res[0].Message)
	require.NotNil(t, f.repo.PullRequest(1).GetAutoMerge())
	return f
}

// TestCheckNativeTurnsAutoMergeOffWhenThePoliciesAreGone: GitHub's
// auto-merge that Maestro++ turned on is turned off when the pull request
// no longer has merge policies to pass — the subscription's were cleared,
// or the subscription was deleted — since no policy vouches for what the
// host would merge.
func TestCheckNativeTurnsAutoMergeOffWhenThePoliciesAreGone(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, f *gitHubFlow)
	}{
		{"policies cleared", func(t *testing.T, f *gitHubFlow) { f.withPolicies(t, "") }},
		{"subscription deleted", func(t *testing.T, f *gitHubFlow) { require.NoError(t, f.reg.DeleteSubscription(f.ctx, f.sub.ID)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := nativeFlow(t)
			tc.change(t, f)
			res := f.check(t, 5*time.Minute)
			require.Len(t, res, 1)
			assert.Equal(t, service.ActionNoPolicies, res[0].Action, res[0].Message)
			assert.Nil(t, f.repo.PullRequest(1).GetAutoMerge(), "turned off")
			f.repo.AddStatus(f.repo.PullRequest(1).GetHead().GetSHA(), gh.RepoStatus{State: gh.String("success"), Context: gh.String("ci/required")})
			assert.False(t, f.repo.PullRequest(1).GetMerged(), "a person merges a pull request without policies")
		})
	}
}

// TestUpdateTurnsNativeAutoMergeOffBeforeItPushes: GitHub keeps its
// auto-merge on when the bot pushes a newer update, so an update of a pull
// request whose auto-merge Maestro++ turned on turns it off before pushing:
// the new head merges only after its own policies pass, never because the
// host's required checks passed first.
func TestUpdateTurnsNativeAutoMergeOffBeforeItPushes(t *testing.T) {
	f := nativeFlow(t)
	first := f.repo.PullRequest(1).GetHead().GetSHA()
	o := f.publish(t, 2)
	require.Equal(t, maestro.ResultUpdated, o.Result, o.Message)
	head := f.repo.PullRequest(1).GetHead().GetSHA()
	require.NotEqual(t, first, head)
	assert.Nil(t, f.repo.PullRequest(1).GetAutoMerge(), "turned off before the push")
	f.repo.AddStatus(head, gh.RepoStatus{State: gh.String("success"), Context: gh.String("ci/required")})
	require.False(t, f.repo.PullRequest(1).GetMerged(), "GitHub merged a head the policies never judged")

	res := f.check(t, 5*time.Minute)
	require.Len(t, res, 1)
	assert.Contains(t, []string{service.ActionNative, service.ActionMerged}, res[0].Action, res[0].Message)
	assert.True(t, f.repo.PullRequest(1).GetMerged(), "merged once the new head passed")
}

// TestConcurrentChecksReportAndNotifyOnce: four checks of one failing pull
// request at once (`pr check` beside `flow tick` and `maestro serve`) post
// one notification and one report per policy: what goes on the host is
// written under the pull request's lock, which makes the reporter's "is it
// there already" reads hold.
func TestConcurrentChecksReportAndNotifyOnce(t *testing.T) {
	f := newGitHubFlow(t)
	f.withPolicies(t, "alice", maestro.PolicyAllChecksSuccessful, maestro.PolicyNoExtraCommits)
	f.publish(t, 1)
	head := f.repo.PullRequest(1).GetHead().GetSHA()
	f.repo.AddStatus(head, gh.RepoStatus{State: gh.String("failure"), Context: gh.String("ci/build")})
	f.clock.Advance(5 * time.Minute)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.svc.CheckPullRequests(f.ctx, f.clock.Now(), service.CheckRequest{})
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	notes := 0
	for _, c := range f.repo.Comments(1) {
		if strings.Contains(c.GetBody(), "Notification for subscribed users") {
			notes++
		}
	}
	assert.Equal(t, 1, notes, "one notification per head commit")
	count, _ := f.policyReports(t, head)
	assert.Equal(t, map[string]int{maestro.PolicyAllChecksSuccessful: 1, maestro.PolicyNoExtraCommits: 1}, count, "one report per policy")
}

// TestUpdateFinishesAPullRequestTheHostMerged: GitHub's auto-merge merges
// the pull request and a newer build flows before the next check: the
// update finds it merged and finishes it as a check would — the
// subscription's lastAppliedBuildId, the branch deleted (this repository
// does not delete merged branches, and nothing tracks it afterwards), the
// evaluation forgotten — and opens a new pull request.
func TestUpdateFinishesAPullRequestTheHostMerged(t *testing.T) {
	f := nativeFlow(t)
	first := f.repo.PullRequest(1)
	f.repo.AddStatus(first.GetHead().GetSHA(), gh.RepoStatus{State: gh.String("success"), Context: gh.String("ci/required")})
	require.True(t, f.repo.PullRequest(1).GetMerged(), "GitHub merged it")

	o := f.publish(t, 2)
	require.Equal(t, maestro.ResultUpdated, o.Result, o.Message)
	assert.Contains(t, o.Message, "opened pull request #2")
	sub, err := f.reg.Subscription(f.ctx, f.sub.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, sub.LastAppliedBuildID)
	assert.True(t, f.branchGone(t, first.GetHead().GetRef()), "the merged pull request's branch is deleted")
	ev, _, err := f.reg.PolicyEvaluation(f.ctx, f.sub.TargetRepository, "main", f.sub.ID)
	require.NoError(t, err)
	assert.NotEqual(t, 1, ev.Number, "the merged pull request's evaluation is forgotten")
}
