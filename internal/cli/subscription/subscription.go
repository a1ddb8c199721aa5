// Package subscription implements `maestro subscription`: which target
// repository branch takes what a source repository publishes to a channel.
package subscription

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/cli/channel"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/flow"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// fieldFlags are the flags that set subscription fields, shared by add and update.
func fieldFlags(required bool) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "channel", Required: required, Usage: "source channel `NAME` or id"},
		&cli.StringFlag{Name: "source-repo", Required: required, Usage: "source repository `URL`"},
		&cli.StringFlag{Name: "target-repo", Required: required, Usage: "target repository `URL` (fixed after creation)"},
		&cli.StringFlag{Name: "target-branch", Required: required, Usage: "target `BRANCH` (fixed after creation)"},
		&cli.StringFlag{Name: "update-frequency", Usage: "`FREQ`: none, everyBuild, twiceDaily, everyDay, everyWeek, everyTwoWeeks or everyMonth (default everyDay)"},
		&cli.BoolFlag{Name: "batchable", Usage: "share one pull request with the other batchable subscriptions into the target branch (fixed after creation)"},
		&cli.StringSliceFlag{Name: "merge-policy", Usage: "`NAME[:json-properties]`, e.g. 'AllChecksSuccessful:{\"ignoreChecks\":[\"license/cla\"]}'; repeatable"},
		&cli.StringSliceFlag{Name: "excluded-asset", Usage: "asset name `PATTERN` (* wildcard) never to update; repeatable"},
		&cli.StringFlag{Name: "source-directory", Usage: "source `DIR` for source-enabled flow"},
		&cli.StringFlag{Name: "target-directory", Usage: "target `DIR` for source-enabled flow"},
		&cli.StringFlag{Name: "failure-notification-tags", Usage: "`TAGS` (e.g. @dotnet/team) to mention when the pull request fails"},
		&cli.StringFlag{Name: "update-pipeline", Usage: "queue this dependency-update pipeline instead of applying updates directly: its `URL`, https://dev.azure.com/ORG/PROJECT/_build?definitionId=ID (none: apply directly)"},
		&cli.BoolFlag{Name: "update-pipeline-classic", Usage: "the update pipeline is a classic build definition"},
	}
}

// ParseMergePolicy reads NAME or NAME:{json properties}.
func ParseMergePolicy(s string) (maestro.MergePolicy, error) {
	name, props, hasProps := strings.Cut(strings.TrimSpace(s), ":")
	p := maestro.MergePolicy{Name: strings.TrimSpace(name)}
	if hasProps {
		if err := json.Unmarshal([]byte(props), &p.Properties); err != nil {
			return p, cmdutil.UsageErrorf("--merge-policy %q: properties must be a JSON object: %v", s, err)
		}
	}
	return p, nil
}

// applyFlags copies every flag that was set onto s.
func applyFlags(c *cli.Context, reg *registry.Registry, s *maestro.Subscription) error {
	if c.IsSet("channel") {
		ch, err := channel.FromFlag(c, reg)
		if err != nil {
			return err
		}
		s.ChannelID = ch.ID
	}
	str := map[string]*string{
		"source-repo": &s.SourceRepository, "target-repo": &s.TargetRepository,
		"target-branch": &s.TargetBranch, "source-directory": &s.SourceDirectory,
		"target-directory": &s.TargetDirectory, "failure-notification-tags": &s.PullRequestFailureNotificationTags,
	}
	for name, dst := range str {
		if c.IsSet(name) {
			*dst = c.String(name)
		}
	}
	if c.IsSet("update-frequency") {
		s.Policy.UpdateFrequency = maestro.UpdateFrequency(c.String("update-frequency"))
	}
	if c.IsSet("batchable") {
		s.Policy.Batchable = c.Bool("batchable")
	}
	if c.IsSet("merge-policy") {
		s.Policy.MergePolicies = nil
		for _, raw := range c.StringSlice("merge-policy") {
			p, err := ParseMergePolicy(raw)
			if err != nil {
				return err
			}
			s.Policy.MergePolicies = append(s.Policy.MergePolicies, p)
		}
	}
	if c.IsSet("excluded-asset") {
		s.ExcludedAssets = c.StringSlice("excluded-asset")
	}
	if c.IsSet("update-pipeline") {
		s.UpdatePipeline = nil
		if raw := c.String("update-pipeline"); raw != "none" && raw != "" {
			up, err := azdo.ParsePipelineURL(raw)
			if err != nil {
				return cmdutil.UsageErrorf("--update-pipeline: %v", err)
			}
			s.UpdatePipeline = &up
		}
	}
	if c.IsSet("update-pipeline-classic") {
		if s.UpdatePipeline == nil {
			return cmdutil.UsageErrorf("--update-pipeline-classic needs --update-pipeline")
		}
		s.UpdatePipeline.Classic = c.Bool("update-pipeline-classic")
	}
	return nil
}

