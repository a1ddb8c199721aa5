package legacy_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

func parsePublish(args ...string) (clitest.Result, any) {
	var got any
	res := clitest.Run(func(f *cmdutil.Factory) *cli.Command {
		return clitest.Noun("legacy", legacy.NewCmdPublish(f, func(_ *cli.Context, o *legacy.PublishOptions) error { got = o; return nil }))
	}, args...)
	return res, got
}

func TestParsePublish(t *testing.T) {
	res, got := parsePublish(strings.Fields("legacy publish --repo /r --name coreclr --channel release/3.1 --packages a.txt --packages m.xml")...)
	assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	assert.Equal(t, &legacy.PublishOptions{Repo: "/r", Name: "coreclr", Channel: "release/3.1", Packages: []string{"a.txt", "m.xml"}}, got)
	res, got = parsePublish(strings.Fields("legacy publish --repo u --branch main --name n --channel c --packages p --label beta1 --newline lf --output json")...)
	assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	assert.Equal(t, &legacy.PublishOptions{Repo: "u", Branch: "main", Name: "n", Channel: "c", Packages: []string{"p"}, Label: "beta1", Newline: "lf", JSON: true}, got)

	for _, tt := range []struct{ args, want string }{
		{"legacy publish --name n --channel c --packages p", `Required flag "repo" not set`},
		{"legacy publish --repo r --channel c --packages p", `Required flag "name" not set`},
		{"legacy publish --repo r --name n --packages p", `Required flag "channel" not set`},
		{"legacy publish --repo r --name n --channel c", `Required flag "packages" not set`},
		{"legacy publish --repo r --name n --channel c --packages p --newline cr", `--newline "cr": use crlf or lf`},
		{"legacy publish --repo r --name n --channel c --packages p extra", `legacy publish takes no arguments; got "extra"`},
	} {
		res, got := parsePublish(strings.Fields(tt.args)...)
		assert.Equal(t, cmdutil.ExitInvalid, res.Code, tt.args)
		assert.Contains(t, res.ErrOut, tt.want)
		assert.Nil(t, got)
	}
}

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	require.NoError(t, err, string(out))
	return string(out)
}

