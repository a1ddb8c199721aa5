package config

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/mirror"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// Options say how a file is applied.
type Options struct {
	// Prune deletes what the registry holds and the file does not list;
	// without it such objects are left alone.
	Prune bool
	// DeleteChannelsWithBuilds lets Prune delete a channel that holds builds;
	// without it such a channel is a problem of the file.
	DeleteChannelsWithBuilds bool
	// Hosts, when set, makes a new subscription's target repository and a
	// new or changed update pipeline organization that no configured git
	// host serves a problem of the file, as the registry refuses them.
	Hosts maestro.HostChecker
}

func trimBranch(b string) string { return strings.TrimPrefix(strings.TrimSpace(b), "refs/heads/") }

func boolOr(b *bool, def bool) *bool {
	if b != nil {
		def = *b
	}
	return &def
}

// normalized returns a copy of f with defaults filled in and values spelled
// as the registry stores them (trimmed, branches without refs/heads/, merge
// policy properties as JSON values), and the problems met on the way.
func (f *File) normalized() (*File, Problems) {
	n := &File{name: f.name, root: f.root}
	var ps Problems
	for _, c := range f.Channels {
		c.Name = strings.TrimSpace(c.Name)
		if c.Classification == "" {
			c.Classification = "dev"
		}
		n.Channels = append(n.Channels, c)
	}
	for _, dc := range f.DefaultChannels {
		dc.Repository = strings.TrimSpace(dc.Repository)
		dc.Branch = trimBranch(dc.Branch)
		dc.Channel = strings.TrimSpace(dc.Channel)
		dc.Enabled = boolOr(dc.Enabled, true)
		n.DefaultChannels = append(n.DefaultChannels, dc)
	}
	for i, s := range f.Subscriptions {
		s.ID = strings.TrimSpace(s.ID)
		s.Channel = strings.TrimSpace(s.Channel)
		s.SourceRepository = strings.TrimSpace(s.SourceRepository)
		s.TargetRepository = strings.TrimSpace(s.TargetRepository)
		s.TargetBranch = trimBranch(s.TargetBranch)
		s.Enabled = boolOr(s.Enabled, true)
		if s.UpdateFrequency == "" {
			s.UpdateFrequency = string(maestro.FrequencyEveryDay)
		}
		s.MergePolicies = f.canonicalPolicies(s.MergePolicies, &ps, "subscriptions", i, "mergePolicies")
		n.Subscriptions = append(n.Subscriptions, s)
	}
	for i, p := range f.RepositoryPolicies {
		p.Repository = strings.TrimSpace(p.Repository)
		p.Branch = trimBranch(p.Branch)
		p.AutoMerge = boolOr(p.AutoMerge, true)
		if p.MergeMethod == "" {
			p.MergeMethod = maestro.MergeMethodSquash
		}
		p.MergePolicies = f.canonicalPolicies(p.MergePolicies, &ps, "repositoryPolicies", i, "mergePolicies")
		n.RepositoryPolicies = append(n.RepositoryPolicies, p)
	}
	for _, m := range f.Mirrors {
		m.SourceRepository = strings.TrimSpace(m.SourceRepository)
		m.TargetRepository = strings.TrimSpace(m.TargetRepository)
		m.Pipeline = strings.TrimSpace(m.Pipeline)
		branches := make([]MirrorBranch, len(m.Branches))
		for j, b := range m.Branches {
			if b.Mode == "" {
				b.Mode = string(maestro.MirrorFastForward)
			}
			branches[j] = b
		}
		m.Branches = branches
		if m.TargetRepository == "" {
			if p, err := azdo.ParsePipelineURL(m.Pipeline); err == nil {
				m.TargetRepository, _ = mirror.DefaultTarget(m.SourceRepository, p)
			}
		}
		n.Mirrors = append(n.Mirrors, m)
	}
	for _, t := range f.PublishTriggers {
		t.Pipeline = strings.TrimSpace(t.Pipeline)
		n.PublishTriggers = append(n.PublishTriggers, t)
	}
	return n, ps
}

