package server_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// TestEventWorkIsBounded: an Azure DevOps organization that takes the
// request and never answers does not hold the event for good. The attempt
// ends after eventTimeout as a failure that is retried, so the worker, the
// event's claim and the repository's later events are free again (the
// outgoing clients have no timeout of their own).
func TestEventWorkIsBounded(t *testing.T) {
	reg := newRegistry(t)
	released := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-released:
		}
	}))
	t.Cleanup(func() { close(released); hang.Close() })
	org := hang.URL + "/dnceng"
	ghs := githubdouble.NewServer(t)
	repo := ghs.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"a.txt": "1\n"}})
	require.NoError(t, reg.AddMirror(t.Context(), maestro.Mirror{SourceRepository: ghs.URL() + "/dotnet/runtime", TargetRepository: org + "/internal/_git/dotnet-runtime",
		Branches: []maestro.MirrorBranch{{Pattern: "main", Mode: maestro.MirrorFastForward}},
		Pipeline: maestro.UpdatePipeline{Organization: org, Project: "internal", PipelineID: 7}}))
	file := filepath.Join(t.TempDir(), "serve.yaml")
	require.NoError(t, os.WriteFile(file, []byte("eventTimeout: 2s\n"), 0o600))
	a := startRoutes(t, reg, routes{github: true, config: file,
		env: map[string]string{"MAESTRO_AZDO_TOKEN": azdoPAT, wire.EnvAzdoServerURLs: org, wire.EnvAllowHTTPLoopback: "true"}})
	repo.AddHook(githubdouble.HookSpec{URL: a.url + "/webhooks/github", Secret: secret, Events: []string{"push"}})
	start := time.Now()
	repo.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"a.txt": "2\n"}})
	pushes := deliveriesOf(ghs.WaitDeliveries(), "push", 0)
	require.Len(t, pushes, 1)
	require.Equal(t, http.StatusAccepted, pushes[0].StatusCode, string(pushes[0].Response))
	var ev registry.Event
	require.Eventually(t, func() bool {
		var err error
		ev, _, err = reg.Event(t.Context(), "github", pushes[0].GUID)
		return err == nil && ev.LastError != ""
	}, 20*time.Second, 20*time.Millisecond, "the attempt on the silent organization ends")
	assert.GreaterOrEqual(t, time.Since(start), 2*time.Second, "not before eventTimeout")
	assert.Contains(t, ev.LastError, "deadline exceeded")
	assert.Contains(t, ev.LastError, "took longer than eventTimeout (2s)")
	assert.Equal(t, registry.EventQueued, ev.State, "queued for another attempt")
	assert.Nil(t, ev.Claim, "the claim is given up")
}
