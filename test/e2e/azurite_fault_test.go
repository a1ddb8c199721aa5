package e2e_test

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store/storeurl"
)

// TestAzuriteStoppedMidPublish stops Azurite while publish uploads files: the
// command fails cleanly, nothing is visible, and once Azurite is back the same
// publish records the build exactly once.
func TestAzuriteStoppedMidPublish(t *testing.T) {
	e := newAzurite(t)
	e.ok("channel", "add", "--name", "dev")
	e.ok("default-channel", "add", "--repository", "https://github.com/o/big", "--branch", "main", "--channel", "dev")

	dir := t.TempDir()
	spec := manifestSpec{repo: "https://github.com/o/big", branch: "main", commit: sha(7), azdoBuildID: 4242}
	payload := strings.Repeat("x", 128<<10)
	for i := range 300 {
		name := fmt.Sprintf("assets/big/file%03d.bin", i)
		spec.blobs = append(spec.blobs, name)
		writeFile(t, filepath.Join(dir, "upload"), name, payload)
	}
	manifest := writeFile(t, dir, "m.xml", spec.xml())

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := e.command(ctx, "publish", "--manifest", manifest, "--upload", filepath.Join(dir, "upload"))
	cmd.Env = append(cmd.Env, "TF_BUILD=True")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(stdout)
	stopped := false
	for sc.Scan() {
		if !stopped && strings.HasPrefix(sc.Text(), "##vso[task.setprogress") {
			e.azurite.Stop()
			stopped = true
		}
	}
	err = cmd.Wait()
	require.True(t, stopped, "publish reported no upload progress")
	require.Error(t, err, "publish must fail while Azurite is down")
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 5, exit.ExitCode(), "a store outage after open exits 5 (unreachable)\n%s", stderr.String())
	assert.Contains(t, stderr.String(), "##vso[task.logissue type=error]")

	e.azurite.Restart()
	assert.Equal(t, "[]\n", e.ok("build", "list", "--output", "json"), "nothing visible after the failed publish")

	var b maestro.Build
	e.okJSON(&b, "publish", "--manifest", manifest, "--upload", filepath.Join(dir, "upload"))
	assert.Len(t, b.Assets, 300)
	for _, a := range b.Assets {
		require.Len(t, a.Locations, 2, "initial location and the upload: %s", a.Name)
		assert.True(t, strings.HasPrefix(a.Locations[1].Location, e.azurite.BlobEndpoint()+"/maestro/builds/"), a.Locations[1].Location)
	}
	st, err := storeurl.Open(ctx, e.store, func(k string) string {
		if k == "AZURE_STORAGE_CONNECTION_STRING" {
			return e.azurite.ConnectionString()
		}
		return ""
	})
	require.NoError(t, err)
	key := strings.TrimPrefix(b.Assets[0].Locations[1].Location, e.azurite.BlobEndpoint()+"/maestro/")
	data, _, err := st.Get(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, payload, string(data), "the uploaded file is in the store")
	var again maestro.Build
	e.okJSON(&again, "publish", "--manifest", manifest)
	assert.Equal(t, b.ID, again.ID)
	var list []maestro.Build
	e.okJSON(&list, "build", "list")
	assert.Len(t, list, 1, "recorded exactly once")
}
