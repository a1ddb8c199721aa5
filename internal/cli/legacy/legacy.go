// Package legacy implements `maestro legacy`: running beside the old Maestro
// on a versions repository (dotnet/versions) — checking its
// Maestro/subscriptions.json, queueing the builds it asks for, and writing
// its build-info files.
package legacy

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	cfg "github.com/maestroplusplus/maestro/internal/config"
	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/legacy"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// ValidateOptions are the parsed arguments of `maestro legacy validate`.
type ValidateOptions struct {
	File string // path, or "-" for standard input
	JSON bool
}

// NewCmd returns `maestro legacy`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:  "legacy",
		Usage: "run beside the old Maestro: its versions repository's subscriptions.json and build-info",
		Description: `Legacy mode runs beside the old Maestro on a versions repository such as
dotnet/versions: it checks Maestro/subscriptions.json (validate), queues the
builds it asks for when build-info files change (watch), writes build-info
files as the old publishing tooling did (publish), and turns what it can into
registry subscriptions (import).`,
		Subcommands: []*cli.Command{NewCmdValidate(f, nil), NewCmdWatch(f, nil), NewCmdPublish(f, nil), NewCmdImport(f, nil)},
	}
}

// NewCmdValidate returns `maestro legacy validate`; runF does the work (nil:
// validateRun).
func NewCmdValidate(f *cmdutil.Factory, runF func(*cli.Context, *ValidateOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *ValidateOptions) error { return validateRun(c, f, o) }
	}
	return &cli.Command{
		Name:      "validate",
		Usage:     "check a legacy subscriptions.json",
		ArgsUsage: "FILE",
		Description: `Parses FILE in either historical schema (2016: subscriptions[{path, handlers}];
2017 on: subscriptions[{triggerPaths, action, delay, actionArguments}]),
accepting // and /* */ comments and trailing commas, and reports every problem
as FILE:LINE: subscriptions[I].FIELD: message — unknown members, missing
required fields, an action that is not defined, malformed trigger URLs, bad
delays (hh:mm:ss). Triggers that parse but can never match a push (no /blob/
segment, an empty // segment) are warnings. FILE "-" reads standard input.

Example:
  maestro legacy validate Maestro/subscriptions.json`,
		Flags: []cli.Flag{cmdutil.OutputFlag},
		Action: func(c *cli.Context) error {
			if c.Args().Len() != 1 {
				return cmdutil.UsageErrorf("legacy validate takes one FILE argument; got %d", c.Args().Len())
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &ValidateOptions{File: c.Args().First(), JSON: asJSON})
		},
	}
}

// summary is what validate prints.
type summary struct {
	File          string   `json:"file"`
	Schema        int      `json:"schema"`
	Actions       int      `json:"actions"`
	Subscriptions int      `json:"subscriptions"`
	TriggerPaths  int      `json:"triggerPaths"`
	Warnings      []string `json:"warnings"`
}

func validateRun(_ *cli.Context, f *cmdutil.Factory, o *ValidateOptions) error {
	name, data, err := readFile(f, o.File)
	if err != nil {
		return err
	}
	file, err := legacy.Parse(name, data)
	if err != nil {
		return err
	}
	s := summary{File: name, Schema: int(file.Schema), Actions: len(file.Actions), Subscriptions: len(file.Subscriptions), Warnings: file.Warnings}
	for _, sub := range file.Subscriptions {
		s.TriggerPaths += len(sub.Triggers)
	}
	if s.Warnings == nil {
		s.Warnings = []string{}
	}
	if !o.JSON {
		for _, w := range file.Warnings {
			cmdutil.Warn(f.IO.ErrOut, w, f.Getenv)
		}
	}
	return f.Render(o.JSON, s, func(w io.Writer) {
		fmt.Fprintf(w, "%s: valid (%d schema): %d actions, %d subscriptions, %d trigger paths, %d warnings\n",
			s.File, s.Schema, s.Actions, s.Subscriptions, s.TriggerPaths, len(s.Warnings))
	})
}

// readFile reads a file named on the command line; "-" is standard input.
func readFile(f *cmdutil.Factory, path string) (string, []byte, error) {
	if path == "-" {
		data, err := io.ReadAll(f.IO.In)
		if err != nil {
			return "", nil, fmt.Errorf("read standard input: %w", err)
		}
		return "<stdin>", data, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, maestro.Errorf(maestro.KindInvalid, "read subscriptions: %w; give the path of a subscriptions.json", err)
	}
	return path, data, nil
}

