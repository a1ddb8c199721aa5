// Package httptimeout bounds each request the API clients (GitHub, Azure
// DevOps) send, so that a host that takes a request and never answers
// cannot hang a command, and says which host did not answer and what to
// do. The bound is per request (a retry gets its own), from
// MAESTRO_HTTP_TIMEOUT.
package httptimeout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// Env names the variable that sets the bound.
const Env = "MAESTRO_HTTP_TIMEOUT"

// Bounds of the timeout: Default without Env; Env must lie in [Min, Max].
const (
	Default = time.Minute
	Min     = time.Second
	Max     = time.Hour
)

// FromEnv reads Env ("" is Default): a Go duration of Min to Max, else an
// invalid-input error naming the variable.
func FromEnv(getenv func(string) string) (time.Duration, error) {
	v := getenv(Env)
	if v == "" {
		return Default, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < Min || d > Max {
		return 0, maestro.Errorf(maestro.KindInvalid, "%s %q: a duration of %s to %s, e.g. 2m (it bounds each request to GitHub and Azure DevOps)", Env, v, Min, Max)
	}
	return d, nil
}

// Error is a request the host did not answer in time. It is a timeout
// (net.Error's Timeout, errors.Is context.DeadlineExceeded), so callers
// that retry transient failures retry it.
type Error struct {
	Method, Host string
	After        time.Duration // the bound
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s did not answer a %s request within %s: check that it is up and reachable from this machine (DNS, proxy, firewall), or allow longer with %s (e.g. %s=5m)",
		e.Host, e.Method, e.After, Env, Env)
}

// Is makes errors.Is(err, context.DeadlineExceeded) true.
func (e *Error) Is(target error) bool { return target == context.DeadlineExceeded }

// Timeout implements net.Error: true.
func (e *Error) Timeout() bool { return true }

// Temporary implements net.Error: true, another attempt may succeed.
func (e *Error) Temporary() bool { return true }

// errHostTimeout is the cause of a request's context when its own bound,
// not the caller's, ended it.
var errHostTimeout = errors.New("host did not answer in time")

// Transport is an http.RoundTripper that bounds each request, its
// response body included, by Timeout; a request the bound ends fails with
// *Error. The caller's own deadline or cancellation passes through as is.
type Transport struct {
	// Base does the work; nil means http.DefaultTransport.
	Base    http.RoundTripper
	Timeout time.Duration
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	ctx, cancel := context.WithTimeoutCause(req.Context(), t.Timeout, errHostTimeout)
	e := &Error{Method: req.Method, Host: req.URL.Host, After: t.Timeout}
	resp, err := base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		if context.Cause(ctx) == errHostTimeout {
			return nil, e
		}
		return nil, err
	}
	resp.Body = &body{ReadCloser: resp.Body, ctx: ctx, cancel: cancel, e: e}
	return resp, nil
}

// body ends the request's bound when it is closed, and reports a read the
// bound cut short as *Error.
type body struct {
	io.ReadCloser
	ctx    context.Context
	cancel context.CancelFunc
	e      *Error
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && context.Cause(b.ctx) == errHostTimeout {
		return n, b.e
	}
	return n, err
}

func (b *body) Close() error {
	defer b.cancel()
	return b.ReadCloser.Close()
}

// Explain rewrites the timeout of an http.Client whose Timeout field
// bounds it (the Azure DevOps client's: its transport cannot be replaced)
// as *Error, naming the host; any other error is returned as is.
func Explain(err error, timeout time.Duration) error {
	var ue *url.Error
	if err == nil || errors.As(err, new(*Error)) || !errors.As(err, &ue) || !ue.Timeout() || !strings.Contains(ue.Err.Error(), "Client.Timeout") {
		return err
	}
	host := ue.URL
	if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
		host = u.Host
	}
	return fmt.Errorf("%w (%v)", &Error{Method: strings.ToUpper(ue.Op), Host: host, After: timeout}, err)
}
