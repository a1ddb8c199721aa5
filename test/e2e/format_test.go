package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/storeurl"
)

// openStore opens e's store in this process, for what no command does
// (writing the marker an older maestro wrote, reading raw documents).
func (e *env) openStore() store.Store {
	e.t.Helper()
	getenv := func(k string) string {
		for _, kv := range e.environ {
			if name, v, ok := strings.Cut(kv, "="); ok && name == k {
				return v
			}
		}
		return ""
	}
	st, err := storeurl.Open(context.Background(), e.store, getenv)
	require.NoError(e.t, err)
	return st
}

const formatOneMarker = `{"format":"maestro-bar","version":1,"created":"2026-12-01T00:00:00Z"}`

// markerVersion reads the format marker's version.
func markerVersion(t *testing.T, st store.Store) int {
	t.Helper()
	data, _, err := st.Get(context.Background(), "meta/format.json")
	require.NoError(t, err)
	var f struct {
		Version int `json:"version"`
	}
	require.NoError(t, json.Unmarshal(data, &f))
	return f.Version
}

// assetsFormat returns the first byte of build id's assets document: '[' for
// format 1, '{' for format 2.
func assetsFormat(t *testing.T, st store.Store, id int) byte {
	t.Helper()
	ctx := context.Background()
	data, _, err := st.Get(ctx, fmt.Sprintf("builds/%012d/build.json", id))
	require.NoError(t, err)
	var rec struct {
		AssetsDocument string `json:"assetsDocument"`
	}
	require.NoError(t, json.Unmarshal(data, &rec))
	doc, _, err := st.Get(ctx, rec.AssetsDocument)
	require.NoError(t, err)
	return doc[0]
}

// TestInitRaisesFormat1: on both stores, a registry of format version 1 (the
// marker the maestro before format 2 wrote) gets format 1 assets documents
// from publish; eight `registry init` processes at once raise it to 2
// exactly once; later publishes write format 2; builds of both formats read
// back alike and `registry check` is clean. Then init is killed (kill -9)
// at random moments while it raises the marker: the marker is 1 or 2, every
// command still works, and init once more leaves it at 2.
func TestInitRaisesFormat1(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		st := e.openStore()
		_, err := st.Put(ctx, "meta/format.json", []byte(formatOneMarker), store.Condition{})
		require.NoError(t, err)
		dir := t.TempDir()
		e.ok("channel", "add", "--name", "fmt")
		publish := func(n int) maestro.Build {
			spec := manifestSpec{repo: "https://github.com/dotnet/format", branch: "main", commit: sha(n), azdoBuildID: n,
				packages: []string{fmt.Sprintf("Format.A@1.0.%d", n), fmt.Sprintf("Format.B@1.0.%d", n)}}
			var b maestro.Build
			e.okJSON(&b, "publish", "--manifest", writeFile(t, dir, fmt.Sprintf("m%d.xml", n), spec.xml()), "--channel", "fmt")
			return b
		}
		old := publish(1)
		require.Equal(t, byte('['), assetsFormat(t, st, old.ID), "a registry of version 1 gets format 1")

		outs := make([]result, 8)
		var wg sync.WaitGroup
		for i := range outs {
			wg.Go(func() { outs[i] = e.run("registry", "init") })
		}
		wg.Wait()
		raised := 0
		for _, r := range outs {
			require.Equal(t, 0, r.code, r.stderr)
			if strings.Contains(r.stdout, "raised the registry") {
				raised++
			} else {
				assert.Contains(t, r.stdout, "nothing changed")
			}
		}
		assert.Equal(t, 1, raised, "exactly one init raised the marker: %v", outs)
		require.Equal(t, 2, markerVersion(t, st))

		recent := publish(2)
		require.Equal(t, byte('{'), assetsFormat(t, st, recent.ID), "format 2 once the registry is version 2")
		for _, b := range []maestro.Build{old, recent} {
			var got maestro.Build
			e.okJSON(&got, "build", "show", "--id", fmt.Sprint(b.ID))
			assert.Equal(t, b.Assets, got.Assets, "build %d reads back as published", b.ID)
			require.Len(t, got.Assets, 2)
			assert.Equal(t, b.ID*1_000_000+2, got.Assets[1].ID)
			var found []struct {
				Build struct {
					ID int `json:"id"`
				} `json:"build"`
			}
			e.okJSON(&found, "asset", "find", "--name", "format.b", "--version", got.Assets[1].Version)
			require.Len(t, found, 1)
			assert.Equal(t, b.ID, found[0].Build.ID)
		}
		var latest maestro.Build
		e.okJSON(&latest, "build", "latest", "--repository", "https://github.com/dotnet/format", "--channel", "fmt")
		assert.Equal(t, recent.ID, latest.ID)
		assert.Contains(t, e.ok("registry", "check"), "clean:")

		// kill -9 while init raises the marker.
		start := time.Now()
		_, err = st.Put(ctx, "meta/format.json", []byte(formatOneMarker), store.Condition{})
		require.NoError(t, err)
		e.ok("registry", "init")
		full := time.Since(start)
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
		seen := map[int]int{}
		for i := range 6 {
			_, err := st.Put(ctx, "meta/format.json", []byte(formatOneMarker), store.Condition{})
			require.NoError(t, err)
			kctx, cancel := context.WithTimeout(ctx, time.Minute)
			cmd := e.command(kctx, "registry", "init")
			require.NoError(t, cmd.Start())
			time.Sleep(time.Duration(rng.Int64N(int64(full))))
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
			cancel()
			v := markerVersion(t, st)
			require.Contains(t, []int{1, 2}, v, "kill %d", i)
			seen[v]++
			var got maestro.Build
			e.okJSON(&got, "build", "show", "--id", fmt.Sprint(recent.ID))
			assert.Equal(t, recent.Assets, got.Assets, "kill %d", i)
			assert.Contains(t, e.ok("registry", "check"), "clean:", "kill %d", i)
			// On Azurite a write the killed process sent may still land
			// after the read above; what must hold is that a format 2
			// document appears only once the marker says 2, and always
			// once it said so before the publish.
			b := publish(10 + i)
			form := assetsFormat(t, st, b.ID)
			if v == 2 {
				assert.Equal(t, "{", string(form), "kill %d: the marker said 2 before the publish", i)
			}
			if form == '{' {
				assert.Equal(t, 2, markerVersion(t, st), "kill %d: a format 2 document in a registry of version 1", i)
			}
			e.ok("registry", "init")
			require.Equal(t, 2, markerVersion(t, st), "kill %d: init again raises it", i)
		}
		t.Logf("marker after a kill: %v (version: times)", seen)
	})
}
