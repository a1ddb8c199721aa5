package e2e_test

import (
	"context"
	"net/http"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/registry"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// batchDeliveries lists the queued batches of reg's store (records of the
// intake log) and the deliveries each holds.
func batchDeliveries(t *testing.T, reg *registry.Registry) map[string][]string {
	t.Helper()
	out, err := registry.StoredBatches(t.Context(), reg.Store())
	require.NoError(t, err)
	return out
}

// eventKinds are the two ways a worker records a status event: at a
// tracked pull request (claimed, re-checked, finished), and at a commit
// no tracked pull request is at (decided by reading, recorded done in one
// write without a claim).
var eventKinds = []struct {
	name          string
	atPullRequest bool
	result        string
}{
	{"with-effects", true, "checked #1: waiting"},
	{"without-effects", false, "no tracked pull request concerned"},
}

// processedOnce checks that every delivery is recorded done with result,
// was worked on at most once by the servers whose logs are given (a kill
// between the record and its log line leaves at most one without its
// line), and that no batch is left.
func processedOnce(t *testing.T, reg *registry.Registry, ds []githubdouble.Delivery, result, logs string, allLogged bool) {
	t.Helper()
	once := 0
	for _, d := range ds {
		ev, _, err := reg.Event(t.Context(), "github", d.GUID)
		require.NoError(t, err, "delivery %s is recorded", d.GUID)
		assert.Equal(t, registry.EventDone, ev.State, d.GUID)
		assert.Equal(t, result, ev.Result, d.GUID)
		worked := regexp.MustCompile(`msg="event processed[^"]*" delivery=` + d.GUID + ` `)
		n := len(worked.FindAllString(logs, -1))
		assert.LessOrEqual(t, n, 1, "worked on once: %s", d.GUID)
		once += n
	}
	if allLogged {
		assert.Equal(t, len(ds), once)
	} else {
		assert.GreaterOrEqual(t, once, len(ds)-1)
	}
	assert.Empty(t, batchDeliveries(t, reg), "every batch settled and deleted")
}

// TestServeKilledWithABatchHalfProcessed: maestro serve (one worker) is
// killed (SIGKILL) while a batch of accepted deliveries is half processed:
// some of its events done, the others not yet taken. Two servers started
// on the store process the rest, each event once, and delete the batch —
// for events that are claimed and finished, and for events recorded done
// without a claim (their processing only reads; more of them, as they go
// faster).
func TestServeKilledWithABatchHalfProcessed(t *testing.T) {
	for _, kind := range eventKinds {
		t.Run(kind.name, func(t *testing.T) {
			stores(t, func(t *testing.T, e *env) { killWithABatchHalfProcessed(t, e, kind.atPullRequest, kind.result) })
		})
	}
}

func killWithABatchHalfProcessed(t *testing.T, e *env, atPullRequest bool, result string) {
	events := 40
	if !atPullRequest {
		events = 200
	}
	ds := statusDeliveriesAt(t, e, events, atPullRequest)
	config := writeFile(t, t.TempDir(), "serve.yaml", "claimTimeout: 2s\ngithub:\n  webhooks: true\n")
	first := serve(t, e, "--config", config, "--workers", "1")
	reg := openRegistry(t, e)
	if atPullRequest {
		sendAll(t, first, ds)
		stopHalfProcessed(t, first, reg)
	} else {
		stepToHalfProcessed(t, first, reg, ds)
	}
	first.kill(t)
	require.Positive(t, halfProcessed(t, reg), "killed with a batch half processed")

	second := serve(t, e, "--config", config, "--workers", "2")
	third := serve(t, e, "--config", config, "--workers", "2")
	require.Eventually(t, func() bool {
		q, err := reg.QueuedEvents(t.Context())
		return err == nil && len(q) == 0
	}, 2*time.Minute, 50*time.Millisecond, "the restarted servers work the queue off")
	processedOnce(t, reg, ds, result, first.log()+second.log()+third.log(), false)
}

// stopHalfProcessed stops s (SIGSTOP) while a batch with more than one
// event is half processed: with one worker and every event about one
// repository, the events are processed one at a time, in order. The
// worker may finish the batch between a look and the stop, so a batch
// seen half processed is looked at again with the process stopped (a
// write already sent lands within the wait), and the process is let go
// on (SIGCONT) unless the batch is still half processed.
func stopHalfProcessed(t *testing.T, first *served, reg *registry.Registry) {
	t.Helper()
	require.Eventually(t, func() bool {
		if halfProcessed(t, reg) == 0 {
			return false
		}
		require.NoError(t, first.cmd.Process.Signal(syscall.SIGSTOP))
		time.Sleep(200 * time.Millisecond)
		if halfProcessed(t, reg) > 0 {
			return true
		}
		require.NoError(t, first.cmd.Process.Signal(syscall.SIGCONT))
		return false
	}, time.Minute, time.Millisecond, "%s", first.log())
}

// stepToHalfProcessed sends the deliveries to s and leaves it stopped
// (SIGSTOP) with a batch of them half processed. Events without effects
// take a millisecond or two each, so one worker keeps up with a few
// senders, and a batch is half processed only for moments that looking
// from outside misses (a CI run did). So the deliveries go from 64
// senders at once, which leaves a backlog in batches of many; the process
// is stopped as soon as they are accepted and then let run in slices
// shorter than one event's work, each followed by a look with the process
// stopped, until a batch is half processed.
func stepToHalfProcessed(t *testing.T, s *served, reg *registry.Registry, ds []githubdouble.Delivery) {
	t.Helper()
	sendAllFrom(t, s, ds, 64)
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGSTOP))
	const settle = 50 * time.Millisecond // a write already sent lands
	time.Sleep(settle)
	backlog := 0
	for _, ids := range batchDeliveries(t, reg) {
		if len(ids) > 1 {
			backlog++
		}
	}
	require.Positive(t, backlog, "stopped with a backlog in batches of more than one event; %s", s.log())
	require.Eventually(t, func() bool {
		if halfProcessed(t, reg) > 0 {
			return true
		}
		require.NoError(t, s.cmd.Process.Signal(syscall.SIGCONT))
		time.Sleep(200 * time.Microsecond)
		require.NoError(t, s.cmd.Process.Signal(syscall.SIGSTOP))
		time.Sleep(settle)
		return false
	}, 2*time.Minute, time.Millisecond, "%s", s.log())
}

