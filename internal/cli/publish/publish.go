// Package publish implements `maestro publish`: read the asset manifests of
// one official build, record the build with its assets and dependencies in the
// registry, upload its files if asked, and assign it to channels.
package publish

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/channel"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/legacy"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/manifest"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/service"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Options are the parsed flags of one publish.
type Options struct {
	Manifests      []string
	Channels       []string
	VersionDetails string
	UploadDir      string
	ResultFile     string
	JSON           bool
	// NoTrigger skips flowing the build to everyBuild subscriptions.
	NoTrigger bool
	// Create makes the registry when the store holds none.
	Create bool
	// Flags is the build metadata given on the command line; the manifest and
	// then the pipeline's environment take precedence over it.
	Flags maestro.Build
	// LegacyRepo, LegacyName and LegacyChannel, all given or none, also
	// write the build's packages into build-info/dotnet/NAME/CHANNEL of the
	// old versions repository (legacy publish), once the build is recorded.
	LegacyRepo, LegacyName, LegacyChannel string
	// Speculative records the build as speculative (docs/registry.md,
	// "Speculative builds"), made from PullRequest when it is set.
	Speculative bool
	// PullRequest, PullRequestHead and TargetBranch link a speculative build
	// to its pull request (head and target branch default to the pipeline's
	// SYSTEM_PULLREQUEST_SOURCECOMMITID and SYSTEM_PULLREQUEST_TARGETBRANCH,
	// then to the build's commit and branch).
	PullRequest, PullRequestHead, TargetBranch string
}

