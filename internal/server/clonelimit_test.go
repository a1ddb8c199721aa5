package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/server"
)

// TestCloneRequestsBounded: at most cloneRequests (default 2) requests
// that clone target branches run at once in a replica. Six explain
// requests at once against a git host that never answers: two clone (the
// host sees two requests at most, at any time) until requestTimeout cuts
// them short (503, deadline); the four others wait CloneWait, start no
// git, and are answered 503 busy with Retry-After. While two clones run,
// the site's health page (which answers through the API's health) is
// refused the same way. Once they are done, the slots are free again.
// Before, every request cloned at once.
func TestCloneRequestsBounded(t *testing.T) {
	released := make(chan struct{})
	var inFlight, most, seen atomic.Int32
	hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		seen.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		select {
		case <-r.Context().Done():
		case <-released:
		}
	}))
	t.Cleanup(func() { close(released); hang.Close() })
	base, _, b := serveTargetOn(t, hang.URL, "requestTimeout: 4s\n")
	c := client{t: t, url: base, token: readToken, doc: openAPI(t), cov: &coverage{}}
	explain := "/api/flow/explain/" + itoa(b.ID)

	type answer struct {
		code       int
		message    string
		retryAfter string
		took       time.Duration
	}
	get := func(path string) answer {
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+readToken)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		op, err := c.doc.Match(http.MethodGet, strings.SplitN(path, "?", 2)[0])
		require.NoError(t, err)
		assert.NoError(t, op.CheckResponse(resp.StatusCode, resp.Header, out), "%s answered %d: %s", path, resp.StatusCode, out)
		var m struct{ Message string }
		_ = json.Unmarshal(out, &m)
		return answer{resp.StatusCode, m.Message, resp.Header.Get("Retry-After"), time.Since(start)}
	}

	var wg sync.WaitGroup
	answers := make(chan answer, 6)
	for range 6 {
		wg.Go(func() { answers <- get(explain) })
	}
	// While the two clones hang, the site's health page is refused too.
	require.Eventually(t, func() bool { return inFlight.Load() == 2 }, 3*time.Second, 10*time.Millisecond, "two clones reach the host")
	br := newBrowser(t, base)
	br.signIn(readToken)
	resp, err := br.c.Get(base + "/flow/health")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%s", page)
	assert.Equal(t, "5", resp.Header.Get("Retry-After"))
	assert.Contains(t, string(page), "busy: 2 requests that clone target branches")
	wg.Wait()
	close(answers)

	var busy, cut int
	for a := range answers {
		require.Equal(t, http.StatusServiceUnavailable, a.code, a.message)
		switch {
		case strings.HasPrefix(a.message, "busy: "):
			busy++
			assert.Equal(t, "5", a.retryAfter, "Retry-After: CloneRetryAfter")
			assert.GreaterOrEqual(t, a.took, server.CloneWait, "waited for a slot first")
			assert.Less(t, a.took, 4*time.Second, "answered before the clones end")
		case strings.Contains(a.message, "deadline exceeded"):
			cut++
			assert.Empty(t, a.retryAfter)
		default:
			t.Errorf("unexpected answer: %+v", a)
		}
	}
	assert.Equal(t, 4, busy, "over the bound")
	assert.Equal(t, 2, cut, "within the bound, cut short by requestTimeout")
	assert.Equal(t, int32(2), most.Load(), "the host never saw more than two clones at once")
	assert.Equal(t, int32(2), seen.Load(), "the refused requests started no git")

	// The slots are free again: the next request clones.
	a := get("/api/flow/health")
	assert.Equal(t, http.StatusServiceUnavailable, a.code)
	assert.Contains(t, a.message, "deadline exceeded", "cut short by requestTimeout, not refused")
	assert.Equal(t, int32(3), seen.Load())
}

// TestCloneRequestsConfig: cloneRequests comes from the file, and the
// flag wins; outside 1 to 64 it is refused naming the setting.
func TestCloneRequestsConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(content string) string {
		p := filepath.Join(dir, "serve.yaml")
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	cfg, err := server.LoadConfig("", envOf(nil), server.Flags{})
	require.NoError(t, err)
	assert.Equal(t, server.DefaultCloneRequests, cfg.CloneRequests)
	cfg, err = server.LoadConfig(write("cloneRequests: 3\n"), envOf(nil), server.Flags{})
	require.NoError(t, err)
	assert.Equal(t, 3, cfg.CloneRequests)
	cfg, err = server.LoadConfig(write("cloneRequests: 3\n"), envOf(nil), server.Flags{CloneRequests: 5})
	require.NoError(t, err)
	assert.Equal(t, 5, cfg.CloneRequests)
	for _, n := range []string{"0", "65", "-1"} {
		_, err := server.LoadConfig(write("cloneRequests: "+n+"\n"), envOf(nil), server.Flags{})
		require.Error(t, err, n)
		assert.Contains(t, err.Error(), "cloneRequests "+n+": use 1 to 64")
	}
}
