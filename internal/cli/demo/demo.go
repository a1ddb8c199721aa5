// Package demo implements `maestro demo`: a first run that needs no cloud
// account. It sets up a channel, a default channel and subscriptions in the
// store, publishes the sample build shipped in examples/, and shows what was
// recorded and which subscriptions the build triggers.
package demo

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/examples"
	"github.com/maestroplusplus/maestro/internal/cli/build"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/cli/publish"
	"github.com/maestroplusplus/maestro/internal/flow"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// The sample product: widgets publishes, gadgets and toolkit subscribe.
const (
	channelName = "Contoso Dev"
	producer    = "https://github.com/contoso/widgets"
)

var subscriptions = []maestro.Subscription{
	{TargetRepository: "https://github.com/contoso/gadgets", TargetBranch: "main", Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild, MergePolicies: []maestro.MergePolicy{{Name: maestro.PolicyStandard}}}},
	{TargetRepository: "https://github.com/contoso/toolkit", TargetBranch: "main", Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryWeek}},
}

// NewCmd returns `maestro demo`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "publish a sample build into the local store and show what it would flow to",
		Description: `Sets up the channel "Contoso Dev", a default channel for
https://github.com/contoso/widgets@main and two subscriptions (once), then
publishes the sample build shipped with maestro (examples/manifests) and shows
the recorded build, its channels and the subscriptions it triggers. Safe to
run again: the same Azure DevOps build is recorded once.`,
		Flags: []cli.Flag{cmdutil.StoreFlag},
		Action: func(c *cli.Context) error {
			return run(c, f)
		},
	}
}

func run(c *cli.Context, f *cmdutil.Factory) error {
	ctx := c.Context
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	out := f.IO.Out
	ch, err := setUp(ctx, reg, out)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "maestro-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := fs.WalkDir(examples.Manifests, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := examples.Manifests.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, filepath.Base(path)), data, 0o644)
	}); err != nil {
		return fmt.Errorf("write sample manifests: %w", err)
	}

	fmt.Fprintf(out, "\nPublishing the sample build of %s (two job manifests)...\n", producer)
	pf := *f
	pf.IO.Out = io.Discard // publish prints the BAR id; the demo says it in words below
	if err := publish.Run(c, &pf, &publish.Options{Manifests: []string{filepath.Join(dir, "*.xml")}, NoTrigger: true}); err != nil {
		return err
	}
	b, err := reg.LatestBuild(ctx, producer, ch.ID)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "\nRecorded build:")
	if err := f.Print(c, b, func(w io.Writer) { build.Describe(w, b) }); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nWhat the build triggers:")
	for _, bc := range b.Channels {
		subs, err := reg.Subscriptions(ctx, registry.SubscriptionFilter{ChannelID: bc.ID, SourceRepository: b.Repository})
		if err != nil {
			return err
		}
		for _, d := range flow.Decide(b, bc.ID, subs) {
			s := d.Subscription
			fmt.Fprintf(out, "  %s@%s (subscription %s): %s — %s\n", s.TargetRepository, s.TargetBranch, s.ID, d.Action, d.Reason)
		}
	}
	fmt.Fprintf(out, "\nTry: maestro build show --id %d, maestro subscription list, maestro asset find --name Contoso.Widgets\n", b.ID)
	return nil
}

// setUp creates the demo's channel, default channel and subscriptions unless
// they exist, and returns the channel.
func setUp(ctx context.Context, reg *registry.Registry, out io.Writer) (maestro.Channel, error) {
	ch, err := reg.ChannelByName(ctx, channelName)
	if maestro.KindOf(err) == maestro.KindNotFound {
		ch, err = reg.AddChannel(ctx, channelName, "dev")
		if err == nil {
			fmt.Fprintf(out, "Created channel %q (id %d).\n", ch.Name, ch.ID)
		}
	}
	if err != nil {
		return ch, err
	}
	dcs, err := reg.DefaultChannels(ctx)
	if err != nil {
		return ch, err
	}
	if len(registry.MatchDefaultChannels(dcs, producer, "main")) == 0 {
		dc, err := reg.AddDefaultChannel(ctx, maestro.DefaultChannel{Repository: producer, Branch: "main", ChannelID: ch.ID, Enabled: true})
		if err != nil {
			return ch, err
		}
		fmt.Fprintf(out, "Created default channel %d: builds of %s@main go to %q.\n", dc.ID, producer, ch.Name)
	}
	existing, err := reg.Subscriptions(ctx, registry.SubscriptionFilter{ChannelID: ch.ID, SourceRepository: producer})
	if err != nil {
		return ch, err
	}
	for _, s := range subscriptions {
		if containsTarget(existing, s) {
			continue
		}
		s.ChannelID, s.SourceRepository, s.Enabled, s.ExcludedAssets = ch.ID, producer, true, []string{}
		s, err := reg.AddSubscription(ctx, s)
		if err != nil {
			return ch, err
		}
		fmt.Fprintf(out, "Created subscription %s: %s@%s takes %s from %q %s.\n", s.ID, s.TargetRepository, s.TargetBranch, producer, ch.Name, s.Policy.UpdateFrequency)
	}
	return ch, nil
}

func containsTarget(subs []maestro.Subscription, s maestro.Subscription) bool {
	for _, o := range subs {
		if o.TargetRepository == s.TargetRepository && o.TargetBranch == s.TargetBranch {
			return true
		}
	}
	return false
}
