package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Speculative builds (docs/registry.md, "Speculative builds") live in a
// registry of their own under the key prefix speculativePrefix: its own
// build counter (ids from SpeculativeIDBase up), claims, records, indexes
// and channels — the speculative twins of the registry's channels. The
// publish protocol, its commit point and its repair are those of every
// build (builds.go), run on that prefix. No question of the registry reads
// under the prefix, so a speculative build can never answer `build latest`,
// a subscription's update or a coherency question, and the registry's own
// documents (channels, the build counter) are the same bytes with or
// without speculative builds.
const speculativePrefix = "speculative/"

// SpeculativeIDBase is the first id of a speculative build: speculative and
// official builds never share an id, so an id alone says which it is.
const SpeculativeIDBase = 1_000_000_000

// IsSpeculativeID reports whether a build id is a speculative build's.
func IsSpeculativeID(id int) bool { return id >= SpeculativeIDBase }

// SpeculativeTwinID is the id of the speculative twin of channel id.
func SpeculativeTwinID(channelID int) int { return SpeculativeIDBase + channelID }

// SpeculativeTwinName is the name of the speculative twin of a channel.
func SpeculativeTwinName(channel string) string { return channel + " (speculative)" }

// Speculative returns the registry of speculative builds kept beside r (it
// shares r's store and format version).
func (r *Registry) Speculative(ctx context.Context) (*Registry, error) {
	if r.firstID >= SpeculativeIDBase {
		return r, nil
	}
	v, err := r.formatVersion(ctx, r.st)
	if err != nil {
		return nil, err
	}
	s := *r
	s.st = prefixStore{st: r.st, prefix: speculativePrefix}
	s.firstID = SpeculativeIDBase
	s.assets = &assetsCache{}
	s.format = new(atomic.Int32)
	s.format.Store(int32(v))
	return &s, nil
}

// AnyBuild returns build id, official or speculative, as `maestro build
// show` and GET /api/builds/{id} show it: an id below SpeculativeIDBase is
// r's build (Build); an id from SpeculativeIDBase up is the speculative
// registry's, with PromotedTo set to the mainline build promoted from it
// (PromotedBuild: 0 when none). Errors are Build's: maestro.KindNotFound
// when no build has the id, speculative or not. Call it on the registry,
// not on its speculative registry.
func (r *Registry) AnyBuild(ctx context.Context, id int) (maestro.Build, error) {
	if r.firstID >= SpeculativeIDBase {
		return maestro.Build{}, errors.New("AnyBuild: call it on the registry, not on its speculative registry")
	}
	if !IsSpeculativeID(id) {
		return r.Build(ctx, id)
	}
	spec, err := r.Speculative(ctx)
	if err != nil {
		return maestro.Build{}, err
	}
	b, err := spec.Build(ctx, id)
	if err != nil {
		return maestro.Build{}, err
	}
	if b.PromotedTo, err = r.PromotedBuild(ctx, id); err != nil {
		return maestro.Build{}, err
	}
	return b, nil
}

// SpeculativeOptions are the choices of a speculative publish.
type SpeculativeOptions struct {
	// PullRequest is the pull request the build was made from; nil for a
	// build of a non-mainline branch (or of a speculative product build).
	PullRequest *maestro.BuildPullRequest
	// Channels are channel ids of r whose twins the build joins, besides
	// the twins of the default channels that match its repository and
	// branch (the pull request's target branch when there is one).
	Channels []int
	// NoDefaultChannels joins only the twins of Channels.
	NoDefaultChannels bool
	// Files, LocationBase, ReadFile and Progress are as in PublishOptions;
	// LocationBase is the store's, the speculative prefix is added here.
	Files        []FileUpload
	LocationBase string
	ReadFile     func(path string) ([]byte, error)
	Progress     func(done, total int)
}

