package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Assets are found by name through 256 shard documents that map a lower-cased
// asset name to the repositories that produced it. A repository's set of asset
// names rarely changes, so publish keeps a digest of it per repository and
// touches the shards only when the set changed: a steady publish writes none.
// A name's shard is the first byte of its SHA-256 (assetShard).
func assetShardKey(shard int) string { return fmt.Sprintf("index/assets/names/%02x.json", shard) }
func repoAssetsKey(repo string) string {
	return "index/assets/repo/" + repourl.Key(repo) + ".json"
}

func assetShard(lowerName string) int {
	sum := sha256.Sum256([]byte(lowerName))
	return int(sum[0])
}

type assetShardDoc struct {
	Names map[string][]string `json:"names"` // lower-cased name → repositories
}

type repoAssetsDoc struct {
	Digest string `json:"digest"`
}

// assetNameDigest is the SHA-256 of names, each followed by a zero byte.
// The names go to the hash through one buffer, not one conversion per name
// (20,000 allocations in a large publish).
func assetNameDigest(names []string) string {
	h := sha256.New()
	buf := make([]byte, 0, 32<<10)
	for _, n := range names {
		if len(buf)+len(n)+1 > cap(buf) {
			h.Write(buf)
			buf = buf[:0]
		}
		if len(n)+1 > cap(buf) {
			h.Write([]byte(n))
			h.Write([]byte{0})
			continue
		}
		buf = append(buf, n...)
		buf = append(buf, 0)
	}
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil))
}

// assetNameSet is the distinct lower-cased names of a build's assets,
// sorted, and their digest.
type assetNameSet struct {
	names  []string
	digest string
}

// newAssetNameSet makes the name set of lower-cased names (any order,
// repeats allowed), sorting lowered in place: both callers hand over a
// slice made for it, and a copy of 20,000 names would only cost time.
func newAssetNameSet(lowered []string) assetNameSet {
	names := lowered
	slices.Sort(names)
	names = slices.Compact(names)
	return assetNameSet{names: names, digest: assetNameDigest(names)}
}

// lowerAssetNames returns the names of as lower-cased.
func lowerAssetNames(as []maestro.Asset) []string {
	names := make([]string, 0, len(as))
	for _, a := range as {
		names = append(names, strings.ToLower(a.Name))
	}
	return names
}

// indexAssetNames records that repo produces the asset names of set.
func (r *Registry) indexAssetNames(ctx context.Context, repo string, set assetNameSet) error {
	names, digest := set.names, set.digest
	var known repoAssetsDoc
	if _, err := getJSON(ctx, r.st, repoAssetsKey(repo), &known); err != nil && !errors.Is(err, store.ErrNotExist) {
		return err
	}
	if known.Digest == digest {
		return nil
	}
	byShard := map[int][]string{}
	for _, n := range names {
		s := assetShard(n)
		byShard[s] = append(byShard[s], n)
	}
	shards := make([]int, 0, len(byShard))
	for s := range byShard {
		shards = append(shards, s)
	}
	slices.Sort(shards)
	normalized := repourl.Normalize(repo)
	err := parallelDo(ctx, shards, func(ctx context.Context, shard int) error {
		_, err := update(ctx, r.st, assetShardKey(shard), func(d *assetShardDoc, _ bool) error {
			if d.Names == nil {
				d.Names = map[string][]string{}
			}
			changed := false
			for _, n := range byShard[shard] {
				if !slices.Contains(d.Names[n], normalized) {
					d.Names[n] = append(d.Names[n], normalized)
					changed = true
				}
			}
			if !changed {
				return errUnchanged
			}
			return nil
		})
		return err
	})
	if err != nil {
		return err
	}
	return putJSON(ctx, r.st, repoAssetsKey(repo), repoAssetsDoc{Digest: digest}, store.Condition{})
}

// versionSetKey (idset.go) is the set of builds of repo that produced an
// asset of version: "which builds made name@version" costs the name's shard
// (which repositories make the name) and one read per such repository. A
// build joins one set per distinct version, not per asset (the assets of a
// build mostly share one version).
func versionBuildsPrefix(repo, version string) string {
	sum := sha256.Sum256([]byte(version))
	return "index/assets/version/" + repourl.Key(repo) + "/" + hex.EncodeToString(sum[:8]) + "/"
}

