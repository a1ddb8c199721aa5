package e2e_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	azgit "github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/test/azdo"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// chainPR is a pull request as a chain host shows it.
type chainPR struct {
	Number      int
	URL         string
	Title, Body string
	HeadBranch  string
	State       maestro.PullRequestState
	MergeCommit string
	Labels      []string // nil where the host has none
	Comments    []string
}

// chainHost is where the chain's repositories live: the local platform or
// a double of a hosted one. Its methods read and change the host's own
// state, as a person or a CI system would, never through maestro.
type chainHost interface {
	// addRepo creates repository i with files on main and returns its URL.
	addRepo(t *testing.T, i int, files map[string]string) string
	prs(t *testing.T, repo string) []chainPR
	// setCheck reports the check "build" of pr's head as pending or success.
	setCheck(t *testing.T, repo string, pr chainPR, success bool)
	file(t *testing.T, repo, branch, path string) string
	head(t *testing.T, repo, branch string) string
	branchExists(t *testing.T, repo, branch string) bool
	close(t *testing.T, repo string, pr chainPR)
	// policy is how maestro reported merge policy name on pr: its state
	// (pending, success or failure) and its message.
	policy(t *testing.T, repo string, pr chainPR, name string) (state, message string)
	// labels says whether the host's pull requests carry labels.
	labels() bool
}

// localHost is the local platform: bare repositories on disk, pull
// requests in the registry, handled with `maestro pr`.
type localHost struct{ e *env }

func (h localHost) addRepo(t *testing.T, _ int, files map[string]string) string {
	src := t.TempDir()
	for name, content := range files {
		writeFile(t, src, name, content)
	}
	return bareRepoFrom(t, src)
}

func (h localHost) prs(t *testing.T, repo string) []chainPR {
	t.Helper()
	var prs []maestro.PullRequest
	h.e.okJSON(&prs, "pr", "list", "--repository", repo)
	out := make([]chainPR, 0, len(prs))
	for _, p := range prs {
		// The local platform appends a comment to the body.
		_, comments, _ := strings.Cut(p.Body, "\n\n---\n")
		cp := chainPR{Number: p.Number, URL: p.URL, Title: p.Title, Body: p.Body, HeadBranch: p.HeadBranch, State: p.State, MergeCommit: p.MergeCommit}
		if comments != "" {
			cp.Comments = strings.Split(comments, "\n\n---\n")
		}
		out = append(out, cp)
	}
	return out
}

func (h localHost) setCheck(t *testing.T, repo string, pr chainPR, success bool) {
	t.Helper()
	state := "pending"
	if success {
		state = "success"
	}
	h.e.ok("pr", "set-check", "--repository", repo, "--number", fmt.Sprint(pr.Number), "--name", "build", "--state", state)
}

func (h localHost) file(t *testing.T, repo, branch, path string) string {
	return showFile(t, repo, branch, path)
}

func (h localHost) head(t *testing.T, repo, branch string) string {
	t.Helper()
	return head(t, repo, branch)
}

// head is the commit of branch in the local repository repo.
func head(t *testing.T, repo, branch string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", repo, "rev-parse", "refs/heads/"+branch).Output()
	require.NoError(t, err, "%s %s", repo, branch)
	return strings.TrimSpace(string(out))
}

func (h localHost) branchExists(t *testing.T, repo, branch string) bool {
	return exec.Command("git", "-C", repo, "rev-parse", "--verify", "refs/heads/"+branch).Run() == nil
}

func (h localHost) close(t *testing.T, repo string, pr chainPR) {
	h.e.ok("pr", "close", "--repository", repo, "--number", fmt.Sprint(pr.Number))
}

func (h localHost) labels() bool { return false }

func (h localHost) policy(t *testing.T, repo string, pr chainPR, name string) (string, string) {
	t.Helper()
	show := h.e.ok("pr", "show", "--repository", repo, "--number", fmt.Sprint(pr.Number))
	m := regexp.MustCompile(`(?m)^\s*\[(wait|pass|fail)\] ` + regexp.QuoteMeta(name) + `: (.*)$`).FindStringSubmatch(show)
	require.NotNil(t, m, "policy %s of %s:\n%s", name, pr.URL, show)
	return map[string]string{"wait": "pending", "pass": "success", "fail": "failure"}[m[1]], m[2]
}

// githubHost is the GitHub double, changed through go-github and its
// test hooks (check runs as a CI app posts them).
type githubHost struct {
	srv    *githubdouble.Server
	client *gh.Client
	repos  map[string]*githubdouble.Repo
}

