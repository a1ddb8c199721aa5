// Package deps implements `maestro deps`: reading, checking and updating a
// repository's dependency files (eng/Version.Details.xml and the files that
// follow it) the way dependency-flow pull requests do.
package deps

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

var dirFlag = &cli.StringFlag{Name: "dir", Value: ".", Usage: "repository root `DIR`"}

// ListOptions are the parsed flags of `maestro deps list`.
type ListOptions struct {
	Dir  string
	JSON bool
}

// VerifyOptions are the parsed flags of `maestro deps verify`.
type VerifyOptions struct {
	Dir  string
	JSON bool
}

// UpdateMode is where `maestro deps update` takes the new versions from.
type UpdateMode int

// The modes of `maestro deps update`, one per flag.
const (
	FromFile      UpdateMode = iota + 1 // --from-file
	FromBuild                           // --build
	CoherencyOnly                       // --coherency-only
)

// UpdateOptions are the parsed flags of `maestro deps update`.
type UpdateOptions struct {
	Dir      string
	Mode     UpdateMode
	FromFile string // with FromFile
	BuildID  int    // with FromBuild
	// Options holds --dry-run, --exclude-asset and --arcade-checkout.
	Options deps.Options
	JSON    bool
}

// AddOptions are the parsed flags of `maestro deps add`.
type AddOptions struct {
	Dir        string
	Dependency deps.NewDependency
	DryRun     bool
}

// NewCmd returns `maestro deps`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:  "deps",
		Usage: "read, check and update a repository's dependency files",
		Subcommands: []*cli.Command{
			NewCmdUpdate(f, nil),
			NewCmdList(f, nil),
			NewCmdVerify(f, nil),
			NewCmdAdd(f, nil),
		},
	}
}

// NewCmdList returns `maestro deps list`; runF does the work (nil: listRun).
func NewCmdList(f *cmdutil.Factory, runF func(*cli.Context, *ListOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *ListOptions) error { return listRun(f, o) }
	}
	return &cli.Command{
		Name: "list", Usage: "list the dependencies in eng/Version.Details.xml",
		Flags: []cli.Flag{dirFlag, cmdutil.OutputFlag},
		Action: func(c *cli.Context) error {
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &ListOptions{Dir: c.String("dir"), JSON: asJSON})
		},
	}
}

func listRun(f *cmdutil.Factory, o *ListOptions) error {
	l, err := deps.List(o.Dir)
	if err != nil {
		return err
	}
	return f.Render(o.JSON, l, func(w io.Writer) {
		cmdutil.Row(w, "NAME", "VERSION", "TYPE", "SHA", "URI", "NOTES")
		for _, d := range l.Dependencies {
			cmdutil.Row(w, d.Name, d.Version, d.Type, cmdutil.ShortSHA(d.Sha), d.URI, notes(d))
		}
	})
}

// NewCmdVerify returns `maestro deps verify`; runF does the work (nil: verifyRun).
func NewCmdVerify(f *cmdutil.Factory, runF func(*cli.Context, *VerifyOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *VerifyOptions) error { return verifyRun(f, o) }
	}
	return &cli.Command{
		Name:  "verify",
		Usage: "check that the version files agree with each other",
		Description: `Every dependency not marked SkipProperty has its version property (in
Versions.props or Version.Details.props) or global.json entry with the version
Version.Details.xml records; Version.Details.props is imported by
Versions.props and has no orphan properties. Prints one line per problem and
exits non-zero when there is any.`,
		Flags: []cli.Flag{dirFlag, cmdutil.OutputFlag},
		Action: func(c *cli.Context) error {
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &VerifyOptions{Dir: c.String("dir"), JSON: asJSON})
		},
	}
}

func verifyRun(f *cmdutil.Factory, o *VerifyOptions) error {
	problems, err := deps.Verify(o.Dir)
	if err != nil {
		return err
	}
	if problems == nil {
		problems = []deps.Problem{}
	}
	if err := f.Render(o.JSON, problems, func(w io.Writer) {
		for _, p := range problems {
			fmt.Fprintln(w, p)
		}
	}); err != nil {
		return err
	}
	if len(problems) > 0 {
		return maestro.Errorf(maestro.KindInvalid, "%d problem(s) in the version files of %s", len(problems), o.Dir)
	}
	return nil
}

