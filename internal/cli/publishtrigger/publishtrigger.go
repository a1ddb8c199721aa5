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
reads Azure DevOps with MAESTRO_AZDO_TOKEN.`,
		Subcommands: []*cli.Command{NewCmdSet(f, nil), NewCmdList(f, nil), NewCmdRemove(f, nil)},
	}
}

var pipelineFlag = &cli.StringFlag{Name: "pipeline", Required: true, Usage: "the pipeline's `URL`, https://dev.azure.com/ORG/PROJECT/_build?definitionId=ID"}

func parsePipeline(c *cli.Context) (*PipelineOptions, error) {
	if c.Args().Present() {
		return nil, cmdutil.UsageErrorf("publish-trigger %s takes no arguments; got %q", c.Command.Name, c.Args().First())
	}
	p, err := azdo.ParsePipelineURL(c.String("pipeline"))
	if err != nil {
		return nil, cmdutil.UsageErrorf("--pipeline: %v", err)
	}
	return &PipelineOptions{Trigger: maestro.PublishTrigger{Organization: p.Organization, Project: p.Project, DefinitionID: p.PipelineID}}, nil
}

// NewCmdSet returns `maestro publish-trigger set`; runF does the work (nil: setRun).
func NewCmdSet(f *cmdutil.Factory, runF func(*cli.Context, *PipelineOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *PipelineOptions) error { return setRun(c, f, o) }
	}
	return &cli.Command{
		Name: "set", Usage: "opt a pipeline in to the publish trigger", ArgsUsage: " ",
		Description: "Example:\n  maestro publish-trigger set --pipeline 'https://dev.azure.com/dnceng/internal/_build?definitionId=679'",
		Flags:       []cli.Flag{pipelineFlag, cmdutil.StoreFlag},
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
		fmt.Fprintf(f.IO.Out, "publish trigger set for definition %d of %s/%s\n", o.Trigger.DefinitionID, o.Trigger.Organization, o.Trigger.Project)
	} else {
		fmt.Fprintf(f.IO.Out, "definition %d of %s/%s was opted in already\n", o.Trigger.DefinitionID, o.Trigger.Organization, o.Trigger.Project)
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
		cmdutil.Row(w, "ORGANIZATION", "PROJECT", "DEFINITION")
		for _, t := range ts {
			cmdutil.Row(w, t.Organization, t.Project, strconv.Itoa(t.DefinitionID))
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
		Flags: []cli.Flag{pipelineFlag, cmdutil.StoreFlag},
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
	fmt.Fprintf(f.IO.Out, "publish trigger removed for definition %d of %s/%s\n", o.Trigger.DefinitionID, o.Trigger.Organization, o.Trigger.Project)
	return nil
}
