// Package registry implements `maestro registry init`, `check` and
// `repair`: make a registry on purpose (the store's folder or container and
// the format marker every other command looks for), find what an
// interrupted publish or an earlier layout left in the Build Asset Registry,
// and fix it while the registry stays in use.
package registry

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// CheckOptions are the parsed flags of `registry check`.
type CheckOptions struct {
	JSON bool
}

// RepairOptions are the parsed flags of `registry repair`.
type RepairOptions struct {
	DryRun bool
	MinAge time.Duration
	JSON   bool
}

// ErrNotClean is returned (exit 1) when check finds problems.
var ErrNotClean = errors.New("the registry is not consistent")

// NewCmd returns `maestro registry`; checkRun and repairRun do the work
// (tests capture the options through them; nil means the real ones).
func NewCmd(f *cmdutil.Factory, checkRun func(*cli.Context, *CheckOptions) error, repairRun func(*cli.Context, *RepairOptions) error) *cli.Command {
	if checkRun == nil {
		checkRun = func(c *cli.Context, o *CheckOptions) error { return runCheck(c, f, o) }
	}
	if repairRun == nil {
		repairRun = func(c *cli.Context, o *RepairOptions) error { return runRepair(c, f, o) }
	}
	return &cli.Command{
		Name:  "registry",
		Usage: "create, check and repair the Build Asset Registry",
		Subcommands: []*cli.Command{
			NewInitCmd(f, nil),
			{
				Name:      "check",
				Usage:     "list what disagrees in the registry (read-only; exit 1 when not clean)",
				ArgsUsage: " ",
				Description: `Reads every build record, claim and index entry and lists: unfinished builds
(index entries or documents of an interrupted publish, without build.json),
index entries that disagree with a build's record or channels, missing entries,
a build counter behind the ids in use, unreferenced documents, and subscriptions
or default channels that name a deleted channel. Writes nothing; its cost grows
with the registry. Exits 0 when clean, 1 when not.

Example:
  maestro registry check --output json`,
				Flags: []cli.Flag{cmdutil.StoreFlag, cmdutil.OutputFlag},
				Action: func(c *cli.Context) error {
					if c.Args().Len() > 0 {
						return cmdutil.UsageErrorf("registry check takes no arguments; got %q", c.Args().First())
					}
					asJSON, err := cmdutil.JSON(c)
					if err != nil {
						return err
					}
					return checkRun(c, &CheckOptions{JSON: asJSON})
				},
			},
			{
				Name:      "repair",
				Usage:     "fix what `registry check` finds (idempotent; safe while publishes run)",
				ArgsUsage: " ",
				Description: `Collects unfinished builds (fences the id, then removes its entries), adds
missing and removes stale index entries, moves the build counter past the ids in
use, deletes unreferenced documents and deletes subscriptions and default
channels that name a deleted channel. An unfinished build whose publish started
less than --min-age ago is left alone: it may still be running. A publish whose
build id is collected while it runs starts again under a new id. Running repair
twice does nothing the second time.

Example:
  maestro registry repair --dry-run`,
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "dry-run", Usage: "list what would be fixed; write nothing"},
					&cli.DurationFlag{Name: "min-age", Value: time.Hour, Usage: "leave unfinished builds whose publish started less than `DURATION` ago"},
					cmdutil.StoreFlag, cmdutil.OutputFlag,
				},
				Action: func(c *cli.Context) error {
					if c.Args().Len() > 0 {
						return cmdutil.UsageErrorf("registry repair takes no arguments; got %q", c.Args().First())
					}
					if c.Duration("min-age") < 0 {
						return cmdutil.UsageErrorf("--min-age %s: must not be negative", c.Duration("min-age"))
					}
					asJSON, err := cmdutil.JSON(c)
					if err != nil {
						return err
					}
					return repairRun(c, &RepairOptions{DryRun: c.Bool("dry-run"), MinAge: c.Duration("min-age"), JSON: asJSON})
				},
			},
		},
	}
}

func runCheck(c *cli.Context, f *cmdutil.Factory, o *CheckOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	rep, err := reg.Check(c.Context)
	if err != nil {
		return fmt.Errorf("registry check: %w", err)
	}
	if rep.Problems == nil {
		rep.Problems = []registry.Problem{}
	}
	if o.JSON {
		if err := cmdutil.WriteJSON(f.IO.Out, rep); err != nil {
			return err
		}
	} else {
		printProblems(f.IO.Out, rep)
		if rep.Clean() {
			fmt.Fprintf(f.IO.Out, "clean: %d builds\n", rep.Builds)
		}
	}
	if !rep.Clean() {
		return fmt.Errorf("%w: %d problems; `maestro registry repair --dry-run` shows what repair would do", ErrNotClean, len(rep.Problems))
	}
	return nil
}

func runRepair(c *cli.Context, f *cmdutil.Factory, o *RepairOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	rep, err := reg.Repair(c.Context, registry.RepairOptions{DryRun: o.DryRun, MinAge: o.MinAge})
	if err != nil {
		return fmt.Errorf("registry repair: %w", err)
	}
	if rep.Problems == nil {
		rep.Problems = []registry.Problem{}
	}
	if o.JSON {
		return cmdutil.WriteJSON(f.IO.Out, rep)
	}
	printProblems(f.IO.Out, rep)
	fixed, skipped := 0, 0
	for _, p := range rep.Problems {
		if p.Skipped != "" {
			skipped++
		} else {
			fixed++
		}
	}
	verb := "fixed"
	if o.DryRun {
		verb = "would fix"
	}
	fmt.Fprintf(f.IO.Out, "%s %d problems, skipped %d\n", verb, fixed, skipped)
	return nil
}

func printProblems(w io.Writer, rep registry.CheckReport) {
	if len(rep.Problems) == 0 {
		return
	}
	cmdutil.Row(w, "KIND", "BUILD", "DETAIL")
	for _, p := range rep.Problems {
		build := ""
		if p.BuildID != 0 {
			build = fmt.Sprint(p.BuildID)
		}
		detail := p.Detail
		if p.Skipped != "" {
			detail += " (skipped: " + p.Skipped + ")"
		}
		cmdutil.Row(w, p.Kind, build, strings.ReplaceAll(detail, "\n", " "))
	}
}
