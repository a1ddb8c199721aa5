package e2e_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store/storeurl"
)

// storeListing returns every key of e's store with its ETag and a digest of
// its bytes: two listings are equal exactly when nothing was written.
func (e *env) storeListing() map[string]string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	getenv := func(k string) string {
		for _, kv := range e.environ {
			if name, v, ok := strings.Cut(kv, "="); ok && name == k {
				return v
			}
		}
		return ""
	}
	st, err := storeurl.Open(ctx, e.store, getenv)
	require.NoError(e.t, err)
	keys, err := st.List(ctx, "")
	require.NoError(e.t, err)
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		data, etag, err := st.Get(ctx, k)
		require.NoError(e.t, err, k)
		sum := sha256.Sum256(data)
		out[k] = etag + " " + hex.EncodeToString(sum[:])
	}
	return out
}

// TestPublishBadInputWritesNothing runs every bad input README names against
// both stores: each exits 2 with one error line naming the field, and a full
// listing of the store (every key, its ETag and its bytes) is the same
// before and after.
func TestPublishBadInputWritesNothing(t *testing.T) {
	good := manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main", commit: sha(1), azdoBuildID: 77,
		packages: []string{"A@1.0.0"}}
	withPackages := func(extra string) string {
		return strings.Replace(good.xml(), "</Build>", extra+"\n</Build>", 1)
	}
	blobOnly := func(id string) string {
		return manifestSpec{repo: good.repo, branch: good.branch, commit: good.commit, azdoBuildID: good.azdoBuildID, blobs: []string{id}}.xml()
	}
	// withRoot sets (or, with value "", removes) attributes of <Build>.
	withRoot := func(value string, attrs ...string) string {
		xml := good.xml()
		for _, attr := range attrs {
			start := strings.Index(xml, " "+attr+`="`)
			end := strings.Index(xml[start+len(attr)+3:], `"`) + start + len(attr) + 3
			if value == "" {
				xml = xml[:start] + xml[end+1:]
			} else {
				xml = xml[:start] + " " + attr + `="` + value + `"` + xml[end+1:]
			}
		}
		return xml
	}
	outside := filepath.Join(t.TempDir(), "secret.txt")
	require.NoError(t, os.WriteFile(outside, []byte("not to be uploaded\n"), 0o644))
	tests := []struct {
		name  string
		files map[string]string
		// setup prepares the manifest folder further (links); it may be nil.
		setup func(t *testing.T, dir string)
		args  func(dir string) []string
		want  []string // substrings of the one error line
	}{
		{name: "malformed xml", files: map[string]string{"m.xml": withPackages(`  <Package Id="B" Version="1.0.0">`)}, want: []string{"m.xml:5:", "malformed XML"}},
		{name: "truncated xml", files: map[string]string{"m.xml": good.xml()[:len(good.xml())/2]}, want: []string{"m.xml"}},
		{name: "package without id", files: map[string]string{"m.xml": withPackages(`  <Package Version="1.0.0" />`)}, want: []string{"m.xml", "Id"}},
		{name: "package without version", files: map[string]string{"m.xml": withPackages(`  <Package Id="B" />`)}, want: []string{"m.xml", "Version"}},
		{name: "duplicate asset with different versions", files: map[string]string{
			"a.xml": good.xml(),
			"b.xml": strings.Replace(good.xml(), `Version="1.0.0"`, `Version="2.0.0"`, 1),
		}, want: []string{"a.xml", "b.xml"}},
		{name: "blob escaping with ..", files: map[string]string{"m.xml": withPackages(`  <Blob Id="assets/../../etc/passwd" />`)}, want: []string{"m.xml", ".."}},
		{name: "blob with absolute path", files: map[string]string{"m.xml": withPackages(`  <Blob Id="/etc/passwd" />`)}, want: []string{"m.xml", "/etc/passwd"}},
		{name: "blob with backslash", files: map[string]string{"m.xml": withPackages(`  <Blob Id="assets\x.zip" />`)}, want: []string{"m.xml"}},
		{name: "blob with a dot segment uploaded", files: map[string]string{"m.xml": blobOnly("x/./y/f"), "up/x/y/f": "blob\n"},
			args: func(dir string) []string { return []string{"--upload", filepath.Join(dir, "up")} }, want: []string{"upload", "x/./y/f"}},
		{name: "upload through a link leaving the folder", files: map[string]string{"m.xml": blobOnly("assets/secret.txt")},
			setup: func(t *testing.T, dir string) {
				require.NoError(t, os.MkdirAll(filepath.Join(dir, "up", "assets"), 0o755))
				require.NoError(t, os.Symlink(outside, filepath.Join(dir, "up", "assets", "secret.txt")))
			},
			args: func(dir string) []string { return []string{"--upload", filepath.Join(dir, "up")} }, want: []string{"--upload", "assets/secret.txt"}},
		{name: "upload of a FIFO", files: map[string]string{"m.xml": blobOnly("assets/pipe")},
			setup: func(t *testing.T, dir string) {
				require.NoError(t, os.MkdirAll(filepath.Join(dir, "up", "assets"), 0o755))
				if err := mkfifo(filepath.Join(dir, "up", "assets", "pipe")); err != nil {
					t.Skipf("no FIFOs here: %v", err)
				}
			},
			args: func(dir string) []string { return []string{"--upload", filepath.Join(dir, "up")} }, want: []string{"--upload", "assets/pipe", "not a regular file"}},
		{name: "unknown channel", files: map[string]string{"m.xml": good.xml()}, args: func(string) []string { return []string{"--channel", "No Such Channel"} }, want: []string{"No Such Channel"}},
		{name: "no manifest matches", files: map[string]string{}, want: []string{"*.xml"}},
		{name: "commit with ..", files: map[string]string{"m.xml": withRoot("", "Commit")},
			args: func(string) []string { return []string{"--commit", "../../x"} }, want: []string{"commit", `"../../x"`, "40 or 64 hexadecimal digits"}},
		{name: "commit with a slash", files: map[string]string{"m.xml": withRoot("abc/def", "Commit")}, want: []string{"commit", `"abc/def"`}},
		{name: "commit with a newline", files: map[string]string{"m.xml": withRoot(sha(1)+"&#10;", "Commit")}, want: []string{"commit", `\n`}},
		{name: "commit of 300 bytes", files: map[string]string{"m.xml": withRoot(strings.Repeat("a", 300), "Commit")}, want: []string{"commit", "300 characters"}},
		{name: "version with a newline", files: map[string]string{"m.xml": withPackages(`  <Package Id="B" Version="1.0.0&#10;evil" />`)}, want: []string{"version", `\n`}},
		{name: "version with surrounding spaces", files: map[string]string{"m.xml": withPackages(`  <Package Id="B" Version=" 1.0.0 " />`)}, want: []string{"version", `" 1.0.0 "`}},
		{name: "branch with a newline", files: map[string]string{"m.xml": withRoot("refs/heads/main&#10;evil", "Branch", "AzureDevOpsBranch")}, want: []string{"branch", `\n`}},
		{name: "repository URL with spaces", files: map[string]string{"m.xml": withRoot("https://github.com/dotnet/not a repo", "Name", "AzureDevOpsRepository")}, want: []string{"repository"}},
	}
	stores(t, func(t *testing.T, e *env) {
		e.ok("channel", "add", "--name", "dev")
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				dir := t.TempDir()
				for name, content := range tt.files {
					writeFile(t, dir, name, content)
				}
				if tt.setup != nil {
					tt.setup(t, dir)
				}
				args := []string{"publish", "--manifest", filepath.Join(dir, "*.xml")}
				if tt.args != nil {
					args = append(args, tt.args(dir)...)
				}
				before := e.storeListing()
				r := e.run(args...)
				assert.Equal(t, 2, r.code, "exit code for bad input; stderr: %s", r.stderr)
				lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
				require.Len(t, lines, 1, "one error line: %q", r.stderr)
				assert.True(t, strings.HasPrefix(lines[0], "maestro: "), lines[0])
				for _, w := range tt.want {
					assert.Contains(t, lines[0], w)
				}
				assert.Equal(t, before, e.storeListing(), "the store is unchanged")
			})
		}
	})
}

