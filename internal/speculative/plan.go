// Package speculative runs speculative product builds: given changes
// injected into some repositories of a channel (REPO@SHA), it finds from the
// registry's recorded dependencies every repository of the channel
// downstream of them, orders them topologically, and builds each with the
// versions produced upstream, publishing what it builds as speculative
// builds (registry.PublishSpeculative: apart from official builds,
// non-shipping, in no channel). The result is a report (maestro.ProductBuild)
// kept in the registry. Planning (Plan) only reads; running (Local.Run)
// builds on the local platform with each repository policy's build command.
package speculative

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// Inject is a change put into the product: repository Repository at Commit.
type Inject struct {
	Repository string
	Commit     string
}

// ParseInject parses REPO@SHA (the last @ separates them, so a URL with @
// in its path still parses).
func ParseInject(s string) (Inject, error) {
	i := strings.LastIndex(s, "@")
	if i <= 0 || i == len(s)-1 {
		return Inject{}, maestro.Errorf(maestro.KindInvalid, "--inject %q: use REPO@SHA, e.g. /src/runtime@1f2e…", s)
	}
	in := Inject{Repository: strings.TrimSpace(s[:i]), Commit: strings.ToLower(strings.TrimSpace(s[i+1:]))}
	if err := registry.ValidateURL(in.Repository); err != nil {
		return Inject{}, maestro.Errorf(maestro.KindInvalid, "--inject %q: %v", s, err)
	}
	if err := registry.ValidateCommit(in.Commit); err != nil {
		return Inject{}, maestro.Errorf(maestro.KindInvalid, "--inject %q: %v; give the full SHA", s, err)
	}
	return in, nil
}

// Node is one repository a product build builds.
type Node struct {
	Repository string
	Branch     string // the branch of its latest build in the channel
	Commit     string // the injected commit, else its latest build's
	Injected   bool
	// LatestBuild is its latest build in the channel.
	LatestBuild int
	// Upstream are the repositories of the plan it depends on directly.
	Upstream []string
	// Level is the length of the longest path from an injected repository.
	Level int
	// Policy is its branch's repository policy (BuildCommand, TestCommand):
	// what a build on the local platform runs.
	Policy maestro.RepositoryBranchPolicy
	// Definition is the Azure DevOps pipeline of its official builds: what a
	// build through Azure DevOps queues.
	Definition Definition
}

// Definition is an Azure DevOps build definition, as the registry recorded
// it with a repository's official build (its Azure DevOps account,
// project and definition id).
type Definition struct {
	Account string `json:"account"`
	Project string `json:"project"`
	ID      int    `json:"id"`
	// FromBuild is the registry's build that recorded it.
	FromBuild int `json:"fromBuild"`
}

// Platform is where a product build builds.
type Platform string

// The platforms a product build runs on.
const (
	// PlatformLocal runs each repository policy's build command in a clone.
	PlatformLocal Platform = "local"
	// PlatformAzureDevOps queues each repository's official pipeline.
	PlatformAzureDevOps Platform = "azure-devops"
)

// Plan is what a product build builds: Nodes in topological order (every
// node after its upstream).
type Plan struct {
	Channel maestro.Channel
	Inject  []Inject
	Nodes   []Node
}

// Reader is what planning reads; *registry.Registry implements it.
type Reader interface {
	DefaultChannels(ctx context.Context) ([]maestro.DefaultChannel, error)
	Subscriptions(ctx context.Context, f registry.SubscriptionFilter) ([]maestro.Subscription, error)
	Builds(ctx context.Context, f registry.BuildFilter) ([]maestro.Build, error)
	BuildInfo(ctx context.Context, id int) (maestro.Build, error)
	RepositoryPolicy(ctx context.Context, repository, branch string) (maestro.RepositoryBranchPolicy, error)
}

var _ Reader = (*registry.Registry)(nil)

// MakePlan computes the plan of a product build of channel ch with changes
// inject, from what the registry recorded: the channel's repositories are
// those its default channels and subscriptions name; each one's latest build
// in the channel gives its branch, commit and recorded dependencies; a
// repository depends on another when its latest build recorded a dependency
// on a build of it. The plan holds the injected repositories and every
// repository downstream of them. Every repository of the plan must have a
// build command in its branch's repository policy (`maestro
// repository-policy set --build-command`); the error names those without
// one. It writes nothing.
func MakePlan(ctx context.Context, r Reader, ch maestro.Channel, inject []Inject) (*Plan, error) {
	return MakePlanOn(ctx, r, ch, inject, PlatformLocal)
}