// NewCmd returns the publish command; run does the work (tests capture Options through it).
func NewCmd(f *cmdutil.Factory, run func(*cli.Context, *Options) error) *cli.Command {
	if run == nil {
		run = func(c *cli.Context, o *Options) error { return Run(c, f, o) }
	}
	return &cli.Command{
		Name:      "publish",
		Usage:     "record an official build and its assets in the Build Asset Registry",
		ArgsUsage: " ",
		Description: `Reads the build's Arcade asset manifests (PublishingVersion 3 or 4; several
manifests of one build are merged), records the build with every asset, and
assigns it to the channels of every enabled default channel that matches its
repository and branch, plus any --channel. Build metadata comes from the
manifest, else from the pipeline's environment (BUILD_BUILDID, BUILD_BUILDNUMBER,
BUILD_SOURCEVERSION, BUILD_SOURCEBRANCH, BUILD_REPOSITORY_URI,
SYSTEM_TEAMFOUNDATIONCOLLECTIONURI, SYSTEM_TEAMPROJECT, SYSTEM_DEFINITIONID),
else from the flags. Publishing the same Azure DevOps build twice records it
once. Prints the BAR id.

With --speculative the build is one made from a pull request (--pull-request)
or from a branch no default channel names: it is recorded apart, with an id
from 1000000000 up, its assets non-shipping, in the speculative twin
("NAME (speculative)") of each channel it would reach — the default channels
of the pull request's target branch (of its own branch without a pull
request) and every --channel — never in a channel itself. A speculative build of a pull request flows only to
the subscriptions that opt in (subscription add/update --speculative), each into
a pull request marked [speculative] kept for that pull request (updated in place
by its next build). A speculative build of a mainline branch needs --pull-request.

Examples:
  maestro publish --manifest 'artifacts/log/Release/AssetManifest/*.xml' --channel '.NET 10'
  maestro publish --manifest 'artifacts/**/*.xml' --speculative \
    --pull-request https://github.com/dotnet/runtime/pull/123`,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "manifest", Usage: "asset manifest file or glob (`GLOB`, ** allowed); repeatable", Required: true},
			&cli.StringSliceFlag{Name: "channel", Usage: "also add the build to this channel (`NAME` or id); repeatable"},
			&cli.StringFlag{Name: "version-details", Usage: "record the build's dependencies from this eng/Version.Details.xml (`PATH`)"},
			&cli.StringFlag{Name: "upload", Usage: "upload the files the manifest names from `DIR` into the store"},
			&cli.StringFlag{Name: "result-file", Usage: "also write the recorded build as JSON to `PATH`"},
			&cli.BoolFlag{Name: "no-trigger", Usage: "record the build but do not flow it to everyBuild subscriptions or queue its mirror"},
			&cli.StringFlag{Name: "repository", Usage: "repository URL, when neither manifest nor environment gives it"},
			&cli.StringFlag{Name: "branch", Usage: "branch, when neither manifest nor environment gives it"},
			&cli.StringFlag{Name: "commit", Usage: "commit SHA, when neither manifest nor environment gives it"},
			&cli.StringFlag{Name: "build-number", Usage: "Azure DevOps build number, when neither manifest nor environment gives it"},
			&cli.StringFlag{Name: "legacy-versions-repo", Usage: "also write the packages into build-info of this old versions repository (`PATH_OR_URL`), as `maestro legacy publish`"},
			&cli.StringFlag{Name: "legacy-name", Usage: "with --legacy-versions-repo: the build-info `NAME`, e.g. coreclr"},
			&cli.StringFlag{Name: "legacy-channel", Usage: "with --legacy-versions-repo: the build-info `CHANNEL`, e.g. master"},
			&cli.BoolFlag{Name: "speculative", Usage: "record a speculative build (of a pull request or a non-mainline branch), apart from official builds"},
			&cli.StringFlag{Name: "pull-request", Usage: "with --speculative: the pull request the build was made from (`URL` on GitHub or Azure Repos)"},
			&cli.StringFlag{Name: "pull-request-head", Usage: "with --pull-request: the pull request's head commit `SHA` (default: SYSTEM_PULLREQUEST_SOURCECOMMITID, else the build's commit)"},
			&cli.StringFlag{Name: "target-branch", Usage: "with --pull-request: the `BRANCH` it merges into, whose default channels' twins the build joins (default: SYSTEM_PULLREQUEST_TARGETBRANCH, else the build's branch)"},
			cmdutil.StoreFlag,
			cmdutil.CreateFlag,
			cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return cmdutil.UsageErrorf("publish takes no arguments; got %q", c.Args().First())
			}
			legacyFlags := 0
			for _, name := range []string{"legacy-versions-repo", "legacy-name", "legacy-channel"} {
				if c.String(name) != "" {
					legacyFlags++
				}
			}
			if legacyFlags != 0 && legacyFlags != 3 {
				return cmdutil.UsageErrorf("--legacy-versions-repo, --legacy-name and --legacy-channel go together; give all three or none")
			}
			if err := checkSpeculativeFlags(c); err != nil {
				return err
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return run(c, &Options{
				Speculative: c.Bool("speculative"), PullRequest: c.String("pull-request"),
				PullRequestHead: c.String("pull-request-head"), TargetBranch: c.String("target-branch"),
				LegacyRepo: c.String("legacy-versions-repo"), LegacyName: c.String("legacy-name"), LegacyChannel: c.String("legacy-channel"),
				Manifests:      c.StringSlice("manifest"),
				Channels:       c.StringSlice("channel"),
				VersionDetails: c.String("version-details"),
				UploadDir:      c.String("upload"),
				ResultFile:     c.String("result-file"),
				JSON:           asJSON,
				NoTrigger:      c.Bool("no-trigger"),
				Create:         c.Bool(cmdutil.CreateFlag.Name),
				Flags: maestro.Build{
					Repository:             c.String("repository"),
					Branch:                 c.String("branch"),
					Commit:                 c.String("commit"),
					AzureDevOpsBuildNumber: c.String("build-number"),
				},
			})
		},
	}
}

// checkSpeculativeFlags refuses, before anything is read, flags that need
// --speculative or --pull-request without it, a speculative build that would
// also write legacy build-info (which official consumers read), and a pull
// request URL that is not one of GitHub or Azure Repos.
func checkSpeculativeFlags(c *cli.Context) error {
	if !c.Bool("speculative") {
		for _, name := range []string{"pull-request", "pull-request-head", "target-branch"} {
			if c.IsSet(name) {
				return cmdutil.UsageErrorf("--%s needs --speculative: a build of a pull request is recorded as speculative", name)
			}
		}
		return nil
	}
	if c.String("legacy-versions-repo") != "" {
		return cmdutil.UsageErrorf("--speculative cannot go with --legacy-versions-repo: build-info is read by official consumers")
	}
	if !c.IsSet("pull-request") {
		for _, name := range []string{"pull-request-head", "target-branch"} {
			if c.IsSet(name) {
				return cmdutil.UsageErrorf("--%s needs --pull-request", name)
			}
		}
		return nil
	}
	if _, _, err := repourl.PullRequest(c.String("pull-request")); err != nil {
		return cmdutil.UsageErrorf("--pull-request: %v", err)
	}
	return nil
}