// NewCmd returns `maestro subscription`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	idFlag := &cli.StringFlag{Name: "id", Required: true, Usage: "subscription `ID`"}
	show := func(c *cli.Context, s maestro.Subscription) error {
		return f.Print(c, s, func(w io.Writer) { Describe(w, s) })
	}
	setEnabled := func(enabled bool) cli.ActionFunc {
		return func(c *cli.Context) error {
			reg, err := f.Registry(c)
			if err != nil {
				return err
			}
			s, err := reg.UpdateSubscription(c.Context, c.String("id"), func(s *maestro.Subscription) error {
				s.Enabled = enabled
				return nil
			})
			if err != nil {
				return err
			}
			return show(c, s)
		}
	}
	return &cli.Command{
		Name:  "subscription",
		Usage: "manage subscriptions",
		Subcommands: []*cli.Command{
			{
				Name:      "add",
				Usage:     "subscribe a target repository branch to a source repository's builds in a channel",
				ArgsUsage: " ",
				Description: `Example:
  maestro subscription add --channel '.NET 10' --source-repo https://github.com/dotnet/arcade \
    --target-repo https://github.com/dotnet/runtime --target-branch main \
    --update-frequency everyDay --merge-policy Standard`,
				Flags: append(fieldFlags(true), &cli.BoolFlag{Name: "disabled", Usage: "create it disabled"}, cmdutil.StoreFlag, cmdutil.OutputFlag),
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					s := maestro.Subscription{Enabled: !c.Bool("disabled"), ExcludedAssets: []string{}}
					if err := applyFlags(c, reg, &s); err != nil {
						return err
					}
					s, err = reg.AddSubscription(c.Context, s)
					if err != nil {
						return err
					}
					return show(c, s)
				},
			},
			{
				Name:  "list",
				Usage: "list subscriptions",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "channel", Usage: "only this channel (`NAME` or id)"},
					&cli.StringFlag{Name: "source-repo", Usage: "only this source repository"},
					&cli.StringFlag{Name: "target-repo", Usage: "only this target repository"},
					&cli.StringFlag{Name: "target-branch", Usage: "only this target branch"},
					cmdutil.StoreFlag, cmdutil.OutputFlag,
				},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					filter := registry.SubscriptionFilter{
						SourceRepository: c.String("source-repo"),
						TargetRepository: c.String("target-repo"),
						TargetBranch:     c.String("target-branch"),
					}
					if c.IsSet("channel") {
						ch, err := channel.FromFlag(c, reg)
						if err != nil {
							return err
						}
						filter.ChannelID = ch.ID
					}
					subs, err := reg.Subscriptions(c.Context, filter)
					if err != nil {
						return err
					}
					if subs == nil {
						subs = []maestro.Subscription{}
					}
					return f.Print(c, subs, func(w io.Writer) {
						cmdutil.Row(w, "ID", "CHANNEL", "SOURCE", "TARGET", "BRANCH", "FREQUENCY", "ENABLED")
						for _, s := range subs {
							cmdutil.Row(w, s.ID, s.ChannelID, s.SourceRepository, s.TargetRepository, s.TargetBranch, s.Policy.UpdateFrequency, s.Enabled)
						}
					})
				},
			},
			{
				Name: "show", Usage: "show one subscription", ArgsUsage: " ",
				Flags: []cli.Flag{idFlag, cmdutil.StoreFlag, cmdutil.OutputFlag},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					s, err := reg.Subscription(c.Context, c.String("id"))
					if err != nil {
						return err
					}
					st, _, err := reg.FlowState(c.Context, s.ID)
					if err != nil {
						return err
					}
					shown := struct {
						maestro.Subscription
						FlowState registry.FlowState `json:"flowState"`
					}{s, st}
					return f.Print(c, shown, func(w io.Writer) {
						Describe(w, s)
						DescribeFlowState(w, s, st)
					})
				},
			},
			{
				Name: "update", Usage: "change the fields given as flags", ArgsUsage: " ",
				Flags: append([]cli.Flag{idFlag}, append(fieldFlags(false), cmdutil.StoreFlag, cmdutil.OutputFlag)...),
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					s, err := reg.UpdateSubscription(c.Context, c.String("id"), func(s *maestro.Subscription) error {
						return applyFlags(c, reg, s)
					})
					if err != nil {
						return err
					}
					return show(c, s)
				},
			},
			{
				Name: "delete", Usage: "delete a subscription", ArgsUsage: " ",
				Flags: []cli.Flag{idFlag, cmdutil.StoreFlag},
				Action: func(c *cli.Context) error {
					reg, err := f.Registry(c)
					if err != nil {
						return err
					}
					if err := reg.DeleteSubscription(c.Context, c.String("id")); err != nil {
						return err
					}
					fmt.Fprintf(f.IO.Out, "deleted subscription %s\n", c.String("id"))
					return nil
				},
			},
			newApplyCmd(f),
			newTriggerCmd(f),
			{Name: "enable", Usage: "enable a subscription", ArgsUsage: " ", Flags: []cli.Flag{idFlag, cmdutil.StoreFlag, cmdutil.OutputFlag}, Action: setEnabled(true)},
			{Name: "disable", Usage: "disable a subscription", ArgsUsage: " ", Flags: []cli.Flag{idFlag, cmdutil.StoreFlag, cmdutil.OutputFlag}, Action: setEnabled(false)},
		},
	}
}

