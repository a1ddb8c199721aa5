package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/gather"
	"github.com/maestroplusplus/maestro/test/azurite"
	"github.com/maestroplusplus/maestro/test/nugetfeed"
)

// dropEnv is a registry on Azurite holding a product build (sdk) with a
// product dependency (runtime) and a toolset dependency (arcade), whose
// packages are in an authenticated NuGet feed and whose blob is uploaded to
// the store's container.
type dropEnv struct {
	*env
	feed                *nugetfeed.Server
	sdk, runtime, tools string // BAR ids
	sasURL              string
}

const feedToken = "feed-pat-0123456789"

func newDropEnv(t *testing.T) *dropEnv {
	e := newAzurite(t)
	feed := nugetfeed.New("contoso", "dotnet-eng")
	t.Cleanup(feed.Close)
	feed.Token = feedToken
	feed.Add("Contoso.Arcade.Sdk", "9.0.0-beta.1", []byte(strings.Repeat("arcade ", 100)))
	feed.Add("Contoso.Runtime", "9.0.0", []byte(strings.Repeat("runtime ", 100)))
	feed.Add("Contoso.Runtime.Internal", "9.0.0", []byte("internal runtime"))
	feed.Add("Contoso.Sdk", "9.0.100", []byte(strings.Repeat("sdk ", 100)))

	cred, err := azblob.NewSharedKeyCredential(azurite.AccountName, azurite.AccountKey)
	require.NoError(t, err)
	q, err := sas.BlobSignatureValues{Protocol: sas.ProtocolHTTPSandHTTP, ExpiryTime: time.Now().Add(time.Hour),
		ContainerName: "maestro", Permissions: (&sas.ContainerPermissions{Read: true}).String()}.SignWithSharedKey(cred)
	require.NoError(t, err)
	d := &dropEnv{env: e, feed: feed, sasURL: e.azurite.BlobEndpoint() + "/maestro?" + q.Encode()}
	e.environ = append(e.environ, "MAESTRO_AZDO_TOKEN="+feedToken, "MAESTRO_AZDO_SERVER_URLS="+feed.OrgURL(),
		"MAESTRO_ALLOW_HTTP_LOOPBACK=true", "MAESTRO_BLOB_SAS_URLS="+d.sasURL)

	dir := t.TempDir()
	manifest := func(name, repo string, n int, packages []string, nonShipping map[string]bool, blobs ...string) string {
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?>
<Build PublishingVersion="3" Name="%[1]s" BuildId="20261205.%[2]d" Branch="refs/heads/main" Commit="%[3]s" AzureDevOpsBuildId="%[2]d" AzureDevOpsBuildDefinitionId="42" AzureDevOpsAccount="dnceng" AzureDevOpsProject="internal" AzureDevOpsBuildNumber="20261205.%[2]d" AzureDevOpsRepository="%[1]s" AzureDevOpsBranch="refs/heads/main" Location="%[4]s" IsStable="false">
`, repo, n, sha(n), feed.IndexURL())
		for _, p := range packages {
			id, v, _ := strings.Cut(p, "@")
			fmt.Fprintf(&b, "  <Package Id=%q Version=%q NonShipping=\"%t\" />\n", id, v, nonShipping[id])
		}
		for _, bl := range blobs {
			fmt.Fprintf(&b, "  <Blob Id=%q NonShipping=\"false\" />\n", bl)
		}
		b.WriteString("</Build>\n")
		return writeFile(t, dir, name+".xml", b.String())
	}
	d.tools = strings.TrimSpace(e.ok("publish", "--manifest", manifest("arcade", "https://github.com/contoso/arcade", 1, []string{"Contoso.Arcade.Sdk@9.0.0-beta.1"}, nil)))
	d.runtime = strings.TrimSpace(e.ok("publish", "--manifest", manifest("runtime", "https://github.com/contoso/runtime", 2,
		[]string{"Contoso.Runtime@9.0.0", "Contoso.Runtime.Internal@9.0.0"}, map[string]bool{"Contoso.Runtime.Internal": true})))
	details := writeFile(t, dir, "sdk/eng/Version.Details.xml", fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
    <Dependency Name="Contoso.Runtime" Version="9.0.0">
      <Uri>https://github.com/contoso/runtime</Uri>
      <Sha>%s</Sha>
    </Dependency>
  </ProductDependencies>
  <ToolsetDependencies>
    <Dependency Name="Contoso.Arcade.Sdk" Version="9.0.0-beta.1">
      <Uri>https://github.com/contoso/arcade</Uri>
      <Sha>%s</Sha>
    </Dependency>
  </ToolsetDependencies>
</Dependencies>
`, sha(2), sha(1)))
	upload := filepath.Join(dir, "upload")
	writeFile(t, upload, "Sdk/9.0.100/dotnet-sdk.tar.gz", "sdk archive")
	writeFile(t, upload, "Contoso.Sdk.9.0.100.nupkg", strings.Repeat("sdk ", 100))
	d.sdk = strings.TrimSpace(e.ok("publish", "--manifest", manifest("sdk", "https://github.com/contoso/sdk", 3,
		[]string{"Contoso.Sdk@9.0.100"}, nil, "Sdk/9.0.100/dotnet-sdk.tar.gz"), "--version-details", details, "--upload", upload))
	return d
}