// Run performs a publish into the registry that --store names (creating it
// first with --create). The input is checked before anything is written:
// registry.PublishBuild checks the whole build before its first write, and
// with --create the command checks it before creating the store, so bad
// input creates nothing either.
func Run(c *cli.Context, f *cmdutil.Factory, o *Options) error {
	if o.Create {
		in, err := prepare(c.Context, f, o, true)
		if err != nil {
			return err
		}
		defer in.close()
		reg, _, err := f.CreateRegistry(c)
		if err != nil {
			return err
		}
		return publishInput(c, f, reg, o, in)
	}
	// Opening the registry only reads (its format marker), so it runs
	// while the manifests are parsed; an error in the input comes first.
	type opened struct {
		reg *registry.Registry
		err error
	}
	open := make(chan opened, 1)
	go func() {
		reg, err := f.Registry(c)
		open <- opened{reg, err}
	}()
	in, err := prepare(c.Context, f, o, false)
	st := <-open
	if err != nil {
		return err
	}
	defer in.close()
	if st.err != nil {
		return st.err
	}
	return publishInput(c, f, st.reg, o, in)
}

// RunOn performs a publish into reg. Every input is read and checked before
// the first write, so bad input leaves the registry untouched.
func RunOn(c *cli.Context, f *cmdutil.Factory, reg *registry.Registry, o *Options) error {
	in, err := prepare(c.Context, f, o, false)
	if err != nil {
		return err
	}
	defer in.close()
	return publishInput(c, f, reg, o, in)
}

// input is a publish's build, read and checked, with its uploads.
type input struct {
	b      maestro.Build
	legacy *legacy.PublishRequest // nil without --legacy-versions-repo
	// legacyPrepared is legacy fetched and committed, to push once the
	// build is recorded.
	legacyPrepared *legacy.Prepared
	uploads        []registry.FileUpload
	// pr is the pull request of a speculative build (nil: none).
	pr       *maestro.BuildPullRequest
	readFile func(path string) ([]byte, error)
	close    func()
}

