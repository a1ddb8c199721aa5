package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestStatusOfWorkCutShort: work cut short by the request's bound or by
// its caller going away is 503 (try again), not 500, however wrapped.
func TestStatusOfWorkCutShort(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("explain build 1: git clone stopped: %w (signal: killed)", context.DeadlineExceeded),
		fmt.Errorf("health: %w: %w", context.Canceled, errors.New("git clone: signal: killed")),
	} {
		assert.Equal(t, http.StatusServiceUnavailable, statusOf(err), "%v", err)
	}
	assert.Equal(t, http.StatusInternalServerError, statusOf(errors.New("git clone: exit status 128")))
}