// TestPublishRun publishes a package list and then an asset manifest into a
// bare versions repository whose default branch is master.
func TestPublishRun(t *testing.T) {
	root := t.TempDir()
	origin := filepath.Join(root, "versions.git")
	gitOut(t, root, "init", "--quiet", "--bare", "--initial-branch=master", origin)
	seed := filepath.Join(root, "seed")
	gitOut(t, root, "init", "--quiet", "--initial-branch=master", seed)
	require.NoError(t, os.MkdirAll(filepath.Join(seed, "build-info/dotnet/coreclr/master"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(seed, "build-info/dotnet/coreclr/master/Latest_Packages.txt"), []byte("Old.Package 1.0.0-a\r\nMicrosoft.NETCore.Runtime.CoreCLR 2.0.0-a"), 0o644))
	gitOut(t, seed, "add", ".")
	gitOut(t, seed, "-c", "user.name=s", "-c", "user.email=s@s", "commit", "--quiet", "-m", "seed")
	gitOut(t, seed, "push", "--quiet", origin, "master")

	list := filepath.Join(root, "packages.txt")
	require.NoError(t, os.WriteFile(list, []byte("runtime.win-x64.Microsoft.NETCore.Runtime.CoreCLR 2.0.0-preview1-25301-01\nMicrosoft.NETCore.Runtime.CoreCLR 2.0.0-preview1-25301-01\n"), 0o644))
	res := run("legacy", "publish", "--repo", origin, "--name", "coreclr", "--channel", "master", "--packages", list)
	require.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	assert.Regexp(t, `^published 2 packages to build-info/dotnet/coreclr/master on master as preview1-25301-01 \(commit [0-9a-f]+\)\n$`, res.Out)
	assert.Equal(t, "Updating build-info/dotnet/coreclr/master for preview1-25301-01\n", gitOut(t, origin, "log", "-1", "--format=%s", "master"))
	assert.Equal(t, "maestro-bot <maestro-bot@users.noreply.localhost>\n", gitOut(t, origin, "log", "-1", "--format=%an <%ae>", "master"))
	assert.Equal(t, "preview1-25301-01", gitOut(t, origin, "show", "master:build-info/dotnet/coreclr/master/Latest.txt"))
	assert.Equal(t, "Microsoft.NETCore.Runtime.CoreCLR 2.0.0-preview1-25301-01\nOld.Package 1.0.0-a\nruntime.win-x64.Microsoft.NETCore.Runtime.CoreCLR 2.0.0-preview1-25301-01",
		gitOut(t, origin, "show", "master:build-info/dotnet/coreclr/master/Latest_Packages.txt"), "the list's LF separator")

	manifest := filepath.Join(root, "Manifest.xml")
	require.NoError(t, os.WriteFile(manifest, []byte(`<?xml version="1.0" encoding="utf-8"?>
<Build PublishingVersion="3" Name="dotnet/coreclr" BuildId="20170502.1" Branch="master" Commit="0123456789abcdef0123456789abcdef01234567" AzureDevOpsAccount="dnceng" AzureDevOpsProject="internal" AzureDevOpsBuildId="1" AzureDevOpsBuildDefinitionId="2" AzureDevOpsBuildNumber="20170502.1" AzureDevOpsRepository="https://github.com/dotnet/coreclr" AzureDevOpsBranch="refs/heads/master" InitialAssetsLocation="https://example.invalid/assets">
  <Package Id="Microsoft.NETCore.ILAsm" Version="2.0.0-preview1-25302-01" NonShipping="false" />
  <Blob Id="assets/symbols/x.zip" NonShipping="true" />
</Build>
`), 0o644))
	res = run("legacy", "publish", "--repo", origin, "--name", "coreclr", "--channel", "master", "--packages", manifest, "--output", "json")
	require.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	var out struct {
		Folder, Label, Branch, Commit string
		Attempts                      int
	}
	require.NoError(t, json.Unmarshal([]byte(res.Out), &out))
	assert.Equal(t, "preview1-25302-01", out.Label)
	assert.Equal(t, 1, out.Attempts)
	assert.Equal(t, strings.TrimSpace(gitOut(t, origin, "rev-parse", "master")), out.Commit)
	assert.Equal(t, "Microsoft.NETCore.ILAsm 2.0.0-preview1-25302-01", gitOut(t, origin, "show", "master:build-info/dotnet/coreclr/master/Last_Build_Packages.txt"))
	assert.Equal(t, "Microsoft.NETCore.ILAsm 2.0.0-preview1-25302-01\r\nMicrosoft.NETCore.Runtime.CoreCLR 2.0.0-preview1-25301-01\r\nOld.Package 1.0.0-a\r\nruntime.win-x64.Microsoft.NETCore.Runtime.CoreCLR 2.0.0-preview1-25301-01",
		gitOut(t, origin, "show", "master:build-info/dotnet/coreclr/master/Latest_Packages.txt"), "a manifest shows no separator: CRLF")

	head := gitOut(t, origin, "rev-parse", "master")
	bad := filepath.Join(root, "bad.txt")
	require.NoError(t, os.WriteFile(bad, []byte("A 1.0-a\nB 1.0-b\n"), 0o644))
	res = run("legacy", "publish", "--repo", origin, "--name", "coreclr", "--channel", "master", "--packages", bad)
	assert.Equal(t, cmdutil.ExitInvalid, res.Code)
	assert.Contains(t, res.ErrOut, "give the build's label with --label")
	res = run("legacy", "publish", "--repo", origin, "--name", "coreclr", "--channel", "../x", "--packages", list)
	assert.Equal(t, cmdutil.ExitInvalid, res.Code)
	assert.Contains(t, res.ErrOut, `--channel "../x": segment ".." is not allowed`)
	assert.Equal(t, head, gitOut(t, origin, "rev-parse", "master"), "bad input writes nothing")
}

func parseWatch(args ...string) (clitest.Result, any) {
	var got any
	res := clitest.Run(func(f *cmdutil.Factory) *cli.Command {
		return clitest.Noun("legacy", legacy.NewCmdWatch(f, func(_ *cli.Context, o *legacy.WatchOptions) error { got = o; return nil }))
	}, args...)
	return res, got
}

func TestParseWatch(t *testing.T) {
	res, got := parseWatch(strings.Fields("legacy watch --repo https://github.com/dotnet/versions.git --subscriptions s.json")...)
	assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	assert.Equal(t, &legacy.WatchOptions{Repo: "https://github.com/dotnet/versions.git", Branch: "master", GitHubRepo: "dotnet/versions",
		Subscriptions: "s.json", Interval: 30 * time.Second, VSOURLs: map[string]string{}, ClaimTimeout: 5 * time.Minute}, got)

	res, got = parseWatch(strings.Fields("legacy watch --repo /v --github-repo dotnet/versions --branch main --subscriptions s.json --once --interval 5s --since abc --vso-url dnceng.visualstudio.com=http://127.0.0.1:1/org --claim-timeout 10s")...)
	assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	assert.Equal(t, &legacy.WatchOptions{Repo: "/v", Branch: "main", GitHubRepo: "dotnet/versions", Subscriptions: "s.json", Once: true,
		Interval: 5 * time.Second, Since: "abc", VSOURLs: map[string]string{"dnceng.visualstudio.com": "http://127.0.0.1:1/org"}, ClaimTimeout: 10 * time.Second}, got)

	for _, tt := range []struct{ args, want string }{
		{"legacy watch --subscriptions s", `Required flag "repo" not set`},
		{"legacy watch --repo https://github.com/dotnet/versions", `Required flag "subscriptions" not set`},
		{"legacy watch --repo /v --subscriptions s", "--repo /v is not a github.com URL: give --github-repo OWNER/REPO"},
		{"legacy watch --repo /v --github-repo versions --subscriptions s", `--github-repo "versions": write OWNER/REPO`},
		{"legacy watch --repo /v --github-repo a/b --subscriptions s --vso-url x", `--vso-url "x": write VSOINSTANCE=URL`},
		{"legacy watch --repo /v --github-repo a/b --subscriptions s --interval 1ms", "--interval 1ms: give at least 1s"},
		{"legacy watch --repo /v --github-repo a/b --subscriptions s --claim-timeout 0s", "--claim-timeout 0s: give at least 1s"},
		{"legacy watch --repo https://x-access-token:SECRETMARKER@github.com/dotnet/versions --subscriptions s", "remove the user name and password from the URL; git authenticates with MAESTRO_VERSIONS_TOKEN"},
		{"legacy watch --repo https://SECRETMARKER@github.com/dotnet/versions --subscriptions s", "remove the user name and password"},
		{"legacy watch --repo /v --github-repo a/b --subscriptions s --branch --upload-pack=x", `--branch "--upload-pack=x"`},
		{"legacy watch --repo /v --github-repo a/b --subscriptions s --branch a..b", `--branch "a..b"`},
	} {
		res, got := parseWatch(strings.Fields(tt.args)...)
		assert.Equal(t, cmdutil.ExitInvalid, res.Code, tt.args)
		assert.Contains(t, res.ErrOut, tt.want)
		assert.NotContains(t, res.ErrOut, "SECRETMARKER")
		assert.Nil(t, got)
	}
}

func TestParseImport(t *testing.T) {
	var got any
	parseImport := func(args ...string) clitest.Result {
		got = nil
		return clitest.Run(func(f *cmdutil.Factory) *cli.Command {
			return clitest.Noun("legacy", legacy.NewCmdImport(f, func(_ *cli.Context, o *legacy.ImportOptions) error { got = o; return nil }))
		}, args...)
	}
	res := parseImport("legacy", "import", "--mapping", "m.yaml", "s.json")
	assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	assert.Equal(t, &legacy.ImportOptions{File: "s.json", Mapping: "m.yaml"}, got)
	res = parseImport("legacy", "import", "--dry-run", "--mapping", "m.yaml", "s.json")
	assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
	assert.Equal(t, &legacy.ImportOptions{File: "s.json", Mapping: "m.yaml", DryRun: true}, got)
	for _, args := range [][]string{{"legacy", "import", "s.json"}, {"legacy", "import", "--mapping", "m"}, {"legacy", "import", "--mapping", "m", "a", "b"}} {
		res := parseImport(args...)
		assert.Equal(t, cmdutil.ExitInvalid, res.Code, args)
		assert.Nil(t, got)
	}
}
