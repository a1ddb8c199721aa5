package config

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// Op is what an Action does: '+' add, '~' change, '-' delete.
type Op byte

// The operations of a plan, as the diff prints them.
const (
	OpAdd    Op = '+'
	OpChange Op = '~'
	OpDelete Op = '-'
)

// Kind names the kind of object an Action is about.
type Kind string

// The kinds of object a configuration file holds.
const (
	KindChannel          Kind = "channel"
	KindDefaultChannel   Kind = "default channel"
	KindRepositoryPolicy Kind = "repository policy"
	KindSubscription     Kind = "subscription"
	KindMirror           Kind = "mirror"
	KindPublishTrigger   Kind = "publish trigger"
)

// FieldChange is one field of an Action: for an addition the value set (Old
// is empty), for a change the value before and after. Values are formatted
// for people.
type FieldChange struct {
	Name string `json:"name"`
	Old  string `json:"old,omitempty"`
	New  string `json:"new"`
}

// Action is one step of a plan: adding, changing or deleting one object.
type Action struct {
	Op      Op
	Kind    Kind
	Subject string // what the action is about, e.g. `".NET 10"` or a subscription id
	// Detail describes a subscription that is added or deleted: its channel,
	// source, target and branch.
	Detail string
	Fields []FieldChange
	do     func(ctx context.Context, a *applier) (id string, err error)
	// subscription is, for an added or changed subscription, the
	// subscription the action leaves in the registry, given the ids of the
	// registry's channels by folded name (0 for a channel the plan adds).
	subscription func(channels map[string]int) (maestro.Subscription, error)
	// before is the registry's subscription a change or deletion starts from.
	before *maestro.Subscription
}

// Plan is what applying a file would do to a registry, in the order Apply
// does it: channels, default channels, repository policies, subscriptions,
// mirrors (within each, changes before additions), then deletions in
// reverse dependency order (mirrors, subscriptions, repository policies,
// default channels, channels).
type Plan struct {
	File    string
	Actions []Action
	// Unlisted counts the registry objects the file does not list; without
	// Options.Prune they are left alone.
	Unlisted int
	state    *State
}

// NewPlan checks a parsed file against the registry state st and returns the
// plan that makes the registry match it. Every problem of the file is
// returned at once, as Problems, before any plan is made.
func NewPlan(f *File, st *State, opts Options) (*Plan, error) {
	n, ps := f.normalized()
	ix := newIndex(st)
	c := &checker{f: n, ix: ix, ps: ps}
	c.checkFile()
	m := n.match(ix)
	c.checkAgainst(m, opts)
	if len(c.ps) > 0 {
		sortProblems(c.ps)
		return nil, c.ps
	}
	b := &planner{f: n, ix: ix, m: m, opts: opts}
	b.channels()
	b.defaultChannels()
	b.repositoryPolicies()
	b.subscriptions()
	b.mirrors()
	b.publishTriggers()
	p := &Plan{File: f.name, Actions: b.actions, state: st}
	deletions := b.unlisted()
	if opts.Prune {
		p.Actions = append(p.Actions, deletions...)
	} else {
		p.Unlisted = len(deletions)
	}
	return p, nil
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Actions) == 0 }

// Counts returns how many objects the plan adds, changes and deletes.
func (p *Plan) Counts() (add, change, del int) {
	for _, a := range p.Actions {
		switch a.Op {
		case OpAdd:
			add++
		case OpChange:
			change++
		case OpDelete:
			del++
		}
	}
	return add, change, del
}

