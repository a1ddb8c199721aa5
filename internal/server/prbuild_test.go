package server_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	azgit "github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// consumerFiles are the dependency files of a repository that takes
// Microsoft.DotNet.Arcade.Sdk.
func consumerFiles() map[string]string {
	return map[string]string{
		"eng/Version.Details.xml": `<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
  </ProductDependencies>
  <ToolsetDependencies>
    <Dependency Name="Microsoft.DotNet.Arcade.Sdk" Version="9.0.0-beta.1">
      <Uri>https://github.com/dotnet/arcade</Uri>
      <Sha>0000000000000000000000000000000000000001</Sha>
    </Dependency>
  </ToolsetDependencies>
</Dependencies>
`,
		"global.json": "{\n  \"msbuild-sdks\": {\n    \"Microsoft.DotNet.Arcade.Sdk\": \"9.0.0-beta.1\"\n  }\n}\n",
	}
}

// specEnv is the hooks environment with a speculative flow: the Azure
// Repos repository dotnet-arcade (its pipeline on the Azure DevOps double)
// has a default channel "dev" for main, and a subscription that opts in to
// speculative flow takes it into dotnet/runtime on the GitHub double.
type specEnv struct {
	*hooksEnv
	gh      *githubdouble.Server
	runtime *githubdouble.Repo
	source  string // the upstream repository's URL
	sub     maestro.Subscription
}

func newSpecEnv(t *testing.T, reg *registry.Registry) *specEnv {
	t.Helper()
	e := &specEnv{hooksEnv: newHooksEnv(t)}
	e.gh = githubdouble.NewServer(t)
	e.runtime = e.gh.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: consumerFiles()})
	maps.Copy(e.env, map[string]string{"GITHUB_TOKEN": githubdouble.DefaultToken, "MAESTRO_GITHUB_URL": e.gh.URL()})
	e.source = e.s.OrganizationURL() + "/internal/_git/dotnet-arcade"
	ch, err := reg.AddChannel(t.Context(), "dev", "")
	require.NoError(t, err)
	_, err = reg.AddDefaultChannel(t.Context(), maestro.DefaultChannel{Repository: e.source, Branch: "main", ChannelID: ch.ID, Enabled: true})
	require.NoError(t, err)
	e.sub, err = reg.AddSubscription(t.Context(), maestro.Subscription{ChannelID: ch.ID, SourceRepository: e.source,
		TargetRepository: e.gh.URL() + "/dotnet/runtime", TargetBranch: "main", Enabled: true, Speculative: true,
		Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild}})
	require.NoError(t, err)
	return e
}

// openPR pushes branch with a change and opens a pull request of it into
// main on the Azure DevOps double, as a person does, and returns its id.
func (e *specEnv) openPR(t *testing.T, branch string) int {
	t.Helper()
	e.repo.Commit(branch, map[string][]byte{"src/" + branch + ".txt": []byte(branch + "\n")}, "change on "+branch)
	c, err := azgit.NewClient(t.Context(), azdo.Connection(e.s.OrganizationURL(), hooksPAT, false))
	require.NoError(t, err)
	pr, err := c.CreatePullRequest(t.Context(), azgit.CreatePullRequestArgs{Project: new("internal"), RepositoryId: new("dotnet-arcade"),
		GitPullRequestToCreate: &azgit.GitPullRequest{Title: new("Change " + branch), SourceRefName: new("refs/heads/" + branch), TargetRefName: new("refs/heads/main")}})
	require.NoError(t, err)
	return *pr.PullRequestId
}

// prManifest is the asset manifest a pull request build of dotnet-arcade
// writes: the build's merge ref and commit.
func (e *specEnv) prManifest(id int, pkgVersion string) []byte {
	b := e.s.Builds()
	var merge, branch string
	for _, x := range b {
		if *x.Id == id {
			merge, branch = *x.SourceVersion, *x.SourceBranch
		}
	}
	return fmt.Appendf(nil, `<?xml version="1.0" encoding="utf-8"?>
<Build PublishingVersion="3" Name="%s" BuildId="20261205.9" Branch="%s" Commit="%s" IsStable="false">
  <Package Id="Microsoft.DotNet.Arcade.Sdk" Version="%s" NonShipping="false" />
</Build>
`, e.source, branch, merge, pkgVersion)
}