// prepare reads the manifests and the pipeline's metadata and plans the
// uploads, without opening the store. With validate, it also checks
// everything the publish will write, for a caller that writes before
// registry.PublishBuild does (creating the store); otherwise PublishBuild's
// own check is the one, because checking 20,000 assets twice costs more than
// the rest of a publish's work on them.
//
// With --legacy-versions-repo, prepare also fetches the versions repository
// and commits the build-info update in a scratch repository, last (it is
// the slowest check): a repository that cannot be reached or that has no
// plain build-info folder is found before the registry is written. Only the
// push waits for the record.
func prepare(ctx context.Context, f *cmdutil.Factory, o *Options, validate bool) (*input, error) {
	ms, err := manifest.Load(o.Manifests)
	if err != nil {
		return nil, err
	}
	// The same build the publish trigger of `maestro serve` makes.
	b, err := service.PipelineBuild(ms, f.Getenv, o.Flags, f.Now())
	if err != nil {
		return nil, err
	}
	in := &input{b: b, readFile: os.ReadFile, close: func() {}}
	if o.Speculative && o.PullRequest != "" {
		in.pr = &maestro.BuildPullRequest{URL: strings.TrimSpace(o.PullRequest), HeadCommit: o.PullRequestHead, TargetBranch: o.TargetBranch}
		if in.pr.HeadCommit == "" {
			in.pr.HeadCommit = f.Getenv("SYSTEM_PULLREQUEST_SOURCECOMMITID")
		}
		if in.pr.HeadCommit == "" {
			in.pr.HeadCommit = b.Commit
		}
		if in.pr.TargetBranch == "" {
			in.pr.TargetBranch = strings.TrimPrefix(f.Getenv("SYSTEM_PULLREQUEST_TARGETBRANCH"), "refs/heads/")
		}
		if err := registry.ValidateSpeculative(b, in.pr); err != nil {
			return nil, fmt.Errorf("publish %s: %w", strings.Join(o.Manifests, ", "), err)
		}
	}
	if o.LegacyRepo != "" {
		// As `legacy publish --packages` reads them: a package two
		// manifests give with two versions (ids ignore case in build-info)
		// is an error, not the first one kept.
		var set legacy.PackageSet
		for _, m := range ms {
			pkgs := make([]legacy.Package, 0, len(m.Packages))
			for _, p := range m.Packages {
				pkgs = append(pkgs, legacy.Package{ID: p.ID, Version: p.Version})
			}
			if err := set.Add(m.Path, pkgs...); err != nil {
				return nil, fmt.Errorf("--legacy-versions-repo: %w", err)
			}
		}
		req := &legacy.PublishRequest{Repo: o.LegacyRepo, Name: o.LegacyName, Channel: o.LegacyChannel, Packages: set.Packages()}
		if err := req.Check(); err != nil {
			return nil, fmt.Errorf("--legacy-versions-repo: %w", err)
		}
		in.legacy = req
	}
	if o.UploadDir != "" {
		root, err := os.OpenRoot(o.UploadDir)
		if err != nil {
			return nil, maestro.Errorf(maestro.KindInvalid, "--upload %s: %v", o.UploadDir, err)
		}
		in.uploads, err = planUploads(root, o.UploadDir, ms, b)
		if err != nil {
			root.Close()
			return nil, err
		}
		in.readFile = func(path string) ([]byte, error) { return readUpload(root, o.UploadDir, path) }
		in.close = func() { root.Close() }
	}
	if validate {
		if err := registry.ValidateBuild(b, in.uploads); err != nil {
			in.close()
			return nil, fmt.Errorf("publish %s: %w", strings.Join(o.Manifests, ", "), err)
		}
	}
	if in.legacy != nil {
		pr, err := legacy.PublisherFromEnv(f.Getenv).Prepare(ctx, *in.legacy)
		if err != nil {
			in.close()
			return nil, fmt.Errorf("--legacy-versions-repo: %w; nothing was recorded", err)
		}
		in.legacyPrepared = pr
		closeUploads := in.close
		in.close = func() { pr.Close(); closeUploads() }
	}
	return in, nil
}

// publishInput records a prepared build in reg, flows it and prints it.
func publishInput(c *cli.Context, f *cmdutil.Factory, reg *registry.Registry, o *Options, in *input) error {
	ctx := c.Context
	b, uploads, readFile := in.b, in.uploads, in.readFile
	// Agent logging commands go where they cannot break the one JSON document
	// that --output json promises on stdout.
	progressOut := f.IO.Out
	if o.JSON {
		progressOut = f.IO.ErrOut
	}
	channels, err := resolveChannels(c, reg, o.Channels)
	if err != nil {
		return err
	}
	if o.VersionDetails != "" {
		deps, unknown, err := buildDependencies(ctx, reg, o.VersionDetails, b)
		if err != nil {
			return err
		}
		b.Dependencies = deps
		for _, u := range unknown {
			cmdutil.Warn(f.IO.ErrOut, fmt.Sprintf("%s: dependency %s %s is not in the registry; not recorded", o.VersionDetails, u.Name, u.Version), f.Getenv)
		}
	}
	progress := func(done, total int) {
		cmdutil.Progress(progressOut, f.Getenv, "uploading assets", done, total)
	}
	var res registry.PublishResult
	if o.Speculative {
		res, err = reg.PublishSpeculative(ctx, b, registry.SpeculativeOptions{
			PullRequest: in.pr, Channels: channels,
			Files: uploads, LocationBase: storeLocation(reg.Store()), ReadFile: readFile, Progress: progress,
		})
	} else {
		res, err = reg.PublishBuild(ctx, b, registry.PublishOptions{
			Channels:     channels,
			Files:        uploads,
			LocationBase: storeLocation(reg.Store()),
			ReadFile:     readFile,
			Progress:     progress,
		})
	}
	if err != nil {
		return fmt.Errorf("publish %s: %w", strings.Join(o.Manifests, ", "), err)
	}
	if in.legacy != nil {
		lr, err := in.legacyPrepared.Push(ctx)
		if err != nil {
			return fmt.Errorf("build %d is recorded, but writing build-info to %s failed (run the same publish again: the build is not recorded twice): %w", res.Build.ID, in.legacy.Repo, err)
		}
		fmt.Fprintf(f.IO.ErrOut, "build-info: published %d packages to %s on %s as %s (commit %s)\n",
			len(in.legacy.Packages), lr.Folder, lr.Branch, lr.Label, cmdutil.ShortSHA(lr.Commit))
	}
	// A speculative build flows only to the subscriptions that opt in to
	// speculative flow, and queues no mirror.
	switch {
	case o.NoTrigger:
	case o.Speculative:
		for _, t := range f.Wiring().Service(reg).FlowSpeculative(c.Context, res.Build) {
			if t.Err != nil {
				cmdutil.Warn(f.IO.ErrOut, t.Err.Error(), f.Getenv)
			} else {
				fmt.Fprintln(f.IO.ErrOut, cmdutil.DescribeOutcome(t.Outcome))
			}
		}
	case !o.Speculative:
		trigger(c, f, reg, res)
	}
	if o.ResultFile != "" {
		if err := writeResult(o.ResultFile, res.Build); err != nil {
			return err
		}
	}
	if o.JSON {
		return cmdutil.WriteJSON(f.IO.Out, res.Build)
	}
	if res.Existing {
		fmt.Fprintf(f.IO.ErrOut, "build %d was recorded before (Azure DevOps build %d); not recorded again\n", res.Build.ID, res.Build.AzureDevOpsBuildID)
	}
	fmt.Fprintln(f.IO.Out, res.Build.ID)
	return nil
}