// MakePlanOn is MakePlan for a platform: on PlatformAzureDevOps, instead of
// a build command, every repository of the plan needs an Azure DevOps build
// definition recorded with one of its official builds (the newest of its
// latest build in the channel and its 50 newest builds that has one, on its
// branch); the error names those without one.
func MakePlanOn(ctx context.Context, r Reader, ch maestro.Channel, inject []Inject, on Platform) (*Plan, error) {
	if on != PlatformLocal && on != PlatformAzureDevOps {
		return nil, maestro.Errorf(maestro.KindInvalid, "--platform %q: use %s or %s", on, PlatformLocal, PlatformAzureDevOps)
	}
	if len(inject) == 0 {
		return nil, maestro.Errorf(maestro.KindInvalid, "give at least one --inject REPO@SHA")
	}
	repos, err := channelRepositories(ctx, r, ch.ID)
	if err != nil {
		return nil, err
	}
	// The latest build of each repository in the channel, read side by side.
	type latest struct {
		repo string
		b    maestro.Build
		ok   bool
	}
	lat := make([]latest, len(repos))
	if err := parallel(ctx, len(repos), func(ctx context.Context, i int) error {
		bs, err := r.Builds(ctx, registry.BuildFilter{Repository: repos[i], ChannelID: ch.ID, Limit: 1})
		if err != nil {
			return fmt.Errorf("latest build of %s in %s: %w", repos[i], ch.Name, err)
		}
		lat[i] = latest{repo: repos[i]}
		if len(bs) == 1 {
			lat[i].b, lat[i].ok = bs[0], true
		}
		return nil
	}); err != nil {
		return nil, err
	}
	byRepo := map[string]maestro.Build{}
	repoOfBuild := map[int]string{}
	for _, l := range lat {
		if l.ok {
			byRepo[key(l.repo)] = l.b
			repoOfBuild[l.b.ID] = key(l.repo)
		}
	}
	// The repositories of the dependencies that are not latest builds themselves.
	var unknown []int
	seen := map[int]bool{}
	for _, b := range byRepo {
		for _, d := range b.Dependencies {
			if _, ok := repoOfBuild[d.BuildID]; !ok && !seen[d.BuildID] {
				seen[d.BuildID] = true
				unknown = append(unknown, d.BuildID)
			}
		}
	}
	found := make([]string, len(unknown))
	if err := parallel(ctx, len(unknown), func(ctx context.Context, i int) error {
		b, err := r.BuildInfo(ctx, unknown[i])
		if maestro.KindOf(err) == maestro.KindNotFound {
			return nil // collected: no edge
		}
		if err != nil {
			return fmt.Errorf("read build %d: %w", unknown[i], err)
		}
		found[i] = key(b.Repository)
		return nil
	}); err != nil {
		return nil, err
	}
	for i, id := range unknown {
		if found[i] != "" {
			repoOfBuild[id] = found[i]
		}
	}
	// upstream[X] = the channel's repositories X's latest build depends on;
	// downstream is its reverse.
	upstream := map[string][]string{}
	downstream := map[string][]string{}
	for k, b := range byRepo {
		for _, d := range b.Dependencies {
			u, ok := repoOfBuild[d.BuildID]
			if !ok || u == k {
				continue
			}
			if _, inChannel := byRepo[u]; !inChannel || slices.Contains(upstream[k], u) {
				continue
			}
			upstream[k] = append(upstream[k], u)
			downstream[u] = append(downstream[u], k)
		}
	}
	// The injected repositories and everything downstream of them.
	injected := map[string]Inject{}
	var queue []string
	for _, in := range inject {
		k := key(in.Repository)
		if _, ok := byRepo[k]; !ok {
			return nil, maestro.Errorf(maestro.KindNotFound, "--inject %s: no build of it in channel %s; `maestro build list --repository %s` shows its builds", in.Repository, ch.Name, in.Repository)
		}
		if _, dup := injected[k]; dup {
			return nil, maestro.Errorf(maestro.KindInvalid, "--inject %s: given twice", in.Repository)
		}
		injected[k] = in
		queue = append(queue, k)
	}
	in := map[string]bool{}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		if in[k] {
			continue
		}
		in[k] = true
		queue = append(queue, downstream[k]...)
	}
	// Topological order (Kahn), each level sorted for a stable plan.
	indeg := map[string]int{}
	for k := range in {
		for _, u := range upstream[k] {
			if in[u] {
				indeg[k]++
			}
		}
	}
	var ready []string
	for k := range in {
		if indeg[k] == 0 {
			ready = append(ready, k)
		}
	}
	level := map[string]int{}
	p := &Plan{Channel: ch, Inject: inject}
	for len(ready) > 0 {
		slices.Sort(ready)
		var next []string
		for _, k := range ready {
			b := byRepo[k]
			n := Node{Repository: b.Repository, Branch: b.Branch, Commit: b.Commit, LatestBuild: b.ID, Level: level[k]}
			if inj, ok := injected[k]; ok {
				n.Injected, n.Commit = true, inj.Commit
			}
			for _, u := range upstream[k] {
				if in[u] {
					n.Upstream = append(n.Upstream, byRepo[u].Repository)
				}
			}
			slices.Sort(n.Upstream)
			p.Nodes = append(p.Nodes, n)
			for _, d := range downstream[k] {
				if !in[d] {
					continue
				}
				level[d] = max(level[d], level[k]+1)
				if indeg[d]--; indeg[d] == 0 {
					next = append(next, d)
				}
			}
		}
		ready = next
	}
	if len(p.Nodes) != len(in) {
		return nil, maestro.Errorf(maestro.KindInvalid, "the recorded dependencies of channel %s downstream of the injected repositories form a cycle; a product build needs an order", ch.Name)
	}
	// Every node needs what its platform builds with: checked before anything runs.
	if on == PlatformAzureDevOps {
		return p, definitions(ctx, r, p, byRepo)
	}
	var missing []string
	if err := parallel(ctx, len(p.Nodes), func(ctx context.Context, i int) error {
		n := &p.Nodes[i]
		pol, err := r.RepositoryPolicy(ctx, n.Repository, n.Branch)
		if err != nil && maestro.KindOf(err) != maestro.KindNotFound {
			return fmt.Errorf("repository policy of %s@%s: %w", n.Repository, n.Branch, err)
		}
		n.Policy = pol
		return nil
	}); err != nil {
		return nil, err
	}
	for _, n := range p.Nodes {
		if n.Policy.BuildCommand == "" {
			missing = append(missing, n.Repository+"@"+n.Branch)
		}
	}
	if len(missing) > 0 {
		return nil, maestro.Errorf(maestro.KindInvalid, "no build command for %s: set one with `maestro repository-policy set --repository R --branch B --build-command CMD`", strings.Join(missing, ", "))
	}
	return p, nil
}

