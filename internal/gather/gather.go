package gather

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/redact"
)

// maxJSON bounds a feed document gather-drop reads (service index,
// registration, catalog leaf).
const maxJSON = 16 << 20

// Defaults of a Gatherer.
const (
	DefaultParallel    = 4 // files downloaded at once
	DefaultIdleTimeout = 2 * time.Minute
	DefaultRetryDelay  = 500 * time.Millisecond
	retries            = 3 // of a feed request, after the first attempt
)

// Credentials are what requests carry, from the environment only.
type Credentials struct {
	// Authorization returns the Authorization header for a feed request
	// to u, "" for none; nil sends none anywhere.
	Authorization func(u *url.URL) string
	// SAS are the containers to read with a shared access signature.
	SAS []ContainerSAS
	// Secrets are further literal values no message may show.
	Secrets []string
}

// ContainerSAS is a container URL (no query) and the SAS query to read its
// blobs with.
type ContainerSAS struct {
	Container *url.URL
	Query     string
}

// ParseSASURLs reads container URLs with their SAS query, separated by
// white space (MAESTRO_BLOB_SAS_URLS). Errors name the entry without its
// query.
func ParseSASURLs(raw string) ([]ContainerSAS, []string, error) {
	var out []ContainerSAS
	var secrets []string
	for _, f := range strings.Fields(raw) {
		u, err := url.Parse(f)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return nil, nil, fmt.Errorf("%q is not an https container URL with a SAS query", redact.String(f))
		}
		if u.RawQuery == "" || u.Query().Get("sig") == "" {
			return nil, nil, fmt.Errorf("%s has no SAS query (?sv=...&sig=...)", u.Redacted())
		}
		if strings.Trim(u.Path, "/") == "" {
			return nil, nil, fmt.Errorf("%s names no container", u.Scheme+"://"+u.Host)
		}
		q := u.RawQuery
		secrets = append(secrets, q, u.Query().Get("sig"))
		u.RawQuery, u.Fragment = "", ""
		u.Path = strings.TrimSuffix(u.Path, "/")
		out = append(out, ContainerSAS{Container: u, Query: q})
	}
	return out, secrets, nil
}

// Gatherer downloads the items of a plan into a drop.
type Gatherer struct {
	// Dir is the drop's folder (made by Open).
	Dir string
	// HTTP does the requests; nil means a client over http.DefaultTransport.
	// Errors are redacted in any case.
	HTTP        *http.Client
	Credentials Credentials
	// Parallel bounds the downloads in flight; 0 means DefaultParallel.
	Parallel int
	// Progress, if set, is told about each file as it is done (one call at
	// a time).
	Progress func(Event)
	// IdleTimeout ends a download that receives nothing for this long, and
	// a request (a feed document, a blob's properties) whose answer does
	// not begin within it; 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// RetryDelay is the wait before the first retry of a feed request that
	// failed on the network or with 408, 429 or 5xx (doubling after; a
	// Retry-After up to a minute is honoured); 0 means DefaultRetryDelay.
	RetryDelay time.Duration

	mu     sync.Mutex
	feeds  map[string]*feed
	client *http.Client
	// root is the drop, opened once per Gather: every file is read and
	// written through it, so that no link inside the folder leads a write
	// outside it.
	root *os.Root
}

// Event reports one file done.
type Event struct {
	Done, Total int
	Entry       Entry
	// Present: the file was there from an earlier run and was kept.
	Present bool
	Err     error
}

