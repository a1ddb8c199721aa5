package policy_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	maestrocli "github.com/maestroplusplus/maestro/internal/cli"
	"github.com/maestroplusplus/maestro/internal/cli/clitest"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/cli/policy"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
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
			&policy.SetOptions{Policy: maestro.RepositoryBranchPolicy{Repository: repo, Branch: "main", AutoMerge: true, MergeMethod: "squash", MergePolicies: []maestro.MergePolicy{}}}},
		{[]string{"set", "--repository", repo, "--branch", "main", "--merge-policy", "Standard",
			"--merge-policy", `AllChecksSuccessful:{"ignoreChecks":["license/cla"]}`, "--auto-merge=off", "--output", "json"},
			&policy.SetOptions{JSON: true, Policy: maestro.RepositoryBranchPolicy{Repository: repo, Branch: "main", MergeMethod: "squash", MergePolicies: []maestro.MergePolicy{
				{Name: "Standard"},
				{Name: "AllChecksSuccessful", Properties: map[string]any{"ignoreChecks": []any{"license/cla"}}},
			}}}},
		{[]string{"set", "--repository", repo, "--branch", "main", "--auto-merge", "ON", "--merge-method", "native"},
			&policy.SetOptions{Policy: maestro.RepositoryBranchPolicy{Repository: repo, Branch: "main", AutoMerge: true, MergeMethod: "native", MergePolicies: []maestro.MergePolicy{}}}},
		{[]string{"set", "--repository", repo, "--branch", "main", "--auto-merge", "Off", "--merge-method=Native"},
			&policy.SetOptions{Policy: maestro.RepositoryBranchPolicy{Repository: repo, Branch: "main", MergeMethod: "native", MergePolicies: []maestro.MergePolicy{}}}},
		{[]string{"set", "--repository", repo, "--branch", "main", "--merge-method", "SQUASH", "--auto-merge", "on"},
			&policy.SetOptions{Policy: maestro.RepositoryBranchPolicy{Repository: repo, Branch: "main", AutoMerge: true, MergeMethod: "squash", MergePolicies: []maestro.MergePolicy{}}}},
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
		{[]string{"set", "--repository", "r", "--branch", "b", "--auto-merge=false"}, `--auto-merge "false": use on or off`},
		{[]string{"set", "--repository", "r", "--branch", "b", "--auto-merge", "yes"}, `--auto-merge "yes": use on or off`},
		{[]string{"set", "--repository", "r", "--branch", "b", "--auto-merge", ""}, `--auto-merge "": use on or off`},
		{[]string{"set", "--repository", "r", "--branch", "b", "--auto-merge", "--merge-method", "native"}, `--auto-merge "--merge-method": use on or off`},
		{[]string{"set", "--repository", "r", "--branch", "b", "--merge-method", "rebase"}, `--merge-method "rebase": use squash or native`},
		{[]string{"set", "--repository", "r", "--branch", "b", "--merge-method", ""}, `--merge-method "": use squash or native`},
		{[]string{"set", "--repository", "r", "--branch", "b", "--auto-merge"}, `flag needs an argument: -auto-merge`},
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

// runOn runs `maestro repository-policy ARGS...` for real on the registry
// in st.
func runOn(t *testing.T, st store.Store, args ...string) clitest.Result {
	t.Helper()
	f, out, errOut := clitest.Factory()
	f.OpenStore = func(context.Context, string, func(string) string) (store.Store, error) { return st, nil }
	app := maestrocli.NewApp(f)
	app.Commands = []*cli.Command{policy.NewCmd(f)}
	code := maestrocli.RunApp(context.Background(), app, append([]string{"maestro", "repository-policy"}, args...), f)
	return clitest.Result{Code: code, Out: out.String(), ErrOut: errOut.String()}
}

// TestAutoMergeAndMergeMethod: set stores --auto-merge and --merge-method
// (set replaces the policy: left out, they are on and squash again), get and
// list show them in text and JSON, and a bad value writes nothing.
func TestAutoMergeAndMergeMethod(t *testing.T) {
	st := mem.New()
	_, _, err := registry.New(st).Init(context.Background())
	require.NoError(t, err)
	const repo = "https://github.com/dotnet/runtime"
	ok := func(args ...string) string {
		t.Helper()
		r := runOn(t, st, args...)
		require.Equal(t, cmdutil.ExitOK, r.Code, r.ErrOut)
		return r.Out
	}
	get := func(branch string) maestro.RepositoryBranchPolicy {
		t.Helper()
		var p maestro.RepositoryBranchPolicy
		require.NoError(t, json.Unmarshal([]byte(ok("get", "--repository", repo, "--branch", branch, "--output", "json")), &p))
		return p
	}

	out := ok("set", "--repository", repo, "--branch", "main", "--merge-policy", "Standard", "--auto-merge", "off", "--merge-method", "native")
	assert.Regexp(t, `(?m)^auto-merge: +off$`, out)
	assert.Regexp(t, `(?m)^merge method: +native \(the host's auto-merge / auto-complete\)$`, out)
	p := get("main")
	assert.False(t, p.AutoMerge)
	assert.Equal(t, maestro.MergeMethodNative, p.MergeMethod)

	ok("set", "--repository", repo, "--branch", "release/10.0", "--auto-merge", "ON")
	out = ok("get", "--repository", repo, "--branch", "release/10.0")
	assert.Regexp(t, `(?m)^auto-merge: +on$`, out)
	assert.Regexp(t, `(?m)^merge method: +squash \(squash merge, branch deleted\)$`, out)
	raw := ok("get", "--repository", repo, "--branch", "release/10.0", "--output", "json")
	assert.Contains(t, raw, `"autoMerge": true`)
	assert.Contains(t, raw, `"mergeMethod": "squash"`, "JSON spells the default method out")

	assert.Equal(t, ""+
		"REPOSITORY                         BRANCH        POLICIES  AUTO-MERGE  MERGE-METHOD\n"+
		"https://github.com/dotnet/runtime  main          Standard  off         native\n"+
		"https://github.com/dotnet/runtime  release/10.0            on          squash\n", ok("list"))
	var all []maestro.RepositoryBranchPolicy
	require.NoError(t, json.Unmarshal([]byte(ok("list", "--output", "json")), &all))
	require.Len(t, all, 2)
	assert.Equal(t, [2]string{"native", "squash"}, [2]string{all[0].MergeMethod, all[1].MergeMethod})
	assert.Equal(t, [2]bool{false, true}, [2]bool{all[0].AutoMerge, all[1].AutoMerge})

	for _, bad := range [][]string{{"--auto-merge", "false"}, {"--merge-method", "rebase"}} {
		r := runOn(t, st, append([]string{"set", "--repository", repo, "--branch", "main"}, bad...)...)
		assert.Equal(t, cmdutil.ExitInvalid, r.Code, r.ErrOut)
		assert.Empty(t, r.Out)
		p = get("main")
		assert.Equal(t, [2]any{false, "native"}, [2]any{p.AutoMerge, p.MergeMethod}, "%v wrote nothing", bad)
	}

	// set replaces the whole policy: flags left out take their defaults.
	ok("set", "--repository", repo, "--branch", "main")
	p = get("main")
	assert.True(t, p.AutoMerge)
	assert.Equal(t, maestro.MergeMethodSquash, p.MergeMethod)
	assert.Empty(t, p.MergePolicies)
}
