package flow_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/clitest"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/cli/flow"
	engine "github.com/maestroplusplus/maestro/internal/flow"
)

// capture returns a run function that records the options it is given.
func capture[O any](got *any) func(*cli.Context, *O) error {
	return func(_ *cli.Context, o *O) error { *got = o; return nil }
}

// parse runs `maestro flow ARGS...` with run functions that capture the
// options instead of doing the work.
func parse(args string) (clitest.Result, any) {
	var got any
	res := clitest.Run(func(f *cmdutil.Factory) *cli.Command {
		return clitest.Noun("flow",
			flow.NewCmdTick(f, capture[flow.TickOptions](&got)),
			flow.NewCmdHealth(f, capture[flow.HealthOptions](&got)),
			flow.NewCmdHistory(f, capture[flow.HistoryOptions](&got)),
			flow.NewCmdExplain(f, capture[flow.ExplainOptions](&got)))
	}, append([]string{"flow"}, strings.Fields(args)...)...)
	return res, got
}

func TestParse(t *testing.T) {
	now := time.Date(2026, 12, 1, 6, 30, 0, 0, time.UTC)
	defaults := engine.HealthLimits{Failures: 3, PullRequestAge: 7 * 24 * time.Hour, PendingAge: 24 * time.Hour, Unused: 5, MirrorAge: 24 * time.Hour}
	tests := []struct {
		args string
		want any
	}{
		{"tick", &flow.TickOptions{}},
		{"tick --now 2026-12-01T06:30:00Z --output json", &flow.TickOptions{Now: now, JSON: true}},
		{"health", &flow.HealthOptions{Limits: defaults}},
		{"health --failures 1 --pr-age 48h --pending-age 90m --unused 10 --mirror-age 6h --now 2026-12-01T06:30:00Z --output json",
			&flow.HealthOptions{Limits: engine.HealthLimits{Failures: 1, PullRequestAge: 48 * time.Hour, PendingAge: 90 * time.Minute, Unused: 10, MirrorAge: 6 * time.Hour}, Now: now, JSON: true}},
		{"history", &flow.HistoryOptions{}},
		{"history --subscription s1 --build 4 --output json", &flow.HistoryOptions{SubscriptionID: "s1", BuildID: 4, JSON: true}},
		{"explain --build 4", &flow.ExplainOptions{BuildID: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			res, got := parse(tt.args)
			assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseBadInput(t *testing.T) {
	tests := []struct{ args, wantErr string }{
		{"tick --now yesterday", `invalid value "yesterday" for flag -now`},
		{"tick --output yaml", `--output "yaml": use table or json`},
		{"health --failures 0", "--failures and --unused must be at least 1, --pr-age, --pending-age and --mirror-age positive"},
		{"health --unused 0", "--failures and --unused must be at least 1"},
		{"health --pr-age 0s", "--pr-age, --pending-age and --mirror-age positive"},
		{"health --pending-age -1h", "--pr-age, --pending-age and --mirror-age positive"},
		{"health --mirror-age 0s", "--pr-age, --pending-age and --mirror-age positive"},
		{"health --pr-age week", `invalid value "week" for flag -pr-age`},
		{"health --output csv", `--output "csv"`},
		{"history --build x", `invalid value "x" for flag -build`},
		{"history --output x", `--output "x"`},
		{"explain", `Required flag "build" not set`},
		{"explain --build 1 --bogus", "flag provided but not defined: -bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			res, got := parse(tt.args)
			assert.Equal(t, cmdutil.ExitInvalid, res.Code)
			assert.Contains(t, res.ErrOut, tt.wantErr)
			assert.Equal(t, 1, strings.Count(res.ErrOut, "\n"), "the usage error is printed once: %q", res.ErrOut)
			assert.Nil(t, got, "nothing ran")
		})
	}
}
