package githubdouble

import (
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// maxBodyChars is the longest body GitHub accepts for an issue, a pull
// request or a comment, in characters (not bytes).
const maxBodyChars = 65536

// bodyTooLong reports whether a pull request, issue or comment body is over
// GitHub's limit of 65,536 characters.
func bodyTooLong(s string) bool {
	return len(s) > maxBodyChars && utf8.RuneCountInString(s) > maxBodyChars
}

// pullBodyTooLong is GitHub's 422 for a pull request body over the limit. The
// resource is "Issue", as GitHub sends it: a pull request's body is its
// issue's body.
func pullBodyTooLong(doc string) *apiError {
	return validationFailed(doc, fieldError{Resource: "Issue", Field: "body", Code: "custom",
		Message: "body is too long (maximum is 65536 characters)"})
}

// commentBodyTooLong is GitHub's 422 for an issue comment body over the
// limit (field "data", code "unprocessable", as GitHub sends it).
func commentBodyTooLong(doc string) *apiError {
	return validationFailed(doc, fieldError{Resource: "IssueComment", Field: "data", Code: "unprocessable",
		Message: "Body is too long (maximum is 65536 characters)"})
}

// Rate limits, as GitHub describes them at
// https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api:
// every user has a primary budget of requests per hour (5,000 for a personal
// access token), reported on every response in x-ratelimit-limit, -remaining,
// -used, -reset (epoch seconds) and -resource; the hour starts with the
// first request. Once the budget is spent, requests answer 403 with
// x-ratelimit-remaining 0 until the reset. A secondary rate limit answers
// 403 with a Retry-After header (seconds). GitHub documents 403 or 429 for
// both; the double answers 403, the status go-github v60 turns into
// *github.RateLimitError and *github.AbuseRateLimitError.
const (
	defaultRateLimit = 5000
	rateWindow       = time.Hour
	docRateLimits    = docsBase + "/using-the-rest-api/rate-limits-for-the-rest-api"
	msgSecondaryRate = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)

// rateWindowState is one user's primary rate-limit window.
type rateWindowState struct {
	used  int
	reset time.Time
}

// secondaryTrip is a pending secondary rate limit: the next n requests are
// refused with Retry-After.
type secondaryTrip struct {
	n          int
	retryAfter time.Duration
}

// SetRateLimit sets every user's primary budget to limit requests per hour
// (the default is 5,000) and starts every user's window afresh: the next
// request opens a window that resets an hour later on the server's clock
// (see WithClock and Clock), and request limit+1 within it answers 403
// "API rate limit exceeded for user ID N." with x-ratelimit-remaining 0,
// which go-github returns as *github.RateLimitError. Only API requests
// count; git transfers do not.
func (s *Server) SetRateLimit(limit int) {
	s.tb.Helper()
	if limit < 0 {
		s.tb.Fatalf("github double: rate limit %d is negative", limit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimit = limit
	s.rateWindows = map[*user]*rateWindowState{}
}

// TripSecondaryRateLimit makes the next n authenticated API requests (of
// any user) answer GitHub's secondary rate limit: 403 "You have exceeded a
// secondary rate limit. ..." with Retry-After set to retryAfter in whole
// seconds (rounded up), which go-github returns as
// *github.AbuseRateLimitError with RetryAfter set. The window is counted in
// requests rather than time so that tests do not sleep; note that go-github
// itself refuses further requests, without sending them, until Retry-After
// has passed on the real clock, so tests pass a short retryAfter (0 is
// allowed). Requests refused this way still count against the primary
// budget, as on GitHub.
func (s *Server) TripSecondaryRateLimit(n int, retryAfter time.Duration) {
	s.tb.Helper()
	if n < 0 || retryAfter < 0 {
		s.tb.Fatalf("github double: secondary rate limit needs n >= 0 and retryAfter >= 0, got %d, %v", n, retryAfter)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secondary = secondaryTrip{n: n, retryAfter: retryAfter}
}

// chargeRate counts an authenticated API request against its user's
// budget, sets the rate-limit headers, and answers 403 when a primary or
// secondary limit refuses the request (reporting whether it did). The caller
// holds s.mu.
func (s *Server) chargeRate(w http.ResponseWriter, u *user) bool {
	now := s.now()
	win := s.rateWindows[u]
	if win == nil || !now.Before(win.reset) {
		win = &rateWindowState{reset: now.Add(rateWindow)}
		s.rateWindows[u] = win
	}
	if win.used >= s.rateLimit {
		setRateHeaders(w.Header(), s.rateLimit, win.used, win.reset)
		writeError(w, newAPIError(http.StatusForbidden,
			"API rate limit exceeded for user ID "+strconv.FormatInt(u.id, 10)+".",
			docRateLimits+"#about-primary-rate-limits"))
		return true
	}
	win.used++
	setRateHeaders(w.Header(), s.rateLimit, win.used, win.reset)
	if s.secondary.n > 0 {
		s.secondary.n--
		secs := int64((s.secondary.retryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		writeError(w, newAPIError(http.StatusForbidden, msgSecondaryRate, docRateLimits+"#about-secondary-rate-limits"))
		return true
	}
	return false
}

// setRateHeaders sets GitHub's primary rate-limit headers.
func setRateHeaders(h http.Header, limit, used int, reset time.Time) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, limit-used)))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
}

// Clock is a settable clock for WithClock: it stands still until a test
// moves it, so that rate-limit windows and timestamps are under the test's
// control. It is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock that reads start until it is moved.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
