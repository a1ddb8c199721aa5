// Package pr implements `maestro pr`: the pull requests of the local
// platform, which live in the registry.
package pr

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// ListOptions are the parsed flags of `maestro pr list`.
type ListOptions struct {
	Repository string // "" for every repository
	State      string // "" for every state
	JSON       bool
}

// ShowOptions are the parsed flags of `maestro pr show`.
type ShowOptions struct {
	Repository string
	Number     int
	JSON       bool
}

// SetCheckOptions are the parsed flags of `maestro pr set-check`.
type SetCheckOptions struct {
	Repository string
	Number     int
	Check      maestro.Check
}

// NewCmd returns `maestro pr`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:        "pr",
		Usage:       "dependency pull requests: evaluate and merge them (check); those of local repositories (list, show, set-check, close)",
		Subcommands: []*cli.Command{NewCmdList(f, nil), NewCmdShow(f, nil), NewCmdSetCheck(f, nil), NewCmdClose(f, nil), NewCmdCheck(f, nil)},
	}
}

// NewCmdList returns `maestro pr list`; runF does the work (nil: listRun).
func NewCmdList(f *cmdutil.Factory, runF func(*cli.Context, *ListOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *ListOptions) error { return listRun(c, f, o) }
	}
	return &cli.Command{
		Name:  "list",
		Usage: "list pull requests, newest first",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "repository", Usage: "only this repository (path or file:// URL)"},
			&cli.StringFlag{Name: "state", Usage: "only open, merged or closed"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &ListOptions{Repository: c.String("repository"), State: c.String("state"), JSON: asJSON})
		},
	}
}

func listRun(c *cli.Context, f *cmdutil.Factory, o *ListOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	all, err := reg.PullRequests(c.Context, o.Repository)
	if err != nil {
		return err
	}
	prs := []maestro.PullRequest{}
	for _, p := range all {
		if o.State == "" || string(p.State) == o.State {
			prs = append(prs, p)
		}
	}
	return f.Render(o.JSON, prs, func(w io.Writer) {
		cmdutil.Row(w, "NUMBER", "STATE", "REPOSITORY", "BRANCH", "TITLE")
		for _, p := range prs {
			cmdutil.Row(w, p.Number, p.State, p.Repository, p.HeadBranch+" → "+p.BaseBranch, p.Title)
		}
	})
}

// NewCmdShow returns `maestro pr show`; runF does the work (nil: showRun).
func NewCmdShow(f *cmdutil.Factory, runF func(*cli.Context, *ShowOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *ShowOptions) error { return showRun(c, f, o) }
	}
	return &cli.Command{
		Name:      "show",
		Usage:     "show one pull request with its description",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "repository", Required: true, Usage: "repository (path or file:// URL)"},
			&cli.IntFlag{Name: "number", Required: true, Usage: "pull request `NUMBER`"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &ShowOptions{Repository: c.String("repository"), Number: c.Int("number"), JSON: asJSON})
		},
	}
}

func showRun(c *cli.Context, f *cmdutil.Factory, o *ShowOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	p, err := reg.PullRequest(c.Context, o.Repository, o.Number)
	if err != nil {
		return err
	}
	return f.Render(o.JSON, p, func(w io.Writer) {
		fmt.Fprintf(w, "#%d %s (%s)\n%s: %s → %s\n%s\n", p.Number, p.Title, p.State, p.Repository, p.HeadBranch, p.BaseBranch, p.URL)
		for _, ch := range p.Checks {
			fmt.Fprintf(w, "check %s: %s\n", ch.Name, ch.State)
		}
		if r := p.CheckRun; r != nil {
			fmt.Fprintf(w, "check %s on %.12s: %s — %s\n", maestro.CheckCommandName, r.Commit, r.State, cmp.Or(r.Message, "`"+r.Command+"` is running since "+r.Started.Format(time.RFC3339)))
			if r.Output != "" {
				fmt.Fprintf(w, "output of `%s`:\n%s", r.Command, r.Output)
				if !strings.HasSuffix(r.Output, "\n") {
					fmt.Fprintln(w)
				}
			}
		}
		if len(p.Policies) > 0 {
			fmt.Fprintf(w, "merge policies on %.12s:\n", p.PolicyHead)
			for _, r := range p.Policies {
				fmt.Fprintln(w, cmdutil.DescribePolicy(r))
			}
		}
		fmt.Fprintf(w, "\n%s\n", p.Body)
	})
}

