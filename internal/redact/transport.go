package redact

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
)

// maxErrorBody is how much of an error response Transport reads to redact;
// the rest is dropped. Error responses of the services we call are small.
const maxErrorBody = 1 << 20

// Transport is an http.RoundTripper for API clients (go-github and the like)
// that keeps credentials out of what the client reports: a transport error
// comes back redacted, and the body of an error response (status 400 and
// up), which clients quote in their errors, is redacted before the client
// reads it. The credentials are the request's Authorization header, the
// user info of its URL and Secrets. Successful responses pass untouched, and
// so do compressed ones (Go's transport decompresses what it asked for
// itself; a client that asks for compression on its own is not redacted).
type Transport struct {
	// Base does the work; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Secrets are further literal values to mask.
	Secrets []string
}

// http.Client.Do quotes the request URL (without its password) in its
// errors; a caller whose URLs carry a secret in the query, as a SAS does,
// passes its errors through Error as well.
//
// NewClient returns an http.Client whose transport is a Transport over
// http.DefaultTransport masking secrets.
func NewClient(secrets ...string) *http.Client {
	return &http.Client{Transport: &Transport{Secrets: secrets}}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	secrets := append(AuthorizationSecrets(req.Header.Get("Authorization")), t.Secrets...)
	if u := req.URL.User; u != nil {
		secrets = append(secrets, u.Username())
		if pw, ok := u.Password(); ok {
			secrets = append(secrets, pw)
		}
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		return resp, Error(err, secrets...)
	}
	if resp.StatusCode < 400 || resp.Body == nil || resp.Header.Get("Content-Encoding") != "" {
		return resp, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	if err != nil {
		return nil, Error(err, secrets...)
	}
	clean := []byte(String(string(body), secrets...))
	resp.Body = io.NopCloser(bytes.NewReader(clean))
	resp.ContentLength = int64(len(clean))
	resp.Header.Set("Content-Length", strconv.Itoa(len(clean)))
	return resp, nil
}
