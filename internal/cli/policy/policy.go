// Package policy implements `maestro repository-policy`: the merge policies of
// a repository branch, which batchable subscriptions into it use.
package policy

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/cli/subscription"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// SetOptions are the parsed flags of `maestro repository-policy set`.
type SetOptions struct {
	// Policy is the repository branch, its merge policies (parsed from
	// --merge-policy) and auto-merge.
	Policy maestro.RepositoryBranchPolicy
	JSON   bool
}

// GetOptions are the parsed flags of `maestro repository-policy get`.
type GetOptions struct {
	Repository string
	Branch     string
	JSON       bool
}

// ListOptions are the parsed flags of `maestro repository-policy list`.
type ListOptions struct {
	JSON bool
}

// DeleteOptions are the parsed flags of `maestro repository-policy delete`.
type DeleteOptions struct {
	Repository string
	Branch     string
}

// NewCmd returns `maestro repository-policy`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:  "repository-policy",
		Usage: "manage the merge policies of repository branches",
		Subcommands: []*cli.Command{
			NewCmdSet(f, nil), NewCmdGet(f, nil), NewCmdList(f, nil), NewCmdDelete(f, nil),
		},
	}
}

// repoFlags are the flags that name a repository branch, then more.
func repoFlags(more ...cli.Flag) []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "repository", Required: true, Usage: "repository `URL`"},
		&cli.StringFlag{Name: "branch", Required: true, Usage: "`BRANCH`"},
	}, more...)
}

// show writes one repository branch policy as a table or JSON.
func show(f *cmdutil.Factory, asJSON bool, p maestro.RepositoryBranchPolicy) error {
	return f.Render(asJSON, p, func(w io.Writer) {
		var names []string
		for _, mp := range p.MergePolicies {
			names = append(names, mp.Name)
		}
		cmdutil.Row(w, "repository:", p.Repository+" @ "+p.Branch)
		cmdutil.Row(w, "merge policies:", strings.Join(names, ", "))
		cmdutil.Row(w, "auto-merge:", p.AutoMerge)
		cmdutil.Row(w, "max open pull requests:", capText(p.MaxOpenPullRequests))
		cmdutil.Row(w, "max new pull requests per hour:", capText(p.MaxNewPullRequestsPerHour))
		if p.CheckCommand != "" {
			cmdutil.Row(w, "check command:", p.CheckCommand+" (time limit "+p.CheckTimeout().String()+")")
		}
	})
}

// capText shows a cap; 0 is none.
func capText(n int) string {
	if n == 0 {
		return "no cap"
	}
	return strconv.Itoa(n)
}

// NewCmdSet returns `maestro repository-policy set`; runF does the work (nil: setRun).
func NewCmdSet(f *cmdutil.Factory, runF func(*cli.Context, *SetOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *SetOptions) error { return setRun(c, f, o) }
	}
	return &cli.Command{
		Name: "set", Usage: "set the merge policies of a repository branch", ArgsUsage: " ",
		Flags: repoFlags(
			&cli.StringSliceFlag{Name: "merge-policy", Usage: "`NAME[:json-properties]`; repeatable"},
			&cli.BoolFlag{Name: "auto-merge", Value: true, Usage: "merge pull requests when their policies pass"},
			&cli.IntFlag{Name: "max-open-prs", Usage: "open at most `N` dependency-update pull requests into the branch at once; more updates wait (0: no cap)"},
			&cli.IntFlag{Name: "max-new-prs-per-hour", Usage: "open at most `N` new dependency-update pull requests into the branch in any hour (0: no cap)"},
			&cli.StringFlag{Name: "check-command", Usage: "local repositories: run `COMMAND` (sh -c) in a worktree of every head the flow pushes to a pull request, as its check"},
			&cli.DurationFlag{Name: "check-timeout", Usage: "stop the check command after `DURATION` (default 10m)"},
			cmdutil.StoreFlag, cmdutil.OutputFlag),
		Action: func(c *cli.Context) error {
			p := maestro.RepositoryBranchPolicy{Repository: c.String("repository"), Branch: c.String("branch"), AutoMerge: c.Bool("auto-merge"), MergePolicies: []maestro.MergePolicy{},
				MaxOpenPullRequests: c.Int("max-open-prs"), MaxNewPullRequestsPerHour: c.Int("max-new-prs-per-hour")}
			if p.MaxOpenPullRequests < 0 || p.MaxNewPullRequestsPerHour < 0 {
				return maestro.Errorf(maestro.KindInvalid, "--max-open-prs and --max-new-prs-per-hour take 0 (no cap) or more")
			}
			p.CheckCommand = c.String("check-command")
			if d := c.Duration("check-timeout"); d != 0 {
				if d < time.Second || p.CheckCommand == "" {
					return maestro.Errorf(maestro.KindInvalid, "--check-timeout %s: give a check command (--check-command) and at least 1s", d)
				}
				p.CheckTimeoutSeconds = int(d.Round(time.Second) / time.Second)
			}
			for _, raw := range c.StringSlice("merge-policy") {
				mp, err := subscription.ParseMergePolicy(raw)
				if err != nil {
					return err
				}
				p.MergePolicies = append(p.MergePolicies, mp)
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &SetOptions{Policy: p, JSON: asJSON})
		},
	}
}

