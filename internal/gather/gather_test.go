package gather_test

import (
	"crypto/md5"
	"encoding/base64"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/gather"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/test/azurite"
	"github.com/maestroplusplus/maestro/test/nugetfeed"
)

// container is an Azurite container with blobs in it and a read SAS.
type container struct {
	url    string // http://127.0.0.1:PORT/devstoreaccount1/NAME
	sasURL string // url?sv=...&sig=...
	client *azblob.Client
	name   string
}

func newContainer(t *testing.T, srv *azurite.Server, name string, blobs map[string]string) *container {
	t.Helper()
	ctx := t.Context()
	client, err := azblob.NewClientFromConnectionString(srv.ConnectionString(), nil)
	require.NoError(t, err)
	_, err = client.CreateContainer(ctx, name, nil)
	require.NoError(t, err)
	for n, content := range blobs {
		_, err := client.UploadBuffer(ctx, name, n, []byte(content), nil)
		require.NoError(t, err)
	}
	cred, err := azblob.NewSharedKeyCredential(azurite.AccountName, azurite.AccountKey)
	require.NoError(t, err)
	q, err := sas.BlobSignatureValues{
		Protocol: sas.ProtocolHTTPSandHTTP, ExpiryTime: time.Now().Add(time.Hour), ContainerName: name,
		Permissions: (&sas.ContainerPermissions{Read: true}).String(),
	}.SignWithSharedKey(cred)
	require.NoError(t, err)
	u := srv.BlobEndpoint() + "/" + name
	return &container{url: u, sasURL: u + "?" + q.Encode(), client: client, name: name}
}

func sasOf(t *testing.T, cs ...*container) gather.Credentials {
	t.Helper()
	var raw []string
	for _, c := range cs {
		raw = append(raw, c.sasURL)
	}
	s, secrets, err := gather.ParseSASURLs(strings.Join(raw, "\n"))
	require.NoError(t, err)
	return gather.Credentials{SAS: s, Secrets: secrets}
}

func pkgAsset(id, version, feed string, nonShipping bool) maestro.Asset {
	return maestro.Asset{Name: id, Version: version, NonShipping: nonShipping,
		Locations: []maestro.AssetLocation{{Type: maestro.LocationNuGetFeed, Location: feed}}}
}

func blobAsset(name, version, container string, nonShipping bool) maestro.Asset {
	return maestro.Asset{Name: name, Version: version, NonShipping: nonShipping,
		Locations: []maestro.AssetLocation{{Type: maestro.LocationContainer, Location: container}}}
}

func plan(t *testing.T, builds ...maestro.Build) []gather.Item {
	t.Helper()
	items, err := gather.Plan(builds)
	require.NoError(t, err)
	return items
}

func read(t *testing.T, dir, p string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
	require.NoError(t, err)
	return string(data)
}

