package registry

import (
	"container/list"
	"context"
	"slices"
	"sync"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// assetsCacheLimit bounds the assets the cache keeps (about 200 bytes each).
const assetsCacheLimit = 200_000

// assetsCache keeps decoded assets documents, least recently used out
// first, so that reading a build again (`GET /api/builds/latest` at
// thousands of requests a second) does not read and decode its assets
// again. Only content-addressed documents are kept — a build record's
// AssetsDocument, named after the SHA-256 of the assets it holds and
// written once, create-only — so a key never names other contents and an
// entry never goes stale. Entries are handed out as deep copies.
type assetsCache struct {
	mu    sync.Mutex
	ll    *list.List // of *assetsEntry, most recent first
	byKey map[string]*list.Element
	count int // assets held
}

type assetsEntry struct {
	key    string
	assets []maestro.Asset
}

func (c *assetsCache) get(key string) ([]maestro.Asset, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(el)
	return cloneAssets(el.Value.(*assetsEntry).assets), true
}

func (c *assetsCache) put(key string, assets []maestro.Asset) {
	if c == nil || len(assets) > assetsCacheLimit/4 {
		return // a huge build would evict everything else
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey == nil {
		c.byKey, c.ll = map[string]*list.Element{}, list.New()
	}
	if _, ok := c.byKey[key]; ok {
		return
	}
	c.byKey[key] = c.ll.PushFront(&assetsEntry{key: key, assets: cloneAssets(assets)})
	c.count += len(assets)
	for c.count > assetsCacheLimit {
		old := c.ll.Remove(c.ll.Back()).(*assetsEntry)
		delete(c.byKey, old.key)
		c.count -= len(old.assets)
	}
}

// cloneAssets copies assets and their locations, so that no caller shares
// memory with the cache.
func cloneAssets(assets []maestro.Asset) []maestro.Asset {
	if assets == nil {
		return nil
	}
	out := slices.Clone(assets)
	for i := range out {
		out[i].Locations = slices.Clone(out[i].Locations)
	}
	return out
}

// buildAssets reads the assets of a recorded build, from the cache when
// the record names a content-addressed document.
func (r *Registry) buildAssets(ctx context.Context, rec buildRecord) ([]maestro.Asset, error) {
	cacheable := rec.AssetsDocument != ""
	if cacheable {
		if assets, ok := r.assets.get(rec.AssetsDocument); ok {
			return assets, nil
		}
	}
	assets, err := r.readAssets(ctx, rec)
	if err != nil {
		return nil, err
	}
	if cacheable {
		r.assets.put(rec.AssetsDocument, assets)
	}
	return assets, nil
}
