package service_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