// definitions fills each node's Azure DevOps definition from the registry's
// records of its official builds: its latest build in the channel, else the
// newest of its 50 newest builds of the same branch that recorded one.
func definitions(ctx context.Context, r Reader, p *Plan, latest map[string]maestro.Build) error {
	of := func(b maestro.Build) Definition {
		if b.AzureDevOpsAccount == "" || b.AzureDevOpsProject == "" || b.AzureDevOpsBuildDefinitionID <= 0 {
			return Definition{}
		}
		return Definition{Account: b.AzureDevOpsAccount, Project: b.AzureDevOpsProject, ID: b.AzureDevOpsBuildDefinitionID, FromBuild: b.ID}
	}
	if err := parallel(ctx, len(p.Nodes), func(ctx context.Context, i int) error {
		n := &p.Nodes[i]
		if n.Definition = of(latest[key(n.Repository)]); n.Definition.ID != 0 {
			return nil
		}
		bs, err := r.Builds(ctx, registry.BuildFilter{Repository: n.Repository, Limit: 50})
		if err != nil {
			return fmt.Errorf("builds of %s: %w", n.Repository, err)
		}
		for _, b := range bs {
			if d := of(b); d.ID != 0 && b.Branch == n.Branch {
				n.Definition = d
				return nil
			}
		}
		return nil
	}); err != nil {
		return err
	}
	var missing []string
	for _, n := range p.Nodes {
		if n.Definition.ID == 0 {
			missing = append(missing, n.Repository+"@"+n.Branch)
		}
	}
	if len(missing) > 0 {
		return maestro.Errorf(maestro.KindInvalid, "no Azure DevOps build definition recorded for %s: a product build through Azure DevOps queues the pipeline of a repository's official builds, and none of its builds in the registry names one (azureDevOpsBuildDefinitionId, from SYSTEM_DEFINITIONID at publish); publish an official build from its pipeline first, or build with --platform local", strings.Join(missing, ", "))
	}
	return nil
}

// channelRepositories lists the repositories a channel's enabled default
// channels and subscriptions name (sources and targets), normalized.
func channelRepositories(ctx context.Context, r Reader, channelID int) ([]string, error) {
	dcs, err := r.DefaultChannels(ctx)
	if err != nil {
		return nil, fmt.Errorf("read default channels: %w", err)
	}
	subs, err := r.Subscriptions(ctx, registry.SubscriptionFilter{ChannelID: channelID})
	if err != nil {
		return nil, fmt.Errorf("read the channel's subscriptions: %w", err)
	}
	set := map[string]string{}
	add := func(repo string) {
		if _, ok := set[key(repo)]; !ok {
			set[key(repo)] = repo
		}
	}
	for _, dc := range dcs {
		if dc.ChannelID == channelID && dc.Enabled {
			add(dc.Repository)
		}
	}
	for _, s := range subs {
		add(s.SourceRepository)
		add(s.TargetRepository)
	}
	out := make([]string, 0, len(set))
	for _, repo := range set {
		out = append(out, repo)
	}
	slices.Sort(out)
	return out, nil
}

func key(repo string) string { return strings.ToLower(repourl.Normalize(repo)) }

// parallel runs fn for 0..n-1, 16 at a time, and returns the first error.
func parallel(ctx context.Context, n int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, 16)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				cancel()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	return errors.Join(errs...)
}
