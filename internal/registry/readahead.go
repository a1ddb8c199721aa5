package registry

import (
	"context"
	"sync"

	"github.com/maestroplusplus/maestro/internal/store"
)

// readAhead is a store whose first Get of each of some keys answers from a
// read started in advance, side by side with the others: a publish asks the
// channels, the default channels, its claim and the build counter one after
// the other, then the index documents it changes, and on a remote store each
// question is a round trip. Only reads
// are started early, so a publish still writes nothing before its input is
// checked, and every later Get (a retry after a lost race) reads afresh. An
// early read is no staler than one made in sequence could be: every write
// that depends on it carries the ETag it read, as before.
type readAhead struct {
	store.Store
	mu    sync.Mutex
	ahead map[string]*earlyGet
}

type earlyGet struct {
	done chan struct{}
	data []byte
	etag string
	err  error
}

// withReadAhead returns st reading keys ahead, side by side, and then,
// once those reads are done, the keys of later: what is needed first is
// not queued behind what is needed later (a store such as Azurite serves
// requests one at a time).
func withReadAhead(ctx context.Context, st store.Store, keys, later []string) *readAhead {
	ra := &readAhead{Store: st, ahead: make(map[string]*earlyGet, len(keys)+len(later))}
	start := func(keys []string, after []*earlyGet) []*earlyGet {
		var gs []*earlyGet
		for _, k := range keys {
			if _, dup := ra.ahead[k]; dup {
				continue
			}
			g := &earlyGet{done: make(chan struct{})}
			ra.ahead[k] = g
			gs = append(gs, g)
			go func() {
				defer close(g.done)
				for _, a := range after {
					<-a.done
				}
				g.data, g.etag, g.err = st.Get(ctx, k)
			}()
		}
		return gs
	}
	start(later, start(keys, nil))
	return ra
}

// Get implements store.Store: the early read of key, the first time.
func (ra *readAhead) Get(ctx context.Context, key string) ([]byte, string, error) {
	ra.mu.Lock()
	g, ok := ra.ahead[key]
	delete(ra.ahead, key)
	ra.mu.Unlock()
	if !ok {
		return ra.Store.Get(ctx, key)
	}
	select {
	case <-g.done:
		return g.data, g.etag, g.err
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
}

// Unwrap returns the store underneath (see store.Base).
func (ra *readAhead) Unwrap() store.Store { return ra.Store }