// prBuild runs a succeeded pull request build of pull request pr with its
// AssetManifests artifact, and returns its id.
func (e *specEnv) prBuild(pr int, pkgVersion string) int {
	id := e.s.AddPullRequestBuild(e.pl, pr)
	e.s.AddArtifact(id, "AssetManifests", map[string][]byte{"Windows_NT.xml": e.prManifest(id, pkgVersion)})
	e.s.SetBuildStatus(id, build.BuildStatusValues.Completed, build.BuildResultValues.Succeeded)
	return id
}

// TestAzureDevOpsPullRequestBuildSpeculative: a succeeded pull request
// build (reason pullRequest) is recorded only when its pipeline's pull
// request builds opted in (publish-trigger set --pull-requests), and then
// as a speculative build of its pull request — the Azure Repos pull
// request's URL, its head commit, its target branch's channel twins —
// never as an official build; the speculative flow opens the [speculative]
// pull request downstream. Not opted in (or opted in for official builds
// only) it is acknowledged, counted and not recorded; an official build of
// a pipeline opted in for pull request builds only is not published
// either. The same build reported again is not recorded twice.
func TestAzureDevOpsPullRequestBuildSpeculative(t *testing.T) {
	reg := newRegistry(t)
	e := newSpecEnv(t, reg)
	a := startAzdo(t, reg, e.env)
	prID := e.openPR(t, "feature")
	id := e.prBuild(prID, "10.0.0-beta.pr.1")
	what := fmt.Sprintf("build %d of %s", id, e.s.OrganizationURL())
	post := func(eventType string, build int) registry.Event {
		t.Helper()
		payload := e.s.ServiceHookEvent(eventType, build)
		code, body := hook(t, a.url, payload, nil)
		require.Equal(t, http.StatusAccepted, code, body)
		return waitAzdo(t, reg, payload)
	}
	notOptedIn := fmt.Sprintf("%s is a pull request build: the pull request builds of definition %d are not opted in to the publish trigger (maestro publish-trigger set --pull-requests)", what, e.pl.ID)

	assert.Equal(t, notOptedIn, post("build.complete", id).Result, "nothing opted in")
	official := maestro.PublishTrigger{Organization: e.s.OrganizationURL(), Project: "internal", DefinitionID: e.pl.ID}
	_, err := reg.SetPublishTrigger(t.Context(), official, nil)
	require.NoError(t, err)
	assert.Equal(t, notOptedIn+"; not recorded", post("build.complete", id).Result, "official builds opted in, pull request builds not")
	builds, err := reg.Builds(t.Context(), registry.BuildFilter{})
	require.NoError(t, err)
	assert.Empty(t, builds, "a pull request build is never recorded as an official build")

	require.NoError(t, reg.DeletePublishTrigger(t.Context(), official))
	prs := official
	prs.PullRequests = true
	_, err = reg.SetPublishTrigger(t.Context(), prs, nil)
	require.NoError(t, err)
	off := e.officialBuild(build.BuildResultValues.Succeeded)
	assert.Equal(t, fmt.Sprintf("build %d of %s: definition %d is opted in to the publish trigger for its pull request builds only (maestro publish-trigger set without --pull-requests takes its official builds)", off, e.s.OrganizationURL(), e.pl.ID),
		post("build.complete", off).Result)

	pr, ok := e.s.PullRequest(prID)
	require.True(t, ok)
	head := *pr.LastMergeSourceCommit.CommitId
	prURL := e.repo.PullRequestURL(prID)
	ev := post("build.complete", id)
	assert.Regexp(t, fmt.Sprintf(`^published %s as speculative build 1000000000 of %s at %s \(channels \[1000000001\]\); subscription %s: updated$`,
		what, prURL, head, e.sub.ID), ev.Result)

	builds, err = reg.Builds(t.Context(), registry.BuildFilter{})
	require.NoError(t, err)
	assert.Empty(t, builds, "no official build")
	spec, err := reg.Speculative(t.Context())
	require.NoError(t, err)
	b, err := spec.Build(t.Context(), 1000000000)
	require.NoError(t, err)
	assert.True(t, b.Speculative)
	assert.Equal(t, &maestro.BuildPullRequest{URL: prURL, HeadCommit: head, TargetBranch: "main"}, b.PullRequest)
	assert.Equal(t, id, b.AzureDevOpsBuildID)
	assert.Equal(t, e.source, b.Repository)
	require.Len(t, b.Assets, 1)
	assert.True(t, b.Assets[0].NonShipping, "a speculative build's assets are non-shipping")

	opened := e.runtime.PullRequests()
	require.Len(t, opened, 1, "the speculative flow opened the downstream pull request")
	assert.True(t, strings.HasPrefix(opened[0].GetTitle(), "[speculative] "), opened[0].GetTitle())
	assert.Contains(t, opened[0].GetBody(), prURL)
	sps, err := reg.SpeculativePullRequests(t.Context())
	require.NoError(t, err)
	require.Len(t, sps, 1)
	assert.Equal(t, prURL, sps[0].Parent)

	// The run event of the same build: recorded before, not again, and
	// not flowed again.
	ev = post("ms.vss-pipelines.run-state-changed-event", id)
	assert.Equal(t, fmt.Sprintf("%s was recorded before as speculative build 1000000000 of %s", what, prURL), ev.Result)
	_, err = spec.Build(t.Context(), 1000000001)
	assert.Equal(t, maestro.KindNotFound, maestro.KindOf(err), "one speculative build")
	assert.Len(t, e.runtime.PullRequests(), 1)

	fams := scrape(t, a.url)
	for result, want := range map[string]float64{"not-opted-in": 2, "published": 1, "recorded-before": 1, "not-published": 0} {
		assert.InDelta(t, want, counter(fams, "maestro_pull_request_builds_total", map[string]string{"result": result}), 0, result)
	}
}

