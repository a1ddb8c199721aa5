package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
)

// TrackedPullRequests lists every pull request the flow keeps open (for
// `flow health`; its cost grows with the number of open pull requests).
func (r *Registry) TrackedPullRequests(ctx context.Context) ([]maestro.TrackedPullRequest, error) {
	keys, err := r.st.List(ctx, "flow/tracked/")
	if err != nil {
		return nil, fmt.Errorf("tracked pull requests: %w", err)
	}
	var jsonKeys []string
	for _, k := range keys {
		if strings.HasSuffix(k, ".json") {
			jsonKeys = append(jsonKeys, k)
		}
	}
	found, err := parallelMap(ctx, jsonKeys, func(ctx context.Context, k string) (*maestro.TrackedPullRequest, error) {
		var t maestro.TrackedPullRequest
		if _, err := getJSON(ctx, r.st, k, &t); err != nil {
			if errors.Is(err, store.ErrNotExist) {
				return nil, nil
			}
			return nil, err
		}
		return &t, nil
	})
	if err != nil {
		return nil, err
	}
	out := []maestro.TrackedPullRequest{}
	for _, t := range found {
		if t != nil && t.PullRequest.Number != 0 {
			out = append(out, *t)
		}
	}
	return out, nil
}
