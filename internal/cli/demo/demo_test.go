package demo_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/clitest"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/cli/demo"
)

func TestParse(t *testing.T) {
	tests := []struct {
		args     string
		wantCode int
		want     *demo.Options
		wantErr  string
	}{
		{"demo", cmdutil.ExitOK, &demo.Options{}, ""},
		{"demo --dir /tmp/d", cmdutil.ExitOK, &demo.Options{Dir: "/tmp/d"}, ""},
		{"demo --dir", cmdutil.ExitInvalid, nil, "flag needs an argument: -dir; `maestro demo --help` shows the usage"},
		{"demo --bogus", cmdutil.ExitInvalid, nil, "flag provided but not defined: -bogus; `maestro demo --help` shows the usage"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			var got *demo.Options
			res := clitest.Run(func(f *cmdutil.Factory) *cli.Command {
				return demo.NewCmd(f, func(_ *cli.Context, o *demo.Options) error { got = o; return nil })
			}, strings.Fields(tt.args)...)
			assert.Equal(t, tt.wantCode, res.Code, res.ErrOut)
			assert.Equal(t, tt.want, got)
			if tt.wantErr != "" {
				assert.Equal(t, "maestro: "+tt.wantErr+"\n", res.ErrOut)
			}
		})
	}
}

// A folder that is not empty is refused before anything is created in it.
func TestRunRefusesFolderInUse(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644))
	res := clitest.Run(func(f *cmdutil.Factory) *cli.Command { return demo.NewCmd(f, nil) }, "demo", "--dir", dir)
	assert.Equal(t, cmdutil.ExitInvalid, res.Code)
	assert.Equal(t, "maestro: --dir "+dir+" is not empty; give an empty or new folder\n", res.ErrOut)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "nothing was created")
}