// PublishOptions are the parsed flags of `maestro legacy publish`.
type PublishOptions struct {
	Repo     string
	Branch   string // "": the repository's default branch
	Name     string
	Channel  string
	Packages []string
	Label    string // "": the packages' common prerelease label
	Newline  string // "", "crlf" or "lf"
	JSON     bool
}

// NewCmdPublish returns `maestro legacy publish`; runF does the work (nil:
// publishRun).
func NewCmdPublish(f *cmdutil.Factory, runF func(*cli.Context, *PublishOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *PublishOptions) error { return publishRun(c, f, o) }
	}
	return &cli.Command{
		Name:      "publish",
		Usage:     "write a build's packages into build-info/dotnet/NAME/CHANNEL of a versions repository",
		ArgsUsage: " ",
		Description: `Writes the three build-info files exactly as the old publishing tooling did, in
one commit "Updating build-info/dotnet/NAME/CHANNEL for LABEL" on the
repository's branch:
  Latest.txt               the label, no newline
  Latest_Packages.txt      every package published there, at its latest version
                           (the build's version wins, even a lower one)
  Last_Build_Packages.txt  the build's packages
Package lists are sorted by id as Windows sorts words, lines joined with CRLF
(or the separator the --packages list uses, or --newline), no final newline.
--packages is a file of "Id Version" lines or an Arcade asset manifest
(repeatable). The label defaults to the packages' common prerelease label
("stable" when none has one). --repo is any repository git can push to (a
path or URL; HTTPS with MAESTRO_VERSIONS_TOKEN, never a password in the
URL); the branch's tip is fetched into a scratch folder, so a local
clone is left alone. When another publisher pushed first, the build is applied
again on the new tip and pushed again (never forced), up to 10 times.

Example:
  maestro legacy publish --repo https://github.com/dotnet/versions --name coreclr \
      --channel master --packages artifacts/AssetManifest/Manifest.xml`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "repo", Required: true, Usage: "the versions repository (`PATH_OR_URL`)"},
			&cli.StringFlag{Name: "branch", Usage: "its `BRANCH` (default: the repository's default branch)"},
			&cli.StringFlag{Name: "name", Required: true, Usage: "the build-info `NAME`, e.g. coreclr"},
			&cli.StringFlag{Name: "channel", Required: true, Usage: "the build-info `CHANNEL`, e.g. master or release/3.1"},
			&cli.StringSliceFlag{Name: "packages", Required: true, Usage: "`FILE_OR_MANIFEST`: \"Id Version\" lines or an asset manifest; repeatable"},
			&cli.StringFlag{Name: "label", Usage: "the build's `LABEL` (default: the packages' common prerelease label)"},
			&cli.StringFlag{Name: "newline", Usage: "line separator of the package lists: `crlf` or lf (default: the --packages list's, else crlf)"},
			cmdutil.OutputFlag,
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return cmdutil.UsageErrorf("legacy publish takes no arguments; got %q", c.Args().First())
			}
			nl := c.String("newline")
			if nl != "" && nl != "crlf" && nl != "lf" {
				return cmdutil.UsageErrorf("--newline %q: use crlf or lf", nl)
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &PublishOptions{
				Repo: c.String("repo"), Branch: c.String("branch"), Name: c.String("name"), Channel: c.String("channel"),
				Packages: c.StringSlice("packages"), Label: c.String("label"), Newline: nl, JSON: asJSON,
			})
		},
	}
}

func publishRun(c *cli.Context, f *cmdutil.Factory, o *PublishOptions) error {
	pkgs, sep, err := legacy.ReadPackages(o.Packages)
	if err != nil {
		return err
	}
	switch o.Newline {
	case "crlf":
		sep = "\r\n"
	case "lf":
		sep = "\n"
	}
	res, err := legacy.PublisherFromEnv(f.Getenv).Publish(c.Context, legacy.PublishRequest{
		Repo: o.Repo, Branch: o.Branch, Name: o.Name, Channel: o.Channel, Packages: pkgs, Label: o.Label, Newline: sep,
	})
	if err != nil {
		return err
	}
	return f.Render(o.JSON, res, func(w io.Writer) {
		fmt.Fprintf(w, "published %d packages to %s on %s as %s (commit %s", len(pkgs), res.Folder, res.Branch, res.Label, cmdutil.ShortSHA(res.Commit))
		if res.Attempts > 1 {
			fmt.Fprintf(w, ", after %d attempts", res.Attempts)
		}
		fmt.Fprintln(w, ")")
	})
}

// WatchOptions are the parsed flags of `maestro legacy watch`.
type WatchOptions struct {
	Repo          string
	Branch        string
	GitHubRepo    string // OWNER/REPO
	Subscriptions string
	Once          bool
	Interval      time.Duration
	Since         string
	VSOURLs       map[string]string // vsoInstance → organization URL
	ClaimTimeout  time.Duration
}

