package service_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	"github.com/stretchr/testify/assert"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/service"
)

func TestRetryable(t *testing.T) {
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	ghErr := func(status int, retryAfter string) error {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		return fmt.Errorf("open pull request: %w", &gh.ErrorResponse{Response: &http.Response{StatusCode: status, Header: h, Request: &http.Request{Method: "POST"}}, Message: "x"})
	}
	code := func(n int) *int { return &n }
	thirty := 30 * time.Second
	tests := []struct {
		name  string
		err   error
		ok    bool
		after time.Duration
	}{
		{"github 500", ghErr(500, ""), true, 0},
		{"github 502", ghErr(502, ""), true, 0},
		{"github 429 Retry-After seconds", ghErr(429, "120"), true, 2 * time.Minute},
		{"github 429 Retry-After date", ghErr(429, at.Add(5*time.Minute).Format(http.TimeFormat)), true, 5 * time.Minute},
		{"github rate limit", &gh.RateLimitError{Rate: gh.Rate{Reset: gh.Timestamp{Time: at.Add(time.Hour)}}}, true, time.Hour},
		{"github secondary rate limit", &gh.AbuseRateLimitError{RetryAfter: &thirty}, true, thirty},
		{"azure devops 503", fmt.Errorf("create pull request: %w", azuredevops.WrappedError{StatusCode: code(503)}), true, 0},
		{"azure devops 429 pointer", fmt.Errorf("queue: %w", &azuredevops.WrappedError{StatusCode: code(429)}), true, 0},
		{"git push 500", errors.New("push darc-main-1 to x: git push: exit status 128: fatal: unable to access 'https://x/': The requested URL returned error: 500"), true, 0},
		{"timeout", fmt.Errorf("clone: %w", context.DeadlineExceeded), true, 0},
		{"unavailable", maestro.Errorf(maestro.KindUnavailable, "store down"), true, 0},
		{"github 404", ghErr(404, ""), false, 0},
		{"github 403 missing permission", ghErr(403, ""), false, 0},
		{"github 403 with Retry-After", ghErr(403, "60"), true, time.Minute},
		{"github 422", ghErr(422, ""), false, 0},
		{"azure devops 401", azuredevops.WrappedError{StatusCode: code(401)}, false, 0},
		{"git 403", errors.New("The requested URL returned error: 403"), false, 0},
		{"bad input", maestro.Errorf(maestro.KindInvalid, "no token"), false, 0},
		{"nil", nil, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after, ok := service.Retryable(tt.err, at)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.after, after)
		})
	}
}

// TestRateLimited: every way GitHub (and go-github v60) reports a primary or
// secondary rate limit is one, with the host's wait; Azure DevOps' and git's
// 429 too; a 403 for a missing permission and other failures are not.
func TestRateLimited(t *testing.T) {
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	resp := func(status int, headers ...string) *http.Response {
		h := http.Header{}
		for i := 0; i+1 < len(headers); i += 2 {
			h.Set(headers[i], headers[i+1])
		}
		return &http.Response{StatusCode: status, Header: h, Request: &http.Request{Method: "POST"}}
	}
	ghErr := func(status int, message string, headers ...string) error {
		return fmt.Errorf("open pull request: %w", &gh.ErrorResponse{Response: resp(status, headers...), Message: message})
	}
	code := func(n int) *int { return &n }
	thirty := 30 * time.Second
	reset := strconv.FormatInt(at.Add(20*time.Minute).Unix(), 10)
	tests := []struct {
		name  string
		err   error
		ok    bool
		after time.Duration
	}{
		{"primary (go-github RateLimitError): until the reset",
			fmt.Errorf("x: %w", &gh.RateLimitError{Rate: gh.Rate{Remaining: 0, Reset: gh.Timestamp{Time: at.Add(time.Hour)}}, Response: resp(403)}), true, time.Hour},
		{"primary, reset passed", &gh.RateLimitError{Rate: gh.Rate{Reset: gh.Timestamp{Time: at.Add(-time.Minute)}}, Response: resp(403)}, true, 0},
		{"primary, no reset", &gh.RateLimitError{Response: resp(403)}, true, 0},
		{"primary with Retry-After", &gh.RateLimitError{Rate: gh.Rate{Reset: gh.Timestamp{Time: at.Add(time.Hour)}}, Response: resp(403, "Retry-After", "90")}, true, 90 * time.Second},
		{"secondary (go-github AbuseRateLimitError) with Retry-After", fmt.Errorf("x: %w", &gh.AbuseRateLimitError{RetryAfter: &thirty, Response: resp(403)}), true, thirty},
		{"secondary without Retry-After", &gh.AbuseRateLimitError{Response: resp(403)}, true, 0},
		{"429 with Retry-After seconds", ghErr(429, "slow down", "Retry-After", "120"), true, 2 * time.Minute},
		{"429 with Retry-After date", ghErr(429, "slow down", "Retry-After", at.Add(5*time.Minute).Format(http.TimeFormat)), true, 5 * time.Minute},
		{"429 primary: remaining 0, reset", ghErr(429, "API rate limit exceeded", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", reset), true, 20 * time.Minute},
		{"429 bare", ghErr(429, "x"), true, 0},
		{"403 with Retry-After", ghErr(403, "You have exceeded a secondary rate limit", "Retry-After", "60"), true, time.Minute},
		{"403 secondary message only", ghErr(403, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."), true, 0},
		{"403 missing permission", ghErr(403, "Resource not accessible by integration"), false, 0},
		{"404", ghErr(404, "Not Found"), false, 0},
		{"500", ghErr(500, "boom", "Retry-After", "60"), false, 0},
		{"azure devops 429", fmt.Errorf("queue: %w", azuredevops.WrappedError{StatusCode: code(429)}), true, 0},
		{"azure devops 429 pointer", &azuredevops.WrappedError{StatusCode: code(429)}, true, 0},
		{"azure devops 503", azuredevops.WrappedError{StatusCode: code(503)}, false, 0},
		{"git 429", errors.New("git push: fatal: unable to access 'https://x/': The requested URL returned error: 429"), true, 0},
		{"git 500", errors.New("git push: The requested URL returned error: 500"), false, 0},
		{"nil", nil, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after, ok := service.RateLimited(tt.err, at)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.after, after)
			if tt.ok {
				_, retry := service.Retryable(tt.err, at)
				assert.True(t, retry, "a rate limit is worth another attempt")
			}
		})
	}
}
