package e2e_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	azgit "github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// TestServePullRequestBuildSpeculative: through the real `maestro serve`
// binary, a pipeline's pull request builds opted in with `publish-trigger
// set --pull-requests`; build.complete of a pull request build of an Azure
// Repos pull request → the server (killed with kill -9 while it downloads
// the manifests, then started again) records it once as a speculative build
// of that pull request and opens one [speculative] pull request on the
// GitHub double; the upstream pull request abandoned →
// git.pullrequest.updated → the speculative pull request is closed at once,
// its branch deleted, with no scheduler running.
func TestServePullRequestBuildSpeculative(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		p := newPublishTriggerEnv(t, e, nil)
		source := p.azdo.OrganizationURL() + "/internal/_git/dotnet-arcade"
		pipeline := fmt.Sprintf("%s/internal/_build?definitionId=%d", p.azdo.OrganizationURL(), p.pl.ID)
		e.ok("default-channel", "add", "--repository", source, "--branch", "main", "--channel", "dev")
		var sub maestro.Subscription
		e.okJSON(&sub, "subscription", "add", "--channel", "dev", "--source-repo", source,
			"--target-repo", p.srv.URL()+"/dotnet/runtime", "--target-branch", "main", "--update-frequency", "everyBuild", "--speculative")
		assert.Equal(t, "publish trigger set for the pull request builds of definition "+fmt.Sprint(p.pl.ID)+" of "+p.azdo.OrganizationURL()+"/internal\n",
			e.ok("publish-trigger", "set", "--pull-requests", "--pipeline", pipeline))
		assert.Regexp(t, `(?m)^http\S+ +internal +\d+ +pull requests$`, e.ok("publish-trigger", "list"))

		// An Azure Repos pull request, and its build-validation build.
		p.repo.Commit("feature", map[string][]byte{"src/change.txt": []byte("change\n")}, "a change")
		c, err := azgit.NewClient(t.Context(), azdo.Connection(p.azdo.OrganizationURL(), "maestro-pat", false))
		require.NoError(t, err)
		pr, err := c.CreatePullRequest(t.Context(), azgit.CreatePullRequestArgs{Project: new("internal"), RepositoryId: new("dotnet-arcade"),
			GitPullRequestToCreate: &azgit.GitPullRequest{Title: new("A change"), SourceRefName: new("refs/heads/feature"), TargetRefName: new("refs/heads/main")}})
		require.NoError(t, err)
		prURL := p.repo.PullRequestURL(*pr.PullRequestId)
		id := p.azdo.AddPullRequestBuild(p.pl, *pr.PullRequestId)
		var merge string
		for _, b := range p.azdo.Builds() {
			if *b.Id == id {
				merge = *b.SourceVersion
			}
		}
		p.azdo.AddArtifact(id, "AssetManifests", map[string][]byte{"Windows_NT.xml": fmt.Appendf(nil, `<?xml version="1.0" encoding="utf-8"?>
<Build PublishingVersion="3" Name="%s" BuildId="20261205.7" Branch="refs/pull/%d/merge" Commit="%s" IsStable="false">
  <Package Id="Microsoft.DotNet.Arcade.Sdk" Version="10.0.0-pr.7" NonShipping="false" />
</Build>
`, source, *pr.PullRequestId, merge)})
		p.azdo.SetBuildStatus(id, build.BuildStatusValues.Completed, build.BuildResultValues.Succeeded)

		// The double holds the first download until the server is dead.
		var once sync.Once
		downloading, release := make(chan struct{}), make(chan struct{})
		p.azdo.BeforeRequest(func(r *http.Request) {
			if strings.Contains(r.URL.RawQuery, "artifactName=AssetManifests") {
				once.Do(func() { close(downloading); <-release })
			}
		})
		config := writeFile(t, t.TempDir(), "serve.yaml", "claimTimeout: 2s\nazureDevOps:\n  hooks: true\n")
		first := serve(t, e, "--config", config)
		payload := p.azdo.ServiceHookEvent("build.complete", id)
		code, body := postHook(t, first, payload)
		require.Equal(t, http.StatusAccepted, code, body)
		select {
		case <-downloading:
		case <-time.After(time.Minute):
			t.Fatalf("the worker never downloaded the manifests\n%s", first.log())
		}
		first.kill(t)
		close(release)

		reg := openRegistry(t, e)
		second := serve(t, e, "--config", config)
		ev := waitHookEvent(t, reg, payload)
		assert.Equal(t, 2, ev.Attempts, "the second server took the accepted event over")
		assert.Regexp(t, fmt.Sprintf(`^published build %d of \S+ as speculative build 1000000000 of %s at [0-9a-f]{40} \(channels \[\d+\]\); subscription %s: updated$`, id, prURL, sub.ID), ev.Result)
		var builds []maestro.Build
		e.okJSON(&builds, "build", "list")
		assert.Empty(t, builds, "no official build")
		var spec maestro.Build
		e.okJSON(&spec, "build", "show", "--id", "1000000000")
		require.NotNil(t, spec.PullRequest)
		assert.Equal(t, prURL, spec.PullRequest.URL)
		var specPRs []map[string]any
		for _, x := range p.gitHubTarget.repo.PullRequests() {
			if strings.HasPrefix(x.GetTitle(), "[speculative] ") {
				specPRs = append(specPRs, map[string]any{"number": x.GetNumber(), "head": x.GetHead().GetRef()})
			}
		}
		require.Len(t, specPRs, 1, "one speculative pull request downstream")
		number := specPRs[0]["number"].(int)

		// The upstream pull request abandoned.
		_, err = c.UpdatePullRequest(t.Context(), azgit.UpdatePullRequestArgs{Project: new("internal"), RepositoryId: new("dotnet-arcade"), PullRequestId: pr.PullRequestId,
			GitPullRequestToUpdate: &azgit.GitPullRequest{Status: &azgit.PullRequestStatusValues.Abandoned}})
		require.NoError(t, err)
		payload = p.azdo.PullRequestHookEvent("git.pullrequest.updated", *pr.PullRequestId)
		code, body = postHook(t, second, payload)
		require.Equal(t, http.StatusAccepted, code, body)
		ev = waitHookEvent(t, reg, payload)
		assert.Contains(t, ev.Result, fmt.Sprintf("1 speculative pull request(s) below %s due; ", prURL))
		assert.True(t, strings.HasSuffix(ev.Result, ": closed"), ev.Result)
		assert.Equal(t, "closed", p.gitHubTarget.repo.PullRequest(number).GetState())
		assert.Contains(t, e.ok("speculative", "status", "--pull-request", prURL), "closed")
		assert.NotContains(t, second.log(), azdoHookSecret)
	})
}
