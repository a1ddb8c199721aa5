package mem_test

import (
	"testing"

	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
	"github.com/maestroplusplus/maestro/internal/store/storetest"
)

func TestSuite(t *testing.T) {
	clock := storetest.NewClock()
	storetest.Run(t, func(*testing.T) store.Store { return mem.New(mem.WithClock(clock.Now)) }, storetest.WithClock(clock))
}
