package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/gather"
	"github.com/maestroplusplus/maestro/internal/graph"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service/wire"
)

// EnvBlobSASURLs names the containers gather-drop reads with a SAS.
const EnvBlobSASURLs = "MAESTRO_BLOB_SAS_URLS"

// GatherDropOptions are the parsed flags of `maestro build gather-drop`.
type GatherDropOptions struct {
	ID             int
	OutputDir      string
	IncludeToolset bool
	DryRun         bool
	JSON           bool
}

// NewCmdGatherDrop returns `maestro build gather-drop`; runF does the work
// (nil: gatherDropRun).
func NewCmdGatherDrop(f *cmdutil.Factory, runF func(*cli.Context, *GatherDropOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *GatherDropOptions) error { return gatherDropRun(c, f, o) }
	}
	return &cli.Command{
		Name:      "gather-drop",
		Usage:     "download every asset of a build and of its product dependencies into a folder",
		ArgsUsage: " ",
		Description: `Downloads the assets of the build and of every build it depends on through product
dependencies, as the registry recorded them at publish (--include-toolset: toolset
dependencies too), from their recorded locations: NuGet v3 feeds, Azure Blob
containers and local files. The folder gets production's layout —
shipping/packages, shipping/assets, nonshipping/packages, nonshipping/assets — and
manifest.json, which lists every file with its source, size, SHA-256 and the
checksum it was verified against (the feed's package hash, a blob's Content-MD5).

Four files download at a time, each to FILE.partial, renamed once complete and
verified; a checksum mismatch is an error and the file is not kept. Run the same
command again to resume: files already there are verified and kept.

Credentials come from the environment: MAESTRO_AZDO_TOKEN (or SYSTEM_ACCESSTOKEN) for
Azure Artifacts feeds, MAESTRO_BLOB_SAS_URLS (container URLs with a read SAS, separated
by spaces or new lines) for private containers.`,
		Flags: []cli.Flag{
			idFlag(),
			&cli.StringFlag{Name: "output-dir", Required: true, Usage: "`FOLDER` to gather into: new, empty, or an earlier gather of the same build to resume"},
			&cli.BoolFlag{Name: "include-toolset", Usage: "also gather the builds of toolset dependencies"},
			&cli.BoolFlag{Name: "dry-run", Usage: "list what would be downloaded; write and download nothing"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			if c.Int("id") <= 0 {
				return cmdutil.UsageErrorf("--id %d: a BAR build id is a positive number", c.Int("id"))
			}
			if strings.TrimSpace(c.String("output-dir")) == "" {
				return cmdutil.UsageErrorf("--output-dir is empty: name the folder to gather the drop into")
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &GatherDropOptions{ID: c.Int("id"), OutputDir: c.String("output-dir"),
				IncludeToolset: c.Bool("include-toolset"), DryRun: c.Bool("dry-run"), JSON: asJSON})
		},
	}
}

