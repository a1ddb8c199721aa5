package azdo_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
)

// authHeader is how Azure Pipelines hands a token to git:
// http.extraheader="AUTHORIZATION: basic <base64(:token)>".
func authHeader(token string) string {
	return "http.extraheader=AUTHORIZATION: basic " + base64.StdEncoding.EncodeToString([]byte(":"+token))
}

func TestGitOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	jobToken := "job-token-for-git"
	e.s.AddJobToken(jobToken)
	work := t.TempDir()
	clone := filepath.Join(work, "runtime")

	// Clone with the token in an extra header, as a pipeline checkout does.
	runGit(t, work, "-c", authHeader(testPAT), "clone", "--quiet", e.repo.RemoteURL(), clone)
	if head := runGit(t, clone, "rev-parse", "HEAD"); head != e.repo.Head("main") {
		t.Errorf("cloned HEAD = %s, want %s", head, e.repo.Head("main"))
	}
	if data, err := os.ReadFile(filepath.Join(clone, "eng", "Version.Details.xml")); err != nil || string(data) != "<Dependencies />\n" {
		t.Errorf("cloned file = %q, %v", data, err)
	}

	// Commit and push a new branch with the token as the URL's password.
	if err := os.WriteFile(filepath.Join(clone, "eng", "Version.Details.xml"), []byte("<Dependencies><Pushed /></Dependencies>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runGit(t, clone, "commit", "--quiet", "-am", "Update dependencies from dotnet/arcade")
	pushURL, _ := url.Parse(e.repo.RemoteURL())
	pushURL.User = url.UserPassword("build", jobToken)
	runGit(t, clone, "push", "--quiet", pushURL.String(), "HEAD:refs/heads/darc-main-1")
	pushed := runGit(t, clone, "rev-parse", "HEAD")
	if e.repo.Head("darc-main-1") != pushed {
		t.Errorf("darc-main-1 = %q after push, want %s", e.repo.Head("darc-main-1"), pushed)
	}

	// The REST API sees the pushed branch at once, and a pull request from it
	// merges what was pushed.
	refs, err := e.git.GetRefs(e.ctx, git.GetRefsArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), Filter: ptr("heads/darc-")})
	if err != nil {
		t.Fatalf("GetRefs: %v", err)
	}
	if len(refs.Value) != 1 || *refs.Value[0].ObjectId != pushed {
		t.Errorf("refs after push = %+v", refs.Value)
	}
	pr, err := e.git.CreatePullRequest(e.ctx, git.CreatePullRequestArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"),
		GitPullRequestToCreate: &git.GitPullRequest{SourceRefName: ptr("refs/heads/darc-main-1"), TargetRefName: ptr("refs/heads/main"), Title: ptr("pushed")}})
	if err != nil {
		t.Fatalf("CreatePullRequest: %v", err)
	}
	if _, err := complete(e, *pr.PullRequestId, nil); err != nil {
		t.Fatalf("complete: %v", err)
	}
	runGit(t, clone, "-c", authHeader(testPAT), "fetch", "--quiet", "origin")
	if merged := runGit(t, clone, "show", "origin/main:eng/Version.Details.xml"); merged != "<Dependencies><Pushed /></Dependencies>" {
		t.Errorf("main after the merge = %q", merged)
	}

	// A later push to the PR branch through git updates the pull request.
	runGit(t, clone, "commit", "--quiet", "--allow-empty", "-m", "more")
	runGit(t, clone, "-c", authHeader(testPAT), "push", "--quiet", "origin", "HEAD:refs/heads/darc-main-2")
	if e.repo.Head("darc-main-2") == "" {
		t.Errorf("push with the PAT in an extra header did not create darc-main-2")
	}

	bad := []struct {
		name string
		args []string
	}{
		{name: "no credentials", args: []string{"clone", "--quiet", e.repo.RemoteURL(), filepath.Join(work, "anon")}},
		{name: "wrong token", args: []string{"-c", authHeader("wrong"), "clone", "--quiet", e.repo.RemoteURL(), filepath.Join(work, "wrong")}},
		{name: "PAT as bearer", args: []string{"-c", "http.extraheader=AUTHORIZATION: bearer " + testPAT, "clone", "--quiet", e.repo.RemoteURL(), filepath.Join(work, "bearer")}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.s.UnauthorizedRequests())
			out, err := gitCommand(work, tt.args...).CombinedOutput()
			if err == nil {
				t.Fatalf("git %s succeeded without valid credentials", strings.Join(tt.args, " "))
			}
			if !strings.Contains(string(out), "Authentication failed") && !strings.Contains(string(out), "could not read Password") {
				t.Errorf("git said %s", out)
			}
			if len(e.s.UnauthorizedRequests()) <= before {
				t.Errorf("the 401 was not recorded")
			}
		})
	}
	t.Run("job token as bearer", func(t *testing.T) {
		runGit(t, work, "-c", "http.extraheader=AUTHORIZATION: bearer "+jobToken, "clone", "--quiet", e.repo.RemoteURL(), filepath.Join(work, "job"))
	})
	t.Run("unknown repository", func(t *testing.T) {
		u := strings.Replace(e.repo.RemoteURL(), "/_git/runtime", "/_git/nope", 1)
		out, err := gitCommand(work, "-c", authHeader(testPAT), "clone", "--quiet", u, filepath.Join(work, "nope")).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "not found") {
			t.Errorf("clone of an unknown repository: %v %s", err, out)
		}
		if statusOf(e.s, http.MethodGet, "/_git/nope/info/refs") != http.StatusNotFound {
			t.Errorf("status is not 404")
		}
	})
}