// NewCmdWatch returns `maestro legacy watch`; runF does the work (nil:
// watchRun).
func NewCmdWatch(f *cmdutil.Factory, runF func(*cli.Context, *WatchOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *WatchOptions) error { return watchRun(c, f, o) }
	}
	return &cli.Command{
		Name:      "watch",
		Usage:     "queue the builds a versions repository's subscriptions.json asks for, as the old Maestro did",
		ArgsUsage: " ",
		Description: `Polls a branch of a git repository and matches the files each new commit
changed against the triggers of --subscriptions (see ` + "`maestro legacy validate`" + `):
https://github.com/OWNER/REPO/blob/BRANCH/PATH, exactly or by a /**/* prefix,
ignoring case. Each triggered action queues a build of its definition
(vsoInstance, vsoProject, buildDefinitionId) with vsoSourceBranch as source
branch and its parameters (placeholders <trigger-repo>, <trigger-branch>,
<trigger-path>, <trigger-commit>, <trigger-commitlist> filled in; lists joined
with spaces). An action with a delay waits for it, and pushes within it
coalesce into one build with the combined commit list.

The last processed commit and the pending actions live in the store
(--store), so each commit is processed once, also after a restart or with
several watchers on one store; a delayed action survives a restart. The first
poll of a branch starts at its head (or after --since COMMIT). A watcher that
dies while queueing leaves its action claimed; after --claim-timeout another
watcher takes it over, first asking Azure DevOps for a build of the definition
with the same parameters queued since, so the build is not queued twice.

Builds are queued with MAESTRO_AZDO_TOKEN (or SYSTEM_ACCESSTOKEN) at
https://VSOINSTANCE, or where --vso-url VSOINSTANCE=URL says.

Example:
  maestro legacy watch --repo https://github.com/dotnet/versions --branch master \
      --subscriptions Maestro/subscriptions.json --once`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "repo", Required: true, Usage: "the repository to poll (`PATH_OR_URL`)"},
			&cli.StringFlag{Name: "branch", Value: "master", Usage: "its `BRANCH`"},
			&cli.StringFlag{Name: "github-repo", Usage: "`OWNER/REPO` in trigger URLs (default: from --repo when it is a github.com URL)"},
			&cli.StringFlag{Name: "subscriptions", Required: true, Usage: "the subscriptions.json `FILE`"},
			&cli.BoolFlag{Name: "once", Usage: "poll once and exit"},
			&cli.DurationFlag{Name: "interval", Value: 30 * time.Second, Usage: "time between polls"},
			&cli.StringFlag{Name: "since", Usage: "on the first poll of the branch, process the commits after `COMMIT`"},
			&cli.StringSliceFlag{Name: "vso-url", Usage: "`VSOINSTANCE=URL`: the organization URL of an action's vsoInstance; repeatable"},
			&cli.DurationFlag{Name: "claim-timeout", Value: legacy.ClaimTTL, Usage: "how long a watcher owns an action it queues (its requests to Azure DevOps are given up after half of it); after it, another watcher takes the action over (and first looks for a build the first one queued)"},
			cmdutil.StoreFlag,
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return cmdutil.UsageErrorf("legacy watch takes no arguments; got %q", c.Args().First())
			}
			if err := legacy.CheckRepository("--repo", c.String("repo")); err != nil {
				return err
			}
			if err := legacy.CheckBranch("--branch", c.String("branch")); err != nil {
				return err
			}
			o := &WatchOptions{
				Repo: c.String("repo"), Branch: c.String("branch"), GitHubRepo: c.String("github-repo"),
				Subscriptions: c.String("subscriptions"), Once: c.Bool("once"), Interval: c.Duration("interval"),
				Since: c.String("since"), VSOURLs: map[string]string{}, ClaimTimeout: c.Duration("claim-timeout"),
			}
			if o.ClaimTimeout < time.Second {
				return cmdutil.UsageErrorf("--claim-timeout %s: give at least 1s", o.ClaimTimeout)
			}
			if o.Interval < time.Second {
				return cmdutil.UsageErrorf("--interval %s: give at least 1s", o.Interval)
			}
			for _, kv := range c.StringSlice("vso-url") {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" || v == "" {
					return cmdutil.UsageErrorf("--vso-url %q: write VSOINSTANCE=URL, e.g. dnceng.visualstudio.com=https://dev.azure.com/dnceng", kv)
				}
				o.VSOURLs[k] = v
			}
			if o.GitHubRepo == "" {
				o.GitHubRepo = gitHubRepoOf(o.Repo)
				if o.GitHubRepo == "" {
					return cmdutil.UsageErrorf("--repo %s is not a github.com URL: give --github-repo OWNER/REPO for the trigger URLs", o.Repo)
				}
			} else if parts := strings.Split(o.GitHubRepo, "/"); len(parts) != 2 || parts[0] == "" || parts[1] == "" {
				return cmdutil.UsageErrorf("--github-repo %q: write OWNER/REPO", o.GitHubRepo)
			}
			return runF(c, o)
		},
	}
}