// NewCmdUpdate returns `maestro deps update`; runF does the work (nil: updateRun).
func NewCmdUpdate(f *cmdutil.Factory, runF func(*cli.Context, *UpdateOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *UpdateOptions) error { return updateRun(c, f, o) }
	}
	return &cli.Command{
		Name:  "update",
		Usage: "move dependencies to new versions",
		Description: `One of:
  --from-file UPDATES.json   apply an update file (docs/update-file.md)
  --build BAR_ID             take the assets of a build in the registry, matched
                             to dependencies by name; coherency follows
  --coherency-only           only move coherent dependencies to the versions their
                             parents' builds depended on
Excluded assets and pinned dependencies are left alone. --dry-run prints the
diff instead of writing. Either every file is written or none.`,
		Flags: []cli.Flag{
			dirFlag,
			&cli.StringFlag{Name: "from-file", Usage: "update file `PATH`"},
			&cli.IntFlag{Name: "build", Usage: "BAR build `ID` to take assets from"},
			&cli.BoolFlag{Name: "coherency-only", Usage: "only the coherency pass"},
			&cli.StringSliceFlag{Name: "exclude-asset", Usage: "asset name `PATTERN` (* wildcard) to leave alone; repeatable"},
			&cli.StringFlag{Name: "arcade-checkout", Usage: "a checkout of Arcade (`DIR`) to copy eng/common and the SDK version from when Arcade moves"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the diff, write nothing"},
			cmdutil.StoreFlag, cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			o := &UpdateOptions{
				Dir:     c.String("dir"),
				Options: deps.Options{DryRun: c.Bool("dry-run"), ExcludeAssets: c.StringSlice("exclude-asset"), ArcadeCheckout: c.String("arcade-checkout")},
			}
			modes := 0
			for mode, name := range map[UpdateMode]string{FromFile: "from-file", FromBuild: "build", CoherencyOnly: "coherency-only"} {
				if c.IsSet(name) {
					o.Mode = mode
					modes++
				}
			}
			if modes != 1 {
				return cmdutil.UsageErrorf("deps update: give exactly one of --from-file, --build or --coherency-only")
			}
			o.FromFile, o.BuildID = c.String("from-file"), c.Int("build")
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			o.JSON = asJSON
			return runF(c, o)
		},
	}
}

func updateRun(c *cli.Context, f *cmdutil.Factory, o *UpdateOptions) error {
	var (
		res *deps.Result
		err error
	)
	switch o.Mode {
	case FromFile:
		data, rerr := os.ReadFile(o.FromFile)
		if rerr != nil {
			return maestro.Errorf(maestro.KindInvalid, "--from-file: %v", rerr)
		}
		u, perr := deps.ParseUpdateFile(o.FromFile, data)
		if perr != nil {
			return perr
		}
		res, err = deps.ApplyUpdateFile(c.Context, o.Dir, u, o.Options)
	case FromBuild:
		reg, rerr := f.Registry(c)
		if rerr != nil {
			return rerr
		}
		res, err = updateFromBuild(c.Context, reg, o.Dir, o.BuildID, o.Options)
	default:
		reg, rerr := f.Registry(c)
		if rerr != nil {
			return rerr
		}
		res, err = deps.UpdateCoherency(c.Context, o.Dir, registry.Lookup{Reg: reg}, o.Options)
	}
	if err != nil {
		return err
	}
	return printResult(f, res, o.JSON, o.Options.DryRun)
}

// updateFromBuild applies build id's assets to the repository in dir, with
// the coherency pass. When the build's assets name feeds, the feeds of the
// dependencies that do not move are restated from the registry, so that
// NuGet.config keeps them.
func updateFromBuild(ctx context.Context, reg *registry.Registry, dir string, id int, opts deps.Options) (*deps.Result, error) {
	b, err := reg.Build(ctx, id)
	if err != nil {
		return nil, err
	}
	l, err := deps.List(dir)
	if err != nil {
		return nil, err
	}
	u := deps.UpdateFromBuild(l, b)
	if len(u.Updates) == 0 {
		return nil, maestro.Errorf(maestro.KindInvalid, "build %d of %s produced none of the dependencies in %s/eng/Version.Details.xml", id, b.Repository, dir)
	}
	if withFeeds(u) {
		moving := map[string]bool{}
		for _, up := range u.Updates {
			moving[strings.ToLower(up.Name)] = true
		}
		for _, d := range l.Dependencies {
			if moving[strings.ToLower(d.Name)] {
				continue
			}
			src, err := reg.FindDependencyBuild(ctx, d.Name, d.Version, d.URI, d.Sha)
			if maestro.KindOf(err) == maestro.KindNotFound {
				continue
			}
			if err != nil {
				return nil, err
			}
			for _, a := range src.Assets {
				if strings.EqualFold(a.Name, d.Name) && a.Version == d.Version {
					u.Updates = append(u.Updates, deps.Update{Name: d.Name, Version: d.Version, Sha: d.Sha, URI: d.URI, Locations: deps.FeedLocations(a)})
					u.AddBuildFeeds(src)
				}
			}
		}
	}
	opts.Coherency = registry.Lookup{Reg: reg}
	return deps.ApplyUpdateFile(ctx, dir, u, opts)
}

