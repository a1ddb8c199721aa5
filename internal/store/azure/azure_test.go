package azure_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/azure"
	"github.com/maestroplusplus/maestro/internal/store/storetest"
	"github.com/maestroplusplus/maestro/test/azurite"
)

// TestAzurite runs the conformance suite, then the Azure-specific tests,
// against one real Azurite; every store gets a container of its own.
func TestAzurite(t *testing.T) {
	srv := azurite.Start(t)
	var n atomic.Int64
	t.Run("Suite", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return open(t, srv, fmt.Sprintf("suite-%d", n.Add(1))) })
	})
	for _, tc := range azuriteTests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, srv) })
	}
}

func open(t *testing.T, srv *azurite.Server, containerName string, opts ...azure.Option) *azure.Store {
	t.Helper()
	s, err := azure.Open(t.Context(), azure.Account{ConnectionString: srv.ConnectionString()}, containerName, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
