package e2e_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPublishBadInputWritesNothing(t *testing.T) {
	good := manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main", commit: sha(1), azdoBuildID: 77,
		packages: []string{"A@1.0.0"}}
	withPackages := func(extra string) string {
		return strings.Replace(good.xml(), "</Build>", extra+"\n</Build>", 1)
	}
	tests := []struct {
		name  string
		files map[string]string
		args  []string
		want  []string // substrings of the one error line
	}{
		{"malformed xml", map[string]string{"m.xml": withPackages(`  <Package Id="B" Version="1.0.0">`)}, nil, []string{"m.xml:5:", "malformed XML"}},
		{"truncated xml", map[string]string{"m.xml": good.xml()[:len(good.xml())/2]}, nil, []string{"m.xml"}},
		{"package without id", map[string]string{"m.xml": withPackages(`  <Package Version="1.0.0" />`)}, nil, []string{"m.xml", "Id"}},
		{"package without version", map[string]string{"m.xml": withPackages(`  <Package Id="B" />`)}, nil, []string{"m.xml", "Version"}},
		{"duplicate asset with different versions", map[string]string{
			"a.xml": good.xml(),
			"b.xml": strings.Replace(good.xml(), `Version="1.0.0"`, `Version="2.0.0"`, 1),
		}, nil, []string{"a.xml", "b.xml"}},
		{"blob escaping with ..", map[string]string{"m.xml": withPackages(`  <Blob Id="assets/../../etc/passwd" />`)}, nil, []string{"m.xml", ".."}},
		{"blob with absolute path", map[string]string{"m.xml": withPackages(`  <Blob Id="/etc/passwd" />`)}, nil, []string{"m.xml", "/etc/passwd"}},
		{"blob with backslash", map[string]string{"m.xml": withPackages(`  <Blob Id="assets\x.zip" />`)}, nil, []string{"m.xml"}},
		{"unknown channel", map[string]string{"m.xml": good.xml()}, []string{"--channel", "No Such Channel"}, []string{"No Such Channel"}},
		{"no manifest matches", map[string]string{}, nil, []string{"*.xml"}},
	}
	stores(t, func(t *testing.T, e *env) {
		e.ok("channel", "add", "--name", "dev")
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				dir := t.TempDir()
				for name, content := range tt.files {
					writeFile(t, dir, name, content)
				}
				args := append([]string{"publish", "--manifest", filepath.Join(dir, "*.xml")}, tt.args...)
				r := e.run(args...)
				assert.Equal(t, 2, r.code, "exit code for bad input; stderr: %s", r.stderr)
				lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
				require.Len(t, lines, 1, "one error line: %q", r.stderr)
				assert.True(t, strings.HasPrefix(lines[0], "maestro: "), lines[0])
				for _, w := range tt.want {
					assert.Contains(t, lines[0], w)
				}
				assert.Equal(t, "[]\n", e.ok("build", "list", "--output", "json"), "no build visible")
			})
		}
		if strings.HasPrefix(e.store, "file://") {
			root := strings.TrimPrefix(e.store, "file://")
			_, err := os.Stat(filepath.Join(root, "builds"))
			assert.True(t, os.IsNotExist(err), "nothing written under builds/")
		}
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
