package heapfloor_test

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/heapfloor"
)

const mib = 1 << 20

func TestPercent(t *testing.T) {
	tests := []struct {
		name        string
		floor, live uint64
		want        int
	}{
		{"no floor", 0, 10 * mib, 100},
		{"no floor, nothing live", 0, 0, 100},
		{"before the first cycle: the minimum heap reaches the floor", 256 * mib, 0, 6400},
		{"small live heap: capped by the minimum heap", 256 * mib, 2 * mib, 6400},
		{"live heap a quarter of the floor", 256 * mib, 64 * mib, 300},
		{"live heap half the floor", 256 * mib, 128 * mib, 100},
		{"live heap past half the floor", 256 * mib, 200 * mib, 100},
		{"live heap past the floor", 256 * mib, 300 * mib, 100},
		{"live heap at the floor", 256 * mib, 256 * mib, 100},
		{"largest floor", 65536 * mib, 100 * mib, 65436},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, heapfloor.Percent(tt.floor, tt.live))
		})
	}
}

func read(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

var sink []byte

// churn allocates n bytes of garbage in 64 KiB pieces and returns how
// many collections ran meanwhile.
func churn(n int) uint64 {
	before := read("/gc/cycles/total:gc-cycles")
	for range n / (64 << 10) {
		sink = make([]byte, 64<<10)
	}
	sink = nil
	return read("/gc/cycles/total:gc-cycles") - before
}

// waitGoal waits for the finalizer to set the percent after a cycle: the
// heap goal (read at the next cycle's end) then satisfies ok.
func waitGoal(t *testing.T, ok func(goal uint64) bool) uint64 {
	t.Helper()
	var goal uint64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		runtime.GC()
		if goal = read("/gc/heap/goal:bytes"); ok(goal) {
			return goal
		}
	}
	t.Fatalf("heap goal %d MiB", goal/mib)
	return 0
}

// TestSetKeepsTheGoalAtTheFloor: with a 256 MiB floor, 512 MiB of garbage
// takes a handful of collections, a quarter or less of what the default
// goal (twice a small live heap, at least 4 MiB) takes; with a 64 MiB
// floor, a live heap past half the floor takes the percent back to 100
// (the percent follows the live heap at each cycle); Set(0) restores GOGC.
func TestSetKeepsTheGoalAtTheFloor(t *testing.T) {
	previous := debug.SetGCPercent(100)
	defer debug.SetGCPercent(previous)
	runtime.GC()
	without := churn(512 * mib)
	require.GreaterOrEqual(t, without, uint64(12), "without a floor, 512 MiB of garbage takes many collections (the test's heap is small)")

	heapfloor.Set(256 * mib)
	waitGoal(t, func(goal uint64) bool { return goal >= 250*mib })
	assert.LessOrEqual(t, churn(512*mib), without/4, "collections with a 256 MiB floor (%d without)", without)

	heapfloor.Set(64 * mib)
	waitGoal(t, func(goal uint64) bool { return goal < 80*mib })
	live := make([][]byte, 48) // 48 MiB kept live: past half the floor
	for i := range live {
		live[i] = make([]byte, mib)
	}
	goal := waitGoal(t, func(goal uint64) bool { return goal < 120*mib })
	assert.GreaterOrEqual(t, goal, uint64(96*mib), "GOGC=100 over 48 MiB live")
	runtime.KeepAlive(live)
	live = nil

	heapfloor.Set(0)
	assert.Equal(t, 100, debug.SetGCPercent(100), "Set(0) restores the percent before the floor")
	waitGoal(t, func(goal uint64) bool { return goal < 16*mib })
}