func gatherDropRun(c *cli.Context, f *cmdutil.Factory, o *GatherDropOptions) error {
	ctx := c.Context
	creds, err := gatherCredentials(f)
	if err != nil {
		return err
	}
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	m, items, err := planDrop(ctx, reg, o.ID, o.IncludeToolset, f.Now)
	if err != nil {
		return err
	}
	if err := gather.CheckDir(o.OutputDir, m); err != nil {
		return err
	}
	for _, id := range m.MissingBuilds {
		cmdutil.Warn(f.IO.ErrOut, fmt.Sprintf("build %d is a dependency the registry no longer holds; its assets are not gathered", id), f.Getenv)
	}
	if o.DryRun {
		public := make([]gather.Item, len(items))
		for i, it := range items {
			public[i] = it.Public()
		}
		return f.Render(o.JSON, public, func(w io.Writer) {
			cmdutil.Row(w, "PATH", "BUILD", "LOCATIONS")
			for _, it := range public {
				var locs []string
				for _, l := range it.Locations {
					locs = append(locs, l.Location)
				}
				cmdutil.Row(w, it.Path, it.BuildID, strings.Join(locs, " "))
			}
			fmt.Fprintf(w, "%d files from %d builds would be gathered into %s (dry run: nothing written)\n", len(items), len(m.Builds), o.OutputDir)
		})
	}

	drop, err := gather.Open(o.OutputDir, m)
	if err != nil {
		return err
	}
	defer drop.Close()
	progressOut := f.IO.ErrOut
	present := 0
	g := &gather.Gatherer{Dir: o.OutputDir, Credentials: creds, Progress: func(e gather.Event) {
		switch {
		case e.Err != nil:
			fmt.Fprintf(progressOut, "[%d/%d] %s: failed\n", e.Done, e.Total, e.Entry.Path)
		case e.Present:
			present++
			fmt.Fprintf(progressOut, "[%d/%d] %s: already there\n", e.Done, e.Total, e.Entry.Path)
		default:
			fmt.Fprintf(progressOut, "[%d/%d] %s: %d bytes from %s\n", e.Done, e.Total, e.Entry.Path, e.Entry.Size, e.Entry.Source)
		}
		cmdutil.Progress(progressOut, f.Getenv, "gathering the drop", e.Done, e.Total)
	}}
	entries, gerr := g.Gather(ctx, items)
	m.Assets, m.Complete = entries, gerr == nil
	if err := drop.WriteManifest(m); err != nil {
		return errors.Join(gerr, err)
	}
	if gerr != nil {
		msg := fmt.Sprintf("gather-drop of build %d: %d of %d files failed (the %d gathered are kept; run the command again to resume):\n%v",
			o.ID, len(items)-len(entries), len(items), len(entries), gerr)
		if allNotFound(gerr) {
			return maestro.Errorf(maestro.KindNotFound, "%s", msg)
		}
		return errors.New(msg)
	}
	return f.Render(o.JSON, m.Filled(), func(w io.Writer) {
		fmt.Fprintf(w, "gathered %d files from %d builds into %s (%d already there)\n", len(entries), len(m.Builds), o.OutputDir, present)
		fmt.Fprintf(w, "manifest: %s\n", filepath.Join(o.OutputDir, gather.ManifestName))
	})
}

// planDrop reads the build, the builds its recorded dependencies reach
// (graph.Walk, as `maestro graph build` reads them) and their assets, and
// lays them out.
func planDrop(ctx context.Context, reg *registry.Registry, id int, toolset bool, now func() time.Time) (gather.Manifest, []gather.Item, error) {
	g, err := graph.Walk(ctx, reg, id, 0, now())
	if err != nil {
		return gather.Manifest{}, nil, err
	}
	ids, missing := g.Closure(toolset)
	m := gather.Manifest{RootBuild: id, IncludeToolset: toolset, MissingBuilds: missing}
	builds := make([]maestro.Build, 0, len(ids))
	for _, bid := range ids {
		b, err := reg.Build(ctx, bid)
		if err != nil {
			return m, nil, fmt.Errorf("read build %d: %w", bid, err)
		}
		builds = append(builds, b)
		m.Builds = append(m.Builds, gather.BuildOf(b))
	}
	items, err := gather.Plan(builds)
	return m, items, err
}

// gatherCredentials reads the feed token and the containers' SAS from the
// environment; a malformed value is bad input, named without its secret.
func gatherCredentials(f *cmdutil.Factory) (gather.Credentials, error) {
	auth, secrets, err := wire.Env{Getenv: f.Getenv, Now: f.Now}.FeedAuthorization()
	if err != nil {
		return gather.Credentials{}, err
	}
	sas, sasSecrets, err := gather.ParseSASURLs(f.Getenv(EnvBlobSASURLs))
	if err != nil {
		return gather.Credentials{}, maestro.Errorf(maestro.KindInvalid, "%s: %v", EnvBlobSASURLs, err)
	}
	return gather.Credentials{Authorization: auth, SAS: sas, Secrets: append(secrets, sasSecrets...)}, nil
}

// allNotFound reports whether every error Gather joined is an asset no
// location has (exit 3); any other failure makes the run's exit 1.
func allNotFound(err error) bool {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return maestro.KindOf(err) == maestro.KindNotFound
	}
	for _, e := range j.Unwrap() {
		if maestro.KindOf(e) != maestro.KindNotFound {
			return false
		}
	}
	return true
}
