// Package demo implements `maestro demo`: the whole dependency flow on one
// machine, with no cloud account. In a folder it creates three git
// repositories (widgets → gadgets → app, with real eng/Version.Details.xml
// files and a test script each), a local store with a channel, default
// channels, subscriptions with the Standard merge policies and repository
// policies that run the tests on every pull request; publishes a widgets
// build, shows the pull request it opens in gadgets and how its policies
// pass and merge it, publishes the gadgets build and shows the flow reaching
// app, coherency included, and app's failing tests holding that pull
// request back. It leaves the folder for the user to inspect.
package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/examples"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/cli/publish"
	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service"
)

const channelName = "Contoso Dev"

// Options are the parsed flags of `maestro demo`.
type Options struct {
	Dir string // "" for a new temporary folder
}

// NewCmd returns `maestro demo`; runF does the work (nil: demoRun).
func NewCmd(f *cmdutil.Factory, runF func(*cli.Context, *Options) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *Options) error { return demoRun(c, f, o) }
	}
	return &cli.Command{
		Name:  "demo",
		Usage: "run the whole dependency flow on this machine: three repositories, two builds, two pull requests, one merged by policy",
		Description: `Creates, in --dir (default: a new temporary folder), three git repositories
(widgets, gadgets that uses widgets, app that uses both, each with a test
script) and a local store with a channel, default channels, two everyBuild
subscriptions with the Standard merge policies, and repository policies that
run the tests on every pull request with auto-merge on. Publishes a widgets
build: Maestro++ opens a pull request in gadgets, whose tests pass, and
` + "`maestro pr check`" + ` merges it. Publishes the gadgets build: Maestro++ opens a
pull request in app, moving widgets too (coherency); app's tests fail, so it
is not merged, and the reason is shown. Prints what happened and leaves the
folder to look at.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Usage: "an empty or missing `DIR` to work in (default: a new temporary folder)"},
		},
		Action: func(c *cli.Context) error {
			return runF(c, &Options{Dir: c.String("dir")})
		},
	}
}

// demoRun runs the demo in o.Dir, made absolute, or in a new temporary folder.
func demoRun(c *cli.Context, f *cmdutil.Factory, o *Options) error {
	dir := o.Dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "maestro-demo-"); err != nil {
			return err
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	return run(c, f, abs)
}

// demo holds what the steps share.
type demo struct {
	c     *cli.Context
	f     *cmdutil.Factory
	out   io.Writer
	dir   string
	store string
	reg   *registry.Registry
	git   git.Runner
	repos map[string]string // name → bare repository path
	shas  map[string]string // name → commit of main
}

func run(c *cli.Context, f *cmdutil.Factory, dir string) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return cmdutil.UsageErrorf("--dir %s is not empty; give an empty or new folder", dir)
	}
	d := &demo{c: c, f: f, out: f.IO.Out, dir: dir, store: "file://" + filepath.ToSlash(filepath.Join(dir, "store")),
		git:   git.Runner{Author: git.Identity{Name: "Contoso Developer", Email: "dev@contoso.example"}},
		repos: map[string]string{}, shas: map[string]string{}}
	ctx := c.Context
	st, err := f.CreateStore(ctx, d.store, f.Getenv)
	if err != nil {
		return err
	}
	d.reg = registry.New(st, registry.WithClock(f.Now))
	if _, _, err := d.reg.Init(ctx); err != nil {
		return err
	}

	fmt.Fprintf(d.out, "Maestro++ demo in %s\n\n", dir)
	for _, name := range []string{"widgets", "gadgets", "app"} {
		if err := d.createRepo(ctx, name); err != nil {
			return fmt.Errorf("create repository %s: %w", name, err)
		}
	}
	fmt.Fprintf(d.out, "1. Created three repositories: widgets; gadgets, which uses widgets; and app, which uses\n   gadgets and the same widgets (Contoso.Widgets is coherent with Contoso.Gadgets):\n")
	for _, name := range []string{"widgets", "gadgets", "app"} {
		fmt.Fprintf(d.out, "     %s\n", d.repos[name])
	}
	if err := d.configure(ctx); err != nil {
		return err
	}

	fmt.Fprintf(d.out, "\n3. An official build of widgets publishes Contoso.Widgets 2.1.0-preview.1.26575.4.\n")
	widgetsBuild, err := d.publish(ctx, "widgets", 26575004, []string{"Contoso.Widgets", "Contoso.Widgets.Sdk"}, "2.1.0-preview.1.26575.4", "")
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   It is build %d in channel %q; the subscription of gadgets flows it at once.\n", widgetsBuild, channelName)
	pr, err := d.showPullRequest(ctx, 4, "gadgets")
	if err != nil {
		return err
	}

	fmt.Fprintf(d.out, "\n5. gadgets' check command (eng/test.sh) ran on the pull request's head. `maestro pr check`\n   evaluates its merge policies (Standard) and, every one passing, merges it:\n")
	if err := d.check(ctx, pr); err != nil {
		return err
	}
	if d.shas["gadgets"], err = d.git.RevParse(ctx, d.repos["gadgets"], "main"); err != nil {
		return err
	}

	fmt.Fprintf(d.out, "\n6. The next official build of gadgets publishes Contoso.Gadgets 1.1.0-preview.1.26575.7,\n   recording from its eng/Version.Details.xml that it was built with widgets build %d.\n", widgetsBuild)
	details, err := d.git.Show(ctx, d.repos["gadgets"], "main", "eng/Version.Details.xml")
	if err != nil {
		return err
	}
	detailsPath := filepath.Join(dir, "builds", "gadgets-Version.Details.xml")
	if err := os.WriteFile(detailsPath, details, 0o644); err != nil {
		return err
	}
	gadgetsBuild, err := d.publish(ctx, "gadgets", 26575007, []string{"Contoso.Gadgets"}, "1.1.0-preview.1.26575.7", detailsPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "   It is build %d; the subscription of app flows it.\n", gadgetsBuild)
	appPR, err := d.showPullRequest(ctx, 7, "app")
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "\n8. app's tests fail with widgets 2.1, so `maestro pr check` refuses to merge pull request #%d\n   and says why; it stays open for a person (`maestro pr show` prints the check's output):\n", appPR.Number)
	if err := d.check(ctx, appPR); err != nil {
		return err
	}
	if rec, err := d.reg.PullRequest(ctx, appPR.Repository, appPR.Number); err == nil && rec.CheckRun != nil {
		fmt.Fprintf(d.out, "   The check's output (`sh eng/test.sh` on the head):\n")
		for _, line := range strings.Split(strings.TrimRight(rec.CheckRun.Output, "\n"), "\n") {
			fmt.Fprintf(d.out, "     %s\n", line)
		}
	}

	fmt.Fprintf(d.out, "\nDone. Everything is left in %s:\n", dir)
	fmt.Fprintf(d.out, "  git -C %s log --all --oneline\n", d.repos["app"])
	fmt.Fprintf(d.out, "  maestro pr list --store %s\n", d.store)
	fmt.Fprintf(d.out, "  maestro pr show --repository %s --number %d --store %s\n", d.repos["app"], appPR.Number, d.store)
	fmt.Fprintf(d.out, "  maestro flow history --store %s\n", d.store)
	fmt.Fprintf(d.out, "  maestro flow explain --build %d --store %s\n", gadgetsBuild, d.store)
	return nil
}

// createRepo makes a bare repository seeded from examples/repos/<name>, its
// templates filled with the upstream repositories made before it.
func (d *demo) createRepo(ctx context.Context, name string) error {
	seed := filepath.Join(d.dir, "work", name)
	root := path.Join("repos", name)
	vars := map[string]string{"Widgets": d.repos["widgets"], "WidgetsSha": d.shas["widgets"], "Gadgets": d.repos["gadgets"], "GadgetsSha": d.shas["gadgets"]}
	err := fs.WalkDir(examples.Repos, root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		text, err := examples.Repos.ReadFile(p)
		if err != nil {
			return err
		}
		tmpl, err := template.New(p).Option("missingkey=error").Parse(string(text))
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, vars); err != nil {
			return err
		}
		dst := filepath.Join(seed, filepath.FromSlash(strings.TrimPrefix(p, root+"/")))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, buf.Bytes(), 0o644)
	})
	if err != nil {
		return err
	}
	bare := filepath.Join(d.dir, "repos", name+".git")
	if err := d.git.Init(ctx, bare, true); err != nil {
		return err
	}
	if err := d.git.Init(ctx, seed, false); err != nil {
		return err
	}
	if _, err := d.git.CommitAll(ctx, seed, "Initial version of "+name); err != nil {
		return err
	}
	if err := d.git.Push(ctx, seed, bare, "HEAD", "main", ""); err != nil {
		return err
	}
	d.repos[name] = bare
	d.shas[name], err = d.git.RevParse(ctx, seed, "HEAD")
	return err
}

// configure sets up the channel, default channels and subscriptions.
func (d *demo) configure(ctx context.Context) error {
	ch, err := d.reg.AddChannel(ctx, channelName, "dev")
	if err != nil {
		return err
	}
	for _, name := range []string{"widgets", "gadgets"} {
		if _, err := d.reg.AddDefaultChannel(ctx, maestro.DefaultChannel{Repository: d.repos[name], Branch: "main", ChannelID: ch.ID, Enabled: true}); err != nil {
			return err
		}
	}
	for _, pair := range [][2]string{{"widgets", "gadgets"}, {"gadgets", "app"}} {
		if _, err := d.reg.AddSubscription(ctx, maestro.Subscription{ChannelID: ch.ID, SourceRepository: d.repos[pair[0]],
			TargetRepository: d.repos[pair[1]], TargetBranch: "main", Enabled: true, ExcludedAssets: []string{},
			Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild,
				MergePolicies: []maestro.MergePolicy{{Name: maestro.PolicyStandard}}}}); err != nil {
			return err
		}
		if err := d.reg.SetRepositoryPolicy(ctx, maestro.RepositoryBranchPolicy{Repository: d.repos[pair[1]], Branch: "main",
			MergePolicies: []maestro.MergePolicy{}, AutoMerge: true, MergeMethod: maestro.MergeMethodSquash, CheckCommand: "sh eng/test.sh"}); err != nil {
			return err
		}
	}
	fmt.Fprintf(d.out, "\n2. In the local store %s: channel %q, default channels sending\n   main-branch builds of widgets and gadgets to it, and two everyBuild subscriptions,\n   widgets → gadgets and gadgets → app, with the Standard merge policies; gadgets and app\n   run their tests (`sh eng/test.sh`) on every pull request, and auto-merge is on.\n", d.store, channelName)
	return nil
}

// publish writes an Arcade asset manifest for an official build of repo
// and runs `maestro publish` on it; it returns the BAR id.
func (d *demo) publish(ctx context.Context, name string, azdoID int, packages []string, version, versionDetails string) (int, error) {
	var m strings.Builder
	fmt.Fprintf(&m, `<?xml version="1.0" encoding="utf-8"?>
<Build PublishingVersion="3" Name="%s" BuildId="20261125.%d" Branch="refs/heads/main" Commit="%s" AzureDevOpsBuildId="%d" AzureDevOpsAccount="contoso" AzureDevOpsProject="internal" AzureDevOpsBuildNumber="20261125.%d" InitialAssetsLocation="https://dev.azure.com/contoso/internal/_apis/build/builds/%d/artifacts" IsStable="false">
`, d.repos[name], azdoID%100, d.shas[name], azdoID, azdoID%100, azdoID)
	for _, p := range packages {
		fmt.Fprintf(&m, "  <Package Id=%q Version=%q NonShipping=\"false\" />\n", p, version)
	}
	m.WriteString("</Build>\n")
	manifest := filepath.Join(d.dir, "builds", name+"-AssetManifest.xml")
	if err := os.MkdirAll(filepath.Dir(manifest), 0o755); err != nil {
		return 0, err
	}
	if err := os.WriteFile(manifest, []byte(m.String()), 0o644); err != nil {
		return 0, err
	}
	pf := *d.f
	var id bytes.Buffer
	pf.IO.Out, pf.IO.ErrOut = &id, io.Discard // the demo tells the outcome in its own words
	opts := &publish.Options{Manifests: []string{manifest}, VersionDetails: versionDetails}
	if err := publish.RunOn(d.c, &pf, d.reg, opts); err != nil {
		return 0, err
	}
	var n int
	_, err := fmt.Sscan(id.String(), &n)
	return n, err
}

// showPullRequest prints the open pull request of a repository and its diff.
func (d *demo) showPullRequest(ctx context.Context, step int, name string) (maestro.PullRequest, error) {
	prs, err := d.reg.PullRequests(ctx, d.repos[name])
	if err != nil {
		return maestro.PullRequest{}, err
	}
	if len(prs) == 0 || prs[0].State != maestro.PullRequestOpen {
		history, _ := d.reg.Outcomes(ctx, registry.OutcomeFilter{})
		msg := "no outcome recorded"
		if len(history) > 0 {
			msg = cmdutil.DescribeOutcome(history[len(history)-1])
		}
		return maestro.PullRequest{}, fmt.Errorf("no pull request was opened in %s: %s", name, msg)
	}
	pr := prs[0]
	fmt.Fprintf(d.out, "\n%d. Maestro++ opened pull request #%d in %s: %q\n   branch %s → %s. Its diff:\n\n", step, pr.Number, name, pr.Title, pr.HeadBranch, pr.BaseBranch)
	diff, err := d.git.Diff(ctx, d.repos[name], pr.BaseBranch, pr.HeadBranch)
	if err != nil {
		return pr, err
	}
	for _, line := range strings.Split(strings.TrimRight(diff, "\n"), "\n") {
		fmt.Fprintf(d.out, "     %s\n", line)
	}
	return pr, nil
}

// check evaluates the merge policies of pr, as `maestro pr check --id`
// does, and prints the result.
func (d *demo) check(ctx context.Context, pr maestro.PullRequest) error {
	svc := d.f.Wiring().Service(d.reg)
	results, err := svc.CheckPullRequests(ctx, d.f.Now(), service.CheckRequest{Repository: pr.Repository, Number: pr.Number})
	if err != nil {
		return err
	}
	for _, r := range results {
		for _, line := range strings.Split(cmdutil.DescribeCheck(r), "\n") {
			fmt.Fprintf(d.out, "     %s\n", line)
		}
	}
	return nil
}
