// Package heapfloor keeps the garbage collector's heap goal at or above a
// floor, the way a ballast did before Go had a memory limit: a server whose
// live heap is small next to the memory it may use, but that allocates
// fast, collects often with the default GOGC=100 (the heap goal is twice
// the live heap), and each cycle takes a share of the cores from the
// requests it overlaps. With a floor the heap grows to the floor before a
// cycle starts; once the live heap is larger than half the floor, GOGC=100
// applies again, so the floor costs at most floor bytes of memory.
//
// The percent is set again at the end of each cycle, from the live heap
// that cycle found (runtime/metrics /gc/heap/live:bytes), by a finalizer
// on a sentinel object that each cycle frees and the finalizer replaces.
// A memory limit (GOMEMLIMIT) still applies on top of the floor.
package heapfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

const (
	// minPercent is the percent below which the floor never takes GOGC:
	// the runtime's default.
	minPercent = 100
	// minHeap is the runtime's smallest heap goal at GOGC=100 (4 MiB). It
	// scales with the percent: at GOGC=p the goal is at least
	// minHeap*p/100, which caps the percent that keeps the goal at the floor.
	minHeap = 4 << 20
)

var (
	mu    sync.Mutex
	floor uint64
	armed bool
	// before is the percent in force before the first floor (GOGC's),
	// which Set(0) restores.
	before int
)

// Set keeps the heap goal at floorBytes or more from now on, whatever GOGC
// says; Set(0) restores the percent in force before the first floor. It
// replaces the floor a previous Set gave.
func Set(floorBytes uint64) {
	mu.Lock()
	defer mu.Unlock()
	switch {
	case floorBytes == 0 && floor == 0:
	case floorBytes == 0:
		floor = 0
		debug.SetGCPercent(before)
	default:
		previous := debug.SetGCPercent(Percent(floorBytes, liveHeap()))
		if floor == 0 {
			before = previous
		}
		floor = floorBytes
		if !armed {
			armed = true
			arm()
		}
	}
}

// Percent is the GOGC percent that puts the heap goal of a heap with live
// bytes in use at floor: floor/live-1 in percent, capped where the
// runtime's minimum heap goal (4 MiB at 100, scaled by the percent) would
// pass the floor, and never below 100.
func Percent(floor, live uint64) int {
	p := floor * 100 / minHeap // where the minimum heap goal reaches the floor
	if live > 0 {
		if live >= floor {
			return minPercent
		}
		p = min(p, (floor-live)*100/live)
	}
	return max(int(p), minPercent)
}

// sentinel is what each cycle frees; its finalizer re-tunes the percent.
type sentinel struct{ _ [16]byte }

func arm() {
	s := new(sentinel)
	runtime.SetFinalizer(s, func(*sentinel) { watch() })
}

// watch runs in the finalizer goroutine after each cycle: it sets the
// percent from the live heap the cycle found and re-arms, until Set(0).
func watch() {
	mu.Lock()
	defer mu.Unlock()
	if floor == 0 {
		armed = false
		return
	}
	debug.SetGCPercent(Percent(floor, liveHeap()))
	arm()
}

// liveHeap is the heap the last cycle marked live (0 before the first).
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
