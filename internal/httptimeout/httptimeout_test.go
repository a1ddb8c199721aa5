package httptimeout_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/httptimeout"
)

// silent is a loopback server that takes requests and never answers; with
// headers, it answers the status line and headers, then never the body.
func silent(t *testing.T, headers bool) *httptest.Server {
	t.Helper()
	released := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if headers {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("{"))
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-released:
		}
	}))
	t.Cleanup(func() { close(released); s.Close() })
	return s
}

func TestTransportBoundsARequestThatIsNeverAnswered(t *testing.T) {
	for _, headers := range []bool{false, true} {
		name := map[bool]string{false: "no answer", true: "no body"}[headers]
		t.Run(name, func(t *testing.T) {
			s := silent(t, headers)
			c := &http.Client{Transport: &httptimeout.Transport{Timeout: 300 * time.Millisecond}}
			start := time.Now()
			resp, err := c.Get(s.URL + "/repos/dotnet/runtime")
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			took := time.Since(start)
			require.Error(t, err)
			var he *httptimeout.Error
			require.ErrorAs(t, err, &he)
			host := strings.TrimPrefix(s.URL, "http://")
			assert.Equal(t, host, he.Host)
			assert.Contains(t, err.Error(), host+" did not answer a GET request within 300ms")
			assert.Contains(t, err.Error(), "MAESTRO_HTTP_TIMEOUT")
			assert.ErrorIs(t, err, context.DeadlineExceeded, "a timeout, retried as transient")
			var ne net.Error
			require.ErrorAs(t, err, &ne)
			assert.True(t, ne.Timeout())
			assert.GreaterOrEqual(t, took, 300*time.Millisecond)
			assert.Less(t, took, 5*time.Second)
		})
	}
}

// TestTransportLeavesTheCallersDeadline: the caller's own cancellation is
// reported as it is, not as the host's silence; an answered request is
// untouched, its body readable after the bound's time as long as it came.
func TestTransportLeavesTheCallersDeadline(t *testing.T) {
	s := silent(t, false)
	c := &http.Client{Transport: &httptimeout.Transport{Timeout: time.Minute}}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", s.URL, nil)
	require.NoError(t, err)
	_, err = c.Do(req)
	require.Error(t, err)
	assert.False(t, errors.As(err, new(*httptimeout.Error)), "%v", err)

	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("fine")) }))
	defer ok.Close()
	c = &http.Client{Transport: &httptimeout.Transport{Timeout: 200 * time.Millisecond}}
	resp, err := c.Get(ok.URL)
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err, "a body that arrived in time stays readable")
	assert.Equal(t, "fine", string(body))
}

// TestExplainNamesTheHost: an http.Client's own Timeout (the Azure DevOps
// client's) becomes *Error naming the host; other errors stay.
func TestExplainNamesTheHost(t *testing.T) {
	s := silent(t, false)
	c := &http.Client{Timeout: 200 * time.Millisecond}
	_, err := c.Get(s.URL + "/dnceng/_apis/ResourceAreas")
	require.Error(t, err)
	ex := httptimeout.Explain(err, 200*time.Millisecond)
	var he *httptimeout.Error
	require.ErrorAs(t, ex, &he)
	assert.Equal(t, strings.TrimPrefix(s.URL, "http://"), he.Host)
	assert.Equal(t, "GET", he.Method)
	assert.Contains(t, ex.Error(), "MAESTRO_HTTP_TIMEOUT")
	other := errors.New("404 Not Found")
	assert.Equal(t, other, httptimeout.Explain(other, time.Second))
	assert.NoError(t, httptimeout.Explain(nil, time.Second))
}

func TestFromEnv(t *testing.T) {
	for _, tt := range []struct {
		v       string
		want    time.Duration
		wantErr bool
	}{{"", httptimeout.Default, false}, {"2m", 2 * time.Minute, false}, {"1s", time.Second, false}, {"1h", time.Hour, false},
		{"500ms", 0, true}, {"2h", 0, true}, {"soon", 0, true}, {"-1m", 0, true}} {
		t.Run(tt.v, func(t *testing.T) {
			d, err := httptimeout.FromEnv(func(k string) string {
				if k == httptimeout.Env {
					return tt.v
				}
				return ""
			})
			if tt.wantErr {
				assert.ErrorContains(t, err, "MAESTRO_HTTP_TIMEOUT")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, d)
		})
	}
}
