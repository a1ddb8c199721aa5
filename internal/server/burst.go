package server

import "time"

// Intake first. Accepting a delivery has a deadline and processing it has
// none: GitHub gives up on a delivery after 10 seconds and does not send it
// again by itself, while an accepted event waits safely in the store. Both
// run on the same cores and the same disk, so during a burst of deliveries
// a replica processes events slowly and accepts them quickly:
//
//   - A replica is in a burst while its intake accepts at least burstRate
//     deliveries a second, measured over windows of burstWindow.
//   - During a burst its dispatcher hands a worker at most one event per
//     burstHandout, lists the queue at most once per burstRelist, and
//     looks for work only when something changed for it (a listing, a
//     worker done, the next hand-out allowed), not at each delivery.
//   - So processing goes on during a burst, at up to 1 / burstHandout
//     events a second: the oldest events still move (a check that merges a
//     pull request is not held until the burst ends), but they no longer
//     take the cores from intake. When a window falls below burstRate the
//     dispatcher goes back to full speed.
//
// Ordering, claims and exactly-once processing are those of dispatch and
// due; a burst only changes when a pass runs and how much it hands out.
// On the 2-core benchmark machine, processing a burst's events as they
// came (each a record created and fsync'd) raised intake's p99 at 5,000
// deliveries/s from about 25 ms to 70 ms (docs/performance.md).
const (
	// burstRate is the intake rate, in deliveries a second on this
	// replica, at which it is in a burst. A busy organization's webhooks
	// send tens a second.
	burstRate = 1000
	// burstWindow is how long each measurement of the intake rate spans.
	burstWindow = 100 * time.Millisecond
	// burstHandout is the least time between two events handed to workers
	// during a burst.
	burstHandout = 10 * time.Millisecond
	// burstRelist is the least time between two listings of the queue
	// during a burst.
	burstRelist = time.Second
)

// burstMeter tells from the count of deliveries a replica accepted whether
// its intake is in a burst. Only the dispatcher uses it.
type burstMeter struct {
	start time.Time // the current window's start; zero before the first look
	count int64     // accepted deliveries at start
	burst bool      // the last full window's verdict
}

// observe takes the count of deliveries accepted so far, at now, and
// reports whether intake is in a burst: whether the last window that ended
// took at least burstRate deliveries a second. A window spans from one look
// to the first look burstWindow or more later, so a dispatcher that did
// not look for long measures the mean rate over that time.
func (m *burstMeter) observe(now time.Time, count int64) bool {
	if m.start.IsZero() {
		m.start, m.count = now, count
		return false
	}
	if d := now.Sub(m.start); d >= burstWindow {
		m.burst = (count-m.count)*int64(time.Second) >= burstRate*int64(d)
		m.start, m.count = now, count
	}
	return m.burst
}
