// Package subscription implements `maestro subscription`: which target
// repository branch takes what a source repository publishes to a channel.
package subscription

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
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
		&cli.BoolFlag{Name: "speculative", Usage: "also take speculative builds (of pull requests) of the source, each into a pull request marked [speculative] (--speculative=false opts out)"},
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

// Fields are the subscription fields given as flags to add or update: Set
// names the flags given, and only their fields change. Values are parsed
// (merge policies, update pipeline URL); the channel is resolved when the
// command runs.
type Fields struct {
	Set                     map[string]bool
	Channel                 string // name or id
	SourceRepository        string
	TargetRepository        string
	TargetBranch            string
	UpdateFrequency         maestro.UpdateFrequency
	Batchable               bool
	MergePolicies           []maestro.MergePolicy
	ExcludedAssets          []string
	SourceDirectory         string
	TargetDirectory         string
	FailureNotificationTags string
	UpdatePipeline          *maestro.UpdatePipeline // nil: apply directly (--update-pipeline none)
	UpdatePipelineClassic   bool
	Speculative             bool
}

// parseFields reads the flags of fieldFlags that were given.
func parseFields(c *cli.Context) (Fields, error) {
	fl := Fields{Set: map[string]bool{}}
	for _, flag := range fieldFlags(false) {
		if name := flag.Names()[0]; c.IsSet(name) {
			fl.Set[name] = true
		}
	}
	fl.Channel = c.String("channel")
	fl.SourceRepository = c.String("source-repo")
	fl.TargetRepository = c.String("target-repo")
	fl.TargetBranch = c.String("target-branch")
	fl.UpdateFrequency = maestro.UpdateFrequency(c.String("update-frequency"))
	fl.Batchable = c.Bool("batchable")
	fl.ExcludedAssets = c.StringSlice("excluded-asset")
	fl.SourceDirectory = c.String("source-directory")
	fl.TargetDirectory = c.String("target-directory")
	fl.FailureNotificationTags = c.String("failure-notification-tags")
	fl.UpdatePipelineClassic = c.Bool("update-pipeline-classic")
	fl.Speculative = c.Bool("speculative")
	for _, raw := range c.StringSlice("merge-policy") {
		p, err := ParseMergePolicy(raw)
		if err != nil {
			return fl, err
		}
		fl.MergePolicies = append(fl.MergePolicies, p)
	}
	if raw := c.String("update-pipeline"); raw != "none" && raw != "" {
		up, err := azdo.ParsePipelineURL(raw)
		if err != nil {
			return fl, cmdutil.UsageErrorf("--update-pipeline: %v", err)
		}
		fl.UpdatePipeline = &up
	}
	return fl, nil
}

// apply copies every field that was given onto s.
func (fl *Fields) apply(c *cli.Context, reg *registry.Registry, s *maestro.Subscription) error {
	if fl.Set["channel"] {
		ch, err := channel.ResolveFlag(c, reg, fl.Channel)
		if err != nil {
			return err
		}
		s.ChannelID = ch.ID
	}
	str := map[string][2]*string{
		"source-repo": {&s.SourceRepository, &fl.SourceRepository}, "target-repo": {&s.TargetRepository, &fl.TargetRepository},
		"target-branch": {&s.TargetBranch, &fl.TargetBranch}, "source-directory": {&s.SourceDirectory, &fl.SourceDirectory},
		"target-directory": {&s.TargetDirectory, &fl.TargetDirectory}, "failure-notification-tags": {&s.PullRequestFailureNotificationTags, &fl.FailureNotificationTags},
	}
	for name, p := range str {
		if fl.Set[name] {
			*p[0] = *p[1]
		}
	}
	if fl.Set["update-frequency"] {
		s.Policy.UpdateFrequency = fl.UpdateFrequency
	}
	if fl.Set["batchable"] {
		s.Policy.Batchable = fl.Batchable
	}
	if fl.Set["speculative"] {
		s.Speculative = fl.Speculative
	}
	if fl.Set["merge-policy"] {
		s.Policy.MergePolicies = slices.Clone(fl.MergePolicies)
	}
	if fl.Set["excluded-asset"] {
		s.ExcludedAssets = slices.Clone(fl.ExcludedAssets)
	}
	if fl.Set["update-pipeline"] {
		s.UpdatePipeline = nil
		if fl.UpdatePipeline != nil {
			up := *fl.UpdatePipeline
			s.UpdatePipeline = &up
		}
	}
	if fl.Set["update-pipeline-classic"] {
		if s.UpdatePipeline == nil {
			return cmdutil.UsageErrorf("--update-pipeline-classic needs --update-pipeline")
		}
		s.UpdatePipeline.Classic = fl.UpdatePipelineClassic
	}
	return nil
}