// gitHubRepoOf returns OWNER/REPO of a https://github.com/OWNER/REPO[.git] URL.
func gitHubRepoOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !strings.EqualFold(u.Host, "github.com") {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return ""
	}
	return parts[0] + "/" + strings.TrimSuffix(parts[1], ".git")
}

func watchRun(c *cli.Context, f *cmdutil.Factory, o *WatchOptions) error {
	name, data, err := readFile(f, o.Subscriptions)
	if err != nil {
		return err
	}
	file, err := legacy.Parse(name, data)
	if err != nil {
		return err
	}
	queuer, err := f.Wiring().LegacyQueuer(o.VSOURLs)
	if err != nil {
		return err
	}
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "maestro-legacy-watch-")
	if err != nil {
		return fmt.Errorf("legacy watch: %w", err)
	}
	defer os.RemoveAll(work)
	runner := legacy.RepoRunner(git.Runner{Token: f.Getenv("MAESTRO_VERSIONS_TOKEN")}, o.Repo)
	if err := runner.Init(c.Context, work, true); err != nil {
		return fmt.Errorf("legacy watch: %w", err)
	}
	w := &legacy.Watcher{
		Store: reg.Store(), Git: runner, File: file, Repo: o.Repo, GitHubRepo: o.GitHubRepo, Branch: o.Branch,
		WorkDir: work, Queuer: queuer, Now: f.Now, NewID: uuid.NewString, Since: o.Since, ClaimTTL: o.ClaimTimeout,
	}
	for {
		rep, err := w.Poll(c.Context)
		if err != nil {
			if o.Once {
				return err
			}
			cmdutil.Warn(f.IO.ErrOut, err.Error(), f.Getenv)
		}
		for _, q := range rep.Queued {
			how := "queued"
			if q.Found {
				how = "found queued"
			}
			fmt.Fprintf(f.IO.Out, "subscription %d, action %s: %s build %d for %s\n", q.Subscription, q.Action, how, q.Build.ID, strings.Join(q.Commits, " "))
		}
		for _, e := range rep.Errors {
			cmdutil.Warn(f.IO.ErrOut, e.Error()+" (kept as pending work; retried later)", f.Getenv)
		}
		if err == nil {
			fmt.Fprintf(f.IO.ErrOut, "%s %s at %s: %d new commits, %d actions triggered, %d queued, %d waiting\n",
				o.GitHubRepo, o.Branch, cmdutil.ShortSHA(rep.Head), rep.Processed, len(rep.Triggered), len(rep.Queued), rep.Waiting)
		}
		if o.Once {
			if len(rep.Errors) > 0 {
				return rep.Errors[0]
			}
			return nil
		}
		select {
		case <-c.Context.Done():
			return nil
		case <-time.After(o.Interval):
		}
	}
}

// ImportOptions are the parsed flags of `maestro legacy import`.
type ImportOptions struct {
	File    string
	Mapping string
	DryRun  bool
}

// NewCmdImport returns `maestro legacy import`; runF does the work (nil:
// importRun).
func NewCmdImport(f *cmdutil.Factory, runF func(*cli.Context, *ImportOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *ImportOptions) error { return importRun(c, f, o) }
	}
	return &cli.Command{
		Name:      "import",
		Usage:     "turn legacy subscriptions into registry subscriptions where a mapping exists",
		ArgsUsage: "FILE",
		Description: `Reads the legacy subscriptions FILE and the --mapping file (YAML):

  buildInfo:        # build-info/dotnet/PATH/ -> where its builds come from now
    - path: coreclr/master
      sourceRepository: https://github.com/dotnet/coreclr
      channel: .NET Core 3.0 Dev
  actions:          # action -> the repository branch its build updates
    - action: core-setup-general
      targetRepository: https://github.com/dotnet/core-setup
      targetBranch: master

A trigger on a build-info file of a mapped folder, with a mapped action, becomes
a registry subscription (channel, source, target, target branch) that flows every
build and queues the action's definition as a classic update pipeline
(https://dev.azure.com/ORG/PROJECT/_build?definitionId=ID). Missing channels are
created. Everything else is listed with the reason it was not imported.
Subscriptions the registry already has are left alone. The plan is printed as
` + "`maestro config apply`" + ` prints it, checked as config apply checks it, and applied
unless --dry-run.

Example:
  maestro legacy import --mapping legacy-map.yaml --dry-run Maestro/subscriptions.json`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "mapping", Required: true, Usage: "the mapping `FILE` (YAML)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the plan and write nothing"},
			cmdutil.StoreFlag,
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() != 1 {
				return cmdutil.UsageErrorf("legacy import takes one FILE argument; got %d", c.Args().Len())
			}
			return runF(c, &ImportOptions{File: c.Args().First(), Mapping: c.String("mapping"), DryRun: c.Bool("dry-run")})
		},
	}
}