// NewCmdSetCheck returns `maestro pr set-check`; runF does the work (nil: setCheckRun).
func NewCmdSetCheck(f *cmdutil.Factory, runF func(*cli.Context, *SetCheckOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *SetCheckOptions) error { return setCheckRun(c, f, o) }
	}
	return &cli.Command{
		Name:  "set-check",
		Usage: "set a check of a pull request: while one is pending, the flow does not push to it",
		Description: "Records check NAME with its state on the pull request, replacing a check of that name.\n" +
			"An update that meets a pending check is rescheduled; `maestro flow tick` pushes it once no check is pending.",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "repository", Required: true, Usage: "repository (path or file:// URL)"},
			&cli.IntFlag{Name: "number", Required: true, Usage: "pull request `NUMBER`"},
			&cli.StringFlag{Name: "name", Required: true, Usage: "check `NAME`, e.g. build"},
			&cli.StringFlag{Name: "state", Required: true, Usage: "`STATE`: pending, success or failure"},
			cmdutil.StoreFlag,
		},
		Action: func(c *cli.Context) error {
			state, err := maestro.ParseCheckState(c.String("state"))
			if err != nil {
				return fmt.Errorf("--state: %w", err)
			}
			return runF(c, &SetCheckOptions{Repository: c.String("repository"), Number: c.Int("number"),
				Check: maestro.Check{Name: c.String("name"), State: state}})
		},
	}
}

func setCheckRun(c *cli.Context, f *cmdutil.Factory, o *SetCheckOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	if _, err := reg.SetPullRequestCheck(c.Context, o.Repository, o.Number, o.Check); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "pull request #%d: check %s is %s\n", o.Number, o.Check.Name, o.Check.State)
	return nil
}

// CloseOptions are the parsed flags of `maestro pr close`.
type CloseOptions struct {
	Repository string
	Number     int
}

// NewCmdClose returns `maestro pr close`; runF does the work (nil: closeRun).
func NewCmdClose(f *cmdutil.Factory, runF func(*cli.Context, *CloseOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *CloseOptions) error { return closeRun(c, f, o) }
	}
	return &cli.Command{
		Name:  "close",
		Usage: "close a pull request of a local repository without merging it",
		Description: "Marks the pull request closed, as a person closes one on a host; its branch stays.\n" +
			"A merged pull request is not closed (exit 4).",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "repository", Required: true, Usage: "repository (path or file:// URL)"},
			&cli.IntFlag{Name: "number", Required: true, Usage: "pull request `NUMBER`"},
			cmdutil.StoreFlag,
		},
		Action: func(c *cli.Context) error {
			if c.Int("number") <= 0 {
				return cmdutil.UsageErrorf("--number must be a pull request number, got %d", c.Int("number"))
			}
			return runF(c, &CloseOptions{Repository: c.String("repository"), Number: c.Int("number")})
		},
	}
}

func closeRun(c *cli.Context, f *cmdutil.Factory, o *CloseOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	if _, err := reg.UpdatePullRequest(c.Context, o.Repository, o.Number, func(r *maestro.PullRequest) error {
		if r.State == maestro.PullRequestMerged {
			return maestro.Errorf(maestro.KindConflict, "pull request #%d of %s merged; it cannot be closed", r.Number, r.Repository)
		}
		r.State = maestro.PullRequestClosed
		return nil
	}); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "pull request #%d: closed\n", o.Number)
	return nil
}