// assetVersions returns the distinct versions of as, sorted.
func assetVersions(as []maestro.Asset) []string {
	vs := make([]string, 0, 1)
	for _, a := range as {
		if !slices.Contains(vs, a.Version) {
			vs = append(vs, a.Version)
		}
	}
	slices.Sort(vs)
	return vs
}

// AssetMatch is an asset together with the build that produced it.
type AssetMatch struct {
	Asset  maestro.Asset `json:"asset"`
	Build  maestro.Build `json:"build"` // without assets
	record buildRecord
}

// FindAssets returns assets named name (case-insensitive), and of version
// version when it is not empty, newest build first, at most limit (0: 20),
// each with its build's channels. With a version it reads the name's shard,
// the version's id set per repository that makes the name, and the few builds
// listed; without one it walks those repositories' builds newest first until
// limit matches.
func (r *Registry) FindAssets(ctx context.Context, name, version string, limit int) ([]AssetMatch, error) {
	ms, err := NewFinder(r).FindAssets(ctx, name, version, limit)
	if err != nil || len(ms) == 0 {
		return ms, err
	}
	chans, err := r.channelMap(ctx)
	if err != nil {
		return nil, err
	}
	for i := range ms {
		if i > 0 && ms[i-1].Build.ID == ms[i].Build.ID {
			ms[i].Build = ms[i-1].Build
			continue
		}
		s, err := r.state(ctx, ms[i].record)
		if err != nil {
			return nil, err
		}
		ms[i].Build = assemble(ms[i].record, s, chans)
	}
	return ms, nil
}

// FindDependencyBuild returns the build that produced asset name@version,
// with its assets but without its channels, looking first at the builds of
// repo at commit (what a Version.Details.xml entry names) and then at the
// builds that produced name@version.
func (r *Registry) FindDependencyBuild(ctx context.Context, name, version, repo, commit string) (maestro.Build, error) {
	return NewFinder(r).FindDependencyBuild(ctx, name, version, repo, commit)
}

// Finder answers asset questions and keeps what it read (builds with their
// assets, id sets, name shards), so that many lookups into the same few builds
// (the dependencies of one Version.Details.xml) read each document once. It
// is safe for concurrent use.
type Finder struct {
	r      *Registry
	mu     sync.Mutex
	builds map[int]*cached[*foundBuild] // nil: not visible
	sets   map[string]*cached[[]int]
	shards map[int]*cached[assetShardDoc]
}

// foundBuild is a build's record and assets.
type foundBuild struct {
	rec    buildRecord
	assets []maestro.Asset
}

// cached is one document, read once by whoever asks first.
type cached[T any] struct {
	once sync.Once
	v    T
	err  error
}

func load[K comparable, T any](f *Finder, m map[K]*cached[T], k K, read func() (T, error)) (T, error) {
	f.mu.Lock()
	c, ok := m[k]
	if !ok {
		c = &cached[T]{}
		m[k] = c
	}
	f.mu.Unlock()
	c.once.Do(func() { c.v, c.err = read() })
	return c.v, c.err
}

// NewFinder returns a Finder on r.
func NewFinder(r *Registry) *Finder {
	return &Finder{r: r, builds: map[int]*cached[*foundBuild]{}, sets: map[string]*cached[[]int]{}, shards: map[int]*cached[assetShardDoc]{}}
}

// build returns build id's record and assets, or nil when it is not visible.
func (f *Finder) build(ctx context.Context, id int) (*foundBuild, error) {
	return load(f, f.builds, id, func() (*foundBuild, error) {
		rec, err := f.r.readRecord(ctx, id)
		if errors.Is(err, store.ErrNotExist) || (err == nil && rec.Collected) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		as, err := f.r.readAssets(ctx, rec)
		if err != nil {
			return nil, err
		}
		return &foundBuild{rec: rec, assets: as}, nil
	})
}

func (f *Finder) set(ctx context.Context, key string) ([]int, error) {
	return load(f, f.sets, key, func() ([]int, error) { return f.r.setIDs(ctx, key) })
}

