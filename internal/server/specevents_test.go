package server_test

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	azgit "github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/server"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	azdodouble "github.com/maestroplusplus/maestro/test/azdo"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// speculativeDoc is the one speculative pull request document whose parent
// is parent.
func speculativeDoc(t *testing.T, reg *registry.Registry, parent string) maestro.SpeculativePullRequest {
	t.Helper()
	all, err := reg.SpeculativePullRequests(t.Context())
	require.NoError(t, err)
	var out []maestro.SpeculativePullRequest
	for _, sp := range all {
		if sp.Parent == parent {
			out = append(out, sp)
		}
	}
	require.Len(t, out, 1, "one speculative pull request below %s", parent)
	return out[0]
}

// hasBranch reports whether the GitHub double's repository has branch.
func hasBranch(t *testing.T, r *githubdouble.Repo, branch string) bool {
	t.Helper()
	return exec.Command("git", "--git-dir", r.Dir(), "show-ref", "--verify", "--quiet", "refs/heads/"+branch).Run() == nil
}

// TestAzureDevOpsPullRequestEndedClosesSpeculative: an Azure Repos pull
// request whose pull request build flowed speculatively is abandoned; its
// git.pullrequest.updated service hook (status abandoned, from the Azure
// DevOps double) closes the speculative pull request below it at once —
// with the comment, its branch deleted — in the event's own processing,
// not at the 5-minute poll. A merge attempt (git.pullrequest.merged of an
// active pull request) ends nothing.
func TestAzureDevOpsPullRequestEndedClosesSpeculative(t *testing.T) {
	reg := newRegistry(t)
	e := newSpecEnv(t, reg)
	_, err := reg.SetPublishTrigger(t.Context(), maestro.PublishTrigger{Organization: e.s.OrganizationURL(), Project: "internal", DefinitionID: e.pl.ID, PullRequests: true}, nil)
	require.NoError(t, err)
	a := startAzdo(t, reg, e.env)
	post := func(payload []byte) registry.Event {
		t.Helper()
		code, body := hook(t, a.url, payload, nil)
		require.Equal(t, http.StatusAccepted, code, body)
		return waitAzdo(t, reg, payload)
	}
	prID := e.openPR(t, "feature")
	prURL := e.repo.PullRequestURL(prID)
	require.Contains(t, post(e.s.ServiceHookEvent("build.complete", e.prBuild(prID, "10.0.0-beta.pr.1"))).Result, ": updated")
	child := speculativeDoc(t, reg, prURL)
	require.Equal(t, maestro.SpeculativeOpen, child.State)
	require.True(t, child.NextAttempt.After(time.Now().Add(time.Minute)), "the next poll is minutes away")

	ev := post(e.s.PullRequestHookEvent("git.pullrequest.merged", prID))
	assert.Equal(t, "no tracked pull request concerned", ev.Result, "a merge attempt of an active pull request ends nothing")
	assert.Equal(t, maestro.SpeculativeOpen, speculativeDoc(t, reg, prURL).State)

	c, err := azgit.NewClient(t.Context(), azdo.Connection(e.s.OrganizationURL(), hooksPAT, false))
	require.NoError(t, err)
	_, err = c.UpdatePullRequest(t.Context(), azgit.UpdatePullRequestArgs{Project: new("internal"), RepositoryId: new("dotnet-arcade"), PullRequestId: new(prID),
		GitPullRequestToUpdate: &azgit.GitPullRequest{Status: &azgit.PullRequestStatusValues.Abandoned}})
	require.NoError(t, err)
	start := time.Now()
	ev = post(e.s.PullRequestHookEvent("git.pullrequest.updated", prID))
	assert.Less(t, time.Since(start), 20*time.Second)
	assert.Equal(t, fmt.Sprintf("no tracked pull request concerned; 1 speculative pull request(s) below %s due; %s: closed", prURL, child.PullRequestURL), ev.Result)
	child = speculativeDoc(t, reg, prURL)
	assert.Equal(t, maestro.SpeculativeClosed, child.State)
	assert.Contains(t, child.Waiting, prURL+" closed without merging")
	pr := e.runtime.PullRequest(child.Number)
	assert.Equal(t, "closed", pr.GetState())
	assert.False(t, pr.GetMerged())
	comments := e.runtime.Comments(child.Number)
	require.NotEmpty(t, comments)
	assert.Contains(t, comments[len(comments)-1].GetBody(), prURL)
	assert.False(t, hasBranch(t, e.runtime, pr.GetHead().GetRef()), "its branch deleted")
}

