// Package config implements `maestro config apply` and `maestro config
// export`: the registry's channels, default channels, subscriptions and
// repository merge policies as a YAML file kept under review.
package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	cfg "github.com/maestroplusplus/maestro/internal/config"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// ApplyOptions are the parsed arguments of `maestro config apply`.
type ApplyOptions struct {
	File   string // path, or "-" for standard input
	DryRun bool
	Prune  bool
	// DeleteChannelsWithBuilds lets Prune delete channels that hold builds.
	DeleteChannelsWithBuilds bool
	// Create makes the registry when the store holds none.
	Create bool
	// WhatIf writes nothing and prints, after the plan, what the change
	// would flow now (implies DryRun).
	WhatIf bool
	JSON   bool
}

// ExportOptions are the parsed arguments of `maestro config export`.
type ExportOptions struct {
	File string // "" for standard output
}

// NewCmd returns `maestro config`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "manage channels, default channels, subscriptions and repository policies as a YAML file",
		Description: `A configuration file lists channels, default channels, subscriptions and
repository merge policies (docs/config.md describes the format). "apply" makes
the registry match the file; "export" writes the registry as such a file.`,
		Subcommands: []*cli.Command{newApplyCmd(f, nil), newExportCmd(f, nil)},
	}
}

func newApplyCmd(f *cmdutil.Factory, run func(*cli.Context, *ApplyOptions) error) *cli.Command {
	if run == nil {
		run = func(c *cli.Context, o *ApplyOptions) error { return runApply(c, f, o) }
	}
	return &cli.Command{
		Name:      "apply",
		Usage:     "make the registry match a configuration file",
		ArgsUsage: "FILE",
		Description: `Checks the whole file against the registry first (unknown keys, channels,
update frequencies and merge policies; duplicates; changes the registry does
not allow, such as a subscription's target or batchable) and reports every
problem as FILE:LINE: field: message, writing nothing. Then prints the plan as
a diff (+ add, ~ change with old → new, - delete) and applies it: channels,
default channels, repository policies, subscriptions, then with --prune the
deletions. Objects the file does not list are left alone unless --prune is
given; --prune refuses to delete a channel that holds builds unless
--delete-channels-with-builds is given. Applying the same file again changes
nothing. FILE "-" reads standard input. With --create, a store without a
registry gets one (after the file is found good; not with --dry-run).

--what-if writes nothing either, and prints after the plan what the change
would flow right now: for each new or changed subscription, the build it
would apply (the newest of its source in its channel, with the flow's
decision for it) and the dependencies that build would change in the target
branch — a dry run of the real update on the branch's dependency files — and
for each deleted subscription the open pull requests it would orphan.
--output json prints the plan and the what-if as one JSON document.

Examples:
  maestro config apply --dry-run maestro.yaml
  maestro config apply --what-if --prune maestro.yaml
  maestro config apply --prune maestro.yaml`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "dry-run", Usage: "print the plan and write nothing"},
			&cli.BoolFlag{Name: "prune", Usage: "also delete the registry objects the file does not list"},
			&cli.BoolFlag{Name: "delete-channels-with-builds", Usage: "with --prune, also delete unlisted channels that hold builds"},
			cmdutil.WhatIfFlag,
			&cli.StringFlag{Name: cmdutil.OutputFlag.Name, Value: "table", Usage: "with --what-if, the output format: table or json"},
			cmdutil.StoreFlag,
			cmdutil.CreateFlag,
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() != 1 {
				return cmdutil.UsageErrorf("config apply takes one FILE argument; got %d", c.Args().Len())
			}
			if c.Bool("delete-channels-with-builds") && !c.Bool("prune") {
				return cmdutil.UsageErrorf("--delete-channels-with-builds only goes with --prune")
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			whatIf := c.Bool(cmdutil.WhatIfFlag.Name)
			if asJSON && !whatIf {
				return cmdutil.UsageErrorf("--output json only goes with --what-if")
			}
			return run(c, &ApplyOptions{File: c.Args().First(), DryRun: c.Bool("dry-run") || whatIf, Prune: c.Bool("prune"),
				DeleteChannelsWithBuilds: c.Bool("delete-channels-with-builds"), Create: c.Bool(cmdutil.CreateFlag.Name),
				WhatIf: whatIf, JSON: asJSON})
		},
	}
}

