package service

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
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
)

// retryDelay is the wait after failed attempt n (1-based).
func retryDelay(n int) time.Duration {
	return firstRetry << min(max(n-1, 0), 10)
}

// gitHTTPStatus finds the status git reports for a failed HTTP request.
var gitHTTPStatus = regexp.MustCompile(`returned error: (429|5\d\d)\b`)

// Retryable reports whether err is a host's transient failure worth another
// attempt — HTTP 429 or 5xx from the GitHub or Azure DevOps API or from git,
// a rate limit, a timeout, an unreachable host — and how long the host asked
// to wait (Retry-After, or the rate limit's reset), if it did.
func Retryable(err error, now time.Time) (after time.Duration, ok bool) {
	if err == nil {
		return 0, false
	}
	var rate *gh.RateLimitError
	if errors.As(err, &rate) {
		return rate.Rate.Reset.Sub(now), true
	}
	var abuse *gh.AbuseRateLimitError
	if errors.As(err, &abuse) {
		if abuse.RetryAfter != nil {
			return *abuse.RetryAfter, true
		}
		return 0, true
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
