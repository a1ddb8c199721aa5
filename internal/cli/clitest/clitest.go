// Package clitest runs one maestro command the way the binary runs it, on
// in-memory streams, for tests of a command's parsing: the command is built
// with a run function that captures its options, and the test reads the exit
// code and what was written (cli/cli's iostreams.Test, for urfave/cli).
package clitest

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/urfave/cli/v2"

	maestrocli "github.com/maestroplusplus/maestro/internal/cli"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/store"
)

// ErrNoStore is what the store opener of Factory returns: a parsing test
// that reaches a store has run the command's real work by mistake.
var ErrNoStore = errors.New("clitest: a parsing test opened a store")

// Result is what one run of the command line gave.
type Result struct {
	Code   int    // maestro's exit code
	Out    string // standard output
	ErrOut string // standard error
}

// Factory returns a Factory on in-memory streams (In is empty) with an empty
// environment, a fixed clock and a store opener that fails with ErrNoStore.
func Factory() (f *cmdutil.Factory, out, errOut *bytes.Buffer) {
	out, errOut = &bytes.Buffer{}, &bytes.Buffer{}
	f = &cmdutil.Factory{
		IO:     cmdutil.IO{In: &bytes.Buffer{}, Out: out, ErrOut: errOut},
		Getenv: func(string) string { return "" },
		Now:    func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) },
		OpenStore: func(context.Context, string, func(string) string) (store.Store, error) {
			return nil, ErrNoStore
		},
	}
	return f, out, errOut
}

// Run runs `maestro ARGS...` in an app set up as maestro's root command that
// holds only the command newCmd returns, through the same path as the binary
// (flags before or after the command, usage errors reported once, errors
// mapped to exit codes).
func Run(newCmd func(*cmdutil.Factory) *cli.Command, args ...string) Result {
	return RunAll(func(f *cmdutil.Factory) []*cli.Command { return []*cli.Command{newCmd(f)} }, args...)
}

// RunAll is Run with the commands newCmds returns, as `maestro build` and
// `maestro asset` come from one package.
func RunAll(newCmds func(*cmdutil.Factory) []*cli.Command, args ...string) Result {
	f, out, errOut := Factory()
	app := maestrocli.NewApp(f)
	app.Commands = newCmds(f)
	code := maestrocli.RunApp(context.Background(), app, append([]string{"maestro"}, args...), f)
	return Result{Code: code, Out: out.String(), ErrOut: errOut.String()}
}

// Noun returns a command named name that holds verbs, as `maestro pr` holds
// `list` and `show`: a test of one verb runs `maestro NAME VERB ...`.
func Noun(name string, verbs ...*cli.Command) *cli.Command {
	return &cli.Command{Name: name, Subcommands: verbs}
}