func newExportCmd(f *cmdutil.Factory, run func(*cli.Context, *ExportOptions) error) *cli.Command {
	if run == nil {
		run = func(c *cli.Context, o *ExportOptions) error { return runExport(c, f, o) }
	}
	return &cli.Command{
		Name:      "export",
		Usage:     "write the registry's configuration as a YAML file",
		ArgsUsage: " ",
		Description: `Writes every channel, default channel, subscription (with its id) and
repository policy in a fixed order, so the output is stable and diffs well;
applying it to an empty registry and exporting again gives the same bytes.

Example:
  maestro config export --file maestro.yaml`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "file", Usage: "write to `PATH` instead of standard output"},
			cmdutil.StoreFlag,
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return cmdutil.UsageErrorf("config export takes no arguments; got %q (use --file)", c.Args().First())
			}
			return run(c, &ExportOptions{File: c.String("file")})
		},
	}
}

// readFile reads the file to apply; "-" is standard input.
func readFile(f *cmdutil.Factory, path string) (name string, data []byte, err error) {
	if path == "-" {
		data, err = io.ReadAll(f.IO.In)
		if err != nil {
			return "", nil, fmt.Errorf("read standard input: %w", err)
		}
		return "<stdin>", data, nil
	}
	data, err = os.ReadFile(path)
	if err != nil {
		return "", nil, maestro.Errorf(maestro.KindInvalid, "read configuration: %w", err)
	}
	return path, data, nil
}

func runApply(c *cli.Context, f *cmdutil.Factory, o *ApplyOptions) error {
	name, data, err := readFile(f, o.File)
	if err != nil {
		return err
	}
	file, err := cfg.Parse(name, data)
	if err != nil {
		return problems(f, name, err)
	}
	reg, err := f.Registry(c)
	// With --create, a missing registry is planned for as an empty one and
	// made only once the file is found good.
	missing := o.Create && errors.Is(err, registry.ErrNoRegistry)
	if err != nil && !missing {
		return err
	}
	st := &cfg.State{}
	if !missing {
		if st, err = cfg.Load(c.Context, reg); err != nil {
			return err
		}
		if o.Prune && !o.DeleteChannelsWithBuilds {
			if err := cfg.LoadChannelBuilds(c.Context, reg, st); err != nil {
				return err
			}
		}
	}
	plan, err := cfg.NewPlan(file, st, cfg.Options{Prune: o.Prune, DeleteChannelsWithBuilds: o.DeleteChannelsWithBuilds, Hosts: f.Wiring()})
	if err != nil {
		return problems(f, name, err)
	}
	if o.WhatIf {
		return whatIf(c, f, reg, plan, o.JSON)
	}
	if err := plan.Write(f.IO.Out); err != nil {
		return err
	}
	if o.DryRun {
		fmt.Fprintln(f.IO.Out, "Dry run: nothing was written.")
		return nil
	}
	if missing {
		if reg, _, err = f.CreateRegistry(c); err != nil {
			return err
		}
		fmt.Fprintf(f.IO.Out, "Created a registry at %s.\n", f.StoreName(c))
	}
	if plan.Empty() {
		return nil
	}
	done, err := plan.Apply(c.Context, reg)
	if err != nil {
		return err
	}
	for _, d := range done {
		if d.Action.Kind == cfg.KindSubscription && d.Action.Op == cfg.OpAdd {
			fmt.Fprintf(f.IO.Out, "created subscription %s: %s\n", d.ID, d.Action.Detail)
		}
	}
	add, change, del := plan.Counts()
	fmt.Fprintf(f.IO.Out, "Applied: %d added, %d changed, %d deleted.\n", add, change, del)
	return nil
}

// problems prints every problem of a bad file on its own line and returns
// the one-line error the command fails with.
func problems(f *cmdutil.Factory, name string, err error) error {
	var ps cfg.Problems
	if !errors.As(err, &ps) {
		return err
	}
	for _, p := range ps {
		fmt.Fprintln(f.IO.ErrOut, p.String())
	}
	return maestro.Errorf(maestro.KindInvalid, "%s: %d problem(s), listed above; nothing was written", name, len(ps))
}

func runExport(c *cli.Context, f *cmdutil.Factory, o *ExportOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	st, err := cfg.Load(c.Context, reg)
	if err != nil {
		return err
	}
	file, err := cfg.Export(st)
	if err != nil {
		return err
	}
	data, err := file.Marshal()
	if err != nil {
		return err
	}
	if o.File == "" {
		_, err := f.IO.Out.Write(data)
		return err
	}
	return writeAtomically(o.File, data)
}

// writeAtomically replaces path with data through a temporary file in the
// same directory, so a reader never sees half a file.
func writeAtomically(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
