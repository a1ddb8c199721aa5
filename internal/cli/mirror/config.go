package mirror

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/mirror"
)

// AddOptions are the parsed flags of `maestro mirror add` and, with Set
// saying which were given, of `maestro mirror update`.
type AddOptions struct {
	Mirror maestro.Mirror
	Set    struct{ Target, Branches, Pipeline bool } // update: the fields to change
}

// SourceOptions name one mirror (`show`, `delete`).
type SourceOptions struct {
	Source string
	JSON   bool
}

// ListOptions are the parsed flags of `maestro mirror list`.
type ListOptions struct{ JSON bool }

func configFlags(required bool) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "source", Required: true, Usage: "source repository `URL`, e.g. https://github.com/dotnet/runtime"},
		&cli.StringFlag{Name: "target", Usage: "Azure Repos repository `URL` to mirror into (default: ORG/PROJECT/_git/OWNER-REPO in the pipeline's organization and project)"},
		&cli.StringSliceFlag{Name: "branch", Required: required, Usage: "`PATTERN[=MODE]`: branches to mirror, a regular expression matched against the whole name, and fastForward (default) or internalMerge; repeat for more (update: replaces them all)"},
		&cli.StringFlag{Name: "pipeline", Required: required, Usage: "mirror pipeline `URL`, https://dev.azure.com/ORG/PROJECT/_build?definitionId=ID"},
		cmdutil.StoreFlag,
	}
}

// parseConfig reads the flags of add and update.
func parseConfig(c *cli.Context) (*AddOptions, error) {
	if c.Args().Present() {
		return nil, cmdutil.UsageErrorf("mirror %s takes no arguments; got %q", c.Command.Name, c.Args().First())
	}
	if err := checkRepos(c, "source", "target"); err != nil {
		return nil, err
	}
	o := &AddOptions{Mirror: maestro.Mirror{SourceRepository: c.String("source"), TargetRepository: c.String("target")}}
	o.Set.Target, o.Set.Branches, o.Set.Pipeline = c.IsSet("target"), c.IsSet("branch"), c.IsSet("pipeline")
	for _, raw := range c.StringSlice("branch") {
		b, err := mirror.ParseBranch(raw)
		if err != nil {
			return nil, fmt.Errorf("--branch: %w", err)
		}
		o.Mirror.Branches = append(o.Mirror.Branches, b)
	}
	if o.Set.Pipeline {
		p, err := azdo.ParsePipelineURL(c.String("pipeline"))
		if err != nil {
			return nil, cmdutil.UsageErrorf("--pipeline: %v", err)
		}
		o.Mirror.Pipeline = p
	}
	return o, nil
}

// NewCmdAdd returns `maestro mirror add`; runF does the work (nil: addRun).
func NewCmdAdd(f *cmdutil.Factory, runF func(*cli.Context, *AddOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *AddOptions) error { return addRun(c, f, o) }
	}
	return &cli.Command{
		Name:      "add",
		Usage:     "mirror a repository's branches into Azure Repos",
		ArgsUsage: " ",
		Flags:     configFlags(true),
		Action: func(c *cli.Context) error {
			o, err := parseConfig(c)
			if err != nil {
				return err
			}
			return runF(c, o)
		},
	}
}

func addRun(c *cli.Context, f *cmdutil.Factory, o *AddOptions) error {
	m := o.Mirror
	if m.TargetRepository == "" {
		var err error
		if m.TargetRepository, err = mirror.DefaultTarget(m.SourceRepository, m.Pipeline); err != nil {
			return fmt.Errorf("--target: %w", err)
		}
	}
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	if err := reg.AddMirror(c.Context, m); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "mirroring %s into %s\n", m.SourceRepository, m.TargetRepository)
	return nil
}

// NewCmdUpdate returns `maestro mirror update`; runF does the work (nil: updateRun).
func NewCmdUpdate(f *cmdutil.Factory, runF func(*cli.Context, *AddOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *AddOptions) error { return updateRun(c, f, o) }
	}
	return &cli.Command{
		Name:      "update",
		Usage:     "change a mirror: its target, branch patterns (all replaced) or pipeline",
		ArgsUsage: " ",
		Flags:     configFlags(false),
		Action: func(c *cli.Context) error {
			o, err := parseConfig(c)
			if err != nil {
				return err
			}
			if !o.Set.Target && !o.Set.Branches && !o.Set.Pipeline {
				return cmdutil.UsageErrorf("mirror update: nothing to change; give --target, --branch or --pipeline")
			}
			return runF(c, o)
		},
	}
}

