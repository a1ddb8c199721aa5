package mirror_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/clitest"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	mirrorcmd "github.com/maestroplusplus/maestro/internal/cli/mirror"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/mirror"
)

func parseRun(args ...string) (clitest.Result, *mirrorcmd.RunOptions) {
	var got *mirrorcmd.RunOptions
	res := clitest.Run(func(f *cmdutil.Factory) *cli.Command {
		return clitest.Noun("mirror", mirrorcmd.NewCmdRun(f, func(_ *cli.Context, o *mirrorcmd.RunOptions) error { got = o; return nil }))
	}, append([]string{"mirror", "run"}, args...)...)
	return res, got
}

func TestParseRun(t *testing.T) {
	const src, dst = "https://github.com/dotnet/runtime", "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime"
	tests := []struct {
		args string
		want *mirrorcmd.RunOptions
	}{
		{"--source " + src + " --branch main --target " + dst,
			&mirrorcmd.RunOptions{Request: mirror.Request{Source: src, Branch: "main", Target: dst, Mode: maestro.MirrorFastForward}}},
		{"--mode internalMerge --branch release/9.0 --source /src --target file:///dst --output json",
			&mirrorcmd.RunOptions{JSON: true, Request: mirror.Request{Source: "/src", Branch: "release/9.0", Target: "file:///dst", Mode: maestro.MirrorInternalMerge}}},
		{"--source /s --branch main --target /t --mode fastForward --output table",
			&mirrorcmd.RunOptions{Request: mirror.Request{Source: "/s", Branch: "main", Target: "/t", Mode: maestro.MirrorFastForward}}},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			res, got := parseRun(strings.Fields(tt.args)...)
			assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseRunBadInput(t *testing.T) {
	tests := []struct{ args, wantErr string }{
		{"--branch main --target /t", `Required flag "source" not set`},
		{"--source /s --target /t", `Required flag "branch" not set`},
		{"--source /s --branch main", `Required flag "target" not set`},
		{"--source /s --branch main --target /t --mode force", `--mode: mirror mode "force": use fastForward or internalMerge`},
		{"--source /s --branch refs/heads/main --target /t", `--branch: branch "refs/heads/main": name the branch without refs/heads/`},
		{"--source /s --branch=--upload-pack=x --target /t", `--branch: branch "--upload-pack=x": starts with -`},
		{"--source /s --branch main --target /t --output yaml", `--output "yaml": use table or json`},
		{"--source /s --branch main --target /t extra", "mirror run takes no arguments"},
		{"--source /s --branch main --target ext::sh", `--target: "ext::sh": repository URL "ext::sh": use https://host/owner/repo`},
		{"--source relative/dir --branch main --target /t", `--source: "relative/dir": repository URL "relative/dir": use https://host/owner/repo, a file:// URL or an absolute path`},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			res, got := parseRun(strings.Fields(tt.args)...)
			assert.Equal(t, cmdutil.ExitInvalid, res.Code)
			assert.Contains(t, res.ErrOut, tt.wantErr)
			assert.Nil(t, got, "nothing ran")
		})
	}
}

func TestParseHistory(t *testing.T) {
	parse := func(args ...string) (clitest.Result, *mirrorcmd.HistoryOptions) {
		var got *mirrorcmd.HistoryOptions
		res := clitest.Run(func(f *cmdutil.Factory) *cli.Command {
			return clitest.Noun("mirror", mirrorcmd.NewCmdHistory(f, func(_ *cli.Context, o *mirrorcmd.HistoryOptions) error { got = o; return nil }))
		}, append([]string{"mirror", "history"}, args...)...)
		return res, got
	}
	res, got := parse()
	assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	assert.Equal(t, &mirrorcmd.HistoryOptions{}, got)
	res, got = parse("--source", "https://github.com/dotnet/runtime", "--branch", "main", "--output", "json")
	assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	assert.Equal(t, &mirrorcmd.HistoryOptions{Source: "https://github.com/dotnet/runtime", Branch: "main", JSON: true}, got)
	for args, want := range map[string]string{
		"--branch main": "--branch: give --source too",
		"extra":         "mirror history takes no arguments",
		"--output yaml": `--output "yaml"`,
	} {
		res, got := parse(strings.Fields(args)...)
		assert.Equal(t, cmdutil.ExitInvalid, res.Code, args)
		assert.Contains(t, res.ErrOut, want, args)
		assert.Nil(t, got, args)
	}
}