// AddOptions are the parsed flags of `maestro subscription add`.
type AddOptions struct {
	Fields   Fields
	Disabled bool
	JSON     bool
	// WhatIf writes nothing and prints what the subscription would flow now.
	WhatIf bool
}

// ListOptions are the parsed flags of `maestro subscription list`.
type ListOptions struct {
	Channel          string // name or id; "" for every channel
	SourceRepository string
	TargetRepository string
	TargetBranch     string
	JSON             bool
}

// ShowOptions are the parsed flags of `maestro subscription show`.
type ShowOptions struct {
	ID   string
	JSON bool
}

// UpdateOptions are the parsed flags of `maestro subscription update`.
type UpdateOptions struct {
	ID     string
	Fields Fields
	JSON   bool
	// WhatIf writes nothing and prints what the changed subscription would flow now.
	WhatIf bool
}

// DeleteOptions are the parsed flags of `maestro subscription delete`.
type DeleteOptions struct {
	ID string
}

// EnableOptions are the parsed flags of `maestro subscription enable`
// (Enabled) and `disable`.
type EnableOptions struct {
	ID      string
	Enabled bool
	JSON    bool
}

// NewCmd returns `maestro subscription`.
func NewCmd(f *cmdutil.Factory) *cli.Command {
	return &cli.Command{
		Name:  "subscription",
		Usage: "manage subscriptions",
		Subcommands: []*cli.Command{
			NewCmdAdd(f, nil),
			NewCmdList(f, nil),
			NewCmdShow(f, nil),
			NewCmdUpdate(f, nil),
			NewCmdDelete(f, nil),
			NewCmdApply(f, nil),
			NewCmdTrigger(f, nil),
			NewCmdEnable(f, nil),
			NewCmdDisable(f, nil),
		},
	}
}

func idFlag() cli.Flag {
	return &cli.StringFlag{Name: "id", Required: true, Usage: "subscription `ID`"}
}

// show writes one subscription as a table or JSON.
func show(f *cmdutil.Factory, asJSON bool, s maestro.Subscription) error {
	return f.Render(asJSON, s, func(w io.Writer) { Describe(w, s) })
}

// NewCmdAdd returns `maestro subscription add`; runF does the work (nil: addRun).
func NewCmdAdd(f *cmdutil.Factory, runF func(*cli.Context, *AddOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *AddOptions) error { return addRun(c, f, o) }
	}
	return &cli.Command{
		Name:      "add",
		Usage:     "subscribe a target repository branch to a source repository's builds in a channel",
		ArgsUsage: " ",
		Description: `Example:
  maestro subscription add --channel '.NET 10' --source-repo https://github.com/dotnet/arcade \
    --target-repo https://github.com/dotnet/runtime --target-branch main \
    --update-frequency everyDay --merge-policy Standard

With --what-if nothing is added: the subscription is checked as add checks it,
then the command prints the build it would apply now (the newest of its
source in its channel, with the flow's decision for it) and the dependencies
that build would change in the target branch, from a dry run of the real
update on the branch's dependency files.`,
		Flags: append(fieldFlags(true), &cli.BoolFlag{Name: "disabled", Usage: "create it disabled"}, cmdutil.WhatIfFlag, cmdutil.StoreFlag, cmdutil.OutputFlag),
		Action: func(c *cli.Context) error {
			fl, err := parseFields(c)
			if err != nil {
				return err
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &AddOptions{Fields: fl, Disabled: c.Bool("disabled"), JSON: asJSON, WhatIf: c.Bool(cmdutil.WhatIfFlag.Name)})
		},
	}
}

