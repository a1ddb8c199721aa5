package build_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/build"
	"github.com/maestroplusplus/maestro/internal/cli/clitest"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
)

// capture returns a run function that records the options it is given.
func capture[O any](got *any) func(*cli.Context, *O) error {
	return func(_ *cli.Context, o *O) error { *got = o; return nil }
}

// parse runs `maestro ARGS...` with `build` and `asset` commands whose run
// functions capture the options instead of doing the work.
func parse(args string) (clitest.Result, any) {
	var got any
	res := clitest.RunAll(func(f *cmdutil.Factory) []*cli.Command {
		return []*cli.Command{
			clitest.Noun("build",
				build.NewCmdShow(f, capture[build.ShowOptions](&got)),
				build.NewCmdList(f, capture[build.ListOptions](&got)),
				build.NewCmdLatest(f, capture[build.LatestOptions](&got)),
				build.NewCmdDependents(f, capture[build.DependentsOptions](&got)),
				build.NewCmdAddToChannel(f, capture[build.ChannelOptions](&got)),
				build.NewCmdRemoveFromChannel(f, capture[build.ChannelOptions](&got)),
				build.NewCmdUpdate(f, capture[build.UpdateOptions](&got)),
				build.NewCmdGatherDrop(f, capture[build.GatherDropOptions](&got)),
				build.NewCmdPromote(f, capture[build.PromoteOptions](&got))),
			clitest.Noun("asset", build.NewCmdAssetFind(f, capture[build.FindOptions](&got))),
		}
	}, strings.Fields(args)...)
	return res, got
}

func TestParse(t *testing.T) {
	tests := []struct {
		args string
		want any
	}{
		{"build show --id 7", &build.ShowOptions{ID: 7}},
		{"build show --id 7 --output json", &build.ShowOptions{ID: 7, JSON: true}},
		{"build list", &build.ListOptions{Limit: 50}},
		{"build list --repository https://github.com/dotnet/runtime --commit abc --channel 11 --limit 5 --before 90 --output json",
			&build.ListOptions{Repository: "https://github.com/dotnet/runtime", Commit: "abc", Channel: "11", Limit: 5, Before: 90, JSON: true}},
		{"build list --limit 0", &build.ListOptions{}},
		{"build latest --repository https://github.com/dotnet/runtime", &build.LatestOptions{Repository: "https://github.com/dotnet/runtime"}},
		{"build latest --repository r --channel dev --output json", &build.LatestOptions{Repository: "r", Channel: "dev", JSON: true}},
		{"build dependents --id 3", &build.DependentsOptions{ID: 3}},
		{"build add-to-channel --id 3 --channel dev", &build.ChannelOptions{ID: 3, Channel: "dev"}},
		{"build remove-from-channel --channel 2 --id 3", &build.ChannelOptions{ID: 3, Channel: "2"}},
		{"build update --id 3 --released", &build.UpdateOptions{ID: 3, Released: true}},
		{"build update --id 3 --released=false --output json", &build.UpdateOptions{ID: 3, JSON: true}},
		{"asset find --name Contoso.Widgets", &build.FindOptions{Name: "Contoso.Widgets", Limit: 20}},
		{"build gather-drop --id 4 --output-dir drop", &build.GatherDropOptions{ID: 4, OutputDir: "drop"}},
		{"build gather-drop --id 4 --output-dir /d --include-toolset --dry-run --output json",
			&build.GatherDropOptions{ID: 4, OutputDir: "/d", IncludeToolset: true, DryRun: true, JSON: true}},
		{"build promote --id 1000000042", &build.PromoteOptions{ID: 1000000042}},
		{"build promote --id 1000000042 --channel dev --channel 3 --no-trigger --output json",
			&build.PromoteOptions{ID: 1000000042, Channels: []string{"dev", "3"}, NoTrigger: true, JSON: true}},
		{"asset find --name a --version 1.0.0 --limit 3 --output json", &build.FindOptions{Name: "a", Version: "1.0.0", Limit: 3, JSON: true}},
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
		{"build show", `Required flag "id" not set`},
		{"build show --id x", `invalid value "x" for flag -id`},
		{"build show --id 1 --output yaml", `--output "yaml": use table or json`},
		{"build list --limit -1", "--limit and --before must not be negative"},
		{"build list --before -5", "--limit and --before must not be negative"},
		{"build list --channel", "flag needs an argument: -channel"},
		{"build latest --repository r --channel=", "--channel is empty"},
		{"build latest --channel dev", `Required flag "repository" not set`},
		{"build dependents --id 1 --output csv", `--output "csv"`},
		{"build add-to-channel --id 3", `Required flag "channel" not set`},
		{"build remove-from-channel --channel dev", `Required flag "id" not set`},
		{"build update --id 3", "build update: nothing to change; pass --released or --released=false"},
		{"build update --id 3 --released --bogus", "flag provided but not defined: -bogus; `maestro build update --help` shows the usage"},
		{"asset find --version 1.0.0", `Required flag "name" not set`},
		{"build gather-drop --id 4", `Required flag "output-dir" not set`},
		{"build gather-drop --output-dir d", `Required flag "id" not set`},
		{"build gather-drop --id 0 --output-dir d", "--id 0: a BAR build id is a positive number"},
		{"build gather-drop --id -3 --output-dir d", "--id -3: a BAR build id is a positive number"},
		{"build gather-drop --id 3 --output-dir= ", "--output-dir is empty"},
		{"build promote", `Required flag "id" not set`},
		{"build promote --id 0", "--id 0: a BAR build id is a positive number"},
		{"build promote --id 1000000042 extra", `build promote takes no arguments; got "extra"`},
		{"build promote --id 1000000042 --output yaml", `--output "yaml"`},
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