// ValidateSpeculative checks what makes a build speculative, before any
// write: the pull request's URL (GitHub or Azure Repos), that it is a pull
// request of the build's repository (or of the GitHub repository it
// mirrors), its head commit and target branch.
func ValidateSpeculative(b maestro.Build, pr *maestro.BuildPullRequest) error {
	if pr == nil {
		return nil
	}
	repo, _, err := repourl.PullRequest(pr.URL)
	if err != nil {
		return maestro.Errorf(maestro.KindInvalid, "--pull-request: %v", err)
	}
	if b.Repository != "" && !repourl.SameRepository(repo, b.Repository) {
		return maestro.Errorf(maestro.KindInvalid, "--pull-request %s is a pull request of %s, but the build is of %s: give the pull request the build was made from", pr.URL, repo, b.Repository)
	}
	if err := ValidateCommit(pr.HeadCommit); err != nil {
		return invalid("--pull-request-head", err, "give the full SHA of the pull request's head commit")
	}
	if pr.TargetBranch != "" {
		if err := ValidateBranch(pr.TargetBranch); err != nil {
			return invalid("--target-branch", err, "")
		}
	}
	return nil
}

// MainlineChannels returns the enabled default channels of r that match
// repository and branch: a branch with any is a mainline branch, whose
// builds are official unless they come from a pull request.
func (r *Registry) MainlineChannels(ctx context.Context, repository, branch string) ([]int, error) {
	dcs, err := r.DefaultChannels(ctx)
	if err != nil {
		return nil, err
	}
	return MatchDefaultChannels(dcs, repository, trimRefsHeads(branch)), nil
}

// PublishSpeculative records b as a speculative build: Speculative set,
// linked to opts.PullRequest, every asset non-shipping, in the speculative
// twin of each channel the build would reach (the default channels of its
// repository and branch — the pull request's target branch when it has one
// — and opts.Channels), never in a channel itself. Everything is checked
// before the first write. The twins are created first, if missing
// (EnsureSpeculativeTwins), then the build is published into the
// speculative registry exactly as PublishBuild publishes (claim, documents
// and indexes, build.json last), so a kill at any point and concurrent
// publishers leave what they leave for an official build.
func (r *Registry) PublishSpeculative(ctx context.Context, b maestro.Build, opts SpeculativeOptions) (PublishResult, error) {
	if r.firstID >= SpeculativeIDBase {
		return PublishResult{}, errors.New("PublishSpeculative: call it on the registry, not on its speculative registry")
	}
	b.Branch = trimRefsHeads(b.Branch)
	if err := ValidateSpeculative(b, opts.PullRequest); err != nil {
		return PublishResult{}, err
	}
	if err := ValidateBuild(b, opts.Files); err != nil {
		return PublishResult{}, err
	}
	chans, err := r.channelMap(ctx)
	if err != nil {
		return PublishResult{}, err
	}
	var parents []int
	for _, id := range opts.Channels {
		if _, ok := chans[id]; !ok {
			return PublishResult{}, maestro.Errorf(maestro.KindNotFound, "channel %d does not exist; `maestro channel list` shows the channels", id)
		}
		parents = append(parents, id)
	}
	if !opts.NoDefaultChannels {
		branch := b.Branch
		if opts.PullRequest != nil && opts.PullRequest.TargetBranch != "" {
			branch = opts.PullRequest.TargetBranch
		}
		mainline, err := r.MainlineChannels(ctx, b.Repository, branch)
		if err != nil {
			return PublishResult{}, err
		}
		if opts.PullRequest == nil && len(mainline) > 0 {
			return PublishResult{}, maestro.Errorf(maestro.KindInvalid,
				"--speculative: branch %s of %s is a mainline branch (default channel %s): a build of it is official; a speculative build of it needs --pull-request",
				branch, b.Repository, chans[mainline[0]].Name)
		}
		parents = append(parents, mainline...)
	}
	slices.Sort(parents)
	parents = slices.Compact(parents)
	spec, err := r.Speculative(ctx)
	if err != nil {
		return PublishResult{}, err
	}
	twins, err := spec.ensureTwins(ctx, parents, chans)
	if err != nil {
		return PublishResult{}, err
	}
	b.Speculative = true
	if opts.PullRequest != nil {
		pr := *opts.PullRequest
		pr.HeadCommit = strings.ToLower(pr.HeadCommit)
		b.PullRequest = &pr
	}
	b.Assets = slices.Clone(b.Assets)
	if b.PullRequest != nil {
		// What the manifests said, for `maestro build promote`.
		b.Promotable = &maestro.Promotable{Shipping: ShippingRanges(b.Assets)}
	}
	for i := range b.Assets {
		b.Assets[i].NonShipping = true
	}
	base := opts.LocationBase
	if base != "" {
		base += speculativePrefix
	}
	return spec.PublishBuild(ctx, b, PublishOptions{
		Channels: twins, Files: opts.Files, LocationBase: base, ReadFile: opts.ReadFile, Progress: opts.Progress,
	})
}