func addRun(c *cli.Context, f *cmdutil.Factory, o *AddOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	s := maestro.Subscription{Enabled: !o.Disabled, ExcludedAssets: []string{}}
	if err := o.Fields.apply(c, reg, &s); err != nil {
		return err
	}
	if o.WhatIf {
		return whatIf(c, f, reg, s, nil, o.JSON)
	}
	s, err = reg.AddSubscription(c.Context, s)
	if err != nil {
		return err
	}
	return show(f, o.JSON, s)
}

// NewCmdList returns `maestro subscription list`; runF does the work (nil: listRun).
func NewCmdList(f *cmdutil.Factory, runF func(*cli.Context, *ListOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *ListOptions) error { return listRun(c, f, o) }
	}
	return &cli.Command{
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
			ch, err := channel.OptionalFlag(c)
			if err != nil {
				return err
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &ListOptions{
				Channel: ch, SourceRepository: c.String("source-repo"), TargetRepository: c.String("target-repo"),
				TargetBranch: c.String("target-branch"), JSON: asJSON,
			})
		},
	}
}

func listRun(c *cli.Context, f *cmdutil.Factory, o *ListOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	filter := registry.SubscriptionFilter{
		SourceRepository: o.SourceRepository,
		TargetRepository: o.TargetRepository,
		TargetBranch:     o.TargetBranch,
	}
	if o.Channel != "" {
		ch, err := channel.ResolveFlag(c, reg, o.Channel)
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
	return f.Render(o.JSON, subs, func(w io.Writer) {
		cmdutil.Row(w, "ID", "CHANNEL", "SOURCE", "TARGET", "BRANCH", "FREQUENCY", "ENABLED")
		for _, s := range subs {
			cmdutil.Row(w, s.ID, s.ChannelID, s.SourceRepository, s.TargetRepository, s.TargetBranch, s.Policy.UpdateFrequency, s.Enabled)
		}
	})
}

// NewCmdShow returns `maestro subscription show`; runF does the work (nil: showRun).
func NewCmdShow(f *cmdutil.Factory, runF func(*cli.Context, *ShowOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *ShowOptions) error { return showRun(c, f, o) }
	}
	return &cli.Command{
		Name: "show", Usage: "show one subscription", ArgsUsage: " ",
		Flags: []cli.Flag{idFlag(), cmdutil.StoreFlag, cmdutil.OutputFlag},
		Action: func(c *cli.Context) error {
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &ShowOptions{ID: c.String("id"), JSON: asJSON})
		},
	}
}

func showRun(c *cli.Context, f *cmdutil.Factory, o *ShowOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	s, err := reg.Subscription(c.Context, o.ID)
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
	return f.Render(o.JSON, shown, func(w io.Writer) {
		Describe(w, s)
		DescribeFlowState(w, s, st)
	})
}

// NewCmdUpdate returns `maestro subscription update`; runF does the work (nil: updateRun).
func NewCmdUpdate(f *cmdutil.Factory, runF func(*cli.Context, *UpdateOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *UpdateOptions) error { return updateRun(c, f, o) }
	}
	return &cli.Command{
		Name: "update", Usage: "change the fields given as flags", ArgsUsage: " ",
		Description: `With --what-if nothing changes: the change is checked as update checks it,
then the command prints the build the changed subscription would apply now
and the dependencies that build would change in the target branch.`,
		Flags: append([]cli.Flag{idFlag()}, append(fieldFlags(false), cmdutil.WhatIfFlag, cmdutil.StoreFlag, cmdutil.OutputFlag)...),
		Action: func(c *cli.Context) error {
			fl, err := parseFields(c)
			if err != nil {
				return err
			}
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &UpdateOptions{ID: c.String("id"), Fields: fl, JSON: asJSON, WhatIf: c.Bool(cmdutil.WhatIfFlag.Name)})
		},
	}
}

