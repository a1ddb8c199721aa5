package githubdouble_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// fixedClock is a clock that starts at a fixed instant and moves one second
// per reading, so that commit SHAs and timestamps repeat from run to run.
func fixedClock() func() time.Time {
	t := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Second)
		return t
	}
}

// fixture is a server with one repository (dotnet/runtime, main holding
// README.md and eng/Versions.props) and a client of the default user.
type fixture struct {
	srv    *githubdouble.Server
	repo   *githubdouble.Repo
	client *github.Client
}

const versionsProps = "<Project>\n  <PropertyGroup>\n    <MicrosoftNETCoreAppVersion>8.0.0</MicrosoftNETCoreAppVersion>\n  </PropertyGroup>\n</Project>\n"

func newFixture(t *testing.T, spec ...githubdouble.RepoSpec) *fixture {
	t.Helper()
	srv := githubdouble.NewServer(t, githubdouble.WithClock(fixedClock()))
	rs := githubdouble.RepoSpec{
		Owner: "dotnet", Name: "runtime",
		Files: map[string]string{"README.md": "# runtime\n", "eng/Versions.props": versionsProps},
	}
	if len(spec) > 0 {
		rs = spec[0]
	}
	return &fixture{srv: srv, repo: srv.AddRepo(rs), client: srv.Client(githubdouble.DefaultToken)}
}

// branch makes a branch from main with one commit changing file.
func (f *fixture) branch(t *testing.T, name, file, content string) string {
	t.Helper()
	return f.repo.Commit(githubdouble.CommitSpec{
		Branch: name, Message: "Change " + file,
		Files: map[string]string{file: content},
	})
}

// openPR makes a branch and opens a pull request from it into main.
func (f *fixture) openPR(t *testing.T, branch string) *github.PullRequest {
	t.Helper()
	f.branch(t, branch, "eng/Versions.props", strings.Replace(versionsProps, "8.0.0", "8.0.1-"+branch, 1))
	pr, _, err := f.client.PullRequests.Create(t.Context(), "dotnet", "runtime", &github.NewPullRequest{
		Title: github.String("[main] Update dependencies from dotnet/arcade"),
		Head:  github.String(branch),
		Base:  github.String("main"),
		Body:  github.String("body of " + branch),
	})
	if err != nil {
		t.Fatalf("create pull request from %s: %v", branch, err)
	}
	return pr
}

// wantAPIError asserts that err is GitHub's error response with the status
// code and message, and returns it.
func wantAPIError(t *testing.T, err error, status int, message string) *github.ErrorResponse {
	t.Helper()
	var er *github.ErrorResponse
	if !errors.As(err, &er) {
		t.Fatalf("got error %v (%T), want *github.ErrorResponse %d %q", err, err, status, message)
	}
	if er.Response.StatusCode != status || er.Message != message {
		t.Fatalf("got %d %q, want %d %q (%v)", er.Response.StatusCode, er.Message, status, message, er)
	}
	if !strings.HasPrefix(er.DocumentationURL, "https://docs.github.com/rest") {
		t.Fatalf("documentation_url %q is not GitHub's", er.DocumentationURL)
	}
	return er
}

// wantFieldError asserts that a 422 Validation Failed carries exactly one
// error with the resource, field, code and message.
func wantFieldError(t *testing.T, err error, want github.Error) {
	t.Helper()
	er := wantAPIError(t, err, 422, "Validation Failed")
	if len(er.Errors) != 1 || er.Errors[0] != want {
		t.Fatalf("errors %+v, want [%+v]", er.Errors, want)
	}
}

// git runs the git CLI isolated from the machine's configuration.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := gitErr(dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func gitErr(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_TERMINAL_PROMPT=0", "LC_ALL=C",
		"GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com",
	)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
