package policy_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/clitest"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/cli/policy"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// capture returns a run function that records the options it is given.
func capture[O any](got *any) func(*cli.Context, *O) error {
	return func(_ *cli.Context, o *O) error { *got = o; return nil }
}

// parse runs `maestro repository-policy ARGS...` with run functions that
// capture the options instead of doing the work. args are split on spaces.
func parse(args ...string) (clitest.Result, any) {
	var got any
	res := clitest.Run(func(f *cmdutil.Factory) *cli.Command {
		return clitest.Noun("repository-policy",
			policy.NewCmdSet(f, capture[policy.SetOptions](&got)),
			policy.NewCmdGet(f, capture[policy.GetOptions](&got)),
			policy.NewCmdList(f, capture[policy.ListOptions](&got)),
			policy.NewCmdDelete(f, capture[policy.DeleteOptions](&got)))
	}, append([]string{"repository-policy"}, args...)...)
	return res, got
}

func TestParse(t *testing.T) {
	repo := "https://github.com/dotnet/runtime"
	tests := []struct {
		args []string
		want any
	}{
		{[]string{"set", "--repository", repo, "--branch", "main"},
			&policy.SetOptions{Policy: maestro.RepositoryBranchPolicy{Repository: repo, Branch: "main", AutoMerge: true, MergePolicies: []maestro.MergePolicy{}}}},
		{[]string{"set", "--repository", repo, "--branch", "main", "--merge-policy", "Standard",
			"--merge-policy", `AllChecksSuccessful:{"ignoreChecks":["license/cla"]}`, "--auto-merge=false", "--output", "json"},
			&policy.SetOptions{JSON: true, Policy: maestro.RepositoryBranchPolicy{Repository: repo, Branch: "main", MergePolicies: []maestro.MergePolicy{
				{Name: "Standard"},
				{Name: "AllChecksSuccessful", Properties: map[string]any{"ignoreChecks": []any{"license/cla"}}},
			}}}},
		{[]string{"get", "--repository", repo, "--branch", "release/10.0"}, &policy.GetOptions{Repository: repo, Branch: "release/10.0"}},
		{[]string{"get", "--output", "json", "--branch", "b", "--repository", "r"}, &policy.GetOptions{Repository: "r", Branch: "b", JSON: true}},
		{[]string{"list"}, &policy.ListOptions{}},
		{[]string{"list", "--output", "json"}, &policy.ListOptions{JSON: true}},
		{[]string{"delete", "--repository", "r", "--branch", "b"}, &policy.DeleteOptions{Repository: "r", Branch: "b"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res, got := parse(tt.args...)
			assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseBadInput(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"set", "--repository", "r"}, `Required flag "branch" not set`},
		{[]string{"set", "--repository", "r", "--branch", "b", "--merge-policy", "Standard:{not json"}, `--merge-policy "Standard:{not json": properties must be a JSON object`},
		{[]string{"set", "--repository", "r", "--branch", "b", "--output", "yaml"}, `--output "yaml": use table or json`},
		{[]string{"get", "--branch", "b"}, `Required flag "repository" not set`},
		{[]string{"get", "--repository", "r", "--branch", "b", "--output", "x"}, `--output "x"`},
		{[]string{"list", "--output", "x"}, `--output "x"`},
		{[]string{"delete", "--repository", "r", "--branch", "b", "--bogus"}, "flag provided but not defined: -bogus"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res, got := parse(tt.args...)
			assert.Equal(t, cmdutil.ExitInvalid, res.Code)
			assert.Contains(t, res.ErrOut, tt.wantErr)
			assert.Equal(t, 1, strings.Count(res.ErrOut, "\n"), "the usage error is printed once: %q", res.ErrOut)
			assert.Nil(t, got, "nothing ran")
		})
	}
}