// EnsureSpeculativeTwins creates, in r's speculative registry, the
// speculative twin of each channel id that has none yet, and returns the
// twins' ids. A twin's id and name follow from its channel's
// (SpeculativeTwinID, SpeculativeTwinName), and every twin is created by
// one read-modify-write of the speculative registry's channels document
// under its ETag that adds only the twins it lacks: of concurrent
// publishers creating the same twin one write wins and the others, on
// their next read, find it, so a twin exists once.
func (r *Registry) EnsureSpeculativeTwins(ctx context.Context, channelIDs []int) ([]int, error) {
	chans, err := r.channelMap(ctx)
	if err != nil {
		return nil, err
	}
	spec, err := r.Speculative(ctx)
	if err != nil {
		return nil, err
	}
	return spec.ensureTwins(ctx, channelIDs, chans)
}

func (spec *Registry) ensureTwins(ctx context.Context, parents []int, chans channelNames) ([]int, error) {
	twins := make([]int, 0, len(parents))
	for _, id := range parents {
		if _, ok := chans[id]; !ok {
			return nil, maestro.Errorf(maestro.KindNotFound, "channel %d does not exist; `maestro channel list` shows the channels", id)
		}
		twins = append(twins, SpeculativeTwinID(id))
	}
	if len(twins) == 0 {
		return twins, nil
	}
	_, err := update(ctx, spec.st, channelsKey, func(d *channelsDoc, _ bool) error {
		have := map[int]bool{}
		for _, c := range d.Channels {
			have[c.ID] = true
		}
		added := false
		for _, id := range parents {
			if have[SpeculativeTwinID(id)] {
				continue
			}
			p := chans[id]
			d.Channels = append(d.Channels, maestro.Channel{ID: SpeculativeTwinID(id), Name: SpeculativeTwinName(p.Name), Classification: p.Classification})
			added = true
		}
		if !added {
			return errUnchanged
		}
		slices.SortFunc(d.Channels, func(a, b maestro.Channel) int { return a.ID - b.ID })
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create the speculative twins of channels %v: %w", parents, err)
	}
	return twins, nil
}

// prefixStore is the part of a store under one key prefix, as a store.
type prefixStore struct {
	st     store.Store
	prefix string
}

var _ store.Store = prefixStore{}

func (p prefixStore) Get(ctx context.Context, key string) ([]byte, string, error) {
	return p.st.Get(ctx, p.prefix+key)
}

func (p prefixStore) Put(ctx context.Context, key string, data []byte, cond store.Condition) (string, error) {
	return p.st.Put(ctx, p.prefix+key, data, cond)
}

func (p prefixStore) Delete(ctx context.Context, key, ifMatch string) error {
	return p.st.Delete(ctx, p.prefix+key, ifMatch)
}

func (p prefixStore) Append(ctx context.Context, key string, data []byte, at int64) error {
	return p.st.Append(ctx, p.prefix+key, data, at)
}

func (p prefixStore) List(ctx context.Context, prefix string) ([]string, error) {
	keys, err := p.st.List(ctx, p.prefix+prefix)
	for i, k := range keys {
		keys[i] = strings.TrimPrefix(k, p.prefix)
	}
	return keys, err
}

func (p prefixStore) AcquireLease(ctx context.Context, key string, d time.Duration) (string, error) {
	return p.st.AcquireLease(ctx, p.prefix+key, d)
}

func (p prefixStore) RenewLease(ctx context.Context, key, leaseID string) error {
	return p.st.RenewLease(ctx, p.prefix+key, leaseID)
}

func (p prefixStore) ReleaseLease(ctx context.Context, key, leaseID string) error {
	return p.st.ReleaseLease(ctx, p.prefix+key, leaseID)
}

func (p prefixStore) BreakLease(ctx context.Context, key string) error {
	return p.st.BreakLease(ctx, p.prefix+key)
}

// Speculative product build reports (`maestro speculative builds`): one
// document each, speculative/productbuilds/{id}.json, written create-only
// once the run ends — the run's one write besides the speculative builds it
// publishes, so a run that dies leaves those builds (which nothing official
// reads) and no report.
const productBuildsPrefix = "productbuilds/"

// SaveProductBuild records the report of a speculative product build.
func (r *Registry) SaveProductBuild(ctx context.Context, pb maestro.ProductBuild) error {
	spec, err := r.Speculative(ctx)
	if err != nil {
		return err
	}
	if err := store.ValidateKey(productBuildsPrefix + pb.ID + ".json"); err != nil || strings.Contains(pb.ID, "/") {
		return maestro.Errorf(maestro.KindInvalid, "product build id %q: not a valid key", pb.ID)
	}
	if err := putJSON(ctx, spec.st, productBuildsPrefix+pb.ID+".json", pb, store.Condition{CreateOnly: true}); err != nil {
		return fmt.Errorf("record speculative product build %s: %w", pb.ID, err)
	}
	return nil
}

// ProductBuild returns the report of a speculative product build.
func (r *Registry) ProductBuild(ctx context.Context, id string) (maestro.ProductBuild, error) {
	var pb maestro.ProductBuild
	spec, err := r.Speculative(ctx)
	if err != nil {
		return pb, err
	}
	if id == "" || strings.Contains(id, "/") || store.ValidateKey(productBuildsPrefix+id+".json") != nil {
		return pb, maestro.Errorf(maestro.KindInvalid, "product build id %q: not an id `maestro speculative builds list` shows", id)
	}
	_, err = getJSON(ctx, spec.st, productBuildsPrefix+id+".json", &pb)
	if errors.Is(err, store.ErrNotExist) {
		return pb, maestro.Errorf(maestro.KindNotFound, "speculative product build %s does not exist; `maestro speculative builds list` shows them", id)
	}
	if err != nil {
		return pb, fmt.Errorf("read speculative product build %s: %w", id, err)
	}
	return pb, nil
}

// ProductBuilds returns the reports of the newest speculative product
// builds, newest first, at most limit (ids sort by start time).
func (r *Registry) ProductBuilds(ctx context.Context, limit int) ([]maestro.ProductBuild, error) {
	spec, err := r.Speculative(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := spec.st.List(ctx, productBuildsPrefix)
	if err != nil {
		return nil, fmt.Errorf("list speculative product builds: %w", err)
	}
	slices.Reverse(keys)
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	return parallelMap(ctx, keys, func(ctx context.Context, k string) (maestro.ProductBuild, error) {
		var pb maestro.ProductBuild
		if _, err := getJSON(ctx, spec.st, k, &pb); err != nil {
			return pb, fmt.Errorf("read speculative product build %s: %w", k, err)
		}
		return pb, nil
	})
}
