package channel_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/channel"
	"github.com/maestroplusplus/maestro/internal/cli/clitest"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
)

// capture returns a run function that records the options it is given.
func capture[O any](got *any) func(*cli.Context, *O) error {
	return func(_ *cli.Context, o *O) error { *got = o; return nil }
}

// parse runs `maestro ARGS...` with `channel` and `default-channel` commands
// whose run functions capture the options instead of doing the work.
func parse(args string) (clitest.Result, any) {
	var got any
	res := clitest.RunAll(func(f *cmdutil.Factory) []*cli.Command {
		return []*cli.Command{
			clitest.Noun("channel",
				channel.NewCmdAdd(f, capture[channel.AddOptions](&got)),
				channel.NewCmdList(f, capture[channel.ListOptions](&got)),
				channel.NewCmdDelete(f, capture[channel.DeleteOptions](&got))),
			clitest.Noun("default-channel",
				channel.NewCmdDefaultAdd(f, capture[channel.DefaultAddOptions](&got)),
				channel.NewCmdDefaultList(f, capture[channel.DefaultListOptions](&got)),
				channel.NewCmdDefaultDelete(f, capture[channel.DefaultDeleteOptions](&got)),
				channel.NewCmdDefaultEnable(f, capture[channel.DefaultEnableOptions](&got)),
				channel.NewCmdDefaultDisable(f, capture[channel.DefaultEnableOptions](&got))),
		}
	}, strings.Fields(args)...)
	return res, got
}

func TestParse(t *testing.T) {
	tests := []struct {
		args string
		want any
	}{
		{"channel add --name dev", &channel.AddOptions{Name: "dev", Classification: "dev"}},
		{"channel add --name net10 --classification product --output json", &channel.AddOptions{Name: "net10", Classification: "product", JSON: true}},
		{"channel list", &channel.ListOptions{}},
		{"channel list --output json --store file:///s", &channel.ListOptions{JSON: true}},
		{"channel delete --name 11", &channel.DeleteOptions{Name: "11"}},
		{"default-channel add --repository https://github.com/dotnet/runtime --branch main --channel dev",
			&channel.DefaultAddOptions{Repository: "https://github.com/dotnet/runtime", Branch: "main", Channel: "dev"}},
		{"default-channel add --repository r --branch -regex:^release/.*$ --channel 3 --disabled --output json",
			&channel.DefaultAddOptions{Repository: "r", Branch: "-regex:^release/.*$", Channel: "3", Disabled: true, JSON: true}},
		{"default-channel list", &channel.DefaultListOptions{}},
		{"default-channel list --repository r --output json", &channel.DefaultListOptions{Repository: "r", JSON: true}},
		{"default-channel delete --id 4", &channel.DefaultDeleteOptions{ID: 4}},
		{"default-channel enable --id 4", &channel.DefaultEnableOptions{ID: 4, Enabled: true}},
		{"default-channel disable --id 4", &channel.DefaultEnableOptions{ID: 4}},
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
		{"channel add", `Required flag "name" not set`},
		{"channel add --name dev --output yaml", `--output "yaml": use table or json`},
		{"channel list --output xml", `--output "xml"`},
		{"channel list --bogus", "flag provided but not defined: -bogus; `maestro channel list --help` shows the usage"},
		{"channel delete", `Required flag "name" not set`},
		{"default-channel add --repository r --branch main", `Required flag "channel" not set`},
		{"default-channel add --repository r --branch main --channel c --output j", `--output "j"`},
		{"default-channel list --output x", `--output "x"`},
		{"default-channel delete --id four", `invalid value "four" for flag -id`},
		{"default-channel enable", `Required flag "id" not set`},
		{"default-channel disable --id", "flag needs an argument: -id"},
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