// TestGitHubPullRequestClosedDrivesSpeculative: the upstream pull requests
// live on the GitHub double, whose webhooks (pull_request, validated
// against @octokit/openapi-webhooks) reach the server. Closing one without
// merging closes its speculative pull request downstream at once; merging
// another makes its speculative pull request wait for the mainline build
// of the merge commit at once (the gate re-evaluated from the event, not
// the poll).
func TestGitHubPullRequestClosedDrivesSpeculative(t *testing.T) {
	reg := newRegistry(t)
	ghs := githubdouble.NewServer(t)
	arcade := ghs.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "arcade", Files: map[string]string{"README.md": "# arcade\n"}})
	runtime := ghs.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: consumerFiles()})
	env := map[string]string{"GITHUB_TOKEN": githubdouble.DefaultToken, "MAESTRO_GITHUB_URL": ghs.URL(), wire.EnvAllowHTTPLoopback: "true"}
	source := ghs.URL() + "/dotnet/arcade"
	ch, err := reg.AddChannel(t.Context(), "dev", "")
	require.NoError(t, err)
	_, err = reg.AddDefaultChannel(t.Context(), maestro.DefaultChannel{Repository: source, Branch: "main", ChannelID: ch.ID, Enabled: true})
	require.NoError(t, err)
	_, err = reg.AddSubscription(t.Context(), maestro.Subscription{ChannelID: ch.ID, SourceRepository: source,
		TargetRepository: ghs.URL() + "/dotnet/runtime", TargetBranch: "main", Enabled: true, Speculative: true,
		Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild}})
	require.NoError(t, err)
	a := startRoutes(t, reg, routes{github: true, env: env})
	arcade.AddHook(githubdouble.HookSpec{URL: a.url + "/webhooks/github", Secret: secret, Events: []string{"pull_request"}})
	svc := wire.Env{Getenv: envOf(env), Now: time.Now}.Service(reg)
	client := ghs.Client(githubdouble.DefaultToken)

	// open opens an upstream pull request and publishes its speculative
	// build, as its CI's `maestro publish --speculative` does.
	n := 0
	open := func(branch string) *gh.PullRequest {
		t.Helper()
		n++
		head := arcade.Commit(githubdouble.CommitSpec{Branch: branch, Files: map[string]string{branch + ".txt": branch + "\n"}})
		pr, _, err := client.PullRequests.Create(t.Context(), "dotnet", "arcade", &gh.NewPullRequest{Title: gh.String("Change " + branch), Head: gh.String(branch), Base: gh.String("main")})
		require.NoError(t, err)
		res, err := reg.PublishSpeculative(t.Context(), maestro.Build{Repository: source, Branch: branch, Commit: head, DateProduced: time.Now(),
			Assets: []maestro.Asset{{Name: "Microsoft.DotNet.Arcade.Sdk", Version: fmt.Sprintf("10.0.0-pr.%d", n),
				Locations: []maestro.AssetLocation{{Type: maestro.LocationNuGetFeed, Location: "https://pkgs.example.com/feed/index.json"}}}}},
			registry.SpeculativeOptions{PullRequest: &maestro.BuildPullRequest{URL: pr.GetHTMLURL(), HeadCommit: head, TargetBranch: "main"}})
		require.NoError(t, err)
		for _, tr := range svc.FlowSpeculative(t.Context(), res.Build) {
			require.NoError(t, tr.Err)
			require.Equal(t, maestro.ResultUpdated, tr.Outcome.Result)
		}
		return pr
	}
	// closedDelivery waits for the pull_request closed delivery of pr and
	// the processing of its event.
	closedDelivery := func(pr *gh.PullRequest) registry.Event {
		t.Helper()
		var d githubdouble.Delivery
		require.Eventually(t, func() bool {
			for _, x := range ghs.WaitDeliveries() {
				if x.Event == "pull_request" && x.Action == "closed" && strings.Contains(string(x.Payload), pr.GetHTMLURL()) {
					d = x
					return true
				}
			}
			return false
		}, 10*time.Second, 10*time.Millisecond)
		require.Equal(t, http.StatusAccepted, d.StatusCode, string(d.Response))
		var ev registry.Event
		require.Eventually(t, func() bool {
			ev, _, err = reg.Event(t.Context(), "github", d.GUID)
			return err == nil && ev.State == registry.EventDone
		}, 20*time.Second, 10*time.Millisecond)
		return ev
	}

	closed := open("feature-a")
	child := speculativeDoc(t, reg, closed.GetHTMLURL())
	require.Equal(t, maestro.SpeculativeOpen, child.State)
	_, _, err = client.PullRequests.Edit(t.Context(), "dotnet", "arcade", closed.GetNumber(), &gh.PullRequest{State: gh.String("closed")})
	require.NoError(t, err)
	ev := closedDelivery(closed)
	assert.Equal(t, fmt.Sprintf("no tracked pull request concerned; 1 speculative pull request(s) below %s due; %s: closed", closed.GetHTMLURL(), child.PullRequestURL), ev.Result)
	assert.Equal(t, maestro.SpeculativeClosed, speculativeDoc(t, reg, closed.GetHTMLURL()).State)
	assert.Equal(t, "closed", runtime.PullRequest(child.Number).GetState())

	merged := open("feature-b")
	child = speculativeDoc(t, reg, merged.GetHTMLURL())
	require.Equal(t, maestro.SpeculativeOpen, child.State)
	m, _, err := client.PullRequests.Merge(t.Context(), "dotnet", "arcade", merged.GetNumber(), "", nil)
	require.NoError(t, err)
	ev = closedDelivery(merged)
	assert.Contains(t, ev.Result, fmt.Sprintf("1 speculative pull request(s) below %s due; %s: open (waiting for the mainline build of %s at %s", merged.GetHTMLURL(), child.PullRequestURL, source, m.GetSHA()))
	child = speculativeDoc(t, reg, merged.GetHTMLURL())
	assert.Contains(t, child.Waiting, "the mainline build of "+source+" at "+m.GetSHA())
	assert.Equal(t, "open", runtime.PullRequest(child.Number).GetState(), "it waits for the mainline build")
}

