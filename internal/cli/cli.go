// Package cli assembles the maestro command line: the root command, its
// subcommands (one package per noun), and the mapping of errors to exit codes.
package cli

import (
	"bytes"
	"context"
	speculativecmd "github.com/maestroplusplus/maestro/internal/cli/speculative"
	"io"
	"os"
	"runtime/debug"
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
	graphcmd "github.com/maestroplusplus/maestro/internal/cli/graph"
	legacycmd "github.com/maestroplusplus/maestro/internal/cli/legacy"
	mirrorcmd "github.com/maestroplusplus/maestro/internal/cli/mirror"
	"github.com/maestroplusplus/maestro/internal/cli/policy"
	"github.com/maestroplusplus/maestro/internal/cli/pr"
	"github.com/maestroplusplus/maestro/internal/cli/publish"
	"github.com/maestroplusplus/maestro/internal/cli/publishtrigger"
	registrycmd "github.com/maestroplusplus/maestro/internal/cli/registry"
	servecmd "github.com/maestroplusplus/maestro/internal/cli/serve"
	"github.com/maestroplusplus/maestro/internal/cli/subscription"
	"github.com/maestroplusplus/maestro/internal/httptimeout"
	"github.com/maestroplusplus/maestro/internal/store/storeurl"
)

// Version is the maestro version when the build sets it at link time, as
// scripts/build-vsix.sh does with the task's version:
//
//	go build -ldflags "-X github.com/maestroplusplus/maestro/internal/cli.Version=1.2.3" ./cmd/maestro
//
// Without it, version reads the build's module information.
var Version string

// version is Version, else the module version Go recorded (`go install
// ...@v1.2.3`), else "dev" with the commit when the build recorded one.
func version() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return strings.TrimPrefix(v, "v")
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && len(s.Value) >= 12:
			rev = "+" + s.Value[:12]
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = ".dirty"
		}
	}
	if rev == "" {
		return "dev"
	}
	return "dev" + rev + dirty
}

// DefaultFactory is the Factory of the real binary: process streams and
// environment, the wall clock, stores opened by URL.
func DefaultFactory() *cmdutil.Factory {
	return &cmdutil.Factory{
		IO:          cmdutil.IO{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr},
		Getenv:      os.Getenv,
		Now:         time.Now,
		OpenStore:   storeurl.Open,
		CreateStore: storeurl.Create,
	}
}

// NewApp returns the root command.
func NewApp(f *cmdutil.Factory) *cli.App {
	return &cli.App{
		Name:    "maestro",
		Usage:   "dependency flow for multi-repository products",
		Version: version(),
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
			graphcmd.NewCmd(f),
			pr.NewCmd(f),
			legacycmd.NewCmd(f),
			mirrorcmd.NewCmd(f),
			publishtrigger.NewCmd(f),
			demo.NewCmd(f, nil),
			registrycmd.NewCmd(f, nil, nil),
			servecmd.NewCmd(f, nil),
			speculativecmd.NewCmd(f),
		},
	}
}

// Main runs the command line args (args[0] is the program name) and returns
// the exit code. An error is reported once on f.IO.ErrOut, a line of its
// message a line of output; a command line that does not parse gets its
// message and where to find the usage, not the whole help.
func Main(ctx context.Context, args []string, f *cmdutil.Factory) int {
	return RunApp(ctx, NewApp(f), args, f)
}

// RunApp is Main with app in place of NewApp(f): tests of one command's
// parsing run it in an app holding that command alone, built with NewApp's
// settings, and see the exit code and messages maestro would give.
func RunApp(ctx context.Context, app *cli.App, args []string, f *cmdutil.Factory) int {
	gate := &usageGate{w: app.Writer}
	app.Writer = gate
	started := false
	markActions(app.Commands, &started, gate)
	args = interspersed(app.Commands, args)
	err := app.RunContext(ctx, args)
	if err == nil {
		if err := gate.open(); err != nil {
			cmdutil.ReportError(f.IO.ErrOut, err, f.Getenv)
			return cmdutil.ExitFailure
		}
		return cmdutil.ExitOK
	}
	if !started {
		// The command line did not parse (unknown flag, missing required
		// flag): bad input. The help urfave/cli printed stays in the gate.
		if name, ok := strings.CutPrefix(err.Error(), "No help topic for "); ok {
			err = cmdutil.UsageErrorf("unknown command %s; `maestro --help` lists the commands", name)
		} else {
			err = cmdutil.UsageErrorf("%v; `%s --help` shows the usage", err, commandPath(app.Commands, args))
		}
	}
	// The Azure DevOps client's own timeout, named as the GitHub client's
	// is (its transport cannot be replaced; see wire.Env.azdoConnection).
	d, derr := httptimeout.FromEnv(f.Getenv)
	if derr != nil {
		d = httptimeout.Default
	}
	err = httptimeout.Explain(err, d)
	cmdutil.ReportError(f.IO.ErrOut, err, f.Getenv)
	return cmdutil.ExitCode(err)
}

// usageGate holds what urfave/cli writes before an action starts — the help
// it prints beside a usage error — until Main knows whether the command line
// parsed: then the help a user asked for is written, and the help of a
// usage error is dropped.
type usageGate struct {
	w      io.Writer
	buf    bytes.Buffer
	opened bool
}

func (g *usageGate) Write(p []byte) (int, error) {
	if g.opened {
		return g.w.Write(p)
	}
	return g.buf.Write(p)
}

// open writes what was held and lets later writes through.
func (g *usageGate) open() error {
	if g.opened {
		return nil
	}
	g.opened = true
	_, err := g.w.Write(g.buf.Bytes())
	g.buf.Reset()
	return err
}

// markActions wraps every command's action so that Main can tell a failed
// action from a command line that never reached one.
// Every command reports a usage error without printing its help.
func markActions(cmds []*cli.Command, started *bool, gate *usageGate) {
	for _, c := range cmds {
		markActions(c.Subcommands, started, gate)
		c.OnUsageError = func(_ *cli.Context, err error, _ bool) error { return err }
		if c.Action == nil {
			continue
		}
		action := c.Action
		c.Action = func(ctx *cli.Context) error {
			*started = true
			if err := gate.open(); err != nil {
				return err
			}
			return action(ctx)
		}
	}
}