func updateRun(c *cli.Context, f *cmdutil.Factory, o *AddOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	m, err := reg.UpdateMirror(c.Context, o.Mirror.SourceRepository, func(m *maestro.Mirror) {
		if o.Set.Target {
			m.TargetRepository = o.Mirror.TargetRepository
		}
		if o.Set.Branches {
			m.Branches = o.Mirror.Branches
		}
		if o.Set.Pipeline {
			m.Pipeline = o.Mirror.Pipeline
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "updated the mirror of %s into %s\n", m.SourceRepository, m.TargetRepository)
	return nil
}

// NewCmdList returns `maestro mirror list`; runF does the work (nil: listRun).
func NewCmdList(f *cmdutil.Factory, runF func(*cli.Context, *ListOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *ListOptions) error { return listRun(c, f, o) }
	}
	return &cli.Command{
		Name:  "list",
		Usage: "list the mirrored repositories",
		Flags: []cli.Flag{cmdutil.StoreFlag, cmdutil.OutputFlag},
		Action: func(c *cli.Context) error {
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &ListOptions{JSON: asJSON})
		},
	}
}

func listRun(c *cli.Context, f *cmdutil.Factory, o *ListOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	all, err := reg.Mirrors(c.Context)
	if err != nil {
		return err
	}
	if all == nil {
		all = []maestro.Mirror{}
	}
	return f.Render(o.JSON, all, func(w io.Writer) {
		cmdutil.Row(w, "SOURCE", "TARGET", "BRANCHES", "PIPELINE")
		for _, m := range all {
			cmdutil.Row(w, m.SourceRepository, m.TargetRepository, branches(m), azdo.PipelineURL(m.Pipeline))
		}
	})
}

func branches(m maestro.Mirror) string {
	var parts []string
	for _, b := range m.Branches {
		parts = append(parts, b.Pattern+"="+string(b.Mode))
	}
	return strings.Join(parts, " ")
}

func sourceFlags(output bool) []cli.Flag {
	flags := []cli.Flag{&cli.StringFlag{Name: "source", Required: true, Usage: "source repository `URL`"}, cmdutil.StoreFlag}
	if output {
		flags = append(flags, cmdutil.OutputFlag)
	}
	return flags
}

// NewCmdShow returns `maestro mirror show`; runF does the work (nil: showRun).
func NewCmdShow(f *cmdutil.Factory, runF func(*cli.Context, *SourceOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *SourceOptions) error { return showRun(c, f, o) }
	}
	return &cli.Command{
		Name:      "show",
		Usage:     "show the mirror configuration of a repository",
		ArgsUsage: " ",
		Flags:     sourceFlags(true),
		Action: func(c *cli.Context) error {
			if err := checkRepos(c, "source"); err != nil {
				return err
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &SourceOptions{Source: c.String("source"), JSON: asJSON})
		},
	}
}

func showRun(c *cli.Context, f *cmdutil.Factory, o *SourceOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	m, err := reg.Mirror(c.Context, o.Source)
	if err != nil {
		return err
	}
	return f.Render(o.JSON, m, func(w io.Writer) {
		cmdutil.Row(w, "source:", m.SourceRepository)
		cmdutil.Row(w, "target:", m.TargetRepository)
		cmdutil.Row(w, "pipeline:", azdo.PipelineURL(m.Pipeline))
		for _, b := range m.Branches {
			into := "into the branch of the same name"
			if b.Mode == maestro.MirrorInternalMerge {
				into = "merged into internal/BRANCH"
			}
			cmdutil.Row(w, "branch:", b.Pattern, b.Mode, into)
		}
	})
}

// NewCmdDelete returns `maestro mirror delete`; runF does the work (nil: deleteRun).
func NewCmdDelete(f *cmdutil.Factory, runF func(*cli.Context, *SourceOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *SourceOptions) error { return deleteRun(c, f, o) }
	}
	return &cli.Command{
		Name:      "delete",
		Usage:     "stop mirroring a repository (its Azure Repos copy stays)",
		ArgsUsage: " ",
		Flags:     sourceFlags(false),
		Action: func(c *cli.Context) error {
			if err := checkRepos(c, "source"); err != nil {
				return err
			}
			return runF(c, &SourceOptions{Source: c.String("source")})
		},
	}
}

func deleteRun(c *cli.Context, f *cmdutil.Factory, o *SourceOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	if err := reg.DeleteMirror(c.Context, o.Source); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "no longer mirroring %s\n", o.Source)
	return nil
}