// failingPuts is a store whose Puts of the keys fail matches fail.
type failingPuts struct {
	store.Store
	fail func(key string) bool
}

func (s *failingPuts) Put(ctx context.Context, key string, data []byte, cond store.Condition) (string, error) {
	if s.fail(key) {
		return "", errors.New("injected failure")
	}
	return s.Store.Put(ctx, key, data, cond)
}

// TestPullRequestBuildFlowFailureIsRetried: a pull request build recorded
// as a speculative build whose speculative flow fails (the first write of
// its downstream pull request's document) leaves the event to be tried
// again, the failure its last error — not done, with the failure as text:
// nothing else would flow the build to that subscription.
func TestPullRequestBuildFlowFailureIsRetried(t *testing.T) {
	st := &failingPuts{Store: mem.New(), fail: func(key string) bool {
		return strings.Contains(key, "flow/pullrequests/") && strings.Contains(key, "/speculative-")
	}}
	reg := registry.New(st)
	_, _, err := reg.Init(t.Context())
	require.NoError(t, err)
	e := newSpecEnv(t, reg)
	a := startAzdo(t, reg, e.env)
	_, err = reg.SetPublishTrigger(t.Context(), maestro.PublishTrigger{Organization: e.s.OrganizationURL(), Project: "internal", DefinitionID: e.pl.ID, PullRequests: true}, nil)
	require.NoError(t, err)
	id := e.prBuild(e.openPR(t, "feature"), "10.0.0-beta.pr.1")
	payload := e.s.ServiceHookEvent("build.complete", id)
	code, body := hook(t, a.url, payload, nil)
	require.Equal(t, http.StatusAccepted, code, body)
	ev := waitAzdoUntil(t, reg, payload, func(ev registry.Event) bool { return ev.Failures > 0 || ev.State == registry.EventDone })
	assert.Equal(t, registry.EventQueued, ev.State, "tried again: %s", ev.Result)
	assert.Equal(t, 1, ev.Failures)
	assert.Contains(t, ev.LastError, "flow speculative build 1000000000")
	assert.Contains(t, ev.LastError, "injected failure")
	assert.Empty(t, e.runtime.PullRequests(), "no pull request opened yet")
	spec, err := reg.Speculative(t.Context())
	require.NoError(t, err)
	_, err = spec.Build(t.Context(), 1000000000)
	assert.NoError(t, err, "the build is recorded, for the next attempt to flow")
}
