// Package speculative implements `maestro speculative`: speculative product
// builds (`build`) and their reports (`builds list|show`), and the trees of
// speculative pull requests (`status`).
package speculative

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/channel"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	spec "github.com/maestroplusplus/maestro/internal/speculative"
)

// BuildOptions are the parsed flags of `maestro speculative build`.
type BuildOptions struct {
	Channel  string
	Inject   []spec.Inject
	Parallel int
	Platform spec.Platform
	// Timeout bounds the wait for one Azure DevOps build.
	Timeout time.Duration
	JSON    bool
}

// NewCmd returns `maestro speculative`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:  "speculative",
		Usage: "speculative product builds and speculative pull requests: see a change reach the top of the product before it merges",
		Subcommands: []*cli.Command{
			NewCmdBuild(f, nil),
			NewCmdStatus(f, nil),
			{
				Name:        "builds",
				Usage:       "the reports of speculative product builds",
				Subcommands: []*cli.Command{newCmdList(f), newCmdShow(f)},
			},
		},
	}
}

// NewCmdBuild returns `maestro speculative build`; runF does the work (nil: buildRun).
func NewCmdBuild(f *cmdutil.Factory, runF func(*cli.Context, *BuildOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *BuildOptions) error { return buildRun(c, f, o) }
	}
	return &cli.Command{
		Name:      "build",
		Usage:     "build the repositories of a channel downstream of injected changes, with the versions built upstream",
		ArgsUsage: " ",
		Description: `Finds, from the dependencies the registry recorded for the latest build of each
repository of the channel (the repositories its default channels and
subscriptions name), every repository downstream of the injected ones, and
builds them in topological order, independent ones side by side (--parallel):
each is cloned at its latest build's commit in the channel (an injected one at
the given SHA), the speculative builds of its upstream repositories are applied
to its dependency files as a subscription's update would, and its repository
policy's build command runs there (sh -c) with MAESTRO_MANIFEST_DIR naming an
empty folder for the asset manifests it writes (then its test command, if any).
The manifests are recorded as a speculative build: apart from official builds,
non-shipping, in no channel, flowing nowhere.

With --platform azure-devops, each repository is built by the pipeline of its
official builds (the definition the registry recorded with them): the update is
planned on a clone of the repository at its commit and passed as the queue-time
variable MaestroSpeculativeUpdate (an update file, docs/update-file.md), with
MaestroProductBuild naming the run; the Builds API is polled with back-off (2 s,
doubling, at most 30 s apart) until the build completes, for at most --timeout;
its AssetManifests artifact is published as a speculative build. A partially
succeeded build (failing tests) makes its repository partially succeeded; a
failed, cancelled or timed-out build fails it. The pipeline's side is in
docs/pipelines.md. Azure DevOps is read with MAESTRO_AZDO_TOKEN.

A failing build command fails the repository and skips everything downstream
of it, saying why; a failing test command makes it partially succeeded and the
run goes on. The report (table or JSON: each repository's result, reason,
speculative build and time, the critical path, and the time the same change
took through mainline when the registry knows it) is kept in the registry
(maestro speculative builds list|show). Exit 0 when nothing failed (partially
succeeded included), 1 when a repository failed or was skipped; 2 for bad input
(an unknown channel, a repository without builds in it, a repository of the
plan without a build command, or on Azure DevOps without a recorded
definition), before anything is built.

Examples:
  maestro repository-policy set --repository /src/runtime --branch main --build-command ./build.sh
  maestro speculative build --channel '.NET 10' --inject /src/arcade@1f2e3d4c5b6a79880123456789abcdef01234567
  maestro speculative build --platform azure-devops --channel '.NET 10' \
      --inject https://dev.azure.com/dnceng/internal/_git/dotnet-arcade@1f2e3d4c5b6a79880123456789abcdef01234567`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "channel", Required: true, Usage: "the product's channel (`NAME` or id)"},
			&cli.StringSliceFlag{Name: "inject", Required: true, Usage: "a change to build: `REPO@SHA`; repeatable"},
			&cli.IntFlag{Name: "parallel", Value: 4, Usage: "build at most `N` repositories at once"},
			&cli.StringFlag{Name: "platform", Value: string(spec.PlatformLocal), Usage: "where to build: `local` (build commands) or azure-devops (official pipelines)"},
			&cli.DurationFlag{Name: "timeout", Value: 6 * time.Hour, Usage: "azure-devops: wait at most `DURATION` for one build"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return cmdutil.UsageErrorf("speculative build takes no arguments; got %q", c.Args().First())
			}
			if n := c.Int("parallel"); n < 1 || n > 64 {
				return cmdutil.UsageErrorf("--parallel %d: use 1 to 64", n)
			}
			o := &BuildOptions{Channel: c.String("channel"), Parallel: c.Int("parallel"), Platform: spec.Platform(c.String("platform")), Timeout: c.Duration("timeout")}
			if o.Platform != spec.PlatformLocal && o.Platform != spec.PlatformAzureDevOps {
				return cmdutil.UsageErrorf("--platform %q: use %s or %s", o.Platform, spec.PlatformLocal, spec.PlatformAzureDevOps)
			}
			if o.Timeout < time.Minute || o.Timeout > 7*24*time.Hour {
				return cmdutil.UsageErrorf("--timeout %s: use 1m to 168h", o.Timeout)
			}
			for _, raw := range c.StringSlice("inject") {
				in, err := spec.ParseInject(raw)
				if err != nil {
					return err
				}
				o.Inject = append(o.Inject, in)
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			o.JSON = asJSON
			return runF(c, o)
		},
	}
}

