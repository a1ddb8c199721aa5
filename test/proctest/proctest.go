// Package proctest is test tooling for work that must end with its
// context: a host that takes requests and never answers, and the
// processes a test left running.
package proctest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// Silent starts an HTTP server on loopback that takes every request and
// answers none: each waits until its client goes away or the test ends,
// when the server closes.
func Silent(tb testing.TB) *httptest.Server {
	tb.Helper()
	released := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-released:
		}
	}))
	tb.Cleanup(func() { close(released); srv.Close() })
	return srv
}

// Running lists the command lines (arguments joined by spaces) of the
// running processes whose command line contains s; a zombie, whose
// command line is empty, is not running. Linux only (/proc).
func Running(tb testing.TB, s string) []string {
	tb.Helper()
	files, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // exited meanwhile
		}
		line := bytes.ReplaceAll(data, []byte{0}, []byte{' '})
		if bytes.Contains(line, []byte(s)) {
			out = append(out, string(line))
		}
	}
	return out
}