// Gather gathers every item into Dir (which must exist), Parallel at a time, and returns the entries of
// those it gathered, in the items' order. A file already in the drop (from
// an earlier run) is kept when it matches the checksum its source gives, or
// when the source gives none — files reach their final name only complete
// and verified; one that does not match is downloaded again. The error
// joins one error per item that failed, naming the asset and, for a
// download, the URL without credentials; a file whose bytes do not match the
// source's checksum is such an error, and is not kept.
func (g *Gatherer) Gather(ctx context.Context, items []Item) ([]Entry, error) {
	n := g.Parallel
	if n <= 0 {
		n = DefaultParallel
	}
	root, err := os.OpenRoot(g.Dir)
	if err != nil {
		return nil, fmt.Errorf("open the drop: %w", err)
	}
	defer root.Close()
	g.root = root
	entries := make([]*Entry, len(items))
	errs := make([]error, len(items))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	var pmu sync.Mutex
	done := 0
	for i, it := range items {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			e, present, err := g.one(ctx, it)
			if err != nil {
				errs[i] = fmt.Errorf("asset %s %s (build %d): %w", it.Name, it.Version, it.BuildID, err)
			} else {
				entries[i] = &e
			}
			pmu.Lock()
			defer pmu.Unlock()
			done++
			if g.Progress != nil {
				ev := Event{Done: done, Total: len(items), Present: present, Err: errs[i]}
				if entries[i] != nil {
					ev.Entry = *entries[i]
				} else {
					ev.Entry = Entry{Item: it.Public()}
				}
				g.Progress(ev)
			}
		}()
	}
	wg.Wait()
	var out []Entry
	for _, e := range entries {
		if e != nil {
			out = append(out, *e)
		}
	}
	return out, errors.Join(errs...)
}

// one gathers one item from the first of its locations that has it. A
// location that fails (unreachable, refused) is noted and the next one
// tried; a checksum mismatch ends the item's attempts, so that it is
// reported rather than hidden by another location.
func (g *Gatherer) one(ctx context.Context, it Item) (Entry, bool, error) {
	final := filepath.FromSlash(it.Path) // inside g.root
	if len(it.Locations) == 0 {
		return Entry{}, false, maestro.Errorf(maestro.KindNotFound, "the registry records no location for it")
	}
	var tried []string
	failed := false
	for _, loc := range it.Locations {
		srcs, err := g.sources(it, loc)
		if err != nil {
			tried = append(tried, err.Error())
			continue
		}
		for _, src := range srcs {
			want, err := src.Checksum(ctx)
			if err == nil {
				var e Entry
				var ok bool
				if e, ok, err = g.present(final, it, src, want); err == nil && ok {
					return e, true, nil
				}
				if err == nil {
					if e, err = g.download(ctx, final, it, src, want); err == nil {
						return e, false, nil
					}
				}
			}
			var mm *mismatchError
			switch {
			case errors.As(err, &mm):
				return Entry{}, false, err
			case ctx.Err() != nil:
				return Entry{}, false, ctx.Err()
			case errors.Is(err, errNotFound):
				tried = append(tried, src.String()+": not found")
			default:
				failed = true
				tried = append(tried, fmt.Sprintf("%s: %v", src.String(), g.clean(err)))
			}
		}
	}
	if failed {
		return Entry{}, false, fmt.Errorf("no recorded location could be read (%s)", strings.Join(tried, "; "))
	}
	return Entry{}, false, maestro.Errorf(maestro.KindNotFound, "no recorded location has it (%s)", strings.Join(tried, "; "))
}

// mismatchError is a download whose bytes do not match a checksum.
type mismatchError struct{ msg string }

func (e *mismatchError) Error() string { return e.msg }

// present reports whether final holds the file from an earlier run: there,
// and matching want when the source gives a checksum.
func (g *Gatherer) present(final string, it Item, src source, want *Checksum) (Entry, bool, error) {
	f, err := g.root.Open(final)
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, err
	}
	defer f.Close()
	h := newHashes()
	size, err := io.Copy(h, f)
	if err != nil {
		return Entry{}, false, fmt.Errorf("read %s: %w", it.Path, err)
	}
	if want != nil && !want.Equal(h.sum(want.Algorithm)) {
		return Entry{}, false, nil // changed since: download it again
	}
	return Entry{Item: it.Public(), Source: src.String(), Size: size, SHA256: hex.EncodeToString(h.sha256.Sum(nil)), Verified: want}, true, nil
}

