package local_test

import (
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/maestroplusplus/maestro/internal/store"
)

// A 20,000-asset build publishes as one object of about this size.
const buildObjectSize = 3 << 20

func BenchmarkPut3MB(b *testing.B) {
	s := open(b, b.TempDir())
	data := make([]byte, buildObjectSize)
	_, _ = rand.Read(data)
	b.SetBytes(int64(len(data)))
	for i := 0; b.Loop(); i++ {
		if _, err := s.Put(b.Context(), fmt.Sprintf("builds/%d.json", i), data, store.Condition{CreateOnly: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPutIfMatch3MB(b *testing.B) {
	s := open(b, b.TempDir())
	data := make([]byte, buildObjectSize)
	_, _ = rand.Read(data)
	etag, err := s.Put(b.Context(), "index.json", data, store.Condition{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for i := 0; b.Loop(); i++ {
		data[0] = byte(i)
		if etag, err = s.Put(b.Context(), "index.json", data, store.Condition{IfMatch: etag}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet3MB(b *testing.B) {
	s := open(b, b.TempDir())
	data := make([]byte, buildObjectSize)
	_, _ = rand.Read(data)
	if _, err := s.Put(b.Context(), "builds/1.json", data, store.Condition{}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := s.Get(b.Context(), "builds/1.json"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkList lists one folder of 1,000 keys in a store of 10,000.
func BenchmarkList(b *testing.B) {
	s := open(b, b.TempDir())
	for d := range 10 {
		for i := range 1000 {
			if _, err := s.Put(b.Context(), fmt.Sprintf("builds%d/%05d.json", d, i), nil, store.Condition{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for b.Loop() {
		keys, err := s.List(b.Context(), "builds3/")
		if err != nil || len(keys) != 1000 {
			b.Fatalf("List = %d keys, %v", len(keys), err)
		}
	}
}