// TestGather downloads packages from an authenticated NuGet v3 feed and
// blobs from a private Azurite container (with a SAS), each once, verified
// against the feed's package hash and the blob's Content-MD5; a second run
// downloads nothing and keeps every file.
func TestGather(t *testing.T) {
	srv := azurite.Start(t)
	feed := nugetfeed.New("org", "dotnet-eng")
	t.Cleanup(feed.Close)
	feed.Token = "feed-pat-123456"
	feed.ExternalPages = true
	feed.Add("Contoso.Runtime", "8.0.1-preview.1", []byte("runtime package"))
	feed.Add("Contoso.Tools", "1.2.3", []byte("tools package"))
	c := newContainer(t, srv, "drops", map[string]string{
		"Runtime/8.0.1/dotnet-runtime.zip": "runtime zip",
		"assets/sdk/checksums.txt":         "sums", // pushed under assets/, recorded without it
	})
	blobs := countingProxy(t, srv, c)

	b := maestro.Build{ID: 7, Assets: []maestro.Asset{
		pkgAsset("Contoso.Runtime", "8.0.1-preview.1", feed.IndexURL(), false),
		pkgAsset("Contoso.Tools", "1.2.3", feed.IndexURL(), true),
		// A SAS recorded in the registry is neither used nor shown.
		blobAsset("Runtime/8.0.1/dotnet-runtime.zip", "8.0.1", c.url+"?sv=2020-01-01&sig=RecordedSecret", false),
		blobAsset("sdk/checksums.txt", "8.0.1", c.url+"/index.json", true),
	}}
	items := plan(t, b)
	dir := t.TempDir()
	creds := sasOf(t, c)
	creds.Authorization = func(u *url.URL) string {
		if strings.HasPrefix(u.String(), feed.OrgURL()+"/") {
			return "Basic " + base64.StdEncoding.EncodeToString([]byte(":"+feed.Token))
		}
		return ""
	}
	var events []gather.Event
	g := &gather.Gatherer{Dir: dir, Credentials: creds, Progress: func(e gather.Event) { events = append(events, e) }}
	entries, err := g.Gather(t.Context(), items)
	require.NoError(t, err)
	require.Len(t, entries, 4)
	require.Len(t, events, 4)
	assert.Equal(t, 4, events[3].Done)

	assert.Equal(t, "runtime package", read(t, dir, "shipping/packages/Contoso.Runtime.8.0.1-preview.1.nupkg"))
	assert.Equal(t, "tools package", read(t, dir, "nonshipping/packages/Contoso.Tools.1.2.3.nupkg"))
	assert.Equal(t, "runtime zip", read(t, dir, "shipping/assets/Runtime/8.0.1/dotnet-runtime.zip"))
	assert.Equal(t, "sums", read(t, dir, "nonshipping/assets/sdk/checksums.txt"))

	byPath := map[string]gather.Entry{}
	for _, e := range entries {
		byPath[e.Path] = e
	}
	rt := byPath["shipping/packages/Contoso.Runtime.8.0.1-preview.1.nupkg"]
	require.NotNil(t, rt.Verified, "the feed's registration gives the package hash")
	assert.Equal(t, gather.SHA512, rt.Verified.Algorithm)
	assert.Equal(t, "registration", rt.Verified.From)
	assert.Equal(t, feed.IndexURL()[:len(feed.IndexURL())-len("/index.json")]+nugetfeed.PackagePath("Contoso.Runtime", "8.0.1-preview.1"), rt.Source)
	zip := byPath["shipping/assets/Runtime/8.0.1/dotnet-runtime.zip"]
	require.NotNil(t, zip.Verified, "Azurite stores an MD5 for a single-shot upload")
	sum := md5.Sum([]byte("runtime zip"))
	assert.Equal(t, &gather.Checksum{Algorithm: gather.MD5, Value: sum[:], From: "Content-MD5"}, zip.Verified)
	assert.Equal(t, c.url+"/Runtime/8.0.1/dotnet-runtime.zip", zip.Source, "no SAS in the manifest")
	assert.Equal(t, c.url+"/assets/sdk/checksums.txt", byPath["nonshipping/assets/sdk/checksums.txt"].Source)
	assert.Equal(t, int64(len("runtime zip")), zip.Size)

	for _, p := range []string{nugetfeed.PackagePath("Contoso.Runtime", "8.0.1-preview.1"), nugetfeed.PackagePath("Contoso.Tools", "1.2.3"), "/index.json"} {
		assert.Equal(t, 1, feed.Requests(p), "%s requested once", p)
	}
	for _, p := range []string{"/devstoreaccount1/drops/Runtime/8.0.1/dotnet-runtime.zip", "/devstoreaccount1/drops/assets/sdk/checksums.txt"} {
		assert.Equal(t, 1, blobs.count("GET "+p), "%s downloaded once", p)
	}
	for _, e := range entries {
		for _, l := range e.Locations {
			assert.NotContains(t, l.Location, "RecordedSecret")
		}
	}

	// A second run keeps every file: no package is requested again.
	events = nil
	entries2, err := g.Gather(t.Context(), items)
	require.NoError(t, err)
	assert.Equal(t, entries, entries2)
	for _, e := range events {
		assert.True(t, e.Present, "%s kept", e.Entry.Path)
	}
	assert.Equal(t, 1, feed.Requests(nugetfeed.PackagePath("Contoso.Runtime", "8.0.1-preview.1")))
	assert.Equal(t, 1, feed.Requests(nugetfeed.PackagePath("Contoso.Tools", "1.2.3")))
	assert.Equal(t, 1, blobs.count("GET /devstoreaccount1/drops/Runtime/8.0.1/dotnet-runtime.zip"), "only its properties are read again")
	assert.Equal(t, 2, blobs.count("HEAD /devstoreaccount1/drops/Runtime/8.0.1/dotnet-runtime.zip"))

	// A file changed since is downloaded again; a partial file left by a
	// killed run is never taken for the file.
	p := filepath.Join(dir, "shipping", "packages", "Contoso.Runtime.8.0.1-preview.1.nupkg")
	require.NoError(t, os.WriteFile(p, []byte("runtime packag"), 0o644))
	require.NoError(t, os.Remove(filepath.Join(dir, "nonshipping", "packages", "Contoso.Tools.1.2.3.nupkg")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nonshipping", "packages", "Contoso.Tools.1.2.3.nupkg.partial"), []byte("tools pack"), 0o644))
	_, err = (&gather.Gatherer{Dir: dir, Credentials: creds}).Gather(t.Context(), items)
	require.NoError(t, err)
	assert.Equal(t, "runtime package", read(t, dir, "shipping/packages/Contoso.Runtime.8.0.1-preview.1.nupkg"))
	assert.Equal(t, "tools package", read(t, dir, "nonshipping/packages/Contoso.Tools.1.2.3.nupkg"))
	assert.NoFileExists(t, filepath.Join(dir, "nonshipping", "packages", "Contoso.Tools.1.2.3.nupkg.partial"))
	assert.Equal(t, 2, feed.Requests(nugetfeed.PackagePath("Contoso.Runtime", "8.0.1-preview.1")))
	assert.Equal(t, 2, feed.Requests(nugetfeed.PackagePath("Contoso.Tools", "1.2.3")))
}

// TestGatherChecksumMismatch: bytes that do not match the feed's package
// hash or the blob's Content-MD5 are an error naming the asset and the URL
// (without the SAS), and no file is kept under either name.
func TestGatherChecksumMismatch(t *testing.T) {
	srv := azurite.Start(t)
	feed := nugetfeed.New("org", "feed")
	t.Cleanup(feed.Close)
	feed.Add("Contoso.Bad", "1.0.0", []byte("good bytes"))
	feed.Corrupt("Contoso.Bad", "1.0.0")
	blobFeed := nugetfeed.New("org", "blobfeed") // no registration; Content-MD5 on the package
	t.Cleanup(blobFeed.Close)
	blobFeed.NoRegistrations, blobFeed.ContentMD5 = true, true
	blobFeed.Add("Contoso.Worse", "2.0.0", []byte("good bytes"))
	blobFeed.Corrupt("Contoso.Worse", "2.0.0")
	c := newContainer(t, srv, "bad", map[string]string{"files/bad.zip": "blob bytes"})
	other := md5.Sum([]byte("other bytes"))
	_, err := c.client.ServiceClient().NewContainerClient(c.name).NewBlobClient("files/bad.zip").
		SetHTTPHeaders(t.Context(), blob.HTTPHeaders{BlobContentMD5: other[:]}, nil)
	require.NoError(t, err)

	items := plan(t, maestro.Build{ID: 3, Assets: []maestro.Asset{
		pkgAsset("Contoso.Bad", "1.0.0", feed.IndexURL(), false),
		pkgAsset("Contoso.Worse", "2.0.0", blobFeed.IndexURL(), false),
		blobAsset("files/bad.zip", "1.0.0", c.url, false),
	}})
	dir := t.TempDir()
	creds := sasOf(t, c)
	entries, err := (&gather.Gatherer{Dir: dir, Credentials: creds}).Gather(t.Context(), items)
	require.Error(t, err)
	assert.Empty(t, entries)
	msg := err.Error()
	assert.Contains(t, msg, "asset Contoso.Bad 1.0.0 (build 3): checksum mismatch: registration says SHA512 ")
	assert.Contains(t, msg, feed.URL+"/org/_packaging/feed/nuget/v3"+nugetfeed.PackagePath("Contoso.Bad", "1.0.0"))
	good := md5.Sum([]byte("good bytes"))
	assert.Contains(t, msg, "asset Contoso.Worse 2.0.0 (build 3): checksum mismatch: Content-MD5 says MD5 "+base64.StdEncoding.EncodeToString(good[:]))
	assert.Contains(t, msg, "asset files/bad.zip 1.0.0 (build 3): checksum mismatch: Content-MD5 says MD5 "+base64.StdEncoding.EncodeToString(other[:]))
	assert.Contains(t, msg, "the 10 bytes downloaded from "+c.url+"/files/bad.zip have MD5 ")
	assert.Contains(t, msg, "; the file was not kept")
	for _, s := range creds.Secrets {
		assert.NotContains(t, msg, s)
	}
	assert.NotContains(t, msg, "sig=")
	var left []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, p)
		}
		return err
	}))
	assert.Empty(t, left, "neither the file nor its partial download is kept")
}