// toMaestro is the registry form of a normalized mirror.
func (m Mirror) toMaestro() (maestro.Mirror, error) {
	p, err := azdo.ParsePipelineURL(m.Pipeline)
	out := maestro.Mirror{SourceRepository: m.SourceRepository, TargetRepository: m.TargetRepository, Pipeline: p}
	for _, b := range m.Branches {
		out.Branches = append(out.Branches, maestro.MirrorBranch{Pattern: b.Pattern, Mode: maestro.MirrorMode(b.Mode)})
	}
	return out, err
}

// canonicalPolicies trims names and turns properties into the JSON values the
// registry stores (numbers become float64), so that file and registry compare.
func (f *File) canonicalPolicies(in []MergePolicy, ps *Problems, path ...any) []MergePolicy {
	if len(in) == 0 {
		return nil
	}
	out := make([]MergePolicy, len(in))
	for j, p := range in {
		out[j] = MergePolicy{Name: strings.TrimSpace(p.Name)}
		if len(p.Properties) == 0 {
			continue
		}
		data, err := json.Marshal(p.Properties)
		if err == nil {
			err = json.Unmarshal(data, &out[j].Properties)
		}
		if err != nil {
			*ps = append(*ps, f.problem(fmt.Sprintf("must hold plain values (strings, numbers, booleans, lists, mappings with string keys): %v", err), append(slices.Clone(path), j, "properties")...))
		}
	}
	return out
}