func setRun(c *cli.Context, f *cmdutil.Factory, o *SetOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	if err := reg.SetRepositoryPolicy(c.Context, o.Policy); err != nil {
		return err
	}
	p, err := reg.RepositoryPolicy(c.Context, o.Policy.Repository, o.Policy.Branch)
	if err != nil {
		return err
	}
	return show(f, o.JSON, p)
}

// NewCmdGet returns `maestro repository-policy get`; runF does the work (nil: getRun).
func NewCmdGet(f *cmdutil.Factory, runF func(*cli.Context, *GetOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *GetOptions) error { return getRun(c, f, o) }
	}
	return &cli.Command{
		Name: "get", Usage: "show the merge policies of a repository branch", ArgsUsage: " ",
		Flags: repoFlags(cmdutil.StoreFlag, cmdutil.OutputFlag),
		Action: func(c *cli.Context) error {
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &GetOptions{Repository: c.String("repository"), Branch: c.String("branch"), JSON: asJSON})
		},
	}
}

func getRun(c *cli.Context, f *cmdutil.Factory, o *GetOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	p, err := reg.RepositoryPolicy(c.Context, o.Repository, o.Branch)
	if err != nil {
		return err
	}
	return show(f, o.JSON, p)
}

// NewCmdList returns `maestro repository-policy list`; runF does the work (nil: listRun).
func NewCmdList(f *cmdutil.Factory, runF func(*cli.Context, *ListOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *ListOptions) error { return listRun(c, f, o) }
	}
	return &cli.Command{
		Name: "list", Usage: "list every repository branch policy",
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
	ps, err := reg.RepositoryPolicies(c.Context)
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []maestro.RepositoryBranchPolicy{}
	}
	return f.Render(o.JSON, ps, func(w io.Writer) {
		cmdutil.Row(w, "REPOSITORY", "BRANCH", "POLICIES", "AUTO-MERGE")
		for _, p := range ps {
			var names []string
			for _, mp := range p.MergePolicies {
				names = append(names, mp.Name)
			}
			cmdutil.Row(w, p.Repository, p.Branch, strings.Join(names, ","), p.AutoMerge)
		}
	})
}

// NewCmdDelete returns `maestro repository-policy delete`; runF does the work (nil: deleteRun).
func NewCmdDelete(f *cmdutil.Factory, runF func(*cli.Context, *DeleteOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *DeleteOptions) error { return deleteRun(c, f, o) }
	}
	return &cli.Command{
		Name: "delete", Usage: "remove the merge policies of a repository branch", ArgsUsage: " ",
		Flags: repoFlags(cmdutil.StoreFlag),
		Action: func(c *cli.Context) error {
			return runF(c, &DeleteOptions{Repository: c.String("repository"), Branch: c.String("branch")})
		},
	}
}

func deleteRun(c *cli.Context, f *cmdutil.Factory, o *DeleteOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	if err := reg.DeleteRepositoryPolicy(c.Context, o.Repository, o.Branch); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "deleted the merge policies of %s@%s\n", o.Repository, o.Branch)
	return nil
}
