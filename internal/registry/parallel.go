package registry

import (
	"context"
	"sync"
)

// concurrency bounds the requests one registry call has in flight: enough to
// hide a remote store's latency, few enough not to be throttled.
const concurrency = 16

// parallelMap applies fn to every item with bounded concurrency and returns
// the results in item order, or the first error.
func parallelMap[T, R any](ctx context.Context, items []T, fn func(context.Context, T) (R, error)) ([]R, error) {
	out := make([]R, len(items))
	if len(items) == 0 {
		return out, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan int)
	)
	for range min(concurrency, len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r, err := fn(ctx, items[i])
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
						cancel()
					}
					mu.Unlock()
					continue
				}
				out[i] = r
			}
		}()
	}
feed:
	for i := range items {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, ctx.Err()
}

// parallelDo runs fn on every item with bounded concurrency.
func parallelDo[T any](ctx context.Context, items []T, fn func(context.Context, T) error) error {
	_, err := parallelMap(ctx, items, func(ctx context.Context, t T) (struct{}, error) {
		return struct{}{}, fn(ctx, t)
	})
	return err
}