// TestGatherDrop: the drop of a build holds its assets and its product
// dependencies' (toolset ones with --include-toolset) in production's
// layout, each downloaded once from the recorded feed or container, with a
// manifest; a second run downloads nothing; bad input writes nothing; a
// checksum mismatch is reported and the file not kept.
func TestGatherDrop(t *testing.T) {
	d := newDropEnv(t)
	out := filepath.Join(t.TempDir(), "drop")

	// --dry-run lists, writes nothing and asks no feed.
	dry := d.ok("build", "gather-drop", "--id", d.sdk, "--output-dir", out, "--dry-run")
	for _, p := range []string{"shipping/packages/Contoso.Sdk.9.0.100.nupkg", "shipping/assets/Sdk/9.0.100/dotnet-sdk.tar.gz",
		"shipping/packages/Contoso.Runtime.9.0.0.nupkg", "nonshipping/packages/Contoso.Runtime.Internal.9.0.0.nupkg"} {
		assert.Contains(t, dry, p)
	}
	assert.NotContains(t, dry, "Arcade", "a toolset dependency is left out")
	assert.Contains(t, dry, "4 files from 2 builds would be gathered")
	assert.NoDirExists(t, out)
	assert.Zero(t, d.feed.Requests("/index.json"))
	var planned []gather.Item
	d.okJSON(&planned, "build", "gather-drop", "--id", d.sdk, "--output-dir", out, "--dry-run", "--include-toolset")
	assert.Len(t, planned, 5)
	assert.NoDirExists(t, out)

	// Bad input: nothing written.
	notDir := writeFile(t, t.TempDir(), "file", "x")
	r := d.run("build", "gather-drop", "--id", d.sdk, "--output-dir", notDir)
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, "is not a folder")
	busy := t.TempDir()
	writeFile(t, busy, "mine.txt", "keep")
	r = d.run("build", "gather-drop", "--id", d.sdk, "--output-dir", busy)
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, "holds files but no manifest.json of a gather-drop")
	entries, _ := os.ReadDir(busy)
	assert.Len(t, entries, 1)
	r = d.run("build", "gather-drop", "--id", "999", "--output-dir", out)
	assert.Equal(t, 3, r.code, r.stderr)
	assert.NoDirExists(t, out)
	r = d.run("build", "gather-drop", "--id", d.sdk, "--output-dir", out)
	require.Equal(t, 0, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "gathered 4 files from 2 builds into "+out+" (0 already there)")
	assert.Contains(t, r.stderr, "[4/4] ")
	assert.Contains(t, r.stderr, "shipping/assets/Sdk/9.0.100/dotnet-sdk.tar.gz: 11 bytes from "+d.azurite.BlobEndpoint()+"/maestro/builds/")
	assert.NotContains(t, r.stderr+r.stdout, "sig=")
	assert.Equal(t, "sdk archive", readFile(t, out, "shipping/assets/Sdk/9.0.100/dotnet-sdk.tar.gz"))
	assert.Equal(t, strings.Repeat("runtime ", 100), readFile(t, out, "shipping/packages/Contoso.Runtime.9.0.0.nupkg"))
	assert.Equal(t, "internal runtime", readFile(t, out, "nonshipping/packages/Contoso.Runtime.Internal.9.0.0.nupkg"))
	assert.Equal(t, strings.Repeat("sdk ", 100), readFile(t, out, "shipping/packages/Contoso.Sdk.9.0.100.nupkg"))
	assert.NoFileExists(t, filepath.Join(out, "shipping", "packages", "Contoso.Arcade.Sdk.9.0.0-beta.1.nupkg"))

	m := readManifest(t, out)
	assert.True(t, m.Complete)
	assert.Equal(t, []int{atoi(t, d.sdk), atoi(t, d.runtime)}, []int{m.Builds[0].ID, m.Builds[1].ID})
	require.Len(t, m.Assets, 4)
	for _, a := range m.Assets {
		require.NotNil(t, a.Verified, a.Path)
		assert.Len(t, a.SHA256, 64)
		if a.Kind == gather.KindPackage {
			assert.Equal(t, "registration", a.Verified.From, a.Path)
		} else {
			assert.Equal(t, "Content-MD5", a.Verified.From, a.Path)
		}
	}
	pkgs := map[string]string{"Contoso.Sdk": "9.0.100", "Contoso.Runtime": "9.0.0", "Contoso.Runtime.Internal": "9.0.0"}
	for id, v := range pkgs {
		assert.Equal(t, 1, d.feed.Requests(nugetfeed.PackagePath(id, v)), "%s downloaded once", id)
	}
	assert.Equal(t, 1, d.feed.Requests("/index.json"), "the service index is read once")
	assert.Zero(t, d.feed.Requests(nugetfeed.PackagePath("Contoso.Arcade.Sdk", "9.0.0-beta.1")))

	// Again: every file is there and verified; nothing is downloaded.
	r = d.run("build", "gather-drop", "--id", d.sdk, "--output-dir", out)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "(4 already there)")
	assert.Contains(t, r.stderr, "shipping/packages/Contoso.Sdk.9.0.100.nupkg: already there")
	var again gather.Manifest
	d.okJSON(&again, "build", "gather-drop", "--id", d.sdk, "--output-dir", out)
	assert.Equal(t, m, again, "--output json prints the manifest")
	for id, v := range pkgs {
		assert.Equal(t, 1, d.feed.Requests(nugetfeed.PackagePath(id, v)), "%s not downloaded again", id)
	}
	// Another drop's options are refused for this folder.
	r = d.run("build", "gather-drop", "--id", d.sdk, "--output-dir", out, "--include-toolset")
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, "holds the drop of build "+d.sdk+" (include toolset: false)")

	// The toolset's package too, into a new folder.
	// Under an agent, progress is also ##vso[task.setprogress], on standard error.
	out2 := filepath.Join(t.TempDir(), "full")
	environ := d.environ
	d.environ = append(slices.Clip(environ), "TF_BUILD=True")
	r = d.run("build", "gather-drop", "--id", d.sdk, "--output-dir", out2, "--include-toolset")
	d.environ = environ
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "##vso[task.setprogress value=100;]gathering the drop\n")
	assert.NotContains(t, r.stdout, "##vso")
	assert.Equal(t, strings.Repeat("arcade ", 100), readFile(t, out2, "shipping/packages/Contoso.Arcade.Sdk.9.0.0-beta.1.nupkg"))

	// A corrupt package: an error naming the asset and the URL, the file not kept.
	d.feed.Corrupt("Contoso.Runtime", "9.0.0")
	require.NoError(t, os.Remove(filepath.Join(out, "shipping", "packages", "Contoso.Runtime.9.0.0.nupkg")))
	r = d.run("build", "gather-drop", "--id", d.sdk, "--output-dir", out)
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "1 of 4 files failed")
	assert.Contains(t, r.stderr, "asset Contoso.Runtime 9.0.0 (build "+d.runtime+"): checksum mismatch: registration says SHA512 ")
	assert.Contains(t, r.stderr, "downloaded from "+d.feed.OrgURL()+"/_packaging/dotnet-eng/nuget/v3"+nugetfeed.PackagePath("Contoso.Runtime", "9.0.0"))
	assert.NoFileExists(t, filepath.Join(out, "shipping", "packages", "Contoso.Runtime.9.0.0.nupkg"))
	assert.NoFileExists(t, filepath.Join(out, "shipping", "packages", "Contoso.Runtime.9.0.0.nupkg.partial"))
	m = readManifest(t, out)
	assert.False(t, m.Complete)
	assert.Len(t, m.Assets, 3)
	assert.NotContains(t, r.stderr, feedToken)

	// An asset that no location has (the feed lost it): exit 3.
	d.feed.Add("Contoso.Runtime", "9.0.0", []byte(strings.Repeat("runtime ", 100)))
	d.feed.Remove("Contoso.Runtime.Internal", "9.0.0")
	require.NoError(t, os.RemoveAll(filepath.Join(out, "nonshipping")))
	r = d.run("build", "gather-drop", "--id", d.sdk, "--output-dir", out)
	assert.Equal(t, 3, r.code, r.stderr)
	assert.Contains(t, r.stderr, "asset Contoso.Runtime.Internal 9.0.0 (build "+d.runtime+"): no recorded location has it")
	assert.Equal(t, strings.Repeat("runtime ", 100), readFile(t, out, "shipping/packages/Contoso.Runtime.9.0.0.nupkg"))
	// A feed that does not answer is a failure, not a missing asset: exit 1.
	d.feed.Close()
	r = d.run("build", "gather-drop", "--id", d.sdk, "--output-dir", out)
	assert.Equal(t, 1, r.code, r.stderr)
}