// TestGatherNotFound: an asset no location has is an error listing what
// was tried; a private container without its SAS says what to set, and the
// other assets are still gathered.
func TestGatherNotFound(t *testing.T) {
	srv := azurite.Start(t)
	feed := nugetfeed.New("org", "feed")
	t.Cleanup(feed.Close)
	feed.Add("Contoso.A", "1.0.0", []byte("a"))
	c := newContainer(t, srv, "private", map[string]string{"files/x.zip": "x"})
	items := plan(t, maestro.Build{ID: 1, Assets: []maestro.Asset{
		pkgAsset("Contoso.A", "1.0.0", feed.IndexURL(), false),
		pkgAsset("Contoso.Gone", "2.0.0", feed.IndexURL(), false),
		blobAsset("files/x.zip", "1", c.url, false),
		{Name: "nowhere.zip", Version: "1"},
	}})
	entries, err := (&gather.Gatherer{Dir: t.TempDir()}).Gather(t.Context(), items)
	require.Error(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "Contoso.A", entries[0].Name)
	msg := err.Error()
	assert.Contains(t, msg, "asset Contoso.Gone 2.0.0 (build 1): no recorded location has it ("+feed.URL)
	assert.Contains(t, msg, "asset nowhere.zip 1 (build 1): the registry records no location for it")
	assert.Contains(t, msg, "asset files/x.zip 1 (build 1): no recorded location could be read ("+c.url+"/files/x.zip: HTTP 403 AuthorizationFailure (a private container: add its URL with a read SAS to MAESTRO_BLOB_SAS_URLS)")
	assert.Equal(t, maestro.KindNotFound, maestro.KindOf(err))
}