// TestChannelNamesAreSafe: a channel name with a terminal escape or a line
// break is refused (exit 2, store unchanged); a channel named like another
// channel's id is chosen by its name; tables escape what an older registry
// may hold.
func TestChannelNamesAreSafe(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		e.ok("channel", "add", "--name", "first")
		for _, name := range []string{"evil\x1b[31mred", "two\nlines", "tab\there"} {
			before := e.storeListing()
			r := e.run("channel", "add", "--name", name)
			assert.Equal(t, 2, r.code, "%q: %s", name, r.stderr)
			assert.Contains(t, r.stderr, "channel name")
			assert.NotContains(t, r.stderr, "\x1b", "no escape reaches the terminal")
			assert.Equal(t, before, e.storeListing(), "%q: the store is unchanged", name)
		}
		// Channel ids 2..11 exist, then a channel named "11" (id 12).
		for i := 2; i <= 11; i++ {
			e.ok("channel", "add", "--name", "c"+strings.Repeat("x", i))
		}
		e.ok("channel", "add", "--name", "11")
		dir := t.TempDir()
		m := writeFile(t, dir, "m.xml", manifestSpec{repo: "https://github.com/o/r", branch: "main", commit: sha(5), azdoBuildID: 5, packages: []string{"A@1.0.0"}}.xml())
		out := e.ok("publish", "--manifest", m, "--channel", "11", "--output", "json")
		assert.Contains(t, out, `"name": "11"`, "the name wins over the id")
		assert.NotContains(t, out, `"name": "cxxxxxxxxxxx"`)
		out = e.ok("publish", "--manifest", writeFile(t, dir, "n.xml", manifestSpec{repo: "https://github.com/o/r", branch: "main", commit: sha(6), azdoBuildID: 6, packages: []string{"A@1.0.1"}}.xml()), "--channel", "1", "--output", "json")
		assert.Contains(t, out, `"name": "first"`, "an id no channel is named after selects by id")
	})
}