func buildRun(c *cli.Context, f *cmdutil.Factory, o *BuildOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	ch, err := channel.ResolveFlag(c, reg, o.Channel)
	if err != nil {
		return err
	}
	plan, err := spec.MakePlanOn(c.Context, reg, ch, o.Inject, o.Platform)
	if err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "speculative build of %d repositories of %s (%s)\n", len(plan.Nodes), ch.Name, o.Platform)
	var pb maestro.ProductBuild
	if o.Platform == spec.PlatformAzureDevOps {
		w := f.Wiring()
		run := &spec.AzureDevOps{Registry: reg, Connect: w.AzureDevOpsAccount, Parallel: o.Parallel, Now: f.Now, Timeout: o.Timeout,
			Platform: func(repo string) (platform.Platform, error) { return w.Platform(reg, repo) }}
		pb, err = run.Run(c.Context, plan)
	} else {
		run := &spec.Local{Registry: reg, Git: git.Runner{Author: git.Identity{Name: "Maestro++", Email: "maestro@localhost"}}, Parallel: o.Parallel, Now: f.Now}
		pb, err = run.Run(c.Context, plan)
	}
	if err != nil {
		return err
	}
	if err := render(f, o.JSON, pb); err != nil {
		return err
	}
	if pb.Result == maestro.SpeculativeFailed {
		var failed []string
		for _, e := range pb.Repositories {
			if e.Result == maestro.SpeculativeFailed {
				failed = append(failed, e.Repository)
			}
		}
		return fmt.Errorf("speculative product build %s: %s failed (the report above says why; `maestro speculative builds show --id %s` shows it again)", pb.ID, strings.Join(failed, ", "), pb.ID)
	}
	return nil
}

func newCmdList(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name: "list", Usage: "list speculative product builds, newest first", ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "limit", Value: 20, Usage: "at most `N`"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			if c.Int("limit") < 1 {
				return cmdutil.UsageErrorf("--limit %d: use 1 or more", c.Int("limit"))
			}
			reg, err := f.Registry(c)
			if err != nil {
				return err
			}
			pbs, err := reg.ProductBuilds(c.Context, c.Int("limit"))
			if err != nil {
				return err
			}
			if pbs == nil {
				pbs = []maestro.ProductBuild{}
			}
			return f.Render(asJSON, pbs, func(w io.Writer) {
				cmdutil.Row(w, "ID", "CHANNEL", "RESULT", "REPOSITORIES", "WALL", "INJECTED")
				for _, pb := range pbs {
					cmdutil.Row(w, pb.ID, pb.Channel.Name, pb.Result, len(pb.Repositories), fmt.Sprintf("%.1fs", pb.WallSeconds), strings.Join(pb.Inject, " "))
				}
			})
		},
	}
}

func newCmdShow(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name: "show", Usage: "show the report of a speculative product build", ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "id", Required: true, Usage: "the product build's `ID` (speculative builds list)"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			reg, err := f.Registry(c)
			if err != nil {
				return err
			}
			pb, err := reg.ProductBuild(c.Context, c.String("id"))
			if err != nil {
				return err
			}
			// The change may have flowed through mainline since the run.
			if err := spec.Mainline(c.Context, reg, &pb); err != nil {
				return err
			}
			return render(f, asJSON, pb)
		},
	}
}

