package server_test

import (
	"context"
	"testing"

	"github.com/maestroplusplus/maestro/internal/server"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// BenchmarkInstrumentedStore: what measuring costs a store request — Get of
// a small object on the in-memory store, bare and measured.
func BenchmarkInstrumentedStore(b *testing.B) {
	base := mem.New()
	if _, err := base.Put(context.Background(), "k", []byte("v"), store.Condition{}); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		st   store.Store
	}{{"bare", base}, {"measured", server.NewMetrics().InstrumentStore(base)}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				if _, _, err := c.st.Get(ctx, "k"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
