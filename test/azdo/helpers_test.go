package azdo_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/test/azdo"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/pipelines"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/policy"
)

const testPAT = "pat-for-tests-0123456789"

// env is an organization with one project and one repository whose main
// branch has a commit, and clients connected with a PAT.
type env struct {
	s       *azdo.Server
	project *azdo.Project
	repo    *azdo.Repository
	conn    *azuredevops.Connection
	git     git.Client
	build   build.Client
	pipes   pipelines.Client
	policy  policy.Client
	ctx     context.Context
}

func newEnv(t *testing.T, opts ...azdo.Option) *env {
	t.Helper()
	opts = append([]azdo.Option{azdo.WithPAT(testPAT)}, opts...)
	s := azdo.NewServer(t, opts...)
	project := s.AddProject("dnceng")
	repo := s.AddRepository(project, "runtime")
	repo.Commit("main", map[string][]byte{
		"README.md":                []byte("# runtime\n"),
		"eng/Version.Details.xml":  []byte("<Dependencies />\n"),
		"eng/pipelines/update.yml": []byte(updateYAML),
	}, "Initial commit")
	e := &env{s: s, project: project, repo: repo, ctx: context.Background()}
	e.conn = azuredevops.NewPatConnection(s.OrganizationURL(), testPAT)
	var err error
	if e.git, err = git.NewClient(e.ctx, e.conn); err != nil {
		t.Fatalf("git.NewClient: %v", err)
	}
	if e.build, err = build.NewClient(e.ctx, e.conn); err != nil {
		t.Fatalf("build.NewClient: %v", err)
	}
	e.pipes = pipelines.NewClient(e.ctx, e.conn)
	if e.policy, err = policy.NewClient(e.ctx, e.conn); err != nil {
		t.Fatalf("policy.NewClient: %v", err)
	}
	return e
}

// updateYAML is a dependency-update pipeline's YAML with the runtime
// parameters a flow queue would pass.
const updateYAML = `parameters:
- name: subscriptionId
  type: string
- name: buildId
  type: number
- name: dryRun
  type: boolean
  default: false
- name: mode
  type: string
  default: update
  values: [update, verify]

trigger: none

steps:
- script: maestro subscription apply --id ${{ parameters.subscriptionId }} --build ${{ parameters.buildId }}
`

// wrappedError returns the service error behind a client error.
func wrappedError(t *testing.T, err error) azuredevops.WrappedError {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want a service error")
	}
	var v azuredevops.WrappedError
	if errors.As(err, &v) {
		return v
	}
	var p *azuredevops.WrappedError
	if errors.As(err, &p) {
		return *p
	}
	t.Fatalf("error %v (%T) is not a WrappedError", err, err)
	return azuredevops.WrappedError{}
}

// wantError checks a client error's status code and typeKey.
func wantError(t *testing.T, err error, status int, typeKey string) azuredevops.WrappedError {
	t.Helper()
	w := wrappedError(t, err)
	if w.StatusCode == nil || *w.StatusCode != status {
		t.Errorf("status = %v, want %d (error %q)", deref(w.StatusCode), status, w.Error())
	}
	if deref(w.TypeKey) != typeKey {
		t.Errorf("typeKey = %q, want %q (error %q)", deref(w.TypeKey), typeKey, w.Error())
	}
	return w
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

// runGit runs git in dir with the machine's configuration ignored and fails
// the test on error.
func runGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := gitCommand(dir, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func gitCommand(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com",
	)
	return cmd
}

// statusOf returns the status of the last logged request whose path ends
// with suffix.
func statusOf(s *azdo.Server, method, suffix string) int {
	reqs := s.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Method == method && strings.HasSuffix(reqs[i].Path, suffix) {
			return reqs[i].Status
		}
	}
	return 0
}