// download reads src to a temporary file beside final, checks its size and
// checksums, and renames it to final.
func (g *Gatherer) download(ctx context.Context, final string, it Item, src source, want *Checksum) (Entry, error) {
	idle := g.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	dctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stalled := fmt.Errorf("no data for %s", idle)
	timer := time.AfterFunc(idle, func() { cancel(stalled) })
	defer timer.Stop()
	body, size, got, err := src.Open(dctx)
	if err != nil {
		if context.Cause(dctx) == stalled {
			return Entry{}, stalled
		}
		return Entry{}, err
	}
	defer body.Close()
	if err := g.root.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return Entry{}, err
	}
	tmp := final + partialSuffix
	f, err := g.root.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return Entry{}, err
	}
	keep := false
	defer func() {
		if !keep {
			f.Close()
			g.root.Remove(tmp)
		}
	}()
	h := newHashes()
	n, err := io.Copy(io.MultiWriter(f, h), readerFunc(func(p []byte) (int, error) {
		timer.Reset(idle)
		return body.Read(p)
	}))
	if err != nil {
		if context.Cause(dctx) == stalled {
			return Entry{}, fmt.Errorf("download: %w", stalled)
		}
		return Entry{}, fmt.Errorf("download: %w", err)
	}
	timer.Stop()
	if size >= 0 && n != size {
		return Entry{}, fmt.Errorf("download: %d bytes arrived of %d", n, size)
	}
	for _, c := range []*Checksum{want, got} {
		if c != nil && !c.Equal(h.sum(c.Algorithm)) {
			return Entry{}, &mismatchError{fmt.Sprintf("checksum mismatch: %s says %s, the %d bytes downloaded from %s have %s; the file was not kept",
				c.From, c, n, src.String(), h.sum(c.Algorithm))}
		}
	}
	if err := f.Sync(); err != nil {
		return Entry{}, err
	}
	if err := f.Close(); err != nil {
		return Entry{}, err
	}
	keep = true
	if err := g.root.Rename(tmp, final); err != nil {
		g.root.Remove(tmp)
		return Entry{}, err
	}
	verified := want
	if verified == nil {
		verified = got
	}
	return Entry{Item: it.Public(), Source: src.String(), Size: n, SHA256: hex.EncodeToString(h.sha256.Sum(nil)), Verified: verified}, nil
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// hashes computes every digest a source may give, in one pass.
type hashes struct {
	io.Writer
	sha512, sha256, md5 hash.Hash
}

func newHashes() *hashes {
	h := &hashes{sha512: sha512.New(), sha256: sha256.New(), md5: md5.New()}
	h.Writer = io.MultiWriter(h.sha512, h.sha256, h.md5)
	return h
}

func (h *hashes) sum(alg string) *Checksum {
	var v []byte
	switch alg {
	case SHA512:
		v = h.sha512.Sum(nil)
	case SHA256:
		v = h.sha256.Sum(nil)
	case MD5:
		v = h.md5.Sum(nil)
	}
	return &Checksum{Algorithm: alg, Value: v}
}

// httpClient is the client every request goes through: g.HTTP's, or the
// default transport's, behind a redacting transport that adds the
// credentials.
func (g *Gatherer) httpClient() *http.Client {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.client == nil {
		base := http.DefaultTransport
		if g.HTTP != nil && g.HTTP.Transport != nil {
			base = g.HTTP.Transport
		}
		idle := g.IdleTimeout
		if idle <= 0 {
			idle = DefaultIdleTimeout
		}
		base = &headerTimeout{base: base, after: idle}
		g.client = &http.Client{Transport: &redact.Transport{Base: &authTransport{base: base, g: g}, Secrets: g.Credentials.Secrets}}
	}
	return g.client
}

// headerTimeout cancels a request whose response has not begun within
// after: the clients have no timeout of their own, and a host that takes a
// request and never answers would hang the run (a download's body has its
// own idle timer, see download). The request's context lives until its
// body is closed.
type headerTimeout struct {
	base  http.RoundTripper
	after time.Duration
}

