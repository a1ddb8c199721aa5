package mirror

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/mirror"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// TriggerOptions are the parsed flags of `maestro mirror trigger`.
type TriggerOptions struct {
	Source, Branch, Commit string
	JSON                   bool
}

// NewCmdTrigger returns `maestro mirror trigger`; runF does the work (nil: triggerRun).
func NewCmdTrigger(f *cmdutil.Factory, runF func(*cli.Context, *TriggerOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *TriggerOptions) error { return triggerRun(c, f, o) }
	}
	return &cli.Command{
		Name:  "trigger",
		Usage: "queue the mirror pipeline for a pushed branch (coalescing with a run queued or running)",
		Description: `What a GitHub Action, a push webhook or a person calls after a push to --branch of --source.
When a branch pattern of the source's mirror selects the branch, the mirror pipeline is queued
with the source, branch, target and mode — unless a run for the branch is queued or running
(read back through the Builds API), which then mirrors the branch head when it starts. A
branch no pattern selects queues nothing. Queues with MAESTRO_AZDO_TOKEN or SYSTEM_ACCESSTOKEN.`,
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "source", Required: true, Usage: "the mirrored repository (`URL`)"},
			&cli.StringFlag{Name: "branch", Required: true, Usage: "the pushed `BRANCH`"},
			&cli.StringFlag{Name: "commit", Usage: "the pushed commit (`SHA`, the full id), kept with the queued run"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return cmdutil.UsageErrorf("mirror trigger takes no arguments; got %q", c.Args().First())
			}
			if err := checkRepos(c, "source"); err != nil {
				return err
			}
			if err := mirror.CheckBranch(c.String("branch")); err != nil {
				return fmt.Errorf("--branch: %w", err)
			}
			if c.IsSet("commit") {
				if err := registry.ValidateCommit(c.String("commit")); err != nil {
					return cmdutil.UsageErrorf("--commit: %v", err)
				}
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &TriggerOptions{Source: c.String("source"), Branch: c.String("branch"), Commit: c.String("commit"), JSON: asJSON})
		},
	}
}

func triggerRun(c *cli.Context, f *cmdutil.Factory, o *TriggerOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	m, err := reg.Mirror(c.Context, o.Source)
	if err != nil {
		return err
	}
	q, err := f.Wiring().MirrorQueue()
	if err != nil {
		return err
	}
	res, err := mirror.Trigger{Runs: reg, Queue: q, Now: f.Now}.Trigger(c.Context, m, o.Branch, o.Commit)
	if err != nil {
		return err
	}
	return f.Render(o.JSON, res, func(w io.Writer) {
		switch {
		case res.Mode == "":
			fmt.Fprintf(w, "%s of %s is not mirrored: no branch pattern of its mirror selects it\n", o.Branch, m.SourceRepository)
		case res.Queued:
			fmt.Fprintf(w, "queued mirror run %d (%s) of %s %s → %s\n", res.RunID, res.Mode, m.SourceRepository, o.Branch, res.URL)
		case res.RunID != 0:
			fmt.Fprintf(w, "coalesced into mirror run %d, queued or running (%s)\n", res.RunID, res.URL)
		default:
			fmt.Fprintln(w, "coalesced into the mirror run another trigger is queueing")
		}
	})
}
