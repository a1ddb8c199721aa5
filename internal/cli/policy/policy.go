// Package policy implements `maestro repository-policy`: the merge policies of
// a repository branch, which batchable subscriptions into it use.
package policy

import (
	"fmt"
	"io"
	"slices"
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
	// --merge-policy), auto-merge (--auto-merge on|off) and merge method
	// (--merge-method squash|native, lower-cased), caps and check command.
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
		cmdutil.Row(w, "auto-merge:", onOff(p.AutoMerge))
		cmdutil.Row(w, "merge method:", methodText(p))
		cmdutil.Row(w, "max open pull requests:", capText(p.MaxOpenPullRequests))
		cmdutil.Row(w, "max new pull requests per hour:", capText(p.MaxNewPullRequestsPerHour))
		if p.CheckCommand != "" {
			cmdutil.Row(w, "check command:", p.CheckCommand+" (time limit "+p.CheckTimeout().String()+")")
		}
		if p.BuildCommand != "" {
			cmdutil.Row(w, "build command:", p.BuildCommand)
		}
		if p.TestCommand != "" {
			cmdutil.Row(w, "test command:", p.TestCommand)
		}
	})
}

// onOff shows auto-merge as the flag spells it.
func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// methodText shows the merge method with what it does.
func methodText(p maestro.RepositoryBranchPolicy) string {
	switch m := p.EffectiveMergeMethod(); m {
	case maestro.MergeMethodSquash:
		return m + " (squash merge, branch deleted)"
	case maestro.MergeMethodNative:
		return m + " (the host's auto-merge / auto-complete)"
	default:
		return m
	}
}

// parseAutoMerge reads --auto-merge: on or off, in any case.
func parseAutoMerge(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, cmdutil.UsageErrorf("--auto-merge %q: use on or off", v)
}

// parseMergeMethod reads --merge-method: squash or native, in any case.
func parseMergeMethod(v string) (string, error) {
	m := strings.ToLower(v)
	if !slices.Contains(maestro.MergeMethods, m) {
		return "", cmdutil.UsageErrorf("--merge-method %q: use %s", v, strings.Join(maestro.MergeMethods, " or "))
	}
	return m, nil
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
		Description: "set replaces the whole policy of the branch: a flag left out takes its default,\n" +
			"not the value stored before (auto-merge on, merge method squash, no caps, no check, build or test command).",
		Flags: repoFlags(
			&cli.StringSliceFlag{Name: "merge-policy", Usage: "`NAME[:json-properties]`; repeatable"},
			&cli.StringFlag{Name: "auto-merge", Value: "on", Usage: "`on|off`: whether the branch's dependency-update pull requests are merged automatically once every merge policy succeeds (off: they wait for a person)"},
			&cli.StringFlag{Name: "merge-method", Value: maestro.MergeMethodSquash, Usage: "`squash|native`: how auto-merge merges. squash: Maestro++ squash-merges the pull request and deletes its branch (Azure DevOps: completes it with the squash strategy); " +
				"native: Maestro++ turns on GitHub auto-merge / Azure DevOps auto-complete instead, which honours branch protection such as required reviewers. Kept while auto-merge is off"},
			&cli.IntFlag{Name: "max-open-prs", Usage: "open at most `N` dependency-update pull requests into the branch at once; more updates wait (0: no cap)"},
			&cli.IntFlag{Name: "max-new-prs-per-hour", Usage: "open at most `N` new dependency-update pull requests into the branch in any hour (0: no cap)"},
			&cli.StringFlag{Name: "check-command", Usage: "local repositories: run `COMMAND` (sh -c) in a worktree of every head the flow pushes to a pull request, as its check"},
			&cli.DurationFlag{Name: "check-timeout", Usage: "stop the check command after `DURATION` (default 10m)"},
			&cli.StringFlag{Name: "build-command", Usage: "local repositories: how `maestro speculative build` builds the branch: `COMMAND` (sh -c) run in a worktree with the update applied, writing asset manifests into $MAESTRO_MANIFEST_DIR"},
			&cli.StringFlag{Name: "test-command", Usage: "with --build-command: `COMMAND` (sh -c) run after a successful build; failing makes the build partially succeeded"},
			cmdutil.StoreFlag, cmdutil.OutputFlag),
		Action: func(c *cli.Context) error {
			autoMerge, err := parseAutoMerge(c.String("auto-merge"))
			if err != nil {
				return err
			}
			method, err := parseMergeMethod(c.String("merge-method"))
			if err != nil {
				return err
			}
			p := maestro.RepositoryBranchPolicy{Repository: c.String("repository"), Branch: c.String("branch"), AutoMerge: autoMerge, MergeMethod: method, MergePolicies: []maestro.MergePolicy{},
				MaxOpenPullRequests: c.Int("max-open-prs"), MaxNewPullRequestsPerHour: c.Int("max-new-prs-per-hour")}
			if p.MaxOpenPullRequests < 0 || p.MaxNewPullRequestsPerHour < 0 {
				return maestro.Errorf(maestro.KindInvalid, "--max-open-prs and --max-new-prs-per-hour take 0 (no cap) or more")
			}
			p.CheckCommand = c.String("check-command")
			p.BuildCommand, p.TestCommand = c.String("build-command"), c.String("test-command")
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
		cmdutil.Row(w, "REPOSITORY", "BRANCH", "POLICIES", "AUTO-MERGE", "MERGE-METHOD")
		for _, p := range ps {
			var names []string
			for _, mp := range p.MergePolicies {
				names = append(names, mp.Name)
			}
			cmdutil.Row(w, p.Repository, p.Branch, strings.Join(names, ","), onOff(p.AutoMerge), p.EffectiveMergeMethod())
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