func TestParseSASURLs(t *testing.T) {
	s, secrets, err := gather.ParseSASURLs("https://a.blob.core.windows.net/c/?sv=1&sig=abc%2Bdef\n  http://127.0.0.1:1/acct/box?sig=x1234")
	require.NoError(t, err)
	require.Len(t, s, 2)
	assert.Equal(t, "https://a.blob.core.windows.net/c", s[0].Container.String())
	assert.Equal(t, "sv=1&sig=abc%2Bdef", s[0].Query)
	assert.Contains(t, secrets, "abc+def")
	for _, bad := range []string{"https://a.blob.core.windows.net/c", "https://a.blob.core.windows.net/?sig=secretvalue", "ftp://x/c?sig=secretvalue"} {
		_, _, err := gather.ParseSASURLs(bad)
		require.Error(t, err, bad)
		assert.NotContains(t, err.Error(), "secretvalue")
	}
}

// TestGatherFiles reads file:// locations, as publish --upload records
// them on a local store: the location is the file itself, or a folder
// holding the asset under its name.
func TestGatherFiles(t *testing.T) {
	src := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(src, "builds", "1", "files", "sdk"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "builds", "1", "files", "Contoso.A.1.0.0.nupkg"), []byte("package a"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "builds", "1", "files", "sdk", "x.zip"), []byte("zip"), 0o644))
	files := "file://" + filepath.ToSlash(filepath.Join(src, "builds", "1", "files"))
	items := plan(t, maestro.Build{ID: 1, Assets: []maestro.Asset{
		{Name: "Contoso.A", Version: "1.0.0", Locations: []maestro.AssetLocation{{Type: maestro.LocationContainer, Location: files + "/Contoso.A.1.0.0.nupkg"}}},
		blobAsset("sdk/x.zip", "1.0.0", files, false),
	}})
	dir := t.TempDir()
	entries, err := (&gather.Gatherer{Dir: dir}).Gather(t.Context(), items)
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Equal(t, "package a", read(t, dir, "shipping/packages/Contoso.A.1.0.0.nupkg"))
	assert.Equal(t, "zip", read(t, dir, "shipping/assets/sdk/x.zip"))
	assert.Equal(t, files+"/sdk/x.zip", entries[0].Source)
	assert.Nil(t, entries[0].Verified, "a local file gives no checksum")
}