func TestBadStoreURL(t *testing.T) {
	e := newLocal(t)
	e.store = "s3://bucket"
	r := e.run("channel", "list")
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, "s3://bucket")
	assert.Contains(t, r.stderr, "azblob://")
}

func TestUnreachableAzurite(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	e := newLocal(t)
	e.store = "azblob://maestro"
	e.environ = []string{"AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://" + addr + "/devstoreaccount1;"}
	dir := t.TempDir()
	writeFile(t, dir, "m.xml", manifestSpec{repo: "https://github.com/o/r", branch: "main", commit: sha(1), azdoBuildID: 1, packages: []string{"A@1"}}.xml())
	r := e.run("publish", "--manifest", filepath.Join(dir, "m.xml"))
	assert.Equal(t, 5, r.code, "exit code for an unreachable service")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	assert.Len(t, lines, 1, r.stderr)
	assert.Contains(t, r.stderr, addr)
	assert.NotContains(t, r.stderr, "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq", "no secret in errors")
}

// TestJSONOutputUnderAgent: with --output json, stdout is exactly one JSON
// document even inside an Azure Pipelines job, where upload progress
// (##vso[task.setprogress]) goes to stderr instead.
func TestJSONOutputUnderAgent(t *testing.T) {
	e := newLocal(t)
	e.environ = []string{"TF_BUILD=True"}
	dir := t.TempDir()
	spec := manifestSpec{repo: "https://github.com/o/r", branch: "main", commit: sha(9), azdoBuildID: 9, blobs: []string{"a/one.zip", "a/two.zip"}}
	for _, b := range spec.blobs {
		writeFile(t, filepath.Join(dir, "up"), b, "payload\n")
	}
	m := writeFile(t, dir, "m.xml", spec.xml())
	r := e.run("publish", "--manifest", m, "--upload", filepath.Join(dir, "up"), "--output", "json")
	require.Equal(t, 0, r.code, r.stderr)
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	var b maestro.Build
	require.NoError(t, dec.Decode(&b), "stdout: %q", r.stdout)
	var extra json.RawMessage
	assert.ErrorIs(t, dec.Decode(&extra), io.EOF, "exactly one JSON document on stdout: %q", r.stdout)
	assert.NotContains(t, r.stdout, "##vso")
	assert.Contains(t, r.stderr, "##vso[task.setprogress", "progress still reaches the agent")
	assert.Len(t, b.Assets, 2)

	// Without --output json, progress stays on stdout beside the BAR id.
	spec.azdoBuildID, spec.commit = 10, sha(10)
	m = writeFile(t, dir, "m.xml", spec.xml())
	r = e.run("publish", "--manifest", m, "--upload", filepath.Join(dir, "up"))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "##vso[task.setprogress")
}