// startHooks runs a server with the GitHub and Azure DevOps routes on reg,
// with the hosts of env, until the test ends.
func startHooks(t *testing.T, reg *registry.Registry, env map[string]string) replica {
	t.Helper()
	all := map[string]string{server.EnvGitHubWebhookSecret: secret, server.EnvAzureDevOpsHookSecret: hookSecret}
	maps.Copy(all, env)
	cfg, err := server.LoadConfig("", envOf(all), server.Flags{Listen: "127.0.0.1:0", GitHubWebhooks: new(true), AzureDevOpsHooks: new(true), Workers: 2})
	require.NoError(t, err)
	logs := &syncBuffer{}
	w := wire.Env{Getenv: envOf(env), Now: time.Now}
	srv, err := server.New(cfg, w.Service(reg), slog.New(slog.NewTextHandler(logs, nil)), server.WithHosts(w), server.WithAzureDevOps(w))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	return replica{url: "http://" + ln.Addr().String(), log: logs}
}

// TestGitHubPullRequestBuildThenClosed: the whole path of a GitHub pull
// request built in Azure DevOps, as dnceng-public builds dotnet's: the
// pull request opened on the GitHub double, its pull request build (a
// pipeline of the GitHub repository, as the Builds API shows one) reported
// by build.complete and recorded as a speculative build of the GitHub pull
// request, flowed to a [speculative] pull request downstream; the pull
// request closed on GitHub → its pull_request webhook closes the
// speculative one at once.
func TestGitHubPullRequestBuildThenClosed(t *testing.T) {
	reg := newRegistry(t)
	ghs := githubdouble.NewServer(t)
	arcade := ghs.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "arcade", Files: map[string]string{"README.md": "# arcade\n"}})
	runtime := ghs.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: consumerFiles()})
	az := newHooksEnv(t)
	env := map[string]string{"GITHUB_TOKEN": githubdouble.DefaultToken, "MAESTRO_GITHUB_URL": ghs.URL()}
	maps.Copy(env, az.env)
	source := ghs.URL() + "/dotnet/arcade"
	ch, err := reg.AddChannel(t.Context(), "dev", "")
	require.NoError(t, err)
	_, err = reg.AddDefaultChannel(t.Context(), maestro.DefaultChannel{Repository: source, Branch: "main", ChannelID: ch.ID, Enabled: true})
	require.NoError(t, err)
	_, err = reg.AddSubscription(t.Context(), maestro.Subscription{ChannelID: ch.ID, SourceRepository: source,
		TargetRepository: ghs.URL() + "/dotnet/runtime", TargetBranch: "main", Enabled: true, Speculative: true,
		Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild}})
	require.NoError(t, err)
	_, err = reg.SetPublishTrigger(t.Context(), maestro.PublishTrigger{Organization: az.s.OrganizationURL(), Project: "internal", DefinitionID: az.pl.ID, PullRequests: true}, nil)
	require.NoError(t, err)
	a := startHooks(t, reg, env)
	arcade.AddHook(githubdouble.HookSpec{URL: a.url + "/webhooks/github", Secret: secret, Events: []string{"pull_request"}})

	head := arcade.Commit(githubdouble.CommitSpec{Branch: "fix", Files: map[string]string{"fix.txt": "fix\n"}})
	client := ghs.Client(githubdouble.DefaultToken)
	pr, _, err := client.PullRequests.Create(t.Context(), "dotnet", "arcade", &gh.NewPullRequest{Title: gh.String("Fix"), Head: gh.String("fix"), Base: gh.String("main")})
	require.NoError(t, err)
	merge := cmp.Or(pr.GetMergeCommitSHA(), head)
	id := az.s.AddGitHubPullRequestBuild(az.pl, azdodouble.GitHubPullRequest{Repository: source, Number: pr.GetNumber(), Head: head, Merge: merge, SourceBranch: "fix", TargetBranch: "main"})
	az.s.AddArtifact(id, "AssetManifests", map[string][]byte{"Windows_NT.xml": fmt.Appendf(nil, `<?xml version="1.0" encoding="utf-8"?>
<Build PublishingVersion="3" Name="%s" BuildId="20261205.3" Branch="refs/pull/%d/merge" Commit="%s" IsStable="false">
  <Package Id="Microsoft.DotNet.Arcade.Sdk" Version="10.0.0-pr.3" NonShipping="false" />
</Build>
`, source, pr.GetNumber(), merge)})
	az.s.SetBuildStatus(id, build.BuildStatusValues.Completed, build.BuildResultValues.Succeeded)
	payload := az.s.ServiceHookEvent("build.complete", id)
	code, body := hook(t, a.url, payload, nil)
	require.Equal(t, http.StatusAccepted, code, body)
	ev := waitAzdo(t, reg, payload)
	assert.Regexp(t, fmt.Sprintf(`^published build %d of \S+ as speculative build 1000000000 of %s at %s \(channels \[%d\]\); subscription \S+: updated$`,
		id, regexp.QuoteMeta(pr.GetHTMLURL()), head, registry.SpeculativeTwinID(ch.ID)), ev.Result)
	child := speculativeDoc(t, reg, pr.GetHTMLURL())
	require.NotZero(t, child.Number)
	assert.True(t, strings.HasPrefix(runtime.PullRequest(child.Number).GetTitle(), "[speculative] "))

	_, _, err = client.PullRequests.Edit(t.Context(), "dotnet", "arcade", pr.GetNumber(), &gh.PullRequest{State: gh.String("closed")})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return speculativeDoc(t, reg, pr.GetHTMLURL()).State == maestro.SpeculativeClosed
	}, 20*time.Second, 20*time.Millisecond, "closed by the webhook, not the poll:\n%s", a.log.String())
	assert.Equal(t, "closed", runtime.PullRequest(child.Number).GetState())
}