// TestOpenLocks: one run at a time writes to a drop.
func TestOpenLocks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "drop")
	m := gather.Manifest{RootBuild: 3}
	require.NoError(t, gather.CheckDir(dir, m))
	d, err := gather.Open(dir, m)
	require.NoError(t, err)
	_, err = gather.Open(dir, m)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err))
	assert.ErrorContains(t, err, "another gather-drop is writing to "+dir)
	require.NoError(t, gather.CheckDir(dir, m), "the drop of the same build resumes")
	assert.Equal(t, maestro.KindInvalid, maestro.KindOf(gather.CheckDir(dir, gather.Manifest{RootBuild: 4})))
	assert.Equal(t, maestro.KindInvalid, maestro.KindOf(gather.CheckDir(dir, gather.Manifest{RootBuild: 3, IncludeToolset: true})))
	require.NoError(t, d.Close())
	d, err = gather.Open(dir, m)
	require.NoError(t, err)
	require.NoError(t, d.Close())
	got, err := gather.ReadManifest(dir)
	require.NoError(t, err)
	assert.Equal(t, 3, got.RootBuild)
	assert.False(t, got.Complete)
}

// proxy counts the requests that reach Azurite through it.
type proxy struct {
	mu sync.Mutex
	n  map[string]int // "METHOD /path" → count
}

func (p *proxy) count(k string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n[k]
}

// countingProxy puts a loopback proxy in front of Azurite and points c at
// it; the SAS still holds, since a signature covers the path, not the host.
func countingProxy(t *testing.T, srv *azurite.Server, c *container) *proxy {
	t.Helper()
	target, err := url.Parse(srv.BlobEndpoint())
	require.NoError(t, err)
	target.Path = ""
	p := &proxy{n: map[string]int{}}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) }}
	ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.n[r.Method+" "+r.URL.Path]++
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(ps.Close)
	old := srv.BlobEndpoint()
	c.url = strings.Replace(c.url, old, ps.URL+"/"+azurite.AccountName, 1)
	c.sasURL = strings.Replace(c.sasURL, old, ps.URL+"/"+azurite.AccountName, 1)
	return p
}

// TestGatherNextLocation: a location that cannot be read (a feed that is
// down) gives way to the asset's next location.
func TestGatherNextLocation(t *testing.T) {
	down := nugetfeed.New("org", "down")
	down.Close()
	up := nugetfeed.New("org", "up")
	t.Cleanup(up.Close)
	up.Add("Contoso.A", "1.0.0", []byte("a"))
	a := pkgAsset("Contoso.A", "1.0.0", down.IndexURL(), false)
	a.Locations = append(a.Locations, maestro.AssetLocation{Type: maestro.LocationNuGetFeed, Location: up.IndexURL()})
	dir := t.TempDir()
	entries, err := (&gather.Gatherer{Dir: dir, RetryDelay: time.Millisecond}).Gather(t.Context(), plan(t, maestro.Build{ID: 1, Assets: []maestro.Asset{a}}))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.True(t, strings.HasPrefix(entries[0].Source, up.URL), entries[0].Source)
	assert.Equal(t, "a", read(t, dir, "shipping/packages/Contoso.A.1.0.0.nupkg"))
}

// TestGatherRetries: a feed request that meets 429 or 5xx is retried three
// times (Retry-After honoured), then fails naming the status.
func TestGatherRetries(t *testing.T) {
	feed := nugetfeed.New("org", "busy")
	t.Cleanup(feed.Close)
	feed.Add("Contoso.A", "1.0.0", []byte("a"))
	feed.Add("Contoso.B", "1.0.0", []byte("b"))
	feed.Fail("/index.json", 1, http.StatusTooManyRequests)
	feed.Fail(nugetfeed.PackagePath("Contoso.A", "1.0.0"), 3, http.StatusServiceUnavailable)
	feed.Fail(nugetfeed.PackagePath("Contoso.B", "1.0.0"), 4, http.StatusBadGateway)
	items := plan(t, maestro.Build{ID: 1, Assets: []maestro.Asset{
		pkgAsset("Contoso.A", "1.0.0", feed.IndexURL(), false), pkgAsset("Contoso.B", "1.0.0", feed.IndexURL(), false)}})
	dir := t.TempDir()
	entries, err := (&gather.Gatherer{Dir: dir, RetryDelay: time.Millisecond}).Gather(t.Context(), items)
	require.Error(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "a", read(t, dir, "shipping/packages/Contoso.A.1.0.0.nupkg"))
	assert.Equal(t, 2, feed.Requests("/index.json"))
	assert.Equal(t, 4, feed.Requests(nugetfeed.PackagePath("Contoso.A", "1.0.0")))
	assert.Equal(t, 4, feed.Requests(nugetfeed.PackagePath("Contoso.B", "1.0.0")), "three retries, no more")
	assert.Contains(t, err.Error(), "asset Contoso.B 1.0.0 (build 1): no recorded location could be read (")
	assert.Contains(t, err.Error(), "contoso.b.1.0.0.nupkg: HTTP 502)")
	assert.NotEqual(t, maestro.KindNotFound, maestro.KindOf(err.(interface{ Unwrap() []error }).Unwrap()[0]))
}