func newGitHubHost(t *testing.T, e *env) *githubHost {
	srv := githubdouble.NewServer(t)
	e.environ = append(e.environ, "GITHUB_TOKEN="+githubdouble.DefaultToken, "MAESTRO_GITHUB_URL="+srv.URL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true")
	return &githubHost{srv: srv, client: srv.Client(githubdouble.DefaultToken), repos: map[string]*githubdouble.Repo{}}
}

func (h *githubHost) addRepo(t *testing.T, i int, files map[string]string) string {
	name := fmt.Sprintf("r%d", i)
	h.repos[name] = h.srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: name, Files: files})
	return h.srv.URL() + "/dotnet/" + name
}

func (h *githubHost) repo(t *testing.T, url string) *githubdouble.Repo {
	t.Helper()
	r := h.repos[url[strings.LastIndex(url, "/")+1:]]
	require.NotNil(t, r, url)
	return r
}

func (h *githubHost) prs(t *testing.T, url string) []chainPR {
	t.Helper()
	r := h.repo(t, url)
	var out []chainPR
	for _, p := range r.PullRequests() {
		cp := chainPR{Number: p.GetNumber(), URL: p.GetHTMLURL(), Title: p.GetTitle(), Body: p.GetBody(), HeadBranch: p.GetHead().GetRef(),
			State: maestro.PullRequestOpen, Labels: []string{}}
		switch {
		case p.GetMerged():
			cp.State, cp.MergeCommit = maestro.PullRequestMerged, p.GetMergeCommitSHA()
		case p.GetState() == "closed":
			cp.State = maestro.PullRequestClosed
		}
		for _, l := range p.Labels {
			cp.Labels = append(cp.Labels, l.GetName())
		}
		for _, c := range r.Comments(cp.Number) {
			cp.Comments = append(cp.Comments, c.GetBody())
		}
		out = append(out, cp)
	}
	return out
}

func (h *githubHost) setCheck(t *testing.T, url string, pr chainPR, success bool) {
	t.Helper()
	run := gh.CheckRun{Name: gh.String("build"), HeadSHA: gh.String(h.head(t, url, pr.HeadBranch)), Status: gh.String("in_progress")}
	if success {
		run.Status, run.Conclusion = nil, gh.String("success")
	}
	h.repo(t, url).AddCheckRun(run)
}

func (h *githubHost) file(t *testing.T, url, branch, path string) string {
	t.Helper()
	content, ok := h.repo(t, url).File(branch, path)
	require.True(t, ok, "%s at %s of %s", path, branch, url)
	return content
}

func (h *githubHost) head(t *testing.T, url, branch string) string {
	t.Helper()
	sha := h.repo(t, url).Branch(branch)
	require.NotEmpty(t, sha, "branch %s of %s", branch, url)
	return sha
}

func (h *githubHost) branchExists(t *testing.T, url, branch string) bool {
	return h.repo(t, url).Branch(branch) != ""
}

func (h *githubHost) close(t *testing.T, url string, pr chainPR) {
	t.Helper()
	_, _, err := h.client.PullRequests.Edit(context.Background(), "dotnet", url[strings.LastIndex(url, "/")+1:], pr.Number, &gh.PullRequest{State: gh.String("closed")})
	require.NoError(t, err)
}

func (h *githubHost) labels() bool { return true }

func (h *githubHost) policy(t *testing.T, url string, pr chainPR, name string) (string, string) {
	t.Helper()
	combined, _, err := h.client.Repositories.GetCombinedStatus(context.Background(), "dotnet", url[strings.LastIndex(url, "/")+1:], h.head(t, url, pr.HeadBranch), nil)
	require.NoError(t, err)
	for _, st := range combined.Statuses {
		if st.GetContext() == platform.PolicyCheckPrefix+name {
			return st.GetState(), st.GetDescription()
		}
	}
	t.Fatalf("no status %q on %s: %v", platform.PolicyCheckPrefix+name, pr.URL, combined.Statuses)
	return "", ""
}

// azdoHost is the Azure DevOps double, changed through azure-devops-go-api
// (statuses as a CI pipeline posts them, an abandon as a person would).
type azdoHost struct {
	srv     *azdo.Server
	project *azdo.Project
	client  azgit.Client
	repos   map[string]*azdo.Repository
}