func (t *headerTimeout) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	silent := fmt.Errorf("no answer within %s", t.after)
	timer := time.AfterFunc(t.after, func() { cancel(silent) })
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	timer.Stop()
	if err != nil {
		if context.Cause(ctx) == silent {
			u := url.URL{Scheme: req.URL.Scheme, Host: req.URL.Host, Path: req.URL.Path} // no SAS, no user info
			err = fmt.Errorf("%s %s: %w", req.Method, u.String(), silent)
		}
		cancel(nil)
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: func() { cancel(nil) }}
	return resp, nil
}

// cancelOnClose ends a request's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel func()
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// authTransport adds a feed's Authorization header and a container's SAS.
type authTransport struct {
	base http.RoundTripper
	g    *Gatherer
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.g.Credentials.Authorization != nil && req.Header.Get("Authorization") == "" {
		if a := t.g.Credentials.Authorization(req.URL); a != "" {
			req = req.Clone(req.Context())
			req.Header.Set("Authorization", a)
		}
	}
	return t.base.RoundTrip(req)
}

// withSAS returns u with the SAS of the container it lies in, if any.
func (g *Gatherer) withSAS(u *url.URL) *url.URL {
	for _, s := range g.Credentials.SAS {
		c := s.Container
		if strings.EqualFold(u.Scheme, c.Scheme) && strings.EqualFold(u.Host, c.Host) && strings.HasPrefix(u.Path, c.Path+"/") {
			v := *u
			v.RawQuery = s.Query
			return &v
		}
	}
	return u
}

// clean redacts an error: URLs with a SAS, tokens, the configured secrets.
func (g *Gatherer) clean(err error) error {
	return redact.Error(err, g.Credentials.Secrets...)
}

// get sends a GET to u (with its container's SAS, if any), retrying a
// network failure or a 408, 429 or 5xx answer; 404 is errNotFound, any
// other status but 200 an error naming it.
func (g *Gatherer) get(ctx context.Context, u *url.URL) (*http.Response, error) {
	delay := g.RetryDelay
	if delay <= 0 {
		delay = DefaultRetryDelay
	}
	for attempt := 0; ; attempt++ {
		resp, err := g.getOnce(ctx, u)
		var re *retryable
		if !errors.As(err, &re) || attempt == retries || ctx.Err() != nil {
			if re != nil {
				return nil, re.err
			}
			return resp, err
		}
		wait := delay << attempt
		if re.after > 0 {
			wait = min(re.after, time.Minute)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// retryable is a failure worth another attempt, after at least after.
type retryable struct {
	err   error
	after time.Duration
}

func (e *retryable) Error() string { return e.err.Error() }

func (g *Gatherer) getOnce(ctx context.Context, u *url.URL) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.withSAS(u).String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := g.httpClient().Do(req)
	if err != nil {
		return nil, &retryable{err: g.clean(err)}
	}
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
		return resp, nil
	case code == http.StatusNotFound:
		resp.Body.Close()
		return nil, errNotFound
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		resp.Body.Close()
		after := time.Duration(0)
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			after = time.Duration(s) * time.Second
		}
		return nil, &retryable{err: fmt.Errorf("GET %s: HTTP %d", u, code), after: after}
	default:
		resp.Body.Close()
		hint := ""
		if code == http.StatusUnauthorized || code == http.StatusForbidden {
			hint = " (set MAESTRO_AZDO_TOKEN for an Azure DevOps feed, MAESTRO_BLOB_SAS_URLS for a private container)"
		}
		return nil, fmt.Errorf("GET %s: HTTP %d%s", u, code, hint)
	}
}

// getJSON reads a feed document.
func (g *Gatherer) getJSON(ctx context.Context, u *url.URL) ([]byte, error) {
	resp, err := g.get(ctx, u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxJSON+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, g.clean(err))
	}
	if len(data) > maxJSON {
		return nil, fmt.Errorf("GET %s: the document is over %d bytes", u, maxJSON)
	}
	return data, nil
}

func decodeBase64(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.TrimSpace(s))
}
