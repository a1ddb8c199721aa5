package githubdouble_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

func TestCloneAndPushOverHTTP(t *testing.T) {
	f := newFixture(t)
	pr := f.openPR(t, "darc-main-1")
	wt := t.TempDir()
	git(t, wt, "clone", "-q", f.repo.AuthCloneURL(githubdouble.DefaultToken), ".")
	if data, err := os.ReadFile(filepath.Join(wt, "eng", "Versions.props")); err != nil || string(data) != versionsProps {
		t.Fatalf("cloned Versions.props: %q %v", data, err)
	}
	if head := git(t, wt, "rev-parse", "HEAD"); head != f.repo.Branch("main") {
		t.Fatalf("clone HEAD %s, main %s", head, f.repo.Branch("main"))
	}

	// A new branch pushed over HTTP is a ref of the API.
	git(t, wt, "checkout", "-q", "-b", "darc-main-2")
	writeFile(t, filepath.Join(wt, "global.json"), "{}\n")
	git(t, wt, "add", ".")
	git(t, wt, "commit", "-q", "-m", "Update dependencies from dotnet/arcade build 1")
	git(t, wt, "push", "-q", "origin", "darc-main-2")
	pushed := git(t, wt, "rev-parse", "HEAD")
	ref, _, err := f.client.Git.GetRef(t.Context(), "dotnet", "runtime", "heads/darc-main-2")
	if err != nil || ref.GetObject().GetSHA() != pushed {
		t.Fatalf("ref after push: %v %s", err, github.Stringify(ref))
	}

	// A force-push to the pull request's branch moves its head.
	git(t, wt, "fetch", "-q", "origin", "darc-main-1")
	git(t, wt, "checkout", "-q", "-B", "darc-main-1", "FETCH_HEAD")
	git(t, wt, "commit", "-q", "--amend", "-m", "Rewritten")
	git(t, wt, "push", "-q", "--force", "origin", "darc-main-1")
	rewritten := git(t, wt, "rev-parse", "HEAD")
	got, _, err := f.client.PullRequests.Get(t.Context(), "dotnet", "runtime", pr.GetNumber())
	if err != nil || got.GetHead().GetSHA() != rewritten || got.GetHead().GetSHA() == pr.GetHead().GetSHA() {
		t.Fatalf("pull request head after force-push: %v %s, want %s", err, got.GetHead().GetSHA(), rewritten)
	}

	// refs/pull/N/head follows the push at once, and can be fetched but not pushed.
	git(t, wt, "commit", "-q", "--allow-empty", "-m", "Another")
	git(t, wt, "push", "-q", "origin", "darc-main-1")
	rewritten = git(t, wt, "rev-parse", "HEAD")
	git(t, wt, "fetch", "-q", "origin", "refs/pull/1/head")
	if fetched := git(t, wt, "rev-parse", "FETCH_HEAD"); fetched != rewritten {
		t.Fatalf("refs/pull/1/head fetched %s, want %s", fetched, rewritten)
	}
	out, err := gitErr(wt, "push", "origin", "HEAD:refs/pull/1/head")
	if err == nil || !strings.Contains(out, "deny updating a hidden ref") {
		t.Fatalf("push to refs/pull/1/head: %v\n%s", err, out)
	}

	// Deleting the branch by push closes the pull request.
	git(t, wt, "push", "-q", "origin", "--delete", "darc-main-1")
	if got := f.repo.PullRequest(1); got.GetState() != "closed" || got.GetMerged() {
		t.Fatalf("after the branch was deleted: %s", github.Stringify(got))
	}

	var gitRequests, pushes int
	for _, r := range f.srv.Requests() {
		if r.Git {
			gitRequests++
			if r.Status == 200 && r.Login != githubdouble.DefaultLogin {
				t.Fatalf("git request %s answered without the user: %+v", r.Path, r)
			}
			if strings.HasSuffix(r.Path, "/git-receive-pack") {
				pushes++
			}
		}
	}
	if gitRequests == 0 || pushes != 5 {
		t.Fatalf("logged %d git requests, %d pushes; want 5 pushes", gitRequests, pushes)
	}
}

func TestGitAuthentication(t *testing.T) {
	f := newFixture(t)
	f.srv.AddInstallationToken("dotnet-maestro", "ghs_app")
	plain := f.repo.CloneURL()
	for _, tc := range []struct {
		name, url string
		args      []string
		ok        bool
		output    string
	}{
		{"installation token", f.repo.AuthCloneURL("ghs_app"), nil, true, ""},
		{"without .git, other case", strings.Replace(strings.TrimSuffix(f.repo.AuthCloneURL("ghs_app"), ".git"), "/dotnet/runtime", "/DotNet/Runtime", 1), nil, true, ""},
		{"extra header", plain, []string{"-c", "http.extraHeader=Authorization: Basic eDpnaHNfYXBw"}, true, ""},
		{"no credentials", plain, nil, false, "could not read Username"},
		{"wrong token", f.repo.AuthCloneURL("ghp_wrong"), nil, false, "Authentication failed"},
		{"unknown repository", strings.Replace(f.repo.AuthCloneURL("ghs_app"), "runtime", "nope", 1), nil, false, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{}, tc.args...), "clone", "-q", tc.url, t.TempDir())
			out, err := gitErr("", args...)
			if (err == nil) != tc.ok || !strings.Contains(out, tc.output) {
				t.Fatalf("clone: %v\n%s\nwant success %v with %q", err, out, tc.ok, tc.output)
			}
		})
	}
	f.srv.RevokeToken("ghs_app")
	if out, err := gitErr("", "clone", "-q", f.repo.AuthCloneURL("ghs_app"), t.TempDir()); err == nil {
		t.Fatalf("clone with a revoked token succeeded:\n%s", out)
	}
}

func TestDumbHTTPIsNotServed(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/dotnet/runtime.git/HEAD", "/dotnet/runtime.git/objects/info/packs", "/dotnet", "/"} {
		req, err := f.client.NewRequest("GET", f.srv.URL()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := f.client.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Fatalf("%s: %d, want 404", path, resp.StatusCode)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentUse(t *testing.T) {
	f := newFixture(t)
	f.openPR(t, "darc")
	errs := make(chan error, 3)
	push := func(branch string) {
		wt := t.TempDir()
		if out, err := gitErr(wt, "clone", "-q", f.repo.AuthCloneURL(githubdouble.DefaultToken), "."); err != nil {
			errs <- fmt.Errorf("clone: %v: %s", err, out)
			return
		}
		for _, args := range [][]string{
			{"checkout", "-q", "-b", branch},
			{"commit", "-q", "--allow-empty", "-m", branch},
			{"push", "-q", "origin", branch},
		} {
			if out, err := gitErr(wt, args...); err != nil {
				errs <- fmt.Errorf("git %v: %v: %s", args, err, out)
				return
			}
		}
		errs <- nil
	}
	go push("one")
	go push("two")
	go func() {
		for range 5 {
			if _, _, err := f.client.PullRequests.Get(t.Context(), "dotnet", "runtime", 1); err != nil {
				errs <- err
				return
			}
			f.repo.AddStatus(f.repo.Branch("darc"), github.RepoStatus{State: github.String("success")})
		}
		errs <- nil
	}()
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if f.repo.Branch("one") == "" || f.repo.Branch("two") == "" {
		t.Fatal("a concurrent push was lost")
	}
}
