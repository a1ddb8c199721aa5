package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
)

// An id list is a set of build ids that readers page through newest first at
// a cost that does not depend on its size. It lives under one prefix:
//
//	{prefix}head.json           {ids[], pages[]}: the newest ids, and the page table
//	{prefix}pages/{random}.json {ids[]}: an older, contiguous range of ids
//
// Every change is one read-modify-write of head.json under its ETag (the
// commit point). A change that must rewrite a page first writes the new page
// under a fresh random key nobody else knows, then swaps the page table's
// entry in head.json; a page is never rewritten in place, so a reader holding
// an older head.json reads a consistent (older) page or, if the writer has
// already deleted it, starts again from head.json. A writer whose swap fails
// deletes the page it wrote; one that dies in between leaves an unreferenced
// page, which `registry repair` deletes once it is older than the grace period
// (its key starts with its creation time).
const (
	// listPageSize is how many ids a page holds after a spill; head.json holds
	// up to twice as many before its oldest listPageSize ids move to a page.
	listPageSize = 512
)

type listHead struct {
	IDs   []int      `json:"ids"`             // newest first; all newer than Pages[0]
	Pages []listPage `json:"pages,omitempty"` // newest first, disjoint ranges
}

type listPage struct {
	Key string `json:"key"`
	Max int    `json:"max"`
	Min int    `json:"min"`
}

type pageDoc struct {
	IDs []int `json:"ids"` // newest first
}

func listHeadKey(prefix string) string { return prefix + "head.json" }

// newPageKey returns a fresh page key that starts with the creation time, so
// that repair can tell a page a writer is about to reference from garbage.
func (r *Registry) newPageKey(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%spages/%016x-%s.json", prefix, r.now().UnixNano(), hex.EncodeToString(b[:]))
}

// insertDesc adds id to a newest-first slice; it reports whether it changed.
func insertDesc(ids []int, id int) ([]int, bool) {
	i, found := slices.BinarySearchFunc(ids, id, func(x, t int) int { return t - x })
	if found {
		return ids, false
	}
	return slices.Insert(ids, i, id), true
}

// removeDesc removes id from a newest-first slice; it reports whether it changed.
func removeDesc(ids []int, id int) ([]int, bool) {
	i, found := slices.BinarySearchFunc(ids, id, func(x, t int) int { return t - x })
	if !found {
		return ids, false
	}
	return slices.Delete(ids, i, i+1), true
}

// pageFor returns the index of the page that holds (or would hold) id, or -1
// for head.json.
func (h *listHead) pageFor(id int) int {
	if len(h.Pages) == 0 || id > h.Pages[0].Max {
		return -1
	}
	for i, p := range h.Pages {
		if id >= p.Min {
			return i
		}
	}
	return len(h.Pages) - 1
}

// spill moves the oldest listPageSize ids of a head holding more than twice
// that into a new page, which the caller writes before the head.
func (r *Registry) spill(prefix string, h *listHead) (string, pageDoc, bool) {
	if len(h.IDs) <= 2*listPageSize {
		return "", pageDoc{}, false
	}
	ids := slices.Clone(h.IDs[len(h.IDs)-listPageSize:])
	key := r.newPageKey(prefix)
	h.IDs = h.IDs[:len(h.IDs)-listPageSize]
	h.Pages = slices.Insert(h.Pages, 0, listPage{Key: key, Max: ids[0], Min: ids[len(ids)-1]})
	return key, pageDoc{IDs: ids}, true
}

// listAdd adds id to the list at prefix (a no-op when it is there).
func (r *Registry) listAdd(ctx context.Context, prefix string, id int) error {
	return r.listChange(ctx, prefix, id, true)
}

// listRemove removes id from the list at prefix (a no-op when it is absent).
func (r *Registry) listRemove(ctx context.Context, prefix string, id int) error {
	return r.listChange(ctx, prefix, id, false)
}

