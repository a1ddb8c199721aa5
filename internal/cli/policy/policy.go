// Package policy implements `maestro repository-policy`: the merge policies of
// a repository branch, which batchable subscriptions into it use.
package policy

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/cli/subscription"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// NewCmd returns `maestro repository-policy`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	repoFlags := []cli.Flag{
		&cli.StringFlag{Name: "repository", Required: true, Usage: "repository `URL`"},
		&cli.StringFlag{Name: "branch", Required: true, Usage: "`BRANCH`"},
	}
	show := func(c *cli.Context, p maestro.RepositoryBranchPolicy) error {
		return f.Print(c, p, func(w io.Writer) {
			var names []string
			for _, mp := range p.MergePolicies {
				names = append(names, mp.Name)
			}
			cmdutil.Row(w, "repository:", p.Repository+" @ "+p.Branch)
			cmdutil.Row(w, "merge policies:", strings.Join(names, ", "))
			cmdutil.Row(w, "auto-merge:", p.AutoMerge)
		})
	}
	return &cli.Command{
		Name:  "repository-policy",
		Usage: "manage the merge policies of repository branches",
		Subcommands: []*cli.Command{
			{
				Name: "set", Usage: "set the merge policies of a repository branch", ArgsUsage: " ",
				Flags: append(repoFlags,
					&cli.StringSliceFlag{Name: "merge-policy", Usage: "`NAME[:json-properties]`; repeatable"},
					&cli.BoolFlag{Name: "auto-merge", Value: true, Usage: "merge pull requests when their policies pass"},
					cmdutil.StoreFlag, cmdutil.OutputFlag),
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					p := maestro.RepositoryBranchPolicy{Repository: c.String("repository"), Branch: c.String("branch"), AutoMerge: c.Bool("auto-merge"), MergePolicies: []maestro.MergePolicy{}}
					for _, raw := range c.StringSlice("merge-policy") {
						mp, err := subscription.ParseMergePolicy(raw)
						if err != nil {
							return err
						}
						p.MergePolicies = append(p.MergePolicies, mp)
					}
					if err := reg.SetRepositoryPolicy(c.Context, p); err != nil {
						return err
					}
					p, err = reg.RepositoryPolicy(c.Context, p.Repository, p.Branch)
					if err != nil {
						return err
					}
					return show(c, p)
				},
			},
			{
				Name: "get", Usage: "show the merge policies of a repository branch", ArgsUsage: " ",
				Flags: append(repoFlags, cmdutil.StoreFlag, cmdutil.OutputFlag),
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					p, err := reg.RepositoryPolicy(c.Context, c.String("repository"), c.String("branch"))
					if err != nil {
						return err
					}
					return show(c, p)
				},
			},
			{
				Name: "list", Usage: "list every repository branch policy",
				Flags: []cli.Flag{cmdutil.StoreFlag, cmdutil.OutputFlag},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					ps, err := reg.RepositoryPolicies(c.Context)
					if err != nil {
						return err
					}
					if ps == nil {
						ps = []maestro.RepositoryBranchPolicy{}
					}
					return f.Print(c, ps, func(w io.Writer) {
						cmdutil.Row(w, "REPOSITORY", "BRANCH", "POLICIES", "AUTO-MERGE")
						for _, p := range ps {
							var names []string
							for _, mp := range p.MergePolicies {
								names = append(names, mp.Name)
							}
							cmdutil.Row(w, p.Repository, p.Branch, strings.Join(names, ","), p.AutoMerge)
						}
					})
				},
			},
			{
				Name: "delete", Usage: "remove the merge policies of a repository branch", ArgsUsage: " ",
				Flags: append(repoFlags, cmdutil.StoreFlag),
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					if err := reg.DeleteRepositoryPolicy(c.Context, c.String("repository"), c.String("branch")); err != nil {
						return err
					}
					fmt.Fprintf(f.IO.Out, "deleted the merge policies of %s@%s\n", c.String("repository"), c.String("branch"))
					return nil
				},
			},
		},
	}
}