// Describe writes a subscription for a person.
func Describe(w io.Writer, s maestro.Subscription) {
	cmdutil.Row(w, "id:", s.ID)
	cmdutil.Row(w, "channel:", s.ChannelID)
	cmdutil.Row(w, "source:", s.SourceRepository)
	cmdutil.Row(w, "target:", s.TargetRepository+" @ "+s.TargetBranch)
	cmdutil.Row(w, "enabled:", s.Enabled)
	cmdutil.Row(w, "update frequency:", s.Policy.UpdateFrequency)
	cmdutil.Row(w, "batchable:", s.Policy.Batchable)
	var policies []string
	for _, p := range s.Policy.MergePolicies {
		policies = append(policies, p.Name)
	}
	cmdutil.Row(w, "merge policies:", strings.Join(policies, ", "))
	cmdutil.Row(w, "excluded assets:", strings.Join(s.ExcludedAssets, ", "))
	if s.SourceDirectory != "" || s.TargetDirectory != "" {
		cmdutil.Row(w, "directories:", s.SourceDirectory+" → "+s.TargetDirectory)
	}
	if s.LastAppliedBuildID != 0 {
		cmdutil.Row(w, "last applied build:", s.LastAppliedBuildID)
	}
	if s.PullRequestFailureNotificationTags != "" {
		cmdutil.Row(w, "failure notification tags:", s.PullRequestFailureNotificationTags)
	}
	if up := s.UpdatePipeline; up != nil {
		kind := "pipeline"
		if up.Classic {
			kind = "classic definition"
		}
		cmdutil.Row(w, "update pipeline:", azdo.PipelineURL(*up)+" ("+kind+")")
	}
}

// DescribeFlowState writes when a subscription is next due and its pending work.
func DescribeFlowState(w io.Writer, s maestro.Subscription, st registry.FlowState) {
	if s.Enabled && flow.Scheduled(s.Policy.UpdateFrequency) {
		if !st.NextDue.After(registry.DueAtOnce) {
			cmdutil.Row(w, "next due:", "at the next `maestro flow tick` (never ran)")
		} else {
			cmdutil.Row(w, "next due:", st.NextDue.UTC().Format(time.RFC3339))
		}
	}
	if p := st.Pending; p != nil {
		cmdutil.Row(w, "pending:", fmt.Sprintf("build %d (%s), %d attempts; next attempt at %s — %s", p.BuildID, p.Reason, p.Attempts, p.NextAttempt.UTC().Format(time.RFC3339), p.Message))
	}
}