func newAzDOHost(t *testing.T, e *env) *azdoHost {
	srv := azdo.NewServer(t, azdo.WithPAT("maestro-pat"), azdo.WithPAT("ci-pat"))
	e.environ = append(e.environ, "MAESTRO_AZDO_TOKEN=maestro-pat", "MAESTRO_AZDO_SERVER_URLS="+srv.OrganizationURL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true")
	client, err := azgit.NewClient(context.Background(), azuredevops.NewPatConnection(srv.OrganizationURL(), "ci-pat"))
	require.NoError(t, err)
	return &azdoHost{srv: srv, project: srv.AddProject("internal"), client: client, repos: map[string]*azdo.Repository{}}
}

func (h *azdoHost) addRepo(t *testing.T, i int, files map[string]string) string {
	r := h.srv.AddRepository(h.project, fmt.Sprintf("r%d", i))
	data := map[string][]byte{}
	for name, content := range files {
		data[name] = []byte(content)
	}
	r.Commit("main", data, "initial")
	h.repos[r.WebURL()] = r
	return r.WebURL()
}

func (h *azdoHost) repo(t *testing.T, url string) *azdo.Repository {
	t.Helper()
	r := h.repos[url]
	require.NotNil(t, r, url)
	return r
}

func (h *azdoHost) prs(t *testing.T, url string) []chainPR {
	t.Helper()
	r := h.repo(t, url)
	var out []chainPR
	for _, p := range h.srv.PullRequests() {
		if p.Repository == nil || *p.Repository.Name != r.Name {
			continue
		}
		cp := chainPR{Number: *p.PullRequestId, URL: fmt.Sprintf("%s/pullrequest/%d", url, *p.PullRequestId), Title: *p.Title, Body: deref(p.Description),
			HeadBranch: strings.TrimPrefix(*p.SourceRefName, "refs/heads/"), State: maestro.PullRequestOpen, Labels: append([]string{}, p.Labels...)}
		switch *p.Status {
		case azgit.PullRequestStatusValues.Completed:
			cp.State = maestro.PullRequestMerged
			if p.LastMergeCommit != nil {
				cp.MergeCommit = *p.LastMergeCommit.CommitId
			}
		case azgit.PullRequestStatusValues.Abandoned:
			cp.State = maestro.PullRequestClosed
		}
		for _, th := range p.Threads {
			for _, c := range *th.Comments {
				cp.Comments = append(cp.Comments, deref(c.Content))
			}
		}
		out = append(out, cp)
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func (h *azdoHost) setCheck(t *testing.T, url string, pr chainPR, success bool) {
	t.Helper()
	state := azgit.GitStatusStateValues.Pending
	if success {
		state = azgit.GitStatusStateValues.Succeeded
	}
	_, err := h.client.CreatePullRequestStatus(context.Background(), azgit.CreatePullRequestStatusArgs{Project: &h.project.Name, RepositoryId: &h.repo(t, url).Name,
		PullRequestId: &pr.Number, Status: &azgit.GitPullRequestStatus{State: &state, Context: &azgit.GitStatusContext{Genre: gh.String("ci"), Name: gh.String("build")}}})
	require.NoError(t, err)
}

func (h *azdoHost) file(t *testing.T, url, branch, path string) string {
	t.Helper()
	data, err := h.repo(t, url).ReadFile(branch, path)
	require.NoError(t, err)
	return string(data)
}

func (h *azdoHost) head(t *testing.T, url, branch string) string {
	t.Helper()
	sha := h.repo(t, url).Head(branch)
	require.NotEmpty(t, sha, "branch %s of %s", branch, url)
	return sha
}

func (h *azdoHost) branchExists(t *testing.T, url, branch string) bool {
	return h.repo(t, url).Head(branch) != ""
}

func (h *azdoHost) close(t *testing.T, url string, pr chainPR) {
	t.Helper()
	abandoned := azgit.PullRequestStatusValues.Abandoned
	_, err := h.client.UpdatePullRequest(context.Background(), azgit.UpdatePullRequestArgs{Project: &h.project.Name, RepositoryId: &h.repo(t, url).Name,
		PullRequestId: &pr.Number, GitPullRequestToUpdate: &azgit.GitPullRequest{Status: &abandoned}})
	require.NoError(t, err)
}

func (h *azdoHost) labels() bool { return true }

func (h *azdoHost) policy(t *testing.T, url string, pr chainPR, name string) (string, string) {
	t.Helper()
	snap, ok := h.srv.PullRequest(pr.Number)
	require.True(t, ok, pr.URL)
	for i := len(snap.Statuses) - 1; i >= 0; i-- {
		st := snap.Statuses[i]
		if st.Context != nil && deref(st.Context.Genre) == platform.PolicyStatusGenre && deref(st.Context.Name) == name {
			state := map[azgit.GitStatusState]string{azgit.GitStatusStateValues.Pending: "pending", azgit.GitStatusStateValues.Succeeded: "success",
				azgit.GitStatusStateValues.Failed: "failure"}[deref(st.State)]
			return state, deref(st.Description)
		}
	}
	t.Fatalf("no status %s/%s on %s", platform.PolicyStatusGenre, name, pr.URL)
	return "", ""
}

// specChain is a four-repository product on a host: r[0] takes Arcade (a
// normal everyBuild subscription, whose pull request is the upstream pull
// request), and r[i] takes package Pkg{i-1} of r[i-1] through a
// subscription that opts in to speculative flow, gated by
// AllChecksSuccessful.
type specChain struct {
	e    *env
	h    chainHost
	dir  string
	r    [4]string
	subs [4]maestro.Subscription // subs[0]: Arcade → r[0]
	ado  int                     // the next Azure DevOps build id
	min  int                     // the ticks run
}

// tick runs `flow tick` 13 hours after the last one (from 2099: every
// check and poll scheduled before is due).
func (c *specChain) tick(t *testing.T) string {
	t.Helper()
	r := c.tickResult(t)
	require.Equal(t, 0, r.code, "flow tick: %s\n%s", r.stderr, r.stdout)
	return r.stdout
}

// tickResult is tick that may fail.
func (c *specChain) tickResult(t *testing.T) result {
	t.Helper()
	c.min++
	at := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(c.min) * 13 * time.Hour)
	return c.e.run("flow", "tick", "--now", at.Format(time.RFC3339))
}

func newSpecChain(t *testing.T, e *env, h chainHost) *specChain {
	c := &specChain{e: e, h: h, dir: t.TempDir(), ado: 100}
	e.ok("channel", "add", "--name", "dev")
	e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", "dev")
	for i := range c.r {
		name, uri := "Microsoft.DotNet.Arcade.Sdk", "https://github.com/dotnet/arcade"
		if i > 0 {
			name, uri = fmt.Sprintf("Pkg%d", i-1), c.r[i-1]
		}
		c.r[i] = h.addRepo(t, i, map[string]string{"eng/Version.Details.xml": fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
    <Dependency Name="%s" Version="1.0.0">
      <Uri>%s</Uri>
      <Sha>0000000000000000000000000000000000000001</Sha>
    </Dependency>
  </ProductDependencies>
  <ToolsetDependencies>
  </ToolsetDependencies>
</Dependencies>
`, name, uri)})
		e.ok("default-channel", "add", "--repository", c.r[i], "--branch", "main", "--channel", "dev")
		args := []string{"subscription", "add", "--channel", "dev", "--source-repo", uri, "--target-repo", c.r[i], "--target-branch", "main",
			"--update-frequency", "everyBuild", "--merge-policy", "AllChecksSuccessful"}
		if i > 0 {
			args = append(args, "--speculative")
		}
		e.okJSON(&c.subs[i], args...)
	}
	return c
}

// publish records a build of repo with package pkg@version; pr, when set,
// makes it a speculative build of that pull request at head.
func (c *specChain) publish(t *testing.T, repo, branch, commit, pkg string, pr string) string {
	t.Helper()
	c.ado++
	m := writeFile(t, c.dir, fmt.Sprintf("m%d.xml", c.ado), manifestSpec{repo: repo, branch: branch, commit: commit, azdoBuildID: c.ado,
		packages: []string{pkg}}.xml())
	args := []string{"publish", "--manifest", m}
	if pr != "" {
		args = append(args, "--speculative", "--pull-request", pr, "--pull-request-head", commit, "--target-branch", "main")
	}
	r := c.e.run(args...)
	require.Equal(t, 0, r.code, r.stderr)
	return r.stderr
}

// openSpeculative opens the upstream pull request (a build of Arcade into
// r[0]) and publishes its speculative build, which opens repository 1's
// speculative pull request; it returns both.
func (c *specChain) openSpeculative(t *testing.T) (up, spec chainPR) {
	t.Helper()
	c.publish(t, "https://github.com/dotnet/arcade", "main", sha(1), "Microsoft.DotNet.Arcade.Sdk@2.0.0", "")
	up = c.only(t, 0, maestro.PullRequestOpen)
	c.publish(t, c.r[0], up.HeadBranch, c.h.head(t, c.r[0], up.HeadBranch), "Pkg0@2.0.0-pr.1", up.URL)
	return up, c.only(t, 1, maestro.PullRequestOpen)
}

// only returns the one pull request of repository i in state st.
func (c *specChain) only(t *testing.T, i int, st maestro.PullRequestState) chainPR {
	t.Helper()
	var found []chainPR
	for _, p := range c.h.prs(t, c.r[i]) {
		if p.State == st {
			found = append(found, p)
		}
	}
	require.Len(t, found, 1, "repository %d: %s pull requests", i, st)
	return found[0]
}

func (c *specChain) check(t *testing.T, i int, pr chainPR, success bool) {
	t.Helper()
	c.h.setCheck(t, c.r[i], pr, success)
}

// green reports pr's check "build" succeeded.
func (c *specChain) green(t *testing.T, i int, pr chainPR) {
	t.Helper()
	c.check(t, i, pr, true)
}

// prs lists the pull requests of repository i.
func (c *specChain) prs(t *testing.T, i int) []chainPR {
	t.Helper()
	return c.h.prs(t, c.r[i])
}

// labelled asserts that pr carries the label speculative, where the host
// has labels, exactly when want.
func (c *specChain) labelled(t *testing.T, pr chainPR, want bool) {
	t.Helper()
	if !c.h.labels() {
		return
	}
	if want {
		assert.Equal(t, []string{"speculative"}, pr.Labels, pr.URL)
	} else {
		assert.Empty(t, pr.Labels, pr.URL)
	}
}

// ciChain plays the CI of the speculative pull requests of repositories 1
// and 2: each publishes a speculative build of its pull request with
// version v, which flows one repository further down.
func (c *specChain) ciChain(t *testing.T, v string) {
	t.Helper()
	for i := 1; i <= 2; i++ {
		pr := c.only(t, i, maestro.PullRequestOpen)
		out := c.publish(t, c.r[i], pr.HeadBranch, c.h.head(t, c.r[i], pr.HeadBranch), fmt.Sprintf("Pkg%d@%s", i, v), pr.URL)
		assert.Contains(t, out, "subscription "+c.subs[i+1].ID)
	}
}

// TestSpeculativeChain: a four-repository chain on the local platform and
// on the GitHub and Azure DevOps doubles. An upstream pull request's build
// opens speculative pull requests down the chain (labelled where the host
// has labels); the gate holds them with their checks green; a new upstream
// push updates the chain in place; the upstream merge moves each to the
// mainline build of the merged commit (its marks removed), and each merges
// by policy in turn. A second upstream pull request closed without merging
// closes its descendants with a comment and deletes their branches.
func TestSpeculativeChain(t *testing.T) {
	hosts := []struct {
		name string
		host func(t *testing.T, e *env) chainHost
	}{
		{"local", func(t *testing.T, e *env) chainHost { return localHost{e} }},
		{"github", func(t *testing.T, e *env) chainHost { return newGitHubHost(t, e) }},
		{"azdo", func(t *testing.T, e *env) chainHost { return newAzDOHost(t, e) }},
	}
	for _, tt := range hosts {
		t.Run(tt.name, func(t *testing.T) {
			e := newLocal(t)
			speculativeChain(t, e, newSpecChain(t, e, tt.host(t, e)))
		})
	}
}

func speculativeChain(t *testing.T, e *env, c *specChain) {
	h := c.h
	// The upstream pull request: Arcade's build into r[0], its check pending.
	c.publish(t, "https://github.com/dotnet/arcade", "main", sha(1), "Microsoft.DotNet.Arcade.Sdk@2.0.0", "")
	up := c.only(t, 0, maestro.PullRequestOpen)
	c.check(t, 0, up, false)

	// Its CI: a speculative build flows to r[1]; the chain forms below.
	out := c.publish(t, c.r[0], up.HeadBranch, h.head(t, c.r[0], up.HeadBranch), "Pkg0@2.0.0-pr.1", up.URL)
	assert.Contains(t, out, "subscription "+c.subs[1].ID)
	c.ciChain(t, "2.0.0-pr.1")
	var spec [4]chainPR
	for i := 1; i <= 3; i++ {
		spec[i] = c.only(t, i, maestro.PullRequestOpen)
		assert.True(t, strings.HasPrefix(spec[i].Title, "[speculative] "), spec[i].Title)
		assert.Contains(t, spec[i].Body, "## Speculative")
		assert.Contains(t, spec[i].Body, "1. "+up.URL)
		c.labelled(t, spec[i], true)
		assert.Contains(t, h.file(t, c.r[i], spec[i].HeadBranch, "eng/Version.Details.xml"), fmt.Sprintf(`Name="Pkg%d" Version="2.0.0-pr.1"`, i-1))
		c.check(t, i, spec[i], true)
	}
	assert.Contains(t, spec[3].Body, "2. "+spec[1].URL)
	assert.Contains(t, spec[3].Body, "3. "+spec[2].URL)

	// The gate holds them, checks green.
	c.tick(t)
	for i := 1; i <= 3; i++ {
		pr := c.only(t, i, maestro.PullRequestOpen)
		state, msg := h.policy(t, c.r[i], pr, "SpeculativeParentsMerged")
		assert.Equal(t, "pending", state, pr.URL)
		assert.Contains(t, msg, "Waiting for the ancestor pull requests to merge", pr.URL)
		state, msg = h.policy(t, c.r[i], pr, "AllChecksSuccessful")
		assert.Equal(t, "success", state, "%s: %s", pr.URL, msg)
	}

	// A new push upstream updates the chain in place.
	c.check(t, 0, up, false)
	c.publish(t, c.r[0], up.HeadBranch, sha(77), "Pkg0@2.0.0-pr.2", up.URL)
	c.ciChain(t, "2.0.0-pr.2")
	for i := 1; i <= 3; i++ {
		prs := h.prs(t, c.r[i])
		require.Len(t, prs, 1, "repository %d: one pull request, updated in place", i)
		assert.Equal(t, spec[i].Number, prs[0].Number)
		c.labelled(t, prs[0], true)
		assert.Contains(t, h.file(t, c.r[i], prs[0].HeadBranch, "eng/Version.Details.xml"), fmt.Sprintf(`Name="Pkg%d" Version="2.0.0-pr.2"`, i-1))
		c.check(t, i, prs[0], true)
	}

	// The upstream merges: each pull request below moves to the mainline
	// build of its parent's merged commit and merges by policy, in turn.
	c.check(t, 0, up, true)
	t.Log(c.tick(t))
	merged := c.only(t, 0, maestro.PullRequestMerged)
	require.NotEmpty(t, merged.MergeCommit)
	parentCommit := merged.MergeCommit
	// Before the mainline build of the merged commit is published, the
	// gate still holds the child: it carries a build of a pull request.
	c.tick(t)
	for i := 1; i <= 3; i++ {
		pr := c.only(t, i, maestro.PullRequestOpen)
		state, msg := h.policy(t, c.r[i], pr, "SpeculativeParentsMerged")
		assert.Equal(t, "pending", state, "%s: %s", pr.URL, msg)
		if i == 1 {
			assert.Contains(t, msg, "Waiting for the move to the mainline build", pr.URL)
		}
	}
	for i := 1; i <= 3; i++ {
		out := c.publish(t, c.r[i-1], "main", parentCommit, fmt.Sprintf("Pkg%d@2.0.0", i-1), "")
		assert.Contains(t, out, "subscription "+c.subs[i].ID)
		pr := c.only(t, i, maestro.PullRequestOpen)
		assert.Equal(t, spec[i].Number, pr.Number, "moved in place, no new pull request")
		assert.False(t, strings.HasPrefix(pr.Title, "[speculative]"), pr.Title)
		assert.NotContains(t, pr.Body, "## Speculative")
		c.labelled(t, pr, false)
		assert.Contains(t, h.file(t, c.r[i], pr.HeadBranch, "eng/Version.Details.xml"), fmt.Sprintf(`Name="Pkg%d" Version="2.0.0"`, i-1))
		c.check(t, i, pr, true)
		c.tick(t)
		done := c.only(t, i, maestro.PullRequestMerged)
		require.NotEmpty(t, done.MergeCommit)
		parentCommit = done.MergeCommit
	}
	var all []maestro.SpeculativePullRequest
	e.okJSON(&all, "speculative", "status", "--pull-request", up.URL)
	require.Len(t, all, 3)
	for i, sp := range all {
		assert.Equal(t, maestro.SpeculativeMerged, sp.State, sp.PullRequestURL)
		assert.Equal(t, spec[i+1].URL, sp.PullRequestURL, "root first, down the chain")
	}
	e.okJSON(&all, "speculative", "status", "--pull-request", spec[2].URL)
	require.Len(t, all, 2, "the pull request and the one below it")

	// A second upstream pull request, closed without merging.
	c.publish(t, "https://github.com/dotnet/arcade", "main", sha(2), "Microsoft.DotNet.Arcade.Sdk@3.0.0", "")
	up2 := c.only(t, 0, maestro.PullRequestOpen)
	c.publish(t, c.r[0], up2.HeadBranch, h.head(t, c.r[0], up2.HeadBranch), "Pkg0@3.0.0-pr.1", up2.URL)
	c.ciChain(t, "3.0.0-pr.1")
	var second [4]chainPR
	for i := 1; i <= 3; i++ {
		second[i] = c.only(t, i, maestro.PullRequestOpen)
		c.labelled(t, second[i], true)
	}
	table := e.ok("speculative", "status", "--pull-request", up2.URL)
	assert.Regexp(t, `(?m)^  `+regexp.QuoteMeta(c.r[2])+`\s+`+regexp.QuoteMeta(second[2].URL)+`\s+open\s+\d+\s+waiting\s+ancestor pull request\(s\) to merge: `+regexp.QuoteMeta(up2.URL)+`, `+regexp.QuoteMeta(second[1].URL)+`$`, table)
	h.close(t, c.r[0], up2)
	c.tick(t)
	for i := 1; i <= 3; i++ {
		pr := c.only(t, i, maestro.PullRequestClosed)
		assert.Equal(t, second[i].Number, pr.Number)
		why := up2.URL + ", which this speculative pull request took changes from, was closed without merging"
		n := 0
		for _, cm := range pr.Comments {
			if strings.Contains(cm, why) {
				n++
			}
		}
		assert.Equal(t, 1, n, "one comment saying why on %s: %q", pr.URL, pr.Comments)
		assert.False(t, h.branchExists(t, c.r[i], pr.HeadBranch), "branch %s of repository %d is deleted", pr.HeadBranch, i)
	}
}

// TestSpeculativeSubscriptionTurnedOff: a speculative pull request whose
// subscription is disabled carries no newer speculative build of its
// parent (flow tick leaves it as it is, waiting for the subscription),
// carries it once enabled again, and is closed with a comment saying why,
// its branch deleted, once the subscription opts out of speculative
// builds.
func TestSpeculativeSubscriptionTurnedOff(t *testing.T) {
	e := newLocal(t)
	h := localHost{e}
	c := newSpecChain(t, e, h)
	up, spec := c.openSpeculative(t)
	version := func() string {
		return h.file(t, c.r[1], c.only(t, 1, maestro.PullRequestOpen).HeadBranch, "eng/Version.Details.xml")
	}
	require.Contains(t, version(), `Name="Pkg0" Version="2.0.0-pr.1"`)

	e.ok("subscription", "disable", "--id", c.subs[1].ID)
	c.publish(t, c.r[0], up.HeadBranch, sha(77), "Pkg0@2.0.0-pr.2", up.URL)
	c.tick(t)
	assert.Contains(t, version(), `Name="Pkg0" Version="2.0.0-pr.1"`, "a disabled subscription carries no newer speculative build")
	var status []maestro.SpeculativePullRequest
	e.okJSON(&status, "speculative", "status", "--pull-request", up.URL)
	require.Len(t, status, 1)
	assert.Equal(t, maestro.SpeculativeOpen, status[0].State)
	assert.Equal(t, fmt.Sprintf("subscription %s to be enabled (`maestro subscription enable --id %s`)", c.subs[1].ID, c.subs[1].ID), status[0].Waiting)

	e.ok("subscription", "enable", "--id", c.subs[1].ID)
	c.tick(t)
	assert.Contains(t, version(), `Name="Pkg0" Version="2.0.0-pr.2"`, "enabled again, it carries the newest one")

	// Opted out, while another git holds the branch's lock: the attempt
	// closes the pull request but cannot delete its branch, so the
	// document is not recorded closed, and the next attempt deletes it.
	e.ok("subscription", "update", "--id", c.subs[1].ID, "--speculative=false")
	lock := filepath.Join(c.r[1], "refs", "heads", spec.HeadBranch+".lock")
	require.NoError(t, os.WriteFile(lock, nil, 0o644))
	r := c.tickResult(t)
	assert.Equal(t, 1, r.code, "the failed delete is reported: %s", r.stderr)
	assert.Contains(t, r.stderr, "cannot lock ref")
	assert.True(t, h.branchExists(t, c.r[1], spec.HeadBranch), "the branch is still there while locked")
	require.NoError(t, os.Remove(lock))
	c.tick(t)
	closed := c.only(t, 1, maestro.PullRequestClosed)
	assert.Equal(t, spec.Number, closed.Number)
	assert.Equal(t, 1, strings.Count(strings.Join(closed.Comments, "\n"), "Subscription "+c.subs[1].ID+" no longer takes speculative builds"), "one comment: %q", closed.Comments)
	assert.False(t, h.branchExists(t, c.r[1], closed.HeadBranch), "its branch is deleted")
	e.okJSON(&status, "speculative", "status", "--pull-request", up.URL)
	require.Len(t, status, 1)
	assert.Equal(t, maestro.SpeculativeClosed, status[0].State)
}

// TestMovedPullRequestAdoptedOverAClosedOne: a subscription's own pull
// request closed on the host but still tracked (no check saw it yet) does
// not keep a newer mainline build from going to the subscription's open
// speculative pull request that moved to a mainline build: that one is
// updated in place, and no second open pull request appears beside it.
func TestMovedPullRequestAdoptedOverAClosedOne(t *testing.T) {
	e := newLocal(t)
	h := localHost{e}
	c := newSpecChain(t, e, h)
	// The subscription's own pull request, from a mainline build of r[0].
	c.publish(t, c.r[0], "main", h.head(t, c.r[0], "main"), "Pkg0@1.5.0", "")
	own := c.only(t, 1, maestro.PullRequestOpen)
	// A speculative pull request for an upstream pull request, which
	// merges; the mainline build of its merged commit moves it.
	c.publish(t, "https://github.com/dotnet/arcade", "main", sha(1), "Microsoft.DotNet.Arcade.Sdk@2.0.0", "")
	up := c.only(t, 0, maestro.PullRequestOpen)
	c.publish(t, c.r[0], up.HeadBranch, h.head(t, c.r[0], up.HeadBranch), "Pkg0@2.0.0-pr.1", up.URL)
	c.check(t, 0, up, true)
	c.tick(t)
	merged := c.only(t, 0, maestro.PullRequestMerged)
	c.publish(t, c.r[0], "main", merged.MergeCommit, "Pkg0@2.0.0", "")
	c.tick(t)
	var moved chainPR
	for _, pr := range c.prs(t, 1) {
		if pr.State == maestro.PullRequestOpen && pr.Number != own.Number {
			moved = pr
		}
	}
	require.NotZero(t, moved.Number, "the moved pull request: %+v", c.prs(t, 1))
	require.False(t, strings.HasPrefix(moved.Title, "[speculative]"), moved.Title)

	// A person closes the own pull request; before any check, a newer
	// mainline build comes.
	h.close(t, c.r[1], own)
	c.publish(t, c.r[0], "main", sha(99), "Pkg0@2.0.1", "")
	var open []chainPR
	for _, pr := range c.prs(t, 1) {
		if pr.State == maestro.PullRequestOpen {
			open = append(open, pr)
		}
	}
	require.Len(t, open, 1, "one open pull request: %+v", open)
	assert.Equal(t, moved.Number, open[0].Number, "the moved one, updated in place")
	assert.Contains(t, h.file(t, c.r[1], open[0].HeadBranch, "eng/Version.Details.xml"), `Name="Pkg0" Version="2.0.1"`)
}

// TestSpeculativeCloseRefusedIsTriedAgain: on GitHub, a speculative pull
// request whose subscription opted out is closed at the next attempt; when
// GitHub refuses the close (the token may comment but not change pull
// requests: 403), the pull request is not recorded closed, and once the
// token may again, a later tick closes it and deletes its branch. Before,
// the refused close was recorded closed and the pull request stayed open
// on GitHub with nothing to close it.
func TestSpeculativeCloseRefusedIsTriedAgain(t *testing.T) {
	e := newLocal(t)
	h := newGitHubHost(t, e)
	c := newSpecChain(t, e, h)
	_, spec := c.openSpeculative(t)

	e.ok("subscription", "update", "--id", c.subs[1].ID, "--speculative=false")
	h.srv.SetPermissions(githubdouble.DefaultToken, map[string]string{"administration": "write", "checks": "write", "contents": "write",
		"issues": "write", "metadata": "read", "pull_requests": "read", "repository_hooks": "write", "statuses": "write"})
	r := c.tickResult(t)
	assert.NotEqual(t, 0, r.code, "the refused close is reported")
	assert.Contains(t, r.stderr, "403 Resource not accessible")
	assert.Equal(t, spec.Number, c.only(t, 1, maestro.PullRequestOpen).Number, "still open on GitHub")

	h.srv.SetPermissions(githubdouble.DefaultToken, nil)
	c.tick(t)
	closed := c.only(t, 1, maestro.PullRequestClosed)
	assert.Equal(t, spec.Number, closed.Number, "closed by the next attempt")
	assert.False(t, h.branchExists(t, c.r[1], closed.HeadBranch), "its branch is deleted")
	n := strings.Count(strings.Join(closed.Comments, "\n"), "Subscription "+c.subs[1].ID+" no longer takes speculative builds")
	assert.True(t, n == 1 || n == 2, "the comment once, or once more after the refused close: %q", closed.Comments)
}