var subscriptionID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// validFrequencies lists the update frequencies for messages.
func validFrequencies() string {
	names := make([]string, len(maestro.UpdateFrequencies))
	for i, f := range maestro.UpdateFrequencies {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// checker collects the problems of a normalized file.
type checker struct {
	f  *File
	ix *index
	ps Problems
}

func (c *checker) add(msg string, path ...any) { c.ps = append(c.ps, c.f.problem(msg, path...)) }

func (c *checker) required(value string, path ...any) bool {
	if value == "" {
		c.add("is required", path...)
		return false
	}
	return true
}

func (c *checker) repository(url string, path ...any) {
	if err := repourl.Validate(url); err != nil {
		c.add(err.Error(), path...)
	} else if err := registry.ValidateURL(url); err != nil {
		// Spaces and control characters, which the registry refuses.
		c.add("repository URL "+err.Error(), path...)
	}
}

// branch checks a required branch name as the registry does.
func (c *checker) branch(name string, path ...any) {
	if !c.required(name, path...) {
		return
	}
	if err := registry.ValidateBranch(name); err != nil {
		c.add("branch "+err.Error(), path...)
	}
}

// firstSeen records key for the entry at index i of list and returns the
// index that recorded it first, or -1.
func firstSeen(seen map[string]int, key string, i int) int {
	if j, ok := seen[key]; ok {
		return j
	}
	seen[key] = i
	return -1
}

// checkFile reports what is wrong with a normalized file on its own.
func (c *checker) checkFile() {
	f := c.f
	names := map[string]int{}
	for i, ch := range f.Channels {
		if !c.required(ch.Name, "channels", i, "name") {
			continue
		}
		if err := registry.ValidateName(ch.Name); err != nil {
			c.add(fmt.Sprintf("channel name %v", err), "channels", i, "name")
		}
		if err := registry.ValidateName(ch.Classification); err != nil {
			c.add(fmt.Sprintf("classification %v", err), "channels", i, "classification")
		}
		if j := firstSeen(names, fold(ch.Name), i); j >= 0 {
			c.add(fmt.Sprintf("channel %q is listed twice (first at line %d)", ch.Name, f.line("channels", j)), "channels", i, "name")
		}
	}
	dcs := map[string]int{}
	for i, dc := range f.DefaultChannels {
		c.repository(dc.Repository, "defaultChannels", i, "repository")
		if c.required(dc.Branch, "defaultChannels", i, "branch") {
			var reErr error
			if pattern, ok := strings.CutPrefix(dc.Branch, maestro.RegexBranchPrefix); ok {
				_, reErr = regexp.Compile(pattern)
			}
			if reErr != nil {
				c.add(fmt.Sprintf("bad regular expression: %v", reErr), "defaultChannels", i, "branch")
			} else if err := registry.ValidateBranchPattern(dc.Branch); err != nil {
				c.add(err.Error(), "defaultChannels", i, "branch")
			}
		}
		c.required(dc.Channel, "defaultChannels", i, "channel")
		if j := firstSeen(dcs, c.ix.defaultChannelKey(dc.Repository, dc.Branch, dc.Channel), i); j >= 0 {
			c.add(fmt.Sprintf("default channel %s@%s → %q is listed twice (first at line %d)", dc.Repository, dc.Branch, dc.Channel, f.line("defaultChannels", j)), "defaultChannels", i)
		}
	}
	ids, keys := map[string]int{}, map[string]int{}
	for i, s := range f.Subscriptions {
		if s.ID != "" {
			if !subscriptionID.MatchString(s.ID) {
				c.add(fmt.Sprintf("%q is not a subscription id; use the id the registry gave (a GUID), or leave id out for a new subscription", s.ID), "subscriptions", i, "id")
			} else if j := firstSeen(ids, s.ID, i); j >= 0 {
				c.add(fmt.Sprintf("subscription %s is listed twice (first at line %d)", s.ID, f.line("subscriptions", j)), "subscriptions", i, "id")
			}
		}
		c.required(s.Channel, "subscriptions", i, "channel")
		c.repository(s.SourceRepository, "subscriptions", i, "sourceRepository")
		c.repository(s.TargetRepository, "subscriptions", i, "targetRepository")
		c.branch(s.TargetBranch, "subscriptions", i, "targetBranch")
		if _, err := s.UpdatePipeline.toMaestro(); err != nil {
			c.add(err.Error(), "subscriptions", i, "updatePipeline", "url")
		}
		if s.Speculative && s.UpdatePipeline != nil {
			c.add("a subscription with an update pipeline cannot take speculative builds (their pull requests are opened by the flow itself); drop speculative or the update pipeline", "subscriptions", i, "speculative")
		}
		if !slices.Contains(maestro.UpdateFrequencies, maestro.UpdateFrequency(s.UpdateFrequency)) {
			c.add(fmt.Sprintf("unknown update frequency %q; valid ones: %s", s.UpdateFrequency, validFrequencies()), "subscriptions", i, "updateFrequency")
		}
		c.mergePolicies(s.MergePolicies, "subscriptions", i, "mergePolicies")
		if s.Batchable && len(s.MergePolicies) > 0 {
			c.add(fmt.Sprintf("a batchable subscription takes no merge policies of its own; list them under repositoryPolicies for %s@%s instead", s.TargetRepository, s.TargetBranch), "subscriptions", i, "mergePolicies")
		}
		for j, a := range s.ExcludedAssets {
			if strings.TrimSpace(a) == "" {
				c.add("excluded asset pattern is empty", "subscriptions", i, "excludedAssets", j)
			}
		}
		if j := firstSeen(keys, c.ix.subscriptionKey(&s), i); j >= 0 {
			c.add(fmt.Sprintf("same channel, source, target, target branch and directories as the subscription at line %d", f.line("subscriptions", j)), "subscriptions", i)
		}
	}
	policies := map[string]int{}
	for i, p := range f.RepositoryPolicies {
		c.repository(p.Repository, "repositoryPolicies", i, "repository")
		c.branch(p.Branch, "repositoryPolicies", i, "branch")
		c.mergePolicies(p.MergePolicies, "repositoryPolicies", i, "mergePolicies")
		if !slices.Contains(maestro.MergeMethods, p.MergeMethod) {
			c.add(fmt.Sprintf("unknown merge method %q; valid ones: %s", p.MergeMethod, strings.Join(maestro.MergeMethods, ", ")), "repositoryPolicies", i, "mergeMethod")
		}
		if p.MaxOpenPullRequests < 0 {
			c.add(fmt.Sprintf("maxOpenPullRequests is %d; use 0 (no cap) or more", p.MaxOpenPullRequests), "repositoryPolicies", i, "maxOpenPullRequests")
		}
		if p.CheckTimeout != "" {
			if d, err := time.ParseDuration(p.CheckTimeout); err != nil || d < time.Second || d > 24*time.Hour {
				c.add(fmt.Sprintf("checkTimeout %q: use a duration from 1s to 24h, e.g. 10m", p.CheckTimeout), "repositoryPolicies", i, "checkTimeout")
			}
		}
		if err := registry.ValidateCheckCommand(maestro.RepositoryBranchPolicy{Repository: p.Repository, Branch: p.Branch, CheckCommand: p.CheckCommand, CheckTimeoutSeconds: p.checkTimeoutSeconds()}); err != nil {
			c.add(err.Error(), "repositoryPolicies", i, "checkCommand")
		}
		if err := registry.ValidateBuildCommands(maestro.RepositoryBranchPolicy{Repository: p.Repository, Branch: p.Branch, BuildCommand: p.BuildCommand, TestCommand: p.TestCommand}); err != nil {
			c.add(err.Error(), "repositoryPolicies", i, "buildCommand")
		}
		if p.MaxNewPullRequestsPerHour < 0 {
			c.add(fmt.Sprintf("maxNewPullRequestsPerHour is %d; use 0 (no cap) or more", p.MaxNewPullRequestsPerHour), "repositoryPolicies", i, "maxNewPullRequestsPerHour")
		}
		if j := firstSeen(policies, c.ix.policyKey(p.Repository, p.Branch), i); j >= 0 {
			c.add(fmt.Sprintf("repository policy %s@%s is listed twice (first at line %d)", p.Repository, p.Branch, f.line("repositoryPolicies", j)), "repositoryPolicies", i)
		}
	}
	mirrors := map[string]int{}
	for i, m := range f.Mirrors {
		before := len(c.ps)
		c.repository(m.SourceRepository, "mirrors", i, "sourceRepository")
		_, perr := azdo.ParsePipelineURL(m.Pipeline)
		if c.required(m.Pipeline, "mirrors", i, "pipeline") && perr != nil {
			c.add(perr.Error(), "mirrors", i, "pipeline")
		}
		if m.TargetRepository != "" {
			c.repository(m.TargetRepository, "mirrors", i, "targetRepository")
		} else if perr == nil {
			c.add("is required: it cannot be derived from sourceRepository (OWNER/REPO); name the Azure Repos repository", "mirrors", i, "targetRepository")
		}
		if len(m.Branches) == 0 {
			c.add("name at least one branch pattern", "mirrors", i, "branches")
		}
		for j, b := range m.Branches {
			if c.required(b.Pattern, "mirrors", i, "branches", j, "pattern") {
				if _, err := regexp.Compile(`^(?:` + b.Pattern + `)$`); err != nil {
					c.add(fmt.Sprintf("bad regular expression: %v", err), "mirrors", i, "branches", j, "pattern")
				}
			}
			if _, err := maestro.ParseMirrorMode(b.Mode); err != nil {
				c.add(err.Error(), "mirrors", i, "branches", j, "mode")
			}
		}
		if len(c.ps) == before {
			// Whatever else the registry refuses (lengths, control characters).
			if mm, err := m.toMaestro(); err == nil {
				if err := registry.ValidateMirror(mm, nil); err != nil {
					c.add(err.Error(), "mirrors", i)
				}
			}
		}
		if j := firstSeen(mirrors, c.ix.repo(m.SourceRepository), i); j >= 0 {
			c.add(fmt.Sprintf("mirror of %s is listed twice (first at line %d)", m.SourceRepository, f.line("mirrors", j)), "mirrors", i, "sourceRepository")
		}
	}
	triggers := map[string]int{}
	for i, pt := range f.PublishTriggers {
		if !c.required(pt.Pipeline, "publishTriggers", i, "pipeline") {
			continue
		}
		t, err := pt.toMaestro()
		if err != nil {
			c.add(err.Error(), "publishTriggers", i, "pipeline")
			continue
		}
		if err := registry.ValidatePublishTrigger(t, nil); err != nil {
			c.add(err.Error(), "publishTriggers", i, "pipeline")
			continue
		}
		if j := firstSeen(triggers, publishTriggerKey(t), i); j >= 0 {
			what := "publish trigger"
			if pt.PullRequests {
				what = "publish trigger of pull request builds"
			}
			c.add(fmt.Sprintf("%s of %s is listed twice (first at line %d)", what, pt.Pipeline, f.line("publishTriggers", j)), "publishTriggers", i, "pipeline")
		}
	}
}

// mergePolicies applies the production service's rules: known names only,
// each once, and Standard never beside a policy it already contains.
func (c *checker) mergePolicies(ps []MergePolicy, path ...any) {
	at := func(j int, rest ...any) []any { return append(append(slices.Clone(path), j), rest...) }
	seen := map[string]int{}
	for j, p := range ps {
		if !c.required(p.Name, at(j, "name")...) {
			continue
		}
		if !slices.Contains(maestro.MergePolicyNames, p.Name) {
			c.add(fmt.Sprintf("unknown merge policy %q; valid ones: %s", p.Name, strings.Join(maestro.MergePolicyNames, ", ")), at(j, "name")...)
			continue
		}
		if k := firstSeen(seen, p.Name, j); k >= 0 {
			c.add(fmt.Sprintf("merge policy %s is listed twice", p.Name), at(j, "name")...)
		}
	}
	if _, ok := seen[maestro.PolicyStandard]; !ok {
		return
	}
	for _, m := range maestro.StandardPolicyMembers {
		if j, ok := seen[m]; ok {
			c.add(fmt.Sprintf("Standard already contains %s; list one or the other", m), at(j, "name")...)
		}
	}
}

// match pairs the entries of a normalized file with the registry objects
// they stand for; nil means the entry is new.
type match struct {
	channels        []*maestro.Channel
	defaultChannels []*maestro.DefaultChannel
	subscriptions   []*maestro.Subscription
	policies        []*maestro.RepositoryBranchPolicy
	mirrors         []*maestro.Mirror
	publishTriggers []*maestro.PublishTrigger
	// claimed holds the ids of registry subscriptions some entry stands for.
	claimed map[string]bool
}

func (f *File) match(ix *index) *match {
	st := ix.st
	m := &match{
		channels:        make([]*maestro.Channel, len(f.Channels)),
		defaultChannels: make([]*maestro.DefaultChannel, len(f.DefaultChannels)),
		subscriptions:   make([]*maestro.Subscription, len(f.Subscriptions)),
		policies:        make([]*maestro.RepositoryBranchPolicy, len(f.RepositoryPolicies)),
		mirrors:         make([]*maestro.Mirror, len(f.Mirrors)),
		publishTriggers: make([]*maestro.PublishTrigger, len(f.PublishTriggers)),
		claimed:         map[string]bool{},
	}
	mirrors := map[string]*maestro.Mirror{}
	for j := range st.Mirrors {
		o := &st.Mirrors[j]
		if k := ix.repo(o.SourceRepository); mirrors[k] == nil {
			mirrors[k] = o
		}
	}
	for i, mi := range f.Mirrors {
		m.mirrors[i] = mirrors[ix.repo(mi.SourceRepository)]
	}
	triggers := map[string]*maestro.PublishTrigger{}
	for j := range st.PublishTriggers {
		o := &st.PublishTriggers[j]
		if k := publishTriggerKey(*o); triggers[k] == nil {
			triggers[k] = o
		}
	}
	for i, pt := range f.PublishTriggers {
		if t, err := pt.toMaestro(); err == nil {
			m.publishTriggers[i] = triggers[publishTriggerKey(t)]
		}
	}
	for i, c := range f.Channels {
		m.channels[i] = ix.byName[fold(c.Name)]
	}
	dcs := map[string]*maestro.DefaultChannel{}
	for j := range st.DefaultChannels {
		o := &st.DefaultChannels[j]
		if k := ix.defaultChannelKey(o.Repository, o.Branch, ix.channelName(o.ChannelID)); dcs[k] == nil {
			dcs[k] = o
		}
	}
	for i, dc := range f.DefaultChannels {
		m.defaultChannels[i] = dcs[ix.defaultChannelKey(dc.Repository, dc.Branch, dc.Channel)]
	}
	policies := map[string]*maestro.RepositoryBranchPolicy{}
	for j := range st.RepositoryPolicies {
		o := &st.RepositoryPolicies[j]
		if k := ix.policyKey(o.Repository, o.Branch); policies[k] == nil {
			policies[k] = o
		}
	}
	for i, p := range f.RepositoryPolicies {
		m.policies[i] = policies[ix.policyKey(p.Repository, p.Branch)]
	}
	byID := map[string]*maestro.Subscription{}
	byKey := map[string][]*maestro.Subscription{}
	for j := range st.Subscriptions {
		o := &st.Subscriptions[j]
		byID[o.ID] = o
		k := ix.registrySubscriptionKey(o)
		byKey[k] = append(byKey[k], o)
	}
	for i, s := range f.Subscriptions {
		if o := byID[s.ID]; s.ID != "" && o != nil {
			m.subscriptions[i] = o
			m.claimed[o.ID] = true
		}
	}
	for i, s := range f.Subscriptions {
		if s.ID != "" {
			continue
		}
		for _, o := range byKey[ix.subscriptionKey(&s)] {
			if !m.claimed[o.ID] {
				m.subscriptions[i] = o
				m.claimed[o.ID] = true
				break
			}
		}
	}
	return m
}

// checkAgainst reports what is wrong with a normalized file given what the
// registry holds: unknown channels, changes the registry cannot make, and
// new subscriptions that would duplicate one the file does not list.
func (c *checker) checkAgainst(m *match, opts Options) {
	f, st := c.f, c.ix.st
	inFile := map[string]bool{}
	for _, ch := range f.Channels {
		inFile[fold(ch.Name)] = true
	}
	inRegistry := map[string]bool{}
	for _, ch := range st.Channels {
		inRegistry[fold(ch.Name)] = true
	}
	channelRef := func(name string, path ...any) {
		switch {
		case name == "" || inFile[fold(name)]:
		case !inRegistry[fold(name)]:
			c.add(fmt.Sprintf("unknown channel %q: it is neither under channels in this file nor in the registry; add it under channels", name), path...)
		case opts.Prune:
			c.add(fmt.Sprintf("channel %q is not under channels in this file, so pruning would delete it; add it under channels", name), path...)
		}
	}
	if opts.Prune && !opts.DeleteChannelsWithBuilds {
		listed := set(m.channels)
		for _, ch := range c.ix.sortedChannels() {
			if !listed[ch] && st.ChannelsWithBuilds[ch.ID] {
				c.ps = append(c.ps, Problem{File: f.name, Field: "channels", Msg: fmt.Sprintf(
					"channel %q (id %d) holds builds and is not listed, so --prune would delete it; list it under channels, or pass --delete-channels-with-builds", ch.Name, ch.ID)})
			}
		}
	}
	for i, ch := range f.Channels {
		if o := m.channels[i]; o != nil && o.Classification != ch.Classification {
			c.add(fmt.Sprintf("channel %q has classification %q in the registry, which cannot be changed; write %q here, or delete the channel and create it again", o.Name, o.Classification, o.Classification), "channels", i, "classification")
		}
	}
	for i, dc := range f.DefaultChannels {
		channelRef(dc.Channel, "defaultChannels", i, "channel")
	}
	unlisted := map[string]*maestro.Subscription{}
	for j := range st.Subscriptions {
		if o := &st.Subscriptions[j]; !m.claimed[o.ID] {
			unlisted[c.ix.registrySubscriptionKey(o)] = o
		}
	}
	for i, s := range f.Subscriptions {
		channelRef(s.Channel, "subscriptions", i, "channel")
		o := m.subscriptions[i]
		c.hosts(opts.Hosts, s, o, i)
		if o == nil {
			if dup := unlisted[c.ix.subscriptionKey(&s)]; dup != nil {
				c.add(fmt.Sprintf("subscription %s in the registry already flows this channel, source, target, branch and directories; write id: %s here to manage it, or delete it first", dup.ID, dup.ID), "subscriptions", i, "id")
			}
			continue
		}
		if c.ix.repo(o.TargetRepository) != c.ix.repo(s.TargetRepository) {
			c.add(fmt.Sprintf("subscription %s targets %s in the registry; the target repository cannot change after creation (leave id out to create a new subscription)", o.ID, o.TargetRepository), "subscriptions", i, "targetRepository")
		}
		if o.TargetBranch != s.TargetBranch {
			c.add(fmt.Sprintf("subscription %s targets branch %s in the registry; the target branch cannot change after creation (leave id out to create a new subscription)", o.ID, o.TargetBranch), "subscriptions", i, "targetBranch")
		}
		if o.Policy.Batchable != s.Batchable {
			c.add(fmt.Sprintf("subscription %s has batchable: %t in the registry; batchable cannot change after creation (leave id out to create a new subscription)", o.ID, o.Policy.Batchable), "subscriptions", i, "batchable")
		} else if dup := unlisted[c.ix.subscriptionKey(&s)]; dup != nil {
			c.add(fmt.Sprintf("this change would make subscription %s flow the same channel, source, target, branch and directories as subscription %s, which this file does not list; delete that one first", o.ID, dup.ID), "subscriptions", i)
		}
	}
	for i, mi := range f.Mirrors {
		c.mirrorHosts(opts.Hosts, mi, m.mirrors[i], i)
	}
	for i, pt := range f.PublishTriggers {
		// A new publish trigger's organization must be one Azure DevOps
		// tokens go to, as `publish-trigger set` checks it.
		if t, err := pt.toMaestro(); err == nil && opts.Hosts != nil && m.publishTriggers[i] == nil {
			if err := registry.ValidatePublishTrigger(t, opts.Hosts); err != nil {
				c.add(err.Error(), "publishTriggers", i, "pipeline")
			}
		}
	}
}

// mirrorHosts reports, as the registry refuses them
// (registry.CheckMirrorHosts), a new or moved mirror target that is not an
// Azure Repos repository on a configured host, and a new or changed pipeline
// organization that is not configured; o is the registry mirror entry i
// stands for (nil for a new one).
func (c *checker) mirrorHosts(h maestro.HostChecker, m Mirror, o *maestro.Mirror, i int) {
	mm, err := m.toMaestro()
	if h == nil || err != nil || m.TargetRepository == "" || repourl.Validate(m.TargetRepository) != nil {
		return // a bad pipeline or target is reported by checkFile
	}
	target, pipeline := registry.CheckMirrorHosts(mm, o, h)
	if target != nil {
		c.add(target.Error(), "mirrors", i, "targetRepository")
	}
	if pipeline != nil {
		c.add(pipeline.Error(), "mirrors", i, "pipeline")
	}
}

// hosts reports, as the registry refuses them (maestro.CheckHosts), a new
// subscription's target repository and a new or changed update pipeline
// organization that no configured host serves; o is the registry
// subscription entry i stands for (nil for a new one).
func (c *checker) hosts(h maestro.HostChecker, s Subscription, o *maestro.Subscription, i int) {
	if h == nil {
		return
	}
	up, err := s.UpdatePipeline.toMaestro()
	if err != nil {
		up = nil // a bad URL is reported by checkFile
	}
	target, pipeline := maestro.CheckHosts(h, maestro.Subscription{TargetRepository: s.TargetRepository, UpdatePipeline: up}, o)
	if target != nil && repourl.Validate(s.TargetRepository) == nil {
		c.add(target.Error(), "subscriptions", i, "targetRepository")
	}
	if pipeline != nil {
		c.add(pipeline.Error(), "subscriptions", i, "updatePipeline", "url")
	}
}

// sortProblems orders problems by line, keeping the order of equal lines.
func sortProblems(ps Problems) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
}