func (f *Finder) shard(ctx context.Context, lower string) (assetShardDoc, error) {
	return load(f, f.shards, assetShard(lower), func() (assetShardDoc, error) {
		var d assetShardDoc
		if _, err := getJSON(ctx, f.r.st, assetShardKey(assetShard(lower)), &d); err != nil && !errors.Is(err, store.ErrNotExist) {
			return d, err
		}
		return d, nil
	})
}

// matches returns fb's assets named name (and of version, unless empty).
func matches(fb *foundBuild, name, version string) []AssetMatch {
	var out []AssetMatch
	for _, a := range fb.assets {
		if strings.EqualFold(a.Name, name) && (version == "" || a.Version == version) {
			info := fb.rec.Build
			info.Assets, info.Channels = nil, []maestro.Channel{}
			out = append(out, AssetMatch{Asset: a, Build: info, record: fb.rec})
		}
	}
	return out
}

// FindAssets is Registry.FindAssets through the Finder's cache, without the
// builds' channels.
func (f *Finder) FindAssets(ctx context.Context, name, version string, limit int) ([]AssetMatch, error) {
	if strings.TrimSpace(name) == "" {
		return nil, maestro.Errorf(maestro.KindInvalid, "asset name is empty")
	}
	if limit <= 0 {
		limit = 20
	}
	lower := strings.ToLower(name)
	shard, err := f.shard(ctx, lower)
	if err != nil {
		return nil, fmt.Errorf("find asset %s: %w", name, err)
	}
	var lists []candidates
	for _, repo := range shard.Names[lower] {
		if version == "" {
			lists = append(lists, f.r.listCandidates(repoListPrefix(repo)))
			continue
		}
		key := versionSetKey(repo, version)
		lists = append(lists, func(ctx context.Context, before, n int) ([]int, error) {
			ids, err := f.set(ctx, key)
			var out []int
			for _, id := range ids {
				if len(out) < n && (before == 0 || id < before) {
					out = append(out, id)
				}
			}
			return out, err
		})
	}
	// Walk every repository's candidates newest first, merged by id.
	var out []AssetMatch
	befores := make([]int, len(lists))
	pending := make([][]int, len(lists))
	done := make([]bool, len(lists))
	for len(out) < limit {
		best := -1
		for i := range lists {
			if len(pending[i]) == 0 && !done[i] {
				ids, err := lists[i](ctx, befores[i], 16)
				if err != nil {
					return nil, fmt.Errorf("find asset %s: %w", name, err)
				}
				if len(ids) == 0 {
					done[i] = true
				} else {
					pending[i] = ids
					befores[i] = ids[len(ids)-1]
				}
			}
			if len(pending[i]) > 0 && (best < 0 || pending[i][0] > pending[best][0]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		id := pending[best][0]
		pending[best] = pending[best][1:]
		fb, err := f.build(ctx, id)
		if err != nil {
			return nil, err
		}
		if fb != nil {
			out = append(out, matches(fb, name, version)...)
		}
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// FindDependencyBuild is Registry.FindDependencyBuild through the Finder's cache.
func (f *Finder) FindDependencyBuild(ctx context.Context, name, version, repo, commit string) (maestro.Build, error) {
	found := func(fb *foundBuild) maestro.Build {
		b := fb.rec.Build
		b.Assets, b.Channels = fb.assets, []maestro.Channel{}
		return b
	}
	if repo != "" && commit != "" && repourl.Validate(repo) == nil {
		ids, err := f.set(ctx, commitSetKey(repo, commit))
		if err != nil {
			return maestro.Build{}, err
		}
		for _, id := range ids {
			fb, err := f.build(ctx, id)
			if err != nil {
				return maestro.Build{}, err
			}
			if fb != nil && len(matches(fb, name, version)) > 0 {
				return found(fb), nil
			}
		}
	}
	if version == "" {
		return maestro.Build{}, maestro.Errorf(maestro.KindNotFound, "no build produced %s with an empty version", name)
	}
	ms, err := f.FindAssets(ctx, name, version, 1)
	if err != nil {
		return maestro.Build{}, err
	}
	if len(ms) == 0 {
		return maestro.Build{}, maestro.Errorf(maestro.KindNotFound, "no build produced %s %s", name, version)
	}
	fb, err := f.build(ctx, ms[0].Build.ID)
	if err != nil {
		return maestro.Build{}, err
	}
	return found(fb), nil
}
