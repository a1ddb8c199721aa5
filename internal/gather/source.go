package gather

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/redact"
)

// errNotFound is a source that does not have the file (HTTP 404).
var errNotFound = errors.New("not found")

// source is one place a file may be read from.
type source interface {
	// Checksum returns the digest the source gives for the file without
	// downloading it (nil when it gives none), or errNotFound.
	Checksum(ctx context.Context) (*Checksum, error)
	// Open starts reading the file: its body, its size (-1 if unknown) and
	// a digest the response carries (nil when none), or errNotFound.
	Open(ctx context.Context) (io.ReadCloser, int64, *Checksum, error)
	// String is the source's URL without credentials or query.
	String() string
}

// sources returns the places loc may hold it's file from, or why it holds
// none gather-drop can read.
func (g *Gatherer) sources(it Item, loc maestro.AssetLocation) ([]source, error) {
	raw := strings.TrimSpace(loc.Location)
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("location %q is not a URL", redact.String(raw))
	}
	if u.User != nil {
		return nil, fmt.Errorf("location %s carries credentials in the URL; gather-drop takes them from the environment only", redact.String(raw))
	}
	u.RawQuery, u.Fragment = "", ""
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" && scheme != "file" {
		return nil, fmt.Errorf("location %s: only https, http and file URLs are read", redact.String(raw))
	}
	isFeed := loc.Type == maestro.LocationNuGetFeed || strings.HasSuffix(strings.ToLower(u.Path), "/index.json")
	if it.Kind == KindPackage && isFeed {
		if scheme == "file" {
			return nil, fmt.Errorf("feed %s: a NuGet feed is read over https", u)
		}
		return []source{&nugetSource{g: g, feed: u, id: it.Name, version: it.Version}}, nil
	}
	if loc.Type == maestro.LocationNuGetFeed {
		return nil, fmt.Errorf("feed %s holds packages, and %s is a blob", u, it.Name)
	}
	if strings.Contains(u.Path, "/_apis/build/builds/") {
		return nil, fmt.Errorf("location %s is an Azure DevOps build's artifacts, which gather-drop does not read", u)
	}
	file := it.Name
	if it.Kind == KindPackage {
		file = it.Name + "." + it.Version + ".nupkg"
	}
	base := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/index.json"), "/")
	var paths []string
	if strings.HasSuffix(strings.ToLower(base), "/"+strings.ToLower(file)) {
		paths = []string{base} // the location is the file itself (publish --upload records these)
	} else {
		paths = []string{base + "/" + file}
		if it.Kind == KindBlob && !strings.HasPrefix(it.Name, "assets/") {
			paths = append(paths, base+"/assets/"+file) // where PushToBlobFeed put blobs
		}
	}
	var out []source
	for _, p := range paths {
		v := *u
		v.Path, v.RawPath = p, ""
		if scheme == "file" {
			out = append(out, fileSource{path: v.Path})
		} else {
			out = append(out, &blobSource{g: g, u: &v})
		}
	}
	return out, nil
}

// nugetSource is a package in a NuGet v3 feed: its .nupkg from the feed's
// PackageBaseAddress, its hash from the registration's catalog entry (or the
// catalog leaf it names) when the feed has them.
type nugetSource struct {
	g           *Gatherer
	feed        *url.URL
	id, version string
	pkg         *url.URL
}

func (s *nugetSource) String() string {
	if s.pkg != nil {
		return s.pkg.String()
	}
	return s.feed.String()
}

// feed is a service index read once per run.
type feed struct {
	once               sync.Once
	content, registers *url.URL
	err                error
}

func (g *Gatherer) feed(ctx context.Context, u *url.URL) (*feed, error) {
	g.mu.Lock()
	if g.feeds == nil {
		g.feeds = map[string]*feed{}
	}
	f, ok := g.feeds[u.String()]
	if !ok {
		f = &feed{}
		g.feeds[u.String()] = f
	}
	g.mu.Unlock()
	f.once.Do(func() {
		data, err := g.getJSON(ctx, u)
		if err != nil {
			f.err = fmt.Errorf("read the service index %s: %w", u, err)
			return
		}
		idx, err := ParseServiceIndex(data)
		if err != nil {
			f.err = fmt.Errorf("%s: %w", u, err)
			return
		}
		var found bool
		if f.content, found = idx.Resource(u, packageBaseAddressTypes...); !found {
			f.err = fmt.Errorf("%s: the feed has no PackageBaseAddress/3.0.0 resource to download packages from", u)
			return
		}
		f.registers, _ = idx.Resource(u, registrationTypes...)
	})
	return f, f.err
}

func (s *nugetSource) Checksum(ctx context.Context) (*Checksum, error) {
	f, err := s.g.feed(ctx, s.feed)
	if err != nil {
		return nil, err
	}
	s.pkg = PackageURL(f.content, s.id, s.version)
	if f.registers == nil {
		return nil, nil
	}
	reg := RegistrationURL(f.registers, s.id)
	entry, ok, err := s.g.catalogEntry(ctx, reg, s.version)
	if errors.Is(err, errNotFound) || (err == nil && !ok) {
		return nil, nil // not registered (yet): the package content decides
	}
	if err != nil {
		return nil, err
	}
	if entry.PackageHash == "" && entry.ID != "" {
		leaf, err := reg.Parse(entry.ID)
		if err == nil && (leaf.Scheme == "https" || leaf.Scheme == "http") && leaf.String() != reg.String() {
			data, err := s.g.getJSON(ctx, leaf)
			if err != nil && !errors.Is(err, errNotFound) {
				return nil, fmt.Errorf("read the catalog leaf %s: %w", leaf, err)
			}
			if err == nil {
				if c, err := ParseCatalogEntry(data); err == nil {
					entry = c
				}
			}
		}
	}
	c, err := entry.Checksum()
	if err != nil {
		return nil, fmt.Errorf("registration %s, version %s: %w", reg, s.version, err)
	}
	return c, nil
}

