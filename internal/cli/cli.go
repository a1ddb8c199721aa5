// Package cli assembles the maestro command line: the root command, its
// subcommands (one package per noun), and the mapping of errors to exit codes.
package cli

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/build"
	"github.com/maestroplusplus/maestro/internal/cli/channel"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	configcmd "github.com/maestroplusplus/maestro/internal/cli/config"
	"github.com/maestroplusplus/maestro/internal/cli/demo"
	depscmd "github.com/maestroplusplus/maestro/internal/cli/deps"
	flowcmd "github.com/maestroplusplus/maestro/internal/cli/flow"
	"github.com/maestroplusplus/maestro/internal/cli/policy"
	"github.com/maestroplusplus/maestro/internal/cli/pr"
	"github.com/maestroplusplus/maestro/internal/cli/publish"
	registrycmd "github.com/maestroplusplus/maestro/internal/cli/registry"
	"github.com/maestroplusplus/maestro/internal/cli/subscription"
	"github.com/maestroplusplus/maestro/internal/store/storeurl"
)

// Version is the maestro version, set at link time (-X).
var Version = "dev"

// DefaultFactory is the Factory of the real binary: process streams and
// environment, the wall clock, stores opened by URL.
func DefaultFactory() *cmdutil.Factory {
	return &cmdutil.Factory{
		IO:        cmdutil.IO{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr},
		Getenv:    os.Getenv,
		Now:       time.Now,
		OpenStore: storeurl.Open,
	}
}

// NewApp returns the root command.
func NewApp(f *cmdutil.Factory) *cli.App {
	return &cli.App{
		Name:    "maestro",
		Usage:   "dependency flow for multi-repository products",
		Version: Version,
		Description: `Maestro++ records official builds and their assets in a Build Asset Registry,
assigns them to channels, and flows them to the repositories that subscribe.

The registry lives in a store: --store file:///path, --store azblob://CONTAINER
(account from AZURE_STORAGE_CONNECTION_STRING), or $MAESTRO_STORE; by default a
local directory (see README).`,
		Writer:                 f.IO.Out,
		ErrWriter:              f.IO.ErrOut,
		Reader:                 f.IO.In,
		HideHelpCommand:        true,
		UseShortOptionHandling: false,
		ExitErrHandler:         func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return cmdutil.UsageErrorf("%v", err)
		},

		Commands: []*cli.Command{
			publish.NewCmd(f, nil),
			channel.NewCmd(f),
			channel.NewDefaultCmd(f),
			subscription.NewCmd(f),
			policy.NewCmd(f),
			build.NewCmd(f),
			build.NewAssetCmd(f),
			configcmd.NewCmd(f),
			depscmd.NewCmd(f),
			flowcmd.NewCmd(f),
			pr.NewCmd(f),
			demo.NewCmd(f),
			registrycmd.NewCmd(f, nil, nil),
		},
	}
}

// Main runs the command line args (args[0] is the program name) and returns
// the exit code. Errors are reported on f.IO.ErrOut, one line each.
func Main(ctx context.Context, args []string, f *cmdutil.Factory) int {
	app := NewApp(f)
	started := false
	markActions(app.Commands, &started)
	err := app.RunContext(ctx, interspersed(app.Commands, args))
	if err == nil {
		return cmdutil.ExitOK
	}
	if !started {
		// The command line did not parse (unknown flag, missing required flag):
		// urfave/cli has printed the usage; this is bad input.
		err = cmdutil.UsageErrorf("%v", err)
		if name, ok := strings.CutPrefix(err.Error(), "No help topic for "); ok {
			err = cmdutil.UsageErrorf("unknown command %s; `maestro --help` lists the commands", name)
		}
	}
	cmdutil.ReportError(f.IO.ErrOut, err, f.Getenv)
	return cmdutil.ExitCode(err)
}

// markActions wraps every command's action so that Main can tell a failed
// action from a command line that never reached one.
func markActions(cmds []*cli.Command, started *bool) {
	for _, c := range cmds {
		markActions(c.Subcommands, started)
		if c.Action == nil {
			continue
		}
		action := c.Action
		c.Action = func(ctx *cli.Context) error {
			*started = true
			return action(ctx)
		}
	}
}
