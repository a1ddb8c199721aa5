// Package mirror implements `maestro mirror`: keeping internal Azure Repos
// copies of public repositories current.
package mirror

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/mirror"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// checkRepos checks the repository flags among names that were given: a
// URL (https or file) or an absolute path, without user info, query or
// spaces, so that a password or token typed into a URL is refused before
// anything is read or written, and is not repeated by later messages or the
// mirror history.
func checkRepos(c *cli.Context, names ...string) error {
	for _, name := range names {
		if v := c.String(name); c.IsSet(name) {
			if err := registry.ValidateMirrorURL(v); err != nil {
				return cmdutil.UsageErrorf("--%s: %v", name, err)
			}
		}
	}
	return nil
}

// RunOptions are the parsed flags of `maestro mirror run`.
type RunOptions struct {
	Request mirror.Request
	JSON    bool
}

// NewCmd returns `maestro mirror`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:        "mirror",
		Usage:       "keep internal Azure Repos copies of repositories current",
		Subcommands: []*cli.Command{NewCmdAdd(f, nil), NewCmdUpdate(f, nil), NewCmdList(f, nil), NewCmdShow(f, nil), NewCmdDelete(f, nil), NewCmdRun(f, nil), NewCmdTrigger(f, nil), NewCmdHistory(f, nil)},
	}
}

// NewCmdRun returns `maestro mirror run`; runF does the work (nil: runRun).
func NewCmdRun(f *cmdutil.Factory, runF func(*cli.Context, *RunOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *RunOptions) error { return runRun(c, f, o) }
	}
	return &cli.Command{
		Name:  "run",
		Usage: "mirror one branch of a repository into its internal copy now",
		Description: `Fetches --branch of --source and the matching branch of --target into a scratch
repository and pushes at most one update, never forced:

  fastForward    the target branch of the same name is created, or moved forward to the
                 source head; a target branch with commits the source lacks is refused
                 (exit 4), listing those commits.
  internalMerge  the source branch is merged into internal/BRANCH of the target with a
                 merge commit by the bot (MAESTRO_BOT_NAME, MAESTRO_BOT_EMAIL) naming both
                 heads; created at the source head when missing, moved forward while it
                 has no commits of its own. A conflict fails (exit 4), listing the paths.

A refused or failed run pushes nothing. Every run records its outcome in the registry
(maestro mirror history), a run refused for a missing token or an unknown host too. --source is a GitHub or Azure Repos URL or a local
repository; --target an Azure Repos URL or a local repository. Tokens come from the
environment only: GITHUB_TOKEN (or the GitHub App variables) for GitHub, MAESTRO_AZDO_TOKEN
or SYSTEM_ACCESSTOKEN for Azure Repos.`,
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "source", Required: true, Usage: "repository to mirror: `URL` or local path"},
			&cli.StringFlag{Name: "branch", Required: true, Usage: "`BRANCH` of the source to mirror"},
			&cli.StringFlag{Name: "target", Required: true, Usage: "Azure Repos repository `URL` (or local path) to update"},
			&cli.StringFlag{Name: "mode", Value: string(maestro.MirrorFastForward), Usage: "`MODE`: fastForward or internalMerge"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return cmdutil.UsageErrorf("mirror run takes no arguments; got %q", c.Args().First())
			}
			if err := checkRepos(c, "source", "target"); err != nil {
				return err
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			mode, err := maestro.ParseMirrorMode(c.String("mode"))
			if err != nil {
				return fmt.Errorf("--mode: %w", err)
			}
			if err := mirror.CheckBranch(c.String("branch")); err != nil {
				return fmt.Errorf("--branch: %w", err)
			}
			return runF(c, &RunOptions{JSON: asJSON, Request: mirror.Request{
				Source: c.String("source"), Branch: c.String("branch"), Target: c.String("target"), Mode: mode}})
		},
	}
}

func runRun(c *cli.Context, f *cmdutil.Factory, o *RunOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	var out maestro.MirrorOutcome
	g, err := f.Wiring().MirrorGit(o.Request.Source, o.Request.Target)
	if err == nil {
		out, err = mirror.Mirror{Git: g, Now: f.Now}.Run(c.Context, o.Request)
	} else {
		// No run without its token or on an unknown host, but the history
		// says why: a pipeline that lost its token shows in flow health.
		out = maestro.MirrorOutcome{Time: f.Now().UTC(), SourceRepository: o.Request.Source, Branch: o.Request.Branch,
			TargetRepository: o.Request.Target, TargetBranch: o.Request.Mode.TargetBranch(o.Request.Branch), Mode: o.Request.Mode,
			Result: maestro.MirrorFailure, Message: err.Error()}
	}
	if _, rerr := reg.RecordMirrorOutcome(c.Context, out); rerr != nil {
		err = errors.Join(err, fmt.Errorf("the run's outcome was not recorded: %w", rerr))
	}
	if o.JSON {
		if werr := cmdutil.WriteJSON(f.IO.Out, out); werr != nil && err == nil {
			return werr
		}
	} else if err == nil {
		fmt.Fprintln(f.IO.Out, out.Message)
	}
	return err
}