// halfProcessed counts the queued batches of which some events are done
// and some not.
func halfProcessed(t *testing.T, reg *registry.Registry) int {
	t.Helper()
	half := 0
	for key, ids := range batchDeliveries(t, reg) {
		done := 0
		for _, id := range ids {
			if ev, _, err := reg.Event(t.Context(), "github", id); err == nil && ev.State == registry.EventDone {
				done++
			}
		}
		if done > 0 && done < len(ids) {
			half++
			t.Logf("batch %s: %d of %d events done", key, done, len(ids))
		}
	}
	return half
}

// TestServeSameDeliveryToTwoReplicas: each delivery is sent to two maestro
// serve processes on one store at the same time. Both answer 202 while
// neither knows the other's batch (or 200, "accepted before", when one
// does); the delivery is processed once, its copy in the other batch
// dropped unprocessed, and every batch is deleted.
func TestServeSameDeliveryToTwoReplicas(t *testing.T) {
	for _, kind := range eventKinds {
		t.Run(kind.name, func(t *testing.T) {
			stores(t, func(t *testing.T, e *env) { sameDeliveryToTwoReplicas(t, e, kind.atPullRequest, kind.result) })
		})
	}
}

func sameDeliveryToTwoReplicas(t *testing.T, e *env, atPullRequest bool, result string) {
	const events = 20
	ds := statusDeliveriesAt(t, e, events, atPullRequest)
	a := serve(t, e, "--github-webhooks")
	b := serve(t, e, "--github-webhooks")
	twice := 0
	for _, d := range ds {
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i, s := range []*served{a, b} {
			wg.Go(func() {
				req, err := d.NewRequest(context.Background(), s.url+"/webhooks/github")
				if !assert.NoError(t, err) {
					return
				}
				resp, err := http.DefaultClient.Do(req)
				if assert.NoError(t, err) {
					codes[i] = resp.StatusCode
					resp.Body.Close()
				}
			})
		}
		wg.Wait()
		assert.Contains(t, codes, http.StatusAccepted, d.GUID)
		for _, c := range codes {
			assert.Contains(t, []int{http.StatusAccepted, http.StatusOK}, c, d.GUID)
		}
		if codes[0] == http.StatusAccepted && codes[1] == http.StatusAccepted {
			twice++
		}
	}
	t.Logf("%d of %d deliveries accepted by both replicas", twice, events)
	require.Positive(t, twice, "some delivery is in two batches")

	reg := openRegistry(t, e)
	require.Eventually(t, func() bool {
		q, err := reg.QueuedEvents(t.Context())
		return err == nil && len(q) == 0
	}, 2*time.Minute, 50*time.Millisecond, "the replicas work the queue off")
	processedOnce(t, reg, ds, result, a.log()+b.log(), true)
}