// TestAzureDevOpsPullRequestMergedMovesSpeculative: the Azure Repos pull
// request completed → its git.pullrequest.merged service hook (status
// completed) makes its speculative pull request wait for the mainline
// build of the merge at once; the official build of the merge commit,
// published by the publish trigger, moves it (its [speculative] marks
// removed).
func TestAzureDevOpsPullRequestMergedMovesSpeculative(t *testing.T) {
	reg := newRegistry(t)
	e := newSpecEnv(t, reg)
	for _, prs := range []bool{false, true} {
		_, err := reg.SetPublishTrigger(t.Context(), maestro.PublishTrigger{Organization: e.s.OrganizationURL(), Project: "internal", DefinitionID: e.pl.ID, PullRequests: prs}, nil)
		require.NoError(t, err)
	}
	a := startAzdo(t, reg, e.env)
	post := func(payload []byte) registry.Event {
		t.Helper()
		code, body := hook(t, a.url, payload, nil)
		require.Equal(t, http.StatusAccepted, code, body)
		return waitAzdo(t, reg, payload)
	}
	prID := e.openPR(t, "feature")
	prURL := e.repo.PullRequestURL(prID)
	require.Contains(t, post(e.s.ServiceHookEvent("build.complete", e.prBuild(prID, "10.0.0-beta.pr.1"))).Result, ": updated")
	child := speculativeDoc(t, reg, prURL)

	pr, ok := e.s.PullRequest(prID)
	require.True(t, ok)
	c, err := azgit.NewClient(t.Context(), azdo.Connection(e.s.OrganizationURL(), hooksPAT, false))
	require.NoError(t, err)
	_, err = c.UpdatePullRequest(t.Context(), azgit.UpdatePullRequestArgs{Project: new("internal"), RepositoryId: new("dotnet-arcade"), PullRequestId: new(prID),
		GitPullRequestToUpdate: &azgit.GitPullRequest{Status: &azgit.PullRequestStatusValues.Completed, LastMergeSourceCommit: pr.LastMergeSourceCommit}})
	require.NoError(t, err)
	merged := e.repo.Head("main")
	ev := post(e.s.PullRequestHookEvent("git.pullrequest.merged", prID))
	assert.Equal(t, fmt.Sprintf("no tracked pull request concerned; 1 speculative pull request(s) below %s due; %s: open (waiting for the mainline build of %s at %s (parent %s merged))",
		prURL, child.PullRequestURL, e.source, merged, prURL), ev.Result)
	assert.True(t, strings.HasPrefix(e.runtime.PullRequest(child.Number).GetTitle(), "[speculative] "), "still speculative: no mainline build yet")

	// The official build of the merge commit, through the publish trigger.
	id := e.s.AddBuild(e.pl, "main", merged)
	e.s.AddArtifact(id, "AssetManifests", map[string][]byte{"Windows_NT.xml": fmt.Appendf(nil, `<?xml version="1.0" encoding="utf-8"?>
<Build PublishingVersion="3" Name="%s" BuildId="20261205.10" Branch="refs/heads/main" Commit="%s" IsStable="false">
  <Package Id="Microsoft.DotNet.Arcade.Sdk" Version="10.0.0-beta.10" NonShipping="false" />
</Build>
`, e.source, merged)})
	e.s.SetBuildStatus(id, build.BuildStatusValues.Completed, build.BuildResultValues.Succeeded)
	ev = post(e.s.ServiceHookEvent("build.complete", id))
	assert.Contains(t, ev.Result, "published build")
	child = speculativeDoc(t, reg, prURL)
	assert.Equal(t, maestro.SpeculativeMoved, child.State)
	assert.NotZero(t, child.MainlineBuildID)
	assert.False(t, strings.HasPrefix(e.runtime.PullRequest(child.Number).GetTitle(), "[speculative]"), e.runtime.PullRequest(child.Number).GetTitle())
}