func (r *Registry) listChange(ctx context.Context, prefix string, id int, add bool) error {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		var h listHead
		etag, err := getJSON(ctx, r.st, listHeadKey(prefix), &h)
		exists := err == nil
		if err != nil && !errors.Is(err, store.ErrNotExist) {
			return err
		}
		var (
			written []string // pages this attempt wrote
			dropped string   // the page this attempt replaces
			changed bool
		)
		if p := h.pageFor(id); p < 0 {
			if add {
				h.IDs, changed = insertDesc(h.IDs, id)
			} else {
				h.IDs, changed = removeDesc(h.IDs, id)
			}
			if !changed {
				return nil
			}
			if key, page, ok := r.spill(prefix, &h); ok {
				if err := putJSON(ctx, r.st, key, page, store.Condition{}); err != nil {
					return err
				}
				written = append(written, key)
			}
		} else {
			var pd pageDoc
			if _, err := getJSON(ctx, r.st, h.Pages[p].Key, &pd); err != nil {
				if errors.Is(err, store.ErrNotExist) {
					// head.json moved on since we read it: start again.
					continue
				}
				return err
			}
			if add {
				pd.IDs, changed = insertDesc(pd.IDs, id)
			} else {
				pd.IDs, changed = removeDesc(pd.IDs, id)
			}
			if !changed {
				return nil
			}
			dropped = h.Pages[p].Key
			var repl []listPage
			for len(pd.IDs) > 0 {
				n := len(pd.IDs)
				if n > 2*listPageSize {
					n = listPageSize
				}
				part := pd.IDs[:n]
				pd.IDs = pd.IDs[n:]
				key := r.newPageKey(prefix)
				if err := putJSON(ctx, r.st, key, pageDoc{IDs: part}, store.Condition{}); err != nil {
					r.deleteKeys(ctx, written)
					return err
				}
				written = append(written, key)
				repl = append(repl, listPage{Key: key, Max: part[0], Min: part[len(part)-1]})
			}
			h.Pages = slices.Concat(h.Pages[:p], repl, h.Pages[p+1:])
		}
		cond := store.Condition{IfMatch: etag}
		if !exists {
			cond = store.Condition{CreateOnly: true}
		}
		err = putJSON(ctx, r.st, listHeadKey(prefix), h, cond)
		if err == nil {
			if dropped != "" {
				r.deleteKeys(ctx, []string{dropped})
			}
			return nil
		}
		r.deleteKeys(ctx, written)
		if !errors.Is(err, store.ErrPrecondition) {
			return err
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
	return maestro.Errorf(maestro.KindConflict, "update %s: gave up after %d concurrent changes; try again", listHeadKey(prefix), maxAttempts)
}

// deleteKeys deletes keys nobody references any more, best effort: what is
// left behind is garbage that `registry repair` collects.
func (r *Registry) deleteKeys(ctx context.Context, keys []string) {
	for _, k := range keys {
		_ = r.st.Delete(ctx, k, "")
	}
}

// listIDs returns up to n ids of the list at prefix that are below before (0:
// no bound), newest first. It reads head.json and only the pages it needs.
func (r *Registry) listIDs(ctx context.Context, prefix string, before, n int) ([]int, error) {
	for attempt := 0; ; attempt++ {
		ids, err := r.listIDsOnce(ctx, prefix, before, n)
		if errors.Is(err, errPageGone) && attempt < 10 {
			continue
		}
		return ids, err
	}
}

var errPageGone = errors.New("page replaced while reading")

func (r *Registry) listIDsOnce(ctx context.Context, prefix string, before, n int) ([]int, error) {
	var h listHead
	if _, err := getJSON(ctx, r.st, listHeadKey(prefix), &h); err != nil {
		if errors.Is(err, store.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []int
	take := func(ids []int) {
		for _, id := range ids {
			if len(out) == n {
				return
			}
			if before == 0 || id < before {
				out = append(out, id)
			}
		}
	}
	take(h.IDs)
	for _, p := range h.Pages {
		if len(out) == n {
			break
		}
		if before != 0 && p.Min >= before {
			continue
		}
		var pd pageDoc
		if _, err := getJSON(ctx, r.st, p.Key, &pd); err != nil {
			if errors.Is(err, store.ErrNotExist) {
				return nil, errPageGone
			}
			return nil, err
		}
		take(pd.IDs)
	}
	return out, nil
}

// listAll returns every id of the list and the page keys head.json names
// (for check and repair, which read whole lists).
func (r *Registry) listAll(ctx context.Context, prefix string) ([]int, []string, error) {
	for attempt := 0; ; attempt++ {
		var h listHead
		if _, err := getJSON(ctx, r.st, listHeadKey(prefix), &h); err != nil {
			if errors.Is(err, store.ErrNotExist) {
				return nil, nil, nil
			}
			return nil, nil, err
		}
		ids := slices.Clone(h.IDs)
		var pages []string
		gone := false
		for _, p := range h.Pages {
			var pd pageDoc
			if _, err := getJSON(ctx, r.st, p.Key, &pd); err != nil {
				if errors.Is(err, store.ErrNotExist) && attempt < 10 {
					gone = true
					break
				}
				return nil, nil, err
			}
			ids = append(ids, pd.IDs...)
			pages = append(pages, p.Key)
		}
		if !gone {
			return ids, pages, nil
		}
	}
}
