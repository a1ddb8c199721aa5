package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
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

// FuzzMessageAsWriteJSON: message answers exactly what writeJSON of
// {"message": msg} answers: status, content type and body, byte for byte.
func FuzzMessageAsWriteJSON(f *testing.F) {
	for _, msg := range []string{"accepted", "", `event "x" acknowledged; maestro does not act on it`, "a<b>&c", "\x00\x1f\u2028\xff", "ünï"} {
		f.Add(msg)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		want, got := httptest.NewRecorder(), httptest.NewRecorder()
		writeJSON(want, http.StatusAccepted, map[string]string{"message": msg})
		message(got, http.StatusAccepted, msg)
		assert.Equal(t, want.Code, got.Code)
		assert.Equal(t, want.Header(), got.Header())
		assert.Equal(t, want.Body.String(), got.Body.String())
	})
}
