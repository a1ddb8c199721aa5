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

// NewCmd returns `maestro pr`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:  "pr",
		Usage: "pull requests of local repositories (the local platform)",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list pull requests, newest first",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "repository", Usage: "only this repository (path or file:// URL)"},
					&cli.StringFlag{Name: "state", Usage: "only open, merged or closed"},
					cmdutil.StoreFlag, cmdutil.OutputFlag,
				},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					all, err := reg.PullRequests(c.Context, c.String("repository"))
					if err != nil {
						return err
					}
					prs := []maestro.PullRequest{}
					for _, p := range all {
						if c.String("state") == "" || string(p.State) == c.String("state") {
							prs = append(prs, p)
						}
					}
					return f.Print(c, prs, func(w io.Writer) {
						cmdutil.Row(w, "NUMBER", "STATE", "REPOSITORY", "BRANCH", "TITLE")
						for _, p := range prs {
							cmdutil.Row(w, p.Number, p.State, p.Repository, p.HeadBranch+" → "+p.BaseBranch, p.Title)
						}
					})
				},
			},
			{
				Name:      "show",
				Usage:     "show one pull request with its description",
				ArgsUsage: " ",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "repository", Required: true, Usage: "repository (path or file:// URL)"},
					&cli.IntFlag{Name: "number", Required: true, Usage: "pull request `NUMBER`"},
					cmdutil.StoreFlag, cmdutil.OutputFlag,
				},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					p, err := reg.PullRequest(c.Context, c.String("repository"), c.Int("number"))
					if err != nil {
						return err
					}
					return f.Print(c, p, func(w io.Writer) {
						fmt.Fprintf(w, "#%d %s (%s)\n%s: %s → %s\n%s\n\n%s\n", p.Number, p.Title, p.State, p.Repository, p.HeadBranch, p.BaseBranch, p.URL, p.Body)
					})
				},
			},
		},
	}
}