func TestParseTrigger(t *testing.T) {
	parse := func(args ...string) (clitest.Result, *mirrorcmd.TriggerOptions) {
		var got *mirrorcmd.TriggerOptions
		res := clitest.Run(func(f *cmdutil.Factory) *cli.Command {
			return clitest.Noun("mirror", mirrorcmd.NewCmdTrigger(f, func(_ *cli.Context, o *mirrorcmd.TriggerOptions) error { got = o; return nil }))
		}, append([]string{"mirror", "trigger"}, args...)...)
		return res, got
	}
	res, got := parse("--source", "https://github.com/dotnet/runtime", "--branch", "release/9.0", "--commit", "0123456789abcdef0123456789abcdef01234567", "--output", "json")
	assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	assert.Equal(t, &mirrorcmd.TriggerOptions{Source: "https://github.com/dotnet/runtime", Branch: "release/9.0", Commit: "0123456789abcdef0123456789abcdef01234567", JSON: true}, got)
	for args, want := range map[string]string{
		"--branch main":                          `Required flag "source" not set`,
		"--source /s":                            `Required flag "branch" not set`,
		"--source /s --branch refs/heads/x":      "--branch: branch \"refs/heads/x\": name the branch without refs/heads/",
		"--source /s --branch main extra":        "mirror trigger takes no arguments",
		"--source /s --branch main --commit abc": `--commit: "abc": must be 40 or 64 hexadecimal digits (a full git commit id)`,
		"--source /s --branch main --commit 0123456789ABCDEF0123456789abcdef0123456z": `--commit: "0123456789ABCDEF0123456789abcdef0123456z": must be 40 or 64 hexadecimal digits`,
	} {
		res, got := parse(strings.Fields(args)...)
		assert.Equal(t, cmdutil.ExitInvalid, res.Code, args)
		assert.Contains(t, res.ErrOut, want, args)
		assert.Nil(t, got, args)
	}
}

// TestCredentialsInURLRefused: a repository URL with a user name and
// password is refused by every mirror command before anything runs (and so
// before anything is written), and the error does not repeat the password.
func TestCredentialsInURLRefused(t *testing.T) {
	const secret = "S3cretPassw0rd"
	src, dst := "https://u:"+secret+"@github.com/dotnet/runtime", "https://u:"+secret+"@dev.azure.com/dnceng/internal/_git/dotnet-runtime"
	ran := false
	run := func(*cli.Context, any) error { ran = true; return nil }
	newCmds := func(f *cmdutil.Factory) *cli.Command {
		return clitest.Noun("mirror",
			mirrorcmd.NewCmdAdd(f, func(c *cli.Context, o *mirrorcmd.AddOptions) error { return run(c, o) }),
			mirrorcmd.NewCmdUpdate(f, func(c *cli.Context, o *mirrorcmd.AddOptions) error { return run(c, o) }),
			mirrorcmd.NewCmdShow(f, func(c *cli.Context, o *mirrorcmd.SourceOptions) error { return run(c, o) }),
			mirrorcmd.NewCmdDelete(f, func(c *cli.Context, o *mirrorcmd.SourceOptions) error { return run(c, o) }),
			mirrorcmd.NewCmdRun(f, func(c *cli.Context, o *mirrorcmd.RunOptions) error { return run(c, o) }),
			mirrorcmd.NewCmdTrigger(f, func(c *cli.Context, o *mirrorcmd.TriggerOptions) error { return run(c, o) }),
			mirrorcmd.NewCmdHistory(f, func(c *cli.Context, o *mirrorcmd.HistoryOptions) error { return run(c, o) }))
	}
	const pipeline = "https://dev.azure.com/dnceng/internal/_build?definitionId=1"
	tests := []struct {
		args []string
		flag string
	}{
		{[]string{"add", "--source", src, "--branch", "main", "--pipeline", pipeline}, "--source"},
		{[]string{"add", "--source", "https://github.com/dotnet/runtime", "--target", dst, "--branch", "main", "--pipeline", pipeline}, "--target"},
		{[]string{"update", "--source", src, "--branch", "main"}, "--source"},
		{[]string{"update", "--source", "https://github.com/dotnet/runtime", "--target", dst}, "--target"},
		{[]string{"show", "--source", src}, "--source"},
		{[]string{"delete", "--source", src}, "--source"},
		{[]string{"run", "--source", src, "--branch", "main", "--target", "/t"}, "--source"},
		{[]string{"run", "--source", "/s", "--branch", "main", "--target", dst}, "--target"},
		{[]string{"trigger", "--source", src, "--branch", "main"}, "--source"},
		{[]string{"history", "--source", src}, "--source"},
		{[]string{"run", "--source", "/s", "--branch", "main", "--target", "https://dev.azure.com/dnceng/internal/_git/r?access_token=" + secret}, "--target"},
		{[]string{"add", "--source", "https://github.com/dotnet/runtime?token=" + secret, "--branch", "main", "--pipeline", pipeline}, "--source"},
		{[]string{"trigger", "--source", "https://github.com/dotnet/runtime#" + secret, "--branch", "main"}, "--source"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:2], " ")+" "+tt.flag, func(t *testing.T) {
			ran = false
			res := clitest.Run(newCmds, append([]string{"mirror"}, tt.args...)...)
			assert.Equal(t, cmdutil.ExitInvalid, res.Code, res.ErrOut)
			assert.Contains(t, res.ErrOut, "maestro: "+tt.flag+": ")
			assert.Contains(t, res.ErrOut, "remove the ")
			assert.NotContains(t, res.Out+res.ErrOut, secret)
			assert.False(t, ran, "nothing ran")
		})
	}
}
