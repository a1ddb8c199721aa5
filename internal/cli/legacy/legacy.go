// Package legacy implements `maestro legacy`: running beside the old Maestro
// on a versions repository (dotnet/versions) — checking its
// Maestro/subscriptions.json.
package legacy

import (
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/legacy"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// ValidateOptions are the parsed arguments of `maestro legacy validate`.
type ValidateOptions struct {
	File string // path, or "-" for standard input
	JSON bool
}

// NewCmd returns `maestro legacy`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:  "legacy",
		Usage: "work with the old Maestro's versions repository (subscriptions.json)",
		Description: `Legacy mode reads what the old Maestro read in a versions repository such as
dotnet/versions: Maestro/subscriptions.json.`,
		Subcommands: []*cli.Command{NewCmdValidate(f, nil)},
	}
}

// NewCmdValidate returns `maestro legacy validate`; runF does the work (nil:
// validateRun).
func NewCmdValidate(f *cmdutil.Factory, runF func(*cli.Context, *ValidateOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *ValidateOptions) error { return validateRun(c, f, o) }
	}
	return &cli.Command{
		Name:      "validate",
		Usage:     "check a legacy subscriptions.json",
		ArgsUsage: "FILE",
		Description: `Parses FILE in either historical schema (2016: subscriptions[{path, handlers}];
2017 on: subscriptions[{triggerPaths, action, delay, actionArguments}]),
accepting // and /* */ comments and trailing commas, and reports every problem
as FILE:LINE: subscriptions[I].FIELD: message — unknown members, missing
required fields, an action that is not defined, malformed trigger URLs, bad
delays (hh:mm:ss). Triggers that parse but can never match a push (no /blob/
segment, an empty // segment) are warnings. FILE "-" reads standard input.

Example:
  maestro legacy validate Maestro/subscriptions.json`,
		Flags: []cli.Flag{cmdutil.OutputFlag},
		Action: func(c *cli.Context) error {
			if c.Args().Len() != 1 {
				return cmdutil.UsageErrorf("legacy validate takes one FILE argument; got %d", c.Args().Len())
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &ValidateOptions{File: c.Args().First(), JSON: asJSON})
		},
	}
}

// summary is what validate prints.
type summary struct {
	File          string   `json:"file"`
	Schema        int      `json:"schema"`
	Actions       int      `json:"actions"`
	Subscriptions int      `json:"subscriptions"`
	TriggerPaths  int      `json:"triggerPaths"`
	Warnings      []string `json:"warnings"`
}

func validateRun(_ *cli.Context, f *cmdutil.Factory, o *ValidateOptions) error {
	name, data, err := readFile(f, o.File)
	if err != nil {
		return err
	}
	file, err := legacy.Parse(name, data)
	if err != nil {
		return err
	}
	s := summary{File: name, Schema: int(file.Schema), Actions: len(file.Actions), Subscriptions: len(file.Subscriptions), Warnings: file.Warnings}
	for _, sub := range file.Subscriptions {
		s.TriggerPaths += len(sub.Triggers)
	}
	if s.Warnings == nil {
		s.Warnings = []string{}
	}
	if !o.JSON {
		for _, w := range file.Warnings {
			cmdutil.Warn(f.IO.ErrOut, w, f.Getenv)
		}
	}
	return f.Render(o.JSON, s, func(w io.Writer) {
		fmt.Fprintf(w, "%s: valid (%d schema): %d actions, %d subscriptions, %d trigger paths, %d warnings\n",
			s.File, s.Schema, s.Actions, s.Subscriptions, s.TriggerPaths, len(s.Warnings))
	})
}

// readFile reads a file named on the command line; "-" is standard input.
func readFile(f *cmdutil.Factory, path string) (string, []byte, error) {
	if path == "-" {
		data, err := io.ReadAll(f.IO.In)
		if err != nil {
			return "", nil, fmt.Errorf("read standard input: %w", err)
		}
		return "<stdin>", data, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, maestro.Errorf(maestro.KindInvalid, "read subscriptions: %w; give the path of a subscriptions.json", err)
	}
	return path, data, nil
}