// TestGatherStalled: a download that receives nothing for IdleTimeout is
// abandoned, and nothing is kept.
func TestGatherStalled(t *testing.T) {
	feed := nugetfeed.New("org", "slow")
	t.Cleanup(feed.Close)
	feed.Add("Contoso.Slow", "1.0.0", []byte("slow package"))
	feed.Slow("Contoso.Slow", "1.0.0", 1, time.Second)
	dir := t.TempDir()
	start := time.Now()
	_, err := (&gather.Gatherer{Dir: dir, IdleTimeout: 100 * time.Millisecond}).Gather(t.Context(),
		plan(t, maestro.Build{ID: 1, Assets: []maestro.Asset{pkgAsset("Contoso.Slow", "1.0.0", feed.IndexURL(), false)}}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "contoso.slow.1.0.0.nupkg: download: no data for 100ms")
	assert.Less(t, time.Since(start), 900*time.Millisecond, "abandoned at the first silence, not at the end")
	assert.NoFileExists(t, filepath.Join(dir, "shipping", "packages", "Contoso.Slow.1.0.0.nupkg"))
	assert.NoFileExists(t, filepath.Join(dir, "shipping", "packages", "Contoso.Slow.1.0.0.nupkg.partial"))

	// Slow but steady is not stalled, however long the whole takes.
	feed.Add("Contoso.Steady", "1.0.0", []byte("steady package"))
	feed.Slow("Contoso.Steady", "1.0.0", 1, 30*time.Millisecond)
	entries, err := (&gather.Gatherer{Dir: dir, IdleTimeout: 100 * time.Millisecond}).Gather(t.Context(),
		plan(t, maestro.Build{ID: 1, Assets: []maestro.Asset{pkgAsset("Contoso.Steady", "1.0.0", feed.IndexURL(), false)}}))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "steady package", read(t, dir, "shipping/packages/Contoso.Steady.1.0.0.nupkg"))
}

// TestGatherStaysInside: a link inside the drop that leads out of it is not
// followed; nothing is written outside the folder.
func TestGatherStaysInside(t *testing.T) {
	feed := nugetfeed.New("org", "feed")
	t.Cleanup(feed.Close)
	feed.Add("Contoso.A", "1.0.0", []byte("a"))
	dir, outside := t.TempDir(), t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "shipping"), 0o755))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "shipping", "packages")))
	_, err := (&gather.Gatherer{Dir: dir}).Gather(t.Context(),
		plan(t, maestro.Build{ID: 1, Assets: []maestro.Asset{pkgAsset("Contoso.A", "1.0.0", feed.IndexURL(), false)}}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "asset Contoso.A 1.0.0 (build 1)")
	ents, err := os.ReadDir(outside)
	require.NoError(t, err)
	assert.Empty(t, ents, "nothing written through the link")
}

// TestGatherSilentFeed: a feed that takes a request and never answers it
// (its service index here: a checksum is read before the download) is
// given up after IdleTimeout per request, as a silent download is, instead
// of hanging the run.
func TestGatherSilentFeed(t *testing.T) {
	released := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-released:
		}
	}))
	t.Cleanup(func() { close(released); silent.Close() })
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := (&gather.Gatherer{Dir: t.TempDir(), IdleTimeout: 100 * time.Millisecond, RetryDelay: time.Millisecond}).Gather(t.Context(),
			plan(t, maestro.Build{ID: 1, Assets: []maestro.Asset{pkgAsset("Contoso.Silent", "1.0.0", silent.URL+"/index.json", false)}}))
		done <- err
	}()
	select {
	case err := <-done:
		require.Error(t, err)
		assert.Contains(t, err.Error(), "asset Contoso.Silent 1.0.0 (build 1): no recorded location could be read (")
		assert.Contains(t, err.Error(), "/index.json: no answer within 100ms")
		assert.Less(t, time.Since(start), 5*time.Second)
	case <-time.After(10 * time.Second):
		t.Fatal("gather-drop still waits for a feed that never answers")
	}
}
