package service

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// Retry policy of pending work.
const (
	// MaxAttempts bounds the attempts at one update that hosts keep failing
	// (429, 5xx, timeouts); the last failure is recorded as such.
	MaxAttempts = 5
	// firstRetry is the wait after the first failed attempt; it doubles
	// with every further one (1, 2, 4, 8 minutes), or longer when the host
	// asks for it with Retry-After.
	firstRetry = time.Minute
	// checksPoll is how often an update waiting for a pull request's
	// pending checks looks again.
	checksPoll = 5 * time.Minute
	// capPoll is how often an update held back by a repository policy's
	// cap of open pull requests looks again.
	capPoll = 5 * time.Minute
	// minRateWait is the wait after a rate limit whose host named no time
	// (neither Retry-After nor a reset still to come): GitHub asks for at
	// least a minute, then an exponentially growing wait while the limit
	// persists (1, 2, 4, ... minutes).
	minRateWait = time.Minute
	// maxRateWait bounds any wait for a rate limit, the host's own
	// included: GitHub's primary limits reset within the hour, so a longer
	// Retry-After or reset is a clock skew or a fault, and an hour later
	// the update simply asks again.
	maxRateWait = time.Hour
)

// rateDelay is the wait after the n-th attempt in a row (1-based) that a
// host refused for a rate limit, when the host asked for after (zero or
// less: it named no time still to come).
func rateDelay(after time.Duration, n int) time.Duration {
	if after > 0 {
		return min(after, maxRateWait)
	}
	return min(minRateWait<<min(max(n-1, 0), 10), maxRateWait)
}

// retryDelay is the wait after failed attempt n (1-based).
func retryDelay(n int) time.Duration {
	return firstRetry << min(max(n-1, 0), 10)
}

// gitHTTPStatus finds the status git reports for a failed HTTP request.
var gitHTTPStatus = regexp.MustCompile(`returned error: (429|5\d\d)\b`)

// RateLimited reports whether err is a host's rate limit, and how long the
// host asked to wait (zero when it named no time still to come). GitHub
// (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api)
// answers a primary limit with 403 or 429 and x-ratelimit-remaining 0 (wait
// until x-ratelimit-reset), and a secondary limit with 403 or 429 and a
// message that says so (wait Retry-After seconds if present, else until
// x-ratelimit-reset if remaining is 0, else at least a minute). go-github
// v60 turns the 403s into *RateLimitError and *AbuseRateLimitError (also
// without sending a request while a limit it saw lasts); a 429, and a 403
// it did not recognise, stay an *ErrorResponse and are read here from
// their headers. Azure DevOps and git report 429 without the headers. A 403
// with none of these signs (a missing permission) is no rate limit.
func RateLimited(err error, now time.Time) (after time.Duration, ok bool) {
	if err == nil {
		return 0, false
	}
	var rate *gh.RateLimitError
	if errors.As(err, &rate) {
		if rate.Response != nil {
			if d := retryAfter(rate.Response.Header.Get("Retry-After"), now); d > 0 {
				return d, true
			}
		}
		if rate.Rate.Reset.IsZero() {
			return 0, true
		}
		return max(rate.Rate.Reset.Sub(now), 0), true
	}
	var abuse *gh.AbuseRateLimitError
	if errors.As(err, &abuse) {
		if abuse.RetryAfter != nil {
			return max(*abuse.RetryAfter, 0), true
		}
		return 0, true
	}
	var ghErr *gh.ErrorResponse
	if errors.As(err, &ghErr) && ghErr.Response != nil {
		status, h := ghErr.Response.StatusCode, ghErr.Response.Header
		if status != http.StatusForbidden && status != http.StatusTooManyRequests {
			return 0, false
		}
		if d := retryAfter(h.Get("Retry-After"), now); d > 0 {
			return d, true
		}
		if h.Get("X-RateLimit-Remaining") == "0" {
			if reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
				return max(time.Unix(reset, 0).Sub(now), 0), true
			}
			return 0, true
		}
		if status == http.StatusTooManyRequests || h.Get("Retry-After") != "" || strings.Contains(strings.ToLower(ghErr.Message), "rate limit") {
			return 0, true
		}
		return 0, false
	}
	var az azuredevops.WrappedError
	if errors.As(err, &az) && az.StatusCode != nil {
		return 0, *az.StatusCode == http.StatusTooManyRequests
	}
	var azp *azuredevops.WrappedError
	if errors.As(err, &azp) && azp.StatusCode != nil {
		return 0, *azp.StatusCode == http.StatusTooManyRequests
	}
	return 0, gitRateLimit.MatchString(err.Error())
}

// gitRateLimit finds git's report of a 429.
var gitRateLimit = regexp.MustCompile(`returned error: 429\b`)

// Retryable reports whether err is a host's transient failure worth another
// attempt — HTTP 429 or 5xx from the GitHub or Azure DevOps API or from git,
// a rate limit (see RateLimited), a timeout, an unreachable host — and how
// long the host asked to wait (Retry-After, or the rate limit's reset), if
// it did.
func Retryable(err error, now time.Time) (after time.Duration, ok bool) {
	if err == nil {
		return 0, false
	}
	if after, ok := RateLimited(err, now); ok {
		return after, true
	}
	var ghErr *gh.ErrorResponse
	if errors.As(err, &ghErr) && ghErr.Response != nil && transient(ghErr.Response.StatusCode) {
		return retryAfter(ghErr.Response.Header.Get("Retry-After"), now), true
	}
	var az azuredevops.WrappedError
	if errors.As(err, &az) && az.StatusCode != nil && transient(*az.StatusCode) {
		return 0, true
	}
	var azp *azuredevops.WrappedError
	if errors.As(err, &azp) && azp.StatusCode != nil && transient(*azp.StatusCode) {
		return 0, true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return 0, true
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || maestro.KindOf(err) == maestro.KindUnavailable {
		return 0, true
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return 0, true
	}
	return 0, gitHTTPStatus.MatchString(err.Error())
}

func transient(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return t.Sub(now)
	}
	return 0
}
