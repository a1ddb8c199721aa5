package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Assets are found by name through 256 shard documents that map a lower-cased
// asset name to the repositories that produced it. A repository's set of asset
// names rarely changes, so publish keeps a digest of it per repository and
// touches the shards only when the set changed: a steady publish writes none.
const assetShards = 256

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

func assetNameDigest(names []string) string {
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// indexAssetNames records which asset names b's repository produces.
func (r *Registry) indexAssetNames(ctx context.Context, b maestro.Build) error {
	names := make([]string, 0, len(b.Assets))
	for _, a := range b.Assets {
		names = append(names, strings.ToLower(a.Name))
	}
	slices.Sort(names)
	names = slices.Compact(names)
	digest := assetNameDigest(names)
	var known repoAssetsDoc
	if _, err := getJSON(ctx, r.st, repoAssetsKey(b.Repository), &known); err != nil && !errors.Is(err, store.ErrNotExist) {
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
	repo := repourl.Normalize(b.Repository)
	err := parallelDo(ctx, shards, func(ctx context.Context, shard int) error {
		_, err := update(ctx, r.st, assetShardKey(shard), func(d *assetShardDoc, _ bool) error {
			if d.Names == nil {
				d.Names = map[string][]string{}
			}
			changed := false
			for _, n := range byShard[shard] {
				if !slices.Contains(d.Names[n], repo) {
					d.Names[n] = append(d.Names[n], repo)
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
	return putJSON(ctx, r.st, repoAssetsKey(b.Repository), repoAssetsDoc{Digest: digest}, store.Condition{})
}

// AssetMatch is an asset together with the build that produced it.
type AssetMatch struct {
	Asset maestro.Asset `json:"asset"`
	Build maestro.Build `json:"build"` // without assets
}

// FindAssets returns assets named name (case-insensitive), and of version
// version when it is not empty, newest build first, at most limit (0: 20).
func (r *Registry) FindAssets(ctx context.Context, name, version string, limit int) ([]AssetMatch, error) {
	if strings.TrimSpace(name) == "" {
		return nil, maestro.Errorf(maestro.KindInvalid, "asset name is empty")
	}
	if limit <= 0 {
		limit = 20
	}
	lower := strings.ToLower(name)
	var shard assetShardDoc
	if _, err := getJSON(ctx, r.st, assetShardKey(assetShard(lower)), &shard); err != nil && !errors.Is(err, store.ErrNotExist) {
		return nil, fmt.Errorf("find asset %s: %w", name, err)
	}
	var ids []int
	for _, repo := range shard.Names[lower] {
		keys, err := r.st.List(ctx, repoBuildsPrefix(repo))
		if err != nil {
			return nil, fmt.Errorf("find asset %s: %w", name, err)
		}
		for _, k := range keys {
			if id, ok := parseIDKey(k); ok {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	var out []AssetMatch
	for _, id := range ids {
		b, err := r.Build(ctx, id)
		if maestro.KindOf(err) == maestro.KindNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, a := range b.Assets {
			if strings.EqualFold(a.Name, name) && (version == "" || a.Version == version) {
				info := b
				info.Assets = nil
				out = append(out, AssetMatch{Asset: a, Build: info})
			}
		}
		if len(out) >= limit {
			return out[:limit], nil
		}
	}
	return out, nil
}

// FindDependencyBuild returns the build that produced asset name@version,
// looking first at the builds of repo at commit (what a Version.Details.xml
// entry names) and then at every build that produced the name.
func (r *Registry) FindDependencyBuild(ctx context.Context, name, version, repo, commit string) (maestro.Build, error) {
	if repo != "" && commit != "" {
		keys, err := r.st.List(ctx, commitBuildsPrefix(repo, commit))
		if err != nil {
			return maestro.Build{}, err
		}
		for i := len(keys) - 1; i >= 0; i-- {
			id, ok := parseIDKey(keys[i])
			if !ok {
				continue
			}
			b, err := r.Build(ctx, id)
			if maestro.KindOf(err) == maestro.KindNotFound {
				continue
			}
			if err != nil {
				return b, err
			}
			if slices.ContainsFunc(b.Assets, func(a maestro.Asset) bool { return strings.EqualFold(a.Name, name) && a.Version == version }) {
				return b, nil
			}
		}
	}
	ms, err := r.FindAssets(ctx, name, version, 1)
	if err != nil {
		return maestro.Build{}, err
	}
	if len(ms) == 0 {
		return maestro.Build{}, maestro.Errorf(maestro.KindNotFound, "no build produced %s %s", name, version)
	}
	return r.Build(ctx, ms[0].Build.ID)
}