// Write prints the plan as a diff, one line per object added or deleted
// (additions followed by their fields, indented) and one per field changed,
// then a summary line and, when the plan does not prune, how many registry
// objects it leaves alone.
func (p *Plan) Write(w io.Writer) error {
	var b strings.Builder
	for _, a := range p.Actions {
		switch a.Op {
		case OpChange:
			for _, fc := range a.Fields {
				fmt.Fprintf(&b, "%c %s %s: %s: %s → %s\n", a.Op, a.Kind, a.Subject, fc.Name, fc.Old, fc.New)
			}
		default:
			fmt.Fprintf(&b, "%c %s %s", a.Op, a.Kind, a.Subject)
			if a.Detail != "" {
				b.WriteString(" " + a.Detail)
			}
			b.WriteString("\n")
			for _, fc := range a.Fields {
				fmt.Fprintf(&b, "    %s: %s\n", fc.Name, fc.New)
			}
		}
	}
	if p.Empty() {
		fmt.Fprintf(&b, "No changes: the registry matches %s.\n", p.File)
	} else {
		add, change, del := p.Counts()
		fmt.Fprintf(&b, "Plan: %d to add, %d to change, %d to delete.\n", add, change, del)
	}
	if p.Unlisted > 0 {
		fmt.Fprintf(&b, "%d registry object(s) that %s does not list are left alone; --prune deletes them.\n", p.Unlisted, p.File)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// planner builds the actions of a plan.
type planner struct {
	f       *File
	ix      *index
	m       *match
	opts    Options
	actions []Action
}

// inOrder appends the changes before the additions, each in file order.
func (b *planner) inOrder(changes, adds []Action) {
	b.actions = append(b.actions, changes...)
	b.actions = append(b.actions, adds...)
}

func (b *planner) channels() {
	var adds []Action
	for i, c := range b.f.Channels {
		if b.m.channels[i] != nil {
			continue
		}
		adds = append(adds, Action{
			Op: OpAdd, Kind: KindChannel, Subject: strconv.Quote(c.Name),
			Fields: []FieldChange{{Name: "classification", New: value(c.Classification)}},
			do: func(ctx context.Context, a *applier) (string, error) {
				ch, err := a.reg.AddChannel(ctx, c.Name, c.Classification)
				if err != nil {
					return "", err
				}
				a.channels[fold(ch.Name)] = ch.ID
				return strconv.Itoa(ch.ID), nil
			},
		})
	}
	b.inOrder(nil, adds)
}

func dcSubject(repo, branch, channel string) string {
	return fmt.Sprintf("%s@%s → %q", repo, branch, channel)
}

func (b *planner) defaultChannels() {
	var changes, adds []Action
	for i, dc := range b.f.DefaultChannels {
		enabled := *dc.Enabled
		if o := b.m.defaultChannels[i]; o != nil {
			if o.Enabled != enabled {
				id := o.ID
				changes = append(changes, Action{
					Op: OpChange, Kind: KindDefaultChannel, Subject: dcSubject(o.Repository, o.Branch, b.ix.channelName(o.ChannelID)),
					Fields: []FieldChange{{Name: "enabled", Old: strconv.FormatBool(o.Enabled), New: strconv.FormatBool(enabled)}},
					do: func(ctx context.Context, a *applier) (string, error) {
						return strconv.Itoa(id), a.reg.SetDefaultChannelEnabled(ctx, id, enabled)
					},
				})
			}
			continue
		}
		adds = append(adds, Action{
			Op: OpAdd, Kind: KindDefaultChannel, Subject: dcSubject(dc.Repository, dc.Branch, dc.Channel),
			Fields: []FieldChange{{Name: "enabled", New: strconv.FormatBool(enabled)}},
			do: func(ctx context.Context, a *applier) (string, error) {
				chID, err := a.channelID(dc.Channel)
				if err != nil {
					return "", err
				}
				added, err := a.reg.AddDefaultChannel(ctx, maestro.DefaultChannel{Repository: dc.Repository, Branch: dc.Branch, ChannelID: chID, Enabled: enabled})
				return strconv.Itoa(added.ID), err
			},
		})
	}
	b.inOrder(changes, adds)
}

func (b *planner) repositoryPolicies() {
	var changes, adds []Action
	for i, p := range b.f.RepositoryPolicies {
		want := maestro.RepositoryBranchPolicy{Repository: p.Repository, Branch: p.Branch, AutoMerge: *p.AutoMerge, MergeMethod: p.MergeMethod, MergePolicies: toMaestro(p.MergePolicies),
			MaxOpenPullRequests: p.MaxOpenPullRequests, MaxNewPullRequestsPerHour: p.MaxNewPullRequestsPerHour,
			CheckCommand: p.CheckCommand, CheckTimeoutSeconds: p.checkTimeoutSeconds(),
			BuildCommand: p.BuildCommand, TestCommand: p.TestCommand}
		set := func(ctx context.Context, a *applier) (string, error) {
			return "", a.reg.SetRepositoryPolicy(ctx, want)
		}
		o := b.m.policies[i]
		if o == nil {
			fields := []FieldChange{
				{Name: "autoMerge", New: strconv.FormatBool(want.AutoMerge)},
				{Name: "mergeMethod", New: want.MergeMethod},
				{Name: "mergePolicies", New: policiesValue(want.MergePolicies)},
			}
			if want.MaxOpenPullRequests != 0 {
				fields = append(fields, FieldChange{Name: "maxOpenPullRequests", New: strconv.Itoa(want.MaxOpenPullRequests)})
			}
			if want.MaxNewPullRequestsPerHour != 0 {
				fields = append(fields, FieldChange{Name: "maxNewPullRequestsPerHour", New: strconv.Itoa(want.MaxNewPullRequestsPerHour)})
			}
			if want.CheckCommand != "" {
				fields = append(fields, FieldChange{Name: "checkCommand", New: want.CheckCommand}, FieldChange{Name: "checkTimeout", New: want.CheckTimeout().String()})
			}
			if want.BuildCommand != "" {
				fields = append(fields, FieldChange{Name: "buildCommand", New: want.BuildCommand})
			}
			if want.TestCommand != "" {
				fields = append(fields, FieldChange{Name: "testCommand", New: want.TestCommand})
			}
			adds = append(adds, Action{Op: OpAdd, Kind: KindRepositoryPolicy, Subject: p.Repository + "@" + p.Branch, Fields: fields, do: set})
			continue
		}
		var fields []FieldChange
		if o.AutoMerge != want.AutoMerge {
			fields = append(fields, FieldChange{"autoMerge", strconv.FormatBool(o.AutoMerge), strconv.FormatBool(want.AutoMerge)})
		}
		if o.EffectiveMergeMethod() != want.MergeMethod {
			fields = append(fields, FieldChange{"mergeMethod", o.EffectiveMergeMethod(), want.MergeMethod})
		}
		if !policiesEqual(o.MergePolicies, want.MergePolicies) {
			fields = append(fields, FieldChange{"mergePolicies", policiesValue(o.MergePolicies), policiesValue(want.MergePolicies)})
		}
		if o.MaxOpenPullRequests != want.MaxOpenPullRequests {
			fields = append(fields, FieldChange{"maxOpenPullRequests", strconv.Itoa(o.MaxOpenPullRequests), strconv.Itoa(want.MaxOpenPullRequests)})
		}
		if o.CheckCommand != want.CheckCommand {
			fields = append(fields, FieldChange{"checkCommand", o.CheckCommand, want.CheckCommand})
		}
		if o.BuildCommand != want.BuildCommand {
			fields = append(fields, FieldChange{"buildCommand", o.BuildCommand, want.BuildCommand})
		}
		if o.TestCommand != want.TestCommand {
			fields = append(fields, FieldChange{"testCommand", o.TestCommand, want.TestCommand})
		}
		if o.CheckTimeoutSeconds != want.CheckTimeoutSeconds {
			fields = append(fields, FieldChange{"checkTimeout", o.CheckTimeout().String(), want.CheckTimeout().String()})
		}
		if o.MaxNewPullRequestsPerHour != want.MaxNewPullRequestsPerHour {
			fields = append(fields, FieldChange{"maxNewPullRequestsPerHour", strconv.Itoa(o.MaxNewPullRequestsPerHour), strconv.Itoa(want.MaxNewPullRequestsPerHour)})
		}
		if len(fields) > 0 {
			// Keep the registry's spelling of the identity.
			want.Repository, want.Branch = o.Repository, o.Branch
			changes = append(changes, Action{Op: OpChange, Kind: KindRepositoryPolicy, Subject: o.Repository + "@" + o.Branch, Fields: fields, do: set})
		}
	}
	b.inOrder(changes, adds)
}

func subSubject(channel, source, target, branch string) string {
	return fmt.Sprintf("%q %s → %s@%s", channel, source, target, branch)
}

func (b *planner) subscriptions() {
	var changes, adds []Action
	for i, s := range b.f.Subscriptions {
		if o := b.m.subscriptions[i]; o != nil {
			if a, ok := b.subscriptionChange(s, o); ok {
				changes = append(changes, a)
			}
			continue
		}
		subject := "(new)"
		if s.ID != "" {
			subject = s.ID
		}
		fields := []FieldChange{}
		add := func(name, v string) { fields = append(fields, FieldChange{Name: name, New: v}) }
		if s.SourceDirectory != "" {
			add("sourceDirectory", value(s.SourceDirectory))
		}
		if s.TargetDirectory != "" {
			add("targetDirectory", value(s.TargetDirectory))
		}
		add("enabled", strconv.FormatBool(*s.Enabled))
		add("updateFrequency", s.UpdateFrequency)
		add("batchable", strconv.FormatBool(s.Batchable))
		if len(s.MergePolicies) > 0 {
			add("mergePolicies", policiesValue(toMaestro(s.MergePolicies)))
		}
		if len(s.ExcludedAssets) > 0 {
			add("excludedAssets", listValue(s.ExcludedAssets))
		}
		if s.FailureNotificationTags != "" {
			add("failureNotificationTags", value(s.FailureNotificationTags))
		}
		if s.UpdatePipeline != nil {
			add("updatePipeline", pipelineValue(s.UpdatePipeline))
		}
		if s.Speculative {
			add("speculative", "true")
		}
		adds = append(adds, Action{
			Op: OpAdd, Kind: KindSubscription,
			Subject: subject, Detail: subSubject(s.Channel, s.SourceRepository, s.TargetRepository, s.TargetBranch),
			Fields: fields,
			do: func(ctx context.Context, a *applier) (string, error) {
				chID, err := a.channelID(s.Channel)
				if err != nil {
					return "", err
				}
				sub, err := s.toMaestro(chID)
				if err != nil {
					return "", err
				}
				added, err := a.reg.AddSubscription(ctx, sub)
				return added.ID, err
			},
			subscription: func(channels map[string]int) (maestro.Subscription, error) {
				return s.toMaestro(channels[fold(s.Channel)])
			},
		})
	}
	b.inOrder(changes, adds)
}

// subscriptionChange compares a file subscription with the registry's and
// returns the change that makes them equal, if any. Target and batchable are
// equal: the checker made sure.
func (b *planner) subscriptionChange(s Subscription, o *maestro.Subscription) (Action, bool) {
	var fields []FieldChange
	diff := func(name, old, new string) {
		if old != new {
			fields = append(fields, FieldChange{name, old, new})
		}
	}
	oldChannel := b.ix.channelName(o.ChannelID)
	if fold(oldChannel) != fold(s.Channel) {
		fields = append(fields, FieldChange{"channel", strconv.Quote(oldChannel), strconv.Quote(s.Channel)})
	}
	if b.ix.repo(o.SourceRepository) != b.ix.repo(s.SourceRepository) {
		fields = append(fields, FieldChange{"sourceRepository", value(o.SourceRepository), value(s.SourceRepository)})
	}
	diff("sourceDirectory", value(o.SourceDirectory), value(s.SourceDirectory))
	diff("targetDirectory", value(o.TargetDirectory), value(s.TargetDirectory))
	diff("enabled", strconv.FormatBool(o.Enabled), strconv.FormatBool(*s.Enabled))
	diff("updateFrequency", string(frequencyOf(o)), s.UpdateFrequency)
	want := toMaestro(s.MergePolicies)
	if !policiesEqual(o.Policy.MergePolicies, want) {
		fields = append(fields, FieldChange{"mergePolicies", policiesValue(o.Policy.MergePolicies), policiesValue(want)})
	}
	diff("excludedAssets", listValue(o.ExcludedAssets), listValue(s.ExcludedAssets))
	diff("failureNotificationTags", value(o.PullRequestFailureNotificationTags), value(s.FailureNotificationTags))
	diff("updatePipeline", pipelineValue(pipelineOf(o.UpdatePipeline)), pipelineValue(s.UpdatePipeline))
	diff("speculative", strconv.FormatBool(o.Speculative), strconv.FormatBool(s.Speculative))
	if len(fields) == 0 {
		return Action{}, false
	}
	id, before := o.ID, *o
	return Action{
		Op: OpChange, Kind: KindSubscription, Subject: id, Fields: fields,
		do: func(ctx context.Context, a *applier) (string, error) {
			chID, err := a.channelID(s.Channel)
			if err != nil {
				return "", err
			}
			_, err = a.reg.UpdateSubscription(ctx, id, func(r *maestro.Subscription) error {
				return s.changeTo(r, chID)
			})
			return id, err
		},
		subscription: func(channels map[string]int) (maestro.Subscription, error) {
			after := before
			after.ExcludedAssets = slices.Clone(before.ExcludedAssets)
			err := s.changeTo(&after, channels[fold(s.Channel)])
			return after, err
		},
		before: &before,
	}, true
}

// toMaestro is the subscription an addition of s records, in channel chID.
func (s Subscription) toMaestro(chID int) (maestro.Subscription, error) {
	up, err := s.UpdatePipeline.toMaestro()
	if err != nil {
		return maestro.Subscription{}, err
	}
	return maestro.Subscription{
		ID: s.ID, ChannelID: chID, SourceRepository: s.SourceRepository, TargetRepository: s.TargetRepository,
		TargetBranch: s.TargetBranch, Enabled: *s.Enabled,
		Policy: maestro.SubscriptionPolicy{
			Batchable: s.Batchable, UpdateFrequency: maestro.UpdateFrequency(s.UpdateFrequency),
			MergePolicies: toMaestro(s.MergePolicies),
		},
		ExcludedAssets:  append([]string{}, s.ExcludedAssets...),
		SourceDirectory: s.SourceDirectory, TargetDirectory: s.TargetDirectory,
		PullRequestFailureNotificationTags: s.FailureNotificationTags,
		UpdatePipeline:                     up,
		Speculative:                        s.Speculative,
	}, nil
}

// changeTo makes the registry's subscription r match s, in channel chID.
func (s Subscription) changeTo(r *maestro.Subscription, chID int) error {
	r.ChannelID = chID
	if !repourl.Equal(r.SourceRepository, s.SourceRepository) {
		r.SourceRepository = s.SourceRepository
	}
	r.SourceDirectory, r.TargetDirectory = s.SourceDirectory, s.TargetDirectory
	r.Enabled = *s.Enabled
	r.Policy.UpdateFrequency = maestro.UpdateFrequency(s.UpdateFrequency)
	r.Policy.MergePolicies = toMaestro(s.MergePolicies)
	r.ExcludedAssets = append([]string{}, s.ExcludedAssets...)
	r.PullRequestFailureNotificationTags = s.FailureNotificationTags
	r.Speculative = s.Speculative
	up, err := s.UpdatePipeline.toMaestro()
	r.UpdatePipeline = up
	return err
}

func mirrorBranchesValue(bs []MirrorBranch) string {
	parts := make([]string, len(bs))
	for i, b := range bs {
		parts[i] = value(b.Pattern) + "=" + b.Mode
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (b *planner) mirrors() {
	var changes, adds []Action
	for i, m := range b.f.Mirrors {
		want, _ := m.toMaestro() // the checker made sure it parses
		o := b.m.mirrors[i]
		if o == nil {
			adds = append(adds, Action{
				Op: OpAdd, Kind: KindMirror, Subject: m.SourceRepository,
				Fields: []FieldChange{{Name: "targetRepository", New: m.TargetRepository}, {Name: "branches", New: mirrorBranchesValue(m.Branches)}, {Name: "pipeline", New: m.Pipeline}},
				do: func(ctx context.Context, a *applier) (string, error) {
					return "", a.reg.AddMirror(ctx, want)
				},
			})
			continue
		}
		var fields []FieldChange
		if b.ix.repo(o.TargetRepository) != b.ix.repo(m.TargetRepository) {
			fields = append(fields, FieldChange{"targetRepository", o.TargetRepository, m.TargetRepository})
		}
		old := Mirror{}
		for _, ob := range o.Branches {
			old.Branches = append(old.Branches, MirrorBranch{Pattern: ob.Pattern, Mode: string(ob.Mode)})
		}
		if mirrorBranchesValue(old.Branches) != mirrorBranchesValue(m.Branches) {
			fields = append(fields, FieldChange{"branches", mirrorBranchesValue(old.Branches), mirrorBranchesValue(m.Branches)})
		}
		if azdo.PipelineURL(o.Pipeline) != azdo.PipelineURL(want.Pipeline) {
			fields = append(fields, FieldChange{"pipeline", azdo.PipelineURL(o.Pipeline), azdo.PipelineURL(want.Pipeline)})
		}
		if len(fields) == 0 {
			continue
		}
		source := o.SourceRepository
		changes = append(changes, Action{
			Op: OpChange, Kind: KindMirror, Subject: source, Fields: fields,
			do: func(ctx context.Context, a *applier) (string, error) {
				_, err := a.reg.UpdateMirror(ctx, source, func(r *maestro.Mirror) {
					if !repourl.Equal(r.TargetRepository, want.TargetRepository) {
						r.TargetRepository = want.TargetRepository
					}
					r.Branches, r.Pipeline = want.Branches, want.Pipeline
				})
				return "", err
			},
		})
	}
	b.inOrder(changes, adds)
}

// publishTriggers adds the publish triggers the registry lacks; a trigger
// is all identity, so there is nothing to change.
func (b *planner) publishTriggers() {
	for i, pt := range b.f.PublishTriggers {
		if b.m.publishTriggers[i] != nil {
			continue
		}
		want, _ := pt.toMaestro() // the checker made sure it parses
		b.actions = append(b.actions, Action{
			Op: OpAdd, Kind: KindPublishTrigger, Subject: triggerSubject(pt.Pipeline, pt.PullRequests),
			do: func(ctx context.Context, a *applier) (string, error) {
				_, err := a.reg.SetPublishTrigger(ctx, want, nil)
				return "", err
			},
		})
	}
}

// triggerSubject names a publish trigger in a plan: its pipeline, and
// "(pull requests)" for a trigger of its pull request builds.
func triggerSubject(pipeline string, pullRequests bool) string {
	if pullRequests {
		return pipeline + " (pull requests)"
	}
	return pipeline
}

// unlisted returns the deletions of every registry object the file does not
// list, publish triggers and mirrors first and channels last.
func (b *planner) unlisted() []Action {
	ix, m := b.ix, b.m
	listedPolicies, listedDefaultChannels, listedChannels := set(m.policies), set(m.defaultChannels), set(m.channels)
	var out []Action
	listedTriggers := set(m.publishTriggers)
	for _, t := range ix.sortedPublishTriggers() {
		if listedTriggers[t] {
			continue
		}
		tr := *t
		out = append(out, Action{
			Op: OpDelete, Kind: KindPublishTrigger, Subject: triggerSubject(azdo.PipelineURL(maestro.UpdatePipeline{Organization: tr.Organization, Project: tr.Project, PipelineID: tr.DefinitionID}), tr.PullRequests),
			do: func(ctx context.Context, a *applier) (string, error) {
				return "", a.reg.DeletePublishTrigger(ctx, tr)
			},
		})
	}
	listedMirrors := set(m.mirrors)
	for _, mi := range ix.sortedMirrors() {
		if listedMirrors[mi] {
			continue
		}
		source := mi.SourceRepository
		out = append(out, Action{
			Op: OpDelete, Kind: KindMirror, Subject: source,
			do: func(ctx context.Context, a *applier) (string, error) {
				return "", a.reg.DeleteMirror(ctx, source)
			},
		})
	}
	for _, s := range ix.sortedSubscriptions() {
		if m.claimed[s.ID] {
			continue
		}
		id, before := s.ID, *s
		out = append(out, Action{
			before: &before,
			Op:     OpDelete, Kind: KindSubscription,
			Subject: id, Detail: subSubject(ix.channelName(s.ChannelID), s.SourceRepository, s.TargetRepository, s.TargetBranch),
			do: func(ctx context.Context, a *applier) (string, error) {
				return id, a.reg.DeleteSubscription(ctx, id)
			},
		})
	}
	for _, p := range ix.sortedPolicies() {
		if listedPolicies[p] {
			continue
		}
		repo, branch := p.Repository, p.Branch
		out = append(out, Action{
			Op: OpDelete, Kind: KindRepositoryPolicy, Subject: repo + "@" + branch,
			do: func(ctx context.Context, a *applier) (string, error) {
				return "", a.reg.DeleteRepositoryPolicy(ctx, repo, branch)
			},
		})
	}
	for _, dc := range ix.sortedDefaultChannels() {
		if listedDefaultChannels[dc] {
			continue
		}
		id := dc.ID
		out = append(out, Action{
			Op: OpDelete, Kind: KindDefaultChannel, Subject: dcSubject(dc.Repository, dc.Branch, ix.channelName(dc.ChannelID)),
			do: func(ctx context.Context, a *applier) (string, error) {
				return strconv.Itoa(id), a.reg.DeleteDefaultChannel(ctx, id)
			},
		})
	}
	for _, c := range ix.sortedChannels() {
		if listedChannels[c] {
			continue
		}
		id, name, force := c.ID, c.Name, b.opts.DeleteChannelsWithBuilds
		out = append(out, Action{
			Op: OpDelete, Kind: KindChannel, Subject: strconv.Quote(c.Name),
			do: func(ctx context.Context, a *applier) (string, error) {
				// Checked again here: a build may have joined since the plan.
				if !force {
					has, err := a.reg.ChannelHasBuilds(ctx, id)
					if err != nil {
						return "", err
					}
					if has {
						return "", maestro.Errorf(maestro.KindConflict, "channel %q (id %d) holds builds now; not deleted (--delete-channels-with-builds deletes it anyway)", name, id)
					}
				}
				return strconv.Itoa(id), a.reg.DeleteChannel(ctx, id)
			},
		})
	}
	return out
}

// set returns the non-nil pointers of ps as a set.
func set[T any](ps []*T) map[*T]bool {
	out := make(map[*T]bool, len(ps))
	for _, p := range ps {
		if p != nil {
			out[p] = true
		}
	}
	return out
}

func frequencyOf(s *maestro.Subscription) maestro.UpdateFrequency {
	if s.Policy.UpdateFrequency == "" {
		return maestro.FrequencyEveryDay
	}
	return s.Policy.UpdateFrequency
}

func toMaestro(ps []MergePolicy) []maestro.MergePolicy {
	out := make([]maestro.MergePolicy, len(ps))
	for i, p := range ps {
		out[i] = maestro.MergePolicy{Name: p.Name, Properties: p.Properties}
	}
	return out
}

func fromMaestro(ps []maestro.MergePolicy) []MergePolicy {
	if len(ps) == 0 {
		return nil
	}
	out := make([]MergePolicy, len(ps))
	for i, p := range ps {
		out[i] = MergePolicy{Name: p.Name}
		if len(p.Properties) > 0 {
			out[i].Properties = p.Properties
		}
	}
	return out
}

// policiesEqual compares merge policy lists as the registry stores them (JSON).
func policiesEqual(a, b []maestro.MergePolicy) bool {
	return policiesValue(a) == policiesValue(b)
}

// policiesValue formats merge policies as [Name, Name {"json":"properties"}].
func policiesValue(ps []maestro.MergePolicy) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Name
		if len(p.Properties) > 0 {
			// The properties are JSON values (decoded from the registry, or
			// canonicalized by normalized), so they always encode; encoding/json
			// sorts map keys, so equal properties print equally.
			data, _ := json.Marshal(p.Properties)
			parts[i] += " " + string(data)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func listValue(vs []string) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = value(v)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

var plain = regexp.MustCompile(`^[\p{L}\p{N}._/@:+*~%=()-]+$`)

// value formats a string for the diff: as is when that is unambiguous, else quoted.
func value(s string) string {
	if plain.MatchString(s) {
		return s
	}
	return strconv.Quote(s)
}

// PlannedSubscription is a subscription an action of a plan adds, changes or
// deletes.
type PlannedSubscription struct {
	Action *Action
	// After is the subscription as the action leaves it (added or changed),
	// with ChannelID 0 when the plan adds its channel; zero for a deletion.
	After maestro.Subscription
	// Before is the registry's subscription a change or deletion starts
	// from; nil for an addition.
	Before *maestro.Subscription
}

// Subscriptions returns the subscriptions the plan adds, changes or deletes,
// in the plan's order, for a what-if: nothing is written.
func (p *Plan) Subscriptions() ([]PlannedSubscription, error) {
	channels := map[string]int{}
	for _, c := range p.state.Channels {
		channels[fold(c.Name)] = c.ID
	}
	var out []PlannedSubscription
	for i := range p.Actions {
		a := &p.Actions[i]
		if a.Kind != KindSubscription {
			continue
		}
		ps := PlannedSubscription{Action: a, Before: a.before}
		if a.subscription != nil {
			after, err := a.subscription(channels)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", a.Op.Verb(), a.Subject, err)
			}
			ps.After = after
		}
		out = append(out, ps)
	}
	return out, nil
}