// TestGatherDropCredentials: without the feed's token the feed refuses,
// and the error says what to set; a SAS never shows in any message.
func TestGatherDropCredentials(t *testing.T) {
	d := newDropEnv(t)
	var kept []string
	for _, kv := range d.environ {
		if !strings.HasPrefix(kv, "MAESTRO_AZDO_TOKEN=") {
			kept = append(kept, kv)
		}
	}
	d.environ = kept
	r := d.run("build", "gather-drop", "--id", d.sdk, "--output-dir", filepath.Join(t.TempDir(), "d"))
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "HTTP 401 (set MAESTRO_AZDO_TOKEN for an Azure DevOps feed")
	sig := strings.SplitN(strings.SplitN(d.sasURL, "sig=", 2)[1], "&", 2)[0]
	assert.NotContains(t, r.stderr+r.stdout, sig)

	d.environ = append(d.environ, "MAESTRO_BLOB_SAS_URLS=http://127.0.0.1:1/acct/c")
	r = d.run("build", "gather-drop", "--id", d.sdk, "--output-dir", filepath.Join(t.TempDir(), "e"))
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, "MAESTRO_BLOB_SAS_URLS: http://127.0.0.1:1/acct/c has no SAS query")
}

// TestGatherDropKilled: a gather-drop killed (SIGKILL) mid-download leaves
// no file under its final name; run again, it resumes: the files the killed
// run finished are verified and not downloaded again, the rest are.
func TestGatherDropKilled(t *testing.T) {
	d := newDropEnv(t)
	big := []byte(strings.Repeat("0123456789abcdef", 8<<10)) // 128 KiB
	d.feed.Add("Contoso.Runtime", "9.0.0", big)
	d.feed.Slow("Contoso.Runtime", "9.0.0", 1<<10, 100*time.Millisecond) // 13 s: killed long before
	out := filepath.Join(t.TempDir(), "drop")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := d.command(ctx, "build", "gather-drop", "--id", d.sdk, "--output-dir", out)
	require.NoError(t, cmd.Start())
	select {
	case <-d.feed.Started:
	case <-ctx.Done():
		t.Fatal("the slow package was never requested")
	}
	// Kill once some of the package is on disk, under whatever name.
	final := filepath.Join(out, "shipping", "packages", "Contoso.Runtime.9.0.0.nupkg")
	for written := false; !written; {
		matches, _ := filepath.Glob(final + "*")
		for _, p := range matches {
			if fi, err := os.Stat(p); err == nil && fi.Size() > 0 {
				written = true
			}
		}
		if ctx.Err() != nil {
			t.Fatal("nothing of the slow package reached the disk")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A second run into the folder meanwhile is refused: one writer at a time.
	second := d.run("build", "gather-drop", "--id", d.sdk, "--output-dir", out)
	assert.Equal(t, 4, second.code, second.stderr)
	assert.Contains(t, second.stderr, "another gather-drop is writing to "+out)

	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()

	assert.NoFileExists(t, final, "a partial download never has the final name")
	m := readManifest(t, out)
	assert.False(t, m.Complete)
	pkgs := map[string]string{"Contoso.Sdk": "9.0.100", "Contoso.Runtime.Internal": "9.0.0"}
	before := map[string]int{}
	done := map[string]bool{}
	for id, v := range pkgs {
		before[id] = d.feed.Requests(nugetfeed.PackagePath(id, v))
		_, err := os.Stat(filepath.Join(out, map[bool]string{true: "nonshipping", false: "shipping"}[strings.HasSuffix(id, "Internal")], "packages", id+"."+v+".nupkg"))
		done[id] = err == nil
	}

	d.feed.Slow("Contoso.Runtime", "9.0.0", 0, 0)
	r := d.run("build", "gather-drop", "--id", d.sdk, "--output-dir", out)
	require.Equal(t, 0, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	data, err := os.ReadFile(final)
	require.NoError(t, err)
	assert.Equal(t, big, data)
	assert.NoFileExists(t, final+".partial")
	assert.Equal(t, 2, d.feed.Requests(nugetfeed.PackagePath("Contoso.Runtime", "9.0.0")), "the killed download, then the whole file")
	for id, v := range pkgs {
		want := before[id]
		if !done[id] {
			want++
		}
		assert.Equal(t, want, d.feed.Requests(nugetfeed.PackagePath(id, v)), "%s: finished by the killed run: %t", id, done[id])
	}
	assert.True(t, readManifest(t, out).Complete)
}

func readFile(t *testing.T, dir, p string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
	require.NoError(t, err)
	return string(data)
}

func readManifest(t *testing.T, dir string) gather.Manifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, gather.ManifestName))
	require.NoError(t, err)
	var m gather.Manifest
	require.NoError(t, json.Unmarshal(data, &m))
	return m
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	_, err := fmt.Sscan(s, &n)
	require.NoError(t, err)
	return n
}