func updateRun(c *cli.Context, f *cmdutil.Factory, o *UpdateOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	if o.WhatIf {
		before, err := reg.Subscription(c.Context, o.ID)
		if err != nil {
			return err
		}
		after := before
		after.ExcludedAssets = slices.Clone(before.ExcludedAssets)
		after.Policy.MergePolicies = slices.Clone(before.Policy.MergePolicies)
		if up := before.UpdatePipeline; up != nil { // apply may change it in place
			cp := *up
			after.UpdatePipeline = &cp
		}
		if err := o.Fields.apply(c, reg, &after); err != nil {
			return err
		}
		return whatIf(c, f, reg, after, &before, o.JSON)
	}
	s, err := reg.UpdateSubscription(c.Context, o.ID, func(s *maestro.Subscription) error {
		return o.Fields.apply(c, reg, s)
	})
	if err != nil {
		return err
	}
	return show(f, o.JSON, s)
}

// NewCmdDelete returns `maestro subscription delete`; runF does the work (nil: deleteRun).
func NewCmdDelete(f *cmdutil.Factory, runF func(*cli.Context, *DeleteOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *DeleteOptions) error { return deleteRun(c, f, o) }
	}
	return &cli.Command{
		Name: "delete", Usage: "delete a subscription", ArgsUsage: " ",
		Flags: []cli.Flag{idFlag(), cmdutil.StoreFlag},
		Action: func(c *cli.Context) error {
			return runF(c, &DeleteOptions{ID: c.String("id")})
		},
	}
}

func deleteRun(c *cli.Context, f *cmdutil.Factory, o *DeleteOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	if err := reg.DeleteSubscription(c.Context, o.ID); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "deleted subscription %s\n", o.ID)
	return nil
}

// NewCmdEnable returns `maestro subscription enable`; runF does the work (nil: enableRun).
func NewCmdEnable(f *cmdutil.Factory, runF func(*cli.Context, *EnableOptions) error) *cli.Command {
	return newSetEnabledCmd(f, "enable", true, runF)
}

// NewCmdDisable returns `maestro subscription disable`; runF does the work (nil: enableRun).
func NewCmdDisable(f *cmdutil.Factory, runF func(*cli.Context, *EnableOptions) error) *cli.Command {
	return newSetEnabledCmd(f, "disable", false, runF)
}

func newSetEnabledCmd(f *cmdutil.Factory, name string, enabled bool, runF func(*cli.Context, *EnableOptions) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *EnableOptions) error { return enableRun(c, f, o) }
	}
	return &cli.Command{
		Name: name, Usage: name + " a subscription", ArgsUsage: " ",
		Flags: []cli.Flag{idFlag(), cmdutil.StoreFlag, cmdutil.OutputFlag},
		Action: func(c *cli.Context) error {
			asJSON, err := cmdutil.JSON(c)
			if err != nil {
				return err
			}
			return runF(c, &EnableOptions{ID: c.String("id"), Enabled: enabled, JSON: asJSON})
		},
	}
}

func enableRun(c *cli.Context, f *cmdutil.Factory, o *EnableOptions) error {
	reg, err := f.Registry(c)
	if err != nil {
		return err
	}
	s, err := reg.UpdateSubscription(c.Context, o.ID, func(s *maestro.Subscription) error {
		s.Enabled = o.Enabled
		return nil
	})
	if err != nil {
		return err
	}
	return show(f, o.JSON, s)
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
	if s.Speculative {
		cmdutil.Row(w, "speculative:", "takes speculative builds too")
	}
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
