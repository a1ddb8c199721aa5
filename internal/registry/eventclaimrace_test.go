package registry_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/local"
)

// A child process of TestClaimRaceAcrossProcesses is this test binary
// started with these variables set; TestMain runs the child's part instead
// of the tests.
const (
	claimRaceDirEnv  = "MAESTRO_CLAIM_RACE_DIR"
	claimRaceNameEnv = "MAESTRO_CLAIM_RACE_NAME"
)

// claimRacers are the child processes: "fwd" ones take the queue oldest
// first, "rev" ones newest first, so that two children reach one delivery
// through the same batch entry (the same order) and through its two
// entries in different batches (opposite orders) at about the same time.
var claimRacers = []string{"fwd-a", "fwd-b", "rev-a", "rev-b"}

func TestMain(m *testing.M) {
	if dir := os.Getenv(claimRaceDirEnv); dir != "" {
		if err := runClaimRacer(dir, os.Getenv(claimRaceNameEnv)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runClaimRacer claims every queue entry it lists, once all racers have
// listed, and finishes each it claimed with its name as the result,
// printing "claimed DELIVERY" (and "lost DELIVERY" when its finish finds
// the record changed under its claim). After a second barrier it goes over the
// queue again, settling what the others finished.
func runClaimRacer(dir, name string) error {
	st, err := local.Open(filepath.Join(dir, "store"))
	if err != nil {
		return err
	}
	reg := registry.New(st)
	ctx := context.Background()
	queued, err := reg.QueuedEvents(ctx)
	if err != nil {
		return err
	}
	if strings.HasPrefix(name, "rev") {
		slices.Reverse(queued)
	}
	if err := raceBarrier(dir, "claim", name); err != nil {
		return err
	}
	for _, q := range queued {
		ev, etag, ok, err := reg.ClaimEvent(ctx, q, name, time.Now(), time.Hour)
		if err != nil {
			return fmt.Errorf("%s: claim %s: %w", name, q.ID, err)
		}
		if !ok {
			continue
		}
		fmt.Printf("claimed %s\n", q.Delivery)
		err = reg.FinishEvent(ctx, q, ev, etag, time.Now(), "processed by "+name)
		if errors.Is(err, store.ErrPrecondition) {
			// Another process changed the record under this claim: the
			// delivery was worked on twice.
			fmt.Printf("lost %s\n", q.Delivery)
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: finish %s: %w", name, q.ID, err)
		}
	}
	if err := raceBarrier(dir, "settle", name); err != nil {
		return err
	}
	for _, q := range queued {
		if _, _, ok, err := reg.ClaimEvent(ctx, q, name, time.Now(), time.Hour); err != nil {
			return fmt.Errorf("%s: settle %s: %w", name, q.ID, err)
		} else if ok {
			return fmt.Errorf("%s: claimed %s after every racer went over the queue", name, q.ID)
		}
	}
	return nil
}

// raceBarrier marks name as ready for phase and waits until every racer is.
func raceBarrier(dir, phase, name string) error {
	if err := os.WriteFile(filepath.Join(dir, phase+"."+name), nil, 0o644); err != nil {
		return err
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Microsecond) {
		if m, _ := filepath.Glob(filepath.Join(dir, phase+".*")); len(m) == len(claimRacers) {
			return nil
		}
	}
	return fmt.Errorf("%s: the other racers never reached phase %s", name, phase)
}

// TestClaimRaceAcrossProcesses: the create-only race on an event's record.
// Every delivery is accepted by two replicas (a batch each), then four
// processes on the local store claim every queue entry at once, two of
// them oldest first and two newest first: of the processes reaching one
// delivery at the same time (through one entry, or through its entries in
// the two batches), one creates its record and processes it; the others
// find the record, claimed or done. Each delivery is processed once, by
// the process its record names, with one attempt, and every batch is
// deleted once all racers went over the queue again.
func TestClaimRaceAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	const deliveries = 60
	dir := t.TempDir()
	st, err := local.Open(filepath.Join(dir, "store"))
	require.NoError(t, err)
	ctx := t.Context()
	ids := make([]string, deliveries)
	for i := range ids {
		ids[i] = fmt.Sprintf("d-%03d", i)
	}
	for _, reg := range []*registry.Registry{registry.New(st), registry.New(st)} {
		oks, errs := acceptAll(t, reg, ids)
		for i := range ids {
			require.NoError(t, errs[i])
			require.True(t, oks[i], "neither replica knows the other's batches: %s", ids[i])
		}
	}
	queued, err := registry.New(st).QueuedEvents(ctx)
	require.NoError(t, err)
	require.Len(t, queued, 2*deliveries, "each delivery in two batches")

	cmds := make([]*exec.Cmd, len(claimRacers))
	outs := make([]*bytes.Buffer, len(claimRacers))
	for i, name := range claimRacers {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), claimRaceDirEnv+"="+dir, claimRaceNameEnv+"="+name)
		outs[i] = new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		require.NoError(t, cmd.Start())
		cmds[i] = cmd
	}
	var failed error
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			failed = errors.Join(failed, fmt.Errorf("%s: %w\n%s", claimRacers[i], err, outs[i]))
		}
	}
	require.NoError(t, failed)

	processedBy := map[string][]string{}
	for i, out := range outs {
		sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "claimed "); ok {
				processedBy[id] = append(processedBy[id], claimRacers[i])
			}
			if id, ok := strings.CutPrefix(sc.Text(), "lost "); ok {
				t.Errorf("%s lost its claim of %s to another process", claimRacers[i], id)
			}
		}
	}
	perRacer := map[string]int{}
	reg := registry.New(st)
	for _, id := range ids {
		by := processedBy[id]
		if !assert.Len(t, by, 1, "delivery %s processed once", id) {
			continue
		}
		perRacer[by[0]]++
		ev, _, err := reg.Event(ctx, "github", id)
		require.NoError(t, err)
		assert.Equal(t, registry.EventDone, ev.State, id)
		assert.Equal(t, "processed by "+by[0], ev.Result, id)
		assert.Equal(t, 1, ev.Attempts, id)
	}
	t.Logf("deliveries processed per racer: %v", perRacer)
	assert.Empty(t, listBatches(t, st), "every batch settled and deleted")
}
