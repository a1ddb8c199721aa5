// Package pr implements `maestro pr`: the pull requests of the local
// platform, which live in the registry.
package pr

import (
	"fmt"
	"io"

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

// NewCmd returns `maestro pr`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:        "pr",
		Usage:       "pull requests of local repositories (the local platform)",
		Subcommands: []*cli.Command{NewCmdList(f, nil), NewCmdShow(f, nil)},
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
		fmt.Fprintf(w, "#%d %s (%s)\n%s: %s → %s\n%s\n\n%s\n", p.Number, p.Title, p.State, p.Repository, p.HeadBranch, p.BaseBranch, p.URL, p.Body)
	})
}