// render writes a report as JSON or as a table: one row per repository in
// build order, then the totals and the critical path.
func render(f *cmdutil.Factory, asJSON bool, pb maestro.ProductBuild) error {
	return f.Render(asJSON, pb, func(w io.Writer) {
		cmdutil.Row(w, "REPOSITORY", "LEVEL", "RESULT", "BUILD", "TIME", "MAINLINE", "REASON")
		for _, e := range pb.Repositories {
			build := "-"
			if e.BuildID != 0 {
				build = fmt.Sprint(e.BuildID)
			}
			if e.AzureDevOpsBuildID != 0 {
				build += fmt.Sprintf(" (azdo %d)", e.AzureDevOpsBuildID)
			}
			name := e.Repository
			if e.Injected {
				name += " (injected)"
			}
			cmdutil.Row(w, name, e.Level, e.Result, build, fmt.Sprintf("%.1fs", e.Seconds), mainline(e.MainlineSeconds, e.MainlineBuildID), firstLine(e.Reason))
		}
		fmt.Fprintln(w)
		cmdutil.Row(w, "product build:", pb.ID)
		cmdutil.Row(w, "channel:", pb.Channel.Name)
		cmdutil.Row(w, "result:", pb.Result)
		cmdutil.Row(w, "wall time:", fmt.Sprintf("%.1fs", pb.WallSeconds))
		cmdutil.Row(w, "critical path:", fmt.Sprintf("%s (%.1fs)", strings.Join(pb.CriticalPath, " → "), pb.CriticalPathSeconds))
		cmdutil.Row(w, "through mainline:", mainline(pb.MainlineSeconds, 0))
	})
}

// mainline shows a mainline time (and the build that ended it): unknown
// when the registry cannot tell.
func mainline(secs *float64, build int) string {
	if secs == nil {
		return "unknown"
	}
	d := time.Duration(*secs * float64(time.Second)).Round(time.Second).String()
	if build != 0 {
		d += fmt.Sprintf(" (build %d)", build)
	}
	return d
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// StatusOptions are the parsed flags of `maestro speculative status`.
type StatusOptions struct {
	PullRequest string
	JSON        bool
}

// NewCmdStatus returns `maestro speculative status`; runF does the work (nil: statusRun).
func NewCmdStatus(f *cmdutil.Factory, runF func(*cli.Context, *StatusOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *StatusOptions) error { return statusRun(c, f, o) }
	}
	return &cli.Command{
		Name:  "status",
		Usage: "show the tree of speculative pull requests below a pull request",
		Description: `Prints the speculative pull requests below --pull-request (every one without
it), root first and down each chain: repository, pull request, state (open,
moved, merged, closed), the speculative build it carries (or the mainline build
it moved to), the gate SpeculativeParentsMerged as the ancestors stand now
(read from their hosts), and what it waits for.`,
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "pull-request", Usage: "the root (or any) pull request of the tree (`URL`)"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return cmdutil.UsageErrorf("status takes no arguments; got %q", c.Args().First())
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &StatusOptions{PullRequest: strings.TrimSpace(c.String("pull-request")), JSON: asJSON})
		},
	}
}

func statusRun(c *cli.Context, f *cmdutil.Factory, o *StatusOptions) error {
	svc, err := f.Service(c)
	if err != nil {
		return err
	}
	nodes, err := svc.SpeculativeTree(c.Context, o.PullRequest)
	if err != nil {
		return err
	}
	return f.Render(o.JSON, nodes, func(w io.Writer) {
		if len(nodes) == 0 {
			fmt.Fprintln(w, "no speculative pull requests")
			return
		}
		cmdutil.Row(w, "REPOSITORY", "PULL REQUEST", "STATE", "BUILD", "GATE", "WAITS FOR")
		for _, n := range nodes {
			pr := n.PullRequestURL
			if pr == "" {
				pr = "(not opened yet)"
			}
			build := "-"
			switch {
			case n.MainlineBuildID != 0:
				build = fmt.Sprintf("%d (mainline)", n.MainlineBuildID)
			case n.AppliedBuildID != 0:
				build = fmt.Sprint(n.AppliedBuildID)
			}
			if n.BuildID > n.AppliedBuildID && n.State == maestro.SpeculativeOpen {
				build += fmt.Sprintf(" (%d due)", n.BuildID)
			}
			gate := n.Gate
			if n.GateError != "" {
				gate = "unknown: " + firstLine(n.GateError)
			}
			cmdutil.Row(w, strings.Repeat("  ", n.Depth-1)+n.TargetRepository, pr, n.State, build, cmp.Or(gate, "-"), cmp.Or(firstLine(n.Waiting), "-"))
		}
	})
}