// trigger flows a newly published build to the everyBuild subscriptions of
// the channels it joined. The build is recorded whatever happens here:
// failures are flow outcomes (see `maestro flow history`) and warnings.
func trigger(c *cli.Context, f *cmdutil.Factory, reg *registry.Registry, res registry.PublishResult) {
	svc := f.Wiring().Service(reg)
	for _, t := range svc.FlowBuild(c.Context, res.Build, res.NewChannels) {
		if t.Err != nil {
			cmdutil.Warn(f.IO.ErrOut, t.Err.Error(), f.Getenv)
			continue
		}
		fmt.Fprintln(f.IO.ErrOut, cmdutil.DescribeOutcome(t.Outcome))
	}
	// A build of a mirrored repository whose commit is not on the target yet
	// queues the mirror (see `maestro mirror trigger`).
	m, err := svc.MirrorBuild(c.Context, res.Build, f.Wiring())
	if m.Unchecked != nil {
		cmdutil.Warn(f.IO.ErrOut, m.Unchecked.Error(), f.Getenv)
	}
	switch {
	case err != nil:
		cmdutil.Warn(f.IO.ErrOut, fmt.Sprintf("build %d is recorded, but its mirror was not queued: %v", res.Build.ID, err), f.Getenv)
	case m.Triggered && m.Run.Queued:
		fmt.Fprintf(f.IO.ErrOut, "mirror: queued run %d (%s) of %s %s: %s\n", m.Run.RunID, m.Run.Mode, res.Build.Repository, res.Build.Branch, m.Run.URL)
	case m.Triggered:
		fmt.Fprintf(f.IO.ErrOut, "mirror: %s %s coalesced into run %d, queued or running\n", res.Build.Repository, res.Build.Branch, m.Run.RunID)
	}
}

func writeResult(path string, b maestro.Build) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--result-file: %w", err)
	}
	if err := cmdutil.WriteJSON(fh, b); err != nil {
		fh.Close()
		return fmt.Errorf("--result-file %s: %w", path, err)
	}
	return fh.Close()
}

func resolveChannels(c *cli.Context, reg *registry.Registry, names []string) ([]int, error) {
	var ids []int
	for _, n := range names {
		ch, err := channel.Resolve(c, reg, n)
		if maestro.KindOf(err) == maestro.KindNotFound {
			return nil, maestro.Errorf(maestro.KindInvalid, "--channel: %w", err)
		}
		if err != nil {
			return nil, fmt.Errorf("--channel: %w", err)
		}
		ids = append(ids, ch.ID)
	}
	return ids, nil
}