func withFeeds(u deps.UpdateFile) bool {
	for _, up := range u.Updates {
		if len(up.Locations) > 0 {
			return true
		}
	}
	return false
}

// result is the JSON form of an update's outcome.
type result struct {
	Changed  []deps.Change `json:"changed"`
	Skipped  []deps.Skip   `json:"skipped"`
	Warnings []string      `json:"warnings"`
	Files    []string      `json:"files"`
	DryRun   bool          `json:"dryRun"`
}

func printResult(f *cmdutil.Factory, res *deps.Result, asJSON, dryRun bool) error {
	for _, w := range res.Warnings {
		cmdutil.Warn(f.IO.ErrOut, w, f.Getenv)
	}
	if asJSON {
		out := result{Changed: res.Changed, Skipped: res.Skipped, Warnings: res.Warnings, Files: []string{}, DryRun: dryRun}
		for _, fc := range res.Files {
			out.Files = append(out.Files, fc.Path)
		}
		return cmdutil.WriteJSON(f.IO.Out, out)
	}
	if dryRun {
		_, err := io.WriteString(f.IO.Out, res.Diff())
		return err
	}
	for _, ch := range res.Changed {
		via := ""
		if ch.CoherentParent != "" {
			via = " (coherent with " + ch.CoherentParent + ")"
		}
		fmt.Fprintf(f.IO.Out, "%s %s → %s%s\n", ch.Name, ch.FromVersion, ch.ToVersion, via)
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(f.IO.Out, "%s not updated: %s\n", s.Name, s.Reason)
	}
	if len(res.Files) == 0 {
		fmt.Fprintln(f.IO.Out, "no file changed")
	}
	return nil
}

// NewCmdAdd returns `maestro deps add`; runF does the work (nil: addRun).
func NewCmdAdd(f *cmdutil.Factory, runF func(*cli.Context, *AddOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *AddOptions) error { return addRun(f, o) }
	}
	return &cli.Command{
		Name:  "add",
		Usage: "add a dependency to eng/Version.Details.xml and its version property",
		Description: `Also adds the version property to Versions.props (or regenerates
Version.Details.props) and, for an MSBuild SDK package such as
Microsoft.DotNet.Arcade.Sdk, the msbuild-sdks entry of global.json.`,
		Flags: []cli.Flag{
			dirFlag,
			&cli.StringFlag{Name: "name", Required: true, Usage: "package `NAME`"},
			&cli.StringFlag{Name: "version", Required: true, Usage: "`VERSION`"},
			&cli.StringFlag{Name: "sha", Required: true, Usage: "commit `SHA` of the producing repository"},
			&cli.StringFlag{Name: "uri", Required: true, Usage: "producing repository `URL`"},
			&cli.StringFlag{Name: "type", Value: "product", Usage: "product or toolset"},
			&cli.BoolFlag{Name: "pinned", Usage: "never update it automatically"},
			&cli.StringFlag{Name: "coherent-parent", Usage: "dependency `NAME` whose build decides this one's version"},
			&cli.BoolFlag{Name: "skip-property", Usage: "add no version property"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the diff, write nothing"},
		},
		Action: func(c *cli.Context) error {
			var typ deps.DependencyType
			switch strings.ToLower(c.String("type")) {
			case "product":
				typ = deps.Product
			case "toolset":
				typ = deps.Toolset
			default:
				return cmdutil.UsageErrorf("--type %q: use product or toolset", c.String("type"))
			}
			return runF(c, &AddOptions{
				Dir: c.String("dir"),
				Dependency: deps.NewDependency{
					Name: c.String("name"), Version: c.String("version"), Sha: c.String("sha"), URI: c.String("uri"),
					Type: typ, Pinned: c.Bool("pinned"), CoherentParent: c.String("coherent-parent"), SkipProperty: c.Bool("skip-property"),
				},
				DryRun: c.Bool("dry-run"),
			})
		},
	}
}

func addRun(f *cmdutil.Factory, o *AddOptions) error {
	res, err := deps.Add(o.Dir, o.Dependency, o.DryRun)
	if err != nil {
		return err
	}
	if o.DryRun {
		_, err := io.WriteString(f.IO.Out, res.Diff())
		return err
	}
	for _, fc := range res.Files {
		fmt.Fprintf(f.IO.Out, "updated %s\n", fc.Path)
	}
	return nil
}

func notes(d deps.Dependency) string {
	var n []string
	if d.Pinned {
		n = append(n, "pinned")
	}
	if d.CoherentParent != "" {
		n = append(n, "coherent with "+d.CoherentParent)
	}
	if d.SkipProperty {
		n = append(n, "no property")
	}
	return strings.Join(n, ", ")
}
