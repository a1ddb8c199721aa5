package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/mirror"
	azdodouble "github.com/maestroplusplus/maestro/test/azdo"
)

// TestConcurrentMirrorTriggersQueueOneRun: six `maestro mirror trigger`
// processes at once for one branch, on both stores, queue exactly one run:
// the one that wins the branch's run record queues, the others coalesce
// (into its run, or into the run it is queueing), and none fails.
func TestConcurrentMirrorTriggersQueueOneRun(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		srv := azdodouble.NewServer(t, azdodouble.WithPAT("mirror-pat"))
		project := srv.AddProject("internal")
		pl := mirrorPipeline(t, srv, project)
		e.environ = append(e.environ, "MAESTRO_AZDO_TOKEN=mirror-pat", "MAESTRO_AZDO_SERVER_URLS="+srv.OrganizationURL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true")
		const src = "https://github.com/dotnet/runtime"
		e.ok("mirror", "add", "--source", src, "--target", srv.OrganizationURL()+"/internal/_git/dotnet-runtime", "--branch", "main",
			"--pipeline", srv.OrganizationURL()+"/internal/_build?definitionId="+strconv.Itoa(pl.ID))

		results := make([]result, 6)
		var wg sync.WaitGroup
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = e.run("mirror", "trigger", "--source", src, "--branch", "main", "--output", "json")
			}()
		}
		wg.Wait()
		queued := 0
		for _, r := range results {
			require.Equal(t, 0, r.code, r.stderr)
			var got struct {
				Queued bool `json:"queued"`
			}
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
			if got.Queued {
				queued++
			}
		}
		assert.Equal(t, 1, queued, "one trigger queued")
		assert.Len(t, srv.RunRequests(), 1, "six triggers at once, one run")
	})
}

// TestMirrorTriggerKilled: `maestro mirror trigger` killed (kill -9) at the
// worst moment — while Azure DevOps queues its run, after its claim and
// before the run id is recorded — leaves a claim that holds the branch off
// for at most mirror.ClaimTTL: triggers meanwhile succeed and coalesce, and
// the first after it queues a run and records it. The kill costs at most
// one extra run (the one queued but never recorded).
func TestMirrorTriggerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a killed trigger's claim (a minute)")
	}
	e := newLocal(t)
	srv := azdodouble.NewServer(t, azdodouble.WithPAT("mirror-pat"))
	project := srv.AddProject("internal")
	pl := mirrorPipeline(t, srv, project)
	e.environ = append(e.environ, "MAESTRO_AZDO_TOKEN=mirror-pat", "MAESTRO_AZDO_SERVER_URLS="+srv.OrganizationURL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true")
	const src = "https://github.com/dotnet/runtime"
	e.ok("mirror", "add", "--source", src, "--target", srv.OrganizationURL()+"/internal/_git/dotnet-runtime", "--branch", "main",
		"--pipeline", srv.OrganizationURL()+"/internal/_build?definitionId="+strconv.Itoa(pl.ID))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := e.command(ctx, "mirror", "trigger", "--source", src, "--branch", "main")
	var once sync.Once
	started := make(chan struct{}) // cmd.Process is set once Start returns
	srv.BeforeRequest(func(r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/runs") {
			// The run is queued (the double serves it after this), but the
			// trigger never hears of it.
			once.Do(func() { <-started; _ = cmd.Process.Signal(syscall.SIGKILL) })
		}
	})
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	close(started)
	waitErr := cmd.Wait()
	srv.BeforeRequest(nil)
	// The trigger is dead once the hook has killed it, but the double
	// records the run only after the hook returns: wait for that.
	require.Eventually(t, func() bool { return len(srv.RunRequests()) > 0 }, 10*time.Second, 10*time.Millisecond,
		"the killed trigger's run was queued (the trigger ended with %v: %s)", waitErr, stderr.String())
	require.Len(t, srv.RunRequests(), 1, "one run queued by the killed trigger")

	type triggered struct {
		Queued bool `json:"queued"`
		RunID  int  `json:"runId"`
	}
	var got triggered
	e.okJSON(&got, "mirror", "trigger", "--source", src, "--branch", "main")
	assert.Equal(t, triggered{}, got, "coalesced into the claim of the killed trigger")
	deadline := time.Now().Add(mirror.ClaimTTL + 30*time.Second)
	for got.RunID == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Second)
		e.okJSON(&got, "mirror", "trigger", "--source", src, "--branch", "main")
	}
	assert.True(t, got.Queued, "the first trigger after the claim lapsed queues a run")
	runs := srv.RunRequests()
	require.Len(t, runs, 2, "one extra run at most")
	assert.Equal(t, runs[1].RunID, got.RunID)
	e.okJSON(&got, "mirror", "trigger", "--source", src, "--branch", "main")
	assert.Equal(t, triggered{RunID: runs[1].RunID}, triggered{Queued: got.Queued, RunID: got.RunID}, "recorded: later triggers coalesce into it")
}
