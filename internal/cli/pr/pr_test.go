package pr_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/clitest"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/cli/pr"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// parse runs `maestro pr ARGS...` with run functions that capture the
// options instead of doing the work.
func parse(args ...string) (clitest.Result, *pr.ListOptions, *pr.ShowOptions) {
	res, list, show, _ := parseAll(args...)
	return res, list, show
}

func parseAll(args ...string) (clitest.Result, *pr.ListOptions, *pr.ShowOptions, *pr.SetCheckOptions) {
	var list *pr.ListOptions
	var show *pr.ShowOptions
	var check *pr.SetCheckOptions
	res := clitest.Run(func(f *cmdutil.Factory) *cli.Command {
		return clitest.Noun("pr",
			pr.NewCmdList(f, func(_ *cli.Context, o *pr.ListOptions) error { list = o; return nil }),
			pr.NewCmdShow(f, func(_ *cli.Context, o *pr.ShowOptions) error { show = o; return nil }),
			pr.NewCmdSetCheck(f, func(_ *cli.Context, o *pr.SetCheckOptions) error { check = o; return nil }))
	}, append([]string{"pr"}, args...)...)
	return res, list, show, check
}

func TestParse(t *testing.T) {
	tests := []struct {
		args     string
		wantList *pr.ListOptions
		wantShow *pr.ShowOptions
	}{
		{"list", &pr.ListOptions{}, nil},
		{"list --repository /src/app --state open --output json", &pr.ListOptions{Repository: "/src/app", State: "open", JSON: true}, nil},
		{"list --output table --store file:///s", &pr.ListOptions{}, nil},
		{"show --repository file:///src/app --number 3", nil, &pr.ShowOptions{Repository: "file:///src/app", Number: 3}},
		{"show --number 3 --output json --repository /a", nil, &pr.ShowOptions{Repository: "/a", Number: 3, JSON: true}},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			res, list, show := parse(strings.Fields(tt.args)...)
			assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
			assert.Equal(t, tt.wantList, list)
			assert.Equal(t, tt.wantShow, show)
		})
	}
}

func TestParseBadInput(t *testing.T) {
	tests := []struct{ args, wantErr string }{
		{"list --output yaml", `--output "yaml": use table or json`},
		{"list --bogus", "flag provided but not defined: -bogus; `maestro pr list --help` shows the usage"},
		{"show --repository /a", `Required flag "number" not set`},
		{"show --number 3", `Required flag "repository" not set`},
		{"show --repository /a --number three", `invalid value "three" for flag -number`},
		{"show --repository /a --number 3 --output xml", `--output "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			res, list, show := parse(strings.Fields(tt.args)...)
			assert.Equal(t, cmdutil.ExitInvalid, res.Code)
			assert.Contains(t, res.ErrOut, tt.wantErr)
			assert.Equal(t, 1, strings.Count(res.ErrOut, "\n"), "the usage error is printed once, without the help: %q", res.ErrOut)
			assert.Nil(t, list, "nothing ran")
			assert.Nil(t, show, "nothing ran")
		})
	}
}

func TestParseSetCheck(t *testing.T) {
	tests := []struct {
		args string
		want *pr.SetCheckOptions
	}{
		{"set-check --repository /src/app --number 3 --name build --state pending",
			&pr.SetCheckOptions{Repository: "/src/app", Number: 3, Check: maestro.Check{Name: "build", State: maestro.CheckPending}}},
		{"set-check --state success --name ci/test --number 12 --repository file:///a --store file:///s",
			&pr.SetCheckOptions{Repository: "file:///a", Number: 12, Check: maestro.Check{Name: "ci/test", State: maestro.CheckSuccess}}},
		{"set-check --repository /a --number 1 --name lint --state failure",
			&pr.SetCheckOptions{Repository: "/a", Number: 1, Check: maestro.Check{Name: "lint", State: maestro.CheckFailure}}},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			res, _, _, check := parseAll(strings.Fields(tt.args)...)
			assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
			assert.Equal(t, tt.want, check)
		})
	}
}

func TestParseSetCheckBadInput(t *testing.T) {
	tests := []struct{ args, wantErr string }{
		{"set-check --repository /a --number 3 --name build --state done", `--state: check state "done": use pending, success or failure`},
		{"set-check --repository /a --number 3 --name build --state Success", `check state "Success"`},
		{"set-check --repository /a --number 3 --name build", `Required flag "state" not set`},
		{"set-check --repository /a --number 3 --state pending", `Required flag "name" not set`},
		{"set-check --repository /a --name build --state pending", `Required flag "number" not set`},
		{"set-check --number 3 --name build --state pending", `Required flag "repository" not set`},
		{"set-check --repository /a --number x --name build --state pending", `invalid value "x" for flag -number`},
		{"set-check --repository /a --number 3 --name build --state pending --output json", "flag provided but not defined: -output"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			res, _, _, check := parseAll(strings.Fields(tt.args)...)
			assert.Equal(t, cmdutil.ExitInvalid, res.Code)
			assert.Contains(t, res.ErrOut, tt.wantErr)
			assert.Nil(t, check, "nothing ran")
		})
	}
}