// planUploads finds, under the upload folder dir (opened as root), the file of
// every asset the manifests name: a blob at dir/{Id}, a package as
// {Id}.{Version}.nupkg anywhere under dir. Only regular files inside dir are
// taken: a symbolic link is followed only while it stays inside dir (os.Root
// refuses the rest), so a link to /etc/passwd is refused, not uploaded.
func planUploads(root *os.Root, dir string, ms []*manifest.Manifest, b maestro.Build) ([]registry.FileUpload, error) {
	nupkgs := map[string]string{}
	err := fs.WalkDir(root.FS(), ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(strings.ToLower(d.Name()), ".nupkg") {
			if _, dup := nupkgs[strings.ToLower(d.Name())]; !dup {
				nupkgs[strings.ToLower(d.Name())] = rel
			}
		}
		return nil
	})
	if err != nil {
		return nil, maestro.Errorf(maestro.KindInvalid, "--upload %s: %v", dir, err)
	}
	index := map[string]int{}
	for i, a := range b.Assets {
		index[strings.ToLower(a.Name)] = i
	}
	var out []registry.FileUpload
	var missing []string
	seen := map[int]bool{}
	take := func(i int, rel, name string) error {
		if err := checkUpload(root, dir, rel); err != nil {
			return err
		}
		out = append(out, registry.FileUpload{AssetIndex: i, Path: filepath.Join(dir, filepath.FromSlash(rel)), Name: name})
		return nil
	}
	for _, m := range ms {
		for _, p := range m.Packages {
			i := index[strings.ToLower(p.ID)]
			if seen[i] {
				continue
			}
			seen[i] = true
			file := p.ID + "." + p.Version + ".nupkg"
			rel, ok := nupkgs[strings.ToLower(file)]
			if !ok {
				missing = append(missing, file)
				continue
			}
			if err := take(i, rel, "packages/"+file); err != nil {
				return nil, err
			}
		}
		for _, bl := range m.Blobs {
			i := index[strings.ToLower(bl.ID)]
			if seen[i] {
				continue
			}
			seen[i] = true
			if _, err := root.Lstat(filepath.FromSlash(bl.ID)); errors.Is(err, fs.ErrNotExist) {
				missing = append(missing, bl.ID)
				continue
			}
			if err := take(i, bl.ID, "blobs/"+bl.ID); err != nil {
				return nil, err
			}
		}
	}
	if len(missing) > 0 {
		more := ""
		if len(missing) > 5 {
			more = fmt.Sprintf(" and %d more", len(missing)-5)
			missing = missing[:5]
		}
		return nil, maestro.Errorf(maestro.KindInvalid, "--upload %s: files named by the manifest are missing: %s%s", dir, strings.Join(missing, ", "), more)
	}
	return out, nil
}

// checkUpload refuses an upload that is not a regular file inside dir: a
// symbolic link leaving dir, a folder, a FIFO or a device. Stat through root
// never blocks, whatever the file is.
func checkUpload(root *os.Root, dir, rel string) error {
	fi, err := root.Stat(filepath.FromSlash(rel))
	if err != nil {
		return maestro.Errorf(maestro.KindInvalid, "--upload %s: %s: %v (a symbolic link must stay inside the folder)", dir, rel, err)
	}
	if !fi.Mode().IsRegular() {
		return maestro.Errorf(maestro.KindInvalid, "--upload %s: %s is not a regular file (%s)", dir, rel, fi.Mode().Type())
	}
	return nil
}

// readUpload reads an upload planned under dir through root, so that a link
// swapped in after planning still cannot leave dir.
func readUpload(root *os.Root, dir, path string) ([]byte, error) {
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		return nil, err
	}
	if err := checkUpload(root, dir, filepath.ToSlash(rel)); err != nil {
		return nil, err
	}
	return root.ReadFile(rel)
}

// storeLocation is the prefix of the locations recorded for uploaded files:
// the container's https URL on Azure Blob, the directory's file:// URL for a
// local store (a key under it is read back with maestro, not as a plain path).
func storeLocation(st store.Store) string {
	switch s := store.Base(st).(type) {
	case interface{ Endpoint() string }:
		return strings.TrimSuffix(s.Endpoint(), "/") + "/"
	case interface{ Dir() string }:
		return "file://" + filepath.ToSlash(s.Dir()) + "/"
	}
	return ""
}
