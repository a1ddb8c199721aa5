package serve_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/clitest"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/cli/serve"
	"github.com/maestroplusplus/maestro/internal/server"
)

func parse(args ...string) (clitest.Result, *serve.Options) {
	var got *serve.Options
	res := clitest.Run(func(f *cmdutil.Factory) *cli.Command {
		return serve.NewCmd(f, func(_ *cli.Context, o *serve.Options) error { got = o; return nil })
	}, append([]string{"serve"}, args...)...)
	return res, got
}

func TestParse(t *testing.T) {
	tests := []struct {
		args string
		want *serve.Options
	}{
		{"", &serve.Options{}},
		{"--listen :9000 --store file:///srv/bar", &serve.Options{Flags: server.Flags{Listen: ":9000", Store: "file:///srv/bar"}}},
		{"--config /etc/maestro/serve.yaml --workers 8", &serve.Options{ConfigFile: "/etc/maestro/serve.yaml", Flags: server.Flags{Workers: 8}}},
		{"--github-webhooks", &serve.Options{Flags: server.Flags{GitHubWebhooks: new(true)}}},
		{"--github-webhooks=false", &serve.Options{Flags: server.Flags{GitHubWebhooks: new(false)}}},
		{"--azure-devops-hooks", &serve.Options{Flags: server.Flags{AzureDevOpsHooks: new(true)}}},
		{"--azure-devops-hooks=false --github-webhooks", &serve.Options{Flags: server.Flags{AzureDevOpsHooks: new(false), GitHubWebhooks: new(true)}}},
		{"--scheduler --lease-period 45s --tick-interval 5m", &serve.Options{Flags: server.Flags{Scheduler: new(true), LeasePeriod: 45 * time.Second, TickInterval: 5 * time.Minute}}},
		{"--scheduler=false", &serve.Options{Flags: server.Flags{Scheduler: new(false)}}},
		{"--heap-floor-mib 1024", &serve.Options{Flags: server.Flags{HeapFloorMiB: new(1024)}}},
		{"--heap-floor-mib 0", &serve.Options{Flags: server.Flags{HeapFloorMiB: new(0)}}},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			res, got := parse(strings.Fields(tt.args)...)
			assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseBadInput(t *testing.T) {
	tests := []struct{ args, wantErr string }{
		{"extra", `serve takes no arguments; got "extra"`},
		{"--workers 0", "--workers 0: use 1 to 256"},
		{"--workers many", `invalid value "many" for flag -workers`},
		{"--github-webhook-secret x", "flag provided but not defined: -github-webhook-secret"},
		{"--azure-devops-hook-secret x", "flag provided but not defined: -azure-devops-hook-secret"},
		{"--lease-period 10s", "--lease-period 10s: use 20s to 1m0s"},
		{"--lease-period 2m", "--lease-period 2m0s: use 20s to 1m0s"},
		{"--tick-interval 100ms", "--tick-interval 100ms: use 1s to 24h0m0s"},
		{"--heap-floor-mib -1", "--heap-floor-mib -1: use 0 to 65536"},
		{"--heap-floor-mib 65537", "--heap-floor-mib 65537: use 0 to 65536"},
		{"--tick-interval often", `invalid value "often" for flag -tick-interval`},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			res, got := parse(strings.Fields(tt.args)...)
			assert.Equal(t, cmdutil.ExitInvalid, res.Code)
			assert.Contains(t, res.ErrOut, tt.wantErr)
			assert.Nil(t, got, "nothing ran")
		})
	}
}

// TestHelpGivesTheRealDefaults: each flag's default is printed once, and
// it is the server's default, not the flag's zero value ("(default: 4)
// (default: 0)" told a reader --workers defaults to 0).
func TestHelpGivesTheRealDefaults(t *testing.T) {
	res, _ := parse("--help")
	assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	for _, line := range strings.Split(res.Out, "\n") {
		assert.LessOrEqual(t, strings.Count(line, "(default:"), 1, line)
	}
	for flag, def := range map[string]string{
		"--workers":        "(default: 4)",
		"--heap-floor-mib": "(default: 256)",
		"--lease-period":   "(default: " + server.DefaultLeasePeriod.String() + ")",
		"--tick-interval":  "(default: " + server.DefaultTickInterval.String() + ")",
		"--listen":         "(default: " + server.DefaultListen + ")",
	} {
		found := false
		for _, line := range strings.Split(res.Out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), flag+" ") {
				found = true
				assert.Contains(t, line, def)
			}
		}
		assert.True(t, found, flag)
	}
}
