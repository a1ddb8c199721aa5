package local_test

import (
	"testing"

	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/local"
	"github.com/maestroplusplus/maestro/internal/store/storetest"
)

func TestSuite(t *testing.T) {
	clock := storetest.NewClock()
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, t.TempDir(), local.WithClock(clock.Now)) }, storetest.WithClock(clock))
}

func open(t testing.TB, dir string, opts ...local.Option) *local.Store {
	t.Helper()
	s, err := local.Open(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSuiteWithoutSync(t *testing.T) {
	clock := storetest.NewClock()
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, t.TempDir(), local.WithoutSync(), local.WithClock(clock.Now))
	}, storetest.WithClock(clock))
}