// catalogEntry finds version in a registration index, reading the pages
// the index does not inline.
func (g *Gatherer) catalogEntry(ctx context.Context, reg *url.URL, version string) (CatalogEntry, bool, error) {
	data, err := g.getJSON(ctx, reg)
	if err != nil {
		return CatalogEntry{}, false, err
	}
	idx, err := ParseRegistration(data)
	if err != nil {
		return CatalogEntry{}, false, fmt.Errorf("%s: %w", reg, err)
	}
	for _, p := range idx.Items {
		if p.Items == nil && p.ID != "" {
			pu, err := reg.Parse(p.ID)
			if err != nil {
				continue
			}
			data, err := g.getJSON(ctx, pu)
			if err != nil {
				return CatalogEntry{}, false, fmt.Errorf("read registration page %s: %w", pu, err)
			}
			page, err := ParseRegistrationPage(data)
			if err != nil {
				return CatalogEntry{}, false, fmt.Errorf("%s: %w", pu, err)
			}
			p = page
		}
		if e, ok := p.Find(version); ok {
			return e, true, nil
		}
	}
	return CatalogEntry{}, false, nil
}

func (s *nugetSource) Open(ctx context.Context) (io.ReadCloser, int64, *Checksum, error) {
	if s.pkg == nil {
		if _, err := s.Checksum(ctx); err != nil {
			return nil, 0, nil, err
		}
	}
	resp, err := s.g.get(ctx, s.pkg)
	if err != nil {
		return nil, 0, nil, err
	}
	return resp.Body, resp.ContentLength, contentMD5(resp.Header), nil
}

// blobSource is a blob in an Azure Blob container, read with the Azure SDK
// (anonymously, or with the SAS configured for its container).
type blobSource struct {
	g *Gatherer
	u *url.URL
}

func (s *blobSource) String() string { return s.u.String() }

func (s *blobSource) client() (*blob.Client, error) {
	u := s.g.withSAS(s.u)
	c, err := blob.NewClientWithNoCredential(u.String(), &blob.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: s.g.httpClient()}})
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", s.u, s.g.clean(err))
	}
	return c, nil
}

func (s *blobSource) Checksum(ctx context.Context) (*Checksum, error) {
	c, err := s.client()
	if err != nil {
		return nil, err
	}
	p, err := c.GetProperties(ctx, nil)
	if err != nil {
		return nil, s.g.blobError(err)
	}
	return md5Checksum(p.ContentMD5), nil
}

func (s *blobSource) Open(ctx context.Context) (io.ReadCloser, int64, *Checksum, error) {
	c, err := s.client()
	if err != nil {
		return nil, 0, nil, err
	}
	r, err := c.DownloadStream(ctx, nil)
	if err != nil {
		return nil, 0, nil, s.g.blobError(err)
	}
	size := int64(-1)
	if r.ContentLength != nil {
		size = *r.ContentLength
	}
	return r.Body, size, md5Checksum(r.ContentMD5), nil
}

func (g *Gatherer) blobError(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
		return errNotFound
	}
	if errors.As(err, &re) {
		hint := ""
		if re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden {
			hint = " (a private container: add its URL with a read SAS to MAESTRO_BLOB_SAS_URLS)"
		}
		return fmt.Errorf("HTTP %d %s%s", re.StatusCode, re.ErrorCode, hint)
	}
	return g.clean(err)
}

func md5Checksum(v []byte) *Checksum {
	if len(v) != hashSize[MD5] {
		return nil
	}
	return &Checksum{Algorithm: MD5, Value: v, From: "Content-MD5"}
}

// contentMD5 reads a Content-MD5 header (base64), nil when absent or not
// an MD5 digest.
func contentMD5(h http.Header) *Checksum {
	v := h.Get("Content-MD5")
	if v == "" {
		return nil
	}
	b, err := decodeBase64(v)
	if err != nil {
		return nil
	}
	return md5Checksum(b)
}

// fileSource is a local file (a file:// location, as publish --upload
// records on a local store).
type fileSource struct{ path string }

func (s fileSource) String() string { return (&url.URL{Scheme: "file", Path: s.path}).String() }

func (s fileSource) Checksum(context.Context) (*Checksum, error) {
	fi, err := os.Stat(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", s.path)
	}
	return nil, nil
}

func (s fileSource) Open(ctx context.Context) (io.ReadCloser, int64, *Checksum, error) {
	if _, err := s.Checksum(ctx); err != nil {
		return nil, 0, nil, err
	}
	f, err := os.Open(s.path)
	if err != nil {
		return nil, 0, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	return f, fi.Size(), nil, nil
}
