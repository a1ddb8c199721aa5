package registry

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/store"
)

// SeedBuildsDirect writes builds 1..len(builds) into r's store as a
// sequence of PublishBuild calls would (each build's channels are its
// matching default channels), but computes every document in memory and
// writes each once, in parallel, without reads or retries: the 100,000-build
// benchmark data set takes seconds instead of an hour on a loaded machine.
// It uses the registry's own key functions, document types, encoder and
// id-list layout; TestDirectSeedMatchesPublish compares it with publishing
// the same builds, document by document.
func SeedBuildsDirect(ctx context.Context, r *Registry, builds []maestro.Build) error {
	dcs, err := r.DefaultChannels(ctx)
	if err != nil {
		return err
	}
	docs := map[string][]byte{}
	put := func(key string, v any) error {
		data, err := json.Marshal(v)
		docs[key] = data
		return err
	}
	lists := map[string][]int{}
	sets := map[string][]int{}
	shards := map[int]*assetShardDoc{}
	repoNames := map[string][]string{}
	now := r.now().UTC()
	for i, b := range builds {
		id := i + 1
		b.ID = id
		b.Branch = trimRefsHeads(b.Branch)
		if b.DateProduced.IsZero() {
			b.DateProduced = now
		}
		b.Assets = slices.Clone(b.Assets)
		for j := range b.Assets {
			b.Assets[j].ID = id*maxAssetsPerBuild + j + 1
		}
		channels := MatchDefaultChannels(dcs, b.Repository, b.Branch)
		slices.Sort(channels)
		assetsKey, data := encodeAssets(FormatVersion, b.Assets).document(id)
		docs[assetsKey] = data
		rec := buildRecord{Build: b, InitialChannels: channels, AssetsDocument: assetsKey}
		rec.Assets, rec.Channels = nil, nil
		if err := put(buildKey(id), rec); err != nil {
			return err
		}
		if err := put(claimKey(b), claimDoc{ID: id, Started: now}); err != nil {
			return err
		}
		lists[repoListPrefix(b.Repository)] = append(lists[repoListPrefix(b.Repository)], id)
		for _, c := range channels {
			lists[channelListPrefix(c)] = append(lists[channelListPrefix(c)], id)
			lists[channelRepoListPrefix(c, b.Repository)] = append(lists[channelRepoListPrefix(c, b.Repository)], id)
		}
		sets[commitSetKey(b.Repository, b.Commit)] = append(sets[commitSetKey(b.Repository, b.Commit)], id)
		for _, d := range b.Dependencies {
			sets[dependentsSetKey(d.BuildID)] = append(sets[dependentsSetKey(d.BuildID)], id)
		}
		for _, v := range assetVersions(b.Assets) {
			sets[versionSetKey(b.Repository, v)] = append(sets[versionSetKey(b.Repository, v)], id)
		}
		var names []string
		for _, a := range b.Assets {
			names = append(names, strings.ToLower(a.Name))
		}
		slices.Sort(names)
		names = slices.Compact(names)
		repo := repourl.Normalize(b.Repository)
		if !slices.Equal(repoNames[repo], names) {
			repoNames[repo] = names
			for _, n := range names {
				sh := shards[assetShard(n)]
				if sh == nil {
					sh = &assetShardDoc{Names: map[string][]string{}}
					shards[assetShard(n)] = sh
				}
				if !slices.Contains(sh.Names[n], repo) {
					sh.Names[n] = append(sh.Names[n], repo)
				}
			}
		}
	}
	for repo, names := range repoNames {
		if err := put(repoAssetsKey(repo), repoAssetsDoc{Digest: assetNameDigest(names)}); err != nil {
			return err
		}
	}
	for sh, d := range shards {
		if err := put(assetShardKey(sh), d); err != nil {
			return err
		}
	}
	for key, ids := range sets {
		slices.Reverse(ids)
		if err := put(key, idSetDoc{IDs: ids}); err != nil {
			return err
		}
	}
	// Id lists as listChange lays out ids added oldest first (the same spill).
	for prefix, ids := range lists {
		var h listHead
		for _, id := range ids {
			h.IDs, _ = insertDesc(h.IDs, id)
			if key, page, ok := r.spill(prefix, &h); ok {
				if err := put(key, page); err != nil {
					return err
				}
			}
		}
		if err := put(listHeadKey(prefix), h); err != nil {
			return err
		}
	}
	if err := put(buildCounterKey, counterDoc{Next: len(builds) + 1}); err != nil {
		return err
	}
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	return parallelDo(ctx, keys, func(ctx context.Context, k string) error {
		_, err := r.st.Put(ctx, k, docs[k], store.Condition{})
		return err
	})
}