func importRun(c *cli.Context, f *cmdutil.Factory, o *ImportOptions) error {
	name, data, err := readFile(f, o.File)
	if err != nil {
		return err
	}
	file, err := legacy.Parse(name, data)
	if err != nil {
		return err
	}
	mdata, err := os.ReadFile(o.Mapping)
	if err != nil {
		return maestro.Errorf(maestro.KindInvalid, "--mapping: %w", err)
	}
	mapping, err := legacy.ParseMapping(o.Mapping, mdata)
	if err != nil {
		return err
	}
	subs, unmapped := legacy.Import(file, mapping)
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	st, err := cfg.Load(c.Context, reg)
	if err != nil {
		return err
	}
	for _, u := range unmapped {
		fmt.Fprintf(f.IO.Out, "not imported: %s\n", u)
	}
	channelIDs := map[string]int{}
	for _, ch := range st.Channels {
		channelIDs[strings.ToLower(ch.Name)] = ch.ID
	}
	out := &cfg.File{}
	newChannels := map[string]bool{}
	for _, s := range subs {
		id, exists := channelIDs[strings.ToLower(s.Channel)]
		if exists && subscriptionExists(st, id, s) {
			fmt.Fprintf(f.IO.Out, "already in the registry: %s → %s@%s on %q\n", s.SourceRepository, s.TargetRepository, s.TargetBranch, s.Channel)
			continue
		}
		if !exists && !newChannels[strings.ToLower(s.Channel)] {
			newChannels[strings.ToLower(s.Channel)] = true
			out.Channels = append(out.Channels, cfg.Channel{Name: s.Channel})
		}
		out.Subscriptions = append(out.Subscriptions, s)
	}
	plan, err := cfg.NewPlan(out, st, cfg.Options{Hosts: f.Wiring()})
	if err != nil {
		var ps cfg.Problems
		if errors.As(err, &ps) {
			for _, p := range ps {
				fmt.Fprintln(f.IO.ErrOut, p.String())
			}
			return maestro.Errorf(maestro.KindInvalid, "the imported subscriptions have %d problem(s), listed above; fix the mapping; nothing was written", len(ps))
		}
		return err
	}
	// The plan covers only what the legacy file maps to: the registry's
	// other objects are not "unlisted" (import never deletes; it has no
	// --prune).
	plan.File, plan.Unlisted = "what "+name+" maps to", 0
	if err := plan.Write(f.IO.Out); err != nil {
		return err
	}
	if o.DryRun {
		fmt.Fprintln(f.IO.Out, "Dry run: nothing was written.")
		return nil
	}
	if plan.Empty() {
		return nil
	}
	done, err := plan.Apply(c.Context, reg)
	if err != nil {
		return err
	}
	for _, d := range done {
		if d.Action.Kind == cfg.KindSubscription && d.Action.Op == cfg.OpAdd {
			fmt.Fprintf(f.IO.Out, "created subscription %s: %s\n", d.ID, d.Action.Detail)
		}
	}
	add, change, del := plan.Counts()
	fmt.Fprintf(f.IO.Out, "Applied: %d added, %d changed, %d deleted.\n", add, change, del)
	return nil
}

// subscriptionExists reports whether the registry has a subscription with
// s's channel, source, target and target branch (and no directories).
func subscriptionExists(st *cfg.State, channelID int, s cfg.Subscription) bool {
	for _, x := range st.Subscriptions {
		if x.ChannelID == channelID && repourl.Equal(x.SourceRepository, s.SourceRepository) &&
			repourl.Equal(x.TargetRepository, s.TargetRepository) && x.TargetBranch == s.TargetBranch &&
			x.SourceDirectory == "" && x.TargetDirectory == "" {
			return true
		}
	}
	return false
}
