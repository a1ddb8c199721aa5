package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/maestroplusplus/maestro/internal/store"
)

// An id set is one small document {ids[]} (newest first) of the few builds
// that share something: one commit of a repository, one asset version of a
// repository, one dependency. A reader gets it with one GET of a known key —
// no listing, whose cost on a local directory would grow with its siblings.
// Adding or removing an id is a read-modify-write under the document's ETag.
type idSetDoc struct {
	IDs []int `json:"ids"`
}

// Keys of the id sets.
func commitSetKey(repo, commit string) string {
	return commitBuildsPrefix(repo, commit) + "builds.json"
}
func dependentsSetKey(id int) string { return dependentsPrefix(id) + "builds.json" }
func versionSetKey(repo, version string) string {
	return versionBuildsPrefix(repo, version) + "builds.json"
}

// isIDSet reports whether key is an id set.
func isIDSet(key string) bool {
	for _, root := range idSetRoots {
		if strings.HasPrefix(key, root) && strings.HasSuffix(key, "/builds.json") {
			return true
		}
	}
	return false
}

var idSetRoots = []string{"index/builds/commit/", "index/builds/dependents/", "index/assets/version/"}

func (r *Registry) setAdd(ctx context.Context, key string, id int) error {
	_, err := update(ctx, r.st, key, func(d *idSetDoc, _ bool) error {
		var changed bool
		if d.IDs, changed = insertDesc(d.IDs, id); !changed {
			return errUnchanged
		}
		return nil
	})
	return err
}

func (r *Registry) setRemove(ctx context.Context, key string, id int) error {
	_, err := update(ctx, r.st, key, func(d *idSetDoc, exists bool) error {
		var changed bool
		if d.IDs, changed = removeDesc(d.IDs, id); !exists || !changed {
			return errUnchanged
		}
		return nil
	})
	return err
}

// setIDs returns the ids of the set at key, newest first.
func (r *Registry) setIDs(ctx context.Context, key string) ([]int, error) {
	var d idSetDoc
	if _, err := getJSON(ctx, r.st, key, &d); err != nil {
		if errors.Is(err, store.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return d.IDs, nil
}

// setCandidates pages through an id set.
func (r *Registry) setCandidates(key string) candidates {
	return func(ctx context.Context, before, n int) ([]int, error) {
		ids, err := r.setIDs(ctx, key)
		if err != nil {
			return nil, err
		}
		var out []int
		for _, id := range ids {
			if len(out) < n && (before == 0 || id < before) {
				out = append(out, id)
			}
		}
		return out, nil
	}
}
