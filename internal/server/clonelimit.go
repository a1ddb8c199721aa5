package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Requests that clone target branches — GET /api/flow/explain/{buildId}
// and GET /api/flow/health, and the site's pages that answer through them
// — are bounded per replica: at most Config.CloneRequests run at once.
// Each clones one or more branches (seconds of CPU, disk and network
// apiece), and the replica also takes webhooks and processes events, so a
// burst of them must not take the machine.
//
// A request over the bound waits up to CloneWait (less if its own bound,
// requestTimeout, or its client ends first) for a running one to finish,
// so a dashboard that loads two pages at once is not refused; then it is
// answered 503 {"message"} with Retry-After: CloneRetryAfter seconds,
// having started no git. It never queues for longer: a client that waits
// for minutes behind others' clones, only to be cut short by its own
// timeout, is worse served than one told at once to come back. The bound
// is taken after the request's input is checked (a bad parameter is 400,
// whatever the load).
const (
	// CloneWait is how long a request over the bound waits for a slot.
	CloneWait = 2 * time.Second
	// CloneRetryAfter is the Retry-After of a request refused for the bound.
	CloneRetryAfter = 5 * time.Second
)

// cloneSlot takes one of the replica's Config.CloneRequests slots, waiting
// up to CloneWait (bounded by ctx), and returns its release; over the
// bound it returns a 503 statusError with Retry-After.
func (s *Server) cloneSlot(ctx context.Context) (release func(), err error) {
	select {
	case s.clones <- struct{}{}:
		return func() { <-s.clones }, nil
	default:
	}
	wait := time.NewTimer(CloneWait)
	defer wait.Stop()
	select {
	case s.clones <- struct{}{}:
		return func() { <-s.clones }, nil
	case <-wait.C:
	case <-ctx.Done():
	}
	return nil, &statusError{code: http.StatusServiceUnavailable, retryAfter: CloneRetryAfter,
		msg: fmt.Sprintf("busy: %d requests that clone target branches (explain, health) are running, the most this server runs at once (cloneRequests); try again in %s",
			s.cfg.CloneRequests, CloneRetryAfter)}
}

// setRetryAfter sets the Retry-After header an error asks for.
func setRetryAfter(w http.ResponseWriter, err error) {
	if se, ok := errors.AsType[*statusError](err); ok && se.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(se.retryAfter/time.Second)))
	}
}
