package legacy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/clitest"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/cli/legacy"
	"github.com/maestroplusplus/maestro/test/testenv"
)

func parse(args ...string) (clitest.Result, any) {
	var got any
	res := clitest.Run(func(f *cmdutil.Factory) *cli.Command {
		return clitest.Noun("legacy", legacy.NewCmdValidate(f, func(_ *cli.Context, o *legacy.ValidateOptions) error { got = o; return nil }))
	}, args...)
	return res, got
}

func TestParseValidate(t *testing.T) {
	res, got := parse("legacy", "validate", "subs.json")
	assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	assert.Equal(t, &legacy.ValidateOptions{File: "subs.json"}, got)

	res, got = parse("legacy", "validate", "--output", "json", "-")
	assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	assert.Equal(t, &legacy.ValidateOptions{File: "-", JSON: true}, got)

	for _, args := range [][]string{{"legacy", "validate"}, {"legacy", "validate", "a", "b"}, {"legacy", "validate", "--output", "x", "a"}} {
		res, got := parse(args...)
		assert.Equal(t, cmdutil.ExitInvalid, res.Code, args)
		assert.Nil(t, got, args)
	}
}

func run(args ...string) clitest.Result {
	return clitest.Run(legacy.NewCmd, args...)
}

func TestValidateFixture(t *testing.T) {
	file := filepath.Join(testenv.Shared(t, "fixtures", "legacy-versions-repo"), "subscriptions.2019-11-22.peak88.json")
	res := run("legacy", "validate", file)
	require.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	assert.Equal(t, file+": valid (2017 schema): 23 actions, 88 subscriptions, 438 trigger paths, 17 warnings\n", res.Out)
	assert.Contains(t, res.ErrOut, `maestro: warning: `+file+`:730: subscriptions[20].triggerPaths[33]: "https://github.com/Microsoft/visualfsharp/dev/**/*" has no /blob/ segment`)

	res = run("legacy", "validate", "--output", "json", file)
	require.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	var s struct {
		Schema, Actions, Subscriptions, TriggerPaths int
		Warnings                                     []string
	}
	require.NoError(t, json.Unmarshal([]byte(res.Out), &s))
	assert.Equal(t, 2017, s.Schema)
	assert.Equal(t, 88, s.Subscriptions)
	assert.Len(t, s.Warnings, 17)
}

func TestValidateBroken(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(testenv.Shared(t, "fixtures", "legacy-versions-repo"), "test-subscriptions.json"))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "subscriptions.json")
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(src), `"delay": "00:00:30"`, `"delay": "half a minute"`, 1)), 0o644))
	res := run("legacy", "validate", path)
	assert.Equal(t, cmdutil.ExitInvalid, res.Code)
	assert.Contains(t, res.ErrOut, path+`:16: subscriptions[0].delay: "half a minute" is not a delay; write hh:mm:ss`)
	assert.Empty(t, res.Out)

	res = run("legacy", "validate", filepath.Join(t.TempDir(), "missing.json"))
	assert.Equal(t, cmdutil.ExitInvalid, res.Code)
	assert.Contains(t, res.ErrOut, "read subscriptions:")
}
