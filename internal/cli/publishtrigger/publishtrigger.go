// Package publishtrigger implements `maestro publish-trigger`: which Azure
// DevOps pipelines `maestro serve` publishes on their own, from the build's
// AssetManifests artifact, when a service hook reports a successful build.
package publishtrigger

import (
	"fmt"
	"io"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// PipelineOptions name one pipeline (`set`, `remove`).
type PipelineOptions struct {
	Trigger maestro.PublishTrigger
}

// ListOptions are the parsed flags of `maestro publish-trigger list`.
type ListOptions struct{ JSON bool }

// NewCmd returns `maestro publish-trigger`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:  "publish-trigger",
		Usage: "choose the pipelines whose builds maestro serve publishes from their asset manifests",
		Description: `A pipeline opted in is published by ` + "`maestro serve`" + ` (with --azure-devops-hooks)
when an Azure DevOps service hook reports one of its builds succeeded or
partially succeeded (build.complete or ms.vss-pipelines.run-state-changed-event):
the server lists the build's artifacts, downloads AssetManifests (where
Arcade uploads its asset manifests) and publishes them as ` + "`maestro publish`" + `
would, assigning default channels, then flows the build. A build the
pipeline's own publish task recorded is not recorded twice, and a build that
` + "`maestro speculative build --platform azure-devops`" + ` queued (triggerInfo
maestro.productBuild) is left to it: it records it as a speculative build. The server
reads Azure DevOps with MAESTRO_AZDO_TOKEN.

A pipeline's pull request builds (build reason pullRequest) opt in apart,
with --pull-requests: each succeeded one is recorded as a speculative build of
its pull request (the URL from the build's repository and pr.number, the head
commit from pr.sourceSha), as ` + "`maestro publish --speculative --pull-request URL`" + `
records it, and flows to the subscriptions that opt in to speculative flow.
A pull request build of a pipeline opted in only for its official builds is
never recorded, and an official build of a pipeline opted in only for its pull
request builds is not published either.`,
		Subcommands: []*cli.Command{NewCmdSet(f, nil), NewCmdList(f, nil), NewCmdRemove(f, nil)},
	}
}

var pipelineFlag = &cli.StringFlag{Name: "pipeline", Required: true, Usage: "the pipeline's `URL`, https://dev.azure.com/ORG/PROJECT/_build?definitionId=ID"}

var pullRequestsFlag = &cli.BoolFlag{Name: "pull-requests", Usage: "the pipeline's pull request builds (published as speculative builds of their pull request), not its official builds"}

func parsePipeline(c *cli.Context) (*PipelineOptions, error) {
	if c.Args().Present() {
		return nil, cmdutil.UsageErrorf("publish-trigger %s takes no arguments; got %q", c.Command.Name, c.Args().First())
	}
	p, err := azdo.ParsePipelineURL(c.String("pipeline"))
	if err != nil {
		return nil, cmdutil.UsageErrorf("--pipeline: %v", err)
	}
	return &PipelineOptions{Trigger: maestro.PublishTrigger{Organization: p.Organization, Project: p.Project, DefinitionID: p.PipelineID,
		PullRequests: c.Bool(pullRequestsFlag.Name)}}, nil
}

// NewCmdSet returns `maestro publish-trigger set`; runF does the work (nil: setRun).
func NewCmdSet(f *cmdutil.Factory, runF func(*cli.Context, *PipelineOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *PipelineOptions) error { return setRun(c, f, o) }
	}
	return &cli.Command{
		Name: "set", Usage: "opt a pipeline in to the publish trigger", ArgsUsage: " ",
		Description: "Examples:\n  maestro publish-trigger set --pipeline 'https://dev.azure.com/dnceng/internal/_build?definitionId=679'\n" +
			"  maestro publish-trigger set --pull-requests --pipeline 'https://dev.azure.com/dnceng-public/public/_build?definitionId=129'",
		Flags: []cli.Flag{pipelineFlag, pullRequestsFlag, cmdutil.StoreFlag},
		Action: func(c *cli.Context) error {
			o, err := parsePipeline(c)
			if err != nil {
				return err
			}
			return runF(c, o)
		},
	}
}

func setRun(c *cli.Context, f *cmdutil.Factory, o *PipelineOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	added, err := reg.SetPublishTrigger(c.Context, o.Trigger, f.Wiring())
	if err != nil {
		return err
	}
	if added {
		fmt.Fprintf(f.IO.Out, "publish trigger set for %s\n", describe(o.Trigger))
	} else {
		fmt.Fprintf(f.IO.Out, "%s was opted in already\n", describe(o.Trigger))
	}
	return nil
}

// NewCmdList returns `maestro publish-trigger list`; runF does the work (nil: listRun).
func NewCmdList(f *cmdutil.Factory, runF func(*cli.Context, *ListOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *ListOptions) error { return listRun(c, f, o) }
	}
	return &cli.Command{
		Name: "list", Usage: "list the pipelines opted in to the publish trigger", ArgsUsage: " ",
		Flags: []cli.Flag{cmdutil.StoreFlag, cmdutil.OutputFlag},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return cmdutil.UsageErrorf("publish-trigger list takes no arguments; got %q", c.Args().First())
			}
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
	ts, err := reg.PublishTriggers(c.Context)
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []maestro.PublishTrigger{}
	}
	return f.Render(o.JSON, ts, func(w io.Writer) {
		cmdutil.Row(w, "ORGANIZATION", "PROJECT", "DEFINITION", "BUILDS")
		for _, t := range ts {
			cmdutil.Row(w, t.Organization, t.Project, strconv.Itoa(t.DefinitionID), t.Builds())
		}
	})
}

// NewCmdRemove returns `maestro publish-trigger remove`; runF does the work (nil: removeRun).
func NewCmdRemove(f *cmdutil.Factory, runF func(*cli.Context, *PipelineOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *PipelineOptions) error { return removeRun(c, f, o) }
	}
	return &cli.Command{
		Name: "remove", Usage: "opt a pipeline out of the publish trigger", ArgsUsage: " ",
		Flags: []cli.Flag{pipelineFlag, pullRequestsFlag, cmdutil.StoreFlag},
		Action: func(c *cli.Context) error {
			o, err := parsePipeline(c)
			if err != nil {
				return err
			}
			return runF(c, o)
		},
	}
}

func removeRun(c *cli.Context, f *cmdutil.Factory, o *PipelineOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	if err := reg.DeletePublishTrigger(c.Context, o.Trigger); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "publish trigger removed for %s\n", describe(o.Trigger))
	return nil
}

// describe names a trigger's builds: "definition N of ORG/PROJECT" (its
// official builds), or "the pull request builds of definition N of ...".
func describe(t maestro.PublishTrigger) string {
	d := fmt.Sprintf("definition %d of %s/%s", t.DefinitionID, t.Organization, t.Project)
	if t.PullRequests {
		return "the pull request builds of " + d
	}
	return d
}
