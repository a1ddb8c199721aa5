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
	"strings"
	"sync"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/redact"
)

// maxJSON bounds a feed document gather-drop reads (service index,
// registration, catalog leaf).
const maxJSON = 16 << 20

// DefaultParallel is how many files are downloaded at once.
const DefaultParallel = 4

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

	mu     sync.Mutex
	feeds  map[string]*feed
	client *http.Client
}

// Event reports one file done.
type Event struct {
	Done, Total int
	Entry       Entry
	// Present: the file was there from an earlier run and was kept.
	Present bool
	Err     error
}

// Gather gathers every item, Parallel at a time, and returns the entries of
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

// one gathers one item from the first of its locations that has it.
func (g *Gatherer) one(ctx context.Context, it Item) (Entry, bool, error) {
	final := filepath.Join(g.Dir, filepath.FromSlash(it.Path))
	var tried []string
	for _, loc := range it.Locations {
		srcs, err := g.sources(it, loc)
		if err != nil {
			tried = append(tried, err.Error())
			continue
		}
		for _, src := range srcs {
			want, err := src.Checksum(ctx)
			if errors.Is(err, errNotFound) {
				tried = append(tried, src.String()+": not found")
				continue
			}
			if err != nil {
				return Entry{}, false, fmt.Errorf("%s: %w", src.String(), g.clean(err))
			}
			if e, ok, err := g.present(final, it, src, want); err != nil || ok {
				return e, ok, err
			}
			e, err := g.download(ctx, final, it, src, want)
			if errors.Is(err, errNotFound) {
				tried = append(tried, src.String()+": not found")
				continue
			}
			return e, false, err
		}
	}
	if len(it.Locations) == 0 {
		return Entry{}, false, maestro.Errorf(maestro.KindNotFound, "the registry records no location for it")
	}
	return Entry{}, false, maestro.Errorf(maestro.KindNotFound, "no recorded location has it (%s)", strings.Join(tried, "; "))
}

// present reports whether final holds the file from an earlier run: there,
// and matching want when the source gives a checksum.
func (g *Gatherer) present(final string, it Item, src source, want *Checksum) (Entry, bool, error) {
	f, err := os.Open(final)
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
		return Entry{}, false, fmt.Errorf("read %s: %w", final, err)
	}
	if want != nil && !want.Equal(h.sum(want.Algorithm)) {
		return Entry{}, false, nil // changed since: download it again
	}
	return Entry{Item: it.Public(), Source: src.String(), Size: size, SHA256: hex.EncodeToString(h.sha256.Sum(nil)), Verified: want}, true, nil
}

// download reads src to a temporary file beside final, checks its size and
// checksums, and renames it to final.
func (g *Gatherer) download(ctx context.Context, final string, it Item, src source, want *Checksum) (Entry, error) {
	body, size, got, err := src.Open(ctx)
	if err != nil {
		if errors.Is(err, errNotFound) {
			return Entry{}, err
		}
		return Entry{}, fmt.Errorf("download %s: %w", src.String(), g.clean(err))
	}
	defer body.Close()
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return Entry{}, err
	}
	tmp := final + partialSuffix
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return Entry{}, err
	}
	keep := false
	defer func() {
		if !keep {
			f.Close()
			os.Remove(tmp)
		}
	}()
	h := newHashes()
	n, err := io.Copy(io.MultiWriter(f, h), body)
	if err != nil {
		return Entry{}, fmt.Errorf("download %s: %w", src.String(), g.clean(err))
	}
	if size >= 0 && n != size {
		return Entry{}, fmt.Errorf("download %s: %d bytes arrived of %d", src.String(), n, size)
	}
	for _, c := range []*Checksum{want, got} {
		if c != nil && !c.Equal(h.sum(c.Algorithm)) {
			return Entry{}, fmt.Errorf("checksum mismatch: %s says %s, the %d bytes downloaded from %s have %s; the file was not kept",
				c.From, c, n, src.String(), h.sum(c.Algorithm))
		}
	}
	if err := f.Sync(); err != nil {
		return Entry{}, err
	}
	if err := f.Close(); err != nil {
		return Entry{}, err
	}
	keep = true
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return Entry{}, err
	}
	verified := want
	if verified == nil {
		verified = got
	}
	return Entry{Item: it.Public(), Source: src.String(), Size: n, SHA256: hex.EncodeToString(h.sha256.Sum(nil)), Verified: verified}, nil
}

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
		g.client = &http.Client{Transport: &redact.Transport{Base: &authTransport{base: base, g: g}, Secrets: g.Credentials.Secrets}}
	}
	return g.client
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

// get sends a GET to u (with its container's SAS, if any); 404 is
// errNotFound, any other status but 200 an error naming it.
func (g *Gatherer) get(ctx context.Context, u *url.URL) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.withSAS(u).String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := g.httpClient().Do(req)
	if err != nil {
		return nil, g.clean(err)
	}
	if resp.StatusCode == http.StatusNotFound {
		resp.Body.Close()
		return nil, errNotFound
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			hint = " (set MAESTRO_AZDO_TOKEN for an Azure DevOps feed, MAESTRO_BLOB_SAS_URLS for a private container)"
		}
		return nil, fmt.Errorf("GET %s: HTTP %d%s", u, resp.StatusCode, hint)
	}
	return resp, nil
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
