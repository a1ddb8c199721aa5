package registry

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// InitOptions are the parsed flags of `registry init`.
type InitOptions struct {
	JSON bool
}

// InitResult is what `registry init --output json` prints.
type InitResult struct {
	Store   string `json:"store"`
	Created bool   `json:"created"`
	// RaisedFrom is the format version init raised the registry from (0:
	// it did not raise it).
	RaisedFrom int             `json:"raisedFrom,omitempty"`
	Format     registry.Format `json:"format"`
}

// NewInitCmd returns `maestro registry init`; run does the work (tests
// capture the options through it; nil means the real one).
func NewInitCmd(f *cmdutil.Factory, run func(*cli.Context, *InitOptions) error) *cli.Command {
	if run == nil {
		run = func(c *cli.Context, o *InitOptions) error { return runInit(c, f, o) }
	}
	return &cli.Command{
		Name:      "init",
		Usage:     "create a registry in the store --store names",
		ArgsUsage: " ",
		Description: `Creates the store's folder (file://) or container (azblob://) if needed and
writes the format marker (meta/format.json, with the layout version). Every
other command refuses a store without a marker, so a mistyped --store fails
instead of starting an empty registry. Running init on an existing registry
of the current format version changes nothing; on a registry of an older
version it raises the marker's version (no other document changes: this
maestro reads every older version's documents; a maestro that reads only the
older version refuses the registry from then on). A store written by a
maestro from before markers existed is
migrated first: its indexes are rebuilt from the build records, as
maestro registry repair does, and then the marker is written.

Example:
  maestro registry init --store azblob://maestro`,
		Flags: []cli.Flag{cmdutil.StoreFlag, cmdutil.OutputFlag},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return cmdutil.UsageErrorf("registry init takes no arguments; got %q", c.Args().First())
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return run(c, &InitOptions{JSON: asJSON})
		},
	}
}

func runInit(c *cli.Context, f *cmdutil.Factory, o *InitOptions) error {
	reg, created, err := f.CreateRegistry(c)
	if err != nil {
		return err
	}
	from, err := reg.Upgrade(c.Context)
	if err != nil {
		return fmt.Errorf("%s: %w", f.StoreName(c), err)
	}
	format, err := reg.CheckFormat(c.Context)
	if err != nil {
		return err
	}
	res := InitResult{Store: f.StoreName(c), Created: created, Format: format}
	if from < format.Version {
		res.RaisedFrom = from
	}
	return f.Render(o.JSON, res, func(w io.Writer) {
		switch {
		case created:
			fmt.Fprintf(w, "created a registry at %s (format version %d)\n", res.Store, format.Version)
		case res.RaisedFrom != 0:
			fmt.Fprintf(w, "raised the registry at %s from format version %d to %d; a maestro that reads only version %d now refuses it: update every maestro that uses this registry\n",
				res.Store, res.RaisedFrom, format.Version, res.RaisedFrom)
		default:
			fmt.Fprintf(w, "a registry exists at %s already (format version %d); nothing changed\n", res.Store, format.Version)
		}
	})
}
