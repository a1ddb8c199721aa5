package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/storeurl"
)

func TestInitParsesArguments(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		want     *InitOptions
		wantKind maestro.ErrorKind
	}{
		{"plain", []string{"init"}, &InitOptions{}, 0},
		{"json", []string{"init", "--output", "json"}, &InitOptions{JSON: true}, 0},
		{"argument", []string{"init", "extra"}, nil, maestro.KindInvalid},
		{"bad output", []string{"init", "--output", "yaml"}, nil, maestro.KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *InitOptions
			cmd := NewInitCmd(&cmdutil.Factory{}, func(_ *cli.Context, o *InitOptions) error { got = o; return nil })
			app := &cli.App{Commands: []*cli.Command{cmd}}
			err := app.RunContext(context.Background(), append([]string{"maestro"}, tt.args...))
			if tt.wantKind != 0 {
				require.Error(t, err)
				assert.Equal(t, tt.wantKind, maestro.KindOf(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestInitRuns: init creates the store and the marker once; a second init
// changes nothing and says so.
func TestInitRuns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	url := "file://" + filepath.ToSlash(dir)
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		f := &cmdutil.Factory{
			IO:          cmdutil.IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
			Getenv:      func(string) string { return "" },
			Now:         func() time.Time { return time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC) },
			OpenStore:   storeurl.Open,
			CreateStore: storeurl.Create,
		}
		app := &cli.App{Commands: []*cli.Command{NewInitCmd(f, nil)}}
		err := app.RunContext(context.Background(), append([]string{"maestro", "init", "--store", url}, args...))
		return out.String(), err
	}
	out, err := run()
	require.NoError(t, err)
	assert.Equal(t, "created a registry at "+url+" (format version 2)\n", out)
	out, err = run("--output", "json")
	require.NoError(t, err)
	var res InitResult
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.False(t, res.Created)
	assert.Equal(t, url, res.Store)
	assert.Equal(t, 2, res.Format.Version)
	assert.Zero(t, res.RaisedFrom)
	assert.Equal(t, "maestro-bar", res.Format.Format)
	assert.Equal(t, time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC), res.Format.Created)
}

// TestInitRaisesFormat1: init on a registry of format version 1 raises its
// marker to 2, says so, and keeps the marker's creation time; once more it
// changes nothing.
func TestInitRaisesFormat1(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	url := "file://" + filepath.ToSlash(dir)
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		f := &cmdutil.Factory{
			IO:          cmdutil.IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
			Getenv:      func(string) string { return "" },
			Now:         time.Now,
			OpenStore:   storeurl.Open,
			CreateStore: storeurl.Create,
		}
		app := &cli.App{Commands: []*cli.Command{NewInitCmd(f, nil)}}
		err := app.RunContext(context.Background(), append([]string{"maestro", "init", "--store", url}, args...))
		return out.String(), err
	}
	_, err := run()
	require.NoError(t, err)
	st, err := storeurl.Open(context.Background(), url, func(string) string { return "" })
	require.NoError(t, err)
	formatOne := func() {
		t.Helper()
		_, _, err := st.Get(context.Background(), "meta/format.json")
		require.NoError(t, err)
		_, err = st.Put(context.Background(), "meta/format.json", []byte(`{"format":"maestro-bar","version":1,"created":"2026-12-01T00:00:00Z"}`), store.Condition{})
		require.NoError(t, err)
	}
	formatOne()

	out, err := run("--output", "json")
	require.NoError(t, err)
	var res InitResult
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.False(t, res.Created)
	assert.Equal(t, 1, res.RaisedFrom)
	assert.Equal(t, 2, res.Format.Version)
	assert.Equal(t, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), res.Format.Created.UTC())

	formatOne()
	out, err = run()
	require.NoError(t, err)
	assert.Equal(t, "raised the registry at "+url+" from format version 1 to 2; a maestro that reads only version 1 now refuses it: update every maestro that uses this registry\n", out)
	out, err = run()
	require.NoError(t, err)
	assert.Equal(t, "a registry exists at "+url+" already (format version 2); nothing changed\n", out)
}
